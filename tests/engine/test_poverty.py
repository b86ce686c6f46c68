"""FGT indices as BPS states them, and the gap a set of transfers closes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tepat.engine.poverty import fgt, fgt_by_area, gap_capacity, gap_reduction, welfare_from_desil

LINE = 800_000.0
# Four families (per-capita welfare, members): two poor, one exactly on the line, one above.
WELFARE = np.array([400_000.0, 600_000.0, 800_000.0, 1_600_000.0])
SIZE = np.array([4.0, 2.0, 3.0, 1.0])


def test_fgt_over_persons() -> None:
    result = fgt(WELFARE, LINE, size=SIZE)
    assert result.population == 10 and result.poor == 6
    assert result.p0 == pytest.approx(0.6)
    assert result.p1 == pytest.approx((4 * 0.5 + 2 * 0.25) / 10)
    assert result.p2 == pytest.approx((4 * 0.25 + 2 * 0.0625) / 10)
    assert result.gap == pytest.approx(4 * 400_000 + 2 * 200_000)


def test_survey_weights_and_lines_per_row_and_missing_welfare() -> None:
    weighted = fgt(WELFARE, LINE, size=SIZE, weights=np.array([1.0, 3.0, 1.0, 1.0]))
    assert weighted.p0 == pytest.approx((4 + 6) / 14)
    urban_rural = fgt(WELFARE, np.array([800_000.0, 500_000.0, 800_000.0, 800_000.0]), size=SIZE)
    assert urban_rural.p0 == pytest.approx(0.4)
    missing = fgt(np.array([400_000.0, np.nan]), LINE, size=np.array([1.0, 5.0]))
    assert missing.p0 == 1.0 and missing.unknown == 5
    with pytest.raises(ValueError):
        fgt(WELFARE, 0.0)


def test_transfers_close_the_gap_only_up_to_the_line() -> None:
    # 1,000,000 to the first family (250k each: still poor), 1,000,000 to the second (500k each: 300k above),
    # 1,000,000 to the richest (closes nothing).
    reduction = gap_reduction(WELFARE, SIZE, np.array([1_000_000.0, 1_000_000.0, 0.0, 1_000_000.0]), LINE)
    assert reduction.gap_closed == pytest.approx(1_000_000 + 400_000)
    assert reduction.lifted == 2
    assert reduction.transferred == 3_000_000
    assert reduction.efficiency == pytest.approx(1_400_000 / 3_000_000)
    assert reduction.after.p0 == pytest.approx(0.4)
    assert gap_capacity(WELFARE, SIZE, LINE).tolist() == [1_600_000, 400_000, 0, 0]


def test_fgt_by_area() -> None:
    table = fgt_by_area(WELFARE, LINE, ["a", "a", "b", None], size=SIZE)
    rows = {row["area"]: row for row in table.to_pylist()}
    assert rows["a"]["P0"] == 1.0 and rows["b"]["P0"] == 0.0 and rows[None]["poor"] == 0
    assert rows["a"]["gap"] == pytest.approx(2_000_000)


def test_welfare_from_desil_takes_band_midpoints() -> None:
    cuts = [400_000 + 100_000 * k for k in range(9)]
    assert welfare_from_desil(np.array([1, 2, 10, 0]), cuts).tolist()[:3] == [300_000, 450_000, 1_500_000]
    assert np.isnan(welfare_from_desil(np.array([0]), cuts)[0])
    with pytest.raises(ValueError):
        welfare_from_desil([1], [1, 2, 3])


@settings(max_examples=100, deadline=None)
@given(
    data=st.lists(
        st.tuples(
            st.floats(min_value=1e4, max_value=5e6),
            st.integers(min_value=1, max_value=9),
            st.floats(min_value=0, max_value=5e6),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_indices_are_ordered_and_transfers_never_raise_poverty(data: list[tuple[float, int, float]]) -> None:
    welfare, size, transfer = (np.array(column, dtype=float) for column in zip(*data, strict=True))
    before = fgt(welfare, LINE, size=size)
    assert 0 <= before.p2 <= before.p1 <= before.p0 <= 1
    reduction = gap_reduction(welfare, size, transfer, LINE)
    assert reduction.after.p0 <= before.p0 + 1e-12 and reduction.after.p1 <= before.p1 + 1e-12
    assert -1e-6 <= reduction.gap_closed <= min(reduction.transferred, before.gap) + 1e-6
    assert reduction.gap_closed == pytest.approx(
        np.minimum(gap_capacity(welfare, size, LINE), transfer).sum(), rel=1e-9, abs=1e-3
    )
