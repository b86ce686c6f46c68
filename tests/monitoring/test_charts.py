from __future__ import annotations

import pytest
from django.utils import translation

from tepat.engine.monitoring import Point
from tepat.monitoring.charts import SeriesSpec, TargetSpec, format_number, line_chart, nice_step


@pytest.mark.parametrize("span, step", [(10, 2), (3.6, 1), (1.2, 0.25), (700, 200), (0, 1)])
def test_ticks_fall_on_round_numbers(span: float, step: float) -> None:
    assert nice_step(span) == pytest.approx(step)


def test_numbers_are_rounded_in_the_page_language() -> None:
    with translation.override("id"):
        assert format_number(5.6779, 2) == "5,68"  # Django's number_format alone would truncate to 5,67
    with translation.override("en"):
        assert format_number(5.6779, 2) == "5.68"


def test_coordinates_use_a_dot_and_observed_lines_break_at_missing_years() -> None:
    with translation.override("id"):
        chart = line_chart(
            chart_id="c", title="P0", desc="", decimals=2, symbol="%",
            series=[SeriesSpec("Bengkayang", "region", [Point(2018, 7.17), Point(2019, 6.96), Point(2022, 6.03)]),
                    SeriesSpec("Proyeksi", "projection", [Point(2022, 6.03), Point(2026, 5.2)], join_gaps=True)],
            targets=[TargetSpec(2026, 5.62, "< 5,62 % (2026)")],
        )  # fmt: skip
    assert chart is not None
    region, projection = chart.lines
    assert region.path.count("M") == 2 and "," not in region.path
    assert projection.path.count("M") == 1
    assert [m.label for m in region.markers] == ["2018: 7,17 %", "2019: 6,96 %", "2022: 6,03 %"]
    assert [t.label for t in chart.x_ticks] == [str(y) for y in range(2018, 2027)]
    assert [t.label for t in chart.y_ticks][:2] == ["5,0", "5,5"]
    assert chart.legend == [("Bengkayang", "region"), ("Proyeksi", "projection")]
    assert line_chart(chart_id="e", title="", desc="", series=[], targets=[], decimals=2) is None
