"""Legend classes stay honest on small, tied, constant and incomplete data."""

from __future__ import annotations

import math
import warnings

import mapclassify
import numpy as np
import pytest

from tepat.engine import classify as classify_module
from tepat.engine.classify import Method, classify, fisher_jenks_bins, sensible_k


def within_class_deviation(values: np.ndarray, bins: list[float]) -> float:
    index = np.searchsorted(bins, values)
    return float(sum(((values[index == i] - values[index == i].mean()) ** 2).sum() for i in set(index.tolist())))


@pytest.mark.parametrize("seed", range(16))
def test_fisher_jenks_is_as_good_as_mapclassify(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 80))
    values = rng.integers(0, 25, size=n).astype(float) if seed % 2 else rng.gamma(2.0, 10.0, size=n)
    for k in (2, 3, 5):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "numba not installed"
            expected = list(mapclassify.FisherJenks(values, k=k).bins)
        ours = fisher_jenks_bins(values, k)
        monkeypatch.setattr(classify_module, "MATRIX_UP_TO", 0)  # the column-at-a-time path for large n
        assert fisher_jenks_bins(values, k) == ours
        monkeypatch.undo()
        if seed % 2 == 0:  # no ties: the same breaks
            assert ours == pytest.approx(expected)
        else:  # counts can tie: an equally good split may be chosen
            assert within_class_deviation(values, ours) == pytest.approx(within_class_deviation(values, expected))


@pytest.mark.parametrize("values, k", [
    (list(range(15)), 5),            # Kota Bontang's 15 kelurahan
    ([3.0, 9.0, 30.0], 2),           # its three districts: two classes, not one district each
    ([1, 1, 1, 2], 2),               # never more classes than distinct values
    ([7, 7, 7], 1),
    ([], 0),
])  # fmt: skip
def test_the_number_of_classes_suits_small_maps(values: list[float], k: int) -> None:
    assert sensible_k(values) == k


def test_counts_get_whole_number_classes_that_cover_every_value() -> None:
    values = [1, 2, 2, 3, 10, 11, 12, 30, 31, 50]
    legend = classify(values)
    assert legend.whole_numbers
    assert [(c.lower, c.upper, c.count) for c in legend.classes] == [(1, 3, 4), (4, 12, 3), (13, 31, 2), (32, 50, 1)]
    assert legend.assignments == [0, 0, 0, 0, 1, 1, 1, 2, 2, 3]
    assert legend.bins == [3, 12, 31, 50]


def test_no_data_is_kept_apart_from_zero() -> None:
    legend = classify([0.0, None, math.nan, 4.0, 8.0])
    assert legend.no_data == 2
    assert legend.assignments[1] is None and legend.assignments[2] is None
    assert legend.assignments[0] == 0 and sum(c.count for c in legend.classes) == 3


def test_all_equal_values_make_one_class_and_nothing_makes_none() -> None:
    legend = classify([12.5, 12.5, 12.5])
    assert [(c.lower, c.upper, c.count) for c in legend.classes] == [(12.5, 12.5, 3)]
    assert legend.classes[0].single and legend.assignments == [0, 0, 0]
    empty = classify([None, None])
    assert empty.classes == [] and empty.assignments == [None, None] and empty.no_data == 2


def test_rates_keep_their_fractional_bounds_and_quantiles_share_areas_out() -> None:
    rates = [2.5, 7.25, 12.0, 18.5, 25.0, 31.75, 40.0, 44.5, 61.0]
    legend = classify(rates, method=Method.QUANTILES, k=3)
    assert not legend.whole_numbers
    assert [c.count for c in legend.classes] == [3, 3, 3]
    assert legend.classes[1].lower == legend.classes[0].upper and not legend.classes[1].lower_inclusive
    assert legend.classes[-1].upper == 61.0


def test_equal_intervals_drop_empty_classes() -> None:
    legend = classify([1, 2, 3, 100], method=Method.EQUAL_INTERVAL, k=5)
    assert all(c.count > 0 for c in legend.classes)
    assert legend.class_of(2) == 0 and legend.class_of(100) == len(legend.classes) - 1
    assert legend.class_of(None) is None and legend.class_of(1e9) == len(legend.classes) - 1
