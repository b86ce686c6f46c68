"""Eligibility rules through the pages: refused at the position, dry runs that agree with the database, scope and
masking by role, and the audited priority-list export."""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from django.db.models import Count, Exists, OuterRef, Q
from django.test import Client
from python_calamine import CalamineWorkbook

from tepat.accounts.models import AuditAction, AuditEvent, Role, User
from tepat.engine.rules import RuleError
from tepat.intake.services import ImportOutcome
from tepat.registry.models import Exclusion, Family, FamilyStatus, Membership, VitalStatus
from tepat.targeting.models import EligibilityRule
from tepat.targeting.selectors import rule_dry_run

from ..conftest import PASSWORD

pytestmark = pytest.mark.django_db
RULE = "desil <= 4 and jumlah_anggota >= 3 and not flag.asn"


def login(client: Client, user: User) -> Client:
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_a_rule_with_a_mistake_is_refused_and_the_mistake_is_marked(client: Client, admin: User) -> None:
    login(client, admin)
    text = 'desil <= 4 and lantai == "Tanah" and umur_kepala >= 60'
    response = client.post("/penargetan/aturan/baru/", {"name": "Lansia miskin", "expression": text})
    page = response.content.decode()
    assert response.status_code == 400 and not EligibilityRule.objects.exists()
    assert 'data-code="rule.unknown_field"' in page and 'data-position="16"' in page
    assert "<mark" in page and ">lantai</mark>" in page and "maksud Anda" in page
    # the live check says the same while typing, without touching the database
    check = client.post("/penargetan/aturan/periksa/", {"expression": text}).content.decode()
    assert ">lantai</mark>" in check
    fixed = client.post("/penargetan/aturan/periksa/", {"expression": text.replace("lantai", "jenis_lantai")})
    assert "Aturan dapat dipakai" in fixed.content.decode() and "floor" in fixed.content.decode()


def test_a_stored_rule_always_compiles(admin: User) -> None:
    with pytest.raises(RuleError):
        EligibilityRule(name="rusak", expression="desil <=").save()
    with pytest.raises(RuleError):  # survey-only data: the registry cannot answer it
        EligibilityRule(name="pangan", expression="food_share > 0.5").save()
    assert not EligibilityRule.objects.exists()


def test_saving_through_the_page_keeps_the_rule_and_audits_it(client: Client, admin: User) -> None:
    login(client, admin)
    response = client.post("/penargetan/aturan/baru/", {"name": "PKH daerah", "expression": RULE, "note": "uji"})
    rule = EligibilityRule.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/penargetan/aturan/{rule.pk}/"
    assert rule.created_by == admin and rule.expression == RULE
    assert AuditEvent.objects.filter(action="targeting.rule", target_id=str(rule.pk)).exists()
    page = client.get(f"/penargetan/aturan/{rule.pk}/").content.decode()
    assert "Uji coba di wilayah Anda" in page and "jumlah_anggota" in page


def _orm_eligible_by_village() -> dict[str, int]:
    """The same rule, written as a database query: living members of the active KK, no ASN finding on them."""
    living = Q(memberships__active=True, memberships__person__vital_status=VitalStatus.ALIVE)
    asn = Membership.objects.filter(
        family=OuterRef("pk"), active=True, person__vital_status=VitalStatus.ALIVE,
        person__in=Exclusion.objects.filter(kind="asn").values("person_id"),
    )  # fmt: skip
    families = (
        Family.objects.filter(status=FamilyStatus.ACTIVE, desil_national__lte=4)
        .annotate(living=Count("memberships", filter=living))
        .filter(living__gte=3)
        .exclude(Exists(asn))
    )
    return dict(Counter(families.values_list("village_id", flat=True)))


def test_dry_run_counts_equal_an_independent_database_count(client: Client, admin: User, bontang: Path) -> None:
    expected = _orm_eligible_by_village()
    assert sum(expected.values()) > 20 and Exclusion.objects.filter(kind="asn", person__isnull=False).exists()
    login(client, admin)
    page = client.get("/penargetan/aturan/uji/", {"ekspresi": RULE}).content.decode()
    shown = {area: int(n) for area, n in re.findall(r'data-area="([\d.]+)" data-eligible="(\d+)"', page)}
    assert {k: v for k, v in shown.items() if v} == expected
    result = rule_dry_run(actor=admin, expression=RULE)
    assert result is not None and result.eligible == sum(expected.values())
    assert result.total == Family.objects.filter(status=FamilyStatus.ACTIVE).count()
    assert len(result.examples_in) == 5 and all(e.result is True for e in result.examples_in)
    assert all(e.result is not True for e in result.examples_out)
    # The search is logged as a personal-data search, with the rule.
    assert AuditEvent.objects.filter(action=AuditAction.PERSONAL_SEARCH, detail__query__aturan=RULE).exists()


def test_a_village_operator_dry_runs_over_their_village_only(
    client: Client, bontang: Path, make_user: Callable[..., User]
) -> None:
    village = "64.74.03.1002"
    operator = make_user("desa", Role.VILLAGE_OPERATOR, area=village)
    result = rule_dry_run(actor=operator, expression="desil >= 1 or desil is null")
    assert result is not None
    assert [row["area"] for row in result.by_area] == [village]
    assert result.total == Family.objects.filter(village_id=village, status=FamilyStatus.ACTIVE).count()
    assert {e.line.village_code for e in result.examples_in} == {village}
    other = Family.objects.exclude(village_id=village).first()
    assert other is not None
    page = login(client, operator).get("/penargetan/aturan/uji/", {"ekspresi": "desil <= 10", "keluarga": other.pk})
    assert "Keluarga tidak ditemukan di wilayah Anda" in page.content.decode()


def test_partners_see_masked_numbers_and_initials(
    client: Client, imported: ImportOutcome, make_user: Callable[..., User]
) -> None:
    partner = make_user("mitra", Role.PARTNER, org="PT Contoh")
    page = login(client, partner).get("/penargetan/aturan/uji/", {"ekspresi": "desil <= 2"}).content.decode()
    assert "6474********0001" in page  # K1's KK, masked
    assert "6474031203150001" not in page and "Ahmad Fauzi" not in page and "A. F." in page
    checked = client.get("/penargetan/aturan/uji/", {"ekspresi": "desil <= 2", "keluarga": "6474031203150001"})
    assert "Memenuhi syarat: desil &lt;= 2 (desil = 2)" in checked.content.decode()


def test_the_priority_list_export_is_audited_and_ordered(client: Client, admin: User, bontang: Path) -> None:
    rule = EligibilityRule.objects.create(name="PKH", expression=RULE, created_by=admin)
    response = login(client, admin).get(f"/penargetan/aturan/{rule.pk}/daftar-prioritas.xlsx")
    assert response.status_code == 200 and response.content[:2] == b"PK"
    rows = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_name("Daftar prioritas")
    data = rows.to_python()
    header, body = data[0], data[1:]
    assert len(body) == sum(_orm_eligible_by_village().values())
    desil = [row[header.index("Desil nasional")] for row in body]
    assert desil == sorted(desil)
    event = AuditEvent.objects.get(action=AuditAction.PERSONAL_EXPORT)
    assert event.actor == admin and event.detail["rows"] == len(body) and event.target_id == str(rule.pk)


def test_without_export_permission_nothing_leaves_and_nothing_is_logged(
    client: Client, imported: ImportOutcome, make_user: Callable[..., User]
) -> None:
    rule = EligibilityRule.objects.create(name="semua", expression="desil <= 10")
    partner = make_user("mitra", Role.PARTNER, org="PT Contoh")
    response = login(client, partner).get(f"/penargetan/aturan/{rule.pk}/daftar-prioritas.xlsx")
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action=AuditAction.PERSONAL_EXPORT).exists()


def test_ages_are_whole_years_on_the_day(imported: ImportOutcome, admin: User) -> None:
    """Muhammad Rizky, born 2012-01-03, is 14 on 2026-10-01: a school-age child of K1."""
    result = rule_dry_run(actor=admin, expression="school_age_children >= 1", on=date(2026, 10, 1))
    assert result is not None and result.eligible == 1
