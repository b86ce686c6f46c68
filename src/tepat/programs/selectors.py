"""Reads of programs, the ledger, action plans and adoptions, scoped by the acting user's role and area.

Programs and plans are public facts of the region (aggregates); anything about a family starts from
``Family.objects.visible_to(actor)``. Partners (no VIEW_FULL_NIK) receive masked NIK/KK, initials instead of
names and no address: the pseudonymised list DOMAIN.md asks for.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import get_language

from tepat.accounts.permissions import Permission, PermissionDenied, has_permission, scope_code
from tepat.areas.models import Area, Level
from tepat.areas.selectors import within_q
from tepat.engine.identity import mask_nik
from tepat.intake.models import ImportBatch
from tepat.programs.access import can_adopt, is_planner
from tepat.programs.models import (
    REACHED_STATUSES,
    ActionPlan,
    Adoption,
    AdoptionStatus,
    Benefit,
    BenefitStatus,
    Need,
    PartnerLocus,
    Program,
    Strategy,
    SubActivity,
)
from tepat.registry.models import Family, FamilyStatus, Membership, Relationship

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User

    Actor = User | AnonymousUser


def _require_aggregates(actor: Actor) -> str:
    scope = scope_code(actor)
    if scope is None or not has_permission(actor, Permission.VIEW_AGGREGATES):
        raise PermissionDenied(Permission.VIEW_AGGREGATES)
    return scope


def _ledger_in_scope(scope: str) -> QuerySet[Benefit]:
    """Ledger rows by the village the list gave; rows without a village count only region-wide."""
    q = within_q(scope, field="village__code")
    if scope == settings.TEPAT_REGION:
        q |= Q(village__isnull=True)
    return Benefit.objects.filter(q)


# -- programs ---------------------------------------------------------------------------------------------------
@dataclass
class ProgramLine:
    program: Program
    strategies: list[Strategy]
    rows: int | None
    amount: float | None
    latest: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.program, name)


@dataclass
class ProgramListing:
    lines: list[ProgramLine]
    year: str  # the ledger's latest year: rows and amounts are that year's, in the actor's area
    state: Any  # programs.analysis.SnapshotState of the figures


def program_list(*, actor: Actor, strategy: str = "", funder: str = "") -> ProgramListing:
    """Programs with their ledger rows and amount of the latest year in the actor's area, read from the analyses'
    snapshot (a page never scans the ledger)."""
    from tepat.programs.analysis import area_detail, snapshot_state
    from tepat.programs.models import LATEST_PERIOD
    from tepat.programs.snapshot import ROW_MEASURES

    scope = _require_aggregates(actor)
    programs = (
        Program.objects.select_related("organisation").prefetch_related("strategies").order_by("-national", "code")
    )
    if strategy:
        programs = programs.filter(strategies__code=strategy)
    if funder:
        programs = programs.filter(funder=funder)
    state = snapshot_state(period=LATEST_PERIOD)
    stats: dict[int, tuple[int, float]] = {}
    latest: dict[int, str] = {}
    if state.shown is not None:
        _totals, detail = area_detail(state.shown, scope)
        rows_at, amount_at = ROW_MEASURES.index("rows"), ROW_MEASURES.index("amount")
        for meta, values in zip(state.shown.programs, detail.get("programs") or [], strict=False):
            stats[meta["id"]] = (int(values[rows_at]), float(values[amount_at]))
        latest = {int(pk): period for pk, period in state.shown.summary.get("latest", {}).items()}
    known = state.shown is not None
    return ProgramListing(
        [
            ProgramLine(p, list(p.strategies.all()), stats.get(p.pk, (0, 0.0))[0] if known else None,
                        stats.get(p.pk, (0, 0.0))[1] if known else None, latest.get(p.pk) or "")
            for p in programs.distinct()
        ],
        state.shown.period if state.shown is not None else "",
        state,
    )  # fmt: skip


@dataclass
class BatchLine:
    batch_id: int
    file_name: str
    source: str
    created_at: Any
    rows: int
    amount: Decimal | None
    statuses: dict[str, int]
    periods: list[str]


@dataclass
class ProgramDetail:
    program: Program
    strategies: list[Strategy]
    periods: list[dict[str, Any]]
    batches: list[BatchLine]
    eligible_families: int | None = None
    rule_problem: str = ""


def program_get(*, actor: Actor, code: str) -> Program:
    _require_aggregates(actor)
    return Program.objects.select_related("organisation").get(code=code)


def program_detail(*, actor: Actor, program: Program) -> ProgramDetail:
    """The program with its ledger by period and status and the imported lists it came from, in the actor's area."""
    scope = _require_aggregates(actor)
    rows = _ledger_in_scope(scope).filter(program=program)
    by_period: dict[str, dict[str, Any]] = {}
    for row in rows.values("period", "status").annotate(n=Count("id"), amount=Sum("amount")).order_by("-period"):
        line = by_period.setdefault(row["period"], {"period": row["period"], "rows": 0, "amount": Decimal(0),
                                                    **dict.fromkeys(BenefitStatus.values, 0)})  # fmt: skip
        line[row["status"]] = row["n"]
        line["rows"] += row["n"]
        line["amount"] += row["amount"] or 0
    batches: dict[int, BatchLine] = {}
    per_batch: list[dict[str, Any]] = [
        dict(r) for r in rows.values("batch_id", "status").annotate(n=Count("id"), amount=Sum("amount"))
    ]
    batch_info = {b.pk: b for b in ImportBatch.objects.filter(pk__in=rows.values("batch_id")).select_related("source")}
    for item in per_batch:
        batch = batch_info.get(item["batch_id"])
        entry = batches.get(item["batch_id"])
        if entry is None:
            entry = batches[item["batch_id"]] = BatchLine(
                item["batch_id"], batch.file_name if batch else "", batch.source.name if batch else "",
                batch.created_at if batch else None, 0, Decimal(0), {}, [],
            )  # fmt: skip
        entry.rows += item["n"]
        entry.amount = (entry.amount or Decimal(0)) + (item["amount"] or Decimal(0))
        entry.statuses[item["status"]] = item["n"]
    for batch_id, period in rows.values_list("batch_id", "period").distinct():
        if period not in batches[batch_id].periods:
            batches[batch_id].periods.append(period)
    detail = ProgramDetail(program, list(program.strategies.all()), list(by_period.values()),
                           sorted(batches.values(), key=lambda b: -b.batch_id))  # fmt: skip
    if program.eligibility_rule:
        from tepat.engine.rules import RuleError
        from tepat.programs.eligibility import family_table, parse_rule

        try:
            rule = parse_rule(program.eligibility_rule)
            families = Family.objects.visible_to(actor, permission=Permission.VIEW_AGGREGATES).filter(
                status=FamilyStatus.ACTIVE
            )
            detail.eligible_families = int(rule.evaluate(family_table(families, fields=rule.fields).table).sum())
        except RuleError as exc:
            detail.rule_problem = str(exc)
    return detail


def strategies_all() -> list[tuple[Strategy, str, str]]:
    """Every strategy with its label in the current language: (strategy, short, long)."""
    language = get_language() or "id"
    return [(s, s.short_label(language), s.label(language)) for s in Strategy.objects.all()]


# -- action plans ------------------------------------------------------------------------------------------------
@dataclass
class StrategyTotal:
    code: str
    short: str
    label: str
    subactivities: int = 0
    budget: Decimal = Decimal(0)
    absorbed: Decimal = Decimal(0)
    families: int = 0

    @property
    def absorption(self) -> float | None:
        return float(100 * self.absorbed / self.budget) if self.budget else None


@dataclass
class PlanSummary:
    year: int | None
    years: list[int]
    plans: list[dict[str, Any]]
    strategies: list[StrategyTotal]
    untagged: StrategyTotal
    total: StrategyTotal
    stages: dict[str, int] = field(default_factory=dict)


def effective_strategies(sub: SubActivity) -> list[str]:
    """A sub-activity's own tags, else its activity's: most RATs tag at the activity level."""
    own = [s.code for s in sub.strategies.all()]
    return own or [s.code for s in sub.activity.strategies.all()]


def plan_summary(*, actor: Actor, year: int | None = None, organisation: int | None = None) -> PlanSummary:
    """Plans of a year with totals per strategy, like "reduce burden: 43 sub-activities, Rp 51 bn".

    A sub-activity tagged with two strategies counts in both; the total counts it once.
    """
    _require_aggregates(actor)
    years = sorted(set(ActionPlan.objects.values_list("year", flat=True)), reverse=True)
    year = year if year in years else (years[0] if years else None)
    plans = ActionPlan.objects.filter(year=year or 0).select_related("organisation")
    if organisation:
        plans = plans.filter(organisation_id=organisation)
    subs = list(
        SubActivity.objects.filter(activity__plan__in=plans)
        .select_related("activity")
        .prefetch_related("strategies", "activity__strategies")
    )
    language = get_language() or "id"
    totals = {s.code: StrategyTotal(s.code, s.short_label(language), s.label(language)) for s in Strategy.objects.all()}
    untagged = StrategyTotal("", "", "")
    total = StrategyTotal("", "", "")
    stages: dict[str, int] = defaultdict(int)
    per_plan: dict[int, StrategyTotal] = defaultdict(lambda: StrategyTotal("", "", ""))
    for sub in subs:
        codes = effective_strategies(sub)
        targets = [totals[c] for c in codes if c in totals] or [untagged]
        for target in (*targets, total, per_plan[sub.activity.plan_id]):
            target.subactivities += 1
            target.budget += sub.budget
            target.absorbed += sub.budget_absorbed or 0
            target.families += sub.families_reached or 0
        stages[sub.stage] += 1
    return PlanSummary(
        year=year,
        years=years,
        plans=[{"plan": p, "total": per_plan[p.pk]} for p in plans],
        strategies=[t for t in totals.values() if t.subactivities],
        untagged=untagged,
        total=total,
        stages=dict(stages),
    )


def plan_get(*, actor: Actor, pk: int) -> ActionPlan:
    _require_aggregates(actor)
    return ActionPlan.objects.select_related("organisation").get(pk=pk)


def plan_activities(*, plan: ActionPlan) -> list[dict[str, Any]]:
    """Activities with their sub-activities, locus and, for those linked to a program, the ledger's count of
    families reached in the plan's year inside the locus (beside what the agency reported)."""
    activities = list(plan.activities.prefetch_related("strategies"))
    subs = list(
        SubActivity.objects.filter(activity__plan=plan)
        .select_related("program", "activity")
        .prefetch_related("strategies", "villages", "activity__strategies")
    )
    by_activity: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for sub in subs:
        by_activity[sub.activity_id].append(
            {"sub": sub, "strategies": effective_strategies(sub), "villages": list(sub.villages.all()),
             "ledger_families": _ledger_families(sub, plan.year) if sub.program_id else None}
        )  # fmt: skip
    return [{"activity": a, "subs": by_activity.get(a.pk, [])} for a in activities]


def _ledger_families(sub: SubActivity, year: int) -> int:
    rows = Benefit.objects.filter(
        program_id=sub.program_id or 0, period__startswith=str(year), status__in=REACHED_STATUSES
    )
    villages = [v.code for v in sub.villages.all()]
    active = Membership.objects.filter(active=True, person_id=OuterRef("person_id"))
    if villages:
        active = active.filter(family__village_id__in=villages)
    return (
        rows.filter(person__isnull=False)
        .annotate(family_id=Subquery(active.values("family_id")[:1]))
        .exclude(family_id=None)
        .values("family_id")
        .distinct()
        .count()
    )


# -- partner adoption ------------------------------------------------------------------------------------------
def partner_families(*, actor: Actor) -> QuerySet[Family]:
    """Families the actor may adopt from: visible to them and inside their organisation's locus (if it has one)."""
    families = Family.objects.visible_to(actor)
    organisation_id = getattr(actor, "organisation_id", None)
    if organisation_id and can_adopt(actor):
        loci = list(PartnerLocus.objects.filter(organisation_id=organisation_id).values_list("area_id", flat=True))
        if loci:
            q = Q(pk__in=[])
            for code in loci:
                q |= within_q(code, field="village__code")
            families = families.filter(q)
    return families


def initials(name: str) -> str:
    """ "Ahmad Fauzi" → "A. F.": enough for a partner's field officer to confirm a family, not to look it up."""
    return " ".join(f"{part[0]}." for part in name.split() if part[:1].isalpha()).upper()


@dataclass
class PriorityLine:
    pk: int
    head_nik: str
    head: str
    village: str
    desil: int | None
    members: int
    programs: int
    claimed: list[tuple[str, str]]  # (need label, by: own organisation's name or "mitra lain")


@dataclass
class PriorityList:
    lines: list[PriorityLine]
    total: int
    villages: list[Area]
    loci: list[str]


def priority_list(
    *, actor: Actor, village: str = "", need: str = "", max_desil: int = 4, offset: int = 0, limit: int = 50
) -> PriorityList:
    """Poor families of the actor's locus, extreme poor first, then those reached by the fewest programs.

    ``need`` hides families whose need is already claimed by anyone. Masked for partners: head's NIK masked,
    initials, village only (no street, RT or RW).
    """
    full = has_permission(actor, Permission.VIEW_FULL_NIK)
    families = partner_families(actor=actor).filter(
        status=FamilyStatus.ACTIVE, desil_national__gte=1, desil_national__lte=max_desil
    )
    if village:
        families = families.filter(within_q(village, field="village__code"))
    if need in Need.values:
        families = families.exclude(
            Exists(Adoption.objects.filter(family=OuterRef("pk"), need=need).exclude(status=AdoptionStatus.CANCELLED))
        )
    head = Membership.objects.filter(family=OuterRef("pk"), relationship=Relationship.HEAD).order_by("position")
    reached = Benefit.objects.filter(
        status__in=REACHED_STATUSES,
        person__memberships__family=OuterRef("pk"),
        person__memberships__active=True,
    )
    annotated = families.annotate(
        head_name=Subquery(head.values("person__name")[:1]),
        head_nik=Subquery(head.values("person__nik")[:1]),
        head_nik_raw=Subquery(head.values("person__nik_raw")[:1]),
        members=Count("memberships", filter=Q(memberships__active=True), distinct=True),
        programs=Coalesce(Subquery(
            reached.order_by().values("person__memberships__family").annotate(n=Count("program", distinct=True))
            .values("n")[:1]
        ), Value(0)),
    ).select_related("village")  # fmt: skip
    total = families.count()
    page = list(annotated.order_by("desil_national", "programs", "pk")[offset : offset + limit])
    claims: dict[int, list[tuple[str, str]]] = defaultdict(list)
    own = getattr(actor, "organisation_id", None)
    for adoption in (
        Adoption.objects.filter(family_id__in=[f.pk for f in page])
        .exclude(status=AdoptionStatus.CANCELLED)
        .select_related("organisation")
    ):
        by = str(adoption.organisation) if (is_planner(actor) or adoption.organisation_id == own) else "mitra lain"
        claims[adoption.family_id].append((adoption.get_need_display(), by))
    lines = []
    for f in page:
        number = f.head_nik or f.head_nik_raw or ""
        lines.append(
            PriorityLine(
                pk=f.pk, head_nik=(number if full else mask_nik(number)) if number else "",
                head=(f.head_name or "") if full else initials(f.head_name or ""), village=f.village.label,
                desil=f.desil_national, members=f.members, programs=f.programs or 0, claimed=claims.get(f.pk, []),
            )
        )  # fmt: skip
    scope = scope_code(actor) or ""
    loci = list(PartnerLocus.objects.filter(organisation_id=own).select_related("area")) if own else []
    codes = [locus.area_id for locus in loci]
    villages = list(Area.objects.filter(within_q(scope), level=Level.VILLAGE)) if scope else []
    if codes:
        villages = [v for v in villages if any(v.code == c or v.code.startswith(c + ".") for c in codes)]
    return PriorityList(lines, total, villages, [locus.area.label for locus in loci])


def adoptions_visible(*, actor: Actor) -> QuerySet[Adoption]:
    """TKPK planners see every adoption; a partner its own organisation's; others those of families they see."""
    adoptions = Adoption.objects.select_related("organisation", "family__village", "created_by")
    if is_planner(actor):
        return adoptions.filter(family__in=Family.objects.visible_to(actor).values("pk"))
    if can_adopt(actor):
        return adoptions.filter(organisation_id=getattr(actor, "organisation_id", 0))
    return adoptions.filter(family__in=Family.objects.visible_to(actor).values("pk"))


@dataclass
class AdoptionLine:
    adoption: Adoption
    kk: str
    village: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.adoption, name)


def adoption_lines(*, actor: Actor, adoptions: list[Adoption]) -> list[AdoptionLine]:
    full = has_permission(actor, Permission.VIEW_FULL_NIK)
    out = []
    for a in adoptions:
        number = a.family.kk or a.family.kk_raw or ""
        out.append(AdoptionLine(a, (number if full else mask_nik(number)) if number else "", a.family.village.label))
    return out


def adoption_counts(*, actor: Actor) -> dict[str, dict[str, int]]:
    """Adoptions per partner and status (the TKPK's overview of who took on what)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(AdoptionStatus.values, 0))
    for row in adoptions_visible(actor=actor).values("organisation__name", "status").annotate(n=Count("id")):
        counts[row["organisation__name"]][row["status"]] = row["n"]
    return dict(counts)


# -- the family timeline -----------------------------------------------------------------------------------------
def family_benefit_timeline(*, actor: Actor, family: Family, limit: int = 300) -> list[dict[str, Any]]:
    """Everything a family received from everyone, newest first: ledger rows of its members (program, funder,
    organisation, status) and partners' adoptions. ``family`` must come from a scoped selector (family_get)."""
    members = Membership.objects.filter(family=family).values("person_id")
    rows: list[dict[str, Any]] = [
        {"kind": "benefit", "period": b.period, "program": b.program.name, "code": b.program.code,
         "funder": b.program.get_funder_display(), "organisation": str(b.program.organisation or ""),
         "status": b.status, "status_label": b.get_status_display(), "amount": b.amount,
         "name": b.person.name if b.person else b.name, "source": b.batch.file_name if b.batch else ""}
        for b in Benefit.objects.filter(person_id__in=members)
        .select_related("program__organisation", "person", "batch").order_by("-period", "program__name")[:limit]
    ]  # fmt: skip
    own = getattr(actor, "organisation_id", None)
    for a in Adoption.objects.filter(family=family).select_related("organisation").order_by("-created_at"):
        shown = is_planner(actor) or a.organisation_id == own or has_permission(actor, Permission.VIEW_FULL_NIK)
        rows.append(
            {"kind": "adoption", "period": (a.delivered_at or a.created_at).strftime("%Y-%m"),
             "program": a.get_need_display(), "code": "", "funder": "", "organisation":
             str(a.organisation) if shown else "mitra lain", "status": a.status, "status_label": a.get_status_display(),
             "amount": a.amount, "name": "", "source": a.delivered_note or a.plan_note}
        )  # fmt: skip
    rows.sort(key=lambda r: r["period"], reverse=True)
    return rows
