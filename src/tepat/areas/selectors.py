"""Reads of the region tree. Areas are public facts, so these need no acting user."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db.models import Q, QuerySet

from tepat.areas.models import Area, Level, ancestor_codes
from tepat.engine.identity import RegionCodes


def within_q(code: str, *, field: str = "code") -> Q:
    """Q for every code inside ``code`` (itself included): fixed-width codes make this a prefix test."""
    if len(code) == 13:
        return Q(**{field: code})
    return Q(**{field: code}) | Q(**{f"{field}__startswith": code + "."})


def deployment_region() -> Area:
    """The region this deployment serves (``TEPAT_REGION``); raises Area.DoesNotExist before `areas load`."""
    return Area.objects.get(code=settings.TEPAT_REGION)


def areas_within(code: str, *, level: Level | None = None) -> QuerySet[Area]:
    areas = Area.objects.filter(within_q(code))
    if level is not None:
        areas = areas.filter(level=level)
    return areas


def area_path(area: Area) -> list[Area]:
    """Province down to the area itself, for breadcrumbs."""
    codes = ancestor_codes(area.code)
    by_code = {a.code: a for a in Area.objects.filter(code__in=codes)}
    return [by_code[c] for c in codes if c in by_code]


@lru_cache(maxsize=1)
def region_codes() -> RegionCodes:
    """The province/regency/district code sets NIK validation checks against (from the shipped reference data)."""
    return RegionCodes.from_reference_dir(Path(settings.DATA_DIR) / "reference")


def village_codes() -> set[str]:
    return set(Area.objects.filter(level=Level.VILLAGE).values_list("code", flat=True))


def region_village_names() -> list[tuple[str, str, str, str]]:
    """(village code, village name, district code, district name) of every village of the deployment's region: the
    names lists give instead of codes (``intake.kinds.base.VillageNames``)."""
    return list(
        Area.objects.filter(within_q(settings.TEPAT_REGION), level=Level.VILLAGE)
        .order_by("code")
        .values_list("code", "name", "parent__code", "parent__name")
    )
