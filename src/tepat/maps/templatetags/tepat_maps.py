"""Numbers on maps as people in Indonesia write them (1.234; 12,5 %), in the HTML legend and the SVG export alike."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template
from django.utils.formats import get_format

register = template.Library()


@register.filter
def figure(value: Any, decimals: int = 0) -> str:
    """A figure rounded half up, grouped, with the active language's separators; "–" for no data.

    Django's ``floatformat`` does the same but costs ~0.3 ms a call, which a table of 400 villages feels.
    """
    if value is None or value == "":
        return "–"
    places = int(decimals)
    number = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{number:,.{places}f}"
    thousands, decimal = str(get_format("THOUSAND_SEPARATOR")), str(get_format("DECIMAL_SEPARATOR"))
    return text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)


@register.filter
def legend_range(klass: Any, whole: bool) -> str:
    """'3–7' for counts, '12,5–20,3' for rates; a class of one value shows it once."""
    decimals = 0 if whole else 1
    upper = figure(klass.upper, decimals)
    if klass.single:
        return upper
    lower = figure(klass.lower, decimals)
    return f"{lower}–{upper}" if klass.lower_inclusive else f"> {lower}–{upper}"
