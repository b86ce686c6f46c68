"""Reads for the monitoring pages: an area's indicator series, its province's, its targets and their status.

Series and targets are aggregated public statistics (no person can be identified), so every role that may see
aggregates may see them for any province or regency of Indonesia; what differs by role is only who may edit
targets (``can_edit_targets``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Q
from django.http import QueryDict
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from tepat.accounts.permissions import Permission, PermissionDenied, has_permission, require, scope_code
from tepat.areas.models import Area, Level
from tepat.areas.selectors import within_q
from tepat.engine import monitoring as engine
from tepat.monitoring import labels
from tepat.monitoring.charts import Chart, SeriesSpec, TargetSpec, format_number, line_chart
from tepat.monitoring.models import Indicator, SeriesValue, Target
from tepat.monitoring.services import SHIPPED_SOURCE, TARGET_PERMISSION

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User

    Actor = User | AnonymousUser

WINDOWS = (3, 5, 7, 10, 15)
CHART_YEARS = 15  # charts start 15 years back by default: BPS' 2004–2007 figures use older methods and boundaries


@dataclass(frozen=True)
class FitOptions:
    """How trends are fitted; the defaults are the engine's robust choice (see tepat.engine.monitoring)."""

    window: int | None = engine.DEFAULT_WINDOW
    method: engine.Method | None = None
    estimator: engine.Estimator = engine.Estimator.THEIL_SEN
    exclude_covid: bool = False
    chart_all: bool = False  # chart every year instead of the last CHART_YEARS (the table always has them all)

    @classmethod
    def from_query(cls, query: QueryDict) -> FitOptions:
        """Read ``?jendela=7&metode=log&penduga=ols&tanpa_covid=1``; anything unknown falls back to the default."""
        window_text = query.get("jendela", "")
        window: int | None = cls.window
        if window_text == "semua":
            window = None
        elif window_text.isdigit() and 2 <= int(window_text) <= 30:
            window = int(window_text)
        method_text = query.get("metode", "")
        method = engine.Method(method_text) if method_text in engine.Method._value2member_map_ else None
        estimator_text = query.get("penduga", "")
        estimator = (
            engine.Estimator(estimator_text)
            if estimator_text in engine.Estimator._value2member_map_
            else engine.Estimator.THEIL_SEN
        )
        return cls(
            window=window,
            method=method,
            estimator=estimator,
            exclude_covid=query.get("tanpa_covid") == "1",
            chart_all=query.get("grafik") == "semua",
        )

    @property
    def exclude(self) -> frozenset[int]:
        return engine.COVID_YEARS if self.exclude_covid else frozenset()

    @property
    def is_default(self) -> bool:
        return self == FitOptions()


@dataclass(frozen=True)
class YearValue:
    year: int
    value: Decimal
    source: str
    imported: bool  # written by an import or entered by hand, not the shipped BPS table


@dataclass
class TableRow:
    year: int
    value: YearValue | None
    parent: YearValue | None


@dataclass
class TargetStatus:
    target: Target
    assessment: engine.Assessment
    projection_line: list[engine.Point]

    @property
    def status(self) -> str:
        return self.assessment.status.value

    @property
    def status_label(self) -> Promise:
        return labels.STATUS[self.assessment.status]

    @property
    def reason(self) -> Promise:
        return labels.REASON[self.assessment.reason]

    lines: list[str] = field(default_factory=list)  # the reasoning in sentences, numbers in the page's format


@dataclass
class IndicatorPanel:
    indicator: Indicator
    values: list[YearValue]
    parent_values: list[YearValue]  # the province's, for rates of a regency
    targets: list[TargetStatus]
    trend: engine.Trend | None  # over the default window, shown even without a target
    change: engine.Change | None  # average annual change over the fit window
    chart: Chart | None
    rows: list[TableRow]
    sources: list[str]

    @property
    def latest(self) -> YearValue | None:
        return self.values[-1] if self.values else None

    @property
    def trend_rate(self) -> str:
        return _signed(100 * self.trend.annual_rate, 1) if self.trend else ""

    @property
    def change_text(self) -> str:
        """ "−0,29 poin" (rates) or "−0,50 ribu jiwa" (counts), with the compound rate for rates and counts."""
        if self.change is None:
            return ""
        unit = _("poin") if self.indicator.symbol == "%" else self.indicator.unit_label
        text = f"{_signed(self.change.per_year, self.indicator.decimals)} {unit}"
        if self.change.rate is not None:
            text += f" ({_signed(100 * self.change.rate, 1)} %)"
        return text


@dataclass
class AreaMonitoring:
    area: Area
    province: Area | None
    panels: list[IndicatorPanel]
    options: FitOptions
    can_edit_targets: bool
    shipped_shown: bool  # any value from the shipped BPS table: the attribution must be shown
    regencies: list[RegencyRow] = field(default_factory=list)  # for a province: its regencies' latest P0


@dataclass
class RegencyRow:
    area: Area
    year: int
    value: Decimal
    change: Decimal | None  # against five years earlier

    @property
    def change_text(self) -> str:
        return _signed(float(self.change), 2) if self.change is not None else "–"


def _merged(rows: list[SeriesValue]) -> list[YearValue]:
    """One value per year. A region's own figures (imported or entered) win over the shipped table; among several
    of those, the most recently written wins."""
    best: dict[int, SeriesValue] = {}
    for row in rows:
        current = best.get(row.year)
        key = (row.batch_id is not None or row.source != SHIPPED_SOURCE, row.updated_at, row.pk)
        if current is None or key > (
            current.batch_id is not None or current.source != SHIPPED_SOURCE,
            current.updated_at,
            current.pk,
        ):
            best[row.year] = row
    return [
        YearValue(r.year, r.value, r.source, r.batch_id is not None or r.source != SHIPPED_SOURCE)
        for r in (best[y] for y in sorted(best))
    ]


def _points(values: list[YearValue]) -> list[engine.Point]:
    return [engine.Point(v.year, float(v.value)) for v in values]


def can_edit_targets(actor: Actor, area: Area) -> bool:
    """Target editors (TKPK admin/analyst) for areas inside their own scope: a region sets its own targets."""
    scope = scope_code(actor)
    if not scope or not has_permission(actor, TARGET_PERMISSION):
        return False
    return area.code == scope or area.code.startswith(scope + ".")


def require_target_editor(actor: Actor, area: Area) -> None:
    require(actor, TARGET_PERMISSION)
    if not can_edit_targets(actor, area):
        raise PermissionDenied(TARGET_PERMISSION)


def monitoring_areas(*, actor: Actor) -> list[tuple[Area, list[Area]]]:
    """Every province with its regencies/cities, for the area picker (38 + 514 in Indonesia)."""
    require(actor, Permission.VIEW_AGGREGATES)
    areas = Area.objects.filter(level__in=[Level.PROVINCE, Level.REGENCY]).only("code", "name", "level", "kind")
    provinces: dict[str, tuple[Area, list[Area]]] = {}
    for area in areas.order_by("code"):
        if area.level == Level.PROVINCE:
            provinces[area.code] = (area, [])
        elif area.code[:2] in provinces:
            provinces[area.code[:2]][1].append(area)
    return list(provinces.values())


def monitoring_area_search(*, actor: Actor, query: str) -> list[Area]:
    """Provinces and regencies whose name contains every word of ``query`` (case-insensitive)."""
    require(actor, Permission.VIEW_AGGREGATES)
    words = query.split()
    if not words:
        return []
    q = Q(level__in=[Level.PROVINCE, Level.REGENCY])
    for word in words:
        q &= Q(name__icontains=word) | Q(code=word)
    return list(Area.objects.filter(q).order_by("level", "code")[:50])


def monitoring_area(*, actor: Actor, code: str, options: FitOptions | None = None) -> AreaMonitoring:
    """Everything the monitoring page shows for one province or regency. Raises Area.DoesNotExist."""
    require(actor, Permission.VIEW_AGGREGATES)
    options = options or FitOptions()
    area = Area.objects.get(code=code, level__in=[Level.PROVINCE, Level.REGENCY])
    province = Area.objects.filter(code=code[:2]).first() if area.level == Level.REGENCY else None
    codes = [area.code] + ([province.code] if province else [])
    by_area: dict[tuple[str, str], list[SeriesValue]] = defaultdict(list)
    for row in SeriesValue.objects.filter(area_id__in=codes).order_by("year"):
        by_area[(row.area_id, row.indicator_id)].append(row)
    targets: dict[str, list[Target]] = defaultdict(list)
    for target in Target.objects.filter(area=area).order_by("year", "document"):
        targets[target.indicator_id].append(target)
    panels = []
    for indicator in Indicator.objects.all():
        own = _merged(by_area.get((area.code, indicator.code), []))
        if not own and not targets.get(indicator.code):
            continue  # no invented numbers: an indicator without data or target is not shown
        is_rate = indicator.symbol == "%"
        parent = _merged(by_area.get((province.code, indicator.code), [])) if province and is_rate else []
        panels.append(_panel(indicator, area, province, own, parent, targets.get(indicator.code, []), options))
    return AreaMonitoring(
        area=area,
        province=province,
        panels=panels,
        options=options,
        can_edit_targets=can_edit_targets(actor, area),
        shipped_shown=any(not v.imported for p in panels for v in [*p.values, *p.parent_values]),
        regencies=_regencies(area) if area.level == Level.PROVINCE else [],
    )


def _panel(
    indicator: Indicator,
    area: Area,
    province: Area | None,
    own: list[YearValue],
    parent: list[YearValue],
    targets: list[Target],
    options: FitOptions,
) -> IndicatorPanel:
    points = _points(own)
    window = engine.fit_window(points, window=options.window, exclude=options.exclude)
    trend = engine.fit_trend(window, method=options.method, estimator=options.estimator)
    statuses = []
    for target in targets:
        goal = engine.Target(target.year, float(target.value), engine.Comparison(target.comparison))
        assessment = engine.assess(
            points, goal, window=options.window, exclude=options.exclude, method=options.method,
            estimator=options.estimator,
        )  # fmt: skip
        line: list[engine.Point] = []
        if assessment.trend is not None and assessment.latest is not None and goal.year > assessment.latest.year:
            line = assessment.trend.projection_line(assessment.latest, goal.year)
        statuses.append(TargetStatus(target, assessment, line, _explain(indicator, assessment, options)))
    start = 0 if options.chart_all or not points else points[-1].year - CHART_YEARS + 1
    series = [SeriesSpec(area.label, "region", [p for p in points if p.year >= start])]
    if parent and province is not None:
        shown = [p for p in _points(parent) if p.year >= start]
        series.insert(0, SeriesSpec(province.label, "province", shown, markers=False))
    if trend is not None:
        series.append(SeriesSpec(_("Tren"), "trend", trend.line(), markers=False, join_gaps=True))
    for status in statuses:
        if status.projection_line:
            series.append(
                SeriesSpec(_("Proyeksi"), "projection", status.projection_line, markers=False, join_gaps=True)
            )
    symbol = indicator.symbol or indicator.unit_label
    marks = [
        TargetSpec(t.year, float(t.value), f"{t.comparison} {_number(t.value, indicator.decimals, symbol)} ({t.year})")
        for t in targets
    ]
    chart = line_chart(
        chart_id=f"grafik-{indicator.code}",
        title=f"{indicator.label}, {area.label}",
        desc=_chart_desc(indicator, area, own, statuses),
        series=series,
        targets=marks,
        decimals=indicator.decimals,
        symbol=indicator.symbol,
    )
    parent_by_year = {v.year: v for v in parent}
    own_by_year = {v.year: v for v in own}
    years = sorted(set(own_by_year) | set(parent_by_year), reverse=True)
    rows = [TableRow(y, own_by_year.get(y), parent_by_year.get(y)) for y in years]
    return IndicatorPanel(
        indicator=indicator,
        values=own,
        parent_values=parent,
        targets=statuses,
        trend=trend,
        change=engine.average_change(window) if len(window) >= 2 else None,
        chart=chart,
        rows=rows,
        sources=sorted({v.source for v in own}),
    )


def _number(value: Decimal | float, decimals: int, symbol: str = "") -> str:
    return format_number(value, decimals) + (f" {symbol}" if symbol else "")


def _signed(value: float, decimals: int) -> str:
    """+0,05 / −0,21: the sign always written (a true minus sign), so a change reads as a change."""
    text = format_number(abs(value), decimals)
    return ("−" if value < 0 else "+") + text if round(value, decimals) else text


def _explain(indicator: Indicator, a: engine.Assessment, options: FitOptions) -> list[str]:
    """The status's reasoning as sentences: projection and trend, and what the remaining years need."""
    d = indicator.decimals
    symbol = f" {indicator.symbol}" if indicator.symbol else f" {indicator.unit_label}"
    unit = _("poin") if indicator.symbol == "%" else indicator.unit_label
    lines = [str(labels.REASON[a.reason])]
    if a.judged is not None:
        lines.append(
            _("Angka %(year)s: %(value)s.") % {"year": a.judged.year, "value": _number(a.judged.value, d) + symbol}
        )
    trend = a.trend
    if trend is not None and a.projection is not None and a.latest is not None and a.target.year > a.latest.year:
        lines.append(
            _("Proyeksi %(year)s: %(value)s, bila laju %(from)s–%(to)s (%(rate)s %% per tahun) berlanjut dari angka "
              "%(latest_year)s.") % {
                "year": a.target.year, "value": _number(a.projection, d) + symbol, "from": trend.first_year,
                "to": trend.last_year, "rate": _signed(100 * trend.annual_rate, 1), "latest_year": a.latest.year,
            }
        )  # fmt: skip
        lines.append(
            _("Metode: %(method)s, %(why)s; penduga %(estimator)s.") % {
                "method": labels.METHOD[trend.method], "why": labels.METHOD_REASON[trend.method_reason],
                "estimator": labels.ESTIMATOR[trend.estimator],
            }
        )  # fmt: skip
    required = a.required
    if required is not None and a.latest is not None and a.status not in (engine.Status.ACHIEVED,):
        text = _("Perlu %(per_year)s %(unit)s per tahun dari %(value)s (%(latest_year)s) untuk mencapai target.") % {
            "per_year": _signed(required.per_year, d), "unit": unit, "value": _number(a.latest.value, d) + symbol,
            "latest_year": a.latest.year,
        }  # fmt: skip
        if required.rate is not None:
            text += " " + _("Itu %(rate)s %% per tahun.") % {"rate": _signed(100 * required.rate, 1)}
        lines.append(text)
    return lines


def _chart_desc(indicator: Indicator, area: Area, own: list[YearValue], statuses: list[TargetStatus]) -> str:
    """A sentence a screen reader reads for the chart; the table beside it has every number."""
    if not own:
        return _("Belum ada data.")
    first, last = own[0], own[-1]
    text = _("%(indicator)s %(area)s: %(first)s pada %(y1)s, %(last)s pada %(y2)s.") % {
        "indicator": indicator.label,
        "area": area.label,
        "first": _number(first.value, indicator.decimals, indicator.symbol or indicator.unit_label),
        "y1": first.year,
        "last": _number(last.value, indicator.decimals, indicator.symbol or indicator.unit_label),
        "y2": last.year,
    }
    for s in statuses:
        text += " " + _("Target %(cmp)s %(value)s pada %(year)s.") % {
            "cmp": s.target.comparison,
            "value": _number(s.target.value, indicator.decimals, indicator.symbol or indicator.unit_label),
            "year": s.target.year,
        }
        if s.assessment.projection is not None and s.projection_line:
            text += " " + _("Proyeksi %(year)s: %(value)s.") % {
                "year": s.target.year,
                "value": _number(s.assessment.projection, indicator.decimals, indicator.symbol or indicator.unit_label),
            }
    return text


def _regencies(province: Area) -> list[RegencyRow]:
    """The province's regencies with their latest P0 and the change over five years, poorest first."""
    rows: dict[str, list[SeriesValue]] = defaultdict(list)
    values = SeriesValue.objects.filter(within_q(province.code, field="area__code"), indicator_id="p0_pct").exclude(
        area_id=province.code
    )
    for row in values:
        rows[row.area_id].append(row)
    areas = {a.code: a for a in Area.objects.filter(code__in=rows)}
    out = []
    for code, series in rows.items():
        by_year = {v.year: v.value for v in _merged(series)}
        year = max(by_year)
        before = by_year.get(year - 5)
        out.append(RegencyRow(areas[code], year, by_year[year], by_year[year] - before if before is not None else None))
    return sorted(out, key=lambda r: (-r.value, r.area.code))
