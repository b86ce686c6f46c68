"""Indicator trends against targets: are we on track for the RPJMD target?

No Django here: the monitoring pages, reports and batch jobs all call these functions with plain numbers.

**Trend.** By default the trend is fitted to the last ``window`` (7) calendar years of data, on the logarithm
of the values (a constant *percentage* change per year), with the Theil–Sen estimator (the median of the slopes
between every pair of years). Why each choice:

- *Seven years* covers a five-year RPJMD period plus a year on each side, so one mid-period shock does not
  dominate, while dropping the 2004–2007 figures that BPS computed with older methods and boundaries.
- *Theil–Sen* ignores up to ~29 % of the points being off the line, so the COVID rise of 2020–2021 (Kalimantan
  Timur 5.94 % → 6.54 %) or a one-year source jump (Belu 2014) does not tilt the trend the way least squares
  does. ``exclude`` can still drop those years by hand, and ``estimator="ols"`` gives plain least squares.
- *Log-linear* because poverty rates and counts fall proportionally, not by fixed points: a linear trend of a
  falling rate crosses zero and overstates progress where poverty is already low, a log-linear one cannot.
  Linear is used instead when the series or the target contains a zero (a log-linear curve never reaches
  "extreme poverty 0 %", the Kayong Utara target), and can be chosen explicitly. Linear projections of
  non-negative indicators stop at zero (``floor``).

**Projection** continues the latest observation at the trend's rate to the target year ("if the recent pace
holds"). The robust trend keeps one odd year out of the *rate*; the
latest observation is what the region is starting from, so the projection starts there.

**Status** is judged against the data, never against today's date (BPS publishes a year late):

- ``achieved``: the target year is covered by the data and the value then (the first observation at or after the
  target year) meets the target; or the target year is still ahead and the latest value already meets it.
- ``off_track``: the target year is covered by the data and the value then missed the target; or the trend
  moves away from the target or covers less than half the remaining gap by the target year.
- ``at_risk``: the projection misses the target but covers at least half of the remaining gap.
- ``on_track``: the projection at the target year meets the target (with its own comparison: < is strict).
- ``unknown``: no data, or a single point before the target year (no trend can be drawn from one point).

Comparing projected progress with required progress is the idea of the Anticipated Progress Index that UN ESCAP
and the other UN regional commissions use for SDG targets. The ½ threshold between "at risk" and "off track"
(``AT_RISK_RATIO``) is this module's choice, not an official BPS or Bappenas rule.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from statistics import median

DEFAULT_WINDOW = 7
COVID_YEARS = frozenset({2020, 2021})
AT_RISK_RATIO = 0.5


class Comparison(StrEnum):
    LT = "<"
    LE = "<="
    GE = ">="
    GT = ">"

    @property
    def wants_lower(self) -> bool:
        return self in (Comparison.LT, Comparison.LE)

    def met(self, value: float, target: float) -> bool:
        return {
            Comparison.LT: value < target,
            Comparison.LE: value <= target,
            Comparison.GE: value >= target,
            Comparison.GT: value > target,
        }[self]


class Method(StrEnum):
    LOG_LINEAR = "log"
    LINEAR = "linear"


class Estimator(StrEnum):
    THEIL_SEN = "theil_sen"
    OLS = "ols"


class Status(StrEnum):
    ACHIEVED = "achieved"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    UNKNOWN = "unknown"


class Reason(StrEnum):
    """Why the status is what it is; stable codes the pages turn into sentences."""

    NO_DATA = "no_data"
    SINGLE_POINT = "single_point"
    MET_AT_TARGET_YEAR = "met_at_target_year"
    MISSED_AT_TARGET_YEAR = "missed_at_target_year"
    ALREADY_MET = "already_met"
    PROJECTED_MET = "projected_met"
    PROJECTED_CLOSE = "projected_close"
    PROJECTED_SHORT = "projected_short"
    WRONG_DIRECTION = "wrong_direction"


class MethodReason(StrEnum):
    """Why the projection used the method it used."""

    CHOSEN = "chosen"  # the caller asked for it
    DEFAULT_PROPORTIONAL = "default_proportional"  # log-linear: rates and counts change proportionally
    ZERO_VALUE = "zero_value"  # a zero or negative value in the window or the target: log-linear impossible


@dataclass(frozen=True)
class Point:
    year: int
    value: float


@dataclass(frozen=True)
class Target:
    year: int
    value: float
    comparison: Comparison

    def met_by(self, value: float) -> bool:
        return self.comparison.met(value, self.value)


@dataclass(frozen=True)
class Trend:
    """A straight line through (year, value) or (year, ln value), fitted to ``points``."""

    method: Method
    method_reason: MethodReason
    estimator: Estimator
    slope: float  # per year: points (linear) or ln-units (log-linear)
    intercept: float
    points: tuple[Point, ...]
    floor: float | None = 0.0

    @property
    def first_year(self) -> int:
        return self.points[0].year

    @property
    def last_year(self) -> int:
        return self.points[-1].year

    @property
    def annual_rate(self) -> float:
        """Relative change per year (−0.027 = −2.7 % a year); for a linear fit, relative to the fitted last year."""
        if self.method == Method.LOG_LINEAR:
            return math.expm1(self.slope)
        base = self.value_at(self.last_year)
        return self.slope / base if base else 0.0

    @property
    def annual_change(self) -> float:
        """Change per year in the indicator's unit (points for a rate), at the last fitted year."""
        if self.method == Method.LINEAR:
            return self.slope
        return self.value_at(self.last_year) * math.expm1(self.slope)

    def value_at(self, year: int) -> float:
        y = self.intercept + self.slope * year
        value = math.exp(y) if self.method == Method.LOG_LINEAR else y
        if self.floor is not None:
            value = max(value, self.floor)
        return value

    def line(self) -> list[Point]:
        """The fitted line over the fitted years (one point per year), for charts."""
        return [Point(year, self.value_at(year)) for year in range(self.first_year, self.last_year + 1)]

    def project(self, start: Point, year: int) -> float:
        """``start`` continued at the trend's pace to ``year``."""
        if self.method == Method.LOG_LINEAR:
            value = start.value * math.exp(self.slope * (year - start.year))
        else:
            value = start.value + self.slope * (year - start.year)
        if self.floor is not None:
            value = max(value, self.floor)
        return value

    def projection_line(self, start: Point, year: int) -> list[Point]:
        """The projection from ``start`` to ``year``, one point per year, for charts."""
        return [Point(y, self.project(start, y)) for y in range(start.year, year + 1)]


@dataclass(frozen=True)
class Change:
    """Change between the first and the last observation of a span: the plain "average annual change"."""

    first: Point
    last: Point

    @property
    def years(self) -> int:
        return self.last.year - self.first.year

    @property
    def per_year(self) -> float:
        return (self.last.value - self.first.value) / self.years

    @property
    def rate(self) -> float | None:
        """Compound relative change per year; None when a value is zero or negative."""
        if self.first.value <= 0 or self.last.value <= 0:
            return None
        return (self.last.value / self.first.value) ** (1 / self.years) - 1


@dataclass(frozen=True)
class Required:
    """What the remaining years must deliver to meet the target exactly at its value."""

    years: int
    per_year: float  # in the indicator's unit
    rate: float | None  # relative per year; None when the latest value or the target is zero


@dataclass(frozen=True)
class Assessment:
    status: Status
    reason: Reason
    target: Target
    latest: Point | None
    judged: Point | None  # the observation the status was judged on when the target year is covered by data
    trend: Trend | None
    projection: float | None  # the latest value continued at the trend's pace to the target year
    required: Required | None
    progress_ratio: float | None  # projected progress ÷ required progress, from the latest value to the target


def clean(points: Iterable[Point]) -> list[Point]:
    """Sorted by year, one point per year (the last given wins), non-finite values dropped."""
    by_year: dict[int, Point] = {}
    for p in points:
        if math.isfinite(p.value):
            by_year[p.year] = p
    return [by_year[y] for y in sorted(by_year)]


def fit_window(
    points: Iterable[Point],
    *,
    window: int | None = DEFAULT_WINDOW,
    exclude: Iterable[int] = (),
    until: int | None = None,
) -> list[Point]:
    """The points a trend is fitted to: the last ``window`` calendar years of data up to ``until`` (default: the
    latest year), minus ``exclude``. Gaps are fine (the fit uses the real years). When fewer than two points fall
    in the window, the last two points before it are used instead, so a sparse series still gets a trend.
    ``window=None`` uses every year."""
    skip = set(exclude)
    series = [p for p in clean(points) if p.year not in skip and (until is None or p.year <= until)]
    if not series or window is None:
        return series
    start = series[-1].year - window + 1
    inside = [p for p in series if p.year >= start]
    return inside if len(inside) >= 2 else series[-2:]


def average_change(points: Iterable[Point], *, years: int | None = None) -> Change | None:
    """Average annual change over the last ``years`` calendar years (all when None); None with fewer than 2 points."""
    series = clean(points)
    if years is not None and series:
        series = [p for p in series if p.year > series[-1].year - years]
    if len(series) < 2:
        return None
    return Change(first=series[0], last=series[-1])


def _slope_intercept(xs: list[float], ys: list[float], estimator: Estimator) -> tuple[float, float]:
    if estimator == Estimator.OLS:
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        sxx = sum((x - mx) ** 2 for x in xs)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
        return slope, my - slope * mx
    slopes = [(ys[j] - ys[i]) / (xs[j] - xs[i]) for i in range(len(xs)) for j in range(i + 1, len(xs))]
    slope = median(slopes)
    return slope, median(y - slope * x for x, y in zip(xs, ys, strict=True))


def fit_trend(
    points: Iterable[Point],
    *,
    method: Method | None = None,
    estimator: Estimator = Estimator.THEIL_SEN,
    floor: float | None = 0.0,
    target: Target | None = None,
) -> Trend | None:
    """A trend through the given points (use :func:`fit_window` first); None with fewer than two years.

    ``method=None`` picks log-linear unless a value (or the target) is zero or negative, then linear.
    """
    series = clean(points)
    if len(series) < 2:
        return None
    has_zero = any(p.value <= 0 for p in series) or (target is not None and target.value <= 0)
    if method is None:
        method, reason = (
            (Method.LINEAR, MethodReason.ZERO_VALUE)
            if has_zero
            else (Method.LOG_LINEAR, MethodReason.DEFAULT_PROPORTIONAL)
        )
    elif method == Method.LOG_LINEAR and any(p.value <= 0 for p in series):
        method, reason = Method.LINEAR, MethodReason.ZERO_VALUE
    else:
        reason = MethodReason.CHOSEN
    xs = [float(p.year) for p in series]
    ys = [math.log(p.value) if method == Method.LOG_LINEAR else p.value for p in series]
    slope, intercept = _slope_intercept(xs, ys, estimator)
    return Trend(
        method=method,
        method_reason=reason,
        estimator=estimator,
        slope=slope,
        intercept=intercept,
        points=tuple(series),
        floor=floor,
    )


def required_change(latest: Point, target: Target) -> Required | None:
    """Change per year needed from the latest value to the target value by the target year; None if no year left."""
    years = target.year - latest.year
    if years <= 0:
        return None
    rate = None
    if latest.value > 0 and target.value > 0:
        rate = (target.value / latest.value) ** (1 / years) - 1
    return Required(years=years, per_year=(target.value - latest.value) / years, rate=rate)


def assess(
    points: Iterable[Point],
    target: Target,
    *,
    window: int | None = DEFAULT_WINDOW,
    exclude: Iterable[int] = (),
    method: Method | None = None,
    estimator: Estimator = Estimator.THEIL_SEN,
    floor: float | None = 0.0,
) -> Assessment:
    """The status of one target given an indicator's series (rules in the module docstring)."""
    series = clean(points)
    latest = series[-1] if series else None
    trend = fit_trend(
        fit_window(series, window=window, exclude=exclude, until=target.year),
        method=method,
        estimator=estimator,
        floor=floor,
        target=target,
    )
    projection = trend.project(latest, target.year) if trend is not None and latest is not None else None

    def result(
        status: Status, reason: Reason, *, judged: Point | None = None, ratio: float | None = None
    ) -> Assessment:
        required = required_change(latest, target) if latest is not None else None
        return Assessment(status, reason, target, latest, judged, trend, projection, required, ratio)

    if latest is None:
        return result(Status.UNKNOWN, Reason.NO_DATA)
    if latest.year >= target.year:
        judged = next(p for p in series if p.year >= target.year)
        if target.met_by(judged.value):
            return result(Status.ACHIEVED, Reason.MET_AT_TARGET_YEAR, judged=judged)
        return result(Status.OFF_TRACK, Reason.MISSED_AT_TARGET_YEAR, judged=judged)
    if target.met_by(latest.value):
        return result(Status.ACHIEVED, Reason.ALREADY_MET)
    if projection is None:
        return result(Status.UNKNOWN, Reason.SINGLE_POINT)
    needed = target.value - latest.value
    ratio = (projection - latest.value) / needed if needed else 0.0
    if target.met_by(projection):
        return result(Status.ON_TRACK, Reason.PROJECTED_MET, ratio=ratio)
    if ratio <= 0:
        return result(Status.OFF_TRACK, Reason.WRONG_DIRECTION, ratio=ratio)
    if ratio >= AT_RISK_RATIO:
        return result(Status.AT_RISK, Reason.PROJECTED_CLOSE, ratio=ratio)
    return result(Status.OFF_TRACK, Reason.PROJECTED_SHORT, ratio=ratio)
