"""Field visits: recorded from the family page by those who go to houses, shown on it, findings opened and closed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone

from tepat.accounts.models import AuditAction, AuditEvent, Role, User
from tepat.accounts.permissions import PermissionDenied
from tepat.registry.models import Family, FlagKind, RegistryFlag
from tepat.verification.models import FieldVisit
from tepat.verification.services import VisitError, field_visit_record
from tests.conftest import PASSWORD

VILLAGE = "64.74.03.1002"  # Ahmad Fauzi's family (K1)


@pytest.fixture
def family(imported) -> Family:  # type: ignore[no-untyped-def]
    return Family.objects.get(kk="6474031203150001")


@pytest.fixture
def enumerator(make_user: Callable[..., User]) -> User:
    return make_user("petugas", Role.ENUMERATOR, area=VILLAGE)


def _client(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _visit(client: Client, family: Family, **fields: str) -> str:
    data = {"tanggal": timezone.localdate().isoformat(), "keperluan": "verval", "hasil": "confirmed"} | fields
    response = client.post(f"/usulan/kunjungan/{family.pk}/", data, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_an_enumerator_records_a_visit_that_opens_a_finding_and_a_later_visit_closes_it(
    family: Family, enumerator: User
) -> None:
    client = _client(enumerator)
    page = _visit(client, family, hasil="moved", catatan="Rumah kosong, pindah ke Samarinda", lintang="0,1331",
                  bujur="117.4872", petugas="Wahyu (pendamping PKH)")  # fmt: skip
    assert "Kunjungan lapangan dicatat" in page and "Rumah kosong, pindah ke Samarinda" in page
    assert "0.133100, 117.487200" in page  # an enumerator sees sensitive data: the exact point
    visit = FieldVisit.objects.get(family=family)
    assert (visit.outcome, visit.officer, visit.recorded_by) == ("moved", "Wahyu (pendamping PKH)", enumerator)
    finding = RegistryFlag.objects.get(family=family, kind=FlagKind.FIELD_FINDING)
    assert finding.resolved_at is None and finding.detail["kunjungan"] == visit.pk
    assert AuditEvent.objects.filter(action=AuditAction.FIELD_VISIT, actor=enumerator).count() == 1

    _visit(client, family, hasil="confirmed")
    finding.refresh_from_db()
    assert finding.resolved_at is not None
    assert FieldVisit.objects.filter(family=family).count() == 2


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"lintang": "117.48", "bujur": "0.13"}, "di luar Indonesia"),  # swapped pair
        ({"lintang": "0.13"}, "bersama-sama"),
        ({"lintang": "nol", "bujur": "117"}, "bukan angka"),
        ({"hasil": "not_found"}, "perlu ditindaklanjuti"),  # a contradiction needs a note
        ({"tanggal": "2030-01-01"}, "masa depan"),
        ({"tanggal": "31/02/2026"}, "tidak terbaca"),
        ({"hasil": "hilang"}, "tidak dikenal"),
    ],
)
def test_bad_visits_are_refused_with_a_reason_and_nothing_is_written(
    family: Family, enumerator: User, fields: dict[str, str], message: str
) -> None:
    page = _visit(_client(enumerator), family, **fields)
    assert message in page
    assert not FieldVisit.objects.exists() and not RegistryFlag.objects.filter(kind=FlagKind.FIELD_FINDING).exists()


def test_who_may_record_and_see_visits(family: Family, make_user: Callable[..., User], enumerator: User) -> None:
    field_visit_record(actor=enumerator, family=family, visited_on=timezone.localdate() - dt.timedelta(days=2),
                       purpose="delivery", outcome="confirmed", latitude="0.1331", longitude="117.4872")  # fmt: skip
    partner = make_user("mitra", Role.PARTNER, org="PT Pupuk")
    with pytest.raises(PermissionDenied):
        field_visit_record(actor=partner, family=family, visited_on=timezone.localdate(), purpose="verval",
                           outcome="confirmed")  # fmt: skip
    # A partner sees the visit but only that the house has a point, not where it is; there is no form.
    page = _client(partner).get(f"/keluarga/{family.pk}/").content.decode()
    assert "Memantau penyaluran bantuan" in page and "117.487200" not in page and "Catat kunjungan" not in page
    assert _client(partner).post(f"/usulan/kunjungan/{family.pk}/", {"hasil": "confirmed"}).status_code == 403
    # Someone from another village cannot find the family at all.
    other = make_user("desa_lain", Role.VILLAGE_OPERATOR, area="64.74.01.1001")
    assert _client(other).post(f"/usulan/kunjungan/{family.pk}/", {"hasil": "confirmed"}).status_code == 404
    assert FieldVisit.objects.count() == 1


def test_visits_older_than_three_years_are_refused(family: Family, enumerator: User) -> None:
    with pytest.raises(VisitError):
        field_visit_record(actor=enumerator, family=family, visited_on=dt.date(2020, 1, 1), purpose="verval",
                           outcome="confirmed")  # fmt: skip


def test_the_demo_round_visits_families_in_the_enumerators_district_only(
    family: Family, make_user: Callable[..., User]
) -> None:
    from tepat.web.demo import demo_visits

    make_user("enumerator", Role.ENUMERATOR, area="64.74.03")
    demo_visits(region="64.74", seed=3, visits=5)
    assert set(FieldVisit.objects.values_list("family__village__parent_id", flat=True)) == {"64.74.03"}
    visit = FieldVisit.objects.get()  # one poor family in that district in the small extract
    assert visit.family == family and visit.officer and visit.visited_on < timezone.localdate()
