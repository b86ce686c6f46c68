"""Where registry values come from: sources (who sends lists) and import batches (one file, one run)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SourceKind(models.TextChoices):
    DTSEN = "dtsen", _("Ekstrak DTSEN/DTKS/P3KE")
    PERSON = "person", _("Daftar orang")
    PROGRAM = "program", _("Daftar penerima program")
    PROPOSAL = "proposal", _("Usulan desa/kelurahan")
    DEATH = "death", _("Daftar kematian")
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
    STAGED = "staged", _("Diunggah")
    VALIDATED = "validated", _("Divalidasi")
    COMMITTING = "committing", _("Sedang disimpan")
    COMMITTED = "committed", _("Tersimpan")
    FAILED = "failed", _("Gagal")
    ROLLED_BACK = "rolled_back", _("Dibatalkan")


class ImportBatch(models.Model):
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="batches")
    kind = models.CharField(max_length=12, choices=SourceKind.choices)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    columns = models.JSONField(default=list, help_text=_("Kolom asli berkas, urutan sesuai baris mentah."))
    snapshot_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=BatchStatus.choices, default=BatchStatus.STAGED)
    counts = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    committed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("batch impor")
        verbose_name_plural = _("batch impor")

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"
