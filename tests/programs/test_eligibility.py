"""The programs' family table counts members and reads exclusion findings as the targeting app's does, whichever
counts a rule asks for and whether it reads the whole registry (a region's refresh) or joins the family query (a
scoped dry run)."""

from __future__ import annotations

from datetime import date

import pytest

from tepat.intake.services import ImportOutcome
from tepat.programs.eligibility import FLAGS, MEMBER_COUNTS, family_table
from tepat.registry.models import Exclusion, Family, FamilyStatus, Person, VitalStatus
from tepat.targeting.table import family_table_from_registry

pytestmark = pytest.mark.django_db
ON = date(2026, 10, 1)


@pytest.mark.parametrize("everyone", [False, True])
@pytest.mark.parametrize(
    "wanted", [set(MEMBER_COUNTS), {"school_age_children"}, {"elderly", "disabled_members"}, {"children_under_5"}]
)
def test_member_counts_are_the_targeting_tables(imported: ImportOutcome, everyone: bool, wanted: set[str]) -> None:
    rizky = Person.objects.get(name="Muhammad Rizky")  # the one school-age child: dead ones leave the counts
    Person.objects.filter(pk=rizky.pk).update(disability=True)
    ahmad = Person.objects.get(nik="6474031207850001")
    Exclusion.objects.create(nik=ahmad.nik, person=ahmad, kind="asn", batch=imported.batch)
    families = Family.objects.filter(status=FamilyStatus.ACTIVE)
    for vital in (VitalStatus.ALIVE, VitalStatus.DECEASED):
        Person.objects.filter(pk=rizky.pk).update(vital_status=vital)
        expected = family_table_from_registry(families=families, on=ON)
        ours = family_table(families, fields=wanted, today=ON, everyone=everyone)
        assert ours.ids.tolist() == expected.ids.tolist()
        assert set(MEMBER_COUNTS) - wanted <= set(MEMBER_COUNTS) - set(ours.table.column_names)
        for name in (*wanted, *FLAGS):
            assert ours.table.column(name).to_pylist() == expected.table.column(name).to_pylist(), (vital, name)
        assert ours.table.column("flag.civil_servant").to_pylist().count(True) == 1


def test_member_counts_of_a_part_of_the_registry(imported: ImportOutcome) -> None:
    k1 = Family.objects.filter(kk="6474031203150001")
    ours = family_table(k1, fields={"members", "school_age_children"}, today=ON)
    assert ours.table.column("members").to_pylist() == [3]
    assert ours.table.column("school_age_children").to_pylist() == [1]
    assert family_table(Family.objects.none(), fields={"members"}, today=ON).table.num_rows == 0
