"""Kinds for monitoring: indicator series (BPS) and RPJMD targets."""

from __future__ import annotations

from typing import Any

from tepat.engine.identity import RegionCodes
from tepat.engine.values import (
    ValueError_,
    parse_decimal,
)
from tepat.intake.kinds.base import Cells, Handler, Issue, _decimal, _int
from tepat.intake.kinds.programs import _key
from tepat.registry.writer import (
    CommitCounts,
    RegistryWriter,
)

VALUE_LIMIT = 10**10  # SeriesValue.value and Target.value: 14 digits, 4 of them after the point

INDICATOR_NAMES = {
    **dict.fromkeys(("p0", "p0 pct", "persentase penduduk miskin", "tingkat kemiskinan", "persentase kemiskinan",
                     "angka kemiskinan", "persentase penduduk miskin (p0)", "poverty rate"), "p0_pct"),
    **dict.fromkeys(("jumlah penduduk miskin", "jumlah penduduk miskin (ribu jiwa)", "penduduk miskin (ribu)",
                     "poor thousand"), "poor_thousand"),
    **dict.fromkeys(("kemiskinan ekstrem", "persentase penduduk miskin ekstrem", "tingkat kemiskinan ekstrem",
                     "extreme poor pct"), "extreme_poor_pct"),
}  # fmt: skip
_COMPARISONS = ("<=", ">=", "<", ">", "≤", "≥")
_AREA_LENGTHS = {2: (2,), 4: (2, 2), 6: (2, 2, 2), 10: (2, 2, 2, 4)}


def area_code(text: str) -> str:
    """A Kemendagri code of any level, dotted: ``6107`` → ``61.07``; ``61.07`` stays."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if "." in text or len(digits) not in _AREA_LENGTHS:
        return text.strip()
    parts, start = [], 0
    for width in _AREA_LENGTHS[len(digits)]:
        parts.append(digits[start : start + width])
        start += width
    return ".".join(parts)


class IndicatorHandler(Handler):
    """BPS series (kind ``bps``) and RPJMD targets (kind ``targets``): one value per area, indicator and year.

    Saved through the monitoring services; unknown areas and indicators are row errors here, so the report says
    which row, never a whole-file refusal.
    """

    targets = False

    def __init__(self, regions: RegionCodes, villages: set[str], program: str = "") -> None:
        super().__init__(regions, villages, program)
        from tepat.areas.models import Area
        from tepat.monitoring.models import Indicator
        from tepat.monitoring.services import indicator_codes, indicators_ensure

        indicators_ensure()
        self.indicators = indicator_codes()
        self.lower_is_better = set(Indicator.objects.filter(direction="lower").values_list("code", flat=True))
        self.areas = set(Area.objects.values_list("code", flat=True))
        self.rows: list[Any] = []

    def _indicator(self, cells: Cells) -> str | None:
        text = cells.text("indicator") or self.program
        key = _key(text)
        if text in self.indicators:
            return text
        return INDICATOR_NAMES.get(key) or (key.replace(" ", "_") if key.replace(" ", "_") in self.indicators else None)

    def check(self, cells: Cells) -> None:
        code = area_code(cells.text("area") or cells.text("village"))
        column = "area" if cells.text("area") else "village"
        if not code:
            cells.reject(column, "area.missing")
        elif code not in self.areas:
            cells.reject(column, "area.unknown", code)
        cells.row["area_code"] = code
        indicator = self._indicator(cells)
        if indicator is None:
            cells.reject("indicator", "indicator.unknown", cells.text("indicator"))
        cells.row["indicator_code"] = indicator
        year = cells.parsed("year", _int)
        if year is None or not 1945 <= year <= 2100:
            cells.reject("year", "year.invalid", cells.text("year"))
        cells.row["year_int"] = year
        text = cells.text("target" if self.targets else "value") or cells.text("amount")
        comparison = ""
        for sign in _COMPARISONS:
            if text.startswith(sign):
                comparison, text = sign.replace("≤", "<=").replace("≥", ">="), text[len(sign) :].strip()
                break
        try:
            value = parse_decimal(text.removesuffix("%").strip()) if text else None
        except ValueError_:
            value = None
        if value is None:
            cells.reject("target" if self.targets else "value", "value.missing" if not text else "number.invalid", text)
        elif not abs(value) < VALUE_LIMIT:  # the column holds 14 digits, 4 of them decimals
            cells.reject("target" if self.targets else "value", "number.range", text)
        cells.row["number"] = value
        if self.targets:
            given = cells.text("comparison").replace("≤", "<=").replace("≥", ">=")
            if given and given not in ("<", "<=", ">=", ">"):
                cells.reject("comparison", "comparison.invalid", given)
            cells.row["comparison_sign"] = given or comparison

    def add(self, cells: Cells, index: int) -> None:
        from decimal import Decimal

        from tepat.monitoring.services import SeriesValueIn, TargetIn

        value = Decimal(str(cells.row["number"]))
        if not self.targets:
            self.rows.append(SeriesValueIn(cells.row["area_code"], cells.row["indicator_code"], cells.row["year_int"],
                                           value))  # fmt: skip
            return
        baseline = cells.parsed("baseline_value", _decimal)
        if baseline is not None and not abs(baseline) < VALUE_LIMIT:
            cells.issues.append(Issue(cells.line, "baseline_value", "number.range", str(baseline), error=False))
            baseline = None
        # Without a sign, a target is a ceiling for indicators where lower is better (poverty), else a floor.
        sign = cells.row["comparison_sign"] or ("<=" if cells.row["indicator_code"] in self.lower_is_better else ">=")
        self.rows.append(
            TargetIn(cells.row["area_code"], cells.row["indicator_code"], cells.row["year_int"], value, sign,
                     (cells.text("document") or "RPJMD")[:120], cells.parsed("baseline_year", _int),
                     Decimal(str(baseline)) if baseline is not None else None)
        )  # fmt: skip

    def commit(self, writer: RegistryWriter) -> CommitCounts:
        from tepat.monitoring.services import series_values_save, targets_save

        if self.targets:
            counts = targets_save(targets=self.rows, batch_id=writer.batch.pk, actor=writer.batch.created_by)
        else:
            counts = series_values_save(values=self.rows, batch_id=writer.batch.pk, source=writer.batch.source.name)
        writer.counts.values_new, writer.counts.values_changed = counts.created, counts.changed
        writer.counts.values_unchanged = counts.unchanged
        return writer.counts


class TargetListHandler(IndicatorHandler):
    targets = True
