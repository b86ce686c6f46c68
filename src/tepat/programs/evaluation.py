"""The TKPK's evaluation meeting: for one year, per strategy and per agency or partner, the action plans' (RAT)
budget against realisation, outputs against targets, families reached — as the agencies report them and as the
ledger shows them — and the problems to discuss, down to each sub-activity.

Problems are flagged by rules a meeting can check by hand, against the share of the year elapsed on the day of
the meeting (``on``): a quarter in, a sub-activity should have started; its absorption or output lagging the
year by more than ``LAG`` points is behind; a follow-up older than a quarter is missing (Permendagri 53/2020's
plan → implement → monitor → evaluate cycle); a past year needs its evaluation recorded. Program problems come
from the analyses' snapshot of the year: leakage above ``HIGH_LEAKAGE`` %, coverage of eligible families below
``LOW_COVERAGE`` %, and locus villages where desil-1 families get nothing at all.

Everything here is an aggregate of public planning documents and of counts; no person is shown. Who may see it:
``programs.access.can_view_evaluation``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tepat.accounts.models import Organisation, OrganisationKind
from tepat.accounts.permissions import Permission, PermissionDenied
from tepat.areas.models import Area
from tepat.programs.access import can_view_evaluation
from tepat.programs.analysis import MeasureRow, SnapshotState, funder_label, measure_row, snapshot_state
from tepat.programs.models import (
    ActionPlan,
    Adoption,
    AdoptionStatus,
    AnalysisArea,
    Stage,
    Strategy,
    SubActivity,
)
from tepat.programs.selectors import effective_strategies
from tepat.programs.snapshot import ROW_MEASURES

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User

    Actor = User | AnonymousUser

LAG = 0.25  # share of the year a sub-activity's absorption or output may lag before it is "behind"
STARTED_BY = 0.25  # a sub-activity still in planning after the first quarter has not started
FOLLOW_UP_DAYS = 92  # one follow-up a quarter
HIGH_LEAKAGE = 10.0  # % of a program's recipient families not eligible or flagged (the analyses page marks it too)
LOW_COVERAGE = 50.0  # % of eligible families reached


class Problem(StrEnum):
    """Stable codes of the flags (filters, exports and tests key on them); people read ``PROBLEM_LABELS``."""

    BEHIND = "behind"
    LOW_ABSORPTION = "absorption"
    NO_FOLLOW_UP = "follow_up"
    LOCUS_UNSERVED = "locus"
    LEAKAGE = "leakage"
    LOW_COVERAGE = "coverage"


def problem_labels() -> dict[str, str]:
    return {
        Problem.BEHIND: _("Tertinggal dari rencana"),
        Problem.LOW_ABSORPTION: _("Serapan anggaran rendah"),
        Problem.NO_FOLLOW_UP: _("Tindak lanjut belum dicatat"),
        Problem.LOCUS_UNSERVED: _("Lokus dengan desil 1 tanpa bantuan"),
        Problem.LEAKAGE: _("Salah sasaran tinggi"),
        Problem.LOW_COVERAGE: _("Cakupan keluarga layak rendah"),
    }


def year_elapsed(year: int, on: date) -> float:
    """Share of the plan year gone by on the day of the meeting: 0 before it, 1 after it."""
    if year < on.year:
        return 1.0
    if year > on.year:
        return 0.0
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    return (on - start).days / (end - start).days


@dataclass
class Flag:
    code: str
    text: str


@dataclass
class Totals:
    """Sums over sub-activities; a sub-activity tagged with two strategies counts in both, totals count it once."""

    subactivities: int = 0
    budget: Decimal = Decimal(0)
    absorbed: Decimal = Decimal(0)
    families_reported: int = 0
    families_ledger: int = 0  # of sub-activities linked to a program: its recipient families in the locus
    with_target: int = 0
    output_share_sum: float = 0.0  # capped at 100 % each, so one over-achiever does not hide the others
    targets_met: int = 0
    flags: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def absorption(self) -> float | None:
        return float(100 * self.absorbed / self.budget) if self.budget else None

    @property
    def output_achievement(self) -> float | None:
        return 100 * self.output_share_sum / self.with_target if self.with_target else None

    @property
    def problems(self) -> int:
        return sum(self.flags.values())

    def add(self, line: SubLine) -> None:
        sub = line.sub
        self.subactivities += 1
        self.budget += sub.budget
        self.absorbed += sub.budget_absorbed or 0
        self.families_reported += sub.families_reached or 0
        self.families_ledger += line.families_ledger or 0
        if line.output_share is not None:
            self.with_target += 1
            self.output_share_sum += min(line.output_share, 1.0)
            self.targets_met += line.output_share >= 1.0
        for flag in line.flags:
            self.flags[flag.code] += 1


@dataclass
class SubLine:
    sub: SubActivity
    organisation: Organisation
    strategies: list[str]
    villages: list[Area]
    families_ledger: int | None
    last_follow_up: datetime | None
    flags: list[Flag] = field(default_factory=list)

    @property
    def absorption(self) -> float | None:
        return float(100 * (self.sub.budget_absorbed or 0) / self.sub.budget) if self.sub.budget else None

    @property
    def output_share(self) -> float | None:
        target = self.sub.output_target
        return float((self.sub.output_realised or 0) / target) if target else None

    @property
    def output_pct(self) -> float | None:
        share = self.output_share
        return None if share is None else 100 * share

    @property
    def flag_codes(self) -> list[str]:
        return [f.code for f in self.flags]


@dataclass
class StrategyLine(Totals):
    code: str = ""
    short: str = ""
    label: str = ""
    framework: str = ""
    ledger: MeasureRow | None = None  # the ledger's families, coverage and leakage of the strategy's programs


@dataclass
class AgencyLine(Totals):
    organisation: Organisation | None = None
    plan: ActionPlan | None = None
    ledger: MeasureRow | None = None  # its programs in the ledger, each family once
    adopted: int = 0
    adoptions_delivered: int = 0
    adoption_amount: Decimal = Decimal(0)
    program_flags: int = 0

    @property
    def partner(self) -> bool:
        return self.organisation is not None and self.organisation.kind in PARTNER_KINDS


PARTNER_KINDS = (OrganisationKind.COMPANY, OrganisationKind.BAZNAS, OrganisationKind.NGO)


@dataclass
class ProgramLine:
    row: MeasureRow
    owner: str
    owner_id: int | None
    funder: str
    flags: list[Flag]


@dataclass
class LocusLine:
    village: Area
    families: int
    extreme: int
    extreme_no_help: int
    poor_no_help: int
    subs: list[SubLine]


@dataclass
class Evaluation:
    year: int | None
    years: list[int]
    on: date
    elapsed: float
    total: Totals
    strategies: list[StrategyLine]
    untagged: Totals
    agencies: list[AgencyLine]
    subs: list[SubLine]  # after the drill-down filters
    all_subs: int
    programs: list[ProgramLine]
    loci: list[LocusLine]
    state: SnapshotState
    strategy: str = ""
    organisation: int | None = None
    problem: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    strategy_short: dict[str, str] = field(default_factory=dict)

    @property
    def program_flags(self) -> int:
        return sum(len(p.flags) for p in self.programs)

    @property
    def filtered(self) -> bool:
        return bool(self.strategy or self.organisation or self.problem)


def _last_follow_up(sub: SubActivity) -> datetime | None:
    """The latest follow-up recorded after the sub-activity was planned (the first history entry is its creation)."""
    times = []
    for entry in (sub.history or [])[1:]:
        try:
            times.append(datetime.fromisoformat(str(entry.get("at", ""))))
        except ValueError:
            continue
    return max(times) if times else None


def _pct(value: float) -> str:
    return f"{value:.0f} %"


def _flags(line: SubLine, *, elapsed: float, on: date, year: int, unserved: dict[str, int]) -> list[Flag]:
    sub = line.sub
    out: list[Flag] = []
    expected = elapsed
    if sub.stage == Stage.PLAN and expected >= STARTED_BY:
        out.append(Flag(Problem.BEHIND, _("belum dilaksanakan (masih tahap perencanaan)")))
    elif line.output_share is not None and expected >= STARTED_BY and line.output_share < expected - LAG:
        out.append(Flag(Problem.BEHIND, _("keluaran %(got)s dari target, seharusnya sekitar %(want)s")
                        % {"got": _pct(100 * line.output_share), "want": _pct(100 * expected)}))  # fmt: skip
    if sub.budget and expected >= STARTED_BY:
        share = float((sub.budget_absorbed or 0) / sub.budget)
        if share < expected - LAG:
            out.append(Flag(Problem.LOW_ABSORPTION, _("serapan %(got)s, seharusnya sekitar %(want)s")
                            % {"got": _pct(100 * share), "want": _pct(100 * expected)}))  # fmt: skip
    if expected >= 1.0 and sub.stage != Stage.EVALUATE:
        out.append(Flag(Problem.NO_FOLLOW_UP, _("evaluasi akhir tahun belum dicatat")))
    elif expected >= STARTED_BY:
        last = line.last_follow_up
        if last is None:
            out.append(Flag(Problem.NO_FOLLOW_UP, _("belum ada tindak lanjut")))
        elif (on - (timezone.localtime(last) if timezone.is_aware(last) else last).date()).days > FOLLOW_UP_DAYS:
            out.append(Flag(Problem.NO_FOLLOW_UP, _("tindak lanjut terakhir %(date)s")
                            % {"date": last.strftime("%d-%m-%Y")}))  # fmt: skip
    hit = [v for v in line.villages if unserved.get(v.code)]
    if hit:
        families = sum(unserved[v.code] for v in hit)
        out.append(Flag(Problem.LOCUS_UNSERVED, _("%(n)s keluarga desil 1 tanpa bantuan di %(v)s desa/kelurahan lokus")
                        % {"n": families, "v": len(hit)}))  # fmt: skip
    return out


def evaluation(
    *,
    actor: Actor,
    year: int | None = None,
    organisation: int | None = None,
    strategy: str = "",
    problem: str = "",
    on: date | None = None,
) -> Evaluation:
    """The evaluation of one year's plans (default: this year if planned, else the latest planned year)."""
    if not can_view_evaluation(actor):
        raise PermissionDenied(Permission.VIEW_AGGREGATES)
    on = on or timezone.localdate()
    years = sorted(set(ActionPlan.objects.values_list("year", flat=True)), reverse=True)
    if year not in years:
        year = on.year if on.year in years else (years[0] if years else None)
    elapsed = year_elapsed(year, on) if year else 0.0
    state = snapshot_state(period=str(year) if year else "", planned=False)
    snapshot = state.shown
    subs = list(
        SubActivity.objects.filter(activity__plan__year=year or 0)
        .select_related("activity__plan__organisation", "program")
        .prefetch_related("strategies", "activity__strategies", "villages")
        .order_by("activity__plan__organisation__name", "activity__position", "position", "pk")
    )
    # Ledger figures: the region's row of the year's snapshot; locus villages' own rows for the sub-activities.
    region_detail: dict[str, Any] = {}
    village_rows: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    program_index: dict[int, int] = {}
    if snapshot is not None:
        program_index = {p["id"]: i for i, p in enumerate(snapshot.programs)}
        row = AnalysisArea.objects.filter(snapshot=snapshot, code=settings.TEPAT_REGION).values_list("detail").first()
        region_detail = dict(row[0]) if row else {}
        locus = {v.code for s in subs for v in s.villages.all()}
        village_rows = {
            code: (dict(totals), dict(detail))
            for code, totals, detail in AnalysisArea.objects.filter(snapshot=snapshot, code__in=sorted(locus))
            .values_list("code", "totals", "detail")
        }  # fmt: skip
    unserved = {code: int(t.get("extreme_no_help", 0)) for code, (t, _d) in village_rows.items()}
    recipients_at = ROW_MEASURES.index("recipients")

    def ledger_families(sub: SubActivity, villages: list[Area]) -> int | None:
        index = program_index.get(sub.program_id or 0)
        if index is None:
            return 0 if sub.program_id and snapshot is not None else None
        if villages:
            details = [village_rows[v.code][1] for v in villages if v.code in village_rows]
            return sum(int(d["programs"][index][recipients_at]) for d in details if d.get("programs"))
        return int(region_detail["programs"][index][recipients_at]) if region_detail.get("programs") else None

    lines = []
    for sub in subs:
        villages = list(sub.villages.all())
        line = SubLine(sub, sub.activity.plan.organisation, effective_strategies(sub), villages,
                       ledger_families(sub, villages), _last_follow_up(sub))  # fmt: skip
        if year:
            line.flags = _flags(line, elapsed=elapsed, on=on, year=year, unserved=unserved)
        lines.append(line)

    language = get_language() or "id"
    strategies = {s.code: s for s in Strategy.objects.all()}
    by_strategy = {code: StrategyLine(code=code, short=s.short_label(language), label=s.label(language),
                                      framework=s.framework) for code, s in strategies.items()}  # fmt: skip
    total, untagged = Totals(), Totals()
    for line in lines:
        total.add(line)
        targets: list[Totals] = [by_strategy[c] for c in line.strategies if c in by_strategy]
        for target in targets or [untagged]:
            target.add(line)
    if snapshot is not None and region_detail.get("strategies"):
        for i, code in enumerate(snapshot.strategies):
            if code in by_strategy:
                by_strategy[code].ledger = measure_row(
                    code, by_strategy[code].short, "", region_detail["strategies"][i]
                )

    programs = _program_lines(snapshot, region_detail)
    agencies = _agency_lines(lines, snapshot, region_detail, programs, year)
    loci = _locus_lines(lines, village_rows)
    shown = [
        line for line in lines
        if (not strategy or strategy in line.strategies)
        and (not organisation or line.organisation.pk == organisation)
        and (not problem or problem in line.flag_codes)
    ]  # fmt: skip
    return Evaluation(
        year=year, years=years, on=on, elapsed=elapsed, total=total,
        strategies=[s for s in by_strategy.values() if s.subactivities or (s.ledger and s.ledger.recipients)],
        untagged=untagged, agencies=agencies, subs=shown, all_subs=len(lines), programs=programs, loci=loci,
        state=state, strategy=strategy, organisation=organisation, problem=problem, labels=problem_labels(),
        strategy_short={code: line.short for code, line in by_strategy.items()},
    )  # fmt: skip


def _program_lines(snapshot: Any, region_detail: dict[str, Any]) -> list[ProgramLine]:
    if snapshot is None or not region_detail.get("programs"):
        return []
    out = []
    for meta, values in zip(snapshot.programs, region_detail["programs"], strict=False):
        row = measure_row(meta["code"], meta["name"], funder_label(meta["funder"]), values, has_rule=meta["has_rule"],
                          problem=meta["problem"])  # fmt: skip
        flags = []
        if row.leakage_pct is not None and row.leakage_pct > HIGH_LEAKAGE:
            flags.append(Flag(Problem.LEAKAGE, _("%(pct)s penerima tidak layak atau punya temuan pengecualian")
                              % {"pct": _pct(row.leakage_pct)}))  # fmt: skip
        if row.coverage is not None and row.coverage < LOW_COVERAGE:
            flags.append(Flag(Problem.LOW_COVERAGE, _("cakupan %(pct)s; %(n)s keluarga desil 1 layak belum terjangkau")
                              % {"pct": _pct(row.coverage), "n": row.excluded_extreme}))  # fmt: skip
        out.append(ProgramLine(row, meta["organisation"], meta["organisation_id"], row.detail, flags))
    return out


def _agency_lines(lines: list[SubLine], snapshot: Any, region_detail: dict[str, Any], programs: list[ProgramLine],
                  year: int | None) -> list[AgencyLine]:  # fmt: skip
    """Agencies with a plan this year, owners of programs in this year's ledger, and partners that adopted
    families this year; the TKPK's secretariat and national ministries included, each once."""
    plans = {p.organisation_id: p for p in ActionPlan.objects.filter(year=year or 0).select_related("organisation")}
    agencies: dict[int, AgencyLine] = {
        pk: AgencyLine(organisation=plan.organisation, plan=plan) for pk, plan in plans.items()
    }
    for line in lines:
        agencies[line.organisation.pk].add(line)
    if snapshot is not None and region_detail.get("owners"):
        owners = {o["id"]: i for i, o in enumerate(snapshot.owners)}
        known = {o.pk: o for o in Organisation.objects.filter(pk__in=list(owners))}
        for pk, i in owners.items():
            if pk not in known:
                continue
            entry = agencies.setdefault(pk, AgencyLine(organisation=known[pk]))
            entry.ledger = measure_row(str(pk), known[pk].name, "", region_detail["owners"][i])
    for program in programs:
        if program.owner_id in agencies:
            agencies[program.owner_id].program_flags += len(program.flags)
    adoptions = (
        Adoption.objects.filter(Q(created_at__year=year or 0) | Q(delivered_at__year=year or 0))
        .values("organisation_id")
        .annotate(
            claimed=Count("id", filter=~Q(status=AdoptionStatus.CANCELLED)),
            delivered=Count("id", filter=Q(status=AdoptionStatus.DELIVERED)),
            amount=Sum("amount", filter=Q(status=AdoptionStatus.DELIVERED)),
        )
    )
    partners = {o.pk: o for o in Organisation.objects.filter(pk__in=[a["organisation_id"] for a in adoptions])}
    for row in adoptions:
        entry = agencies.setdefault(row["organisation_id"], AgencyLine(organisation=partners[row["organisation_id"]]))
        entry.adopted, entry.adoptions_delivered = row["claimed"], row["delivered"]
        entry.adoption_amount = row["amount"] or Decimal(0)

    def order(a: AgencyLine) -> tuple[int, int, str]:
        kind = a.organisation.kind if a.organisation else ""
        group = 2 if kind == OrganisationKind.NATIONAL else 1 if kind in PARTNER_KINDS else 0
        return (group, -int(a.budget), a.organisation.name if a.organisation else "")

    return sorted(agencies.values(), key=order)


def _locus_lines(
    lines: list[SubLine], village_rows: dict[str, tuple[dict[str, Any], dict[str, Any]]]
) -> list[LocusLine]:
    """Locus villages with desil-1 families that no program reached, most such families first."""
    subs_of: dict[str, list[SubLine]] = defaultdict(list)
    villages: dict[str, Area] = {}
    for line in lines:
        for village in line.villages:
            subs_of[village.code].append(line)
            villages[village.code] = village
    out = []
    for code, (totals, _detail) in village_rows.items():
        if int(totals.get("extreme_no_help", 0)) and code in villages:
            out.append(LocusLine(villages[code], int(totals.get("families", 0)), int(totals.get("extreme", 0)),
                                 int(totals.get("extreme_no_help", 0)), int(totals.get("poor_no_help", 0)),
                                 subs_of[code]))  # fmt: skip
    return sorted(out, key=lambda v: (-v.extreme_no_help, v.village.code))
