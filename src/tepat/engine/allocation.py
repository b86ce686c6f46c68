"""Budget scenarios: who a program would reach under rule A or rule B, and an optimal split of several programs.

The complaint heard at every TKPK meeting is that each funder serves its own list, so the same families get
everything and others nothing. Two tools answer it with numbers:

- ``priority_list`` / ``compare``: for one program, its per-family cost and budget, the eligible families taken in
  priority order (poorest first) until the money runs out, with what that buys: cost, the share of extreme-poor and
  desil-1 families reached, the needy families reached by nothing, and the estimated fall in the poverty gap.
- ``allocate``: several programs, each with its own budget, eligibility and value to a family, assigned so that the
  poverty gap falls as much as possible. This is a knapsack-like integer programme, solved with HiGHS through
  ``scipy.optimize.milp``: exactly over families when the problem is small, and for a regency or a province over
  groups of families that are interchangeable for the objective (same eligibility, gap within the same band), then
  handed back to individual families, largest packages to the largest gaps.

The objective is the poverty gap in rupiah per month: a family's gap is (line − welfare) × members, and a package of
benefits worth V a month reduces it by min(gap, V). It is linear in the assignment once the min is written as two
constraints, which is what makes an exact solver usable. Money a family does not need beyond its gap does not count;
families above the line are never chosen, so part of a budget can stay unspent, and the result says how much.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tepat.engine.poverty import Fgt, fgt, gap_capacity

EXACT_LIMIT = 4_000  # eligible (family, program) pairs up to which the MILP is solved over families directly
MAX_COMBINATIONS = 256  # program packages per eligibility pattern before packages are limited in size
CAPACITY_BANDS = 24  # quantile bands of the gap per eligibility pattern in the grouped model


@dataclass(frozen=True)
class Families:
    """The families a scenario is about, as aligned arrays (one row per family).

    ``welfare`` is the estimated per-capita welfare in rupiah a month (NaN: unknown), ``line`` the poverty line
    (a number, or one per family for urban/rural lines). ``extreme_poor`` defaults to desil 1 (P3KE practice);
    ``reached`` marks families some program already serves (the benefit ledger), for "reached by nothing".
    ``needy`` defaults to welfare below the line, or desil 1-4 where the welfare is unknown.
    """

    welfare: np.ndarray
    size: np.ndarray
    line: float | np.ndarray
    desil: np.ndarray | None = None
    extreme_poor: np.ndarray | None = None
    reached: np.ndarray | None = None
    needy: np.ndarray | None = None
    area: pa.Array | pa.ChunkedArray | np.ndarray | None = None
    ids: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.welfare)

    @property
    def capacity(self) -> np.ndarray:
        return gap_capacity(self.welfare, self.size, self.line)

    def _desil(self) -> np.ndarray:
        if self.desil is None:
            return np.zeros(len(self), dtype=np.int64)
        return np.nan_to_num(np.asarray(self.desil, dtype=np.float64), nan=0).astype(np.int64)

    def extreme(self) -> np.ndarray:
        if self.extreme_poor is not None:
            return np.asarray(self.extreme_poor, dtype=bool)
        return self._desil() == 1

    def in_need(self) -> np.ndarray:
        if self.needy is not None:
            return np.asarray(self.needy, dtype=bool)
        welfare = np.asarray(self.welfare, dtype=np.float64)
        line = np.broadcast_to(np.asarray(self.line, dtype=np.float64), welfare.shape)
        desil = self._desil()
        return np.where(np.isnan(welfare), (desil >= 1) & (desil <= 4), welfare < line)


@dataclass(frozen=True)
class Program:
    """A program in a scenario: ``cost`` per family to the budget, ``value`` per family in rupiah a month as the
    family feels it (a yearly Rp 3,000,000 is 250,000 a month; in-kind aid at its market value), ``budget`` for
    the period the cost is stated in."""

    code: str
    cost: float
    budget: float
    value: float | None = None  # defaults to the cost

    @property
    def monthly_value(self) -> float:
        return float(self.cost if self.value is None else self.value)

    def __post_init__(self) -> None:
        if not self.cost > 0:
            raise ValueError(f"program {self.code}: cost per family must be positive")
        if self.budget < 0:
            raise ValueError(f"program {self.code}: budget must not be negative")


@dataclass(frozen=True)
class Outcome:
    """What a set of benefits reaches: the figures a scenario page shows."""

    families: int
    cost: float
    extreme_poor_reached: int
    extreme_poor_total: int
    desil1_reached: int
    desil1_total: int
    needy_total: int
    reached_by_nothing: int  # needy families that get nothing here and nothing from programs already running
    before: Fgt
    after: Fgt
    transferred: float

    @property
    def gap_closed(self) -> float:
        return self.before.gap - self.after.gap

    @property
    def extreme_poor_share(self) -> float:
        return self.extreme_poor_reached / self.extreme_poor_total if self.extreme_poor_total else float("nan")

    @property
    def desil1_share(self) -> float:
        return self.desil1_reached / self.desil1_total if self.desil1_total else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {
            "families": self.families,
            "cost": self.cost,
            "extreme_poor_reached": self.extreme_poor_reached,
            "extreme_poor_total": self.extreme_poor_total,
            "extreme_poor_share": self.extreme_poor_share,
            "desil1_reached": self.desil1_reached,
            "desil1_total": self.desil1_total,
            "desil1_share": self.desil1_share,
            "needy_total": self.needy_total,
            "reached_by_nothing": self.reached_by_nothing,
            "gap_before": self.before.gap,
            "gap_after": self.after.gap,
            "gap_closed": self.gap_closed,
            "p0_before": self.before.p0,
            "p0_after": self.after.p0,
            "p1_before": self.before.p1,
            "p1_after": self.after.p1,
            "p2_before": self.before.p2,
            "p2_after": self.after.p2,
            "transferred": self.transferred,
        }


def outcome(families: Families, transfer: np.ndarray, *, cost: float) -> Outcome:
    """The figures for giving ``transfer`` rupiah a month to each family (0 = nothing)."""
    transfer = np.asarray(transfer, dtype=np.float64)
    covered = transfer > 0
    extreme = families.extreme()
    desil1 = families._desil() == 1
    needy = families.in_need()
    already = np.zeros(len(families), dtype=bool) if families.reached is None else np.asarray(families.reached, bool)
    welfare = np.asarray(families.welfare, dtype=np.float64)
    size = np.asarray(families.size, dtype=np.float64)
    per_capita = np.where(size > 0, transfer / np.where(size > 0, size, 1.0), 0.0)
    return Outcome(
        families=int(covered.sum()),
        cost=float(cost),
        extreme_poor_reached=int((covered & extreme).sum()),
        extreme_poor_total=int(extreme.sum()),
        desil1_reached=int((covered & desil1).sum()),
        desil1_total=int(desil1.sum()),
        needy_total=int(needy.sum()),
        reached_by_nothing=int((needy & ~covered & ~already).sum()),
        before=fgt(welfare, families.line, size=size),
        after=fgt(welfare + per_capita, families.line, size=size),
        transferred=float(transfer[~np.isnan(welfare)].sum()),
    )


# ---------------------------------------------------------------------------------------------------------------
# One program, one rule: a priority list


@dataclass(frozen=True)
class PriorityList:
    program: Program
    order: np.ndarray  # row indices of the families covered, in priority order
    covered: np.ndarray  # bool per family
    eligible: int
    outcome: Outcome

    @property
    def budget_left(self) -> float:
        return self.program.budget - self.outcome.cost

    @property
    def waiting(self) -> int:
        """Eligible families the budget did not reach."""
        return self.eligible - len(self.order)


def priority_list(families: Families, eligible: np.ndarray, program: Program, *, priority: np.ndarray) -> PriorityList:
    """Eligible families in priority order (lower ``priority`` first, e.g. a welfare estimate or a desil, with the
    row order breaking ties so the list is reproducible) until the budget is spent."""
    mask = np.asarray(eligible, dtype=bool)
    key = np.asarray(priority, dtype=np.float64)
    candidates = np.flatnonzero(mask)
    ordered = candidates[np.lexsort((candidates, np.nan_to_num(key[candidates], nan=np.inf)))]
    affordable = int(min(len(ordered), np.floor(program.budget / program.cost + 1e-9)))
    chosen = ordered[:affordable]
    covered = np.zeros(len(families), dtype=bool)
    covered[chosen] = True
    transfer = np.where(covered, program.monthly_value, 0.0)
    return PriorityList(
        program=program,
        order=chosen,
        covered=covered,
        eligible=len(candidates),
        outcome=outcome(families, transfer, cost=affordable * program.cost),
    )


@dataclass(frozen=True)
class Comparison:
    a: PriorityList
    b: PriorityList
    both: int
    only_a: int
    only_b: int
    by_area: pa.Table | None  # area, covered_a, covered_b, both


def compare(
    families: Families, eligible_a: np.ndarray, eligible_b: np.ndarray, program: Program, *, priority: np.ndarray
) -> Comparison:
    """The same program and budget under rule A and rule B: who each covers, and who only one of them covers."""
    a = priority_list(families, eligible_a, program, priority=priority)
    b = priority_list(families, eligible_b, program, priority=priority)
    by_area = None
    if families.area is not None:
        area = families.area if isinstance(families.area, pa.Array | pa.ChunkedArray) else pa.array(families.area)
        if isinstance(area, pa.ChunkedArray):
            area = area.combine_chunks()
        if pa.types.is_dictionary(area.type):
            area = area.dictionary_decode()
        encoded = pc.dictionary_encode(area, null_encoding="encode")
        index = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        groups = len(encoded.dictionary)
        by_area = pa.table(
            {
                "area": encoded.dictionary,
                "families": np.bincount(index, minlength=groups),
                "covered_a": np.bincount(index, weights=a.covered, minlength=groups).astype(np.int64),
                "covered_b": np.bincount(index, weights=b.covered, minlength=groups).astype(np.int64),
                "both": np.bincount(index, weights=a.covered & b.covered, minlength=groups).astype(np.int64),
            }
        ).sort_by("area")
    return Comparison(
        a=a,
        b=b,
        both=int((a.covered & b.covered).sum()),
        only_a=int((a.covered & ~b.covered).sum()),
        only_b=int((~a.covered & b.covered).sum()),
        by_area=by_area,
    )


# ---------------------------------------------------------------------------------------------------------------
# Several programs: the optimiser


@dataclass(frozen=True)
class Allocation:
    programs: tuple[Program, ...]
    assigned: np.ndarray  # bool (families × programs)
    method: str  # "exact" (MILP over families) or "grouped" (MILP over interchangeable groups)
    status: str
    objective: float  # gap closed, rupiah a month, as realised on the families
    bound: float | None  # the solver's upper bound on the (grouped) objective, when it reports one
    max_programs_per_family: int | None
    outcome: Outcome
    spent: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def for_program(self, code: str) -> np.ndarray:
        return self.assigned[:, [p.code for p in self.programs].index(code)]


def allocate(
    families: Families,
    programs: Sequence[Program],
    eligibility: Mapping[str, np.ndarray],
    *,
    max_programs_per_family: int | None = None,
    method: str = "auto",
    time_limit: float = 60.0,
) -> Allocation:
    """Assign programs to families to close as much of the poverty gap as the budgets allow.

    Each family gets each program at most once and only if eligible; each program stays within its budget;
    ``max_programs_per_family`` (e.g. 1) spreads help across more families. ``method``: ``"exact"``,
    ``"grouped"`` or ``"auto"`` (exact when there are at most EXACT_LIMIT eligible family-program pairs).
    """
    programs = tuple(programs)
    if not programs:
        raise ValueError("no programs")
    codes = [p.code for p in programs]
    if len(set(codes)) != len(codes):
        raise ValueError("program codes must be unique")
    n, m = len(families), len(programs)
    capacity = families.capacity
    eligible = np.zeros((n, m), dtype=bool)
    for j, program in enumerate(programs):
        if program.code not in eligibility:
            raise ValueError(f"no eligibility given for program {program.code}")
        eligible[:, j] = np.asarray(eligibility[program.code], dtype=bool)
    # Families above the line gain nothing measurable; leaving them out keeps the problem small.
    useful = eligible & (capacity > 0)[:, None]
    pairs = int(useful.sum())
    notes: list[str] = []
    limit = max_programs_per_family
    if method == "auto":
        method = "exact" if pairs <= EXACT_LIMIT else "grouped"
    if method == "exact":
        assigned, status, bound = _solve_exact(capacity, useful, programs, limit, time_limit)
    elif method == "grouped":
        if limit is None and 2**m > MAX_COMBINATIONS:
            limit = 3
            notes.append("paket dibatasi paling banyak 3 program per keluarga karena jumlah program besar")
        assigned, status, bound = _solve_grouped(capacity, useful, programs, limit, time_limit)
    else:
        raise ValueError("method must be 'auto', 'exact' or 'grouped'")
    values = np.array([p.monthly_value for p in programs])
    costs = np.array([p.cost for p in programs])
    transfer = assigned @ values
    total_cost = float((assigned @ costs).sum())
    realised = float(np.minimum(capacity, transfer).sum())
    spent = {p.code: float(assigned[:, j].sum() * p.cost) for j, p in enumerate(programs)}
    return Allocation(
        programs=programs,
        assigned=assigned,
        method=method,
        status=status,
        objective=realised,
        bound=bound,
        max_programs_per_family=limit,
        outcome=outcome(families, transfer, cost=total_cost),
        spent=spent,
        notes=tuple(notes),
    )


def _status(result: Any) -> str:
    return {0: "optimal", 1: "time_limit", 2: "infeasible", 3: "unbounded", 4: "error"}.get(result.status, "error")


def _solve_exact(
    capacity: np.ndarray, useful: np.ndarray, programs: tuple[Program, ...], limit: int | None, time_limit: float
) -> tuple[np.ndarray, str, float | None]:
    """Binary x (family, program) for each useful pair plus a continuous r per family: max Σ r, r ≤ Σ value·x,
    0 ≤ r ≤ gap, Σ cost·x ≤ budget per program, Σ x ≤ limit per family."""
    n, m = useful.shape
    rows, cols = np.nonzero(useful)
    families = np.unique(rows)
    k = len(rows)
    if k == 0:
        return np.zeros((n, m), dtype=bool), "optimal", 0.0
    f = len(families)
    local = np.searchsorted(families, rows)
    values = np.array([p.monthly_value for p in programs])
    costs = np.array([p.cost for p in programs])
    # Variables: x_0..x_{k-1}, then r_0..r_{f-1}. Ties between equally good plans go to the larger gaps.
    scale = capacity[families].max()
    c = np.concatenate([-1e-7 * capacity[rows] / scale * values[cols] / values.max(), -np.ones(f)])
    integrality = np.concatenate([np.ones(k), np.zeros(f)])
    from scipy import sparse  # scipy takes seconds to import: only when an allocation is really solved
    from scipy.optimize import Bounds, LinearConstraint, milp

    bounds = Bounds(np.zeros(k + f), np.concatenate([np.ones(k), capacity[families]]))
    # r_i - Σ_p value_p x_ip <= 0
    link = sparse.hstack(
        [sparse.csr_matrix((-values[cols], (local, np.arange(k))), shape=(f, k)), sparse.identity(f, format="csr")]
    )
    constraints = [LinearConstraint(link, -np.inf, 0.0)]
    budget = sparse.csr_matrix((costs[cols], (cols, np.arange(k))), shape=(m, k + f))
    constraints.append(LinearConstraint(budget, -np.inf, np.array([p.budget for p in programs])))
    if limit is not None:
        per_family = sparse.csr_matrix((np.ones(k), (local, np.arange(k))), shape=(f, k + f))
        constraints.append(LinearConstraint(per_family, -np.inf, float(limit)))
    result = milp(
        c,
        integrality=integrality,
        bounds=bounds,
        constraints=constraints,
        options={"time_limit": time_limit, "mip_rel_gap": 1e-6, "disp": False},
    )
    assigned = np.zeros((n, m), dtype=bool)
    if result.x is not None:
        chosen = result.x[:k] > 0.5
        assigned[rows[chosen], cols[chosen]] = True
    bound = getattr(result, "mip_dual_bound", None)
    return assigned, _status(result), (-float(bound) if bound is not None else None)


def _solve_grouped(
    capacity: np.ndarray, useful: np.ndarray, programs: tuple[Program, ...], limit: int | None, time_limit: float
) -> tuple[np.ndarray, str, float | None]:
    """Integer counts y (group, package): how many families of a group receive each package of programs.

    A group is an eligibility pattern and a band of the gap. Bands are cut at every package value (so that for each
    package, a band lies wholly below or wholly above it: min(gap, value) is then exact for packages worth less
    than the gap) and further at gap quantiles. The counts are exact integers, so budgets hold exactly; families
    inside a group are then given packages largest to the largest gap.
    """
    n, m = useful.shape
    values = np.array([p.monthly_value for p in programs])
    costs = np.array([p.cost for p in programs])
    bits = (useful.astype(np.int64) << np.arange(m)).sum(axis=1)
    candidates = np.flatnonzero(bits > 0)
    assigned = np.zeros((n, m), dtype=bool)
    if len(candidates) == 0:
        return assigned, "optimal", 0.0
    group_rows: list[np.ndarray] = []
    group_packages: list[list[tuple[int, ...]]] = []
    for pattern in np.unique(bits[candidates]):
        members = candidates[bits[candidates] == pattern]
        allowed = [j for j in range(m) if pattern >> j & 1]
        size_limit = len(allowed) if limit is None else min(limit, len(allowed))
        packages = [combo for size in range(1, size_limit + 1) for combo in combinations(allowed, size)]
        totals = np.unique([values[list(combo)].sum() for combo in packages])
        gap = capacity[members]
        quantiles = np.quantile(gap, np.linspace(0, 1, CAPACITY_BANDS + 1)[1:-1]) if len(members) > 1 else []
        edges = np.unique(np.concatenate([totals, quantiles]))
        band = np.searchsorted(edges, gap, side="left")
        for b in np.unique(band):
            group_rows.append(members[band == b])
            group_packages.append(packages)
    # Variables: one count per (group, package).
    var_group: list[int] = []
    var_package: list[tuple[int, ...]] = []
    gain: list[float] = []
    for g, (rows, packages) in enumerate(zip(group_rows, group_packages, strict=True)):
        mean_gap = float(capacity[rows].mean())
        for combo in packages:
            var_group.append(g)
            var_package.append(combo)
            gain.append(min(mean_gap, float(values[list(combo)].sum())))
    k = len(var_group)
    group_index = np.array(var_group)
    sizes = np.array([len(rows) for rows in group_rows], dtype=np.float64)
    spread = np.array(gain)
    tiebreak = 1e-7 * np.array([capacity[group_rows[g]].mean() for g in var_group]) / capacity.max()
    c = -(spread + tiebreak * spread.max())
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    per_group = sparse.csr_matrix((np.ones(k), (group_index, np.arange(k))), shape=(len(group_rows), k))
    program_rows, program_cols, program_costs = [], [], []
    for v, combo in enumerate(var_package):
        for j in combo:
            program_rows.append(j)
            program_cols.append(v)
            program_costs.append(costs[j])
    budget = sparse.csr_matrix((program_costs, (program_rows, program_cols)), shape=(m, k))
    result = milp(
        c,
        integrality=np.ones(k),
        bounds=Bounds(np.zeros(k), sizes[group_index]),
        constraints=[
            LinearConstraint(per_group, -np.inf, sizes),
            LinearConstraint(budget, -np.inf, np.array([p.budget for p in programs])),
        ],
        options={"time_limit": time_limit, "mip_rel_gap": 1e-5, "disp": False},
    )
    if result.x is None:
        return assigned, _status(result), None
    counts = np.round(result.x).astype(np.int64)
    for g, rows in enumerate(group_rows):
        chosen = [(var_package[v], int(counts[v])) for v in np.flatnonzero((group_index == g) & (counts > 0))]
        if not chosen:
            continue
        chosen.sort(key=lambda item: -values[list(item[0])].sum())
        ordered = rows[np.argsort(-capacity[rows], kind="stable")]
        start = 0
        for combo, count in chosen:
            take = ordered[start : start + count]
            assigned[np.ix_(take, np.array(combo, dtype=np.int64))] = True
            start += count
    bound = getattr(result, "mip_dual_bound", None)
    return assigned, _status(result), (-float(bound) if bound is not None else None)


def allocation_table(families: Families, allocation: Allocation) -> pa.Table:
    """One row per family that receives something: id (or row), the programs, the monthly value, the gap before."""
    rows = np.flatnonzero(allocation.assigned.any(axis=1))
    codes = [p.code for p in allocation.programs]
    values = np.array([p.monthly_value for p in allocation.programs])
    ids = families.ids[rows] if families.ids is not None else rows
    return pa.table(
        {
            "family": pa.array(ids),
            "programs": [
                ", ".join(code for code, on in zip(codes, allocation.assigned[r], strict=True) if on) for r in rows
            ],
            "value": allocation.assigned[rows] @ values,
            "gap": families.capacity[rows],
        }
    )
