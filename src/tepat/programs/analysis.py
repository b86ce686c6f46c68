"""The analyses page's reads: the region's ledger and families through tepat.engine.coverage, sliced per area.

The analysis is computed once for the deployment region (every active family, every ledger row of the period)
and kept in a small per-process cache under a stamp of the data it read (`data_stamp`): the first page after an
import pays for the refresh, every other page — any district or village — sums the village columns it covers.
That is what makes a village page fast: counts are kept per village, and a village is one column.

What a user sees is bounded by the actor's area: the area asked for must lie inside it (else it "does not
exist"), counts shown are aggregates of that area only, and the family lists (exclusion, many programs) are read
through the registry's scoped selectors (``family_list(actor=…)``, i.e. ``Family.objects.visible_to``), need
VIEW_PERSONS, and come with NIK/KK masked and no address for users without VIEW_FULL_NIK (partners).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pyarrow as pa
from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import get_language

from tepat.accounts.permissions import Permission, PermissionDenied, has_permission, scope_code
from tepat.areas.models import Area, Level
from tepat.areas.selectors import area_path, within_q
from tepat.engine.coverage import Coverage, Families, Ledger, Programs, analyse, ratio
from tepat.programs.eligibility import (
    Eligibility,
    FamilyTable,
    evaluate_programs,
    family_table,
    fields_needed,
    raw_rows,
)
from tepat.programs.models import REACHED_STATUSES, Benefit, BenefitStatus, Program, Strategy
from tepat.registry.models import Family, FamilyStatus, VitalStatus
from tepat.registry.selectors import family_list, family_rows

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User

    Actor = User | AnonymousUser

LIST_LIMIT = 50
CHILD_LEVEL = {Level.PROVINCE: 5, Level.REGENCY: 8, Level.DISTRICT: 13}


@dataclass(frozen=True)
class Filters:
    area: str = ""
    period: str = ""  # "" all periods, "2026" a year, "2026-Q3" one period
    program: str = ""  # code: the exclusion list of this program (else: poor families no program reached)
    strategy: str = ""  # code: program table limited to programs with this tag
    planned: bool = False  # count planned ledger rows as reached too

    @classmethod
    def from_query(cls, query: Any, *, area: str = "") -> Filters:
        def text(name: str, limit: int = 80) -> str:
            return str(query.get(name, "")).strip()[:limit]

        return cls(
            area=area or text("wilayah", 13),
            period=text("periode", 20),
            program=text("program"),
            strategy=text("strategi", 40),
            planned=text("rencana") == "1",
        )

    def statuses(self) -> list[str]:
        return [s.value for s in (*REACHED_STATUSES, *((BenefitStatus.PLANNED,) if self.planned else ()))]


def analysis_area(*, actor: Actor, code: str = "") -> Area:
    """The area to analyse: the actor's own area by default; anything outside it does not exist for them."""
    scope = scope_code(actor)
    if scope is None or not has_permission(actor, Permission.VIEW_AGGREGATES):
        raise PermissionDenied(Permission.VIEW_AGGREGATES)
    code = code or scope
    if not (code == scope or code.startswith(scope + ".")):
        raise Area.DoesNotExist
    return Area.objects.get(code=code)


def data_stamp() -> tuple[Any, ...]:
    """Changes whenever anything an analysis reads may have changed, from a few indexed look-ups.

    Ledger rows and families arrive and leave through import batches (committed, rolled back), later changes of
    registry values are Change rows, exclusion findings have their own ids, programs their update time, and a
    ledger status change writes a program audit row. Analyses are cached under this stamp, so a page shows new
    data as soon as it exists and costs a query or two while nothing changed.
    """
    from django.db.models import Max

    from tepat.accounts.models import AuditEvent
    from tepat.intake.models import ImportBatch
    from tepat.programs.access import AUDIT_PROGRAM
    from tepat.registry.models import Change, Exclusion

    def last(queryset: QuerySet[Any], field: str = "id") -> Any:
        return queryset.aggregate(value=Max(field))["value"]

    return (
        last(Benefit.objects.all()),
        last(Change.objects.all()),
        last(Exclusion.objects.all()),
        last(ImportBatch.objects.all()),
        last(ImportBatch.objects.all(), "rolled_back_at"),
        last(Program.objects.all(), "updated_at"),
        last(AuditEvent.objects.filter(action=AUDIT_PROGRAM)),
        Program.objects.count(),
    )


class _Cache:
    """A few recent analyses per process, keyed by what they depend on (not by user: the area decides)."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self.items: dict[tuple[Any, ...], Any] = {}

    def get(self, key: tuple[Any, ...]) -> Any:
        value = self.items.pop(key, None)
        if value is not None:
            self.items[key] = value  # most recent last
        return value

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        self.items.pop(key, None)
        self.items[key] = value
        while len(self.items) > self.size:
            self.items.pop(next(iter(self.items)))

    def clear(self) -> None:
        self.items.clear()


CACHE = _Cache(size=6)


def ledger_periods(stamp: tuple[Any, ...] | None = None) -> list[str]:
    """Periods in the ledger, newest first, with each year before its periods (choices, not personal data)."""
    key = ("periods", stamp or data_stamp())
    cached = CACHE.get(key)
    if cached is not None:
        return list(cached)
    periods = sorted(set(Benefit.objects.values_list("period", flat=True).distinct()), reverse=True)
    out: list[str] = []
    for period in periods:
        year = period[:4]
        if year.isdigit() and year not in out:
            out.append(year)
        if period != year:
            out.append(period)
    CACHE.put(key, out)
    return list(out)


def default_period() -> str:
    """The latest year in the ledger: coverage and spending are reported per year."""
    years = [p for p in ledger_periods() if len(p) == 4 and p.isdigit()]
    return years[0] if years else ""


@dataclass
class Computed:
    """The region's analysis for one period and status choice (not tied to a user)."""

    families: FamilyTable
    programs: list[Program]
    eligibility: Eligibility
    coverage: Coverage
    villages: list[str]


@dataclass
class AreaSlice:
    """One area of a region's analysis: the village columns it covers and its families."""

    area: Area
    computed: Computed
    columns: np.ndarray

    @property
    def coverage(self) -> Coverage:
        return self.computed.coverage


def _ledger(families: QuerySet[Family], region: str, filters: Filters, program_ids: dict[int, int],
            table: FamilyTable, village_index: dict[str, int]) -> Ledger:  # fmt: skip
    rows = Benefit.objects.filter(status__in=filters.statuses(), program_id__in=list(program_ids))
    if filters.period:
        rows = rows.filter(period__startswith=filters.period)
    # Recipients in the registry: through their one active KK (a partial unique index guarantees one), which
    # must be one of the region's active families.
    matched = rows.filter(
        person__memberships__active=True, person__memberships__family__in=families.values("pk")
    ).values_list("program_id", "person__memberships__family_id", "village_id", "amount", "person__vital_status")
    # Recipients the registry does not know (or knows without an active KK): by the village the list gave.
    unmatched = (
        rows.filter(within_q(region, field="village__code"))
        .filter(Q(person__isnull=True) | ~Q(person__memberships__active=True))
        .values_list("program_id", "village_id", "amount", "person__vital_status")
    )
    dead = VitalStatus.DECEASED.value
    known = raw_rows(matched)
    unknown = raw_rows(unmatched)
    lines = [(program_ids[p], f, -1, v, vital == dead) for p, f, _village, v, vital in known]
    lines += [(program_ids[p], -1, village_index.get(vid or "", -1), v, vital == dead) for p, vid, v, vital in unknown]
    program = [r[0] for r in lines]
    village = [r[2] for r in lines]
    amount = [math.nan if r[3] is None else float(r[3]) for r in lines]
    deceased = [r[4] for r in lines]
    family_index = np.full(len(lines), -1, dtype=np.int64)
    family_index[: len(known)] = table.index_of(np.fromiter((r[1] for r in known), dtype=np.int64, count=len(known)))
    return Ledger(
        program=np.asarray(program, dtype=np.int64),
        family=family_index,
        village=np.asarray(village, dtype=np.int64),
        amount=np.asarray(amount, dtype=np.float64),
        deceased=np.asarray(deceased, dtype=bool),
    )


def region_analysis(filters: Filters) -> Computed:
    """The deployment region's analysis for the filters' period and statuses, from the cache while data are
    unchanged. Not for display as such: callers slice it to an area the actor may see (``coverage_compute``)."""
    key = ("coverage", filters.period, filters.planned, data_stamp())
    cached = CACHE.get(key)
    if cached is not None:
        return cast(Computed, cached)
    region = settings.TEPAT_REGION
    families = Family.objects.filter(within_q(region, field="village__code"), status=FamilyStatus.ACTIVE)
    used = Benefit.objects.filter(program=OuterRef("pk"), status__in=filters.statuses())
    if filters.period:
        used = used.filter(period__startswith=filters.period)
    programs = list(
        Program.objects.filter(Exists(used), active=True)
        .select_related("organisation")
        .prefetch_related("strategies")
        .order_by("code")
    )
    rules = [p.eligibility_rule for p in programs]
    table = family_table(families, fields=fields_needed(rules))
    villages = list(
        Area.objects.filter(within_q(region), level=Level.VILLAGE).order_by("code").values_list("code", flat=True)
    )
    village_index = {code: i for i, code in enumerate(villages)}
    eligibility = evaluate_programs([p.code for p in programs], rules, table)
    ledger = _ledger(families, region, filters, {p.pk: i for i, p in enumerate(programs)}, table, village_index)
    family_village = np.array([village_index.get(v, -1) for v in table.villages.tolist()], dtype=np.int64)
    coverage = analyse(
        Families(village=family_village, desil=table.desil, flagged=table.flagged, villages=villages),
        ledger,
        Programs(
            codes=[p.code for p in programs],
            eligible=eligibility.eligible,
            strategies=[tuple(s.code for s in p.strategies.all()) for p in programs],
            has_rule=eligibility.has_rule,
        ),
    )
    # Kept: the family ids (lists look families up by them); dropped: the rule columns and village codes, which a
    # province's million families would otherwise hold in memory for every cached period.
    slim = FamilyTable(table.ids, np.empty(0, dtype=object), table.desil, table.flagged, pa.table({}))
    computed = Computed(slim, programs, eligibility, coverage, villages)
    CACHE.put(key, computed)
    return computed


def coverage_compute(*, actor: Actor, filters: Filters) -> AreaSlice:
    """The analysis of the area the actor asked for. Raises PermissionDenied / Area.DoesNotExist."""
    area = analysis_area(actor=actor, code=filters.area)
    computed = region_analysis(filters)
    columns = computed.coverage.columns_within(area.code, region=area.code == settings.TEPAT_REGION)
    return AreaSlice(area, computed, columns)


# -- rows for the page and the export ------------------------------------------------------------------------------
@dataclass
class MeasureRow:
    """One line of the program or strategy table (counts summed over the area)."""

    key: str
    label: str
    detail: str
    has_rule: bool
    eligible: int
    reached: int
    recipients: int
    not_eligible: int
    flagged: int
    leakage: int
    excluded: int
    excluded_extreme: int
    rows: int
    unmatched: int
    deceased: int
    amount: float
    amount_poor: float
    problem: str = ""

    @property
    def coverage(self) -> float | None:
        return ratio(self.reached, self.eligible) if self.has_rule else None

    @property
    def leakage_pct(self) -> float | None:
        return ratio(self.leakage, self.recipients)

    @property
    def poor_share(self) -> float | None:
        return ratio(self.amount_poor, self.amount)


@dataclass
class AreaRow:
    code: str
    label: str
    families: int
    poor: int
    extreme: int
    reached_any: int
    poor_reached: int
    poor_no_help: int
    extreme_no_help: int
    many: int
    many_not_poor: int
    amount: float
    amount_poor: float
    has_children: bool = False

    @property
    def poor_coverage(self) -> float | None:
        return ratio(self.poor_reached, self.poor)

    @property
    def per_poor_family(self) -> float | None:
        return self.amount_poor / self.poor if self.poor else None


@dataclass
class FamilyLine:
    pk: int
    kk: str
    head_name: str
    village: str
    address: str
    desil: int | None
    members: int
    programs: list[str]


@dataclass
class AnalysisView:
    area: Area
    crumbs: list[Area]
    filters: Filters
    periods: list[str]
    programs: list[MeasureRow]
    strategies: list[MeasureRow]
    children: list[AreaRow]
    total: AreaRow
    overlap_codes: list[str]
    overlap: list[list[int]]
    distribution: list[list[int]]
    many: int
    poor_max_desil: int
    problems: dict[str, str]
    strategy_choices: list[tuple[str, str]]
    program_choices: list[tuple[str, str]]
    excluded: list[FamilyLine] = field(default_factory=list)
    excluded_total: int = 0
    many_families: list[FamilyLine] = field(default_factory=list)
    many_total: int = 0
    can_list: bool = False
    show_address: bool = False
    list_program: str = ""


def _measure_rows(
    keys: Sequence[str],
    labels: Sequence[tuple[str, str]],
    table: dict[str, np.ndarray],
    amount: np.ndarray,
    amount_poor: np.ndarray | None,
    has_rule: Sequence[bool],
    problems: dict[str, str],
) -> list[MeasureRow]:
    """One row per program or strategy; every array already limited to the area's village columns."""
    out = []
    for i, key in enumerate(keys):
        totals = {name: int(values[i].sum()) for name, values in table.items()}
        out.append(
            MeasureRow(
                key=key, label=labels[i][0], detail=labels[i][1], has_rule=has_rule[i], **totals,
                amount=float(amount[i].sum()), problem=problems.get(key, ""),
                amount_poor=float(amount_poor[i].sum()) if amount_poor is not None else 0.0,
            )
        )  # fmt: skip
    return out


def _area_row(code: str, label: str, by_area: dict[str, np.ndarray], amount: float, amount_poor: float,
              column: np.ndarray) -> AreaRow:  # fmt: skip
    def total(name: str) -> int:
        return int(np.asarray(by_area[name])[column].sum())

    return AreaRow(
        code=code, label=label, amount=amount, amount_poor=amount_poor, families=total("families"),
        poor=total("poor"), extreme=total("extreme"), reached_any=total("reached_any"),
        poor_reached=total("poor_reached"), poor_no_help=total("poor_no_help"),
        extreme_no_help=total("extreme_no_help"), many=total("many"), many_not_poor=total("many_not_poor"),
    )  # fmt: skip


def strategy_labels(codes: Sequence[str]) -> dict[str, tuple[str, str]]:
    language = get_language() or "id"
    found = {s.code: s for s in Strategy.objects.filter(code__in=list(codes))}
    return {c: (found[c].short_label(language), found[c].label(language)) if c in found else (c, c) for c in codes}


def analysis_view(*, actor: Actor, filters: Filters) -> AnalysisView:
    piece = coverage_compute(actor=actor, filters=filters)
    computed, cov, area, cols = piece.computed, piece.coverage, piece.area, piece.columns
    programs = computed.programs
    keep = [
        i
        for i, p in enumerate(programs)
        if not filters.strategy or filters.strategy in {s.code for s in p.strategies.all()}
    ]
    program_rows = _measure_rows(
        [programs[i].code for i in keep],
        [(programs[i].name, programs[i].get_funder_display()) for i in keep],
        {name: values[keep][:, cols] for name, values in cov.by_program.items()},
        cov.amount[keep][:, cols],
        cov.amount_poor[keep][:, cols],
        [computed.eligibility.has_rule[i] for i in keep],
        computed.eligibility.problems,
    )
    labels = strategy_labels(cov.strategies)
    strategy_rows = _measure_rows(
        cov.strategies,
        [labels[c] for c in cov.strategies],
        {name: values[:, cols] for name, values in cov.by_strategy.items()},
        cov.strategy_amount[:, cols],
        cov.strategy_amount_poor[:, cols],
        [True] * len(cov.strategies),
        {},
    )
    amount_by_village = cov.amount.sum(axis=0)
    poor_by_village = cov.amount_poor.sum(axis=0)
    total = _area_row(area.code, area.label, cov.by_area, float(amount_by_village[cols].sum()),
                      float(poor_by_village[cols].sum()), cols)  # fmt: skip
    children: list[AreaRow] = []
    child_length = CHILD_LEVEL.get(Level(area.level))
    if child_length:
        codes, mapping = cov.groups(child_length)
        names = {a.code: a for a in Area.objects.filter(code__in=codes)}
        inside = np.zeros(len(mapping), dtype=bool)
        inside[cols] = True
        for g, code in enumerate(codes):
            columns = np.flatnonzero((mapping == g) & inside)
            if not len(columns):
                continue
            if not code:
                if not cov.by_area["families"][columns].sum() and not amount_by_village[columns].sum():
                    continue
                label = "—"
            else:
                label = names[code].label if code in names else code
            row = _area_row(code, label, cov.by_area, float(amount_by_village[columns].sum()),
                            float(poor_by_village[columns].sum()), columns)  # fmt: skip
            row.has_children = bool(code) and len(code) < 13
            children.append(row)
    view = AnalysisView(
        area=area,
        crumbs=[a for a in area_path(area) if len(a.code) >= len(scope_code(actor) or "")],
        filters=filters,
        periods=ledger_periods(),
        programs=program_rows,
        strategies=strategy_rows,
        children=children,
        total=total,
        overlap_codes=cov.programs,
        overlap=cov.overlap_within(cols).tolist(),
        distribution=cov.distribution_within(cols).tolist(),
        many=cov.many,
        poor_max_desil=cov.poor_max_desil,
        problems=computed.eligibility.problems,
        strategy_choices=[(c, labels[c][1]) for c in cov.strategies],
        program_choices=[(p.code, p.name) for p in programs],
    )
    if has_permission(actor, Permission.VIEW_PERSONS):
        view.can_list = True
        view.show_address = has_permission(actor, Permission.VIEW_FULL_NIK)
        program_index = cov.programs.index(filters.program) if filters.program in cov.programs else None
        view.list_program = filters.program if program_index is not None else ""
        excluded = cov.excluded_families(program_index, villages=cols)
        many = cov.many_program_families(villages=cols)
        view.excluded_total, view.many_total = len(excluded), len(many)
        view.excluded = family_lines(actor=actor, computed=computed, indices=excluded[:LIST_LIMIT])
        view.many_families = family_lines(actor=actor, computed=computed, indices=many[:LIST_LIMIT])
    return view


def family_lines(*, actor: Actor, computed: Computed, indices: np.ndarray) -> list[FamilyLine]:
    """Families by engine index, in that order, as the actor may see them (masked KK, no address for partners)."""
    if not len(indices):
        return []
    ids = computed.families.ids[indices].tolist()
    families = {f.pk: f for f in family_list(actor=actor).filter(pk__in=ids)}
    rows = {r["pk"]: r for r in family_rows(actor=actor, families=list(families.values()))}
    full = has_permission(actor, Permission.VIEW_FULL_NIK)
    codes = computed.coverage.programs
    out = []
    for index, pk in zip(indices.tolist(), ids, strict=True):
        row = rows.get(pk)
        if row is None:
            continue
        received = computed.coverage.received[:, index]
        out.append(
            FamilyLine(pk=pk, kk=row["kk"], head_name=row["head_name"], village=row["village"],
                       address=row["address"] if full else "", desil=row["desil"], members=row["members"],
                       programs=[codes[p] for p in np.flatnonzero(received).tolist()])
        )  # fmt: skip
    return out
