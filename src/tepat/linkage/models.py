"""Record linkage over the registry: runs, the pairs they found, and the merges (with their undo).

A merge never deletes anyone: the merged person points at the survivor (`Person.merged_into`), their ledger rows
and exclusion findings move to the survivor, their memberships are set inactive, and `PersonMerge.moved` keeps
exactly what moved so the merge can be undone.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Menunggu")
    RUNNING = "running", _("Berjalan")
    DONE = "done", _("Selesai")
    FAILED = "failed", _("Gagal")


class LinkageRun(models.Model):
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.QUEUED)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    persons = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    stats = models.JSONField(default=dict, blank=True)  # the engine's run statistics and timings
    error = models.TextField(blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("proses pencocokan")
        verbose_name_plural = _("proses pencocokan")

    def __str__(self) -> str:
        return f"#{self.pk} {self.status}"

    @property
    def progress_percent(self) -> int:
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else 0


class PairStatus(models.TextChoices):
    PENDING = "pending", _("Menunggu keputusan")
    MERGED = "merged", _("Orang yang sama (digabung)")
    AUTO_MERGED = "auto", _("Digabung otomatis")
    REJECTED = "rejected", _("Orang berbeda")
    CONFLICT = "conflict", _("NIK sama, orang berbeda")


class MatchPair(models.Model):
    """Two registry persons the linkage thinks may be one, with why (layer, probability, evidence)."""

    run = models.ForeignKey(LinkageRun, on_delete=models.CASCADE, related_name="pairs")
    person_a = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="+")
    # Either a second person, or a recipient row whose NIK matched nobody (a damaged or missing NIK).
    person_b = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    benefit = models.ForeignKey("programs.Benefit", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    layer = models.CharField(max_length=8)  # engine.linkage.Layer: nik, rule, model
    decision = models.CharField(max_length=8)  # engine.linkage.Decision: link, review, conflict
    probability = models.FloatField(null=True, blank=True)
    weight = models.FloatField(null=True, blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=PairStatus.choices, default=PairStatus.PENDING)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "decision"])]
        verbose_name = _("pasangan calon ganda")
        verbose_name_plural = _("pasangan calon ganda")

    def __str__(self) -> str:
        return f"{self.person_a_id}~{self.person_b_id} {self.decision}"


class PersonMerge(models.Model):
    survivor = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="+")
    merged = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="+")
    pair = models.ForeignKey(MatchPair, null=True, blank=True, on_delete=models.SET_NULL, related_name="merges")
    auto = models.BooleanField(default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    moved = models.JSONField(default=dict, blank=True)  # {"memberships": [...], "benefits": [...], "exclusions": [...]}
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("penggabungan orang")
        verbose_name_plural = _("penggabungan orang")

    def __str__(self) -> str:
        return f"{self.merged_id} → {self.survivor_id}"
