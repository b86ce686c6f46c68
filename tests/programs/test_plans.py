"""Annual action plans (RAT): agencies plan their own, totals per strategy, the follow-up cycle, sheet upload."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tepat.accounts.models import Organisation, Role, User
from tepat.accounts.permissions import PermissionDenied
from tepat.intake.services import ImportOutcome
from tepat.programs.models import ActionPlan, Program, Stage
from tepat.programs.selectors import plan_activities, plan_summary
from tepat.programs.services import (
    PlanError,
    activity_add,
    plan_create,
    plan_rows_load,
    subactivity_add,
    subactivity_follow_up,
)

pytestmark = pytest.mark.django_db

SHEET = (
    "kode_kegiatan;kegiatan;kode_sub_kegiatan;sub_kegiatan;pagu;indikator;target;satuan;lokus;strategi;program\n"
    "1.06.04.2.01;Perlindungan sosial;1.06.04.2.01.0001;Pendampingan PKH;1.500.000.000;keluarga;400;KK;"
    "64.74.03.1002;inpres.beban;PKH\n"
    "1.06.04.2.01;Perlindungan sosial;1.06.04.2.01.0002;Bantuan pangan lansia;Rp 250.000.000,00;orang;50;orang;;;\n"
    "1.06.05.2.02;Pemberdayaan;1.06.05.2.02.0001;Modal usaha KUBE;800000000;kelompok;20;kelompok;64.74.01.1001;"
    "inpres.pendapatan, pmdn.umk;\n"
    "1.06.05.2.02;Pemberdayaan;;;100;;;;;;\n"
    "1.06.05.2.02;Pemberdayaan;x;Salah lokus;100;;;;99.99.99.9999;;\n"
)


@pytest.fixture
def dinsos(make_user: Callable[..., User]) -> User:
    return make_user("dinsos", Role.AGENCY_OPERATOR, org="Dinas Sosial")


def test_an_agency_plans_for_itself_only(dinsos: User, make_user: Callable[..., User]) -> None:
    plan = plan_create(actor=dinsos, organisation=dinsos.organisation, year=2026)  # type: ignore[arg-type]
    with pytest.raises(PlanError):
        plan_create(actor=dinsos, organisation=dinsos.organisation, year=2026)  # type: ignore[arg-type]
    perkim = make_user("perkim", Role.AGENCY_OPERATOR, org="Dinas Perkim")
    with pytest.raises(PermissionDenied):
        activity_add(actor=perkim, plan=plan, name="Bedah rumah")
    with pytest.raises(PermissionDenied):
        plan_create(actor=perkim, organisation=dinsos.organisation, year=2027)  # type: ignore[arg-type]


def test_totals_per_strategy_and_the_follow_up_cycle(dinsos: User, admin: User) -> None:
    plan = plan_create(actor=dinsos, organisation=dinsos.organisation, year=2026)  # type: ignore[arg-type]
    burden = activity_add(actor=dinsos, plan=plan, name="Perlindungan sosial", strategies=["inpres.beban"])
    pockets = activity_add(actor=dinsos, plan=plan, name="Kawasan kumuh", strategies=["inpres.kantong"])
    for budget in (30_000_000_000, 21_000_000_000):
        subactivity_add(actor=dinsos, activity=burden, name="Bantuan", budget=Decimal(budget))
    both = subactivity_add(actor=dinsos, activity=pockets, name="Jamban dan modal", budget=Decimal(1_000_000_000),
                           strategies=["inpres.kantong", "inpres.pendapatan"], villages=["64.74.03.1002"])  # fmt: skip
    summary = plan_summary(actor=admin, year=2026)
    totals = {t.code: (t.subactivities, t.budget) for t in summary.strategies}
    assert totals == {"inpres.beban": (2, Decimal(51_000_000_000)), "inpres.pendapatan": (1, Decimal(1_000_000_000)),
                      "inpres.kantong": (1, Decimal(1_000_000_000))}  # fmt: skip
    assert (summary.total.subactivities, summary.total.budget) == (3, Decimal(52_000_000_000))  # counted once
    for stage in (Stage.IMPLEMENT, Stage.MONITOR, Stage.EVALUATE):
        both = subactivity_follow_up(actor=dinsos, sub=both, advance=True, budget_absorbed=Decimal(400_000_000),
                                     families_reached=12, note="cek")  # fmt: skip
        assert both.stage == stage
    with pytest.raises(PlanError):
        subactivity_follow_up(actor=dinsos, sub=both, advance=True)
    assert [h["stage"] for h in both.history] == ["plan", "implement", "monitor", "evaluate"]
    summary = plan_summary(actor=admin, year=2026)
    kantong = next(t for t in summary.strategies if t.code == "inpres.kantong")
    assert (kantong.absorbed, kantong.families, kantong.absorption) == (Decimal(400_000_000), 12, 40.0)
    with pytest.raises(PlanError):
        subactivity_add(actor=dinsos, activity=burden, name="Di luar wilayah", budget=Decimal(1),
                        villages=["65.01.01.2001"])  # fmt: skip


def test_a_sheet_becomes_activities_and_subactivities(dinsos: User, ledger: ImportOutcome) -> None:
    plan = plan_create(actor=dinsos, organisation=dinsos.organisation, year=2026)  # type: ignore[arg-type]
    header, *lines = SHEET.strip().splitlines()
    rows = [dict(zip(header.split(";"), line.split(";"), strict=True)) for line in lines]
    loaded = plan_rows_load(actor=dinsos, plan=plan, rows=rows)
    assert (loaded.activities, loaded.subactivities) == (2, 3)
    assert [p.split(":")[0] for p in loaded.problems] == ["baris 5", "baris 6"]
    activities = plan_activities(plan=plan)
    pkh_sub = activities[0]["subs"][0]
    assert pkh_sub["sub"].budget == Decimal(1_500_000_000) and pkh_sub["strategies"] == ["inpres.beban"]
    assert activities[0]["subs"][1]["sub"].budget == Decimal(250_000_000)
    assert activities[0]["subs"][1]["strategies"] == ["inpres.beban"]  # the activity's tag
    assert pkh_sub["ledger_families"] == 1  # K1 in the locus 64.74.03.1002 received PKH in 2026
    umk = activities[1]["subs"][0]
    assert umk["strategies"] == ["inpres.pendapatan", "pmdn.umk"] and umk["sub"].program is None


def test_rat_command_and_pages(dinsos: User, admin: User, tmp_path: Path, client_for: Any) -> None:
    path = tmp_path / "rat.csv"
    path.write_text(SHEET, encoding="utf-8")
    call_command("programs", "rat", str(path), "--organisation", "Dinas Sosial", "--year", "2026", "--user", "dinsos")
    plan = ActionPlan.objects.get(organisation__name="Dinas Sosial", year=2026)
    assert plan.activities.count() == 2
    html = client_for(admin).get("/program/rat/?tahun=2026").content.decode()
    assert 'data-strategy="inpres.beban"' in html and "Rp 1,8 M" in html  # 1.5 bn + 250 m tagged "reduce burden"
    page = client_for(dinsos).get(f"/program/rat/{plan.pk}/")
    assert page.status_code == 200 and "Pendampingan PKH" in page.content.decode()
    sub = plan.activities.first().subactivities.first()  # type: ignore[union-attr]
    response = client_for(dinsos).post(f"/program/rat/sub/{sub.pk}/tindak-lanjut/",
                                       {"budget_absorbed": "500000000", "advance": "on", "note": "TW III"})  # fmt: skip
    assert response.status_code == 302
    sub.refresh_from_db()
    assert (sub.stage, sub.budget_absorbed) == ("implement", Decimal(500_000_000))
    created = client_for(dinsos).post("/program/rat/", {"organisation": dinsos.organisation_id, "year": 2027})
    assert created.status_code == 302 and ActionPlan.objects.filter(year=2027).exists()
    upload = tmp_path / "rat2.csv"
    upload.write_text(SHEET, encoding="utf-8")
    plan_2027 = ActionPlan.objects.get(year=2027)
    with upload.open("rb") as fh:
        client_for(dinsos).post(f"/program/rat/{plan_2027.pk}/", {"u-file": fh})
    assert plan_2027.activities.count() == 2
    assert Program.objects.filter(code="PKH").exists()
    assert Organisation.objects.filter(name="Dinas Sosial").count() == 1


def test_demo_setup_completes_partner_programs_folds_lists_and_plans(
    legacy_ledger: ImportOutcome, admin: User, partner: User
) -> None:
    from tepat.programs.demo import demo_programs
    from tepat.programs.models import Benefit

    folded = demo_programs(admin=admin)
    assert folded.programs == ["Sembako (BPNT) → SEMBAKO"]
    assert Benefit.objects.filter(program__code="SEMBAKO").count() == 1
    assert Program.objects.get(code="CSR-SKN").aliases == ["CSR PT Samudra Karya Nusantara - Paket Sembako"]
    summary = plan_summary(actor=admin, year=2026)
    assert summary.total.subactivities == 16 and len(summary.plans) == 7
    every = {"inpres.beban", "inpres.pendapatan", "inpres.kantong", "pmdn.beban", "pmdn.pendapatan", "pmdn.umk",
             "pmdn.sinergi"}  # fmt: skip
    assert {t.code for t in summary.strategies} == every
    assert 20_000_000_000 < summary.total.budget < 30_000_000_000  # a city's RAT in rupiah
    assert partner.organisation.loci.exists()  # type: ignore[union-attr]
    # The evaluation meeting has something to discuss after the third-quarter reports.
    from datetime import date

    from tepat.programs.evaluation import Problem, evaluation

    meeting = evaluation(actor=admin, year=2026, on=date(2026, 11, 20))
    assert 50 < (meeting.total.absorption or 0) < 90
    behind = {s.sub.name for s in meeting.subs if Problem.BEHIND in s.flag_codes}
    assert "Asistensi rehabilitasi sosial penyandang disabilitas" in behind  # never started
    assert "Rehabilitasi rumah tidak layak huni (RTLH)" in behind  # 41 % of the houses
    assert len(behind) < len(meeting.subs) / 2
    assert meeting.total.flags[Problem.NO_FOLLOW_UP] >= 2 and meeting.total.flags[Problem.LOW_ABSORPTION] >= 3
    demo_programs(admin=admin)  # idempotent: nothing left to fold, the plans exist
    assert ActionPlan.objects.count() == 7
