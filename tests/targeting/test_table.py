"""The family table built from the registry: the columns rules and scorecards read, checked against the extract."""

from __future__ import annotations

from datetime import date

import pytest

from tepat.accounts.models import User
from tepat.engine.rules import RuleError, RuleProblem
from tepat.intake.services import ImportOutcome
from tepat.registry.models import Exclusion, Family, Person, VitalStatus
from tepat.targeting.table import REGISTRY_FIELDS, compile_registry_rule, family_table_from_registry

pytestmark = pytest.mark.django_db
ON = date(2026, 10, 1)


def _row(data, kk: str) -> dict:  # type: ignore[no-untyped-def]
    family = Family.objects.get(kk=kk)
    return data.table.slice(int(data.rows_of([family.pk])[0]), 1).to_pylist()[0]


def test_one_row_per_active_family_with_member_counts_and_housing(imported: ImportOutcome) -> None:
    data = family_table_from_registry(on=ON)
    assert len(data) == Family.objects.count() == 3  # the family of an unknown village was rejected
    assert set(data.table.column_names) == REGISTRY_FIELDS
    k1 = _row(data, "6474031203150001")
    # Ahmad (41), Nur Aisyah (38), Muhammad Rizky (14, born 2012-01-03): one school-age child.
    assert (k1["members"], k1["school_age_children"], k1["children_under_5"], k1["elderly"]) == (3, 1, 0, 0)
    assert k1["desil"] == 2 and k1["extreme_poor"] is False and k1["kode_desa"] == "64.74.03.1002"
    assert (k1["kode_kecamatan"], k1["kode_kabupaten"]) == ("64.74.03", "64.74")
    assert (k1["floor"], k1["electricity"], k1["owns_car"]) == ("Semen", "450 VA", False)
    assert k1["female_head"] is False and k1["head_age"] == 41
    k3 = _row(data, "6474021010200004")
    assert k3["desil"] == 1 and k3["extreme_poor"] is True and k3["female_head"] is True
    assert k3["local_score"] is None and k3["flag.any"] is False


def test_the_dead_leave_the_counts_and_exclusions_become_flags(imported: ImportOutcome) -> None:
    rizky = Person.objects.get(name="Muhammad Rizky")
    rizky.vital_status = VitalStatus.DECEASED
    rizky.save()
    ahmad = Person.objects.get(nik="6474031207850001")
    Exclusion.objects.create(nik=ahmad.nik, person=ahmad, kind="asn", batch=imported.batch)
    k1 = _row(family_table_from_registry(on=ON), "6474031203150001")
    assert (k1["members"], k1["school_age_children"]) == (2, 0)
    assert k1["flag.civil_servant"] is True and k1["flag.any"] is True and k1["flag.car_owner"] is False


def test_the_table_is_limited_to_the_queryset_it_is_given(imported: ImportOutcome, make_user) -> None:  # type: ignore[no-untyped-def]
    from tepat.accounts.models import Role

    operator: User = make_user("desa", Role.VILLAGE_OPERATOR, area="64.74.03.1002")
    data = family_table_from_registry(families=Family.objects.visible_to(operator), on=ON)
    assert data.table.column("kode_desa").to_pylist() == ["64.74.03.1002"]


@pytest.mark.parametrize(
    "text, problem, position",
    [
        ("desil <= 4 and food_share > 0.5", RuleProblem.MISSING_COLUMN, 15),  # survey data the registry lacks
        ("desil <= 4 and desl > 0", RuleProblem.UNKNOWN_FIELD, 15),
        ('floor == "tanah"', RuleProblem.UNKNOWN_VALUE, 9),
        ("desil <= 1.000.000", RuleProblem.BAD_NUMBER, 9),
    ],
)
def test_registry_rules_are_refused_at_the_offending_position(text: str, problem: RuleProblem, position: int) -> None:
    with pytest.raises(RuleError) as caught:
        compile_registry_rule(text)
    assert caught.value.problem == problem and caught.value.position == position


def test_everyone_under_the_roof_counts_also_outside_the_table(imported: ImportOutcome) -> None:
    k1, k3 = Family.objects.get(kk="6474031203150001"), Family.objects.get(kk="6474021010200004")
    Family.objects.filter(pk=k3.pk).update(household=k1.household)  # Sri Wahyuni's KK moves into K1's dwelling
    whole = family_table_from_registry(on=ON)
    alone = family_table_from_registry(families=Family.objects.filter(pk=k1.pk), on=ON)
    for data in (whole, alone):
        row = _row(data, "6474031203150001")
        assert (row["members"], row["household_members"]) == (3, 4)
