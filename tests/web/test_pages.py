from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from tepat.accounts.models import AuditAction, AuditEvent, Role, User
from tepat.intake.services import ImportOutcome
from tepat.registry.models import Family

from ..conftest import PASSWORD

pytestmark = pytest.mark.django_db


def login(client: Client, user: User) -> Client:
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_pages_need_a_login(client: Client) -> None:
    response = client.get("/wilayah/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get("/accounts/login/").status_code == 200


def test_the_overview_counts_families_persons_and_desil(client: Client, admin: User, imported: ImportOutcome) -> None:
    page = login(client, admin).get("/wilayah/").content.decode()
    assert "Kota Bontang" in page and "Bontang Barat" in page
    assert 'data-stat="families">3<' in page and 'data-stat="persons">5<' in page
    assert 'data-stat="desil14">2<' in page
    district = client.get("/wilayah/64.74.03/").content.decode()
    assert "Gunung Telihan" in district


def test_the_family_page_shows_sources_and_logs_the_view(client: Client, admin: User, imported: ImportOutcome) -> None:
    family = Family.objects.get(kk="6474031203150001")
    page = login(client, admin).get(f"/keluarga/{family.pk}/?tujuan=verifikasi").content.decode()
    assert "Nur Aisyah" in page and "6474035508880002" in page
    assert "dtsen_extract.csv · baris 3" in page
    event = AuditEvent.objects.get(action=AuditAction.PERSONAL_VIEW)
    assert (event.actor, event.target_id, event.purpose) == (admin, str(family.pk), "verifikasi")


def test_a_village_operator_cannot_open_another_village(
    client: Client, make_user: Callable[..., User], imported: ImportOutcome
) -> None:
    operator = make_user("kel", Role.VILLAGE_OPERATOR, area="64.74.03.1002")
    other = Family.objects.get(kk="6474011405180003")
    own = Family.objects.get(kk="6474031203150001")
    login(client, operator)
    assert client.get(f"/keluarga/{other.pk}/").status_code == 404
    assert client.get(f"/keluarga/{own.pk}/").status_code == 200
    listing = client.get("/keluarga/?wilayah=64.74.01.1001").content.decode()
    assert "6474011405180003" not in listing and "Budi Santoso" not in listing
    search = client.get("/keluarga/?q=Budi").content.decode()
    assert "Budi Santoso" not in search
    assert client.get("/wilayah/64.74.01/").status_code == 404


def test_partners_see_masked_niks_on_pages(
    client: Client, make_user: Callable[..., User], imported: ImportOutcome
) -> None:
    partner = make_user("mitra", Role.PARTNER, org="CSR PT Contoh")
    family = Family.objects.get(kk="6474031203150001")
    page = login(client, partner).get(f"/keluarga/{family.pk}/").content.decode()
    assert "6474031207850001" not in page and "6474********0001" in page
    assert "Siti Aminah" not in page  # mother's maiden name is sensitive


def test_searches_are_logged_and_found(client: Client, admin: User, imported: ImportOutcome) -> None:
    page = login(client, admin).get("/keluarga/?q=6474035508880002").content.decode()
    assert "6474031203150001" in page
    event = AuditEvent.objects.get(action=AuditAction.PERSONAL_SEARCH)
    assert event.detail["query"]["q"] == "6474035508880002" and event.detail["results"] == 1


def test_the_audit_log_is_for_auditors_and_admins(client: Client, make_user: Callable[..., User], admin: User) -> None:
    analyst = make_user("analis", Role.TKPK_ANALYST)
    assert login(client, analyst).get("/audit/").status_code == 403
    auditor = make_user("auditor", Role.AUDITOR)
    page = login(Client(), auditor).get("/audit/").content.decode()
    assert "Masuk" in page  # the login events themselves are audited


def test_english_is_available(client: Client, admin: User, imported: ImportOutcome) -> None:
    login(client, admin)
    client.post("/i18n/setlang/", {"language": "en", "next": "/wilayah/"})
    page = client.get("/wilayah/").content.decode()
    assert "Region overview" in page and "families" in page


def test_indonesian_is_the_default_whatever_the_browser_prefers(client: Client, admin: User) -> None:
    login(client, admin)
    page = client.get("/wilayah/", headers={"accept-language": "en-US,en;q=0.9"}).content.decode()
    assert "Ringkasan wilayah" in page and "Region overview" not in page


def test_the_family_heading_is_singular_in_english(client: Client, admin: User, imported: ImportOutcome) -> None:
    login(client, admin)
    client.post("/i18n/setlang/", {"language": "en", "next": "/wilayah/"})
    family = Family.objects.get(kk="6474031203150001")
    page = client.get(f"/keluarga/{family.pk}/").content.decode()
    assert "<h1>Family <span" in page


def test_the_overview_shows_unserved_poor_and_flagged_families_with_their_lists(
    client: Client, admin: User, imported: ImportOutcome, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from tepat.intake.services import import_file
    from tepat.registry.models import Exclusion, Membership, RegistryFlag

    recipients = tmp_path / "pkh.csv"
    recipients.write_text("NIK,NAMA,PERIODE,NOMINAL\n6474031207850001,Ahmad Fauzi,2026-Q3,750000\n", encoding="utf-8")
    import_file(actor=admin, path=recipients, kind="program", source_name="PKH", program="PKH")
    # Independently of the selector: families with a finding, and poor families nobody's ledger reaches.
    active = Family.objects.filter(status="active")
    flagged = {f.pk for f in active if RegistryFlag.objects.filter(family=f, resolved_at__isnull=True).exists()
               or any(RegistryFlag.objects.filter(person_id=m.person_id, resolved_at__isnull=True).exists()
                      or Exclusion.objects.filter(person_id=m.person_id).exists()
                      or m.person.vital_status == "deceased"
                      for m in Membership.objects.filter(family=f, active=True))}  # fmt: skip
    poor = [f for f in active if f.desil_national and f.desil_national <= 4]
    unserved = [f for f in poor if not Membership.objects.filter(family=f, active=True, person__benefits__isnull=False)]
    assert len(poor) == 2 and len(unserved) == 1 and flagged
    page = login(client, admin).get("/wilayah/").content.decode()
    assert f'data-stat="flagged"><a href="/keluarga/?wilayah=64.74&amp;temuan=1">{len(flagged)}<' in page
    assert f'belum_terlayani=1">{len(unserved)}<' in page and 'data-stat="coverage">50,0 %<' in page
    listed = client.get("/keluarga/?belum_terlayani=1").content.decode()
    assert (
        f"/keluarga/{unserved[0].pk}/" in listed
        and f"/keluarga/{poor[0].pk if poor[0] != unserved[0] else poor[1].pk}/" not in listed
    )
    listed = client.get("/keluarga/?temuan=1").content.decode()
    assert all(f"/keluarga/{pk}/" in listed for pk in flagged)
    assert all(f"/keluarga/{f.pk}/" not in listed for f in active if f.pk not in flagged)
