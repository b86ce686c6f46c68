"""Numbers on maps as people in Indonesia write them (1.234; 12,5 %), in the HTML legend and the SVG export alike."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.defaultfilters import floatformat

register = template.Library()


@register.filter
def figure(value: Any, decimals: int = 0) -> str:
    """A figure with grouping and the active language's separators; "–" for no data."""
    if value is None or value == "":
        return "–"
    return str(floatformat(value, f"{int(decimals)}g"))  # rounds (number_format alone truncates 66.67 to 66,6)


@register.filter
def legend_range(klass: Any, whole: bool) -> str:
    """'3–7' for counts, '12,5–20,3' for rates; a class of one value shows it once."""
    decimals = 0 if whole else 1
    upper = figure(klass.upper, decimals)
    if klass.single:
        return upper
    lower = figure(klass.lower, decimals)
    return f"{lower}–{upper}" if klass.lower_inclusive else f"> {lower}–{upper}"
