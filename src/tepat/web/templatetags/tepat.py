"""Small server-rendered charts: no chart library and no CDN needed."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def desil_bar(counts: Any) -> SafeString:
    """A stacked bar of families by desil 1–10 (poorest first) with an accessible text label."""
    total = sum(counts.desil_families)
    if not total:
        return mark_safe('<span class="muted">–</span>')
    segments = format_html_join(
        "",
        '<span class="seg d{}" style="width:{}%" title="D{}: {}"></span>',
        ((i + 1, f"{100 * n / total:.2f}", i + 1, n) for i, n in enumerate(counts.desil_families) if n),
    )
    share = 100 * counts.desil_1_4 / total
    return format_html('<span class="bar" role="img" aria-label="desil 1–4: {}%">{}</span>', f"{share:.1f}", segments)


@register.filter
def get(mapping: Any, key: str) -> Any:
    """`{{ counts|get:key }}`: a mapping's value for a key held in a variable (0 for a Counter's missing key)."""
    try:
        return mapping[key]
    except (KeyError, TypeError, IndexError):
        return ""
