"""The demo's programs side: the synthetic partner programs completed, lists folded into the national programs,
an example RAT with realisation, and the demo partner's locus. Called by the demo builder after its imports."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from tepat.accounts.models import Organisation, OrganisationKind, User
from tepat.areas.models import Area, Level
from tepat.errors import UserError
from tepat.programs.models import ActionPlan, BenefitType, Funder, PeriodKind, Program, Unit
from tepat.programs.services import (
    Folded,
    activity_add,
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
    """Make the demo's program pages tell the story: every list attached to a complete program, one agency RAT
    with all three Inpres strategies and some realisation, and a partner locus for the demo partner."""
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
    agency, _ = Organisation.objects.get_or_create(name="Dinas Sosial", defaults={"kind": OrganisationKind.AGENCY})
    if not ActionPlan.objects.filter(organisation=agency, year=year).exists() and villages:
        _example_plan(admin, agency, year, villages)
    partner = Organisation.objects.filter(kind=OrganisationKind.COMPANY, users__isnull=False).first()
    if partner is not None and districts:
        partner_locus_set(
            actor=admin, organisation=partner, areas=[d.code for d in districts[: max(1, len(districts) // 2)]]
        )
    return folded


def _example_plan(admin: User, agency: Organisation, year: int, villages: list[Area]) -> None:
    """Shaped like Kayong Utara's 2024 RAT (DOMAIN.md), at a city's scale."""
    plan = plan_create(actor=admin, organisation=agency, year=year, title="RAT penanggulangan kemiskinan (contoh demo)")
    pkh = Program.objects.filter(code="PKH").first()
    rtlh = Program.objects.filter(code="RTLH").first()
    locus = [v.code for v in villages[:4]]
    burden = activity_add(actor=admin, plan=plan, budget_code="1.06.04.2.01", name="Perlindungan dan jaminan sosial",
                          strategies=["inpres.beban", "pmdn.beban"])  # fmt: skip
    income = activity_add(actor=admin, plan=plan, budget_code="1.06.05.2.02", name="Pemberdayaan sosial",
                          strategies=["inpres.pendapatan", "pmdn.pendapatan"])  # fmt: skip
    pockets = activity_add(actor=admin, plan=plan, budget_code="1.04.02.2.01", name="Penataan kawasan kumuh",
                           strategies=["inpres.kantong"])  # fmt: skip
    rows = [
        (burden, "1.06.04.2.01.0001", "Pendampingan PKH dan pemutakhiran data", 850_000_000, "keluarga", 4000, pkh),
        (burden, "1.06.04.2.01.0002", "Bantuan pangan daerah bagi lansia tunggal", 1_200_000_000, "orang", 600, None),
        (income, "1.06.05.2.02.0001", "Pelatihan keterampilan dan modal usaha KUBE", 650_000_000, "kelompok", 40, None),
        (pockets, "1.04.02.2.01.0001", "Rehabilitasi rumah tidak layak huni", 2_000_000_000, "unit", 100, rtlh),
        (pockets, "1.04.02.2.01.0002", "Jamban sehat komunal", 450_000_000, "unit", 30, None),
    ]
    for activity, code, name, budget, unit, target, program in rows:
        sub = subactivity_add(
            actor=admin, activity=activity, name=name, budget_code=code, budget=Decimal(budget),
            output_indicator=name.split(" ")[0], output_target=Decimal(target), output_unit=unit, villages=locus,
            program=program,
        )  # fmt: skip
        if budget >= 800_000_000:
            subactivity_follow_up(actor=admin, sub=sub, advance=True, budget_absorbed=Decimal(budget * 45 // 100),
                                  families_reached=target // 3, note="triwulan III")  # fmt: skip
