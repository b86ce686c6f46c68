"""Household points: only for roles that see sensitive data, one village inside their area, logged."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.test import Client
from django.utils import timezone

from tepat.accounts.models import AuditAction, AuditEvent, Role, User
from tepat.registry.models import Address, Family
from tepat.verification.services import field_visit_record
from tests.conftest import PASSWORD

VILLAGE = "64.74.03.1002"


def _get(user: User, village: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    response = client.get(f"/peta/titik.geojson?area={village}")
    return response.status_code, (json.loads(response.content) if response.status_code == 200 else {})


def test_points_come_from_the_address_or_else_the_latest_geotagged_visit(
    imported, admin: User, make_user: Callable[..., User]
) -> None:  # type: ignore[no-untyped-def]
    family = Family.objects.get(kk="6474031203150001")
    status, data = _get(admin, VILLAGE)
    assert status == 200 and data["features"] == []  # no coordinates yet
    enumerator = make_user("petugas", Role.ENUMERATOR, area=VILLAGE)
    field_visit_record(actor=enumerator, family=family, visited_on=timezone.localdate(), purpose="verval",
                       outcome="confirmed", latitude="0.1331", longitude="117.4872")  # fmt: skip
    status, data = _get(enumerator, VILLAGE)
    (point,) = data["features"]
    assert point["geometry"]["coordinates"] == [117.4872, 0.1331]
    assert point["properties"] == {"family": family.pk, "desil": 2, "source": "kunjungan"}
    Address.objects.filter(pk=family.address_id).update(lat=0.14, lon=117.5)
    (point,) = _get(enumerator, VILLAGE)[1]["features"]
    assert point["geometry"]["coordinates"] == [117.5, 0.14] and point["properties"]["source"] == "alamat"
    assert AuditEvent.objects.filter(action=AuditAction.PERSONAL_VIEW, target_type="maps.points").count() == 3


def test_partners_and_other_villages_get_no_points(imported, make_user: Callable[..., User]) -> None:  # type: ignore[no-untyped-def]
    family = Family.objects.get(kk="6474031203150001")
    Address.objects.filter(pk=family.address_id).update(lat=0.14, lon=117.5)
    partner = make_user("mitra", Role.PARTNER, org="PT Pupuk")
    assert _get(partner, VILLAGE)[0] == 403
    other = make_user("desa_lain", Role.VILLAGE_OPERATOR, area="64.74.01.1001")
    assert _get(other, VILLAGE) == (200, {"type": "FeatureCollection", "features": []})
    own = make_user("desa", Role.VILLAGE_OPERATOR, area=VILLAGE)
    assert len(_get(own, VILLAGE)[1]["features"]) == 1
    assert _get(own, "64.74.03")[1]["features"] == []  # one village per request, never a whole district
