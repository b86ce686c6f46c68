from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tepat.accounts.models import User
from tepat.intake.columns import map_columns
from tepat.intake.exports import TEMPLATES
from tepat.intake.models import BatchStatus, ImportBatch
from tepat.intake.services import missing_fields
from tepat.registry.models import Person

from ..conftest import EXTRACT, PASSWORD

pytestmark = pytest.mark.django_db
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def test_upload_report_commit_and_rollback_through_the_pages(
    client: Client, admin: User, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS = IMMEDIATE
    assert client.login(username=admin.username, password=PASSWORD)
    assert "Unggah daftar" in client.get("/impor/").content.decode()
    upload = SimpleUploadedFile("dtsen_bontang.csv", EXTRACT.encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/impor/", {"berkas": upload, "jenis": "dtsen", "sumber": "DTSEN Kemensos"})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/impor/{batch.pk}/"
    page = client.get(f"/impor/{batch.pk}/").content.decode()
    batch.refresh_from_db()
    assert batch.status == BatchStatus.VALIDATED and 'data-status="validated"' in page
    assert "Kode desa/kelurahan tidak dikenal" in page and "Simpan baris yang valid saja" in page
    rejected = client.get(f"/impor/{batch.pk}/ditolak.xlsx")
    assert rejected.status_code == 200 and rejected["Content-Type"].startswith("application/vnd.openxmlformats")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/impor/{batch.pk}/simpan/", {"pilihan": "valid"})
    batch.refresh_from_db()
    assert batch.status == BatchStatus.COMMITTED and Person.objects.count() == 5
    client.post(f"/impor/{batch.pk}/batalkan/")
    batch.refresh_from_db()
    assert batch.status == BatchStatus.ROLLED_BACK and Person.objects.count() == 0


def test_a_template_downloads(client: Client, admin: User) -> None:
    assert client.login(username=admin.username, password=PASSWORD)
    response = client.get("/impor/templat/person.xlsx")
    assert response.status_code == 200 and response.content[:2] == b"PK"


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_every_template_is_read_back_by_its_own_kind(kind: str) -> None:
    """A template whose headers the importer does not recognise would teach users to fill the wrong columns."""
    header = [name for name, _help in TEMPLATES[kind]]
    mapping = map_columns(header)
    assert missing_fields(kind, mapping) == []
    assert len(mapping) == len(header) - sum(1 for name in header if name in {"no_akta_kematian"})


def test_a_program_list_previews_in_ledger_terms(
    client: Client, admin: User, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS = IMMEDIATE
    assert client.login(username=admin.username, password=PASSWORD)
    text = "NIK;NAMA;NOMINAL\n6474031207850001;Ahmad Fauzi;Rp 300.000\n6.47403E+15;Siti;300000\n"
    upload = SimpleUploadedFile("blt.csv", text.encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/impor/", {"berkas": upload, "jenis": "program", "sumber": "PMD", "program": "BLT-DD",
                                "period": "September 2026"})  # fmt: skip
    batch = ImportBatch.objects.get()
    page = client.get(f"/impor/{batch.pk}/").content.decode()
    assert "Baris manfaat baru di buku besar" in page and 'data-preview="benefits">2<' in page
    assert "Keluarga baru" not in page and "<span data-period>2026-09</span>" in page
    bad = SimpleUploadedFile("blt2.csv", text.encode(), content_type="text/csv")
    answer = client.post("/impor/", {"berkas": bad, "jenis": "program", "sumber": "PMD", "period": "Tahap 2"},
                         follow=True).content.decode()  # fmt: skip
    assert "periode" in answer and "tidak dapat dibaca" in answer and ImportBatch.objects.count() == 1


def _two_sheets(path: Path, names: tuple[str, str]) -> Path:
    """A workbook of two sheets with the same columns, one person on each (Ahmad Fauzi, then Nur Aisyah)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    for sheet, (nik, name) in zip(names, [("6474031207850001", "Ahmad Fauzi"), ("6474035508880002", "Nur Aisyah")],
                                  strict=True):  # fmt: skip
        ws = book.add_worksheet(sheet)
        ws.write_row(0, 0, ["NIK", "NAMA", "KODE DESA"])
        ws.write_row(1, 0, [nik, name, "64.74.03.1002"])
    book.close()
    return path


def test_the_user_chooses_another_sheet_of_a_workbook(
    client: Client, admin: User, settings, django_capture_on_commit_callbacks, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Agencies keep one sheet per year; the importer takes the first good one, the user may pick another."""
    settings.TASKS = IMMEDIATE
    path = _two_sheets(tmp_path / "penerima.xlsx", ("2025", "2026"))
    assert client.login(username=admin.username, password=PASSWORD)
    with path.open("rb") as fh, django_capture_on_commit_callbacks(execute=True):
        client.post("/impor/", {"berkas": SimpleUploadedFile("penerima.xlsx", fh.read()), "jenis": "person",
                                "sumber": "Dinsos"})  # fmt: skip
    batch = ImportBatch.objects.get()
    assert (batch.sheet, batch.sheets, batch.status) == ("2025", ["2025", "2026"], BatchStatus.VALIDATED)
    page = client.get(f"/impor/{batch.pk}/").content.decode()
    assert 'id="sheet-choice"' in page
    assert batch.alike_sheets == ["2026"] and "data-alike-sheets" in page and "kolom yang sama: 2026" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/impor/{batch.pk}/kolom/", {"lembar": "2026"})
    batch.refresh_from_db()
    assert (batch.sheet, batch.status, batch.alike_sheets) == ("2026", BatchStatus.VALIDATED, [])
    assert batch.preview["examples"]["new_persons"][0]["name"] == "Nur Aisyah"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/impor/{batch.pk}/kolom/", {"lembar": "Sheet9"})
    batch.refresh_from_db()
    assert batch.sheet == "2026"  # an unknown sheet is refused, nothing changes


def test_the_sheets_of_a_workbook_are_imported_one_after_the_other(
    client: Client, admin: User, settings, django_capture_on_commit_callbacks, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """One sheet per RT: the first is read and committed; the same file uploaded again is unchanged for that sheet
    and offers the others, each of which may be imported once."""
    settings.TASKS = IMMEDIATE
    path = _two_sheets(tmp_path / "per_rt.xlsx", ("RT 01", "RT 02"))
    assert client.login(username=admin.username, password=PASSWORD)

    def upload() -> ImportBatch:
        with path.open("rb") as fh, django_capture_on_commit_callbacks(execute=True):
            client.post("/impor/", {"berkas": SimpleUploadedFile("per_rt.xlsx", fh.read()), "jenis": "person",
                                    "sumber": "Kelurahan"})  # fmt: skip
        return ImportBatch.objects.latest("pk")

    first = upload()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/impor/{first.pk}/simpan/", {"pilihan": "valid"})
    first.refresh_from_db()
    assert (first.status, first.sheet, first.alike_sheets) == (BatchStatus.COMMITTED, "RT 01", ["RT 02"])
    again = upload()
    page = client.get(f"/impor/{again.pk}/").content.decode()
    assert again.status == BatchStatus.UNCHANGED and 'id="other-sheet"' in page and '<option value="RT 02"' in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/impor/{again.pk}/kolom/", {"lembar": "RT 02"})
    again.refresh_from_db()
    assert (again.status, again.sheet) == (BatchStatus.VALIDATED, "RT 02")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/impor/{again.pk}/simpan/", {"pilihan": "valid"})
    assert sorted(Person.objects.values_list("name", flat=True)) == ["Ahmad Fauzi", "Nur Aisyah"]
    third = upload()
    assert third.status == BatchStatus.UNCHANGED
    response = client.post(f"/impor/{third.pk}/kolom/", {"lembar": "RT 02"}, follow=True)
    assert "sudah diimpor" in response.content.decode()  # each sheet once
    third.refresh_from_db()
    assert third.status == BatchStatus.UNCHANGED and Person.objects.count() == 2


def test_the_progress_a_worker_hides_in_its_transaction_shows_on_the_page(
    client: Client, admin: User, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The worker's transaction hides its progress updates from the page until it ends (and SQLite lets no other
    connection write meanwhile): the worker also writes them to a file beside the stored file, which the page reads."""
    from tepat.intake import services

    path = tmp_path / "dtsen.csv"
    path.write_text(EXTRACT, encoding="utf-8")
    batch = services.import_stage(actor=admin, path=path, kind="dtsen", source_name="DTSEN uji")
    services.import_validate(batch=batch)
    assert client.login(username=admin.username, password=PASSWORD)
    client.post(f"/impor/{batch.pk}/simpan/", {"pilihan": "valid"})  # queued (the default task backend waits)

    def shown() -> str:
        return client.get(f"/impor/{batch.pk}/?progres=1", HTTP_HX_REQUEST="true").content.decode()

    assert "Menunggu giliran" in shown()  # not the validation's last progress
    worker = ImportBatch.objects.get(pk=batch.pk)  # as the worker's own (uncommitted) view of the batch
    worker.progress_stage, worker.progress_done, worker.progress_total = "parse", 3, 7
    worker.write_live_progress()
    assert "3 / 7" in shown() and "Menunggu giliran" not in shown()  # from the file: the row still says queued

    written: list[tuple[str, int, int]] = []
    real = ImportBatch.write_live_progress

    def watched(self: ImportBatch) -> None:
        real(self)
        other = ImportBatch(stored_path=self.stored_path)  # what another process can read
        other.read_live_progress()
        written.append((other.progress_stage, other.progress_done, other.progress_total))

    monkeypatch.setattr(ImportBatch, "write_live_progress", watched)
    batch.refresh_from_db()
    services.import_commit(actor=admin, batch=batch, valid_only=True)
    accepted = batch.counts["accepted"]
    assert ("parse", 7, 7) in written and written[-1] == ("commit", accepted, accepted), written
