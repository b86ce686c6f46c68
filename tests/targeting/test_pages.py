"""Every targeting page renders for the roles that may see it, and says no to those that may not."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client

from tepat.accounts.models import Role, User
from tepat.intake.services import ImportOutcome
from tepat.targeting.models import EligibilityRule, RunStatus, ScenarioKind, ScoringRun
from tepat.targeting.services import LineInput, scenario_create, scores_compute

from ..conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_overview_compares_official_and_local_desil_per_village(
    client: Client, admin: User, imported: ImportOutcome, run_tasks: Callable[..., object],
    make_user: Callable[..., User],
) -> None:  # fmt: skip
    assert client.login(username=admin.username, password=PASSWORD)
    empty = client.get("/penargetan/").content.decode()
    assert 'id="no-scores"' in empty and 'id="compute"' in empty
    response = run_tasks(client.post, path="/penargetan/skor/", data={"kartu": "multidimensi"})
    assert response.status_code == 302
    run = ScoringRun.objects.get()
    assert run.status == RunStatus.DONE, run.error
    page = client.get("/penargetan/").content.decode()
    for code in ("64.74.01.1001", "64.74.02.1001", "64.74.03.1002", "64.74.03"):
        assert f'data-area="{code}"' in page
    assert 'id="mpi"' in page and "Kota Bontang" in page
    progress = client.get(f"/penargetan/skor/{run.pk}/progres/", HTTP_HX_REQUEST="true")
    assert progress["HX-Refresh"] == "true"
    # A village operator sees their village only, and cannot start a run.
    operator = make_user("desa", Role.VILLAGE_OPERATOR, area="64.74.03.1002")
    client.logout()
    assert client.login(username=operator.username, password=PASSWORD)
    mine = client.get("/penargetan/").content.decode()
    assert 'data-area="64.74.03.1002"' in mine and "64.74.01.1001" not in mine and 'id="compute"' not in mine
    assert client.post("/penargetan/skor/", {"kartu": "multidimensi"}).status_code == 403


def test_rule_and_scenario_pages_render_for_each_role(
    client: Client, admin: User, imported: ImportOutcome, run_tasks: Callable[..., object],
    make_user: Callable[..., User],
) -> None:  # fmt: skip
    run_tasks(scores_compute, actor=admin, card="kemensos_262_2022")
    rule = EligibilityRule.objects.create(name="Desil 1-4", expression="desil <= 4 and local_desil <= 5")
    allocation = run_tasks(
        scenario_create, actor=admin, name="Alokasi", kind=ScenarioKind.ALLOCATE, poverty_line=Decimal(800_000),
        lines=[LineInput(code="PKH", rule=rule, budget=Decimal(9_000_000), cost_per_family=Decimal(3_000_000))],
    )  # fmt: skip
    partner = make_user("mitra", Role.PARTNER, org="PT Contoh")
    for user, can_edit in ((admin, True), (partner, False)):
        client.logout()
        assert client.login(username=user.username, password=PASSWORD)
        assert client.get("/penargetan/aturan/").status_code == 200
        page = client.get(f"/penargetan/aturan/{rule.pk}/").content.decode()
        assert ('id="rule-form"' in page) is can_edit
        assert client.get("/penargetan/aturan/baru/").status_code == (200 if can_edit else 403)
        listing = client.get("/penargetan/skenario/").content.decode()
        assert ('id="allocate-form"' in listing) is can_edit
        detail = client.get(f"/penargetan/skenario/{allocation.pk}/")  # type: ignore[attr-defined]
        assert detail.status_code == 200 and 'data-program="PKH"' in detail.content.decode()
        assert client.get("/penargetan/aturan/uji/", {"ekspresi": "desil <="}).status_code == 200
    assert client.post(f"/penargetan/aturan/{rule.pk}/", {"name": "x", "expression": "desil <= 1"}).status_code == 403
