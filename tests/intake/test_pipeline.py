from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from tepat.accounts.models import AuditAction, AuditEvent, Role, User
from tepat.intake.errors import IntakeError
from tepat.intake.exports import rejected_rows_xlsx, template_xlsx
from tepat.intake.models import BatchStatus, ColumnMapping, ImportBatch, RowIssue, Source
from tepat.intake.services import (
    ImportOutcome,
    PipelineError,
    import_commit,
    import_file,
    import_map_columns,
    import_rollback,
    import_stage,
    import_validate,
)
from tepat.registry.models import Change, Family, Membership, Person, SourceRecord
from tepat.registry.selectors.profile import family_profile

from ..conftest import EXTRACT

pytestmark = pytest.mark.django_db


def staged(admin: User, tmp_path: Path, text: str = EXTRACT, kind: str = "dtsen", name: str = "DTSEN uji"):  # type: ignore[no-untyped-def]
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    batch = import_stage(actor=admin, path=path, kind=kind, source_name=name)
    return import_validate(batch=batch)


def test_validation_reports_and_previews_without_touching_the_registry(admin: User, tmp_path: Path) -> None:
    batch = staged(admin, tmp_path)
    assert batch.status == BatchStatus.VALIDATED
    assert batch.counts == {"rows": 7, "accepted": 6, "rejected_rows": 1, "warnings": batch.counts["warnings"]}
    assert batch.preview["families_new"] == 3 and batch.preview["persons_new"] == 5
    assert batch.preview["conflicts"] == 1 and batch.preview["examples"]["new_persons"][0]["name"] == "Ahmad Fauzi"
    assert Person.objects.count() == 0 and Family.objects.count() == 0
    assert SourceRecord.objects.filter(batch=batch).count() == 7  # every raw row kept, the rejected one too
    codes = set(RowIssue.objects.filter(batch=batch).values_list("code", flat=True))
    assert {"village.unknown", "nik.excel_scientific", "nik.placeholder"} <= codes


@pytest.mark.parametrize("change", ["edited", "gone"])
def test_a_commit_reads_the_stored_file_again_and_the_kept_rows_when_it_changed(
    admin: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """A family list is committed in one pass from its stored file, each row checked against the row kept at
    validation; when the file is no longer the one validated, the kept rows are committed instead."""
    from tepat.intake.services import commit as step

    read_again: list[bool] = []
    real = step._commit_from_file

    def watched(*args: Any) -> bool:
        read_again.append(real(*args))
        return read_again[-1]

    monkeypatch.setattr(step, "_commit_from_file", watched)
    batch = staged(admin, tmp_path)
    import_commit(actor=admin, batch=batch, valid_only=True)
    assert read_again == [True] and Person.objects.count() == 5
    committed = set(Person.objects.values_list("nik_raw", "name"))
    import_rollback(actor=admin, batch=batch)

    batch = staged(admin, tmp_path, name="DTSEN uji lagi")
    stored = Path(batch.stored_path)
    if change == "edited":  # a row more: not the validated file; committing it would commit an unchecked row
        stored.write_text(EXTRACT + EXTRACT.splitlines()[1].replace("Ahmad", "Ahmad Baru") + "\n", encoding="utf-8")
    else:
        stored.unlink()
    import_commit(actor=admin, batch=batch, valid_only=True)
    assert read_again == [True, False] and batch.status == BatchStatus.COMMITTED
    assert Person.objects.count() == 5 and not Person.objects.filter(name__startswith="Ahmad Baru").exists()
    assert committed == set(Person.objects.values_list("nik_raw", "name"))


def test_a_commit_after_the_reference_data_changed_commits_what_was_validated(
    admin: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read again, the file would pass a row the report rejected (its village was added since): the commit is then
    made from the kept rows, the ones validated, so nothing the report rejected is committed."""
    from tepat.areas.models import Area, Kind, Level
    from tepat.intake.services import commit as step

    read_again: list[bool] = []
    real = step._commit_from_file
    monkeypatch.setattr(step, "_commit_from_file", lambda *args: read_again.append(real(*args)) or read_again[-1])
    batch = staged(admin, tmp_path)
    assert batch.counts["rejected_rows"] == 1
    parent = None
    for code, level, kind in (("99", Level.PROVINCE, Kind.PROVINCE), ("99.99", Level.REGENCY, Kind.CITY),
                              ("99.99.99", Level.DISTRICT, Kind.DISTRICT),
                              ("99.99.99.9999", Level.VILLAGE, Kind.KELURAHAN)):  # fmt: skip
        parent = Area.objects.create(code=code, parent=parent, level=level, kind=kind, name=f"Baru {code}")
    import_commit(actor=admin, batch=batch, valid_only=True)
    assert read_again == [False] and batch.status == BatchStatus.COMMITTED
    assert Person.objects.count() == 5 and not Person.objects.filter(name="Tanpa Desa").exists()


def test_rejected_rows_need_a_choice(admin: User, tmp_path: Path) -> None:
    batch = staged(admin, tmp_path)
    with pytest.raises(PipelineError, match="1 baris ditolak"):
        import_commit(actor=admin, batch=batch)
    import_commit(actor=admin, batch=batch, valid_only=True)
    assert batch.status == BatchStatus.COMMITTED and Person.objects.count() == 5
    assert not Person.objects.filter(name="Tanpa Desa").exists()
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT_COMMIT, target_id=str(batch.pk)).exists()


def test_the_rejected_rows_download_says_why(admin: User, tmp_path: Path) -> None:
    batch = staged(admin, tmp_path)
    book = CalamineWorkbook.from_filelike(io.BytesIO(rejected_rows_xlsx(batch)))
    rows = book.get_sheet_by_name("Ditolak").to_python()
    assert rows[0][:3] == ["baris_asal", "alasan_ditolak", "id_keluarga"]
    assert rows[1][0] == 8 and "village.unknown" in rows[1][1] and "Tanpa Desa" in rows[1]


def test_rollback_restores_values_and_lineage(imported: ImportOutcome, admin: User, tmp_path: Path) -> None:
    wife = Person.objects.get(nik="6474035508880002")
    old_source, old_lineage = wife.source_record_id("name"), dict(wife.lineage)
    newer = EXTRACT.replace("Nur Aisyah,P", "Nur Aisyah Rahman,P").replace(
        "6474025104900005,Tanpa Desa,P,Bontang,1990-04-11,Kepala Keluarga,Marni,Gg. Damai,010,,99.99.99.9999",
        "6474025104900005,Rina Marlina,P,Bontang,1990-04-11,Kepala Keluarga,Marni,Gg. Damai,010,,64.74.02.1002",
    )
    second = staged(admin, tmp_path, newer)
    import_commit(actor=admin, batch=second, valid_only=True)
    assert (
        Person.objects.get(pk=wife.pk).name == "Nur Aisyah Rahman"
        and Person.objects.filter(name="Rina Marlina").exists()
    )
    with pytest.raises(PipelineError, match="dipakai oleh impor berikutnya"):
        import_rollback(actor=admin, batch=imported.batch)
    import_rollback(actor=admin, batch=second)
    wife.refresh_from_db()
    assert wife.name == "Nur Aisyah" and wife.source_record_id("name") == old_source
    assert wife.lineage == old_lineage  # the record the row came from again, as it was
    assert not Person.objects.filter(name="Rina Marlina").exists()
    assert Change.objects.filter(entity="person", entity_id=wife.pk, reason__startswith="pembatalan").exists()
    second.refresh_from_db()
    assert second.status == BatchStatus.ROLLED_BACK


def test_a_person_list_with_indonesian_headers_joins_families_by_kk(imported: ImportOutcome, admin: User,
                                                                   tmp_path: Path) -> None:  # fmt: skip
    text = ("No.;NIK;NO KK;NAMA LENGKAP;JK;TGL LAHIR;HUB KELUARGA;KODE DESA\n"
            "1;6474034101150003;6474031203150001;Aisyah Putri;P;01/01/2015;Anak;64.74.03.1002\n"
            "2;6474035508880002;6474031203150001;NUR AISYAH;P;15/08/1988;Istri;64.74.03.1002\n")  # fmt: skip
    outcome = import_file(actor=admin, path=_write(tmp_path, "dinsos.csv", text), kind="person", source_name="Dinsos")
    assert outcome.batch.status == BatchStatus.COMMITTED
    family = Family.objects.get(kk="6474031203150001")
    names = set(family.memberships.values_list("person__name", flat=True))
    assert "Aisyah Putri" in names and outcome.counts["persons_new"] == 1
    assert Person.objects.get(nik="6474035508880002").name == "NUR AISYAH"  # a changed value, recorded
    assert Change.objects.filter(field="name", new="NUR AISYAH").exists()


def test_a_person_row_keeps_its_values_and_the_row_they_came_from(admin: User, tmp_path: Path) -> None:
    """Each value goes to its column, disability as a boolean; the lineage names the row's source record once, and
    the family page gives it as the source of each value the row gave (and of none it left empty)."""
    text = ("NIK,NO KK,NAMA,JK,TEMPAT LAHIR,TGL LAHIR,NAMA IBU,STATUS KAWIN,PENDIDIKAN,PEKERJAAN,DISABILITAS,"
            "KODE DESA\n"
            "6474031207850001,6474031203150001,Ahmad  Fauzi,L,Bontang,12/07/1985,Siti,Kawin,SMA,Nelayan,Tidak,"
            "64.74.03.1002\n"
            "6474035508880002,6474031203150001,Nur Aisyah,P,,15/08/1988,,,,,Ya,64.74.03.1002\n"
            "6474034101150003,6474031203150001,,,,,,,,,,64.74.03.1002\n")  # fmt: skip
    outcome = import_file(actor=admin, path=_write(tmp_path, "kel.csv", text), kind="person", source_name="Kelurahan")
    assert outcome.batch.status == BatchStatus.COMMITTED and outcome.counts["persons_new"] == 3
    records = dict(SourceRecord.objects.filter(batch=outcome.batch).values_list("row_number", "id"))
    ahmad = Person.objects.get(nik="6474031207850001")
    assert (ahmad.name, ahmad.sex, ahmad.birth_place, str(ahmad.birth_date), ahmad.mother_name) == (
        "Ahmad Fauzi", "L", "Bontang", "1985-07-12", "Siti")  # fmt: skip
    assert (ahmad.marital_status, ahmad.education, ahmad.occupation, ahmad.disability, ahmad.nik_valid) == (
        "Kawin", "SMA", "Nelayan", False, True)  # fmt: skip
    assert ahmad.lineage == {"*": records[2]} and ahmad.source_record_id("occupation") == records[2]
    nur = Person.objects.get(nik="6474035508880002")
    assert (nur.birth_place, nur.occupation, nur.disability) == ("", "", True)
    assert nur.lineage == {"*": records[3]}
    nameless = Person.objects.get(nik="6474034101150003")
    assert nameless.disability is None and nameless.birth_date is None
    assert nameless.lineage == {"*": records[4]}
    family = Membership.objects.get(person=nur).family
    profile = family_profile(actor=admin, family=family)
    shown = {(m.person_id, v.name): v.provenance for m in profile.members for v in m.fields}
    assert shown[(nur.pk, "name")].row == 3 and shown[(nur.pk, "nik")].row == 3
    assert shown[(nur.pk, "birth_place")] is None and shown[(nur.pk, "occupation")] is None
    assert shown[(ahmad.pk, "occupation")].row == 2


@pytest.fixture(params=["in-process", "reading-process"])
def reading(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """A list read both ways: row by row in the importing process, and as a 'large' list, read and parsed
    column-wise by a second process, two rows a chunk."""
    if request.param == "reading-process":
        monkeypatch.setattr("tepat.intake.parsing.CHILD_MIN_ROWS", 0)
        monkeypatch.setattr("tepat.intake.parsing.PARSE_CHUNK", 2)
    return str(request.param)


def test_a_list_without_village_codes_is_placed_by_village_and_district_names(
    admin: User, tmp_path: Path, reading: str
) -> None:
    """Agency and village lists name the kelurahan (and kecamatan) instead of coding it. A name unique in the
    region places the row; a name two districts share needs the district, by name or code; anything else is
    rejected on the village name column with its own code. Both ways of reading a list give the same result."""
    from tepat.areas.models import Area, Kind, Level

    # A second Kanaan, in Bontang Selatan (the real one is in Bontang Barat, 64.74.03.1003).
    Area.objects.create(code="64.74.02.1099", parent_id="64.74.02", level=Level.VILLAGE, kind=Kind.KELURAHAN,
                        name="Kanaan")  # fmt: skip
    text = ("NIK;NAMA LENGKAP;KODE DESA;KECAMATAN;DESA/KELURAHAN\n"
            "6474031207850001;Ahmad Fauzi;;Bontang Barat;Kel. Gunung Telihan\n"
            "6474035508880002;Nur Aisyah;;;GUNUNG TELIHAN\n"
            "6474011207850003;Budi Santoso;;;api api\n"
            "6474031207850004;Made Wirawan;;Kec. Bontang Barat;Kanaan\n"
            "6474021207850005;Siti Rahma;;647402;Kanaan\n"
            "6474031207850006;Yohanes Kanaan;;;Kanaan\n"
            "6474031207850007;Rina Wati;;Bontang Barat;Gunung Tembak\n"
            "6474031207850008;Eko Prasetyo;010;Bontang Barat;Gunung Telihan\n"  # a BPS code: the name places it
            "6474031207850009;Dewi Lestari;64.74.03.1003;;Gunung Telihan\n"  # a known code wins over the name
            "6474031207850010;Agus Salim;-;;Gunung Tembak\n")  # fmt: skip
    path = _write(tmp_path, "usulan.csv", text)
    batch = import_validate(batch=import_stage(actor=admin, path=path, kind="person", source_name="Kelurahan Z"))
    issues = {(i.row_number, i.column, i.code, i.severity) for i in RowIssue.objects.filter(batch=batch)
              if i.column in ("village", "village_name")}  # fmt: skip
    assert issues == {
        (7, "village_name", "village.name_ambiguous", "error"),
        (8, "village_name", "village.name_unknown", "error"),
        (9, "village", "village.unknown", "warning"),
        (11, "village", "village.unknown", "error"),
    }
    import_commit(actor=admin, batch=batch, valid_only=True)
    placed = dict(Membership.objects.values_list("person__nik", "family__village"))
    assert placed == {
        "6474031207850001": "64.74.03.1002", "6474035508880002": "64.74.03.1002", "6474011207850003": "64.74.01.1006",
        "6474031207850004": "64.74.03.1003", "6474021207850005": "64.74.02.1099", "6474031207850008": "64.74.03.1002",
        "6474031207850009": "64.74.03.1003",
    }  # fmt: skip


def test_headers_with_hints_and_one_rt_rw_column_are_read_as_agencies_write_them(
    admin: User, tmp_path: Path, reading: str
) -> None:
    """'TGL LAHIR (DD/MM/YYYY)', 'JENIS KELAMIN (L/P)', 'NIK [16 digit]' are the fields without their hints; one
    'RT/RW' column gives both codes, for rows whose own RT and RW cells are empty."""
    text = ("NIK [16 digit],NO. KK (16 digit),NAMA SESUAI KTP,JENIS KELAMIN (L/P),TGL LAHIR (DD/MM/YYYY),RT/RW,"
            "KODE DESA\n"
            "6474031207850001,6474031203150001,Ahmad Fauzi,L,12/07/1985,003/005,64.74.03.1002\n"
            "6474035508880002,6474031203150001,Nur Aisyah,P,15/08/1988,003/005,64.74.03.1002\n"
            "6474031207850003,6474031203150002,Budi Santoso,L,01/02/1979,RT 7 RW 12,64.74.03.1002\n"
            "6474031207850004,6474031203150003,Made Wirawan,L,01/02/1979,,64.74.03.1002\n"
            "6474031207850005,6474031203150004,Eko Prasetyo,L,01/02/1979,RT 3,64.74.03.1002\n")  # fmt: skip
    outcome = import_file(actor=admin, path=_write(tmp_path, "opd.csv", text), kind="person", source_name="Dinsos")
    assert outcome.batch.status == BatchStatus.COMMITTED and outcome.counts["persons_new"] == 5
    nur = Person.objects.get(nik="6474035508880002")
    assert (nur.name, nur.sex, str(nur.birth_date)) == ("Nur Aisyah", "P", "1988-08-15")
    places = {f.kk: (f.address.rt, f.address.rw) for f in Family.objects.select_related("address")}
    assert places == {"6474031203150001": ("003", "005"), "6474031203150002": ("007", "012"),
                      "6474031203150003": ("", ""), "6474031203150004": ("", "")}  # fmt: skip
    unsplit = RowIssue.objects.get(batch=outcome.batch, column="rt_rw")
    assert (unsplit.row_number, unsplit.code, unsplit.severity) == (6, "rt_rw.invalid", "warning")


def test_birth_dates_written_month_first_are_read_so_and_reported(admin: User, tmp_path: Path, reading: str) -> None:
    """A list saved by a computer set to American English writes 07/25/1985. A date that only reads month first is
    read so; one that reads both ways is read day first (the Indonesian order) unless the NIK, which carries the
    birth date, agrees only with month first. Each date read month first is a warning on its row."""
    text = ("NIK,NO KK,NAMA,JK,TGL LAHIR,KODE DESA\n"
            "6474032507850001,6474031203150001,Ahmad Fauzi,L,07/25/1985,64.74.03.1002\n"
            "6474030403850002,6474031203150001,Budi Santoso,L,03/04/1985,64.74.03.1002\n"
            "6474030403850003,6474031203150002,Made Wirawan,L,04/03/1985,64.74.03.1002\n"
            "6474030101850004,6474031203150003,Yohanes Tan,L,07/12/1985,64.74.03.1002\n"
            "6474031207850005,6474031203150003,Rudi Hartono,L,13/13/1985,64.74.03.1002\n")  # fmt: skip
    outcome = import_file(actor=admin, path=_write(tmp_path, "us.csv", text), kind="person", source_name="CSR")
    assert outcome.batch.status == BatchStatus.COMMITTED and outcome.counts["persons_new"] == 5
    born = {nik: str(day) for nik, day in Person.objects.values_list("nik", "birth_date")}
    assert born == {"6474032507850001": "1985-07-25", "6474030403850002": "1985-03-04",
                    "6474030403850003": "1985-03-04", "6474030101850004": "1985-12-07",
                    "6474031207850005": "None"}  # fmt: skip
    warned = {(i.row_number, i.code) for i in RowIssue.objects.filter(batch=outcome.batch, column="birth_date")}
    assert warned == {(2, "date.month_first"), (3, "date.month_first"), (6, "date.invalid")}


@pytest.mark.parametrize("child", [False, True], ids=["in-process", "reading-process"])
def test_relationship_numbers_are_read_in_the_numbering_the_list_uses(
    admin: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, child: bool
) -> None:
    """A DTKS or Regsosek extract numbers the relationship to the head BPS's way (2 spouse, 3 child, 4 in-law),
    a Dukcapil list SHDK's way (3 wife, 4 child): the column's numbers decide, and a list read BPS's way says so
    on its first numbered row."""
    if child:
        monkeypatch.setattr("tepat.intake.parsing.CHILD_MIN_ROWS", 0)
    rows = [("6474031207850001", "6474031203150001", "Ahmad Fauzi", "1"),
            ("6474035508880002", "6474031203150001", "Nur Aisyah", "2"),
            ("6474031207100003", "6474031203150001", "Rizky Fauzi", "3"),
            ("6474035507120004", "6474031203150001", "Putri Fauzi", "3"),
            ("6474031207700005", "6474031203150002", "Budi Santoso", "1"),
            ("6474035508720006", "6474031203150002", "Sri Wahyuni", "2"),
            ("6474031207950007", "6474031203150002", "Andi Santoso", "3"),
            ("6474035508960008", "6474031203150002", "Rina Kusuma", "4")]  # fmt: skip
    text = "NIK,NO KK,NAMA,HUB_KRT,KODE DESA\n" + "".join(f"{','.join(row)},64.74.03.1002\n" for row in rows)
    outcome = import_file(actor=admin, path=_write(tmp_path, "dtks.csv", text), kind="person", source_name="DTKS")
    assert outcome.batch.status == BatchStatus.COMMITTED and outcome.counts["persons_new"] == 8
    meant = {"Ahmad Fauzi": "kepala", "Nur Aisyah": "istri", "Rizky Fauzi": "anak", "Putri Fauzi": "anak",
             "Budi Santoso": "kepala", "Sri Wahyuni": "istri", "Andi Santoso": "anak",
             "Rina Kusuma": "menantu"}  # fmt: skip
    assert dict(Membership.objects.values_list("person__name", "relationship")) == meant
    said = [(i.row_number, i.code, i.severity) for i in RowIssue.objects.filter(batch=outcome.batch)]
    assert said == [(2, "relationship.bps_numbering", "warning")]

    as_shdk = {"1": "1", "2": "3", "3": "4", "4": "5"}  # the same families as Dukcapil numbers them, elsewhere
    shdk = "NIK,NO KK,NAMA,SHDK,KODE DESA\n" + "".join(
        f"{nik.replace('647403', '647401')},{kk.replace('647403', '647401')},{name},{as_shdk[code]},64.74.01.1002\n"
        for nik, kk, name, code in rows
    )
    again = import_file(actor=admin, path=_write(tmp_path, "dukcapil.csv", shdk), kind="person", source_name="Capil")
    assert again.batch.status == BatchStatus.COMMITTED
    got = dict(Membership.objects.filter(family__village="64.74.01.1002").values_list("person__name", "relationship"))
    assert got == meant
    assert not RowIssue.objects.filter(batch=again.batch, code="relationship.bps_numbering").exists()


def test_an_apostrophe_before_a_short_nik_is_a_finding_not_a_stopped_import(
    admin: User, tmp_path: Path, reading: str
) -> None:
    text = ("NIK,NO KK,NAMA,TGL LAHIR,KODE DESA\n'647403120785000,'647403120315000,Ahmad Fauzi,²,64.74.03.1002\n"
            "6474035508880002,6474031203150001,Nur Aisyah,1988-08-15,64.74.03.1002\n")  # fmt: skip
    outcome = import_file(actor=admin, path=_write(tmp_path, "kutip.csv", text), kind="person", source_name="Desa")
    assert outcome.batch.status == BatchStatus.COMMITTED and outcome.counts["persons_new"] == 2
    codes = {(i.row_number, i.column, i.code) for i in RowIssue.objects.filter(batch=outcome.batch)}
    assert (2, "nik", "nik.length") in codes and (2, "birth_date", "date.invalid") in codes


def test_cells_longer_than_their_fields_are_kept_cut_not_refused_by_the_database(
    admin: User, tmp_path: Path, reading: str
) -> None:
    """PostgreSQL refuses a value longer than its column (SQLite does not): a note typed into the NIK column or a long
    address stopped the commit there. Every text field is cut to its column; the raw row keeps the whole cell."""
    long = "Sedang diurus di Dukcapil Kecamatan Bontang Utara, menunggu KTP elektronik dicetak " * 4
    header = ["NIK", "NO KK", "NAMA", "TEMPAT LAHIR", "NAMA IBU", "STATUS KAWIN", "PENDIDIKAN", "PEKERJAAN", "ALAMAT",
              "RT", "RW", "ID KELUARGA", "ID RUMAH TANGGA", "JENIS LANTAI", "JENIS DINDING", "JENIS ATAP",
              "SUMBER AIR MINUM", "FASILITAS BAB", "SUMBER PENERANGAN", "BAHAN BAKAR MEMASAK", "KEPEMILIKAN RUMAH",
              "KODE DESA"]  # fmt: skip
    row = [long] * (len(header) - 1) + ["64.74.03.1002"]
    header += ["JUMLAH MOTOR", "LUAS LANTAI"]  # numbers no column can hold: a warning, the value left empty
    row += ["40000", "1e400"]
    text = ",".join(header) + "\n" + ",".join(f'"{cell}"' for cell in row) + "\n"
    text += text.splitlines()[1].replace('"40000"', '"-2"').replace(long, long.replace("Sedang", "Masih")) + "\n"
    outcome = import_file(actor=admin, path=_write(tmp_path, "panjang.csv", text), kind="dtsen", source_name="Desa")
    assert outcome.batch.status == BatchStatus.COMMITTED and outcome.counts["persons_new"] == 2
    person = Person.objects.get(name__startswith="Sedang")
    assert person.name == long.strip()[:200] and person.nik_raw == long[:64] and person.nik is None
    assert long in SourceRecord.objects.get(batch=outcome.batch, row_number=2).values
    warned = {(i.row_number, i.column, i.code) for i in RowIssue.objects.filter(batch=outcome.batch)}
    assert {(2, "motorcycles", "number.range"), (3, "motorcycles", "number.range"),
            (2, "floor_area_m2", "number.invalid")} <= warned  # fmt: skip


def test_desil_written_as_text_is_read(admin: User, tmp_path: Path, reading: str) -> None:
    """Extracts and dashboard downloads write 'Desil 1' or '1 - Sangat Miskin' as often as 1."""
    text = EXTRACT.replace(",2,2026-09-30", ",Desil 2,2026-09-30").replace(
        ",1,2026-09-30", ",1 - Sangat Miskin,2026-09-30"
    )
    outcome = import_file(actor=admin, path=_write(tmp_path, "dtsen.csv", text), kind="dtsen", source_name="DTSEN")
    desil = dict(Family.objects.values_list("kk", "desil_national"))
    assert desil == {"6474031203150001": 2, "6474011405180003": 9, "6474021010200004": 1}
    assert not RowIssue.objects.filter(batch=outcome.batch, column="desil_national").exists()


def test_one_birth_place_and_date_column_gives_both(admin: User, tmp_path: Path, reading: str) -> None:
    """Village forms write 'Tempat/Tgl Lahir' in one column: split into the place and the date, read as any birth
    date is (a date that cannot be read is a warning on that column, the row kept)."""
    text = ("NIK;NAMA;TEMPAT/TGL LAHIR;KODE DESA\n"
            "6474031207850001;Ahmad Fauzi;Bontang, 12-07-1985;64.74.03.1002\n"
            "6474035508880002;Nur Aisyah;SAMARINDA 15 Agustus 1988;64.74.03.1002\n"
            "6474031207850003;Budi Santoso;Tana Toraja, 31-02-1985;64.74.03.1002\n"
            "6474031207850004;Eko Prasetyo;Bontang, 1985;64.74.03.1002\n")  # fmt: skip
    outcome = import_file(actor=admin, path=_write(tmp_path, "ttl.csv", text), kind="person", source_name="Desa")
    assert outcome.batch.status == BatchStatus.COMMITTED and outcome.counts["persons_new"] == 4
    got = {nik: (place, str(day)) for nik, place, day in Person.objects.values_list("nik", "birth_place", "birth_date")}
    assert got == {"6474031207850001": ("Bontang", "1985-07-12"), "6474035508880002": ("SAMARINDA", "1988-08-15"),
                   "6474031207850003": ("Tana Toraja", "None"), "6474031207850004": ("Bontang", "None")}  # fmt: skip
    issues = {(i.row_number, i.column, i.code) for i in RowIssue.objects.filter(batch=outcome.batch)}
    assert {(4, "birth_place_date", "date.invalid"), (5, "birth_place_date", "date.invalid")} <= issues


def test_a_signed_government_form_imports_without_rejected_rows(admin: User, tmp_path: Path, reading: str) -> None:
    """A kelurahan's form as offices fill it: a title, a header over two rows (ALAMAT over RT | RW, JENIS KELAMIN
    over L | P ticked), a row numbering the columns, the data, a JUMLAH row and the signature block. The header
    rows are the header, the ticks the sex, and the closing rows are noted and skipped: nothing is rejected, so the
    list commits as it is."""
    import xlsxwriter

    path = tmp_path / "rtlh.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("RTLH")
    sheet.merge_range(0, 0, 0, 8, "DAFTAR CALON PENERIMA BANTUAN RTLH KELURAHAN GUNUNG TELIHAN TAHUN 2026")
    for column, title in ((0, "NO"), (1, "NIK"), (2, "NO. KK"), (3, "NAMA"), (8, "KODE DESA")):
        sheet.merge_range(2, column, 3, column, title)
    sheet.merge_range(2, 4, 2, 5, "JENIS KELAMIN")
    sheet.write_row(3, 4, ["L", "P"])
    sheet.merge_range(2, 6, 2, 7, "ALAMAT")
    sheet.write_row(3, 6, ["JALAN", "RT/RW"])
    sheet.write_row(4, 0, [1, 2, 3, 4, 5, 6, 7, 8, 9])
    people = [("6474031207850001", "6474031203150001", "Ahmad Fauzi", "√", "", "003/005"),
              ("6474035508880002", "6474031203150001", "Nur Aisyah", "", "√", "003/005"),
              ("6474031207850003", "6474031203150002", "Budi Santoso", "v", "", "007/001")]  # fmt: skip
    for row, (nik, kk, name, male, female, rt_rw) in enumerate(people, 5):
        sheet.write_row(row, 0, [row - 4, nik, kk, name, male, female, "Jl. Kenari", rt_rw, "64.74.03.1002"])
    sheet.write_row(8, 0, ["JUMLAH", "", "", "3 orang"])
    sheet.write(10, 5, "Bontang, 12 Januari 2026")
    sheet.write(11, 1, "Mengetahui,")
    sheet.write(11, 5, "Lurah Gunung Telihan")
    sheet.write(14, 1, "RT 003")
    sheet.write(14, 5, "H. Abdul Rahman, S.Sos")
    sheet.write(15, 5, "NIP. 197001011990031005")
    book.close()
    outcome = import_file(actor=admin, path=path, kind="person", source_name="Kelurahan Gunung Telihan",
                          valid_only=False)  # fmt: skip
    batch = outcome.batch
    assert batch.status == BatchStatus.COMMITTED and batch.counts["rejected_rows"] == 0
    assert outcome.counts["persons_new"] == 3 and batch.header_line == 5
    got = {p.nik: p.sex for p in Person.objects.all()}
    assert got == {"6474031207850001": "L", "6474035508880002": "P", "6474031207850003": "L"}
    assert {f.address.rt for f in Family.objects.select_related("address")} == {"003", "007"}
    closing = {i.row_number: i.severity for i in RowIssue.objects.filter(batch=batch, code="row.footer")}
    assert closing == {9: "warning", 11: "warning", 12: "warning", 15: "warning", 16: "warning"}


def test_only_rows_of_a_closing_block_are_taken_for_it() -> None:
    from tepat.intake.parsing import footer_row

    assert footer_row(["JUMLAH", None, 1500000000.0], after_footer=False) == "JUMLAH | 1500000000"
    assert footer_row([None, "Kepala Kelurahan Api-Api"], after_footer=False)
    assert footer_row(["Samarinda, 01-02-2026"], after_footer=False)
    assert footer_row(["NIP.197001011990031005"], after_footer=False)  # the signatory's NIP is not a NIK
    assert footer_row(["Drs. H. Abdul Rahman"], after_footer=True)  # the name under a signature
    assert not footer_row(["Drs. H. Abdul Rahman"], after_footer=False)
    assert not footer_row(["Ani", "64.74.03.1002", "003"], after_footer=True)  # a row of data that went wrong
    assert not footer_row(["Jumlah", "6474031207850001"], after_footer=False)  # a NIK: rejected, for the user to see
    assert not footer_row(["Kepala Keluarga", "Budi", "L"], after_footer=False)


def test_filling_hints_and_an_example_under_the_header_are_skipped_not_rejected(
    admin: User, tmp_path: Path, reading: str
) -> None:
    """Templates sent to villages carry a row of filling instructions under the header (16 digit, L/P, dd-mm-yyyy)
    and often the example row: both are noted and skipped, so the list commits whole. The same shapes below the
    first data row are data, and rejected as any row would be."""
    text = ("NIK;NO KK;NAMA;JK;TGL LAHIR;KODE DESA\n"
            "16 digit;16 digit;Nama sesuai KTP;L/P;dd-mm-yyyy;\n"
            "Contoh: 6474010101800001;6474010101100001;BUDI;L;01-01-1980;64.74.01.1001\n"
            "6474031207850001;6474031203150001;Ahmad Fauzi;L;12-07-1985;64.74.03.1002\n"
            "6474035508880002;6474031203150001;Nur Aisyah;P;15-08-1988;64.74.03.1002\n"
            ";;L/P;;;\n")  # fmt: skip
    outcome = import_file(actor=admin, path=_write(tmp_path, "usulan.csv", text), kind="person",
                          source_name="Desa", valid_only=False)  # fmt: skip
    batch = outcome.batch
    hints = {i.row_number: i.value for i in RowIssue.objects.filter(batch=batch, code="row.hint")}
    example = "Contoh: 6474010101800001 | 6474010101100001 | BUDI | L | 01-01-1980 | 64.74.01.1001"
    assert hints == {2: "16 digit | 16 digit | Nama sesuai KTP | L/P | dd-mm-yyyy", 3: example}
    assert batch.counts["rejected_rows"] == 1 and set(RowIssue.objects.filter(batch=batch, severity="error")
                                                       .values_list("row_number", flat=True)) == {6}  # fmt: skip
    assert sorted(Person.objects.values_list("name", flat=True)) == ["Ahmad Fauzi", "Nur Aisyah"]


def test_only_filling_instructions_make_a_hint_row() -> None:
    from tepat.intake.parsing import hint_row

    assert hint_row([None, "(diisi L/P)"]) == "(diisi L/P)"
    assert hint_row(["NIK 16 digit", "Ya/Tidak", "TGL/BLN/THN", "Tempat"])  # three of four
    assert hint_row(["Format: DD-MM-YYYY"]) and hint_row(["yyyy-mm-dd", "Laki-laki/Perempuan"])
    assert not hint_row(["Budi", "L", "003/005"])  # an RT/RW is not a choice of letters
    assert not hint_row(["L/P", "Budi", "Bontang", "Jl. Kenari"])  # one hint among data
    assert not hint_row(["16 digit", "6474031207850001"])  # a NIK: data, unless the row says it is an example
    assert not hint_row([None, ""])


def test_a_list_with_neither_village_codes_nor_names_is_refused_at_once(admin: User, tmp_path: Path) -> None:
    path = _write(tmp_path, "tanpa_desa.csv", "NIK,NAMA\n6474031207850001,Ahmad Fauzi\n")
    batch = import_stage(actor=admin, path=path, kind="person", source_name="Tanpa desa")
    with pytest.raises(IntakeError) as refused:
        import_validate(batch=batch)
    assert refused.value.code == "file.missing_columns"
    assert refused.value.params["columns"] == "Kode desa/kelurahan (kode_desa) atau nama desa/kelurahan"
    assert batch.status == BatchStatus.FAILED and not SourceRecord.objects.filter(batch=batch).exists()


def test_a_mapping_confirmed_once_is_remembered_for_the_source(admin: User, tmp_path: Path) -> None:
    source = Source.objects.create(name="Kelurahan X", kind="person")
    ColumnMapping.objects.create(source=source, header="identitas", field="nik")
    ColumnMapping.objects.create(source=source, header="nama", field="")  # ignore this column
    ColumnMapping.objects.create(source=source, header="nama_warga", field="name")
    text = "identitas,nama,nama_warga,kode_desa,no_kk\n6474031207850001,X,Ahmad Fauzi,64.74.03.1002,6474031203150001\n"
    outcome = import_file(actor=admin, path=_write(tmp_path, "x.csv", text), kind="person", source_name="Kelurahan X")
    assert (
        outcome.batch.mapping["nik"] == 0 and outcome.batch.mapping["name"] == 2 and "nama" not in outcome.batch.mapping
    )
    assert Person.objects.get(nik="6474031207850001").name == "Ahmad Fauzi"


def test_an_agency_operator_without_import_rights_is_refused(make_user: Callable[..., User], tmp_path: Path) -> None:
    partner = make_user("mitra", Role.PARTNER, org="CSR")
    from tepat.accounts.permissions import PermissionDenied

    with pytest.raises(PermissionDenied):
        import_stage(actor=partner, path=_write(tmp_path, "a.csv", EXTRACT), kind="dtsen", source_name="X")


def test_templates_have_a_header_and_an_explanation_sheet() -> None:
    book = CalamineWorkbook.from_filelike(io.BytesIO(template_xlsx("person")))
    assert book.sheet_names == ["Data", "Penjelasan"]
    header = book.get_sheet_by_name("Data").to_python()[0]
    assert header[:4] == ["record_id", "nik", "no_kk", "nama"] and header[-1] == "kode_desa"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_unrecognised_columns_are_mapped_once_and_remembered(admin: User, tmp_path: Path) -> None:
    text = "Identitas Warga;Nama Warga;Wilayah;Kartu\n6474031207850001;Ahmad Fauzi;6474031002;6474031203150001\n"
    path = _write(tmp_path, "kel.csv", text)
    batch = import_stage(actor=admin, path=path, kind="person", source_name="Kelurahan Y")
    with pytest.raises(IntakeError) as err:
        import_validate(batch=batch)
    assert err.value.code == "file.missing_columns"
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED and batch.columns == ["Identitas Warga", "Nama Warga", "Wilayah", "Kartu"]
    import_map_columns(actor=admin, batch=batch, choices={0: "nik", 1: "name", 2: "village", 3: "kk"})
    import_validate(batch=batch)
    assert batch.status == BatchStatus.VALIDATED and batch.counts["accepted"] == 1
    # The next file from the same source is read without asking.
    again = import_file(actor=admin, path=_write(tmp_path, "kel2.csv", text.replace("Ahmad", "Achmad")),
                        kind="person", source_name="Kelurahan Y")  # fmt: skip
    assert again.batch.status == BatchStatus.COMMITTED and Person.objects.get().name == "Achmad Fauzi"


def test_a_commit_that_dies_half_way_leaves_nothing_and_can_be_run_again(
    admin: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = staged(admin, tmp_path)
    from tepat.registry import stream

    def die(self: object, *args: object) -> None:
        raise SystemExit("worker killed")  # what a dying worker looks like to the open transaction

    monkeypatch.setattr(stream.FamilyStream, "_members", die)
    with pytest.raises(SystemExit):
        import_commit(actor=admin, batch=batch, valid_only=True)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.VALIDATED
    assert Family.objects.count() == 0 and Person.objects.count() == 0  # families were written, then undone
    monkeypatch.undo()
    import_commit(actor=admin, batch=batch, valid_only=True)
    assert batch.status == BatchStatus.COMMITTED and Person.objects.count() == 5


def test_a_one_pass_import_that_dies_half_way_leaves_nothing_and_can_be_run_again(
    admin: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``import_file`` commits a family list while it reads it: a death after the first part was written undoes
    the raw rows, the registry rows and the report together, and the batch can be validated and committed."""
    from tepat.registry import stream

    path = _write(tmp_path, "x.csv", EXTRACT)
    written = stream.FamilyStream._members
    calls = []

    def die_on_the_second_part(self: stream.FamilyStream, families: list[Any]) -> None:
        calls.append(len(families))
        if len(calls) == 2:
            raise SystemExit("worker killed")
        written(self, families)

    monkeypatch.setattr("tepat.intake.parsing.PARSE_CHUNK", 3)  # three rows a part: the extract has seven
    monkeypatch.setattr(stream.FamilyStream, "_members", die_on_the_second_part)
    with pytest.raises(SystemExit):
        import_file(actor=admin, path=path, kind="dtsen", source_name="DTSEN uji")
    batch = ImportBatch.objects.get()
    assert len(calls) == 2 and batch.status == BatchStatus.VALIDATING
    assert Family.objects.count() == Person.objects.count() == SourceRecord.objects.count() == 0
    assert not RowIssue.objects.exists()
    monkeypatch.undo()
    import_validate(batch=batch)
    import_commit(actor=admin, batch=batch, valid_only=True)
    again = import_file(actor=admin, path=path, kind="dtsen", source_name="DTSEN uji")
    assert batch.status == BatchStatus.COMMITTED and again.unchanged and Person.objects.count() == 5


def test_a_validation_interrupted_by_a_dead_worker_runs_again_cleanly(admin: User, tmp_path: Path) -> None:
    path = _write(tmp_path, "x.csv", EXTRACT)
    batch = import_stage(actor=admin, path=path, kind="dtsen", source_name="DTSEN uji")
    import_validate(batch=batch)
    batch.status = BatchStatus.VALIDATING  # as a worker that died would leave it
    batch.save()
    import_validate(batch=batch)
    assert SourceRecord.objects.filter(batch=batch).count() == 7 and batch.status == BatchStatus.VALIDATED
