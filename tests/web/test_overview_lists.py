"""The dashboard and the family list read the kept village figures: counts, pages and links stay right per role."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from tepat.accounts.models import AuditAction, AuditEvent, Role, User
from tepat.intake.services import ImportOutcome
from tepat.registry.models import Family, FamilyStatus, Membership, Person
from tepat.registry.selectors import forget_figures

from ..conftest import PASSWORD

pytestmark = pytest.mark.django_db
VILLAGE = "64.74.03.1002"


@pytest.fixture(autouse=True)
def fresh_figures() -> None:
    """Rolled-back tests reuse SQLite's ids, so a kept count could outlive its data: start each test without."""
    forget_figures()


@pytest.fixture
def crowded(imported: ImportOutcome) -> list[Family]:
    """120 more families in one village (desil 1–3 in turn, a head each): more than two pages of the list."""
    families = Family.objects.bulk_create(
        [Family(village_id=VILLAGE, desil_national=1 + n % 3, kk=f"6474039{n:09d}") for n in range(120)]
    )
    persons = Person.objects.bulk_create([Person(name=f"Kepala {n}", nik=f"6474031{n:09d}") for n in range(120)])
    Membership.objects.bulk_create(
        [Membership(family=f, person=p, relationship="kepala") for f, p in zip(families, persons, strict=True)]
    )
    return families


def login(client: Client, user: User) -> Client:
    assert client.login(username=user.username, password=PASSWORD)
    return client


def listed(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/keluarga/(\d+)/"', page)]


def test_the_list_pages_through_every_family_once_with_the_count_from_the_figures(
    client: Client, admin: User, crowded: list[Family]
) -> None:
    login(client, admin)
    expected = list(
        Family.objects.filter(village_id=VILLAGE, status=FamilyStatus.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    seen: list[int] = []
    for number in (1, 2, 3):
        page = client.get(f"/keluarga/?wilayah={VILLAGE}&page={number}").content.decode()
        assert f"Halaman {number} dari 3 ({len(expected)} keluarga)" in page
        seen += listed(page)
    assert seen == expected
    page = client.get(f"/keluarga/?wilayah={VILLAGE}&desil=1").content.decode()
    assert "(40 keluarga)" in page and len(listed(page)) == 40  # the 40 added with desil 1 (K1 there is desil 2)
    searches = AuditEvent.objects.filter(action=AuditAction.PERSONAL_SEARCH).count()
    assert searches == 4  # every page of a list is a logged search


def test_a_district_user_sees_the_district_on_the_dashboard_and_in_the_list(
    client: Client, make_user: Callable[..., User], crowded: list[Family]
) -> None:
    login(client, make_user("kec", Role.TKPK_ANALYST, area="64.74.03"))
    page = client.get("/wilayah/").content.decode()
    district = Family.objects.filter(village__code__startswith="64.74.03.", status=FamilyStatus.ACTIVE).count()
    assert f'data-stat="families">{district}<' in page
    assert 'href="/keluarga/?wilayah=64.74.03.1002&amp;desil=1"' in page and "64.74.01" not in page
    listing = client.get("/keluarga/").content.decode()
    assert f"({district} keluarga)" in listing
    options = re.findall(r'<option value="(\d\d\.[\d.]+)"', listing)
    assert options[0] == "64.74.03" and all(code.startswith("64.74.03") for code in options)
    assert client.get("/keluarga/?wilayah=64.74.01.1001").content.decode().count("(0 keluarga)") == 1
    assert client.get("/wilayah/64.74.01/").status_code == 404


def test_a_village_operator_gets_counts_of_their_village_only(
    client: Client, make_user: Callable[..., User], crowded: list[Family]
) -> None:
    login(client, make_user("kel", Role.VILLAGE_OPERATOR, area=VILLAGE))
    mine = Family.objects.filter(village_id=VILLAGE, status=FamilyStatus.ACTIVE)
    assert f"({mine.count()} keluarga)" in client.get("/keluarga/").content.decode()
    unserved = client.get("/keluarga/?belum_terlayani=1").content.decode()
    assert f"({mine.filter(desil_national__lte=4).count()} keluarga)" in unserved  # nobody here is on a list
    assert "(0 keluarga)" in client.get("/keluarga/?wilayah=64.74.01.1001").content.decode()


def test_the_dashboard_shows_new_data_at_once(client: Client, admin: User, imported: ImportOutcome, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tepat.intake.services import import_file
    from tepat.registry.models import RegistryFlag

    def stat(name: str) -> str:
        page = client.get("/wilayah/").content.decode()
        found = re.search(rf'data-stat="{name}">(?:<a [^>]*>)?([\d.,]+)<', page)
        assert found is not None
        return found.group(1)

    login(client, admin)
    families, flagged, unserved = int(stat("families")), int(stat("flagged")), int(stat("unserved"))
    family = Family.objects.create(village_id="64.74.01.1001", desil_national=3)
    assert (int(stat("families")), int(stat("unserved"))) == (families + 1, unserved + 1)  # kept page not reused
    RegistryFlag.objects.create(kind="kk_invalid", family=family)
    assert int(stat("flagged")) == flagged + 1
    unserved += 1
    recipients = tmp_path / "pkh.csv"
    recipients.write_text("NIK,NAMA,PERIODE,NOMINAL\n6474031207850001,Ahmad Fauzi,2026-Q3,750000\n", encoding="utf-8")
    import_file(actor=admin, path=recipients, kind="program", source_name="PKH", program="PKH")
    assert int(stat("unserved")) == unserved - 1
