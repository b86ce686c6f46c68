"""Coverage, leakage, exclusion and overlaps on the registry: numbers, scoping, masking, pages and export."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from tepat.accounts.models import AuditAction, AuditEvent, Role, User
from tepat.areas.models import Area
from tepat.intake.services import ImportOutcome
from tepat.programs.analysis import Filters, analysis_view
from tepat.programs.models import Benefit, BenefitStatus
from tepat.programs.selectors import family_benefit_timeline
from tepat.programs.services import programs_fold_aliases
from tepat.registry.models import Family

pytestmark = pytest.mark.django_db


def _row(rows: list[Any], key: str) -> Any:
    return next(r for r in rows if r.key == key)


def test_region_numbers_for_pkh_and_the_families_nobody_reached(ledger: ImportOutcome, admin: User) -> None:
    view = analysis_view(actor=admin, filters=Filters(period="2026"))
    pkh = _row(view.programs, "PKH")
    assert (pkh.eligible, pkh.reached, pkh.coverage) == (2, 1, 50.0)  # K1 and K3 eligible, K1 reached
    assert (pkh.recipients, pkh.not_eligible, pkh.flagged, pkh.leakage) == (2, 1, 1, 1)  # K2: desil 9 and ASN
    assert (pkh.excluded, pkh.excluded_extreme) == (1, 1)  # K3, desil 1
    assert (pkh.rows, pkh.unmatched, pkh.amount, pkh.amount_poor) == (3, 1, 2_250_000, 750_000)
    # The list named it "Sembako (BPNT)": the import attached it to the national program by its alias.
    sembako = _row(view.programs, "SEMBAKO")
    assert sembako.has_rule and sembako.coverage is not None
    total = view.total
    assert (total.families, total.poor, total.extreme, total.poor_no_help, total.extreme_no_help) == (3, 2, 1, 1, 1)
    assert (total.amount, total.amount_poor) == (2_850_000, 1_350_000)
    assert total.per_poor_family == 675_000
    assert [f.kk for f in view.excluded] == ["6474021010200004"]  # K3, poor and on no list
    assert view.overlap_codes == ["PKH", "SEMBAKO"] and view.overlap == [[2, 1], [1, 1]]
    districts = {c.code: c for c in view.children}
    assert districts["64.74.02"].extreme_no_help == 1 and districts["64.74.03"].poor_coverage == 100.0
    strategies = {s.key for s in view.strategies}
    assert {"inpres.beban", "pmdn.beban"} <= strategies


def test_after_folding_sembako_counts_with_its_rule_and_strategy(ledger: ImportOutcome, admin: User) -> None:
    programs_fold_aliases(actor=admin)
    view = analysis_view(actor=admin, filters=Filters(period="2026", program="SEMBAKO"))
    sembako = _row(view.programs, "SEMBAKO")
    assert (sembako.eligible, sembako.reached, sembako.excluded_extreme) == (2, 1, 1)
    assert [f.kk for f in view.excluded] == ["6474021010200004"]
    assert view.excluded[0].programs == []
    burden = _row(view.strategies, "inpres.beban")
    assert (burden.eligible, burden.reached, burden.recipients) == (2, 1, 2)  # K1 once although on two programs


def test_planned_rows_count_only_when_asked(ledger: ImportOutcome, admin: User) -> None:
    Benefit.objects.filter(nik="6474035508880002").update(status=BenefitStatus.PLANNED)
    assert _row(analysis_view(actor=admin, filters=Filters(period="2026")).programs, "PKH").reached == 0
    assert _row(analysis_view(actor=admin, filters=Filters(period="2026", planned=True)).programs, "PKH").reached == 1
    assert analysis_view(actor=admin, filters=Filters(period="2025")).programs == []


def test_a_village_operator_sees_only_its_village(ledger: ImportOutcome, make_user: Callable[..., User]) -> None:
    operator = make_user("desa", Role.VILLAGE_OPERATOR, area="64.74.03.1002")
    view = analysis_view(actor=operator, filters=Filters(period="2026"))
    assert view.area.code == "64.74.03.1002" and view.total.families == 1
    pkh = _row(view.programs, "PKH")
    assert (pkh.eligible, pkh.reached, pkh.unmatched, pkh.recipients) == (1, 1, 0, 1)
    with pytest.raises(Area.DoesNotExist):
        analysis_view(actor=operator, filters=Filters(area="64.74"))
    other = make_user("desa2", Role.VILLAGE_OPERATOR, area="64.74.01.1001")
    pkh_other = _row(analysis_view(actor=other, filters=Filters(period="2026")).programs, "PKH")
    assert (pkh_other.recipients, pkh_other.unmatched, pkh_other.leakage) == (1, 1, 1)


def test_analysis_page_logs_lists_and_masks_them_for_partners(
    ledger: ImportOutcome, admin: User, partner: User, client_for: Any
) -> None:
    page = client_for(admin).get("/program/analisis/?periode=2026")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-row="PKH"' in html and "6474021010200004" in html and "Gg. Damai" in html
    assert AuditEvent.objects.filter(action=AuditAction.PERSONAL_VIEW, target_type="programs.analysis").exists()
    html = client_for(partner).get("/program/analisis/?periode=2026").content.decode()
    assert "6474021010200004" not in html and "6474********0004" in html
    assert "Gg. Damai" not in html  # no exact address for partners
    assert client_for(admin).get("/program/analisis/64.74.03/?periode=2026").status_code == 200
    assert client_for(admin).get("/program/analisis/64.74.03.1002/?periode=2026").status_code == 200
    assert client_for(admin).get("/program/analisis/65.01/").status_code == 404  # outside the region


def test_export_has_every_table_and_the_full_lists_for_exporters(
    ledger: ImportOutcome, admin: User, partner: User, client_for: Any
) -> None:
    response = client_for(admin).get("/program/analisis/ekspor.xlsx?periode=2026")
    assert response.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    assert book.sheet_names == ["Ringkasan", "Program", "Strategi", "Wilayah", "Tumpang tindih", "Belum terjangkau",
                                "Banyak program"]  # fmt: skip
    program_sheet = book.get_sheet_by_name("Program").to_python()
    pkh = next(r for r in program_sheet if r[0] == "PKH")
    assert pkh[3:6] == [2, 1, 0.5]
    excluded = book.get_sheet_by_name("Belum terjangkau").to_python()
    assert excluded[1][0] == "6474021010200004"
    assert AuditEvent.objects.filter(action=AuditAction.PERSONAL_EXPORT, target_type="programs.analysis").exists()
    partner_book = CalamineWorkbook.from_filelike(
        io.BytesIO(client_for(partner).get("/program/analisis/ekspor.xlsx?periode=2026").content)
    )
    assert "Belum terjangkau" not in partner_book.sheet_names  # partners cannot export persons


def test_family_timeline_shows_status_funder_and_adoptions(ledger: ImportOutcome, admin: User) -> None:
    family = Family.objects.get(kk="6474031203150001")
    rows = family_benefit_timeline(actor=admin, family=family)
    assert {(r["code"], r["status"], r["funder"]) for r in rows} == {
        ("PKH", "delivered", "APBN (pusat)"), ("SEMBAKO", "delivered", "APBN (pusat)")
    }  # fmt: skip
    assert {r["organisation"] for r in rows} == {"Kementerian Sosial"}  # both national programs are Kemensos's


def test_program_pages(ledger: ImportOutcome, admin: User, partner: User, client_for: Any) -> None:
    client = client_for(admin)
    listing = client.get("/program/")
    assert listing.status_code == 200 and 'data-program="PKH"' in listing.content.decode()
    pkh = Benefit.objects.filter(program__code="PKH").first().program  # type: ignore[union-attr]
    detail = client.get(f"/program/{pkh.pk}/").content.decode()
    assert "desil &lt;= 4" in detail and "data-eligible>2<" in detail
    response = client.post(f"/program/{pkh.pk}/status/", {"batch": ledger.batch.pk, "status": "verified"})
    assert response.status_code == 302 and Benefit.objects.filter(status="verified").count() == 3
    assert client_for(partner).post(f"/program/{pkh.pk}/status/", {"batch": ledger.batch.pk,
                                                                   "status": "planned"}).status_code == 403  # fmt: skip
    form = client.post("/program/baru/", {"code": "BEASISWA", "name": "Beasiswa Pemkot", "funder": "apbd",
                                          "unit": "person", "benefit_type": "cash", "period": "year",
                                          "eligibility_rule": "desil <= 3", "strategies": ["pmdn.pendapatan"],
                                          "active": "on"})  # fmt: skip
    assert form.status_code == 302
    bad = client.post("/program/baru/", {"code": "X", "name": "X", "funder": "apbd", "unit": "person",
                                         "benefit_type": "cash", "period": "year",
                                         "eligibility_rule": "desil <<"})  # fmt: skip
    assert bad.status_code == 200 and "aturan kelayakan" in bad.content.decode()


def test_rules_beyond_the_quick_columns_use_the_targeting_family_table(ledger: ImportOutcome, admin: User) -> None:
    from tepat.programs.models import Program
    from tepat.programs.selectors import program_detail
    from tepat.programs.services import program_save

    pkh = program_save(
        actor=admin, program=Program.objects.get(code="PKH"), eligibility_rule="desil <= 4 and female_head"
    )
    assert program_detail(actor=admin, program=pkh).eligible_families == 1  # K3: Sri Wahyuni heads her family
    view = analysis_view(actor=admin, filters=Filters(period="2026"))
    row = _row(view.programs, "PKH")
    assert (row.eligible, row.reached, row.excluded_extreme) == (1, 0, 1)
