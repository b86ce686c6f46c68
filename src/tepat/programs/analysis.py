"""The analyses pages' reads: the region's shared snapshot (programs.snapshot), shown for one area the actor may see.

Pages never compute the analyses: they read the latest finished snapshot of the period asked for — the area's
row, its children's totals and, for the family lists, family ids in list order — and, when the data moved on
since (``data_stamp``), show it with its date while a refresh is queued (``analysis_refresh_queue``). A page
with no snapshot yet says so and polls the refresh's progress.

What a user sees is bounded by the actor's area: the area asked for must lie inside it (else it "does not
exist"), figures shown are that area's rows only, and the family lists are read through the registry's scoped
selector (``family_list(actor=…)``, i.e. ``Family.objects.visible_to``), need VIEW_PERSONS, and come with KK
masked, initials instead of names and no address for users without VIEW_FULL_NIK (partners).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings
from django.utils.translation import get_language

from tepat.accounts.permissions import Permission, PermissionDenied, has_permission, scope_code
from tepat.areas.models import Area, Level
from tepat.areas.selectors import area_path
from tepat.engine.coverage import MANY_PROGRAMS, POOR_MAX_DESIL, ratio
from tepat.programs.models import (
    LATEST_PERIOD,
    NO_VILLAGE,
    REACHED_STATUSES,
    AnalysisArea,
    AnalysisList,
    AnalysisSnapshot,
    BenefitStatus,
    Funder,
    SnapshotStatus,
    Strategy,
)
from tepat.programs.snapshot import ROW_MEASURES, data_stamp, flags_of, latest_year, list_dtype, snapshot_latest
from tepat.registry.selectors import family_list, family_rows

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User

    Actor = User | AnonymousUser

LIST_LIMIT = 50


@dataclass(frozen=True)
class Filters:
    area: str = ""
    period: str = ""  # "" all periods, "2026" a year, "2026-Q3" one period; LATEST_PERIOD: the latest year
    program: str = ""  # code: the exclusion list of this program (else: poor families no program reached)
    strategy: str = ""  # code: program table limited to programs with this tag
    planned: bool = False  # count planned ledger rows as reached too

    @classmethod
    def from_query(cls, query: Any, *, area: str = "") -> Filters:
        def text(name: str, limit: int = 80) -> str:
            return str(query.get(name, "")).strip()[:limit]

        period = text("periode", 20) if "periode" in query else LATEST_PERIOD
        if period != LATEST_PERIOD and not _period_like(period):
            period = LATEST_PERIOD
        return cls(
            area=area or text("wilayah", 13),
            period=period,
            program=text("program"),
            strategy=text("strategi", 40),
            planned=text("rencana") == "1",
        )

    def statuses(self) -> list[str]:
        return [s.value for s in (*REACHED_STATUSES, *((BenefitStatus.PLANNED,) if self.planned else ()))]


def _period_like(text: str) -> bool:
    """ "" (every period), a year or a year with a suffix (2026-Q3, 2026-09): anything else would only make the
    worker compute snapshots nobody can use."""
    return text == "" or (len(text) >= 4 and text[:4].isdigit() and (len(text) == 4 or text[4] == "-"))


def analysis_area(*, actor: Actor, code: str = "") -> Area:
    """The area to analyse: the actor's own area by default; anything outside it does not exist for them."""
    scope = scope_code(actor)
    if scope is None or not has_permission(actor, Permission.VIEW_AGGREGATES):
        raise PermissionDenied(Permission.VIEW_AGGREGATES)
    code = code or scope
    if not (code == scope or code.startswith(scope + ".")):
        raise Area.DoesNotExist
    return Area.objects.get(code=code)


# -- which snapshot a page shows -----------------------------------------------------------------------------------
@dataclass
class SnapshotState:
    """The snapshot shown (None: none yet), whether the data moved on since, and the refresh under way or failed."""

    shown: AnalysisSnapshot | None
    stale: bool = False
    pending: AnalysisSnapshot | None = None
    failed: AnalysisSnapshot | None = None

    @property
    def ready(self) -> bool:
        return self.shown is not None


def snapshot_state(*, period: str, planned: bool = False) -> SnapshotState:
    """The snapshot to show for a period choice, queueing a refresh when it is missing or stale.

    ``period`` LATEST_PERIOD is the ledger's latest year as the last snapshot knew it.
    """
    from tepat.programs.services import analysis_refresh_queue

    if period == LATEST_PERIOD:
        known = snapshot_latest()
        period = latest_year(known.periods) if known is not None and known.periods else LATEST_PERIOD
    shown = snapshot_latest(period=period, planned=planned) if period != LATEST_PERIOD else None
    current = data_stamp()
    if shown is not None and shown.stamp == current:
        return SnapshotState(shown)
    queued = analysis_refresh_queue(period=None if period == LATEST_PERIOD else period, planned=planned)
    if queued.status == SnapshotStatus.DONE and queued.stamp == current:  # an inline task backend
        return SnapshotState(queued)
    state = SnapshotState(shown, stale=shown is not None)
    if queued.status == SnapshotStatus.FAILED:
        state.failed = queued
    elif queued.status != SnapshotStatus.DONE:
        state.pending = queued
    return state


# -- rows for the page and the export ------------------------------------------------------------------------------
@dataclass
class MeasureRow:
    """One line of the program, strategy or owner table (counts of one area)."""

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
    state: SnapshotState
    periods: list[str] = field(default_factory=list)
    programs: list[MeasureRow] = field(default_factory=list)
    strategies: list[MeasureRow] = field(default_factory=list)
    owners: list[MeasureRow] = field(default_factory=list)
    children: list[AreaRow] = field(default_factory=list)
    total: AreaRow | None = None
    overlap_codes: list[str] = field(default_factory=list)
    overlap: list[list[int]] = field(default_factory=list)
    distribution: list[list[int]] = field(default_factory=list)
    many: int = MANY_PROGRAMS
    poor_max_desil: int = POOR_MAX_DESIL
    problems: dict[str, str] = field(default_factory=dict)
    strategy_choices: list[tuple[str, str]] = field(default_factory=list)
    program_choices: list[tuple[str, str]] = field(default_factory=list)
    excluded: list[FamilyLine] = field(default_factory=list)
    excluded_total: int = 0
    many_families: list[FamilyLine] = field(default_factory=list)
    many_total: int = 0
    can_list: bool = False
    show_address: bool = False
    list_program: str = ""

    @property
    def snapshot(self) -> AnalysisSnapshot | None:
        return self.state.shown


def measure_row(key: str, label: str, detail: str, values: Sequence[float], *, has_rule: bool = True,
                problem: str = "") -> MeasureRow:  # fmt: skip
    """A row of a snapshot's per-program/strategy/owner table (``ROW_MEASURES`` order) as the pages show it."""
    numbers = dict(zip(ROW_MEASURES, values, strict=True))
    counts: dict[str, Any] = {n: int(v) for n, v in numbers.items() if n not in ("amount", "amount_poor")}
    return MeasureRow(key=key, label=label, detail=detail, has_rule=has_rule, **counts, problem=problem,
                      amount=float(numbers["amount"]), amount_poor=float(numbers["amount_poor"]))  # fmt: skip


def area_row(code: str, label: str, totals: dict[str, Any]) -> AreaRow:
    names = ("families", "poor", "extreme", "reached_any", "poor_reached", "poor_no_help", "extreme_no_help", "many",
             "many_not_poor")  # fmt: skip
    counts: dict[str, Any] = {n: int(totals.get(n, 0)) for n in names}
    return AreaRow(code=code, label=label, **counts,
                   amount=float(totals.get("amount", 0)), amount_poor=float(totals.get("amount_poor", 0)))  # fmt: skip


def strategy_labels(codes: Sequence[str]) -> dict[str, tuple[str, str]]:
    language = get_language() or "id"
    found = {s.code: s for s in Strategy.objects.filter(code__in=list(codes))}
    return {c: (found[c].short_label(language), found[c].label(language)) if c in found else (c, c) for c in codes}


def funder_label(code: str) -> str:
    return str(Funder(code).label) if code in Funder.values else code


def area_detail(snapshot: AnalysisSnapshot, code: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(totals, detail) of one area of a snapshot; zeros for an area the snapshot does not know."""
    row = AnalysisArea.objects.filter(snapshot=snapshot, code=code).values_list("totals", "detail").first()
    return (dict(row[0]), dict(row[1])) if row else ({}, {})


def analysis_view(*, actor: Actor, filters: Filters) -> AnalysisView:
    area = analysis_area(actor=actor, code=filters.area)
    state = snapshot_state(period=filters.period, planned=filters.planned)
    crumbs = [a for a in area_path(area) if len(a.code) >= len(scope_code(actor) or "")]
    snapshot = state.shown
    if snapshot is None:
        return AnalysisView(area=area, crumbs=crumbs, filters=filters, state=state)
    filters = replace(filters, period=snapshot.period)
    totals, detail = area_detail(snapshot, area.code)
    programs = snapshot.programs
    codes = [p["code"] for p in programs]
    problems = {p["code"]: p["problem"] for p in programs if p["problem"]}
    program_values = detail.get("programs") or [[0] * len(ROW_MEASURES)] * len(programs)
    program_rows = [
        measure_row(p["code"], p["name"], funder_label(p["funder"]), program_values[i], has_rule=p["has_rule"],
                    problem=p["problem"])
        for i, p in enumerate(programs)
        if not filters.strategy or filters.strategy in p["strategies"]
    ]  # fmt: skip
    labels = strategy_labels(snapshot.strategies)
    strategy_values = detail.get("strategies") or [[0] * len(ROW_MEASURES)] * len(snapshot.strategies)
    strategy_rows = [measure_row(c, *labels[c], strategy_values[i]) for i, c in enumerate(snapshot.strategies)]
    owner_values = detail.get("owners") or [[0] * len(ROW_MEASURES)] * len(snapshot.owners)
    owner_rows = [measure_row(str(o["id"]), o["name"], "", owner_values[i]) for i, o in enumerate(snapshot.owners)]
    view = AnalysisView(
        area=area,
        crumbs=crumbs,
        filters=filters,
        state=state,
        periods=list(snapshot.periods),
        programs=program_rows,
        strategies=strategy_rows,
        owners=owner_rows,
        children=_children(snapshot, area),
        total=area_row(area.code, area.label, totals),
        overlap_codes=codes,
        overlap=detail.get("overlap") or [[0] * len(codes) for _ in codes],
        distribution=detail.get("distribution") or [],
        many=int(snapshot.summary.get("many", MANY_PROGRAMS)),
        poor_max_desil=int(snapshot.summary.get("poor_max_desil", POOR_MAX_DESIL)),
        problems=problems,
        strategy_choices=[(c, labels[c][1]) for c in snapshot.strategies],
        program_choices=[(p["code"], p["name"]) for p in programs],
    )
    if has_permission(actor, Permission.VIEW_PERSONS):
        view.can_list = True
        view.show_address = has_permission(actor, Permission.VIEW_FULL_NIK)
        index = codes.index(filters.program) if filters.program in codes else None
        view.list_program = filters.program if index is not None else ""
        lists = detail.get("lists") or {}
        excluded_at = ROW_MEASURES.index("excluded")
        view.excluded_total = (
            int(program_values[index][excluded_at]) if index is not None else int(totals.get("poor_no_help", 0))
        )
        view.many_total = int(totals.get("many", 0))
        excluded = lists.get("none" if index is None else f"p{index}", [])
        view.excluded = family_lines(actor=actor, snapshot=snapshot, listed=[(f, r) for f, r in excluded[:LIST_LIMIT]])
        view.many_families = family_lines(actor=actor, snapshot=snapshot,
                                          listed=[(f, r) for f, r in lists.get("many", [])[:LIST_LIMIT]])  # fmt: skip
    return view


def _children(snapshot: AnalysisSnapshot, area: Area) -> list[AreaRow]:
    if area.level == Level.VILLAGE:
        return []
    rows = list(AnalysisArea.objects.filter(snapshot=snapshot, parent=area.code).values_list("code", "totals"))
    names = {a.code: a for a in Area.objects.filter(code__in=[c for c, _ in rows])}
    out = []
    for code, totals in sorted(rows, key=lambda r: (r[0] == NO_VILLAGE, r[0])):
        if code == NO_VILLAGE:
            out.append(area_row("", "—", totals))
            continue
        row = area_row(code, names[code].label if code in names else code, totals)
        row.has_children = len(code) < 13
        out.append(row)
    return out


# -- the family lists ---------------------------------------------------------------------------------------------
def _listed_in(snapshot: AnalysisSnapshot, area: Area) -> np.ndarray:
    """The listed families of an area in list order, as ``list_dtype`` records (exports; a page reads the area's
    first families from its snapshot row): the rows of its villages, merged by rank."""
    rows = AnalysisList.objects.filter(snapshot=snapshot)
    if len(area.code) == 13:
        rows = rows.filter(village=area.code)
    elif area.code != settings.TEPAT_REGION:
        rows = rows.filter(village__startswith=area.code + ".")
    dtype = list_dtype(len(snapshot.programs))
    parts = [np.frombuffer(data, dtype=dtype) for data in rows.values_list("rows", flat=True)]
    if not parts:
        return np.zeros(0, dtype=dtype)
    records = np.concatenate(parts)
    return records[np.argsort(records["rank"], kind="stable")]


def _pairs(records: np.ndarray, programs: int) -> list[tuple[int, str]]:
    """(family id, '0'/'1' per program for the programs it received) of each record."""
    received = flags_of(records["received"], programs)
    raw = (received.astype(np.uint8) + ord("0")).tobytes()
    codes = [raw[i * programs : (i + 1) * programs].decode() for i in range(len(records))]
    return list(zip(records["family"].tolist(), codes, strict=True))


def excluded_listed(snapshot: AnalysisSnapshot, area: Area, program: int | None) -> list[tuple[int, str]]:
    """(family id, received) of the area's families eligible for the program and not reached by it (program None:
    poor families no program reached), extreme poor first, then by desil, then fewest programs."""
    records = _listed_in(snapshot, area)
    programs = len(snapshot.programs)
    if program is None:
        keep = records["no_help"] > 0
    else:
        keep = flags_of(records["excluded"], programs)[:, program]
    return _pairs(records[keep], programs)


def many_listed(snapshot: AnalysisSnapshot, area: Area) -> list[tuple[int, str]]:
    """(family id, received) of the area's families on many programs, most programs first, the least poor first
    among equals."""
    records = _listed_in(snapshot, area)
    records = records[records["many_rank"] >= 0]
    return _pairs(records[np.argsort(records["many_rank"], kind="stable")], len(snapshot.programs))


def listed_chunks(listed: Sequence[tuple[int, str]], size: int = 5000) -> Iterator[list[tuple[int, str]]]:
    """(family id, received) of a whole list in order, a chunk at a time (exports)."""
    for start in range(0, len(listed), size):
        yield list(listed[start : start + size])


def initials(name: str) -> str:
    """ "Ahmad Fauzi" → "A. F.": enough for a partner's field officer to confirm a family, not to look it up."""
    return " ".join(f"{part[0]}." for part in name.split() if part[:1].isalpha()).upper()


def family_lines(*, actor: Actor, snapshot: AnalysisSnapshot, listed: Sequence[tuple[int, str]]) -> list[FamilyLine]:
    """Families of a list, in its order, as the actor may see them: read through the registry's scoped selector
    (a family outside the actor's area or no longer active is left out), KK masked, initials and no address for
    users without VIEW_FULL_NIK."""
    pairs = list(listed)
    if not pairs:
        return []
    ids = [pk for pk, _received in pairs]
    families = list(family_list(actor=actor).filter(pk__in=ids))
    rows = {r["pk"]: r for r in family_rows(actor=actor, families=families)}
    full = has_permission(actor, Permission.VIEW_FULL_NIK)
    codes = [p["code"] for p in snapshot.programs]
    out = []
    for pk, received in pairs:
        row = rows.get(pk)
        if row is None:
            continue
        out.append(
            FamilyLine(pk=pk, kk=row["kk"], head_name=row["head_name"] if full else initials(row["head_name"]),
                       village=row["village"], address=row["address"] if full else "", desil=row["desil"],
                       members=row["members"], programs=[c for c, flag in zip(codes, received, strict=False)
                                                         if flag == "1"])
        )  # fmt: skip
    return out
