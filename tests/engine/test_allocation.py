"""Budget scenarios: priority lists under two rules, and the optimiser checked against brute force."""

from __future__ import annotations

from itertools import product

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tepat.engine.allocation import Families, Program, allocate, allocation_table, compare, priority_list

LINE = 800_000.0
# Six families: welfare per capita, members, official desil.
FAMILIES = Families(
    welfare=np.array([300_000.0, 500_000.0, 700_000.0, 780_000.0, 1_200_000.0, np.nan]),
    size=np.array([5.0, 4.0, 3.0, 2.0, 4.0, 3.0]),
    line=LINE,
    desil=np.array([1, 1, 2, 4, 8, 3]),
    reached=np.array([False, False, False, True, False, False]),
    area=np.array(["64.74.01.1001", "64.74.01.1001", "64.74.03.1002", "64.74.03.1002", "64.74.03.1002", None]),
    ids=np.array(["K1", "K2", "K3", "K4", "K5", "K6"]),
)
PKH = Program("PKH", cost=3_000_000, budget=7_000_000, value=250_000)


def test_priority_list_takes_the_poorest_eligible_until_the_budget_runs_out() -> None:
    eligible = np.array([True, True, True, True, True, False])
    result = priority_list(FAMILIES, eligible, PKH, priority=FAMILIES.welfare)
    assert result.order.tolist() == [0, 1]  # two fit in 7,000,000
    assert result.eligible == 5 and result.waiting == 3 and result.budget_left == 1_000_000
    o = result.outcome
    assert (o.families, o.cost, o.extreme_poor_reached, o.extreme_poor_total) == (2, 6_000_000, 2, 2)
    assert o.desil1_share == 1.0
    # needy: K1-K4 by welfare, K6 by desil 3 (welfare unknown); K4 is already reached by a running program
    assert o.needy_total == 5 and o.reached_by_nothing == 2
    assert o.gap_closed == pytest.approx(500_000)  # 250,000 to each of two families far below the line


def test_rule_a_against_rule_b() -> None:
    by_desil = FAMILIES.desil <= 1
    everyone_poor = np.array([False, False, True, True, False, True])
    result = compare(FAMILIES, by_desil, everyone_poor, PKH, priority=FAMILIES.welfare)
    assert (result.both, result.only_a, result.only_b) == (0, 2, 2)
    assert result.a.outcome.extreme_poor_share == 1.0 and result.b.outcome.extreme_poor_share == 0.0
    assert result.a.outcome.gap_closed > result.b.outcome.gap_closed
    assert result.by_area is not None
    rows = {row["area"]: row for row in result.by_area.to_pylist()}
    assert rows["64.74.01.1001"]["covered_a"] == 2 and rows["64.74.03.1002"]["covered_b"] == 2


def brute_force(families: Families, programs: list[Program], eligible: np.ndarray, limit: int | None) -> float:
    """Every assignment of every subset of programs to every family: the true optimum of a tiny case."""
    n, m = eligible.shape
    capacity = families.capacity
    values = np.array([p.monthly_value for p in programs])
    costs = np.array([p.cost for p in programs])
    budgets = np.array([p.budget for p in programs])
    options = []
    for i in range(n):
        choices = [c for c in product([0, 1], repeat=m) if all(eligible[i, j] or not c[j] for j in range(m))]
        options.append([c for c in choices if limit is None or sum(c) <= limit])
    best = 0.0
    for plan in product(*options):
        x = np.array(plan)
        if (x.T @ np.ones(n) * costs > budgets + 1e-9).any():
            continue
        best = max(best, float(np.minimum(capacity, x @ values).sum()))
    return best


@pytest.mark.parametrize("limit", [None, 1])
@pytest.mark.parametrize("method", ["exact", "grouped"])
def test_optimiser_matches_brute_force_on_a_tiny_case(method: str, limit: int | None) -> None:
    programs = [
        Program("PKH", cost=3_000_000, budget=6_000_000, value=600_000),
        Program("RTLH", cost=10_000_000, budget=10_000_000, value=900_000),
    ]
    eligible = np.array([[1, 1], [1, 0], [1, 1], [1, 1], [1, 1], [0, 1]], dtype=bool)
    eligibility = {"PKH": eligible[:, 0], "RTLH": eligible[:, 1]}
    result = allocate(FAMILIES, programs, eligibility, method=method, max_programs_per_family=limit)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(brute_force(FAMILIES, programs, eligible, limit))
    assert not (result.assigned & ~eligible).any()
    assert all(result.spent[p.code] <= p.budget for p in programs)
    if limit == 1:
        assert result.assigned.sum(axis=1).max() <= 1
    table = allocation_table(FAMILIES, result)
    assert set(table.column("family").to_pylist()) <= {"K1", "K2", "K3", "K4"}  # never K5 (rich) or K6 (unknown)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    n=st.integers(min_value=1, max_value=5),
    limit=st.sampled_from([None, 1]),
)
def test_optimiser_equals_brute_force_on_random_tiny_cases(seed: int, n: int, limit: int | None) -> None:
    rng = np.random.default_rng(seed)
    families = Families(welfare=rng.uniform(100_000, 1_000_000, n), size=rng.integers(1, 6, n).astype(float), line=LINE)
    programs = [
        Program(
            "A", cost=float(rng.integers(1, 4)), budget=float(rng.integers(0, 8)), value=float(rng.integers(1, 9) * 1e5)
        ),
        Program(
            "B", cost=float(rng.integers(1, 4)), budget=float(rng.integers(0, 8)), value=float(rng.integers(1, 9) * 1e5)
        ),
    ]
    eligible = rng.random((n, 2)) < 0.7
    result = allocate(families, programs, {"A": eligible[:, 0], "B": eligible[:, 1]}, max_programs_per_family=limit)
    assert result.method == "exact"
    assert result.objective == pytest.approx(brute_force(families, programs, eligible, limit), rel=1e-6, abs=1.0)


def test_grouped_solver_is_close_to_exact_on_a_village_sized_case() -> None:
    rng = np.random.default_rng(7)
    n = 400
    families = Families(
        welfare=rng.lognormal(np.log(900_000), 0.5, n),
        size=rng.integers(1, 7, n).astype(float),
        line=LINE,
        desil=rng.integers(1, 11, n),
    )
    programs = [
        Program("PKH", cost=3_000_000, budget=150_000_000, value=250_000),
        Program("BPNT", cost=2_400_000, budget=200_000_000, value=200_000),
        Program("RTLH", cost=20_000_000, budget=300_000_000, value=900_000),
    ]
    eligibility = {"PKH": families.desil <= 4, "BPNT": families.desil <= 5, "RTLH": rng.random(n) < 0.3}
    exact = allocate(families, programs, eligibility, method="exact")
    grouped = allocate(families, programs, eligibility, method="grouped")
    assert exact.status == grouped.status == "optimal"
    assert grouped.objective <= exact.objective + 1e-6
    assert grouped.objective >= 0.99 * exact.objective
    for allocation in (exact, grouped):
        assert all(allocation.spent[p.code] <= p.budget + 1e-6 for p in programs)


def test_a_budget_larger_than_the_need_stays_partly_unspent() -> None:
    big = Program("BLT", cost=1_000_000, budget=100_000_000, value=1_000_000)
    result = allocate(FAMILIES, [big], {"BLT": np.ones(6, dtype=bool)})
    assert result.assigned[:, 0].tolist() == [True, True, True, True, False, False]
    assert result.spent["BLT"] == 4_000_000
    assert result.objective == pytest.approx(np.minimum(FAMILIES.capacity, 1_000_000).sum())  # one benefit each


def test_bad_inputs() -> None:
    with pytest.raises(ValueError):
        Program("X", cost=0, budget=1)
    with pytest.raises(ValueError):
        allocate(FAMILIES, [PKH], {})
    with pytest.raises(ValueError):
        allocate(FAMILIES, [PKH, PKH], {"PKH": np.ones(6, bool)})
