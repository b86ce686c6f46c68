"""Changing, deleting and archiving rules and scenarios through the pages: versions kept, the old and new text in
the audit row, archived (not deleted) once a scenario or an export refers to them, and only for those allowed."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client

from tepat.accounts.models import AuditAction, AuditEvent, Role, User
from tepat.intake.services import ImportOutcome
from tepat.registry.models import Family
from tepat.targeting.models import EligibilityRule, RunStatus, Scenario, ScenarioKind, ScenarioProgram
from tepat.targeting.services import LineInput, TargetingError, rule_save, scenario_create, scenario_update

from ..conftest import PASSWORD

pytestmark = pytest.mark.django_db
LINE = Decimal(800_000)


def login(client: Client, user: User) -> Client:
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _rule_events(rule: EligibilityRule) -> list[dict[str, object]]:
    return [
        e.detail
        for e in AuditEvent.objects.filter(action=AuditAction.TARGETING_RULE, target_id=str(rule.pk)).order_by("pk")
    ]


def test_changing_a_rule_keeps_every_version_and_audits_old_and_new_text(client: Client, admin: User) -> None:
    login(client, admin)
    client.post("/penargetan/aturan/baru/", {"name": "PKH", "expression": "desil <= 4"})
    rule = EligibilityRule.objects.get()
    response = client.post(f"/penargetan/aturan/{rule.pk}/", {"name": "PKH", "expression": "desil <= 3"})
    assert response.status_code == 302
    client.post(f"/penargetan/aturan/{rule.pk}/", {"name": "PKH", "expression": "desil <= 3"})  # nothing changed
    rule.refresh_from_db()
    assert (rule.version, rule.expression) == (2, "desil <= 3")
    assert list(rule.versions.values_list("version", "expression")) == [(2, "desil <= 3"), (1, "desil <= 4")]
    created, changed = _rule_events(rule)
    assert (created["change"], created["before"]) == ("create", None)
    assert changed["change"] == "update" and changed["version"] == 2
    assert (changed["before"]["expression"], changed["expression"]) == ("desil <= 4", "desil <= 3")  # type: ignore[index]
    page = client.get(f"/penargetan/aturan/{rule.pk}/").content.decode()
    assert 'id="versions"' in page and 'data-version="1"' in page and "desil &lt;= 4" in page


def test_a_changed_rule_is_checked_again_and_a_broken_change_stores_nothing(client: Client, admin: User) -> None:
    rule = rule_save(actor=admin, name="Lansia", expression="elderly > 0")
    response = login(client, admin).post(f"/penargetan/aturan/{rule.pk}/", {"name": "Lansia", "expression": "lansia >"})
    assert response.status_code == 400 and 'data-code="rule.unexpected_end"' in response.content.decode()
    rule.refresh_from_db()
    assert (rule.version, rule.expression, rule.versions.count()) == (1, "elderly > 0", 1)


def test_an_unused_rule_is_deleted_and_a_used_one_archived(
    client: Client, admin: User, imported: ImportOutcome, run_tasks: Callable[..., object]
) -> None:
    unused = rule_save(actor=admin, name="Coba", expression="desil <= 2")
    used = rule_save(actor=admin, name="Desil 1-4", expression="desil <= 4")
    run_tasks(scenario_create, actor=admin, name="Sembako", budget=Decimal(3_000_000),
              cost_per_family=Decimal(1_000_000), rule_a=used, poverty_line=LINE)  # fmt: skip
    login(client, admin)
    assert client.post(f"/penargetan/aturan/{unused.pk}/hapus/")["Location"] == "/penargetan/aturan/"
    assert not EligibilityRule.objects.filter(pk=unused.pk).exists()
    assert _rule_events_by_change("delete") == [{"name": "Coba", "expression": "desil <= 2"}]
    assert client.post(f"/penargetan/aturan/{used.pk}/hapus/")["Location"] == f"/penargetan/aturan/{used.pk}/"
    used.refresh_from_db()
    assert used.archived_at is not None and Scenario.objects.get().rule_a == used
    listing = client.get("/penargetan/aturan/").content.decode()
    assert f'href="/penargetan/aturan/{used.pk}/"' not in listing and 'id="archived-rules"' in listing
    assert f'href="/penargetan/aturan/{used.pk}/"' in client.get("/penargetan/aturan/?arsip=1").content.decode()
    form = client.get("/penargetan/skenario/").content.decode()
    assert f'<option value="{used.pk}"' not in form  # an archived rule is not offered for new scenarios
    with pytest.raises(TargetingError):
        scenario_create(actor=admin, name="x", budget=Decimal(1), cost_per_family=Decimal(1), rule_a=used,
                        poverty_line=LINE)  # fmt: skip
    with pytest.raises(TargetingError):
        rule_save(actor=admin, rule=used, name="Desil 1-4", expression="desil <= 3")
    client.post(f"/penargetan/aturan/{used.pk}/pulihkan/")
    used.refresh_from_db()
    assert used.archived_at is None
    assert [d["change"] for d in _rule_events(used)] == ["create", "archive", "restore"]


def _rule_events_by_change(change: str) -> list[dict[str, object]]:
    return [
        {"name": e.detail["name"], "expression": e.detail["expression"]}
        for e in AuditEvent.objects.filter(action=AuditAction.TARGETING_RULE, detail__change=change)
    ]


def test_a_rule_whose_priority_list_was_exported_is_archived(
    client: Client, admin: User, imported: ImportOutcome
) -> None:
    rule = rule_save(actor=admin, name="Desil 1-2", expression="desil <= 2")
    login(client, admin)
    assert client.get(f"/penargetan/aturan/{rule.pk}/daftar-prioritas.xlsx").status_code == 200
    client.post(f"/penargetan/aturan/{rule.pk}/hapus/")
    rule.refresh_from_db()
    assert rule.archived_at is not None


def test_changing_a_scenario_runs_it_again_and_audits_both_versions(
    client: Client, admin: User, imported: ImportOutcome, run_tasks: Callable[..., object]
) -> None:
    desil1 = rule_save(actor=admin, name="Desil 1", expression="desil <= 1")
    desil4 = rule_save(actor=admin, name="Desil 1-4", expression="desil <= 4")
    scenario = run_tasks(scenario_create, actor=admin, name="Sembako", budget=Decimal(3_000_000),
                         cost_per_family=Decimal(1_000_000), rule_a=desil1, poverty_line=LINE)  # fmt: skip
    assert isinstance(scenario, Scenario)
    scenario.refresh_from_db()
    k1, k3 = (Family.objects.get(kk=kk).pk for kk in ("6474031203150001", "6474021010200004"))
    assert scenario.results["a"]["order"] == [k3]
    login(client, admin)
    page = client.get(f"/penargetan/skenario/{scenario.pk}/ubah/").content.decode()
    assert 'value="Sembako"' in page and 'value="3000000"' in page and 'value="800000"' in page
    data = {"b-name": "Sembako 2027", "b-poverty_line": "800.000", "b-welfare_source": "desil", "b-desil_cuts": "",
            "b-budget": "Rp 3.000.000", "b-cost_per_family": "1.000.000", "b-rule_a": desil4.pk,
            "b-priority": "welfare"}  # fmt: skip
    response = run_tasks(client.post, path=f"/penargetan/skenario/{scenario.pk}/ubah/", data=data)
    assert response.status_code == 302 and response["Location"] == f"/penargetan/skenario/{scenario.pk}/"
    scenario.refresh_from_db()
    assert (scenario.name, scenario.rule_a, scenario.status) == ("Sembako 2027", desil4, RunStatus.DONE)
    assert sorted(scenario.results["a"]["order"]) == sorted([k1, k3])
    event = AuditEvent.objects.get(action=AuditAction.TARGETING_SCENARIO, detail__change="update")
    assert event.detail["before"]["rule_a"] == desil1.pk and event.detail["after"]["rule_a"] == desil4.pk
    assert event.detail["before"]["name"] == "Sembako" and event.actor == admin


def test_an_exported_scenario_is_kept_as_it_was_changed_as_a_copy_and_archived(
    client: Client, admin: User, imported: ImportOutcome, run_tasks: Callable[..., object]
) -> None:
    desil4 = rule_save(actor=admin, name="Desil 1-4", expression="desil <= 4")
    allocation = run_tasks(scenario_create, actor=admin, name="Alokasi", kind=ScenarioKind.ALLOCATE,
                           poverty_line=LINE, lines=[LineInput(code="PKH", rule=desil4, budget=Decimal(9_000_000),
                                                               cost_per_family=Decimal(3_000_000))])  # fmt: skip
    assert isinstance(allocation, Scenario)
    login(client, admin)
    assert client.get(f"/penargetan/skenario/{allocation.pk}/ekspor.xlsx").status_code == 200
    page = client.get(f"/penargetan/skenario/{allocation.pk}/ubah/").content.decode()
    assert 'id="as-copy"' in page and 'value="PKH"' in page
    data = {"o-name": "Alokasi besar", "o-poverty_line": "800000", "o-welfare_source": "desil", "o-desil_cuts": "",
            "p-TOTAL_FORMS": "1", "p-INITIAL_FORMS": "0", "p-MIN_NUM_FORMS": "0", "p-MAX_NUM_FORMS": "12",
            "p-0-code": "PKH", "p-0-rule": desil4.pk, "p-0-budget": "12000000",
            "p-0-cost_per_family": "3000000"}  # fmt: skip
    response = run_tasks(client.post, path=f"/penargetan/skenario/{allocation.pk}/ubah/", data=data)
    copy = Scenario.objects.exclude(pk=allocation.pk).get()
    assert response["Location"] == f"/penargetan/skenario/{copy.pk}/"
    assert copy.name == "Alokasi besar" and ScenarioProgram.objects.get(scenario=copy).budget == 12_000_000
    allocation.refresh_from_db()
    assert allocation.name == "Alokasi" and allocation.status == RunStatus.DONE  # untouched
    with pytest.raises(TargetingError):
        line = LineInput(code="PKH", rule=desil4, budget=Decimal(1), cost_per_family=Decimal(1))
        scenario_update(actor=admin, scenario=allocation, name="x", poverty_line=LINE, lines=[line])
    client.post(f"/penargetan/skenario/{allocation.pk}/hapus/")
    allocation.refresh_from_db()
    assert allocation.archived_at is not None
    assert "Alokasi besar" in client.get("/penargetan/skenario/").content.decode()
    archived = client.get("/penargetan/skenario/?arsip=1").content.decode()
    assert f'href="/penargetan/skenario/{allocation.pk}/"' in archived
    # the copy was never exported: it is deleted outright
    assert client.post(f"/penargetan/skenario/{copy.pk}/hapus/")["Location"] == "/penargetan/skenario/"
    assert not Scenario.objects.filter(pk=copy.pk).exists()
    assert AuditEvent.objects.filter(action=AuditAction.TARGETING_SCENARIO, detail__change="delete").count() == 1


def test_only_those_who_edit_targets_change_or_delete_and_only_inside_their_area(
    client: Client, admin: User, imported: ImportOutcome, make_user: Callable[..., User],
    run_tasks: Callable[..., object],
) -> None:  # fmt: skip
    rule = rule_save(actor=admin, name="Desil 1", expression="desil <= 1")
    scenario = run_tasks(scenario_create, actor=admin, name="Kota", budget=Decimal(1_000_000),
                         cost_per_family=Decimal(1_000_000), rule_a=rule, poverty_line=LINE)  # fmt: skip
    assert isinstance(scenario, Scenario)
    partner = make_user("mitra", Role.PARTNER, org="PT Contoh")
    login(client, partner)
    assert client.post(f"/penargetan/aturan/{rule.pk}/hapus/").status_code == 403
    assert client.get(f"/penargetan/skenario/{scenario.pk}/ubah/").status_code == 403
    assert client.post(f"/penargetan/skenario/{scenario.pk}/hapus/").status_code == 403
    page = client.get(f"/penargetan/aturan/{rule.pk}/").content.decode()
    assert 'id="rule-delete"' not in page
    # An analyst of one district does not see (so cannot change) a scenario made for the whole city.
    district = make_user("analis", Role.TKPK_ANALYST, area="64.74.03")
    client.logout()
    login(client, district)
    assert client.post(f"/penargetan/skenario/{scenario.pk}/hapus/").status_code == 404
    assert Scenario.objects.filter(pk=scenario.pk).exists() and EligibilityRule.objects.filter(pk=rule.pk).exists()
    assert not AuditEvent.objects.filter(detail__change__in=["delete", "archive"]).exists()
