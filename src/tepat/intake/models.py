"""Where registry values come from: sources (who sends lists) and import batches (one file, one run)."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SourceKind(models.TextChoices):
    DTSEN = "dtsen", _("Ekstrak DTSEN/DTKS/P3KE")
    PERSON = "person", _("Daftar orang")
    PROGRAM = "program", _("Daftar penerima program")
    PROPOSAL = "proposal", _("Usulan desa/kelurahan")
    DEATH = "death", _("Daftar kematian")
    MOVED = "moved", _("Daftar pindah (Disdukcapil)")
    EXCLUSION = "exclusion", _("Daftar pengecualian")
    BPS = "bps", _("Seri indikator BPS")
    TARGETS = "targets", _("Target RPJMD")
    FIELD = "field", _("Verifikasi lapangan")
    SYNTHETIC = "synthetic", _("Data sintetis (demo)")


class Source(models.Model):
    """A sender of lists: 'DTSEN Kemensos', 'Dinas Sosial — PKH', 'CSR PT …'. Mappings are remembered per source."""

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=12, choices=SourceKind.choices)
    organisation = models.ForeignKey("accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        ordering = ["name"]
        verbose_name = _("sumber data")
        verbose_name_plural = _("sumber data")

    def __str__(self) -> str:
        return self.name


class BatchStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Diunggah")
    VALIDATING = "validating", _("Sedang divalidasi")
    VALIDATED = "validated", _("Siap disimpan")
    COMMITTING = "committing", _("Sedang disimpan")
    COMMITTED = "committed", _("Tersimpan")
    UNCHANGED = "unchanged", _("Sama dengan impor sebelumnya")
    FAILED = "failed", _("Berkas tidak dapat dipakai")
    ROLLED_BACK = "rolled_back", _("Dibatalkan")


class ImportBatch(models.Model):
    """One file through the pipeline: uploaded → validated (report, preview) → committed → maybe rolled back."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="batches")
    kind = models.CharField(max_length=12, choices=SourceKind.choices)
    file_name = models.CharField(max_length=255)
    stored_path = models.CharField(max_length=500, blank=True, help_text=_("Salinan berkas yang diunggah"))
    sha256 = models.CharField(max_length=64, db_index=True)
    sheet = models.CharField(max_length=100, blank=True)
    sheets = models.JSONField(default=list, blank=True)  # every sheet of a workbook, for the user to choose
    sheet_choice = models.CharField(max_length=100, blank=True, help_text=_("Lembar yang dipilih pengguna"))
    # Other sheets whose header names the same columns as the one read (readers.Table.alike): not read by this batch.
    alike_sheets = models.JSONField(default=list, blank=True)
    program_code = models.CharField(max_length=80, blank=True, help_text=_("Program daftar penerima"))
    # The distribution period given at upload (ledger form, engine.values.parse_period): the period of rows without
    # one, and the year of rows that name only a quarter, phase or month.
    period_choice = models.CharField(max_length=20, blank=True, help_text=_("Periode penyaluran daftar penerima"))
    columns = models.JSONField(default=list, help_text=_("Kolom asli berkas, urutan sesuai baris mentah."))
    mapping = models.JSONField(default=dict, blank=True, help_text=_("Kolom sistem → nomor kolom berkas"))
    header_line = models.PositiveIntegerField(default=1)
    snapshot_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=BatchStatus.choices, default=BatchStatus.UPLOADED)
    error_code = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)
    counts = models.JSONField(default=dict, blank=True)
    preview = models.JSONField(default=dict, blank=True)
    progress_stage = models.CharField(max_length=40, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    commit_valid_only = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    rolled_back_at = models.DateTimeField(null=True, blank=True)
    rolled_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("batch impor")
        verbose_name_plural = _("batch impor")

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"

    # -- progress while a worker has the batch ---------------------------------------------------------------------
    # The worker reads, writes and commits a batch in one transaction, which hides its own progress updates from the
    # page until the end (and SQLite lets no other connection write meanwhile). So the worker also writes its
    # progress to a small file beside the stored file, and the page reads it from there.

    @property
    def progress_file(self) -> Path | None:
        if not self.stored_path:
            return None
        path = Path(self.stored_path).parent / ".tepat-progress.json"
        return None if path == Path(self.stored_path) else path  # never the uploaded file itself

    def write_live_progress(self) -> None:
        path = self.progress_file
        if path is None or not path.parent.is_dir():
            return
        temporary = path.with_name(f".progress-{os.getpid()}.json")
        with contextlib.suppress(OSError):
            temporary.write_text(
                json.dumps({"stage": self.progress_stage, "done": self.progress_done, "total": self.progress_total})
            )
            os.replace(temporary, path)

    def read_live_progress(self) -> None:
        """Take the worker's latest progress (not saved); nothing when it wrote none since the task was queued."""
        path = self.progress_file
        if path is None:
            return
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            progress = json.loads(path.read_text())
            self.progress_stage = str(progress["stage"])[:40]
            self.progress_done, self.progress_total = int(progress["done"]), int(progress["total"])

    def clear_live_progress(self) -> None:
        path = self.progress_file
        if path is not None:
            path.unlink(missing_ok=True)

    @property
    def progress_label(self) -> str:
        from tepat.progress import stage_label

        return stage_label(self.progress_stage)

    @property
    def progress_percent(self) -> int:
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else 0


class Severity(models.TextChoices):
    ERROR = "error", _("Ditolak")
    WARNING = "warning", _("Peringatan")


class RowIssue(models.Model):
    """What is wrong in one cell of one row: the validation report, kept with the batch."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="issues")
    row_number = models.PositiveIntegerField()
    column = models.CharField(max_length=40)
    header = models.CharField(max_length=100, blank=True)
    code = models.CharField(max_length=40)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    value = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["batch", "severity", "row_number"])]
        ordering = ["row_number", "id"]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row_number} {self.code}"


class ColumnMapping(models.Model):
    """A header the user mapped to a field once, remembered for that source's next files."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="mappings")
    header = models.CharField(max_length=100, help_text=_("Judul kolom ternormalisasi"))
    field = models.CharField(max_length=40, blank=True, help_text=_("Kosong = abaikan kolom"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "header"], name="one_mapping_per_source_header")]

    def __str__(self) -> str:
        return f"{self.source_id}: {self.header} → {self.field or '-'}"
