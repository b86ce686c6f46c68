"""Programs of every funder and the one benefit ledger: who got what, when, from which list.

This is the ledger's first form (recipient lists imported per program and period); action plans, strategy tags
and the analyses come with the programs issue.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Funder(models.TextChoices):
    APBN = "apbn", _("APBN (pusat)")
    APBD_PROVINCE = "apbd_prov", _("APBD provinsi")
    APBD = "apbd", _("APBD kabupaten/kota")
    VILLAGE_FUNDS = "dana_desa", _("Dana Desa")
    CSR = "csr", _("CSR/TJSL perusahaan")
    BAZNAS = "baznas", _("BAZNAS/zakat")
    OTHER = "lainnya", _("Lainnya")


class Program(models.Model):
    code = models.CharField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    funder = models.CharField(max_length=10, choices=Funder.choices, default=Funder.OTHER)
    organisation = models.ForeignKey("accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        ordering = ["code"]
        verbose_name = _("program")
        verbose_name_plural = _("program")

    def __str__(self) -> str:
        return self.name


class Benefit(models.Model):
    """One recipient row of one program and period. Kept by NIK even when the person is not in the registry:
    a recipient the registry does not know is itself a finding (possible leakage or a missing family)."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="benefits")
    period = models.CharField(max_length=20, help_text=_("Periode penyaluran, mis. 2026-Q3 atau 2026-09"))
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    nik = models.CharField(max_length=16, blank=True, db_index=True)
    nik_raw = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=200, blank=True)
    village = models.ForeignKey("areas.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(
        "registry.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="benefits"
    )
    source_record = models.ForeignKey(
        "registry.SourceRecord", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    batch = models.ForeignKey("intake.ImportBatch", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["program", "period"])]
        verbose_name = _("manfaat diterima")
        verbose_name_plural = _("manfaat diterima")

    def __str__(self) -> str:
        return f"{self.program_id} {self.period} {self.nik or self.name}"
