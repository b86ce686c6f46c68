"""Rupiah and shares as TKPK documents write them: "Rp 51 M", "Rp 8,5 jt", "62,3 %"; "–" when undefined."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language
from django.utils.translation import gettext as _

register = template.Library()


def _number(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    if (get_language() or "id").startswith("en"):
        return text
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


@register.filter
def rupiah(value: Any) -> str:
    """Full rupiah with thousands separators: Rp 1.250.000."""
    if value is None or value == "":
        return "–"
    return f"Rp {_number(float(value), 0)}"


@register.filter
def rupiah_short(value: Any) -> str:
    """Rupiah in the units of planning documents: triliun, miliar, juta."""
    if value is None or value == "":
        return "–"
    amount = float(value)
    size = abs(amount)
    if size >= 1e12:
        return _("Rp %(n)s T") % {"n": _short(amount / 1e12)}
    if size >= 1e9:
        return _("Rp %(n)s M") % {"n": _short(amount / 1e9)}
    if size >= 1e6:
        return _("Rp %(n)s jt") % {"n": _short(amount / 1e6)}
    return f"Rp {_number(amount, 0)}"


def _short(value: float) -> str:
    """One decimal below 100 unless it is zero ("Rp 51 M", "Rp 8,5 M", "Rp 650 jt")."""
    if abs(value) >= 100 or round(value, 1) == round(value):
        return _number(round(value), 0)
    return _number(value, 1)


@register.filter
def pct(value: Any) -> str:
    if value is None or value == "":
        return "–"
    return f"{_number(float(value), 1)} %"


@register.filter
def count(value: Any) -> str:
    if value is None or value == "":
        return "–"
    return _number(float(value), 0)


@register.filter
def at(values: Any, index: int) -> Any:
    """values[index] in a template (the overlap matrix)."""
    try:
        return values[index]
    except (IndexError, KeyError, TypeError):
        return None


@register.filter
def short_label(strategy: Any) -> str:
    """A strategy's short name in the current language (names come from the data file, not the catalogue)."""
    return str(strategy.short_label(get_language() or "id"))


@register.filter
def long_label(strategy: Any) -> str:
    return str(strategy.label(get_language() or "id"))


@register.filter
def can_evaluate(user: Any) -> bool:
    """Whether the evaluation meeting view is for this user (the sub-navigation shows its link only then)."""
    from tepat.programs.access import can_view_evaluation

    return can_view_evaluation(user)


@register.filter
def times100(value: Any) -> float | None:
    """A share (0.75) as the percent figure ``pct`` writes (75)."""
    return None if value is None or value == "" else 100 * float(value)
