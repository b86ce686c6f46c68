"""The analyses page's reads: the ledger and the families of one area, through tepat.engine.coverage, into rows.

Every read starts from ``Family.objects.visible_to(actor)``, and the area asked for must lie inside the actor's
area, so a village operator's page is computed from its own village only. Counts are aggregates; the family
lists (exclusion, many programs) are personal data and need VIEW_PERSONS, with NIK/KK masked and no address for
users without VIEW_FULL_NIK (partners).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db.models import Q, QuerySet
from django.utils.translation import get_language

from tepat.accounts.permissions import Permission, PermissionDenied, has_permission, scope_code
from tepat.areas.models import Area, Level
from tepat.areas.selectors import area_path, within_q
from tepat.engine.coverage import Coverage, Families, Ledger, Programs, analyse, ratio
from tepat.programs.eligibility import Eligibility, FamilyTable, evaluate_programs, family_table, fields_needed
from tepat.programs.models import REACHED_STATUSES, Benefit, BenefitStatus, Program, Strategy
from tepat.registry.models import Family, FamilyStatus, VitalStatus
from tepat.registry.selectors import family_list, family_rows

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User

    Actor = User | AnonymousUser

LIST_LIMIT = 50
CHILD_LEVEL = {Level.PROVINCE: 5, Level.REGENCY: 8, Level.DISTRICT: 13}


@dataclass(frozen=True)
class Filters:
    area: str = ""
    period: str = ""  # "" all periods, "2026" a year, "2026-Q3" one period
    program: str = ""  # code: the exclusion list of this program (else: poor families no program reached)
    strategy: str = ""  # code: program table limited to programs with this tag
    planned: bool = False  # count planned ledger rows as reached too

    @classmethod
    def from_query(cls, query: Any, *, area: str = "") -> Filters:
        def text(name: str, limit: int = 80) -> str:
            return str(query.get(name, "")).strip()[:limit]

        return cls(
            area=area or text("wilayah", 13),
            period=text("periode", 20),
            program=text("program"),
            strategy=text("strategi", 40),
            planned=text("rencana") == "1",
        )

    def statuses(self) -> list[str]:
        return [s.value for s in (*REACHED_STATUSES, *((BenefitStatus.PLANNED,) if self.planned else ()))]


def analysis_area(*, actor: Actor, code: str = "") -> Area:
    """The area to analyse: the actor's own area by default; anything outside it does not exist for them."""
    scope = scope_code(actor)
    if scope is None or not has_permission(actor, Permission.VIEW_AGGREGATES):
        raise PermissionDenied(Permission.VIEW_AGGREGATES)
    code = code or scope
    if not (code == scope or code.startswith(scope + ".")):
        raise Area.DoesNotExist
    return Area.objects.get(code=code)


def ledger_periods() -> list[str]:
    """Periods in the ledger, newest first, with each year before its periods (choices, not personal data)."""
    periods = sorted(set(Benefit.objects.values_list("period", flat=True).distinct()), reverse=True)
    out: list[str] = []
    for period in periods:
        year = period[:4]
        if year.isdigit() and year not in out:
            out.append(year)
        if period != year:
            out.append(period)
    return out


def default_period() -> str:
    """The latest year in the ledger: coverage and spending are reported per year."""
    latest = Benefit.objects.order_by("-period").values_list("period", flat=True).first()
    return latest[:4] if latest and latest[:4].isdigit() else ""


@dataclass
class Computed:
    area: Area
    families: FamilyTable
    programs: list[Program]
    eligibility: Eligibility
    coverage: Coverage
    villages: list[str]


def _ledger(families: QuerySet[Family], area: Area, filters: Filters, program_ids: dict[int, int], table: FamilyTable,
            village_index: dict[str, int]) -> Ledger:  # fmt: skip
    rows = Benefit.objects.filter(status__in=filters.statuses(), program_id__in=list(program_ids))
    if filters.period:
        rows = rows.filter(period__startswith=filters.period)
    # Recipients in the registry: through their one active KK (a partial unique index guarantees one), which
    # must be one of the area's families the actor may see.
    matched = rows.filter(
        person__memberships__active=True, person__memberships__family__in=families.values("pk")
    ).values_list("program_id", "person__memberships__family_id", "village_id", "amount", "person__vital_status")
    # Recipients the registry does not know (or knows without an active KK): by the village the list gave.
    unmatched = (
        rows.filter(within_q(area.code, field="village__code"))
        .filter(Q(person__isnull=True) | ~Q(person__memberships__active=True))
        .values_list("program_id", "village_id", "amount", "person__vital_status")
    )
    program, family, village, amount, deceased = [], [], [], [], []
    dead = VitalStatus.DECEASED.value
    for program_id, family_id, _village, value, vital in matched.iterator(chunk_size=20_000):
        program.append(program_ids[program_id])
        family.append(family_id)
        village.append(-1)
        amount.append(math.nan if value is None else float(value))
        deceased.append(vital == dead)
    n_matched = len(program)
    for program_id, village_id, value, vital in unmatched.iterator(chunk_size=20_000):
        program.append(program_ids[program_id])
        family.append(-1)
        village.append(village_index.get(village_id or "", -1))
        amount.append(math.nan if value is None else float(value))
        deceased.append(vital == dead)
    family_index = np.full(len(family), -1, dtype=np.int64)
    family_index[:n_matched] = table.index_of(np.asarray(family[:n_matched], dtype=np.int64))
    return Ledger(
        program=np.asarray(program, dtype=np.int64),
        family=family_index,
        village=np.asarray(village, dtype=np.int64),
        amount=np.asarray(amount, dtype=np.float64),
        deceased=np.asarray(deceased, dtype=bool),
    )


def coverage_compute(*, actor: Actor, filters: Filters) -> Computed:
    """Families, ledger and eligibility of the area, analysed. Raises PermissionDenied / Area.DoesNotExist."""
    area = analysis_area(actor=actor, code=filters.area)
    families = Family.objects.visible_to(actor, permission=Permission.VIEW_AGGREGATES).filter(
        within_q(area.code, field="village__code"), status=FamilyStatus.ACTIVE
    )
    used = Benefit.objects.filter(status__in=filters.statuses())
    if filters.period:
        used = used.filter(period__startswith=filters.period)
    programs = list(
        Program.objects.filter(active=True, pk__in=used.values("program_id").distinct())
        .select_related("organisation")
        .prefetch_related("strategies")
        .order_by("code")
    )
    rules = [p.eligibility_rule for p in programs]
    table = family_table(families, fields=fields_needed(rules))
    villages = list(
        Area.objects.filter(within_q(area.code), level=Level.VILLAGE).order_by("code").values_list("code", flat=True)
    )
    village_index = {code: i for i, code in enumerate(villages)}
    eligibility = evaluate_programs([p.code for p in programs], rules, table)
    ledger = _ledger(families, area, filters, {p.pk: i for i, p in enumerate(programs)}, table, village_index)
    family_village = np.array([village_index.get(v, -1) for v in table.villages.tolist()], dtype=np.int64)
    coverage = analyse(
        Families(village=family_village, desil=table.desil, flagged=table.flagged, villages=villages),
        ledger,
        Programs(
            codes=[p.code for p in programs],
            eligible=eligibility.eligible,
            strategies=[tuple(s.code for s in p.strategies.all()) for p in programs],
            has_rule=eligibility.has_rule,
        ),
    )
    return Computed(area, table, programs, eligibility, coverage, villages)


# -- rows for the page and the export ------------------------------------------------------------------------------
@dataclass
class MeasureRow:
    """One line of the program or strategy table (counts summed over the area)."""

    key: str
    label: str
    detail: str
    has_rule: bool
    eligible: int
    reached: int
    recipients: int
    not_eligible: int
    flagged: int
    leakage: int
    excluded: int
    excluded_extreme: int
    rows: int
    unmatched: int
    deceased: int
    amount: float
    amount_poor: float
    problem: str = ""

    @property
    def coverage(self) -> float | None:
        return ratio(self.reached, self.eligible) if self.has_rule else None

    @property
    def leakage_pct(self) -> float | None:
        return ratio(self.leakage, self.recipients)

    @property
    def poor_share(self) -> float | None:
        return ratio(self.amount_poor, self.amount)


@dataclass
class AreaRow:
    code: str
    label: str
    families: int
    poor: int
    extreme: int
    reached_any: int
    poor_reached: int
    poor_no_help: int
    extreme_no_help: int
    many: int
    many_not_poor: int
    amount: float
    amount_poor: float
    has_children: bool = False

    @property
    def poor_coverage(self) -> float | None:
        return ratio(self.poor_reached, self.poor)

    @property
    def per_poor_family(self) -> float | None:
        return self.amount_poor / self.poor if self.poor else None


@dataclass
class FamilyLine:
    pk: int
    kk: str
    head_name: str
    village: str
    address: str
    desil: int | None
    members: int
    programs: list[str]


@dataclass
class AnalysisView:
    area: Area
    crumbs: list[Area]
    filters: Filters
    periods: list[str]
    programs: list[MeasureRow]
    strategies: list[MeasureRow]
    children: list[AreaRow]
    total: AreaRow
    overlap_codes: list[str]
    overlap: list[list[int]]
    distribution: list[list[int]]
    many: int
    poor_max_desil: int
    problems: dict[str, str]
    strategy_choices: list[tuple[str, str]]
    program_choices: list[tuple[str, str]]
    excluded: list[FamilyLine] = field(default_factory=list)
    excluded_total: int = 0
    many_families: list[FamilyLine] = field(default_factory=list)
    many_total: int = 0
    can_list: bool = False
    show_address: bool = False
    list_program: str = ""


def _measure_rows(
    keys: Sequence[str],
    labels: Sequence[tuple[str, str]],
    table: dict[str, np.ndarray],
    amount: np.ndarray,
    amount_poor: np.ndarray | None,
    has_rule: Sequence[bool],
    problems: dict[str, str],
) -> list[MeasureRow]:
    out = []
    for i, key in enumerate(keys):
        totals = {name: int(values[i].sum()) for name, values in table.items()}
        out.append(
            MeasureRow(
                key=key, label=labels[i][0], detail=labels[i][1], has_rule=has_rule[i], **totals,
                amount=float(amount[i].sum()), problem=problems.get(key, ""),
                amount_poor=float(amount_poor[i].sum()) if amount_poor is not None else 0.0,
            )
        )  # fmt: skip
    return out


def _area_row(code: str, label: str, by_area: dict[str, np.ndarray], amount: float, amount_poor: float,
              column: slice | np.ndarray) -> AreaRow:  # fmt: skip
    def total(name: str) -> int:
        return int(np.asarray(by_area[name])[column].sum())

    return AreaRow(
        code=code, label=label, amount=amount, amount_poor=amount_poor, families=total("families"),
        poor=total("poor"), extreme=total("extreme"), reached_any=total("reached_any"),
        poor_reached=total("poor_reached"), poor_no_help=total("poor_no_help"),
        extreme_no_help=total("extreme_no_help"), many=total("many"), many_not_poor=total("many_not_poor"),
    )  # fmt: skip


def strategy_labels(codes: Sequence[str]) -> dict[str, tuple[str, str]]:
    language = get_language() or "id"
    found = {s.code: s for s in Strategy.objects.filter(code__in=list(codes))}
    return {c: (found[c].short_label(language), found[c].label(language)) if c in found else (c, c) for c in codes}


def analysis_view(*, actor: Actor, filters: Filters) -> AnalysisView:
    computed = coverage_compute(actor=actor, filters=filters)
    cov, area = computed.coverage, computed.area
    programs = computed.programs
    keep = [
        i
        for i, p in enumerate(programs)
        if not filters.strategy or filters.strategy in {s.code for s in p.strategies.all()}
    ]
    program_rows = _measure_rows(
        [programs[i].code for i in keep],
        [(programs[i].name, programs[i].get_funder_display()) for i in keep],
        {name: values[keep] for name, values in cov.by_program.items()},
        cov.amount[keep],
        cov.amount_poor[keep],
        [computed.eligibility.has_rule[i] for i in keep],
        computed.eligibility.problems,
    )
    labels = strategy_labels(cov.strategies)
    strategy_rows = _measure_rows(
        cov.strategies,
        [labels[c] for c in cov.strategies],
        cov.by_strategy,
        cov.strategy_amount,
        None,
        [True] * len(cov.strategies),
        {},
    )
    amount_by_village = cov.amount.sum(axis=0)
    poor_by_village = cov.amount_poor.sum(axis=0)
    total = _area_row(area.code, area.label, cov.by_area, float(amount_by_village.sum()), float(poor_by_village.sum()),
                      slice(None))  # fmt: skip
    children: list[AreaRow] = []
    child_length = CHILD_LEVEL.get(Level(area.level))
    if child_length:
        codes, mapping = cov.groups(child_length)
        names = {a.code: a for a in Area.objects.filter(code__in=codes)}
        for g, code in enumerate(codes):
            columns = mapping == g
            if not code:
                if not cov.by_area["families"][columns].sum() and not amount_by_village[columns].sum():
                    continue
                label = "—"
            else:
                label = names[code].label if code in names else code
            row = _area_row(code, label, cov.by_area, float(amount_by_village[columns].sum()),
                            float(poor_by_village[columns].sum()), columns)  # fmt: skip
            row.has_children = bool(code) and len(code) < 13
            children.append(row)
    view = AnalysisView(
        area=area,
        crumbs=[a for a in area_path(area) if len(a.code) >= len(scope_code(actor) or "")],
        filters=filters,
        periods=ledger_periods(),
        programs=program_rows,
        strategies=strategy_rows,
        children=children,
        total=total,
        overlap_codes=cov.programs,
        overlap=cov.overlap.tolist(),
        distribution=cov.distribution.tolist(),
        many=cov.many,
        poor_max_desil=cov.poor_max_desil,
        problems=computed.eligibility.problems,
        strategy_choices=[(c, labels[c][1]) for c in cov.strategies],
        program_choices=[(p.code, p.name) for p in programs],
    )
    if has_permission(actor, Permission.VIEW_PERSONS):
        view.can_list = True
        view.show_address = has_permission(actor, Permission.VIEW_FULL_NIK)
        program_index = cov.programs.index(filters.program) if filters.program in cov.programs else None
        view.list_program = filters.program if program_index is not None else ""
        excluded = cov.excluded_families(program_index)
        many = cov.many_program_families()
        view.excluded_total, view.many_total = len(excluded), len(many)
        view.excluded = family_lines(actor=actor, computed=computed, indices=excluded[:LIST_LIMIT])
        view.many_families = family_lines(actor=actor, computed=computed, indices=many[:LIST_LIMIT])
    return view


def family_lines(*, actor: Actor, computed: Computed, indices: np.ndarray) -> list[FamilyLine]:
    """Families by engine index, in that order, as the actor may see them (masked KK, no address for partners)."""
    if not len(indices):
        return []
    ids = computed.families.ids[indices].tolist()
    families = {f.pk: f for f in family_list(actor=actor).filter(pk__in=ids)}
    rows = {r["pk"]: r for r in family_rows(actor=actor, families=list(families.values()))}
    full = has_permission(actor, Permission.VIEW_FULL_NIK)
    codes = computed.coverage.programs
    out = []
    for index, pk in zip(indices.tolist(), ids, strict=True):
        row = rows.get(pk)
        if row is None:
            continue
        received = computed.coverage.received[:, index]
        out.append(
            FamilyLine(pk=pk, kk=row["kk"], head_name=row["head_name"], village=row["village"],
                       address=row["address"] if full else "", desil=row["desil"], members=row["members"],
                       programs=[codes[p] for p in np.flatnonzero(received).tolist()])
        )  # fmt: skip
    return out
