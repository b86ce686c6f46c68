"""PMT scores from `tepat pmt score` stored as assessments, and used as the welfare estimate of a scenario."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tepat.accounts.models import AuditAction, AuditEvent, User
from tepat.intake.services import ImportOutcome
from tepat.registry.models import Family
from tepat.targeting.models import EligibilityRule, RunStatus, Scenario, WelfareAssessment
from tepat.targeting.selectors import welfare_sources
from tepat.targeting.services import scenario_create

from ..conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_family_table_goes_out_without_names_and_pmt_scores_come_back(
    client: Client, admin: User, imported: ImportOutcome, run_tasks: Callable[..., object]
) -> None:
    assert client.login(username=admin.username, password=PASSWORD)
    exported = client.get("/penargetan/tabel-keluarga.csv")
    text = exported.content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3 and "Ahmad" not in text and "6474031207850001" not in text
    assert {"household_id", "desil", "members", "floor", "flag.civil_servant"} <= set(rows[0])
    assert AuditEvent.objects.filter(action=AuditAction.PERSONAL_EXPORT, detail__rows=3).exists()
    # A stand-in for `tepat pmt score`: welfare 250,000 × desil per capita a month, one unknown id.
    scores = "household_id,score,rank,decile\n" + "".join(
        f"{r['household_id']},{250_000 * int(float(r['desil']))},1,{int(float(r['desil']))}\n" for r in rows
    ) + "999999,1,1,1\n"  # fmt: skip
    upload = SimpleUploadedFile("skor.csv", scores.encode(), content_type="text/csv")
    response = client.post("/penargetan/pmt/", {"berkas": upload, "model": "Susenas 2025", "kesejahteraan": "1"})
    assert response.status_code == 302
    stored = WelfareAssessment.objects.filter(method="pmt:susenas_2025")
    assert stored.count() == 3
    k3 = Family.objects.get(kk="6474021010200004")
    assert stored.get(family=k3).score == 250_000 and stored.get(family=k3).desil == 1
    assert ("pmt:susenas_2025", "PMT susenas_2025") in welfare_sources()
    # The scenario now takes welfare from the PMT: K1 (3 × 500,000) and K3 (1 × 250,000) are below 800,000.
    rule = EligibilityRule.objects.create(name="semua", expression="desil <= 10")
    scenario = run_tasks(
        scenario_create, actor=admin, name="PMT", rule_a=rule, budget=Decimal(1), cost_per_family=Decimal(1),
        poverty_line=Decimal(800_000), welfare_source="pmt:susenas_2025",
    )  # fmt: skip
    assert isinstance(scenario, Scenario)
    scenario.refresh_from_db()
    assert scenario.status == RunStatus.DONE, scenario.error
    assert scenario.results["welfare_estimated_from_desil"] == 0
    assert scenario.results["a"]["gap_before"] == pytest.approx(3 * 300_000 + 550_000)
    assert scenario.results["a"]["order"] == [k3.pk]  # the poorest first: welfare 250,000


def test_class_scores_are_kept_for_ranking_but_not_offered_as_welfare(
    client: Client, admin: User, imported: ImportOutcome
) -> None:
    assert client.login(username=admin.username, password=PASSWORD)
    pks = list(Family.objects.values_list("pk", flat=True))
    scores = "household_id,score,rank,decile\n" + "".join(
        f"{pk},{i + 1.5},{i + 1},{i + 1}\n" for i, pk in enumerate(pks)
    )
    client.post("/penargetan/pmt/", {"berkas": SimpleUploadedFile("k.csv", scores.encode()), "model": "kelas"})
    assert WelfareAssessment.objects.filter(method="pmt:kelas").count() == 3
    assert [m for m, _label in welfare_sources()] == ["desil"]
    bad = client.post("/penargetan/pmt/", {"berkas": SimpleUploadedFile("x.csv", b"id,nilai\n1,2\n"), "model": "x"})
    assert bad.status_code == 302 and not WelfareAssessment.objects.filter(method="pmt:x").exists()
