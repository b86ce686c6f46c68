"""The national programs ship with every deployment, and recipient lists attach to them by code or alias."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.management import call_command

from tepat.accounts.models import Role, User
from tepat.accounts.permissions import PermissionDenied
from tepat.intake.services import ImportOutcome, import_rollback
from tepat.programs.catalogue import alias_key
from tepat.programs.models import Benefit, BenefitStatus, Program, Strategy
from tepat.programs.services import (
    ProgramError,
    benefits_set_status,
    program_ids_for_codes,
    program_save,
    programs_fold_aliases,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "code, rule, unit, funder",
    [
        ("PKH", "desil <= 4", "family", "apbn"),
        ("SEMBAKO", "desil <= 5", "family", "apbn"),
        ("PBI-JK", "desil <= 5", "person", "apbn"),
        ("PIP", "desil <= 4 and school_age_children > 0", "person", "apbn"),
        ("BLT-DD", "desil <= 1", "family", "dana_desa"),
        ("RTLH", "desil <= 5", "household", "apbd"),
    ],
)
def test_national_programs_are_preloaded_by_the_migration(code: str, rule: str, unit: str, funder: str) -> None:
    program = Program.objects.get(code=code)
    assert (program.eligibility_rule, program.unit, program.funder, program.national) == (rule, unit, funder, True)
    assert program.strategies.filter(code="inpres.beban").exists() or code == "RTLH"
    assert program.organisation is not None


def test_strategies_are_the_regulations_three_and_four() -> None:
    frameworks = {}
    for s in Strategy.objects.all():
        frameworks.setdefault(s.framework, []).append(s.code)
    assert frameworks == {
        "inpres4_2022": ["inpres.beban", "inpres.pendapatan", "inpres.kantong"],
        "permendagri53_2020": ["pmdn.beban", "pmdn.pendapatan", "pmdn.umk", "pmdn.sinergi"],
    }
    assert Strategy.objects.get(code="pmdn.umk").name.startswith("Mengembangkan dan menjamin keberlanjutan usaha")


def test_loading_again_keeps_the_regions_changes_unless_forced(admin: User) -> None:
    pkh = Program.objects.get(code="PKH")
    program_save(actor=admin, program=pkh, strategies=["pmdn.sinergi"], eligibility_rule="desil <= 3")
    call_command("programs", "load")
    pkh.refresh_from_db()
    assert pkh.eligibility_rule == "desil <= 3"
    assert list(pkh.strategies.values_list("code", flat=True)) == ["pmdn.sinergi"]
    call_command("programs", "load", "--force")
    pkh.refresh_from_db()
    assert pkh.eligibility_rule == "desil <= 4"


@pytest.mark.parametrize(
    "written, code",
    [("PKH", "PKH"), ("Sembako (BPNT)", "SEMBAKO"), ("BPNT", "SEMBAKO"), ("pbi jk", "PBI-JK"),
     ("BEDAH RUMAH (RTLH)", "RTLH"), ("BLT Dana Desa", "BLT-DD")],
)  # fmt: skip
def test_list_names_resolve_to_the_program_they_mean(written: str, code: str) -> None:
    ids, created = program_ids_for_codes([written])
    assert (ids[written], created) == (Program.objects.get(code=code).pk, 0)


def test_an_unknown_name_becomes_a_bare_program() -> None:
    ids, created = program_ids_for_codes(["Beasiswa Pemkot"])
    assert created == 1 and Program.objects.get(pk=ids["Beasiswa Pemkot"]).name == "Beasiswa Pemkot"
    assert alias_key("Sembako (BPNT)") == alias_key("SEMBAKO-BPNT") == "SEMBAKOBPNT"


def test_imports_attach_aliases_and_folding_moves_older_bare_programs(
    ledger: ImportOutcome, legacy_ledger: ImportOutcome, admin: User
) -> None:
    bare = Program.objects.get(code="Sembako (BPNT)")  # as an import before aliases were resolved left it
    assert bare.benefits.count() == 1
    folded = programs_fold_aliases(actor=admin)
    assert folded.programs == ["Sembako (BPNT) → SEMBAKO"] and folded.benefits == 1
    assert Benefit.objects.get(nik="6474031207850001").program.code == "SEMBAKO"
    assert not Program.objects.filter(code="Sembako (BPNT)").exists()
    import_rollback(actor=admin, batch=ledger.batch)  # the import can still be undone after folding
    assert not Benefit.objects.exists()


def test_ledger_rows_start_delivered_and_a_list_can_be_marked_verified(
    ledger: ImportOutcome, admin: User, make_user: Callable[..., User]
) -> None:
    pkh = Program.objects.get(code="PKH")
    assert set(Benefit.objects.values_list("status", flat=True)) == {BenefitStatus.DELIVERED}
    assert benefits_set_status(actor=admin, program=pkh, batch_id=ledger.batch.pk, status="verified") == 3
    assert Benefit.objects.filter(program=pkh, status="verified").count() == 3
    operator = make_user("desa", Role.VILLAGE_OPERATOR, area="64.74.03.1002")
    with pytest.raises(PermissionDenied):
        benefits_set_status(actor=operator, program=pkh, batch_id=ledger.batch.pk, status="planned")
    with pytest.raises(ProgramError):
        benefits_set_status(actor=admin, program=pkh, batch_id=ledger.batch.pk, status="paid")


def test_rules_are_checked_when_a_program_is_saved(admin: User, make_user: Callable[..., User]) -> None:
    with pytest.raises(ProgramError, match="desl"):
        program_save(actor=admin, program=None, code="beasiswa", name="Beasiswa", eligibility_rule="desl <= 4")
    rule = "desil <= 4 and school_age_children > 0"
    saved = program_save(actor=admin, program=None, code="beasiswa", name="Beasiswa", value=Decimal(1_000_000),
                         eligibility_rule=rule, strategies=["pmdn.pendapatan"])  # fmt: skip
    assert saved.code == "BEASISWA" and list(saved.strategies.values_list("code", flat=True)) == ["pmdn.pendapatan"]
    agency = make_user("perkim", Role.AGENCY_OPERATOR, org="Dinas Perkim")
    own = program_save(actor=agency, program=None, code="RTLH-KOTA", name="Bedah rumah APBD")
    assert own.organisation == agency.organisation
    with pytest.raises(PermissionDenied):
        program_save(actor=agency, program=Program.objects.get(code="PKH"), name="PKH plus")
    program_save(actor=agency, program=own, name="Bedah rumah APBD 2026")


def test_fold_command_reports_what_it_moved(legacy_ledger: ImportOutcome, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("programs", "fold")
    out = capsys.readouterr().out
    assert "programs folded: 1; ledger rows moved: 1" in out and "Sembako (BPNT) → SEMBAKO" in out
