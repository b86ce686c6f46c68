"""Coverage, leakage, exclusion and overlaps over every funder's lists, counted per village and rolled up."""

from __future__ import annotations

import numpy as np
import pytest

from tepat.engine.coverage import Families, Ledger, Programs, analyse, ratio

T, F = True, False
VILLAGES = ["64.74.03.1002", "64.74.01.1001"]
# Six families in two villages: extreme poor (d1), poor (d3), a flagged car owner (d6) in the first; an extreme-poor
# family nobody helps, one without desil and a well-off one (d9) in the second.
FAMILIES = Families(
    village=np.array([0, 0, 0, 1, 1, 1]),
    desil=np.array([1, 3, 6, 1, 0, 9]),
    flagged=np.array([F, F, T, F, F, F]),
    villages=VILLAGES,
)
PROGRAMS = Programs(
    codes=["PKH", "CSR", "RTLH"],
    eligible=np.array(
        [
            [T, T, F, T, F, F],  # desil <= 4
            [T, T, T, T, F, T],  # the company helps anyone with a desil
            [T, F, F, F, F, F],  # bad housing
        ]
    ),
    strategies=[("inpres.beban",), ("inpres.beban", "pmdn.umk"), ("inpres.kantong",)],
)
NaN = float("nan")
#                program family village amount     deceased
LEDGER_ROWS = [
    (0, 0, -1, 750_000, F),  # PKH to the extreme-poor family, two periods
    (0, 0, -1, 750_000, F),
    (0, 2, -1, 750_000, F),  # PKH to the flagged desil-6 family: leakage twice over
    (0, -1, 1, 600_000, F),  # a NIK the registry does not know, listed in the second village
    (1, 0, -1, 350_000, F),
    (1, 5, -1, 350_000, T),  # paid to a person recorded as deceased
    (1, -1, -1, NaN, F),  # unknown recipient, no village, no amount
    (2, 1, -1, 20_000_000, F),  # RTLH to a family the rule does not admit
]
LEDGER = Ledger(*(np.array(column) for column in zip(*LEDGER_ROWS, strict=True)))


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    return analyse(FAMILIES, LEDGER, PROGRAMS, many=2)


@pytest.mark.parametrize(
    "program, measure, per_village",
    [
        ("PKH", "eligible", [2, 1, 0]),
        ("PKH", "reached", [1, 0, 0]),
        ("PKH", "recipients", [2, 0, 0]),
        ("PKH", "not_eligible", [1, 0, 0]),
        ("PKH", "flagged", [1, 0, 0]),
        ("PKH", "leakage", [1, 0, 0]),
        ("PKH", "excluded", [1, 1, 0]),
        ("PKH", "excluded_extreme", [0, 1, 0]),
        ("PKH", "rows", [3, 1, 0]),
        ("PKH", "unmatched", [0, 1, 0]),
        ("CSR", "eligible", [3, 2, 0]),
        ("CSR", "reached", [1, 1, 0]),
        ("CSR", "leakage", [0, 0, 0]),
        ("CSR", "excluded", [2, 1, 0]),
        ("CSR", "excluded_extreme", [0, 1, 0]),
        ("CSR", "unmatched", [0, 0, 1]),  # the last column is "no village"
        ("CSR", "deceased", [0, 1, 0]),
        ("RTLH", "not_eligible", [1, 0, 0]),
        ("RTLH", "excluded_extreme", [1, 0, 0]),
    ],
)
def test_program_measures_per_village(result, program: str, measure: str, per_village: list[int]) -> None:  # type: ignore[no-untyped-def]
    row = result.programs.index(program)
    assert result.by_program[measure][row].tolist() == per_village


def test_amounts_follow_the_family_else_the_list_and_poor_spending_is_split(result) -> None:  # type: ignore[no-untyped-def]
    assert result.amount[0].tolist() == [2_250_000, 600_000, 0]
    assert result.amount_poor[0].tolist() == [1_500_000, 0, 0]  # the desil-6 family's payment is not to the poor
    assert result.amount[1].tolist() == [350_000, 350_000, 0]  # no amount given counts as nothing, not NaN


def test_area_measures(result) -> None:  # type: ignore[no-untyped-def]
    expected = {
        "families": [3, 3, 0],
        "poor": [2, 1, 0],
        "extreme": [1, 1, 0],
        "no_desil": [0, 1, 0],
        "reached_any": [3, 1, 0],
        "poor_reached": [2, 0, 0],
        "poor_no_help": [0, 1, 0],
        "extreme_no_help": [0, 1, 0],
        "many": [1, 0, 0],
        "many_not_poor": [0, 0, 0],
    }
    assert {k: v.tolist() for k, v in result.by_area.items()} == expected


def test_strategies_count_a_family_once_across_their_programs(result) -> None:  # type: ignore[no-untyped-def]
    assert result.strategies == ["inpres.beban", "inpres.kantong", "pmdn.umk"]
    burden = result.strategies.index("inpres.beban")
    assert result.by_strategy["eligible"][burden].tolist() == [3, 2, 0]
    assert result.by_strategy["reached"][burden].tolist() == [2, 1, 0]  # family 0 is on PKH and CSR: once
    assert result.by_strategy["leakage"][burden].tolist() == [1, 0, 0]  # the flagged family, eligible for CSR
    assert result.by_strategy["rows"][burden].tolist() == [4, 2, 1]
    assert result.strategy_amount[burden].tolist() == [2_600_000, 950_000, 0]
    assert result.strategy_amount_poor[burden].tolist() == [1_850_000, 0, 0]


def test_overlap_matrix_and_distribution(result) -> None:  # type: ignore[no-untyped-def]
    assert result.overlap.tolist() == [[2, 1, 0], [1, 2, 0], [0, 0, 1]]
    # poor families (d1, d3, d1) on 2, 1, 0 programs; the others (d6, d0, d9) on 1, 0, 1
    assert result.distribution.tolist() == [[1, 1, 1, 0, 0], [1, 2, 0, 0, 0]]


def test_lists_put_the_extreme_poor_first_and_the_least_poor_first_among_many(result) -> None:  # type: ignore[no-untyped-def]
    assert result.excluded_families(0).tolist() == [3, 1]
    assert result.excluded_families(1).tolist() == [3, 1, 2]
    assert result.excluded_families(None).tolist() == [3]  # poor and on no list at all
    assert result.excluded_families(1, villages=np.array([0])).tolist() == [1, 2]
    assert result.many_program_families(minimum=1).tolist() == [0, 5, 2, 1]


def test_rollup_to_districts_sums_villages(result) -> None:  # type: ignore[no-untyped-def]
    codes, mapping = result.groups(8)
    assert codes == ["64.74.01", "64.74.03", ""]
    districts = result.rollup(result.by_program["eligible"], mapping, len(codes))
    assert districts[1].tolist() == [2, 3, 0]  # CSR
    assert result.rollup(result.by_area["families"], mapping, len(codes)).tolist() == [3, 3, 0]
    assert result.total(result.by_program["excluded"])[0] == 2


def test_one_area_of_the_region(result) -> None:  # type: ignore[no-untyped-def]
    assert result.columns_within("64.74.03").tolist() == [0]
    assert result.columns_within("64.74", region=True).tolist() == [0, 1, 2]
    assert result.families_in(np.array([1])).tolist() == [F, F, F, T, T, T]
    assert result.overlap_within(np.array([0])).tolist() == [[2, 1, 0], [1, 1, 0], [0, 0, 1]]
    assert result.overlap_within(np.array([1])).tolist() == [[0, 0, 0], [0, 1, 0], [0, 0, 0]]
    assert result.distribution_within(np.array([1])).tolist() == [[1, 0, 0, 0, 0], [1, 1, 0, 0, 0]]
    both = result.distribution_within(np.array([0, 1]))
    assert both.tolist() == result.distribution.tolist()


def test_empty_ledger_and_bad_shapes() -> None:
    empty = Ledger(np.array([], int), np.array([], int), np.array([], int), np.array([], float))
    result = analyse(FAMILIES, empty, PROGRAMS)
    assert result.by_area["poor_no_help"].tolist() == [2, 1, 0]
    assert result.overlap.sum() == 0
    with pytest.raises(ValueError):
        Programs(codes=["A"], eligible=np.zeros((2, 6), bool), strategies=[()])
    with pytest.raises(ValueError):
        analyse(FAMILIES, empty, Programs(codes=["A"], eligible=np.zeros((1, 5), bool), strategies=[()]))


def test_a_program_without_a_rule_takes_its_recipients_as_eligible() -> None:
    unknown = Programs(PROGRAMS.codes, PROGRAMS.eligible, PROGRAMS.strategies, has_rule=[True, True, False])
    result = analyse(FAMILIES, LEDGER, unknown)
    rtlh = result.programs.index("RTLH")
    assert result.by_program["eligible"][rtlh].tolist() == [1, 0, 0]  # its one recipient
    assert result.by_program["not_eligible"][rtlh].sum() == 0
    assert result.by_program["excluded"][rtlh].sum() == 0
    assert PROGRAMS.eligible[2].tolist() == [T, F, F, F, F, F]  # the caller's array is left alone


def test_ratio_never_divides_by_zero() -> None:
    assert ratio(1, 4) == 25.0
    assert ratio(0, 0) is None
