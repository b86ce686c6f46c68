from __future__ import annotations

from pathlib import Path

import pytest
from django.db import IntegrityError, transaction

from tepat.accounts.models import AuditAction, AuditEvent, User
from tepat.intake.errors import IntakeError
from tepat.intake.models import BatchStatus, ImportBatch
from tepat.intake.services import ImportOutcome, import_file
from tepat.registry.models import Change, Family, FlagKind, Membership, Person, RegistryFlag, SourceRecord

pytestmark = pytest.mark.django_db


def test_an_extract_becomes_families_members_and_households(imported: ImportOutcome) -> None:
    assert imported.counts["families_new"] == 3 and imported.counts["persons_new"] == 5
    assert imported.counts["rejected_rows"] == 1  # the row with village 99.99.99.9999
    rejected = imported.issues(errors_only=True)
    assert [(i.row_number, i.column, i.code) for i in rejected] == [(8, "village", "village.unknown")]
    k1 = Family.objects.get(kk="6474031203150001")
    assert k1.village_id == "64.74.03.1002" and k1.desil_national == 2
    assert k1.household is not None and k1.household.floor == "Semen" and k1.household.owns_car is False
    assert [m.person.name for m in k1.memberships.order_by("position")] == [
        "Ahmad Fauzi",
        "Nur Aisyah",
        "Muhammad Rizky",
    ]


def test_every_value_knows_its_file_and_row(imported: ImportOutcome) -> None:
    wife = Person.objects.get(nik="6474035508880002")
    record = SourceRecord.objects.get(pk=wife.source_record_id("name"))
    assert record.batch == imported.batch and record.row_number == 3
    assert record.as_dict()["nama"] == "Nur Aisyah"
    family = Family.objects.get(kk="6474031203150001")
    assert SourceRecord.objects.get(pk=family.source_record_id("desil_national")).row_number == 2


def test_an_excel_damaged_nik_is_kept_raw_and_flagged(imported: ImportOutcome) -> None:
    child = Person.objects.get(name="Muhammad Rizky")
    assert child.nik is None and child.nik_raw == "6.47403E+15" and not child.nik_valid
    assert "nik.excel_scientific" in child.nik_problems
    assert RegistryFlag.objects.filter(kind=FlagKind.NIK_INVALID, person=child).exists()


def test_one_nik_in_two_kks_is_kept_inactive_and_flagged(imported: ImportOutcome) -> None:
    ahmad = Person.objects.get(nik="6474031207850001")
    memberships = Membership.objects.filter(person=ahmad).order_by("pk")
    assert [(m.family.kk, m.active, m.conflict) for m in memberships] == [
        ("6474031203150001", True, False),
        ("6474011405180003", False, True),
    ]
    flag = RegistryFlag.objects.get(kind=FlagKind.NIK_TWO_FAMILIES, person=ahmad)
    assert flag.detail["active_family"] == memberships[0].family_id


def test_the_database_refuses_a_second_active_family(imported: ImportOutcome) -> None:
    conflict = Membership.objects.get(conflict=True)
    conflict.active = True
    with pytest.raises(IntegrityError), transaction.atomic():
        conflict.save()


def test_reimporting_the_same_file_changes_nothing(imported: ImportOutcome, admin: User, extract_file: Path) -> None:
    counts = (Person.objects.count(), Family.objects.count(), SourceRecord.objects.count(), Change.objects.count())
    again = import_file(actor=admin, path=extract_file, kind="dtsen", source_name="DTSEN uji")
    assert again.unchanged and again.batch.counts["same_as_batch"] == imported.batch.pk
    assert counts == (
        Person.objects.count(),
        Family.objects.count(),
        SourceRecord.objects.count(),
        Change.objects.count(),
    )


def test_a_newer_extract_records_each_change_with_old_and_new(
    imported: ImportOutcome, admin: User, extract_file: Path, tmp_path: Path
) -> None:
    newer = tmp_path / "dtsen_2026_12.csv"
    text = (
        extract_file.read_text(encoding="utf-8")
        .replace("64.74.03.1002,2,2026-09-30", "64.74.03.1002,1,2026-12-31")
        .replace("Nur Aisyah,P", "Nur Aisyah Rahman,P")
    )
    newer.write_text(text, encoding="utf-8")
    result = import_file(actor=admin, path=newer, kind="dtsen", source_name="DTSEN uji")
    assert result.counts["families_new"] == 0 and result.counts["persons_new"] == 0
    assert result.counts["families_changed"] == 1 and result.counts["persons_changed"] == 1
    family = Family.objects.get(kk="6474031203150001")
    assert family.desil_national == 1
    change = Change.objects.get(entity="family", entity_id=family.pk, field="desil_national")
    assert (change.old, change.new, change.batch_id) == (2, 1, result.batch.pk)
    wife = Person.objects.get(nik="6474035508880002")
    assert wife.name == "Nur Aisyah Rahman"
    assert SourceRecord.objects.get(pk=wife.source_record_id("name")).batch == result.batch
    # The child without a valid NIK is matched inside the family by name and birth date, not duplicated.
    assert Person.objects.filter(name="Muhammad Rizky").count() == 1


def test_the_commit_is_audited(imported: ImportOutcome) -> None:
    event = AuditEvent.objects.get(action=AuditAction.IMPORT_COMMIT)
    assert event.target_id == str(imported.batch.pk) and event.detail["persons_new"] == 5
    assert imported.batch.status == BatchStatus.COMMITTED


@pytest.mark.parametrize(
    "content, code",
    [
        (b"", "file.empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "file.not_text"),
        (b"nama,alamat\nAhmad,Jl. A\n", "file.missing_columns"),
        (b"nik,nama,kode_desa,no_kk\n", "file.no_rows"),
        (b"nik,nama,kode_desa,no_kk\n6474031207850001,Ahmad,99.99.99.9999,6474031203150001\n", "file.unknown_region"),
    ],
)
def test_unusable_files_are_refused_with_a_code_and_nothing_is_written(
    admin: User, tmp_path: Path, content: bytes, code: str
) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(content)
    with pytest.raises(IntakeError) as err:
        import_file(actor=admin, path=path, kind="dtsen", source_name="DTSEN Kemensos")
    assert err.value.code == code
    # The upload is recorded as a failed batch with its reason; nothing reaches the registry.
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.error_code) == (BatchStatus.FAILED, code)
    assert Person.objects.count() == 0 and Family.objects.count() == 0


def test_windows_1252_semicolon_files_with_a_title_row_are_read(admin: User, tmp_path: Path) -> None:
    path = tmp_path / "dinsos.csv"
    text = (
        "DAFTAR KELUARGA KELURAHAN GUNUNG TELIHAN;;;;\n"
        "NO KK;NIK;NAMA LENGKAP;JK;KODE DESA\n"
        "6474031203150001;6474031207850001;Ahmad Fauzi;L;6474031002\n"
        "6474031203150001;6474035508880002;Nur Ai\u0161ah;P;6474031002\n"
    )
    path.write_bytes(text.encode("cp1252"))
    result = import_file(actor=admin, path=path, kind="dtsen", source_name="Dinsos")
    assert result.counts["persons_new"] == 2
    assert Person.objects.get(nik="6474035508880002").name == "Nur Aišah"
