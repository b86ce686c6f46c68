"""Legend classes for choropleth maps: where to break a set of area values into a few colours.

A TKPK map has few areas (15 kelurahan in Kota Bontang, a few hundred villages in a large regency), many ties
(counts), villages with no data, and sometimes one value everywhere. The classes must stay honest in all of these:
never more classes than distinct values, never an empty class, no-data kept apart from zero, and the same values
always giving the same classes (no random starts), so a printed map and the screen agree.

Fisher–Jenks ("natural breaks") is the default because it keeps villages with similar values together, which is
what a reader of a poverty map looks for; quantiles (equal counts per class) and equal intervals are offered for
comparison with maps made elsewhere. Quantiles and equal intervals come from mapclassify; Fisher–Jenks is the same
exact optimisation as ``mapclassify.FisherJenks`` (tested equal to it), computed with numpy because mapclassify's
version without numba takes about half a second for 400 villages, too slow for a map request.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

MAX_CLASSES = 5  # a reader can tell about five shades of one hue apart (ColorBrewer's sequential schemes)


class Method(StrEnum):
    FISHER_JENKS = "fisher_jenks"
    QUANTILES = "quantiles"
    EQUAL_INTERVAL = "equal_interval"


@dataclass(frozen=True)
class LegendClass:
    """Values ``lower < v <= upper`` (the first class includes ``lower``); ``count`` areas fall in it.

    For whole-number data ``lower`` is already the first whole number in the class, so a legend reads "3–7, 8–12"
    instead of "2,5–7,5"; ``lower_inclusive`` says which reading applies.
    """

    lower: float
    upper: float
    count: int
    lower_inclusive: bool

    @property
    def single(self) -> bool:
        return self.lower == self.upper


@dataclass(frozen=True)
class Legend:
    method: Method
    classes: list[LegendClass]
    assignments: list[int | None]  # class index per input value, None for no data
    no_data: int
    whole_numbers: bool

    @property
    def bins(self) -> list[float]:
        """Upper bounds, as mapclassify gives them."""
        return [c.upper for c in self.classes]

    def class_of(self, value: float | None) -> int | None:
        """The class a (new) value falls in; values beyond the ends go to the first or last class."""
        if value is None or not math.isfinite(value) or not self.classes:
            return None
        for index, klass in enumerate(self.classes):
            if value <= klass.upper:
                return index
        return len(self.classes) - 1


def sensible_k(values: Sequence[float]) -> int:
    """Classes for n areas: at most five, at most the distinct values, and about three areas per class on small
    maps, so Kota Bontang's three districts get two classes, not three classes of one district each."""
    distinct = len(set(values))
    if distinct <= 1:
        return distinct
    return max(1, min(MAX_CLASSES, distinct, max(2, math.ceil(len(values) / 3))))


MATRIX_UP_TO = 1_500  # values; above this the n×n cost matrix (8·n² bytes) is built one column at a time


def fisher_jenks_bins(values: Sequence[float] | np.ndarray, k: int) -> list[float]:
    """Upper bounds of the k classes with the least total within-class squared deviation (Fisher 1958).

    Dynamic programming over the sorted values: best[c][j] is the least cost of splitting the first j+1 values
    into c+1 classes. The squared deviation of every run x[s..j] comes from prefix sums, so each class count is
    one n×n numpy step (a few milliseconds for a regency's villages).
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = len(x)
    k = min(k, len(np.unique(x)))
    if n == 0 or k <= 0:
        return []
    if k == 1:
        return [float(x[-1])]
    s1 = np.concatenate(([0.0], np.cumsum(x)))
    s2 = np.concatenate(([0.0], np.cumsum(x * x)))

    def run_cost(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Squared deviation of x[s..e] for each pair (s, e), s <= e; inf where s > e."""
        count = ends - starts + 1
        with np.errstate(invalid="ignore", divide="ignore"):
            total = s1[ends + 1] - s1[starts]
            cost = (s2[ends + 1] - s2[starts]) - total * total / count
        return np.asarray(np.where(count > 0, np.maximum(cost, 0.0), np.inf))

    best = np.full((k, n), np.inf)
    start = np.zeros((k, n), dtype=np.int64)
    ends = np.arange(n)
    best[0] = run_cost(np.zeros(n, dtype=np.int64), ends)
    matrix = run_cost(ends[:, None], ends[None, :]) if n <= MATRIX_UP_TO else None  # [s, j]
    for c in range(1, k):
        before = np.concatenate(([np.inf], best[c - 1][:-1]))  # best of the first c classes ending at s-1
        if matrix is not None:
            total = before[:, None] + matrix
            total[:c] = np.inf  # the first c classes need at least c values
            start[c] = np.argmin(total, axis=0)
            best[c] = total[start[c], ends]
        else:
            for j in range(c, n):
                starts = np.arange(c, j + 1)
                candidates = before[starts] + run_cost(starts, np.full(len(starts), j))
                pick = int(np.argmin(candidates))
                best[c, j], start[c, j] = candidates[pick], starts[pick]
    bins = []
    end = n - 1
    for c in range(k - 1, -1, -1):
        bins.append(float(x[end]))
        end = int(start[c, end]) - 1
    return sorted(bins)


def _bins(values: np.ndarray, method: Method, k: int) -> list[float]:
    import mapclassify

    if method is Method.FISHER_JENKS:
        return fisher_jenks_bins(values, k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "not enough unique values": handled below by dropping repeated bins
        classifier = mapclassify.Quantiles if method is Method.QUANTILES else mapclassify.EqualInterval
        bins = [float(b) for b in classifier(values, k=k).bins]
    return bins


def classify(values: Sequence[float | None], *, method: Method = Method.FISHER_JENKS, k: int | None = None) -> Legend:
    """Classes for the finite values; None and NaN are no data and get no class.

    Whole-number data (counts) get whole-number bounds. All-equal data give one class holding that value.
    Empty classes (equal intervals over skewed data) are dropped, so every colour in the legend is on the map.
    """
    known = [float(v) for v in values if v is not None and math.isfinite(v)]
    no_data = len(values) - len(known)
    whole = all(float(v).is_integer() for v in known)
    if not known:
        return Legend(method, [], [None] * len(values), no_data, whole)
    data = np.asarray(known)
    k = sensible_k(known) if k is None else max(1, min(k, len(np.unique(data))))
    if k <= 1:
        uppers = [float(data.max())]
    else:
        uppers = _bins(data, method, k)
        if whole:
            uppers = [float(math.floor(b)) for b in uppers]
        uppers[-1] = float(data.max())  # quantile/interval bounds can fall a hair below the maximum
        uppers = sorted(set(uppers))
    counts = np.bincount(np.searchsorted(uppers, data, side="left"), minlength=len(uppers))
    kept = [u for u, c in zip(uppers, counts, strict=True) if c > 0]
    index = np.searchsorted(kept, data, side="left")
    counts = np.bincount(index, minlength=len(kept))
    classes = []
    lower = float(data.min())
    for i, upper in enumerate(kept):
        if i == 0:
            classes.append(LegendClass(lower, upper, int(counts[i]), True))
        elif whole:
            classes.append(LegendClass(kept[i - 1] + 1, upper, int(counts[i]), True))
        else:
            classes.append(LegendClass(kept[i - 1], upper, int(counts[i]), False))
    assignments: list[int | None] = []
    position = iter(index.tolist())
    for v in values:
        assignments.append(next(position) if v is not None and math.isfinite(v) else None)
    return Legend(method, classes, assignments, no_data, whole)
