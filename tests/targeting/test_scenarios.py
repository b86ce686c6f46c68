"""Budget scenarios on a case small enough to check by hand, the optimiser on the synthetic city, scope and export.

The extract of tests/conftest.py has three families: K1 (desil 2, three living members), K2 (desil 9, one active
member: Ahmad Fauzi's second listing there is a conflict), K3 (desil 1, Sri Wahyuni alone). With a poverty line of
Rp 800,000 and the default desil bands (desil 1: 0.5–1.0 × the line, desil 2: 1.0–1.25 ×), welfare per capita is
the band's midpoint: K3 600,000 (gap 200,000 a month), K1 900,000 (no gap), K2 well above the line.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from python_calamine import CalamineWorkbook

from tepat.accounts.models import AuditAction, AuditEvent, Role, User
from tepat.intake.services import ImportOutcome
from tepat.registry.models import Family
from tepat.targeting.models import EligibilityRule, RunStatus, Scenario, ScenarioKind
from tepat.targeting.services import LineInput, TargetingError, scenario_create

from ..conftest import PASSWORD

pytestmark = pytest.mark.django_db
LINE = Decimal(800_000)


@pytest.fixture
def rules(admin: User) -> dict[str, EligibilityRule]:
    return {
        "desil1": EligibilityRule.objects.create(name="Desil 1", expression="desil <= 1", created_by=admin),
        "desil4": EligibilityRule.objects.create(name="Desil 1-4", expression="desil <= 4", created_by=admin),
        "keluarga_besar": EligibilityRule.objects.create(name="Keluarga besar", expression="members >= 3"),
    }


def _run(run_tasks: Callable[..., object], **kwargs: object) -> Scenario:
    scenario = run_tasks(scenario_create, **kwargs)
    assert isinstance(scenario, Scenario)
    scenario.refresh_from_db()
    assert scenario.status == RunStatus.DONE, scenario.error
    return scenario


def test_rule_a_against_rule_b_on_three_families(
    admin: User, imported: ImportOutcome, rules: dict[str, EligibilityRule], run_tasks: Callable[..., object]
) -> None:
    scenario = _run(
        run_tasks, actor=admin, name="Sembako daerah", budget=Decimal(3_600_000), cost_per_family=Decimal(3_600_000),
        monthly_value=Decimal(300_000), rule_a=rules["desil1"], rule_b=rules["keluarga_besar"], poverty_line=LINE,
    )  # fmt: skip
    r = scenario.results
    k1, k3 = (Family.objects.get(kk=kk).pk for kk in ("6474031203150001", "6474021010200004"))
    a, b = r["a"], r["b"]
    assert (a["order"], b["order"]) == ([k3], [k1])  # one family fits the budget under each rule
    assert (a["families"], a["cost"], a["budget_left"], a["eligible"], a["waiting"]) == (1, 3_600_000, 0, 1, 0)
    assert (a["extreme_poor_reached"], a["extreme_poor_total"], a["desil1_share"]) == (1, 1, 1.0)
    assert (b["extreme_poor_reached"], b["extreme_poor_share"]) == (0, 0.0)
    # The gap: K3 alone is below the line, by 200,000 a month. A closes it (300,000 > 200,000), B closes nothing.
    assert a["gap_before"] == pytest.approx(200_000) and a["gap_closed"] == pytest.approx(200_000)
    assert b["gap_closed"] == pytest.approx(0) and b["p0_after"] == pytest.approx(b["p0_before"])
    # In need: desil 1–4 or below the line (K1 and K3); each rule leaves the other one reached by nothing.
    assert (a["needy_total"], a["reached_by_nothing"], b["reached_by_nothing"]) == (2, 1, 1)
    assert (r["both"], r["only_a"], r["only_b"]) == (0, 1, 1)
    assert r["families"] == 3 and r["welfare_source"] == "desil" and r["welfare_estimated_from_desil"] == 3
    by_area = {row["area"]: row for row in r["by_area"]}
    assert by_area["64.74.02.1001"]["covered_a"] == 1 and by_area["64.74.03.1002"]["covered_b"] == 1


def test_the_optimiser_respects_budgets_and_eligibility(
    admin: User, bontang: Path, rules: dict[str, EligibilityRule], run_tasks: Callable[..., object]
) -> None:
    lines = [
        LineInput(code="PKH", rule=rules["desil4"], budget=Decimal(30_000_000), cost_per_family=Decimal(3_000_000),
                  monthly_value=Decimal(250_000)),
        LineInput(code="RTLH", rule=rules["keluarga_besar"], budget=Decimal(40_000_000),
                  cost_per_family=Decimal(20_000_000), monthly_value=Decimal(400_000)),
    ]  # fmt: skip
    scenario = _run(run_tasks, actor=admin, name="Alokasi 2026", kind=ScenarioKind.ALLOCATE, lines=lines,
                    poverty_line=LINE, max_programs_per_family=1)  # fmt: skip
    r = scenario.results
    programs = {p["code"]: p for p in r["programs"]}
    assert r["status"] == "optimal"
    assert programs["PKH"]["spent"] <= 30_000_000 and programs["RTLH"]["spent"] <= 40_000_000
    assert programs["PKH"]["assigned"] > 0 and programs["RTLH"]["assigned"] > 0
    desil = dict(Family.objects.values_list("pk", "desil_national"))
    for pk, codes in r["assigned"]:
        assert len(codes) == 1
        if "PKH" in codes:
            assert desil[pk] is not None and desil[pk] <= 4
    assert r["outcome"]["gap_closed"] == pytest.approx(r["objective"]) and r["objective"] > 0


def test_bad_inputs_are_refused_before_anything_is_queued(
    admin: User, imported: ImportOutcome, rules: dict[str, EligibilityRule]
) -> None:
    with pytest.raises(TargetingError):
        scenario_create(actor=admin, name="x", rule_a=rules["desil1"], budget=Decimal(0),
                        cost_per_family=Decimal(1), poverty_line=LINE)  # fmt: skip
    with pytest.raises(TargetingError):
        scenario_create(actor=admin, name="x", kind=ScenarioKind.ALLOCATE, poverty_line=LINE, lines=[])
    assert not Scenario.objects.exists()


def test_the_page_shows_the_figures_and_the_export_is_audited(
    client: Client, admin: User, imported: ImportOutcome, rules: dict[str, EligibilityRule],
    run_tasks: Callable[..., object], make_user: Callable[..., User],
) -> None:  # fmt: skip
    assert client.login(username=admin.username, password=PASSWORD)
    data = {"jenis": "compare", "b-name": "Uji halaman", "b-poverty_line": "Rp 800.000", "b-welfare_source": "desil",
            "b-desil_cuts": "", "b-budget": "7.200.000", "b-cost_per_family": "3.600.000",
            "b-monthly_value": "300.000", "b-rule_a": rules["desil1"].pk, "b-rule_b": rules["desil4"].pk,
            "b-priority": "welfare"}  # fmt: skip
    response = run_tasks(client.post, path="/penargetan/skenario/baru/", data=data)
    scenario = Scenario.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/penargetan/skenario/{scenario.pk}/"
    assert scenario.budget == Decimal(7_200_000) and scenario.scope == "64.74"
    page = client.get(f"/penargetan/skenario/{scenario.pk}/").content.decode()
    assert 'data-status="done"' in page and 'data-overlap="1,0,1"' in page and "Sri Wahyuni" in page
    export = client.get(f"/penargetan/skenario/{scenario.pk}/ekspor.xlsx")
    assert export.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(export.content))
    assert {"Ringkasan", "Per desa", "Daftar aturan A", "Daftar aturan B"} <= set(book.sheet_names)
    listed = book.get_sheet_by_name("Daftar aturan B").to_python()
    assert [row[2] for row in listed[1:]] == ["Sri Wahyuni", "Ahmad Fauzi"]  # poorest first
    event = AuditEvent.objects.get(action=AuditAction.PERSONAL_EXPORT)
    assert event.detail["rows"] == 3 and event.target_id == str(scenario.pk)
    # A village operator does not see a scenario made for the whole city: its figures cover other villages.
    operator = make_user("desa", Role.VILLAGE_OPERATOR, area="64.74.03.1002")
    client.logout()
    assert client.login(username=operator.username, password=PASSWORD)
    assert client.get(f"/penargetan/skenario/{scenario.pk}/").status_code == 404
    assert "Uji halaman" not in client.get("/penargetan/skenario/").content.decode()


def test_amounts_are_read_as_indonesians_write_them() -> None:
    from tepat.targeting.forms import parse_amount

    assert parse_amount("Rp 1.500.000") == Decimal(1_500_000)
    assert parse_amount("1.500.000,50") == Decimal("1500000.50")
    assert parse_amount("2,5") == Decimal("2.5") and parse_amount("250000") == Decimal(250_000)
    with pytest.raises(ValueError):
        parse_amount("satu juta")
