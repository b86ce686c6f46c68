"""Programs of every funder, the annual action plan (RAT), the one benefit ledger and partner adoptions.

The complaint heard in every TKPK meeting is that agencies, villages, companies and NGOs each serve their own
list, so nobody sees who got what. Everything here exists to put those lists side by side: a program says who it
is for (a rule over family data) and which strategy it serves; the ledger says who received it; the RAT says what
each agency planned and realised; an adoption says which partner took on which need of which family.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Cast, Round
from django.utils.translation import gettext_lazy as _


class Funder(models.TextChoices):
    APBN = "apbn", _("APBN (pusat)")
    APBD_PROVINCE = "apbd_prov", _("APBD provinsi")
    APBD = "apbd", _("APBD kabupaten/kota")
    VILLAGE_FUNDS = "dana_desa", _("Dana Desa")
    CSR = "csr", _("CSR/TJSL perusahaan")
    BAZNAS = "baznas", _("BAZNAS/zakat")
    OTHER = "lainnya", _("Lainnya")


class Unit(models.TextChoices):
    """Who one benefit goes to: it decides what "one recipient" means in the ledger and in coverage."""

    PERSON = "person", _("Orang")
    FAMILY = "family", _("Keluarga")
    HOUSEHOLD = "household", _("Rumah tangga")


class BenefitType(models.TextChoices):
    CASH = "cash", _("Uang tunai")
    IN_KIND = "in_kind", _("Barang/natura")
    SERVICE = "service", _("Layanan")
    INSURANCE = "insurance", _("Jaminan/asuransi")
    HOUSING = "housing", _("Perumahan")
    TRAINING = "training", _("Pelatihan")
    BUSINESS_CAPITAL = "business_capital", _("Modal usaha")


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Bulanan")
    QUARTER = "quarter", _("Triwulanan")
    SEMESTER = "semester", _("Semesteran")
    YEAR = "year", _("Tahunan")
    ONCE = "once", _("Sekali")


class Strategy(models.Model):
    """A strategy tag (Inpres 4/2022, Permendagri 53/2020), loaded from data/programs/strategies.json.

    Names come in both languages from the data file rather than the message catalogue, so a region can add its
    own strategy (an RPKD priority) without a new release.
    """

    code = models.CharField(max_length=40, primary_key=True)
    framework = models.CharField(max_length=40)
    framework_name = models.CharField(max_length=200)
    name = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True)
    short = models.CharField(max_length=60)
    short_en = models.CharField(max_length=60, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("strategi")
        verbose_name_plural = _("strategi")

    def __str__(self) -> str:
        return self.name

    def label(self, language: str = "id") -> str:
        return (self.name_en or self.name) if language.startswith("en") else self.name

    def short_label(self, language: str = "id") -> str:
        return (self.short_en or self.short) if language.startswith("en") else self.short


class Program(models.Model):
    """A program of any funder. Imports create a bare program (code = name) for an unknown code; the catalogue,
    the TKPK or the owning agency fill in the rest."""

    code = models.CharField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    funder = models.CharField(max_length=10, choices=Funder.choices, default=Funder.OTHER)
    organisation = models.ForeignKey("accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT)
    unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.FAMILY)
    benefit_type = models.CharField(max_length=20, choices=BenefitType.choices, default=BenefitType.CASH)
    value = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text=_("Nilai per penerima per periode (Rp)")
    )
    value_note = models.CharField(max_length=300, blank=True)
    period = models.CharField(max_length=10, choices=PeriodKind.choices, default=PeriodKind.YEAR)
    # In the rule language of tepat.engine.rules ("desil <= 4"), checked against the family fields when saved.
    eligibility_rule = models.CharField(max_length=1000, blank=True)
    eligibility_note = models.CharField(max_length=300, blank=True)
    strategies = models.ManyToManyField(Strategy, blank=True, related_name="programs")
    aliases = models.JSONField(default=list, blank=True, help_text=_("Nama lain program di daftar penerima"))
    source = models.CharField(max_length=300, blank=True)
    national = models.BooleanField(default=False, help_text=_("Dari katalog program nasional"))
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True, null=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("program")
        verbose_name_plural = _("program")

    def __str__(self) -> str:
        return self.name


class BenefitStatus(models.TextChoices):
    """Planned (a list drawn up, not yet paid), delivered (paid/handed over), verified (checked in the field)."""

    PLANNED = "planned", _("Direncanakan")
    DELIVERED = "delivered", _("Disalurkan")
    VERIFIED = "verified", _("Terverifikasi")


REACHED_STATUSES = (BenefitStatus.DELIVERED, BenefitStatus.VERIFIED)


class Benefit(models.Model):
    """One recipient row of one program and period. Kept by NIK even when the person is not in the registry:
    a recipient the registry does not know is itself a finding (possible leakage or a missing family)."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="benefits")
    period = models.CharField(max_length=20, help_text=_("Periode penyaluran, mis. 2026-Q3 atau 2026-09"))
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    nik = models.CharField(max_length=16, blank=True)
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
    # A recipient list is what was paid unless someone says otherwise; the database default keeps every writer
    # (bulk inserts included) valid without knowing the column.
    status = models.CharField(
        max_length=10, choices=BenefitStatus.choices, default=BenefitStatus.DELIVERED, db_default="delivered"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The amount in sen as an integer, kept by the database: the analyses sum millions of amounts, and PostgreSQL
    # turns a numeric into a float through its text (a second of a refresh per five million rows).
    amount_sen = models.GeneratedField(
        expression=Cast(Round(F("amount") * 100), models.BigIntegerField()),
        output_field=models.BigIntegerField(null=True),
        db_persist=True,
    )

    class Meta:
        indexes = [
            models.Index(fields=["program", "period"]),
            models.Index(fields=["batch", "status"]),
            models.Index(fields=["nik"], name="benefit_nik"),  # not db_index: no LIKE index (registry.Person.Meta)
        ]
        verbose_name = _("manfaat diterima")
        verbose_name_plural = _("manfaat diterima")

    def __str__(self) -> str:
        return f"{self.program_id} {self.period} {self.nik or self.name}"


# -- annual action plan (RAT) ------------------------------------------------------------------------------------
class Stage(models.TextChoices):
    """The follow-up cycle every RAT activity goes through (Permendagri 53/2020)."""

    PLAN = "plan", _("Perencanaan")
    IMPLEMENT = "implement", _("Pelaksanaan")
    MONITOR = "monitor", _("Pemantauan")
    EVALUATE = "evaluate", _("Evaluasi")


NEXT_STAGE = {Stage.PLAN: Stage.IMPLEMENT, Stage.IMPLEMENT: Stage.MONITOR, Stage.MONITOR: Stage.EVALUATE}


class ActionPlan(models.Model):
    """One agency's RAT for one year."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="action_plans")
    year = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year", "organisation__name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "year"], name="one_plan_per_agency_year")]
        verbose_name = _("rencana aksi tahunan")
        verbose_name_plural = _("rencana aksi tahunan")

    def __str__(self) -> str:
        return f"RAT {self.year} {self.organisation}"


class Activity(models.Model):
    """A kegiatan of the plan. Budget codes are free text: SIPD nomenclature (Permendagri 90/2019) changes."""

    plan = models.ForeignKey(ActionPlan, on_delete=models.CASCADE, related_name="activities")
    budget_code = models.CharField(max_length=60, blank=True)
    name = models.CharField(max_length=300)
    strategies = models.ManyToManyField(Strategy, blank=True, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "budget_code", "pk"]
        verbose_name = _("kegiatan")
        verbose_name_plural = _("kegiatan")

    def __str__(self) -> str:
        return f"{self.budget_code} {self.name}".strip()


class SubActivity(models.Model):
    """A sub-kegiatan: the unit the RAT counts ("43 sub-kegiatan, Rp 51 M") and follows up.

    Strategy tags of its own, or its activity's when it has none. Realisation (budget absorbed, families reached)
    is entered by the agency; when it is linked to a program, the ledger's count is shown beside it.
    """

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="subactivities")
    budget_code = models.CharField(max_length=60, blank=True)
    name = models.CharField(max_length=300)
    budget = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    output_indicator = models.CharField(max_length=200, blank=True)
    output_target = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    output_unit = models.CharField(max_length=40, blank=True)
    villages = models.ManyToManyField("areas.Area", blank=True, related_name="+", help_text=_("Lokus"))
    strategies = models.ManyToManyField(Strategy, blank=True, related_name="+")
    program = models.ForeignKey(Program, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.PLAN)
    budget_absorbed = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    output_realised = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    families_reached = models.PositiveIntegerField(null=True, blank=True)
    history = models.JSONField(default=list, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "budget_code", "pk"]
        verbose_name = _("sub-kegiatan")
        verbose_name_plural = _("sub-kegiatan")

    def __str__(self) -> str:
        return f"{self.budget_code} {self.name}".strip()


# -- partner adoption ----------------------------------------------------------------------------------------------
class Need(models.TextChoices):
    FOOD = "pangan", _("Pangan")
    HOUSING = "rumah", _("Rumah layak huni")
    SANITATION = "sanitasi", _("Air bersih dan jamban")
    EDUCATION = "pendidikan", _("Pendidikan anak")
    HEALTH = "kesehatan", _("Kesehatan")
    BUSINESS = "usaha", _("Modal usaha")
    TRAINING = "pelatihan", _("Pelatihan kerja")
    OTHER = "lainnya", _("Lainnya")


class AdoptionStatus(models.TextChoices):
    CLAIMED = "claimed", _("Diklaim")
    DELIVERED = "delivered", _("Tersalurkan")
    CANCELLED = "cancelled", _("Dibatalkan")


class Adoption(models.Model):
    """A partner takes on one need of one family. Two partners cannot hold the same need of the same family
    (claimed or delivered): that double help is exactly what the shared ledger is meant to stop."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="adoptions")
    family = models.ForeignKey("registry.Family", on_delete=models.PROTECT, related_name="adoptions")
    need = models.CharField(max_length=12, choices=Need.choices)
    status = models.CharField(max_length=10, choices=AdoptionStatus.choices, default=AdoptionStatus.CLAIMED)
    plan_note = models.CharField(max_length=300, blank=True)
    delivered_note = models.CharField(max_length=500, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["family", "need"], condition=~Q(status="cancelled"), name="one_open_adoption_per_need"
            )
        ]
        verbose_name = _("adopsi keluarga")
        verbose_name_plural = _("adopsi keluarga")

    def __str__(self) -> str:
        return f"{self.organisation} {self.family_id} {self.need}"


class PartnerLocus(models.Model):
    """The areas a partner works in (a company's ring 1 villages): its priority list is limited to them."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="loci")
    area = models.ForeignKey("areas.Area", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "area"], name="partner_locus_once")]
        verbose_name = _("lokus mitra")
        verbose_name_plural = _("lokus mitra")

    def __str__(self) -> str:
        return f"{self.organisation} {self.area_id}"


# -- the analyses' shared snapshot ---------------------------------------------------------------------------------
class SnapshotStatus(models.TextChoices):
    QUEUED = "queued", _("Menunggu")
    RUNNING = "running", _("Sedang dihitung")
    DONE = "done", _("Selesai")
    FAILED = "failed", _("Gagal")


# A snapshot queued for "the ledger's latest year" (the pages' default) before anyone knows which year that is;
# the task resolves it when it starts.
LATEST_PERIOD = "@latest"
# The region's ledger rows whose recipient is in no village: they count for the region as a whole only.
NO_VILLAGE = "-"


class AnalysisSnapshot(models.Model):
    """One computation of the analyses (coverage, leakage, exclusion, overlaps) for the whole region, for one
    period and status choice, stored for every page of every user to read.

    Computed by a background task (``programs.tasks.refresh_analysis``) from every active family and ledger row
    of the region, never by a page request: a page reads the latest finished snapshot of its period and, when
    ``stamp`` no longer equals the current ``programs.snapshot.data_stamp()``, shows it with its date while a
    refresh is queued. Figures are region-wide aggregates kept per area (``AnalysisArea``); which of them a user
    sees is decided by the reader (areas inside the user's scope only); family lists keep family ids only
    (``AnalysisList``) and are read through the registry's scoped selectors.
    """

    period = models.CharField(max_length=20, blank=True)  # "" every period, "2026" a year, "2026-Q3" one period
    planned = models.BooleanField(default=False)  # planned ledger rows count as reached too
    status = models.CharField(max_length=10, choices=SnapshotStatus.choices, default=SnapshotStatus.QUEUED)
    stamp = models.CharField(max_length=500, blank=True)  # data_stamp() read before the data
    progress_stage = models.CharField(max_length=20, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # What the figures' rows and columns are: the ledger's periods at the time, the programs analysed (code, name,
    # funder, owner, strategy tags, whether their rule could be used), the strategy codes and the owners.
    periods = models.JSONField(default=list, blank=True)
    programs = models.JSONField(default=list, blank=True)
    strategies = models.JSONField(default=list, blank=True)
    owners = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["period", "planned", "status"])]
        verbose_name = _("potret analisis program")
        verbose_name_plural = _("potret analisis program")

    def __str__(self) -> str:
        return f"analisis {self.period or 'semua'}{' +rencana' if self.planned else ''} {self.status}"

    @property
    def busy(self) -> bool:
        return self.status in (SnapshotStatus.QUEUED, SnapshotStatus.RUNNING)

    @property
    def progress_percent(self) -> int:
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else 0


class AnalysisArea(models.Model):
    """One area's figures in a snapshot: the region, each regency (province deployments), district and village,
    and the region's recipients in no village (code ``-``). Totals roll up exactly: every family and ledger row
    belongs to one village or to none.

    ``totals`` holds the area's own counts (families, desil 1–4, desil 1, reached, no help, many programs, amounts),
    which is all a parent page needs of its children; ``detail`` the per-program, per-strategy and per-owner rows,
    the overlap matrix and the distribution by number of programs.
    """

    snapshot = models.ForeignKey(AnalysisSnapshot, on_delete=models.CASCADE, related_name="areas")
    code = models.CharField(max_length=13)
    parent = models.CharField(max_length=13, blank=True)
    totals = models.JSONField(default=dict)
    detail = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["snapshot", "code"], name="analysis_area_once")]
        indexes = [models.Index(fields=["snapshot", "parent"])]
        verbose_name = _("angka analisis per wilayah")
        verbose_name_plural = _("angka analisis per wilayah")

    def __str__(self) -> str:
        return f"{self.snapshot_id} {self.code}"


class AnalysisList(models.Model):
    """The families of one village on the analyses' lists in a snapshot: poor and helped by nothing, eligible for
    a program and not reached by it, or on many programs. Only family ids and their place in the lists: names, KK
    numbers and addresses are read from the registry through the user's scoped selector when a list is shown or
    exported.

    ``rows`` holds one fixed-size record per listed family of the village, in the region's list order, as the
    numpy structured type ``programs.snapshot.list_dtype(programs)``: the family id, its rank (extreme poor first,
    then by desil, then fewest programs), its rank on the many-programs list (-1: not on it), whether it is poor
    and helped by nothing, and one bit per program of the snapshot for "eligible and not reached" and "on the
    program's list". One row per village rather than per family: a province's half a million listed families
    are written, read and removed as about a thousand rows. ``village`` is "" for listed families in no village
    of the region.
    """

    snapshot = models.ForeignKey(AnalysisSnapshot, on_delete=models.CASCADE, related_name="+", db_index=False)
    village = models.CharField(max_length=13, blank=True)
    count = models.PositiveIntegerField(default=0)
    rows = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["snapshot", "village"], name="analysis_list_once")]
        verbose_name = _("daftar keluarga dalam analisis")
        verbose_name_plural = _("daftar keluarga dalam analisis")

    def __str__(self) -> str:
        return f"{self.snapshot_id} {self.village or '-'} ({self.count})"
