"""Village proposals (usulan) to add families to, or remove them from, the national list.

The region never edits the official list itself (DOMAIN.md): a village proposes, the proposal is verified in the
field (verval), approved in the village meeting (musdes/muskel) and ratified by Dinas Sosial, and only then goes to
Kemensos through SIKS-NG. A proposal therefore records the claim and its path, and points at the registry person or
family it is about when one is known; it never changes the registry.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ProposalAction(models.TextChoices):
    ADD = "add", _("Usulan baru (masuk)")
    REMOVE = "remove", _("Usulan keluar")


class RemovalReason(models.TextChoices):
    MOVED = "moved", _("Pindah")
    DIED = "died", _("Meninggal")
    WELL_OFF = "well_off", _("Sudah mampu")
    REFUSED = "refused", _("Menolak")
    DUPLICATE = "duplicate", _("Data ganda")
    OTHER = "other", _("Alasan lain")


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", _("Diusulkan")
    VERIFIED = "verified", _("Sudah diverifikasi lapangan")
    APPROVED = "approved", _("Disetujui musdes/muskel")
    RATIFIED = "ratified", _("Ditetapkan Dinas Sosial")
    REJECTED = "rejected", _("Ditolak")


# The path a proposal walks; each step is one decision by a user allowed to make it.
NEXT_STATUS = {
    ProposalStatus.PROPOSED: ProposalStatus.VERIFIED,
    ProposalStatus.VERIFIED: ProposalStatus.APPROVED,
    ProposalStatus.APPROVED: ProposalStatus.RATIFIED,
}


class Proposal(models.Model):
    action = models.CharField(max_length=8, choices=ProposalAction.choices)
    reason = models.CharField(max_length=12, choices=RemovalReason.choices, blank=True)
    reason_text = models.CharField(max_length=300, blank=True, help_text=_("Alasan sebagaimana ditulis pengusul"))
    status = models.CharField(max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.PROPOSED)
    nik = models.CharField(max_length=16, blank=True, db_index=True)
    nik_raw = models.CharField(max_length=64, blank=True)
    nik_valid = models.BooleanField(default=False)
    kk = models.CharField(max_length=16, blank=True)
    name = models.CharField(max_length=200, blank=True)
    village = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    values = models.JSONField(default=dict, blank=True, help_text=_("Data orang yang diusulkan, apa adanya"))
    person = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    family = models.ForeignKey("registry.Family", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source_record = models.ForeignKey(
        "registry.SourceRecord", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    batch = models.ForeignKey("intake.ImportBatch", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    history = models.JSONField(default=list, blank=True)  # [{status, by, at, note}], oldest first
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("usulan desa")
        verbose_name_plural = _("usulan desa")
        indexes = [models.Index(fields=["village", "status"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.name or self.nik}"

    @property
    def registered(self) -> bool:
        """An addition for someone already in the registry is worth a look before anyone walks to the house."""
        return self.person_id is not None


class VisitPurpose(models.TextChoices):
    VERVAL = "verval", _("Verifikasi dan validasi data (verval)")
    PROPOSAL = "proposal", _("Memeriksa usulan desa")
    DELIVERY = "delivery", _("Memantau penyaluran bantuan")
    MENTORING = "mentoring", _("Pendampingan keluarga")
    OTHER = "other", _("Keperluan lain")


class VisitOutcome(models.TextChoices):
    CONFIRMED = "confirmed", _("Ditemui, data sesuai")
    CHANGED = "changed", _("Ditemui, ada data yang berubah")
    NOT_FOUND = "not_found", _("Tidak ditemukan di alamat")
    MOVED = "moved", _("Sudah pindah")
    DIED = "died", _("Ada anggota yang meninggal")
    WELL_OFF = "well_off", _("Tampak sudah mampu")
    REFUSED = "refused", _("Menolak didata")


# What the officer saw contradicts the registry: someone must follow it up (a correction, a removal proposal).
FOLLOW_UP = frozenset(
    {
        VisitOutcome.CHANGED,
        VisitOutcome.NOT_FOUND,
        VisitOutcome.MOVED,
        VisitOutcome.DIED,
        VisitOutcome.WELL_OFF,
    }
)


class VisitSource(models.TextChoices):
    WEB = "web", _("Dicatat di Tepat")
    FORM = "form", _("Formulir lapangan (ODK/Kobo)")


class FieldVisit(models.Model):
    """One visit of an officer (pendamping, enumerator, village operator) to a family's house, and what was found.

    A visit records what was seen; it never edits the registry. An outcome that contradicts the registry opens a
    field finding on the family, which the next visit that confirms the data closes.
    """

    family = models.ForeignKey("registry.Family", on_delete=models.CASCADE, related_name="visits")
    visited_on = models.DateField()
    purpose = models.CharField(max_length=10, choices=VisitPurpose.choices)
    outcome = models.CharField(max_length=10, choices=VisitOutcome.choices)
    officer = models.CharField(max_length=150, blank=True, help_text=_("Nama petugas yang berkunjung"))
    notes = models.TextField(max_length=1000, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    proposal = models.ForeignKey(Proposal, null=True, blank=True, on_delete=models.SET_NULL, related_name="visits")
    source = models.CharField(max_length=4, choices=VisitSource.choices, default=VisitSource.WEB)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("kunjungan lapangan")
        verbose_name_plural = _("kunjungan lapangan")
        indexes = [models.Index(fields=["family", "-visited_on"])]

    def __str__(self) -> str:
        return f"{self.visited_on} {self.get_outcome_display()}"

    @property
    def needs_follow_up(self) -> bool:
        return self.outcome in FOLLOW_UP
