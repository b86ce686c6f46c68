"""The evaluation meeting: budget against realisation, outputs, families reached (report and ledger) per strategy
and agency, the problems flagged, the drill-down, the export, and who may see it."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from tepat.accounts.models import AuditEvent, Organisation, Role, User
from tepat.accounts.permissions import PermissionDenied
from tepat.intake.services import ImportOutcome
from tepat.programs.evaluation import Evaluation, Problem, evaluation, year_elapsed
from tepat.programs.models import Adoption, Program, SubActivity
from tepat.programs.services import activity_add, plan_create, subactivity_add, subactivity_follow_up
from tepat.registry.models import Family

pytestmark = pytest.mark.django_db
MID_YEAR = date(2026, 7, 1)  # 181 of 365 days: 49.6 % of the year gone


@pytest.fixture
def plan(ledger: ImportOutcome, admin: User) -> dict[str, SubActivity]:
    """Dinas Sosial's 2026 RAT: PKH mentoring on track, a housing sub-activity that never started.

    The ledger (conftest): K1 (64.74.03.1002, desil 2) on PKH and Sembako, K2 (desil 9, civil servant) on PKH,
    K3 (64.74.02.1001, desil 1) on nothing.
    """
    dinsos, _ = Organisation.objects.get_or_create(name="Dinas Sosial", defaults={"kind": "opd"})
    rat = plan_create(actor=admin, organisation=dinsos, year=2026)
    burden = activity_add(actor=admin, plan=rat, name="Perlindungan sosial", strategies=["inpres.beban", "pmdn.beban"])
    pockets = activity_add(actor=admin, plan=rat, name="Kawasan kumuh", strategies=["inpres.kantong"])
    pkh = subactivity_add(actor=admin, activity=burden, name="Pendampingan PKH", budget=Decimal(1_000_000_000),
                          output_target=Decimal(100), output_unit="keluarga", program=Program.objects.get(code="PKH"),
                          villages=["64.74.03.1002", "64.74.02.1001"])  # fmt: skip
    subactivity_follow_up(actor=admin, sub=pkh, advance=True, budget_absorbed=Decimal(600_000_000),
                          output_realised=Decimal(70), families_reached=40, note="triwulan II")  # fmt: skip
    housing = subactivity_add(actor=admin, activity=pockets, name="Rehabilitasi RTLH", budget=Decimal(500_000_000),
                              output_target=Decimal(20), output_unit="unit", villages=["64.74.02.1001"])  # fmt: skip
    # fixed dates for the follow-up history (the services stamp "now")
    SubActivity.objects.filter(pk=pkh.pk).update(
        history=[
            {"stage": "plan", "at": "2026-01-10T09:00:00+08:00"},
            {"stage": "implement", "at": "2026-06-15T09:00:00+08:00"},
        ]
    )
    SubActivity.objects.filter(pk=housing.pk).update(history=[{"stage": "plan", "at": "2026-01-10T09:00:00+08:00"}])
    return {"pkh": pkh, "housing": housing}


def _by(rows: list[Any], **kw: Any) -> Any:
    return next(r for r in rows if all(getattr(r, k) == v for k, v in kw.items()))


def test_budget_outputs_and_families_per_strategy(plan: dict[str, SubActivity], admin: User) -> None:
    e = evaluation(actor=admin, year=2026, on=MID_YEAR)
    assert (e.total.subactivities, e.total.budget, e.total.absorbed) == (2, 1_500_000_000, 600_000_000)
    assert e.total.absorption == 40.0 and e.total.output_achievement == 35.0  # (70 % + 0 %) / 2
    burden = _by(e.strategies, code="inpres.beban")
    assert (burden.subactivities, burden.absorption, burden.families_reported) == (1, 60.0, 40)
    assert burden.ledger is not None and burden.ledger.recipients == 2  # K1 (PKH, Sembako) and K2 (PKH), once each
    pockets = _by(e.strategies, code="inpres.kantong")
    assert (pockets.subactivities, pockets.budget, pockets.absorption) == (1, 500_000_000, 0.0)
    pkh_line = next(s for s in e.subs if s.sub.name == "Pendampingan PKH")
    assert pkh_line.families_ledger == 1  # K1 is PKH's only recipient family in the two locus villages
    # on track (60 % absorbed, 70 % of the output half-way through the year), but K3 in its locus gets nothing
    assert pkh_line.output_pct == 70.0 and pkh_line.flag_codes == [Problem.LOCUS_UNSERVED]


def test_problems_are_flagged_and_drill_down(plan: dict[str, SubActivity], admin: User) -> None:
    e = evaluation(actor=admin, year=2026, on=MID_YEAR)
    housing = next(s for s in e.subs if s.sub.name == "Rehabilitasi RTLH")
    assert set(housing.flag_codes) == {Problem.BEHIND, Problem.LOW_ABSORPTION, Problem.NO_FOLLOW_UP,
                                       Problem.LOCUS_UNSERVED}  # fmt: skip
    assert e.total.flags[Problem.BEHIND] == 1 and e.total.flags[Problem.LOCUS_UNSERVED] == 2  # both reach K3's village
    programs = {p.row.key: p for p in e.programs}
    assert [f.code for f in programs["PKH"].flags] == [Problem.LEAKAGE]  # K2: 1 of its 2 recipient families
    assert programs["PKH"].owner == "Kementerian Sosial" and programs["SEMBAKO"].flags == []
    assert [(lo.village.code, lo.extreme_no_help) for lo in e.loci] == [("64.74.02.1001", 1)]
    agencies = {a.organisation.name: a for a in e.agencies}
    assert agencies["Dinas Sosial"].subactivities == 2 and agencies["Dinas Sosial"].problems == 5
    assert agencies["Kementerian Sosial"].ledger.recipients == 2 and agencies["Kementerian Sosial"].program_flags == 1
    behind = evaluation(actor=admin, year=2026, on=MID_YEAR, problem=Problem.BEHIND)
    assert [s.sub.name for s in behind.subs] == ["Rehabilitasi RTLH"] and behind.all_subs == 2
    income = evaluation(actor=admin, year=2026, on=MID_YEAR, strategy="inpres.beban")
    assert [s.sub.name for s in income.subs] == ["Pendampingan PKH"]


def test_a_past_year_needs_its_evaluation_recorded(plan: dict[str, SubActivity], admin: User) -> None:
    e = evaluation(actor=admin, year=2026, on=date(2027, 2, 1))
    assert e.elapsed == 1.0
    pkh = next(s for s in e.subs if s.sub.name == "Pendampingan PKH")
    assert Problem.NO_FOLLOW_UP in pkh.flag_codes and Problem.LOW_ABSORPTION in pkh.flag_codes  # 60 % < 75 %


@pytest.mark.parametrize(("on", "share"), [(date(2025, 12, 31), 0.0), (date(2026, 1, 1), 0.0),
                                           (date(2026, 7, 2), 182 / 365), (date(2027, 1, 1), 1.0)])  # fmt: skip
def test_year_elapsed(on: date, share: float) -> None:
    assert year_elapsed(2026, on) == share


def test_partners_adoptions_count_for_their_organisation(plan: dict[str, SubActivity], admin: User,
                                                         partner: User) -> None:  # fmt: skip
    k3 = Family.objects.get(kk="6474021010200004")
    Adoption.objects.create(organisation=partner.organisation, family=k3, need="pangan", status="delivered",
                            amount=Decimal(1_500_000))  # fmt: skip
    e = evaluation(actor=admin, year=2026, on=MID_YEAR)
    mine = next(a for a in e.agencies if a.organisation == partner.organisation)
    assert (mine.adopted, mine.adoptions_delivered, mine.adoption_amount, mine.partner) == (1, 1, 1_500_000, True)


def test_who_may_see_the_evaluation(plan: dict[str, SubActivity], admin: User, partner: User,
                                    make_user: Callable[..., User], client_for: Any) -> None:  # fmt: skip
    allowed = [admin, make_user("analis", Role.TKPK_ANALYST), make_user("auditor", Role.AUDITOR),
               make_user("dinsos", Role.AGENCY_OPERATOR, org="Dinas Sosial")]  # fmt: skip
    refused = [partner, make_user("desa", Role.VILLAGE_OPERATOR, area="64.74.03.1002"),
               make_user("enum", Role.ENUMERATOR, area="64.74.03"),
               make_user("opd-kec", Role.AGENCY_OPERATOR, area="64.74.03", org="UPT Kecamatan")]  # fmt: skip
    for user in allowed:
        page = client_for(user).get("/program/evaluasi/?tahun=2026")
        assert page.status_code == 200, user.username
        assert 'href="/program/evaluasi/"' in page.content.decode()  # the sub-navigation links it
    for user in refused:
        assert client_for(user).get("/program/evaluasi/?tahun=2026").status_code == 403, user.username
        assert client_for(user).get("/program/evaluasi/ekspor.xlsx?tahun=2026").status_code == 403
        with pytest.raises(PermissionDenied):
            evaluation(actor=user, year=2026)
    assert 'href="/program/evaluasi/"' not in client_for(partner).get("/program/").content.decode()


def test_page_and_audited_export(plan: dict[str, SubActivity], admin: User, client_for: Any) -> None:
    client = client_for(admin)
    html = client.get("/program/evaluasi/?tahun=2026").content.decode()
    assert 'data-strategy="inpres.beban"' in html and 'data-village="64.74.02.1001"' in html
    assert 'data-flag="leakage"' in html and "Rehabilitasi RTLH" in html
    response = client.get("/program/evaluasi/ekspor.xlsx?tahun=2026")
    assert response.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    assert book.sheet_names == ["Ringkasan", "Strategi", "Perangkat daerah & mitra", "Program", "Desa lokus",
                                "Sub-kegiatan"]  # fmt: skip
    subs = book.get_sheet_by_name("Sub-kegiatan").to_python()
    assert subs[0][1] == "Sub-kegiatan" and {r[1] for r in subs[1:]} == {"Pendampingan PKH", "Rehabilitasi RTLH"}
    strategies = {r[0]: r for r in book.get_sheet_by_name("Strategi").to_python()[1:]}
    assert strategies["inpres.beban"][3:6] == [1_000_000_000, 600_000_000, 0.6]
    event = AuditEvent.objects.get(action="program.evaluation_export")
    assert event.detail["year"] == 2026 and event.target_id == "2026"


def test_evaluation_type_is_the_view(plan: dict[str, SubActivity], admin: User) -> None:
    assert isinstance(evaluation(actor=admin), Evaluation)  # default year: this year's plans or the latest
