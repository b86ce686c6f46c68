from __future__ import annotations

import math

import pytest

from tepat.engine.monitoring import (
    COVID_YEARS,
    Comparison,
    Estimator,
    Method,
    MethodReason,
    Point,
    Reason,
    Status,
    Target,
    assess,
    average_change,
    clean,
    fit_trend,
    fit_window,
    required_change,
)


def series(table: dict[int, float]) -> list[Point]:
    return [Point(year, value) for year, value in table.items()]


# Kabupaten Bengkayang, P0 (%) as BPS publishes it
BENGKAYANG = series(
    {2015: 6.94, 2016: 7.46, 2017: 7.51, 2018: 7.17, 2019: 6.96, 2020: 6.62,
     2021: 6.48, 2022: 6.03, 2023: 6.28, 2024: 6.00, 2025: 5.83}
)  # fmt: skip
RPJMD_BENGKAYANG = Target(2026, 5.62, Comparison.LT)


def test_a_straight_line_is_projected_exactly() -> None:
    trend = fit_trend(series({2020: 10, 2021: 9, 2022: 8}), method=Method.LINEAR)
    assert trend is not None and trend.slope == pytest.approx(-1)
    assert trend.project(Point(2022, 8), 2025) == pytest.approx(5)
    result = assess(series({2020: 10, 2021: 9, 2022: 8}), Target(2025, 6, Comparison.LT), method=Method.LINEAR)
    # needs 8 → <6 (−2), projected 8 → 5 (−3): ratio 1.5
    assert (result.status, result.reason) == (Status.ON_TRACK, Reason.PROJECTED_MET)
    assert result.projection == pytest.approx(5) and result.progress_ratio == pytest.approx(1.5)


def test_a_halving_series_is_projected_proportionally() -> None:
    trend = fit_trend(series({2020: 8, 2021: 4, 2022: 2}))
    assert trend is not None and trend.method == Method.LOG_LINEAR
    assert trend.method_reason == MethodReason.DEFAULT_PROPORTIONAL
    assert trend.annual_rate == pytest.approx(-0.5)
    assert trend.project(Point(2022, 2), 2024) == pytest.approx(0.5)  # never below zero, unlike 8 − 3·2 per year


def test_the_robust_trend_ignores_a_one_year_bump_that_tilts_least_squares() -> None:
    bumped = series({2016: 10, 2017: 9, 2018: 8, 2019: 7, 2020: 12, 2021: 5, 2022: 4})  # a COVID-like rise
    robust = fit_trend(bumped, method=Method.LINEAR)
    ols = fit_trend(bumped, method=Method.LINEAR, estimator=Estimator.OLS)
    assert robust is not None and ols is not None
    assert robust.slope == pytest.approx(-1) and robust.value_at(2023) == pytest.approx(3)
    assert ols.slope != pytest.approx(-1, abs=0.1)


def test_covid_years_can_be_left_out_of_the_window() -> None:
    kaltim = series({2017: 6.19, 2018: 6.03, 2019: 5.94, 2020: 6.10, 2021: 6.54, 2022: 6.31, 2023: 6.11})
    window = fit_window(kaltim, window=7, exclude=COVID_YEARS)
    assert [p.year for p in window] == [2017, 2018, 2019, 2022, 2023]
    with_covid = fit_trend(fit_window(kaltim, window=7), estimator=Estimator.OLS)
    without = fit_trend(window, estimator=Estimator.OLS)
    assert with_covid is not None and without is not None
    assert with_covid.slope > 1.5 * without.slope > 0  # the COVID rise steepens Kalimantan Timur's trend


def test_the_window_counts_calendar_years_and_gaps_do_not_matter() -> None:
    gappy = series({2010: 12, 2015: 10, 2019: 6})
    assert [p.year for p in fit_window(gappy, window=5)] == [2015, 2019]
    assert [p.year for p in fit_window(gappy, window=3)] == [2015, 2019]  # one point in the window: last two
    assert [p.year for p in fit_window(gappy, window=None)] == [2010, 2015, 2019]
    trend = fit_trend(series({2015: 10, 2019: 6}), method=Method.LINEAR)
    assert trend is not None and trend.project(Point(2019, 6), 2021) == pytest.approx(4)


def test_clean_sorts_and_drops_missing_values() -> None:
    assert clean([Point(2021, 5), Point(2019, 7), Point(2020, math.nan)]) == [Point(2019, 7), Point(2021, 5)]


def test_average_annual_change_between_two_years() -> None:
    change = average_change([p for p in BENGKAYANG if 2018 <= p.year <= 2022])
    assert change is not None and change.years == 4
    assert change.per_year == pytest.approx((6.03 - 7.17) / 4)
    assert change.rate == pytest.approx((6.03 / 7.17) ** 0.25 - 1)
    assert average_change(BENGKAYANG, years=3) == average_change(BENGKAYANG[-3:])
    assert average_change(BENGKAYANG[:1]) is None


def test_required_change_to_the_target() -> None:
    required = required_change(Point(2022, 6.03), RPJMD_BENGKAYANG)
    assert required is not None and required.years == 4
    assert required.per_year == pytest.approx((5.62 - 6.03) / 4)
    assert required.rate == pytest.approx((5.62 / 6.03) ** 0.25 - 1)
    assert required_change(Point(2026, 5.5), RPJMD_BENGKAYANG) is None
    assert required_change(Point(2022, 0.4), Target(2024, 0, Comparison.LE)).rate is None  # type: ignore[union-attr]


def test_bengkayang_in_2022_was_on_track_and_is_at_risk_with_2025_data() -> None:
    then = assess([p for p in BENGKAYANG if p.year <= 2022], RPJMD_BENGKAYANG)
    assert then.status == Status.ON_TRACK and then.latest == Point(2022, 6.03)
    now = assess(BENGKAYANG, RPJMD_BENGKAYANG)
    # Theil–Sen on ln P0 2019–2025: −2.61 % a year; 5.83 · e^(−0.0264) = 5.68, not below 5.62
    assert (now.status, now.reason) == (Status.AT_RISK, Reason.PROJECTED_CLOSE)
    assert now.projection == pytest.approx(5.678, abs=0.001)
    assert now.progress_ratio == pytest.approx((5.83 - 5.678) / (5.83 - 5.62), abs=0.01)


def test_a_target_already_met_is_achieved() -> None:
    bontang = series({2023: 4.11, 2024: 3.74, 2025: 3.21})
    result = assess(bontang, Target(2026, 3.75, Comparison.LE))
    assert (result.status, result.reason) == (Status.ACHIEVED, Reason.ALREADY_MET)


def test_a_past_target_year_is_judged_on_the_value_then() -> None:
    data = series({2021: 6.5, 2022: 5.9, 2024: 5.0})
    met = assess(data, Target(2022, 6.0, Comparison.LT))
    assert (met.status, met.reason, met.judged) == (Status.ACHIEVED, Reason.MET_AT_TARGET_YEAR, Point(2022, 5.9))
    missed = assess(data, Target(2021, 6.0, Comparison.LT))
    assert (missed.status, missed.reason) == (Status.OFF_TRACK, Reason.MISSED_AT_TARGET_YEAR)
    gap = assess(data, Target(2023, 5.5, Comparison.LT))  # no 2023 figure: the first one after it decides
    assert (gap.status, gap.judged) == (Status.ACHIEVED, Point(2024, 5.0))


def test_a_single_point_cannot_be_judged_but_shows_what_is_needed() -> None:
    result = assess([Point(2024, 7.0)], Target(2026, 6.0, Comparison.LT))
    assert (result.status, result.reason) == (Status.UNKNOWN, Reason.SINGLE_POINT)
    assert result.trend is None and result.projection is None
    assert result.required is not None and result.required.per_year == pytest.approx(-0.5)
    assert assess([], RPJMD_BENGKAYANG).reason == Reason.NO_DATA


@pytest.mark.parametrize(
    "table, status, reason",
    [
        ({2022: 8.0, 2023: 8.2, 2024: 8.4}, Status.OFF_TRACK, Reason.WRONG_DIRECTION),  # rising poverty
        ({2022: 8.0, 2023: 8.0, 2024: 8.0}, Status.OFF_TRACK, Reason.WRONG_DIRECTION),  # flat
        ({2022: 8.2, 2023: 8.1, 2024: 8.0}, Status.OFF_TRACK, Reason.PROJECTED_SHORT),  # −0.2 of −2 needed
        ({2022: 8.8, 2023: 8.4, 2024: 8.0}, Status.AT_RISK, Reason.PROJECTED_CLOSE),  # −0.8 of −1 needed
    ],
)
def test_status_by_projected_share_of_the_needed_progress(
    table: dict[int, float], status: Status, reason: Reason
) -> None:
    target = Target(2026, 6.0 if reason == Reason.PROJECTED_SHORT else 7.0, Comparison.LT)
    result = assess(series(table), target, method=Method.LINEAR)
    assert (result.status, result.reason) == (status, reason)


def test_strict_and_inclusive_targets_differ_at_the_boundary() -> None:
    data = series({2020: 10, 2021: 9, 2022: 8})  # linear projection for 2025: exactly 5
    assert assess(data, Target(2025, 5, Comparison.LE), method=Method.LINEAR).status == Status.ON_TRACK
    strict = assess(data, Target(2025, 5, Comparison.LT), method=Method.LINEAR)
    assert (strict.status, strict.progress_ratio) == (Status.AT_RISK, pytest.approx(1))


def test_higher_is_better_targets() -> None:
    coverage = series({2022: 60.0, 2023: 65.0, 2024: 70.0})
    assert assess(coverage, Target(2026, 80, Comparison.GE), method=Method.LINEAR).status == Status.ON_TRACK
    assert assess(coverage, Target(2026, 95, Comparison.GT), method=Method.LINEAR).status == Status.OFF_TRACK
    assert assess(coverage, Target(2026, 65, Comparison.GE)).status == Status.ACHIEVED


def test_a_zero_target_is_projected_linearly_and_stops_at_zero() -> None:
    extreme = series({2021: 1.2, 2022: 0.8, 2023: 0.4})
    result = assess(extreme, Target(2025, 0, Comparison.LE))
    assert result.trend is not None
    assert (result.trend.method, result.trend.method_reason) == (Method.LINEAR, MethodReason.ZERO_VALUE)
    assert result.projection == 0.0 and result.status == Status.ON_TRACK
    assert result.trend.projection_line(Point(2023, 0.4), 2025)[-1] == Point(2025, 0.0)
