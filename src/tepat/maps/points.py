"""Household points: where a family's house is, for the roles that may know it, one village at a time.

A point comes from the family's address (``Address.lat/lon``, when an extract or a re-registration carried one) or
else from the latest field visit that recorded a geotag. A house's position is as personal as its address: only
roles that see sensitive data get points, only inside their area, one village per request (a village is a few
thousand houses at most), and every request is logged as a view of personal data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import OuterRef, Subquery

from tepat.accounts.permissions import Permission, has_permission
from tepat.areas.models import Level
from tepat.registry.models import Family, FamilyStatus
from tepat.verification.models import FieldVisit

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User

VILLAGE_CODE_LENGTH = 13  # 2.2.2.4 with dots


def may_see_points(actor: User | AnonymousUser) -> bool:
    return has_permission(actor, Permission.VIEW_PERSONS) and has_permission(actor, Permission.VIEW_SENSITIVE)


def household_points(*, actor: User | AnonymousUser, village: str) -> dict[str, Any]:
    """The active families of one village (inside the actor's scope) that have a position, as GeoJSON points."""
    features: list[dict[str, Any]] = []
    if not may_see_points(actor) or len(village) != VILLAGE_CODE_LENGTH:
        return {"type": "FeatureCollection", "features": features}
    visits = FieldVisit.objects.filter(family=OuterRef("pk"), latitude__isnull=False).order_by("-visited_on", "-id")
    families = (
        Family.objects.visible_to(actor)
        .filter(village_id=village, village__level=Level.VILLAGE, status=FamilyStatus.ACTIVE)
        .annotate(visit_lat=Subquery(visits.values("latitude")[:1]), visit_lon=Subquery(visits.values("longitude")[:1]))
        .values_list("pk", "desil_national", "address__lat", "address__lon", "visit_lat", "visit_lon")
    )
    for pk, desil, lat, lon, visit_lat, visit_lon in families:
        source = "alamat"
        if lat is None or lon is None:
            lat, lon, source = visit_lat, visit_lon, "kunjungan"
        if lat is None or lon is None:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(float(lon), 6), round(float(lat), 6)]},
                "properties": {"family": pk, "desil": desil, "source": source},
            }
        )
    return {"type": "FeatureCollection", "features": features}
