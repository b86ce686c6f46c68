"""Who gets what, against who should: coverage, leakage, exclusion and overlaps across every funder's program.

The TKPK's question is never about one program: agencies, villages, companies and BAZNAS each serve their own
list, so the same families collect everything while desil-1 families get nothing, and nobody can show it. These
functions put all lists side by side over the region's families, as plain arrays:

- **coverage**: eligible families the program reached / eligible families;
- **leakage**: recipient families that are not eligible or carry an exclusion finding (BPK's flags: civil servant,
  car owner, non-subsidised 900 VA meter …), plus ledger rows whose recipient is not in the registry at all and
  rows paid to a person recorded as deceased (BPK: 125.7 k dead recipients still paid);
- **exclusion**: eligible families the program missed, extreme-poor (desil 1) first;
- **overlaps**: families receiving both programs of every pair;
- families with no help at all, families with many programs, spending per poor family.

A family counts as reached by a program when any member is on its list for the periods analysed (person-unit
programs such as PBI-JK and PIP are counted per family here, as coverage of families is what the TKPK reports).

Everything is column-wise (numpy ``bincount`` over integer codes), so a million families and five million ledger
rows take a few seconds on two cores (bench/programs.py); counts are kept per village and rolled up to districts
and the region by summing, which is exact because every family and every ledger row belongs to exactly one village
(or to "no village").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

EXTREME_DESIL = 1  # desil 1 is treated as extreme poor (P3KE practice)
POOR_MAX_DESIL = 4  # "poor" for no-help and spending-per-poor-family: desil 1-4 (the PKH ceiling)
MANY_PROGRAMS = 3

PROGRAM_MEASURES = (
    "eligible",  # eligible families
    "reached",  # eligible families reached
    "recipients",  # families on the program's lists (in the registry)
    "not_eligible",  # recipient families the rule does not admit
    "flagged",  # recipient families with an exclusion finding
    "leakage",  # recipient families not eligible or flagged
    "excluded",  # eligible families not reached
    "excluded_extreme",  # ... of them extreme poor
    "rows",  # ledger rows
    "unmatched",  # ledger rows whose recipient is not in the registry
    "deceased",  # ledger rows paid to a person recorded as deceased
)
AREA_MEASURES = (
    "families",
    "poor",
    "extreme",
    "no_desil",
    "reached_any",  # families on at least one list
    "poor_reached",
    "poor_no_help",
    "extreme_no_help",
    "many",  # families on MANY_PROGRAMS or more programs
    "many_not_poor",
)


@dataclass(frozen=True)
class Families:
    """The families analysed, one row each: the village index (into ``villages``), the official national desil
    (0 = unknown) and whether any member has an exclusion finding."""

    village: np.ndarray
    desil: np.ndarray
    flagged: np.ndarray
    villages: Sequence[str]

    def __post_init__(self) -> None:
        n = len(self.village)
        if len(self.desil) != n or len(self.flagged) != n:
            raise ValueError("village, desil and flagged must have one value per family")

    def __len__(self) -> int:
        return len(self.village)


@dataclass(frozen=True)
class Ledger:
    """Benefit rows: program index, family index (-1: recipient not in the registry), the row's own village
    index (-1: none; used only when the family is unknown), amount in rupiah (NaN: not given), deceased recipient."""

    program: np.ndarray
    family: np.ndarray
    village: np.ndarray
    amount: np.ndarray
    deceased: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.program)
        if any(len(a) != n for a in (self.family, self.village, self.amount)):
            raise ValueError("program, family, village and amount must have one value per ledger row")

    def __len__(self) -> int:
        return len(self.program)


@dataclass(frozen=True)
class Programs:
    """Program codes, who each is for (bool, programs × families) and its strategy tags.

    ``has_rule`` False marks a program whose eligibility is not known (no rule, or one the data cannot answer):
    its recipients are then taken as its eligible families, so it adds no leakage or exclusion of its own and
    does not distort the strategies it belongs to; its flagged recipients still count as leakage.
    """

    codes: Sequence[str]
    eligible: np.ndarray
    strategies: Sequence[Sequence[str]]
    has_rule: Sequence[bool] | None = None

    def __post_init__(self) -> None:
        if self.eligible.ndim != 2 or self.eligible.shape[0] != len(self.codes):
            raise ValueError("eligible must be programs × families")
        if len(self.strategies) != len(self.codes):
            raise ValueError("one strategy list per program")
        if self.has_rule is not None and len(self.has_rule) != len(self.codes):
            raise ValueError("one has_rule value per program")


@dataclass
class Coverage:
    """Counts per program, strategy and area, kept per village (last column: no village) so any level sums up."""

    villages: list[str]
    programs: list[str]
    strategies: list[str]
    by_program: dict[str, np.ndarray]  # measure -> programs × (villages + 1)
    by_strategy: dict[str, np.ndarray]  # measure -> strategies × (villages + 1)
    by_area: dict[str, np.ndarray]  # measure -> villages + 1
    amount: np.ndarray  # programs × (villages + 1), rupiah
    amount_poor: np.ndarray  # programs × (villages + 1), rupiah paid to poor families
    strategy_amount: np.ndarray  # strategies × (villages + 1)
    strategy_amount_poor: np.ndarray  # strategies × (villages + 1)
    overlap: np.ndarray  # programs × programs: families on both
    distribution: np.ndarray  # (poor, not poor) × number of programs 0..MANY+2 (last: that many or more)
    # per family, for the lists
    desil: np.ndarray = field(repr=False)
    village: np.ndarray = field(repr=False)
    received: np.ndarray = field(repr=False)  # programs × families
    eligible: np.ndarray = field(repr=False)  # programs × families
    program_count: np.ndarray = field(repr=False)  # per family
    poor_max_desil: int = POOR_MAX_DESIL
    many: int = MANY_PROGRAMS

    # -- roll-ups -------------------------------------------------------------------------------------------------
    def groups(self, level_length: int) -> tuple[list[str], np.ndarray]:
        """Area codes at one level (8: districts, 13: villages) and the group index of each village column;
        the no-village column gets its own group ''."""
        codes = [v[:level_length] for v in self.villages]
        keys = sorted(set(codes))
        index = {k: i for i, k in enumerate(keys)}
        mapping = np.array([index[c] for c in codes] + [len(keys)], dtype=np.int64)
        return [*keys, ""], mapping

    def rollup(self, table: np.ndarray, mapping: np.ndarray, n_groups: int) -> np.ndarray:
        """Sum village columns into groups: (…, villages + 1) -> (…, n_groups)."""
        if table.ndim == 1:
            return np.bincount(mapping, weights=table, minlength=n_groups)
        out = np.zeros((table.shape[0], n_groups), dtype=np.float64)
        for row in range(table.shape[0]):
            out[row] = np.bincount(mapping, weights=table[row], minlength=n_groups)
        return out

    def total(self, table: np.ndarray) -> np.ndarray:
        return table.sum(axis=-1)

    # -- one area of the region ------------------------------------------------------------------------------------
    def columns_within(self, code: str, *, region: bool = False) -> np.ndarray:
        """Village columns inside the area ``code`` (fixed-width Kemendagri codes: a prefix test); ``region``
        adds the no-village column, whose rows belong to the region as a whole and to no smaller area."""
        inside = [i for i, v in enumerate(self.villages) if v == code or v.startswith(code + ".")]
        if region:
            inside.append(len(self.villages))
        return np.asarray(inside, dtype=np.int64)

    def families_in(self, columns: np.ndarray) -> np.ndarray:
        """Boolean mask of the families living in the given village columns."""
        return np.isin(self.village, columns)

    def overlap_within(self, columns: np.ndarray) -> np.ndarray:
        """The program × program matrix for the families of those villages only."""
        subset = self.received[:, self.families_in(columns)].astype(np.float32)
        return np.rint(subset @ subset.T).astype(np.int64)

    def distribution_within(self, columns: np.ndarray) -> np.ndarray:
        """(poor, not poor) × number of programs for the families of those villages."""
        mask = self.families_in(columns)
        poor = (self.desil >= 1) & (self.desil <= self.poor_max_desil)
        capped = np.minimum(self.program_count, self.many + 2).astype(np.int64)
        out = np.zeros((2, self.many + 3), dtype=np.int64)
        out[0] = np.bincount(capped[mask & poor], minlength=self.many + 3)
        out[1] = np.bincount(capped[mask & ~poor], minlength=self.many + 3)
        return out

    # -- family lists ---------------------------------------------------------------------------------------------
    def _in(self, villages: np.ndarray | None) -> np.ndarray:
        if villages is None:
            return np.ones(len(self.desil), dtype=bool)
        return np.isin(self.village, villages)

    def excluded_families(self, program: int | None = None, *, villages: np.ndarray | None = None) -> np.ndarray:
        """Family indices eligible for the program (any program when None) and not reached by it (by nothing when
        None, among poor families), extreme poor first, then by desil, then fewest programs received."""
        if program is None:
            mask = (self.desil >= 1) & (self.desil <= self.poor_max_desil) & (self.program_count == 0)
        else:
            mask = self.eligible[program] & ~self.received[program]
        found = np.flatnonzero(mask & self._in(villages))
        desil = np.where(self.desil[found] > 0, self.desil[found], 99)
        order = np.lexsort((found, self.program_count[found], desil))
        return found[order]

    def many_program_families(self, *, minimum: int | None = None, villages: np.ndarray | None = None) -> np.ndarray:
        """Families on ``minimum`` or more programs, most programs first, the least poor first among equals."""
        minimum = self.many if minimum is None else minimum
        found = np.flatnonzero((self.program_count >= minimum) & self._in(villages))
        order = np.lexsort((found, -self.desil[found].astype(np.int64), -self.program_count[found].astype(np.int64)))
        return found[order]


def _count(index: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(index[mask], minlength=n).astype(np.int64)


def analyse(
    families: Families,
    ledger: Ledger,
    programs: Programs,
    *,
    poor_max_desil: int = POOR_MAX_DESIL,
    many: int = MANY_PROGRAMS,
) -> Coverage:
    """Every analysis of the programs issue in one pass over the arrays."""
    n_fam = len(families)
    n_prog = len(programs.codes)
    n_vill = len(families.villages)
    width = n_vill + 1  # last column: no village
    if programs.eligible.shape[1] != n_fam:
        raise ValueError("eligible must have one column per family")
    village = np.asarray(families.village, dtype=np.int64)
    desil = np.asarray(families.desil, dtype=np.int8)
    flagged = np.asarray(families.flagged, dtype=bool)
    eligible = np.asarray(programs.eligible, dtype=bool)
    poor = (desil >= 1) & (desil <= poor_max_desil)
    extreme = desil == EXTREME_DESIL

    prog = np.asarray(ledger.program, dtype=np.int64)
    fam = np.asarray(ledger.family, dtype=np.int64)
    matched = fam >= 0
    received = np.zeros((n_prog, n_fam), dtype=bool)
    received[prog[matched], fam[matched]] = True
    program_count = received.sum(axis=0, dtype=np.int16)
    if programs.has_rule is not None and not all(programs.has_rule):
        eligible = eligible.copy()
        for p, known in enumerate(programs.has_rule):
            if not known:
                eligible[p] = received[p]

    # Each ledger row's area: its family's village when the recipient is known, else the village the list gave.
    row_village = np.where(matched, village[np.where(matched, fam, 0)], np.asarray(ledger.village, dtype=np.int64))
    row_village = np.where(row_village >= 0, row_village, n_vill)
    amount = np.nan_to_num(np.asarray(ledger.amount, dtype=np.float64), nan=0.0)
    row_poor = matched & poor[np.where(matched, fam, 0)]
    cell = prog * width + row_village
    size = n_prog * width
    amount_table = np.bincount(cell, weights=amount, minlength=size).reshape(n_prog, width)
    amount_poor = np.bincount(cell, weights=amount * row_poor, minlength=size).reshape(n_prog, width)
    rows = np.bincount(cell, minlength=size).reshape(n_prog, width)
    unmatched = np.bincount(cell[~matched], minlength=size).reshape(n_prog, width)
    deceased_rows = np.zeros((n_prog, width), dtype=np.int64)
    if ledger.deceased is not None:
        dead = np.asarray(ledger.deceased, dtype=bool)
        deceased_rows = np.bincount(cell[dead], minlength=size).reshape(n_prog, width)

    def family_measures(elig: np.ndarray, got: np.ndarray) -> dict[str, np.ndarray]:
        not_eligible = got & ~elig
        flagged_got = got & flagged
        excluded = elig & ~got
        return {
            "eligible": _count(village, elig, width),
            "reached": _count(village, elig & got, width),
            "recipients": _count(village, got, width),
            "not_eligible": _count(village, not_eligible, width),
            "flagged": _count(village, flagged_got, width),
            "leakage": _count(village, not_eligible | flagged_got, width),
            "excluded": _count(village, excluded, width),
            "excluded_extreme": _count(village, excluded & extreme, width),
        }

    by_program: dict[str, np.ndarray] = {m: np.zeros((n_prog, width), dtype=np.int64) for m in PROGRAM_MEASURES}
    for p in range(n_prog):
        for name, values in family_measures(eligible[p], received[p]).items():
            by_program[name][p] = values
    by_program["rows"] = rows.astype(np.int64)
    by_program["unmatched"] = unmatched.astype(np.int64)
    by_program["deceased"] = deceased_rows

    strategies = sorted({s for tags in programs.strategies for s in tags})
    n_strat = len(strategies)
    by_strategy: dict[str, np.ndarray] = {m: np.zeros((n_strat, width), dtype=np.int64) for m in PROGRAM_MEASURES}
    strategy_amount = np.zeros((n_strat, width), dtype=np.float64)
    strategy_amount_poor = np.zeros((n_strat, width), dtype=np.float64)
    for s, code in enumerate(strategies):
        members = [p for p, tags in enumerate(programs.strategies) if code in tags]
        # A family is eligible for a strategy when eligible for any of its programs, reached when on any list.
        any_eligible = np.asarray(eligible[members].any(axis=0), dtype=bool)
        any_received = np.asarray(received[members].any(axis=0), dtype=bool)
        for name, values in family_measures(any_eligible, any_received).items():
            by_strategy[name][s] = values
        for name in ("rows", "unmatched", "deceased"):
            by_strategy[name][s] = by_program[name][members].sum(axis=0)
        strategy_amount[s] = amount_table[members].sum(axis=0)
        strategy_amount_poor[s] = amount_poor[members].sum(axis=0)

    reached_any = program_count > 0
    by_area = {
        "families": np.bincount(village, minlength=width).astype(np.int64),
        "poor": _count(village, poor, width),
        "extreme": _count(village, extreme, width),
        "no_desil": _count(village, desil == 0, width),
        "reached_any": _count(village, reached_any, width),
        "poor_reached": _count(village, poor & reached_any, width),
        "poor_no_help": _count(village, poor & ~reached_any, width),
        "extreme_no_help": _count(village, extreme & ~reached_any, width),
        "many": _count(village, program_count >= many, width),
        "many_not_poor": _count(village, (program_count >= many) & ~poor, width),
    }
    # float32 products are exact for counts below 2**24 per cell, well above a regency's families
    as_float = received.astype(np.float32)
    overlap = np.rint(as_float @ as_float.T).astype(np.int64)
    capped = np.minimum(program_count, many + 2).astype(np.int64)
    distribution = np.zeros((2, many + 3), dtype=np.int64)
    distribution[0] = np.bincount(capped[poor], minlength=many + 3)
    distribution[1] = np.bincount(capped[~poor], minlength=many + 3)
    return Coverage(
        villages=list(families.villages),
        programs=list(programs.codes),
        strategies=strategies,
        by_program=by_program,
        by_strategy=by_strategy,
        by_area=by_area,
        amount=amount_table,
        amount_poor=amount_poor,
        strategy_amount=strategy_amount,
        strategy_amount_poor=strategy_amount_poor,
        overlap=overlap,
        distribution=distribution,
        desil=desil,
        village=village,
        received=received,
        eligible=eligible,
        program_count=program_count,
        poor_max_desil=poor_max_desil,
        many=many,
    )


def ratio(numerator: float, denominator: float) -> float | None:
    """A share in percent, or None when there is nothing to divide by (shown as "–", never as 0 %)."""
    return 100.0 * numerator / denominator if denominator else None
