"""Line charts as server-rendered SVG: no chart library, no JavaScript, readable offline and by screen readers.

Geometry is computed here and handed to ``monitoring/_chart.html`` as ready strings: coordinates are formatted
with a dot whatever the page language (an Indonesian decimal comma would break SVG), labels with the page's
number format (7,17 in Indonesian).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.formats import number_format

from tepat.engine.monitoring import Point

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 28, 16, 40


@dataclass(frozen=True)
class Marker:
    x: str
    y: str
    label: str  # "2018: 7,17 %" (the point's tooltip and accessible name)


@dataclass(frozen=True)
class Line:
    name: str
    css: str  # class of the line: region, province, trend, projection
    path: str
    markers: list[Marker] = field(default_factory=list)


@dataclass(frozen=True)
class Tick:
    pos: str
    label: str


@dataclass(frozen=True)
class TargetMark:
    x1: str
    x2: str
    y: str
    x: str
    label: str  # shown in the legend and as the mark's tooltip, so it never covers a line


@dataclass(frozen=True)
class SeriesSpec:
    name: str
    css: str
    points: list[Point]
    markers: bool = True
    join_gaps: bool = False  # trend and projection lines are continuous; observed series break at missing years


@dataclass(frozen=True)
class TargetSpec:
    year: int
    value: float
    label: str


@dataclass
class Chart:
    id: str
    title: str
    desc: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    targets: list[TargetMark] = field(default_factory=list)

    @property
    def legend(self) -> list[tuple[str, str]]:
        """(name, css) of each kind of line once, in drawing order."""
        seen: dict[str, str] = {}
        for line in self.lines:
            seen.setdefault(line.css, line.name)
        return [(name, css) for css, name in seen.items()]


def nice_step(span: float, count: int = 5) -> float:
    """A round tick step (1, 2, 2.5 or 5 × 10^k) giving about ``count`` ticks over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def format_number(value: float | Decimal, decimals: int) -> str:
    """In the page's format, rounded (Django's number_format truncates floats: 5.678 would show as 5,67)."""
    return number_format(round(Decimal(str(value)), decimals), decimals)


def _f(value: float) -> str:
    return f"{value:.1f}"


def line_chart(
    *, chart_id: str, title: str, desc: str, series: list[SeriesSpec], targets: list[TargetSpec], decimals: int,
    symbol: str = "",
) -> Chart | None:  # fmt: skip
    """None when there is nothing to draw."""
    points = [p for s in series for p in s.points]
    if not points:
        return None
    years = [p.year for p in points] + [t.year for t in targets]
    values = [p.value for p in points] + [t.value for t in targets]
    x_min, x_max = min(years), max(years)
    if x_min == x_max:
        x_min, x_max = x_min - 1, x_max + 1
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or abs(high) * 0.1 or 1.0
    step = nice_step(high - low + 2 * pad)
    y_min = math.floor((low - pad) / step) * step
    if low >= 0 > y_min:
        y_min = 0.0  # rates and counts are never negative: no axis below zero
    y_max = math.ceil((high + pad) / step) * step
    chart = Chart(id=chart_id, title=title, desc=desc)

    def sx(year: float) -> float:
        return chart.left + (year - x_min) / (x_max - x_min) * (chart.right - chart.left)

    def sy(value: float) -> float:
        return chart.bottom - (value - y_min) / (y_max - y_min) * (chart.bottom - chart.top)

    def text(value: float) -> str:
        return f"{format_number(value, decimals)}{' ' + symbol if symbol else ''}"

    year_step = 1 if x_max - x_min <= 8 else 2 if x_max - x_min <= 18 else 5
    chart.x_ticks = [Tick(_f(sx(y)), str(y)) for y in range(x_min, x_max + 1) if (y - x_min) % year_step == 0]
    tick_decimals = next(d for d in range(0, 6) if abs(step * 10**d - round(step * 10**d)) < 1e-9)
    n = round((y_max - y_min) / step)
    chart.y_ticks = [
        Tick(_f(sy(y_min + i * step)), format_number(y_min + i * step, tick_decimals)) for i in range(n + 1)
    ]
    for spec in series:
        parts: list[str] = []
        previous: Point | None = None
        for p in sorted(spec.points, key=lambda p: p.year):
            move = previous is None or (not spec.join_gaps and p.year - previous.year > 1)
            parts.append(f"{'M' if move else 'L'}{_f(sx(p.year))} {_f(sy(p.value))}")
            previous = p
        markers = [Marker(_f(sx(p.year)), _f(sy(p.value)), f"{p.year}: {text(p.value)}") for p in spec.points]
        chart.lines.append(Line(spec.name, spec.css, " ".join(parts), markers if spec.markers else []))
    half = max(6.0, (chart.right - chart.left) / (x_max - x_min) / 3)
    for t in targets:
        x, y = sx(t.year), sy(t.value)
        chart.targets.append(TargetMark(_f(x - half), _f(x + half), _f(y), _f(x), t.label))
    return chart
