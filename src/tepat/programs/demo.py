"""The demo's programs side: the synthetic partner programs completed, lists folded into the national programs,
the agencies' RAT with a third-quarter realisation report, the demo partner's locus and adoptions, and the
analyses' snapshot queued. Called by the demo builder after its imports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from tepat.accounts.models import Organisation, OrganisationKind, Role, User
from tepat.areas.models import Area, Level
from tepat.errors import UserError
from tepat.programs.models import (
    ActionPlan,
    Activity,
    Adoption,
    BenefitType,
    Funder,
    Need,
    PeriodKind,
    Program,
    Stage,
    SubActivity,
    Unit,
)
from tepat.programs.selectors import priority_list
from tepat.programs.services import (
    Folded,
    activity_add,
    adoption_claim,
    adoption_deliver,
    analysis_refresh_queue,
    partner_locus_set,
    plan_create,
    program_save,
    programs_fold_aliases,
    subactivity_add,
    subactivity_follow_up,
)


@dataclass(frozen=True)
class PartnerProgram:
    code: str
    name: str
    funder: Funder
    owner: str
    owner_kind: OrganisationKind
    benefit_type: BenefitType
    value: Decimal
    period: PeriodKind
    rule: str
    strategies: tuple[str, ...]


# The synthetic lists' own programs (engine.synth._programs): the list names them by `name`, which becomes an alias.
PARTNER_PROGRAMS = (
    PartnerProgram("CSR-SKN", "CSR PT Samudra Karya Nusantara - Paket Sembako", Funder.CSR,
                   "PT Samudra Karya Nusantara (fiktif)", OrganisationKind.COMPANY, BenefitType.IN_KIND,
                   Decimal(350_000), PeriodKind.MONTH, "desil <= 5", ("inpres.beban", "pmdn.beban", "pmdn.sinergi")),
    PartnerProgram("BAZNAS-KONSUMTIF", "BAZNAS - Bantuan Konsumtif Fakir Miskin", Funder.BAZNAS,
                   "BAZNAS Kota (fiktif)", OrganisationKind.BAZNAS, BenefitType.CASH, Decimal(1_000_000),
                   PeriodKind.QUARTER, "desil <= 4", ("inpres.beban", "pmdn.beban")),
)  # fmt: skip


def demo_programs(*, admin: User | None, year: int = 2026) -> Folded:
    """Make the demo's program pages tell the story: every list attached to a complete program, the agencies' RAT
    with all strategies and a realisation report as of the third quarter (some sub-activities behind plan), a
    partner locus and a few adoptions for the demo partner, and the analyses' snapshot queued for the worker."""
    if admin is None:
        raise UserError("the demo needs its TKPK admin to set up programs")
    for spec in PARTNER_PROGRAMS:
        owner, _ = Organisation.objects.get_or_create(name=spec.owner, defaults={"kind": spec.owner_kind})
        program = program_save(
            actor=admin, program=Program.objects.filter(code=spec.code).first(), code=spec.code,
            strategies=spec.strategies, name=spec.name, funder=spec.funder, organisation=owner, unit=Unit.FAMILY,
            benefit_type=spec.benefit_type, value=spec.value, period=spec.period, eligibility_rule=spec.rule,
        )  # fmt: skip
        program.aliases = [spec.name]
        program.save(update_fields=["aliases"])
    folded = programs_fold_aliases(actor=admin)
    region = settings.TEPAT_REGION
    villages = list(Area.objects.filter(code__startswith=region + ".", level=Level.VILLAGE).order_by("code"))
    districts = list(Area.objects.filter(code__startswith=region + ".", level=Level.DISTRICT).order_by("code"))
    if villages:
        demo_plans(admin=admin, year=year, villages=[v.code for v in villages])
    partner = Organisation.objects.filter(kind=OrganisationKind.COMPANY, users__isnull=False).first()
    if partner is not None and districts:
        partner_locus_set(
            actor=admin, organisation=partner, areas=[d.code for d in districts[: max(1, len(districts) // 2)]]
        )
        _demo_adoptions(partner)
    analysis_refresh_queue()
    return folded


@dataclass(frozen=True)
class DemoSub:
    """One sub-activity of the demo RAT and its realisation as of the third-quarter report."""

    agency: str
    activity: tuple[str, str, tuple[str, ...]]  # budget code, name, strategy tags
    code: str
    name: str
    budget: int  # rupiah
    target: int
    unit: str
    program: str = ""
    locus: tuple[int, ...] = ()  # indices into the region's villages (in code order)
    stage: Stage = Stage.PLAN
    absorbed: float = 0.0  # share of the budget
    realised: float = 0.0  # share of the output target
    families: int | None = None
    last_report: int = 0  # quarter of the last follow-up (0: none since planning)


PERKIM = "Dinas Perumahan dan Kawasan Permukiman"  # the national catalogue's owner of RTLH
AGENCIES = {
    "Dinas Sosial": OrganisationKind.AGENCY,
    PERKIM: OrganisationKind.AGENCY,
    "Dinas Kesehatan": OrganisationKind.AGENCY,
    "Dinas Pendidikan dan Kebudayaan": OrganisationKind.AGENCY,
    "Dinas Ketenagakerjaan": OrganisationKind.AGENCY,
    "Dinas Koperasi, UKM dan Perdagangan": OrganisationKind.AGENCY,
    "Bappeda (Sekretariat TKPK)": OrganisationKind.TKPK,
}
_SOCIAL = ("1.06.04.2.01", "Perlindungan dan jaminan sosial", ("inpres.beban", "pmdn.beban"))
_EMPOWER = ("1.06.05.2.02", "Pemberdayaan sosial", ("inpres.pendapatan", "pmdn.pendapatan", "pmdn.umk"))
_REHAB = ("1.06.04.2.03", "Rehabilitasi sosial", ("inpres.beban", "pmdn.beban"))
_HOUSING = ("1.04.02.2.01", "Penataan kawasan permukiman kumuh", ("inpres.kantong",))
_WATER = ("1.04.03.2.01", "Air minum dan sanitasi kawasan kumuh", ("inpres.kantong", "pmdn.beban"))
_HEALTH = ("1.02.02.2.02", "Pelayanan kesehatan masyarakat miskin", ("inpres.beban", "pmdn.beban"))
_SCHOOL = ("1.01.02.2.01", "Pemerataan akses pendidikan", ("inpres.beban", "pmdn.beban"))
_JOBS = ("2.07.03.2.01", "Pelatihan dan penempatan kerja", ("inpres.pendapatan", "pmdn.pendapatan"))
_MSME = ("2.17.05.2.01", "Pemberdayaan usaha mikro", ("inpres.pendapatan", "pmdn.umk"))
_TKPK = ("5.01.02.2.03", "Koordinasi penanggulangan kemiskinan", ("pmdn.sinergi",))
# Shaped like the RATs the regions publish (Kayong Utara 2024: burden 43 sub-activities Rp 51 bn, income 18 Rp 8 bn,
# pockets 23 Rp 17 bn), at a city's scale; about a third of the sub-activities lag the year, as in real reports.
DEMO_SUBS = (
    DemoSub("Dinas Sosial", _SOCIAL, "1.06.04.2.01.0001", "Pendampingan PKH dan pemutakhiran data DTSEN", 850_000_000,
            4_000, "keluarga", "PKH", (), Stage.MONITOR, 0.78, 0.77, 3_050, 3),
    DemoSub("Dinas Sosial", _SOCIAL, "1.06.04.2.01.0002", "Bantuan pangan daerah bagi lansia tunggal", 1_200_000_000,
            600, "orang", "", (0, 1, 2, 3), Stage.IMPLEMENT, 0.35, 0.30, 170, 2),
    DemoSub("Dinas Sosial", _REHAB, "1.06.04.2.03.0001", "Asistensi rehabilitasi sosial penyandang disabilitas",
            420_000_000, 150, "orang", "", (4, 5), Stage.PLAN),
    DemoSub("Dinas Sosial", _EMPOWER, "1.06.05.2.02.0001", "Pelatihan keterampilan dan modal usaha KUBE", 650_000_000,
            40, "kelompok", "", (6, 7, 8), Stage.MONITOR, 0.70, 0.80, 320, 3),
    DemoSub(PERKIM, _HOUSING, "1.04.02.2.01.0001", "Rehabilitasi rumah tidak layak huni (RTLH)", 4_500_000_000, 150,
            "unit", "RTLH", (1, 3, 5, 9, 11, 13), Stage.IMPLEMENT, 0.52, 0.41, 61, 3),
    DemoSub(PERKIM, _WATER, "1.04.03.2.01.0002", "Jamban sehat komunal", 950_000_000, 30, "unit", "", (2, 4, 10),
            Stage.MONITOR, 0.81, 0.87, 390, 3),
    DemoSub(PERKIM, _WATER, "1.04.03.2.01.0001", "Sambungan air minum perpipaan kawasan kumuh", 2_800_000_000, 800,
            "sambungan rumah", "", (0, 6, 12), Stage.IMPLEMENT, 0.67, 0.68, 540, 3),
    DemoSub("Dinas Kesehatan", _HEALTH, "1.02.02.2.02.0001",
            "Iuran PBI-JK daerah bagi warga miskin di luar kuota pusat", 6_200_000_000, 12_000, "jiwa", "PBI-JK", (),
            Stage.MONITOR, 0.75, 0.98, 3_900, 3),
    DemoSub("Dinas Kesehatan", _HEALTH, "1.02.02.2.02.0014", "Pemberian makanan tambahan balita gizi kurang",
            380_000_000, 900, "balita", "", (1, 2, 7, 8, 14), Stage.EVALUATE, 0.88, 0.96, 820, 3),
    DemoSub("Dinas Pendidikan dan Kebudayaan", _SCHOOL, "1.01.02.2.01.0012",
            "Bantuan perlengkapan sekolah siswa keluarga miskin", 720_000_000, 2_400, "siswa", "PIP", (),
            Stage.EVALUATE, 0.95, 0.96, 1_950, 3),
    DemoSub("Dinas Pendidikan dan Kebudayaan", _SCHOOL, "1.01.02.2.02.0007",
            "Beasiswa daerah SMA/SMK bagi keluarga desil 1–2", 1_100_000_000, 350, "siswa", "", (),
            Stage.IMPLEMENT, 0.40, 0.43, 150, 1),
    DemoSub("Dinas Ketenagakerjaan", _JOBS, "2.07.03.2.01.0001",
            "Pelatihan berbasis kompetensi bagi pencari kerja miskin", 870_000_000, 240, "orang", "", (3, 9, 12),
            Stage.MONITOR, 0.62, 0.71, 170, 3),
    DemoSub("Dinas Ketenagakerjaan", _JOBS, "2.07.03.2.01.0003",
            "Fasilitasi penempatan tenaga kerja lulusan pelatihan", 210_000_000, 120, "orang", "", (3, 9, 12),
            Stage.IMPLEMENT, 0.10, 0.10, 12, 2),
    DemoSub("Dinas Koperasi, UKM dan Perdagangan", _MSME, "2.17.05.2.01.0004",
            "Pendampingan dan modal usaha mikro keluarga miskin", 1_600_000_000, 300, "usaha", "", (0, 5, 10, 11),
            Stage.MONITOR, 0.72, 0.74, 220, 3),
    DemoSub("Dinas Koperasi, UKM dan Perdagangan", _MSME, "2.17.05.2.01.0009",
            "Sertifikasi halal dan NIB gratis bagi usaha mikro", 180_000_000, 400, "usaha", "", (),
            Stage.EVALUATE, 0.90, 0.95, None, 3),
    DemoSub("Bappeda (Sekretariat TKPK)", _TKPK, "5.01.02.2.03.0002", "Koordinasi TKPK dan penyusunan LP2KD",
            300_000_000, 4, "dokumen", "", (), Stage.MONITOR, 0.65, 0.75, None, 3),
)  # fmt: skip
# The dates agencies report on (10 days after each quarter): the realisation above is the third quarter's.
REPORT_DAYS = ((1, 15), (4, 10), (7, 10), (10, 10))


def demo_plans(*, admin: User, year: int, villages: list[str]) -> list[ActionPlan]:
    """Every demo agency's RAT for the year (once), with each sub-activity's follow-up history dated by quarter."""
    made = []
    for agency in dict.fromkeys(d.agency for d in DEMO_SUBS):
        organisation, _ = Organisation.objects.get_or_create(name=agency, defaults={"kind": AGENCIES[agency]})
        if ActionPlan.objects.filter(organisation=organisation, year=year).exists():
            continue
        plan = plan_create(actor=admin, organisation=organisation, year=year,
                           title=f"RAT penanggulangan kemiskinan {year} (contoh demo)")  # fmt: skip
        activities: dict[str, Activity] = {}
        for spec in (d for d in DEMO_SUBS if d.agency == agency):
            code, name, tags = spec.activity
            if code not in activities:
                activities[code] = activity_add(actor=admin, plan=plan, budget_code=code, name=name, strategies=tags)
            _demo_sub(admin, activities[code], spec, year, villages)
        made.append(plan)
    return made


def _demo_sub(admin: User, activity: Activity, spec: DemoSub, year: int, villages: list[str]) -> SubActivity:
    sub = subactivity_add(
        actor=admin, activity=activity, name=spec.name, budget_code=spec.code, budget=Decimal(spec.budget),
        output_indicator=spec.name.split(" ")[0], output_target=Decimal(spec.target), output_unit=spec.unit,
        villages=[villages[i] for i in spec.locus if i < len(villages)],
        program=Program.objects.filter(code=spec.program).first() if spec.program else None,
    )  # fmt: skip
    if spec.stage == Stage.PLAN:
        return sub
    absorbed = Decimal(round(spec.budget * spec.absorbed / 1_000_000) * 1_000_000)
    realised = Decimal(round(spec.target * spec.realised))
    note = f"laporan triwulan {spec.last_report}"
    sub = subactivity_follow_up(actor=admin, sub=sub, budget_absorbed=absorbed, output_realised=realised,
                                families_reached=spec.families, note=note)  # fmt: skip
    stages = [Stage.PLAN, Stage.IMPLEMENT, Stage.MONITOR, Stage.EVALUATE]
    reached = stages.index(Stage(spec.stage))
    history: list[dict[str, Any]] = [{"stage": Stage.PLAN.value, "at": _report_day(year, 0), "by": admin.username,
                                      "note": ""}]  # fmt: skip
    for quarter in range(1, spec.last_report + 1):
        entry: dict[str, Any] = {"stage": stages[min(quarter, reached)].value, "at": _report_day(year, quarter),
                                 "by": admin.username, "note": f"laporan triwulan {quarter}"}  # fmt: skip
        share = quarter / spec.last_report
        entry["budget_absorbed"] = str(Decimal(round(float(absorbed) * share)))
        entry["output_realised"] = str(Decimal(round(float(realised) * share)))
        history.append(entry)
    SubActivity.objects.filter(pk=sub.pk).update(stage=spec.stage, history=history)
    return sub


def _report_day(year: int, quarter: int) -> str:
    month, day = REPORT_DAYS[quarter]
    return timezone.make_aware(datetime(year, month, day, 9, 0)).isoformat()


def _demo_adoptions(partner: Organisation) -> None:
    """The demo partner takes on a dozen needs from its priority list and reports half of them delivered."""
    user = User.objects.filter(organisation=partner, role=Role.PARTNER).first()
    if user is None or Adoption.objects.filter(organisation=partner).exists():
        return
    needs = [Need.FOOD, Need.SANITATION, Need.EDUCATION, Need.BUSINESS]
    for i, line in enumerate(priority_list(actor=user, limit=12).lines):
        adoption = adoption_claim(actor=user, family_id=line.pk, need=needs[i % len(needs)],
                                  note="paket bantuan CSR tahap II")  # fmt: skip
        if i % 2 == 0:
            adoption_deliver(actor=user, adoption=adoption, note="disalurkan bersama pendamping kelurahan",
                             amount=Decimal(1_250_000))  # fmt: skip
