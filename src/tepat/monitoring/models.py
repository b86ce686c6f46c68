"""Indicators, their yearly series per area, and the targets a region commits to (RPJMD).

Series values come from the BPS tables shipped with the product (``batch`` empty) or from imports (``batch`` set,
so an import can be rolled back); targets come from imports or from the target form on the monitoring page.
Every change an import or a user makes to an existing value is kept as a ``ValueChange`` row, so a rollback can
restore what was there before and nobody overwrites a figure without a trace.

Undo an import with ``services.monitoring_batch_rollback``, not by deleting the batch: the CASCADE on ``batch``
deletes the rows a batch last wrote, including shipped figures it had changed (``tepat bps load`` brings those back).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tepat.engine.monitoring import Comparison as EngineComparison


class Direction(models.TextChoices):
    LOWER_IS_BETTER = "lower", _("Makin rendah makin baik")
    HIGHER_IS_BETTER = "higher", _("Makin tinggi makin baik")


class Comparison(models.TextChoices):
    LT = EngineComparison.LT.value, _("kurang dari (<)")
    LE = EngineComparison.LE.value, _("paling tinggi (≤)")
    GE = EngineComparison.GE.value, _("paling rendah (≥)")
    GT = EngineComparison.GT.value, _("lebih dari (>)")


class Indicator(models.Model):
    """A measured quantity: ``p0_pct`` (percentage of poor population), ``poor_thousand``, ``extreme_poor_pct``."""

    code = models.SlugField(max_length=40, primary_key=True)
    name = models.CharField(max_length=200, help_text=_("Nama dalam Bahasa Indonesia"))
    name_en = models.CharField(max_length=200, blank=True)
    unit = models.CharField(max_length=40, help_text=_("Satuan, mis. persen, ribu jiwa"))
    unit_en = models.CharField(max_length=40, blank=True)
    symbol = models.CharField(max_length=10, blank=True, help_text=_("Ditulis setelah angka, mis. %"))
    decimals = models.PositiveSmallIntegerField(default=2)
    direction = models.CharField(max_length=6, choices=Direction.choices, default=Direction.LOWER_IS_BETTER)
    source = models.CharField(max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("indikator")
        verbose_name_plural = _("indikator")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the page's language (Indonesian unless English was chosen and exists)."""
        return self.name_en if (get_language() or "id").startswith("en") and self.name_en else self.name

    @property
    def unit_label(self) -> str:
        return self.unit_en if (get_language() or "id").startswith("en") and self.unit_en else self.unit


class SeriesValue(models.Model):
    """One published figure: an area's indicator value for a year, from one source."""

    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="values")
    year = models.PositiveSmallIntegerField()
    value = models.DecimalField(max_digits=14, decimal_places=4)
    source = models.CharField(max_length=200)
    batch = models.ForeignKey(
        "intake.ImportBatch", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text=_("Impor yang menulis nilai ini; kosong untuk data bawaan"),
    )  # fmt: skip
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["area", "indicator", "year", "source"], name="series_value_unique")
        ]
        indexes = [models.Index(fields=["indicator", "area", "year"])]
        ordering = ["area", "indicator", "year"]
        verbose_name = _("nilai indikator")
        verbose_name_plural = _("nilai indikator")

    def __str__(self) -> str:
        return f"{self.area_id} {self.indicator_id} {self.year} = {self.value} ({self.source})"


class Target(models.Model):
    """A commitment such as "P0 below 5.62 % in 2026" (RPJMD Bengkayang 2021–2026)."""

    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="targets")
    year = models.PositiveSmallIntegerField()
    value = models.DecimalField(max_digits=14, decimal_places=4)
    comparison = models.CharField(max_length=2, choices=Comparison.choices, default=Comparison.LE)
    document = models.CharField(max_length=200, help_text=_("Dokumen sumber target, mis. RPJMD 2021–2026"))
    baseline_year = models.PositiveSmallIntegerField(null=True, blank=True)
    baseline_value = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    batch = models.ForeignKey(
        "intake.ImportBatch", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text=_("Impor yang menulis target ini; kosong bila diisi lewat formulir"),
    )  # fmt: skip
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["area", "indicator", "year", "document"], name="target_unique")]
        ordering = ["area", "indicator", "year"]
        verbose_name = _("target")
        verbose_name_plural = _("target")

    def __str__(self) -> str:
        return f"{self.area_id} {self.indicator_id} {self.comparison} {self.value} ({self.year}, {self.document})"


class ValueChange(models.Model):
    """A change an import or a user made to an existing series value or target: the old and new field values.

    Rolling back a batch restores ``old`` on every row it changed (and deletes the rows it created); a later batch
    that changed a row this batch set blocks the rollback, as in the registry.
    """

    class Entity(models.TextChoices):
        SERIES = "series", _("Nilai indikator")
        TARGET = "target", _("Target")

    entity = models.CharField(max_length=6, choices=Entity.choices)
    entity_id = models.BigIntegerField()
    old = models.JSONField()
    new = models.JSONField()
    old_batch_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    batch = models.ForeignKey("intake.ImportBatch", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    reverted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["entity", "entity_id"])]
        ordering = ["-at", "-id"]
        verbose_name = _("perubahan nilai indikator")
        verbose_name_plural = _("perubahan nilai indikator")

    def __str__(self) -> str:
        return f"{self.entity}:{self.entity_id} {self.old} → {self.new}"
