"""The kept village figures and the family list built on them: the same families as counted one by one, within
the user's area, refreshed when the data change."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tepat.accounts.models import Role, User
from tepat.intake.services import ImportOutcome, import_file
from tepat.programs.models import Benefit
from tepat.registry.models import (
    Exclusion,
    ExclusionKind,
    Family,
    FamilyStatus,
    Membership,
    Person,
    RegistryFlag,
    VitalStatus,
)
from tepat.registry.selectors import (
    area_choices,
    data_stamp,
    family_count,
    family_list,
    family_rows,
    flagged_families_q,
    flagged_served_figures,
    forget_figures,
    region_overview,
    served_families_q,
    village_figures,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_figures() -> None:
    """Rolled-back tests reuse SQLite's ids, so a kept count could outlive its data: start each test without."""
    forget_figures()


@pytest.fixture
def registry(imported: ImportOutcome, admin: User, tmp_path: Path) -> ImportOutcome:
    """The shared extract, a PKH list reaching one poor family, and rows of every kind a finding can come from."""
    recipients = tmp_path / "pkh.csv"
    recipients.write_text("NIK,NAMA,PERIODE,NOMINAL\n6474031207850001,Ahmad Fauzi,2026-Q3,750000\n", encoding="utf-8")
    import_file(actor=admin, path=recipients, kind="program", source_name="PKH", program="PKH")
    RegistryFlag.objects.filter(family__isnull=False).delete()  # start from no finding: each one is added below
    RegistryFlag.objects.filter(person__isnull=False).delete()
    families = []
    rows = [("64.74.03.1002", 1), ("64.74.03.1002", 3), ("64.74.03.1002", None), ("64.74.01.1003", 4),
            ("64.74.01.1003", 7), ("64.74.01.1003", 2), ("64.74.02.1001", 4)]  # fmt: skip
    for n, (village, desil) in enumerate(rows):
        family = Family.objects.create(village_id=village, desil_national=desil, kk=f"64740{n:011d}")
        for position in range(2):
            person = Person.objects.create(name=f"Warga {n}-{position}", nik=f"6474{n:06d}{position:06d}")
            Membership.objects.create(family=family, person=person, position=position,
                                      relationship="kepala" if position == 0 else "anak")  # fmt: skip
        families.append(family)
    Family.objects.create(village_id="64.74.01.1003", desil_national=1, status=FamilyStatus.RETIRED)
    member = {f.pk: list(Membership.objects.filter(family=f).order_by("position")) for f in families}
    batch = imported.batch
    RegistryFlag.objects.create(kind="kk_invalid", family=families[0])  # a family finding
    RegistryFlag.objects.create(kind="kk_invalid", family=families[1], resolved_at="2026-10-01T00:00:00Z")  # closed
    RegistryFlag.objects.create(kind="nik_invalid", person=member[families[3].pk][1].person)  # a person finding only
    Exclusion.objects.create(
        nik="x", person=member[families[4].pk][0].person, kind=ExclusionKind.CAR_OWNER, batch=batch
    )
    Person.objects.filter(pk=member[families[5].pk][1].person_id).update(vital_status=VitalStatus.DECEASED)
    Benefit.objects.create(program=Benefit.objects.first().program, period="2026-Q3",  # type: ignore[union-attr]
                           person=member[families[5].pk][0].person, batch=batch)  # fmt: skip
    Benefit.objects.create(program=Benefit.objects.first().program, period="2026-Q3",  # type: ignore[union-attr]
                           person=member[families[6].pk][1].person, batch=batch)  # fmt: skip
    return imported


def members_of(family: Family) -> list[Membership]:
    return list(Membership.objects.filter(family=family, active=True).select_related("person"))


def is_flagged(family: Family) -> bool:
    members = members_of(family)
    return RegistryFlag.objects.filter(family=family, resolved_at__isnull=True).exists() or any(
        RegistryFlag.objects.filter(person_id=m.person_id, resolved_at__isnull=True).exists()
        or Exclusion.objects.filter(person_id=m.person_id).exists()
        or m.person.vital_status == VitalStatus.DECEASED
        for m in members
    )


def is_served(family: Family) -> bool:
    return any(Benefit.objects.filter(person_id=m.person_id).exists() for m in members_of(family))


def test_village_figures_count_each_family_as_one_by_one(registry: ImportOutcome) -> None:
    figures = village_figures()
    expected: dict[str, Counter[str]] = {}
    for family in Family.objects.filter(status=FamilyStatus.ACTIVE):
        c = expected.setdefault(family.village_id, Counter())
        slot = family.desil_national if family.desil_national and 1 <= family.desil_national <= 10 else 0
        c[f"families{slot}"] += 1
        c["persons"] += len(members_of(family))
        c[f"flagged{slot}"] += is_flagged(family)
        c[f"served{slot}"] += is_served(family)
        c[f"flagged_served{slot}"] += is_flagged(family) and is_served(family)
    assert set(figures) == set(expected)
    for village, c in expected.items():
        f = figures[village]
        assert f.persons == c["persons"], village
        for slot in range(11):
            both = flagged_served_figures().get(village, (0,) * 11)[slot]
            assert (f.families[slot], f.flagged[slot], f.served[slot], both) == (
                c[f"families{slot}"], c[f"flagged{slot}"], c[f"served{slot}"], c[f"flagged_served{slot}"]
            ), (village, slot)  # fmt: skip
    # the same sets as the one-pass IN-subqueries other modules use
    active = Family.objects.filter(status=FamilyStatus.ACTIVE)
    assert sum(sum(f.flagged) for f in figures.values()) == active.filter(flagged_families_q()).count()
    assert sum(sum(f.served) for f in figures.values()) == active.filter(served_families_q()).count()
    assert sum(f.flagged[0] for f in figures.values()) == 0 and figures["64.74.01.1003"].flagged[4] == 1


def test_the_overview_sums_the_villages_inside_the_users_area(
    registry: ImportOutcome, admin: User, make_user: Callable[..., User]
) -> None:
    active = Family.objects.filter(status=FamilyStatus.ACTIVE)
    region = region_overview(actor=admin)
    assert region is not None and region.area.code == "64.74"
    assert region.families == active.count()
    assert region.persons == Membership.objects.filter(active=True, family__status=FamilyStatus.ACTIVE).count()
    assert region.flagged == sum(is_flagged(f) for f in active)
    poor = [f for f in active if f.desil_national and f.desil_national <= 4]
    assert region.poor_served == sum(is_served(f) for f in poor) and region.poor_unserved == len(poor) - sum(
        is_served(f) for f in poor
    )
    assert [c.area.code for c in region.children] == ["64.74.01", "64.74.02", "64.74.03"]
    assert sum(c.families for c in region.children) == region.families
    district = region_overview(actor=make_user("kec", Role.TKPK_ANALYST, area="64.74.01"))
    assert district is not None and district.families == active.filter(village__code__startswith="64.74.01.").count()
    assert {c.area.code for c in district.children} >= {"64.74.01.1001", "64.74.01.1003"}
    assert all(c.area.code.startswith("64.74.01.") for c in district.children)
    village = region_overview(actor=make_user("kel", Role.VILLAGE_OPERATOR, area="64.74.01.1003"))
    assert village is not None and village.children == []
    assert village.families == 3 and village.desil_families[3] == 1 and village.flagged == 3
    assert region_overview(actor=make_user("none", Role.VILLAGE_OPERATOR, area="11.01.01.2001")) is None


FILTERS = [
    {"desil": desil, "flagged": flagged, "poor_unserved": unserved}
    for desil, flagged, unserved in itertools.product([None, 1, 4, 7], [False, True], [False, True])
]


@pytest.mark.parametrize("who", ["admin", "district", "village", "partner"])
def test_the_family_list_and_its_count_agree_with_the_families_one_by_one(
    registry: ImportOutcome, admin: User, make_user: Callable[..., User], who: str
) -> None:
    users = {"admin": (admin, "64.74"), "district": (make_user("kec", Role.TKPK_ANALYST, area="64.74.01"), "64.74.01"),
             "village": (make_user("kel", Role.VILLAGE_OPERATOR, area="64.74.03.1002"), "64.74.03.1002"),
             "partner": (make_user("mitra", Role.PARTNER, org="CSR"), "64.74")}  # fmt: skip
    actor, scope = users[who]
    for village in ["", "64.74.03.1002", "64.74.01.1003", "64.74.01", "64.74.02.1001"]:
        for filters in FILTERS:
            listed = list(family_list(actor=actor, village=village, **filters))  # type: ignore[arg-type]
            area = village or scope
            expected = [
                f
                for f in Family.objects.filter(status=FamilyStatus.ACTIVE).order_by("village_id", "pk")
                if (f.village_id == scope or f.village_id.startswith(scope + "."))
                and (f.village_id == area or f.village_id.startswith(area + "."))
                and (filters["desil"] is None or f.desil_national == filters["desil"])
                and (not filters["flagged"] or is_flagged(f))
                and (not filters["poor_unserved"] or (f.desil_national in (1, 2, 3, 4) and not is_served(f)))
            ]
            assert [f.pk for f in listed] == [f.pk for f in expected], (village, filters)
            assert family_count(actor=actor, village=village, **filters) == len(expected), (village, filters)  # type: ignore[arg-type]
    assert family_count(actor=actor, query="Warga") is None  # a text search is counted by the database


def test_the_rows_show_head_and_members_and_mask_for_partners(
    registry: ImportOutcome, admin: User, make_user: Callable[..., User]
) -> None:
    family = Family.objects.get(kk="6474031203150001")
    [row] = family_rows(actor=admin, families=[family])
    assert (row["head_name"], row["members"], row["kk"]) == ("Ahmad Fauzi", 3, "6474031203150001")
    partner = make_user("mitra", Role.PARTNER, org="CSR")
    [row] = family_rows(actor=partner, families=list(family_list(actor=partner).filter(pk=family.pk)))
    assert row["kk"] == "6474********0001" and row["head_name"] == "Ahmad Fauzi"


def test_the_figures_follow_the_data(registry: ImportOutcome, admin: User, tmp_path: Path) -> None:
    before, stamp = village_figures(), data_stamp()
    assert village_figures() is before and data_stamp() == stamp  # nothing changed: the kept figures
    family = Family.objects.get(kk="6474011405180003")
    RegistryFlag.objects.create(kind="kk_invalid", family=family)
    after = village_figures()
    assert after is not before and sum(after[family.village_id].flagged) == sum(before[family.village_id].flagged) + 1
    deaths = tmp_path / "kematian.csv"
    deaths.write_text("nik,nama,tanggal_meninggal\n6474010101700003,Budi Santoso,2026-10-01\n", encoding="utf-8")
    import_file(actor=admin, path=deaths, kind="death", source_name="Disdukcapil")
    assert data_stamp() != stamp


def test_the_area_filter_offers_the_users_districts_and_villages_only(
    admin: User, make_user: Callable[..., User]
) -> None:
    region = area_choices(actor=admin)
    assert ("64.74.01", "Kecamatan Bontang Utara", False) in region
    assert ("64.74.03.1002", "Kelurahan Gunung Telihan", True) in region
    assert {code[:5] for code, _, _ in region} == {"64.74"}
    district = area_choices(actor=make_user("kec", Role.TKPK_ANALYST, area="64.74.01"))
    assert district[0] == ("64.74.01", "Kecamatan Bontang Utara", False)
    assert all(code.startswith("64.74.01") for code, _, _ in district) and len(district) > 2
    assert area_choices(actor=make_user("kel", Role.VILLAGE_OPERATOR, area="64.74.03.1002")) == [
        ("64.74.03.1002", "Kelurahan Gunung Telihan", True)
    ]


def test_searches_by_name_nik_and_kk_within_the_users_area(
    registry: ImportOutcome, admin: User, make_user: Callable[..., User]
) -> None:
    budi = Family.objects.get(kk="6474011405180003")  # 64.74.01.1001; Ahmad Fauzi is listed here too (inactive)
    ahmad = Family.objects.get(kk="6474031203150001")  # 64.74.03.1002
    assert [f.pk for f in family_list(actor=admin, query="6474011405180003")] == [budi.pk]
    assert [f.pk for f in family_list(actor=admin, query="6474 0101 0170 0003")] == [budi.pk]
    assert [f.pk for f in family_list(actor=admin, query="6474031207850001")] == [budi.pk, ahmad.pk]
    assert [f.pk for f in family_list(actor=admin, query="fauzi")] == [budi.pk, ahmad.pk]
    operator = make_user("kel", Role.VILLAGE_OPERATOR, area="64.74.03.1002")
    assert [f.pk for f in family_list(actor=operator, query="6474031207850001")] == [ahmad.pk]
    assert list(family_list(actor=operator, query="6474011405180003")) == []
    assert list(family_list(actor=operator, query="Budi")) == []
