"""Users with a role, an area and (for agencies and partners) an organisation; the audit log.

The area is part of the user, not of a view: every selector narrows what it returns to the user's area, so a
village operator cannot reach another village by any page, export or API call.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    TKPK_ADMIN = "tkpk_admin", _("Admin TKPK")
    TKPK_ANALYST = "tkpk_analyst", _("Analis TKPK")
    AGENCY_OPERATOR = "agency_operator", _("Operator OPD")
    VILLAGE_OPERATOR = "village_operator", _("Operator desa/kelurahan")
    ENUMERATOR = "enumerator", _("Enumerator")
    PARTNER = "partner", _("Mitra (CSR/LSM)")
    AUDITOR = "auditor", _("Auditor")


class OrganisationKind(models.TextChoices):
    TKPK = "tkpk", _("Sekretariat TKPK (Bappeda)")
    AGENCY = "opd", _("Perangkat daerah (OPD)")
    VILLAGE = "village", _("Pemerintah desa/kelurahan")
    COMPANY = "csr", _("Perusahaan (CSR/TJSL)")
    BAZNAS = "baznas", _("BAZNAS")
    NGO = "ngo", _("LSM/organisasi masyarakat")
    NATIONAL = "national", _("Kementerian/lembaga pusat")


class Organisation(models.Model):
    name = models.CharField(max_length=200, unique=True)
    short_name = models.CharField(max_length=40, blank=True)
    kind = models.CharField(max_length=10, choices=OrganisationKind.choices)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisasi")
        verbose_name_plural = _("organisasi")

    def __str__(self) -> str:
        return self.short_name or self.name


class User(AbstractUser):
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.TKPK_ANALYST)
    area = models.ForeignKey(
        "areas.Area",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Wilayah kerja: kosong berarti seluruh wilayah deployment."),
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )

    class Meta:
        verbose_name = _("pengguna")
        verbose_name_plural = _("pengguna")


class AuditAction(models.TextChoices):
    LOGIN = "auth.login", _("Masuk")
    LOGIN_FAILED = "auth.login_failed", _("Gagal masuk")
    LOGOUT = "auth.logout", _("Keluar")
    USER_CREATE = "user.create", _("Membuat pengguna")
    AREAS_LOAD = "areas.load", _("Memuat kode wilayah")
    IMPORT_COMMIT = "import.commit", _("Menyimpan impor")
    IMPORT_ROLLBACK = "import.rollback", _("Membatalkan impor")
    IMPORT_MAPPING = "import.mapping", _("Memetakan kolom impor")
    REGISTRY_CHANGE = "registry.change", _("Mengubah data registri")
    PERSONAL_VIEW = "personal.view", _("Melihat data pribadi")
    PERSONAL_SEARCH = "personal.search", _("Mencari data pribadi")
    PERSONAL_EXPORT = "personal.export", _("Mengekspor data pribadi")
    SYNTH_LOAD = "synth.load", _("Memuat data sintetis")
    PROPOSAL_DECIDE = "proposal.decide", _("Memutuskan usulan desa")
    TARGET_CHANGE = "monitoring.target", _("Mengubah target indikator")
    PROGRAM_CHANGE = "program.change", _("Mengubah program/status daftar penerima")
    PROGRAM_PLAN = "program.plan", _("Mengubah rencana aksi (RAT)")
    PROGRAM_ADOPTION = "program.adoption", _("Adopsi keluarga oleh mitra")
    TARGETING_SCORES = "targeting.scores", _("Menghitung skor lokal")
    TARGETING_RULE = "targeting.rule", _("Mengubah aturan kelayakan")
    TARGETING_SCENARIO = "targeting.scenario", _("Mengubah skenario anggaran")
    FIELD_VISIT = "verification.visit", _("Mencatat kunjungan lapangan")
    PROGRAM_EVALUATION_EXPORT = "program.evaluation_export", _("Mengekspor bahan rapat evaluasi (RAT)")


class AuditEvent(models.Model):
    """Who did what, when and why. Append-only: nothing in the product updates or deletes these rows.

    UU 27/2022 (personal data protection) requires a record of every processing and of every view or export of
    personal data; views and exports carry the purpose the user gave.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=40, choices=AuditAction.choices, db_index=True)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    purpose = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]
        verbose_name = _("catatan audit")
        verbose_name_plural = _("catatan audit")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.target_type}:{self.target_id}"
