"""Targeting: local welfare assessments next to the official desil, eligibility rules, and budget scenarios.

The official desil is BPS's and stays on ``registry.Family`` exactly as imported (Inpres 4/2025): it is never copied
here, so there is one place it can be, and nothing here can overwrite it. What lives here is the region's *own*
view — transparent scorecards and PMT predictions, one row per family and method, each with the version, date and
source that produced it and the indicators that drove it — plus the rules and scenarios that use both.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

OFFICIAL_METHOD = "desil_national"  # shown as an assessment, read from registry.Family, never stored here
SCORECARD_PREFIX = "scorecard:"
PMT_PREFIX = "pmt:"


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Dalam antrean")
    RUNNING = "running", _("Sedang dihitung")
    DONE = "done", _("Selesai")
    FAILED = "failed", _("Gagal")


class ScoringRun(models.Model):
    """One computation of local scores for the whole region with one scorecard: how far it got, what it found.

    ``summary`` keeps the aggregates the overview page shows (official vs local desil per village, the MPI per
    village and district), computed once with the scores, so the page needs no family rows to draw them.
    """

    method = models.CharField(max_length=80, db_index=True)
    scorecard = models.CharField(max_length=80)
    version = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress_stage = models.CharField(max_length=20, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("perhitungan skor lokal")
        verbose_name_plural = _("perhitungan skor lokal")

    def __str__(self) -> str:
        return f"{self.method} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def busy(self) -> bool:
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING)

    @property
    def progress_percent(self) -> int:
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else 0


class WelfareAssessment(models.Model):
    """A family's welfare as one local method sees it. One row per family and method: a new run replaces the rows
    of its method (the run keeps version and date); the official desil is never among them."""

    family = models.ForeignKey("registry.Family", on_delete=models.CASCADE, related_name="assessments")
    method = models.CharField(max_length=80, help_text=_("mis. scorecard:kemensos_262_2022 atau pmt:susenas2025"))
    version = models.CharField(max_length=40, blank=True)
    assessed_on = models.DateField()
    source = models.CharField(max_length=300, blank=True)
    score = models.FloatField(null=True, blank=True)
    desil = models.PositiveSmallIntegerField(null=True, blank=True, help_text=_("Desil lokal dalam wilayah"))
    rank = models.PositiveIntegerField(null=True, blank=True, help_text=_("Peringkat lokal; 1 = termiskin"))
    poor = models.BooleanField(null=True, blank=True)
    extreme = models.BooleanField(null=True, blank=True)
    explanation = models.JSONField(default=dict, blank=True)
    run = models.ForeignKey(ScoringRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["family", "method"], name="one_assessment_per_method")]
        indexes = [models.Index(fields=["method", "desil"])]
        verbose_name = _("penilaian kesejahteraan")
        verbose_name_plural = _("penilaian kesejahteraan")

    def __str__(self) -> str:
        return f"{self.family_id} {self.method}"


class EligibilityRule(models.Model):
    """Who a program is for, in the rule language of tepat.engine.rules. Checked when saved (services.rule_save
    and ``save`` itself), so a stored rule always compiles against the family fields the registry can supply.

    Every saved text is kept as an ``EligibilityRuleVersion``; a rule that a scenario or an export used is archived
    rather than deleted, so the decision it stood for can still be read."""

    name = models.CharField(max_length=120, unique=True)
    program = models.ForeignKey(
        "programs.Program", null=True, blank=True, on_delete=models.SET_NULL, related_name="targeting_rules"
    )
    expression = models.TextField()
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("aturan kelayakan")
        verbose_name_plural = _("aturan kelayakan")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        from tepat.targeting.table import compile_registry_rule

        fields = kwargs.get("update_fields")
        if fields is None or "expression" in fields:  # type: ignore[operator]
            compile_registry_rule(self.expression)  # raises RuleError: an unusable rule is never stored
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class EligibilityRuleVersion(models.Model):
    """A rule's text as it was saved: version 1 when written, one more at every change."""

    rule = models.ForeignKey(EligibilityRule, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=120)
    expression = models.TextField()
    note = models.CharField(max_length=300, blank=True)
    program = models.ForeignKey("programs.Program", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    saved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["rule", "version"], name="one_rule_version")]
        verbose_name = _("versi aturan kelayakan")
        verbose_name_plural = _("versi aturan kelayakan")

    def __str__(self) -> str:
        return f"{self.rule_id} v{self.version}"


class ScenarioKind(models.TextChoices):
    COMPARE = "compare", _("Aturan A vs aturan B")
    ALLOCATE = "allocate", _("Alokasi beberapa program")


class Priority(models.TextChoices):
    """Who comes first when the budget does not reach every eligible family."""

    WELFARE = "welfare", _("Kesejahteraan terendah dulu")
    DESIL = "desil", _("Desil resmi terendah dulu, lalu skor lokal")
    LOCAL = "local", _("Skor lokal tertinggi (termiskin) dulu")


class Scenario(models.Model):
    """A budget question and its answer. Inputs are columns; ``results`` holds what the run found, including the
    families covered in order, so an export months later shows exactly what was decided on. Changing the inputs
    runs it again; once its families were exported it is no longer changed or deleted, only archived."""

    name = models.CharField(max_length=160)
    kind = models.CharField(max_length=10, choices=ScenarioKind.choices, default=ScenarioKind.COMPARE)
    program = models.ForeignKey(
        "programs.Program", null=True, blank=True, on_delete=models.SET_NULL, related_name="targeting_scenarios"
    )
    budget = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    cost_per_family = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    monthly_value = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, help_text=_("Nilai manfaat per keluarga per bulan")
    )
    rule_a = models.ForeignKey(EligibilityRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    rule_b = models.ForeignKey(EligibilityRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.WELFARE)
    poverty_line = models.DecimalField(
        max_digits=14, decimal_places=2, help_text=_("Garis kemiskinan per kapita per bulan (Rp)")
    )
    welfare_source = models.CharField(max_length=80, default="desil")
    max_programs_per_family = models.PositiveSmallIntegerField(null=True, blank=True)
    desil_cuts = models.JSONField(
        default=list, blank=True, help_text=_("Batas atas desil 1–9 sebagai kelipatan garis kemiskinan")
    )
    # The area its author worked in: the families it counts, and who may see it (that area or a wider one).
    scope = models.CharField(max_length=13, db_index=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    error = models.TextField(blank=True)
    results = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    run_at = models.DateTimeField(null=True, blank=True)
    # Set instead of deleting once the scenario's families were exported: the export's audit row points here.
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("skenario anggaran")
        verbose_name_plural = _("skenario anggaran")

    def __str__(self) -> str:
        return self.name

    @property
    def busy(self) -> bool:
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING)


class ScenarioProgram(models.Model):
    """One program in an allocation scenario: its rule, budget, cost to the budget and value to a family."""

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="lines")
    program = models.ForeignKey("programs.Program", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    code = models.CharField(max_length=40)
    rule = models.ForeignKey(EligibilityRule, on_delete=models.PROTECT, related_name="+")
    budget = models.DecimalField(max_digits=18, decimal_places=2)
    cost_per_family = models.DecimalField(max_digits=16, decimal_places=2)
    monthly_value = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["scenario", "code"], name="program_once_per_scenario")]
        verbose_name = _("program dalam skenario")
        verbose_name_plural = _("program dalam skenario")

    def __str__(self) -> str:
        return f"{self.scenario_id} {self.code}"
