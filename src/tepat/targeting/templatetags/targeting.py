"""Number formats of the targeting pages (shares as percentages, rupiah), locale-aware through floatformat."""

from __future__ import annotations

import math
from typing import Any

from django import template
from django.template.defaultfilters import floatformat

register = template.Library()


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@register.filter
def pct(value: Any, digits: int = 1) -> str:
    """0.1234 → "12,3 %" (Indonesian) / "12.3 %"; empty or NaN → "—"."""
    number = _number(value)
    return "—" if number is None else f"{floatformat(100 * number, f'{digits}g')} %"


@register.filter
def rupiah(value: Any) -> str:
    number = _number(value)
    return "—" if number is None else f"Rp {floatformat(number, '0g')}"


@register.filter
def num(value: Any, digits: int = 0) -> str:
    number = _number(value)
    return "—" if number is None else str(floatformat(number, f"{digits}g"))


@register.filter
def get(mapping: Any, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def sides(results: Any) -> list[Any]:
    """The figures of rule A, and of rule B when the scenario has one."""
    if not isinstance(results, dict):
        return []
    return [side for side in (results.get("a"), results.get("b")) if side]


@register.filter
def as_list(value: Any) -> list[Any]:
    return [value] if value else []
