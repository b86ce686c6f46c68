from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AnonymousUser

from tepat.accounts.models import Role, User
from tepat.accounts.permissions import Permission, PermissionDenied, has_permission, require, scope_code
from tepat.intake.services import ImportOutcome
from tepat.registry.models import Family, Person
from tepat.registry.selectors import family_list, family_profile, family_rows, region_overview

pytestmark = pytest.mark.django_db


def test_a_user_without_an_area_works_for_the_deployment_region(make_user: Callable[..., User]) -> None:
    assert scope_code(make_user("a", Role.TKPK_ANALYST)) == "64.74"
    assert scope_code(make_user("b", Role.VILLAGE_OPERATOR, area="64.74.03.1002")) == "64.74.03.1002"
    assert scope_code(AnonymousUser()) is None


def test_an_area_outside_the_region_gives_nothing(make_user: Callable[..., User]) -> None:
    assert scope_code(make_user("c", Role.VILLAGE_OPERATOR, area="11.01.01.2001")) is None
    # A province-level user in a regency deployment is narrowed to the deployment region.
    assert scope_code(make_user("d", Role.TKPK_ANALYST, area="64")) == "64.74"


def test_an_inactive_user_sees_nothing(make_user: Callable[..., User], imported: ImportOutcome) -> None:
    user = make_user("e", Role.TKPK_ANALYST)
    user.is_active = False
    assert family_list(actor=user).count() == 0


def test_a_village_operator_sees_only_their_village(make_user: Callable[..., User], imported: ImportOutcome) -> None:
    operator = make_user("kel", Role.VILLAGE_OPERATOR, area="64.74.03.1002")
    assert {f.village_id for f in family_list(actor=operator)} == {"64.74.03.1002"}
    assert Family.objects.visible_to(operator).count() == 1
    assert set(Person.objects.visible_to(operator).values_list("name", flat=True)) == {
        "Ahmad Fauzi",
        "Nur Aisyah",
        "Muhammad Rizky",
    }
    overview = region_overview(actor=operator)
    assert overview is not None and overview.area.code == "64.74.03.1002" and overview.families == 1


def test_a_district_enumerator_sees_the_district(make_user: Callable[..., User], imported: ImportOutcome) -> None:
    enumerator = make_user("enum", Role.ENUMERATOR, area="64.74.02")
    assert [f.kk for f in family_list(actor=enumerator)] == ["6474021010200004"]


def test_partners_see_masked_numbers_and_no_sensitive_fields(
    make_user: Callable[..., User], imported: ImportOutcome
) -> None:
    partner = make_user("mitra", Role.PARTNER, org="CSR PT Contoh")
    family = family_list(actor=partner).get(kk="6474031203150001")
    assert family_rows(actor=partner, families=[family])[0]["kk"] == "6474********0001"
    profile = family_profile(actor=partner, family=family)
    assert profile.kk == "6474********0001"
    assert profile.members[0].nik == "6474********0001" and profile.members[0].birth_date is None
    shown = {f.name for m in profile.members for f in m.fields}
    assert "mother_name" not in shown and "birth_date" not in shown
    analyst = make_user("analis", Role.TKPK_ANALYST)
    assert family_profile(actor=analyst, family=family).members[0].nik == "6474031207850001"


@pytest.mark.parametrize(
    "role, permission, allowed",
    [
        (Role.PARTNER, Permission.VIEW_FULL_NIK, False),
        (Role.AUDITOR, Permission.EDIT_REGISTRY, False),
        (Role.AUDITOR, Permission.VIEW_AUDIT, True),
        (Role.TKPK_ANALYST, Permission.MANAGE_USERS, False),
        (Role.TKPK_ADMIN, Permission.MANAGE_USERS, True),
        (Role.VILLAGE_OPERATOR, Permission.EXPORT_PERSONS, False),
    ],
)
def test_role_permissions(make_user: Callable[..., User], role: Role, permission: Permission, allowed: bool) -> None:
    user = make_user("u", role, org="Org" if role in (Role.PARTNER, Role.AGENCY_OPERATOR) else None)
    assert has_permission(user, permission) is allowed
    if not allowed:
        with pytest.raises(PermissionDenied):
            require(user, permission)


def test_passwords_are_hashed_with_argon2(make_user: Callable[..., User]) -> None:
    assert make_user("z", Role.AUDITOR).password.startswith("argon2")
