"""The analyses' shared snapshot: computed for the whole region by a background task, read by every page.

A refresh reads every active family of the region and every ledger row of one period (``region_analysis``),
runs tepat.engine.coverage once, and stores what the pages show (``snapshot_compute``):

- ``AnalysisArea``: one row per area — the region, each regency of a province, each district and village, and
  the region's recipients in no village — with the area's counts and its per-program, per-strategy and per-owner
  rows, overlap matrix and distribution. A page reads its area's row and its children's totals: a few indexed
  rows whatever the size of the region, which is what keeps a village page fast right after an import.
- ``AnalysisFamily``: the families on the exclusion, no-help and many-programs lists, as ids in list order.

Pages never compute: they compare the snapshot's ``stamp`` with ``data_stamp()`` (a few indexed look-ups) and,
when the data moved on, show the last snapshot with its date while ``programs.services.analysis_refresh_queue``
queues the refresh. The snapshot is not scoped (it is the region's); readers are (programs.analysis).
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import pyarrow as pa
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from tepat.areas.models import Area, Level
from tepat.areas.selectors import within_q
from tepat.engine.coverage import AREA_MEASURES, PROGRAM_MEASURES, Coverage, Families, Ledger, Programs, analyse
from tepat.programs.eligibility import (
    Eligibility,
    FamilyTable,
    evaluate_programs,
    family_table,
    fields_needed,
    raw_rows,
)
from tepat.programs.models import (
    LATEST_PERIOD,
    NO_VILLAGE,
    REACHED_STATUSES,
    AnalysisArea,
    AnalysisFamily,
    AnalysisSnapshot,
    Benefit,
    BenefitStatus,
    Program,
    SnapshotStatus,
)
from tepat.registry.models import Family, FamilyStatus, VitalStatus

Progress = Callable[[str, int, int], None]

OWNER_TAG = "org:"  # owners ride along as strategy-like tags, so the engine counts each owner's families once
ROW_MEASURES = (*PROGRAM_MEASURES, "amount", "amount_poor")  # one program/strategy/owner row of an area
TOTAL_MEASURES = (*AREA_MEASURES, "amount", "amount_poor")
KEEP_KEYS = 12  # snapshots of this many period choices are kept; older ones are removed after a refresh
RUNNING_FOR_AT_MOST = 3 * 3600  # a snapshot "running" longer than this lost its worker


def statuses(planned: bool) -> list[str]:
    return [s.value for s in (*REACHED_STATUSES, *((BenefitStatus.PLANNED,) if planned else ()))]


def data_stamp() -> str:
    """Changes whenever anything an analysis reads may have changed, from a few indexed look-ups.

    Ledger rows, registry changes and exclusion findings have growing ids; imports, rollbacks and linkage
    (runs, reviewed pairs, undone merges) each write an audit row with the data they change, in the same
    transaction; programs carry their update time (rules, strategy tags, owners), and a ledger status change
    writes a program audit row. Local scores (targeting) can feed program rules.
    """
    from tepat.accounts.models import AuditAction, AuditEvent
    from tepat.registry.models import Change, Exclusion

    def last(queryset: QuerySet[Any], field: str = "id") -> Any:
        return queryset.aggregate(value=Max(field))["value"]

    actions = (AuditAction.IMPORT_COMMIT, AuditAction.IMPORT_ROLLBACK, AuditAction.REGISTRY_CHANGE,
               AuditAction.PROGRAM_CHANGE, AuditAction.TARGETING_SCORES)  # fmt: skip
    parts = [
        last(Benefit.objects.all()),
        last(Change.objects.all()),
        last(Exclusion.objects.all()),
        *(last(AuditEvent.objects.filter(action=action)) for action in actions),
        last(Program.objects.all(), "updated_at"),
        Program.objects.count(),
    ]
    return "|".join("" if p is None else str(p) for p in parts)


def ledger_periods() -> list[str]:
    """Periods in the ledger, newest first, with each year before its periods (the pages' choices)."""
    periods = sorted({p for p in Benefit.objects.values_list("period", flat=True).distinct().order_by() if p},
                     reverse=True)  # fmt: skip
    out: list[str] = []
    for period in periods:
        year = period[:4]
        if year.isdigit() and year not in out:
            out.append(year)
        if period != year:
            out.append(period)
    return out


def latest_year(periods: Sequence[str]) -> str:
    """The default period of the pages: coverage and spending are reported per year."""
    return next((p for p in periods if len(p) == 4 and p.isdigit()), "")


# -- reading the registry --------------------------------------------------------------------------------------------
@dataclass
class Computed:
    """The region's analysis for one period and status choice (not tied to a user)."""

    families: FamilyTable
    programs: list[Program]
    eligibility: Eligibility
    coverage: Coverage
    villages: list[str]
    owners: list[tuple[int, str]]
    seconds: dict[str, float]


def _ledger(families: QuerySet[Family], region: str, period: str, planned: bool, program_ids: dict[int, int],
            table: FamilyTable, village_index: dict[str, int]) -> Ledger:  # fmt: skip
    rows = Benefit.objects.filter(status__in=statuses(planned), program_id__in=list(program_ids))
    if period:
        rows = rows.filter(period__startswith=period)
    # Recipients in the registry: through their one active KK (a partial unique index guarantees one), which
    # must be one of the region's active families.
    matched = rows.filter(
        person__memberships__active=True, person__memberships__family__in=families.values("pk")
    ).values_list("program_id", "person__memberships__family_id", "amount", "person__vital_status")
    # Recipients the registry does not know (or knows without an active KK): by the village the list gave.
    unmatched = (
        rows.filter(within_q(region, field="village__code"))
        .filter(Q(person__isnull=True) | ~Q(person__memberships__active=True))
        .values_list("program_id", "village_id", "amount", "person__vital_status")
    )
    dead = VitalStatus.DECEASED.value
    known = raw_rows(matched)
    unknown = raw_rows(unmatched)
    n_known, n = len(known), len(known) + len(unknown)
    program = np.fromiter((program_ids[r[0]] for r in (*known, *unknown)), dtype=np.int64, count=n)
    amount = np.fromiter((math.nan if r[2] is None else float(r[2]) for r in (*known, *unknown)), dtype=np.float64,
                         count=n)  # fmt: skip
    deceased = np.fromiter((r[3] == dead for r in (*known, *unknown)), dtype=bool, count=n)
    family_index = np.full(n, -1, dtype=np.int64)
    family_index[:n_known] = table.index_of(np.fromiter((r[1] for r in known), dtype=np.int64, count=n_known))
    village = np.full(n, -1, dtype=np.int64)
    village[n_known:] = np.fromiter((village_index.get(r[1] or "", -1) for r in unknown), dtype=np.int64,
                                    count=len(unknown))  # fmt: skip
    return Ledger(program=program, family=family_index, village=village, amount=amount, deceased=deceased)


def region_analysis(*, period: str, planned: bool, progress: Progress | None = None) -> Computed:
    """Every active family and every ledger row of the period in the deployment region, analysed once.

    Not for display as such: the snapshot keeps its aggregates per area and its lists as family ids.
    """
    report = progress or (lambda stage, done, total: None)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    region = settings.TEPAT_REGION
    families = Family.objects.filter(within_q(region, field="village__code"), status=FamilyStatus.ACTIVE)
    used = Benefit.objects.filter(program=OuterRef("pk"), status__in=statuses(planned))
    if period:
        used = used.filter(period__startswith=period)
    programs = list(
        Program.objects.filter(Exists(used), active=True)
        .select_related("organisation")
        .prefetch_related("strategies")
        .order_by("code")
    )
    rules = [p.eligibility_rule for p in programs]
    report("families", 0, 3)
    table = family_table(families, fields=fields_needed(rules))
    villages = list(
        Area.objects.filter(within_q(region), level=Level.VILLAGE).order_by("code").values_list("code", flat=True)
    )
    village_index = {code: i for i, code in enumerate(villages)}
    eligibility = evaluate_programs([p.code for p in programs], rules, table)
    seconds["families"] = time.perf_counter() - start
    report("ledger", 1, 3)
    mark = time.perf_counter()
    ledger = _ledger(families, region, period, planned, {p.pk: i for i, p in enumerate(programs)}, table,
                     village_index)  # fmt: skip
    seconds["ledger"] = time.perf_counter() - mark
    report("analyse", 2, 3)
    mark = time.perf_counter()
    family_village = np.array([village_index.get(v, len(villages)) for v in table.villages.tolist()], dtype=np.int64)
    owners: dict[int, str] = {}
    tags = []
    for p in programs:
        own = [s.code for s in p.strategies.all()]
        if p.organisation_id:
            owners[p.organisation_id] = str(p.organisation)
            own.append(f"{OWNER_TAG}{p.organisation_id}")
        tags.append(tuple(own))
    coverage = analyse(
        Families(village=family_village, desil=table.desil, flagged=table.flagged, villages=villages),
        ledger,
        Programs(codes=[p.code for p in programs], eligible=eligibility.eligible, strategies=tags,
                 has_rule=eligibility.has_rule),
    )  # fmt: skip
    seconds["analyse"] = time.perf_counter() - mark
    slim = FamilyTable(table.ids, np.empty(0, dtype=object), table.desil, table.flagged, pa.table({}))
    return Computed(slim, programs, eligibility, coverage, villages, sorted(owners.items()), seconds)


# -- per-area figures ------------------------------------------------------------------------------------------------
def _village_features(
    cov: Coverage, strategy_rows: list[int], owner_rows: list[int]
) -> tuple[np.ndarray, dict[str, slice]]:
    """Everything an area row holds, per village column, stacked as one (features × columns) array, so every
    level rolls up with one sum per group; ``slices`` says where each part lies."""
    width = len(cov.villages) + 1
    n_prog = len(cov.programs)
    parts: list[tuple[str, np.ndarray]] = []
    totals = np.stack([*(cov.by_area[m] for m in AREA_MEASURES), cov.amount.sum(axis=0), cov.amount_poor.sum(axis=0)])
    parts.append(("totals", totals))

    def rows(measures: dict[str, np.ndarray], amount: np.ndarray, poor: np.ndarray, index: list[int]) -> np.ndarray:
        if not index:
            return np.zeros((0, width))
        stack = np.stack([*(measures[m][index] for m in PROGRAM_MEASURES), amount[index], poor[index]], axis=1)
        return stack.reshape(len(index) * len(ROW_MEASURES), width)  # row-major: one block of measures per row

    parts.append(("programs", rows(cov.by_program, cov.amount, cov.amount_poor, list(range(n_prog)))))
    parts.append(("strategies", rows(cov.by_strategy, cov.strategy_amount, cov.strategy_amount_poor, strategy_rows)))
    parts.append(("owners", rows(cov.by_strategy, cov.strategy_amount, cov.strategy_amount_poor, owner_rows)))
    # Overlaps per village: families on both programs of each pair (diagonal: on the program).
    village = np.where(cov.village >= 0, cov.village, width - 1)
    helped = np.flatnonzero(cov.program_count > 0)
    overlap = np.zeros((n_prog * n_prog, width))
    received = cov.received[:, helped]
    where = village[helped]
    for p in range(n_prog):
        for q in range(p, n_prog):
            both = received[p] & received[q] if q != p else received[p]
            counts = np.bincount(where[both], minlength=width)
            overlap[p * n_prog + q] = counts
            overlap[q * n_prog + p] = counts
    parts.append(("overlap", overlap))
    k = cov.many + 3
    poor = (cov.desil >= 1) & (cov.desil <= cov.poor_max_desil)
    capped = np.minimum(cov.program_count, cov.many + 2).astype(np.int64)
    cell = village * (2 * k) + np.where(poor, 0, k) + capped
    parts.append(("distribution", np.bincount(cell, minlength=width * 2 * k).reshape(width, 2 * k).T))
    slices: dict[str, slice] = {}
    at = 0
    for name, block in parts:
        slices[name] = slice(at, at + block.shape[0])
        at += block.shape[0]
    return np.concatenate([b.astype(np.float64) for _, b in parts], axis=0), slices


def _numbers(values: np.ndarray, money: Sequence[bool]) -> list[float | int]:
    return [round(float(v), 2) if m else round(float(v)) for v, m in zip(values, money, strict=True)]


def _area_payload(column: np.ndarray, slices: dict[str, slice], n_prog: int, n_strat: int, n_owner: int,
                  k: int) -> tuple[dict[str, Any], dict[str, Any]]:  # fmt: skip
    totals_money = [False] * len(AREA_MEASURES) + [True, True]
    row_money = [False] * len(PROGRAM_MEASURES) + [True, True]
    totals = dict(zip(TOTAL_MEASURES, _numbers(column[slices["totals"]], totals_money), strict=True))

    def rows(name: str, count: int) -> list[list[float | int]]:
        block = column[slices[name]].reshape(count, len(ROW_MEASURES)) if count else np.zeros((0, len(ROW_MEASURES)))
        return [_numbers(r, row_money) for r in block]

    detail = {
        "programs": rows("programs", n_prog),
        "strategies": rows("strategies", n_strat),
        "owners": rows("owners", n_owner),
        "overlap": np.rint(column[slices["overlap"]]).astype(np.int64).reshape(n_prog, n_prog).tolist(),
        "distribution": np.rint(column[slices["distribution"]]).astype(np.int64).reshape(2, k).tolist(),
    }
    return totals, detail


def area_rows(
    computed: Computed, strategy_rows: list[int], owner_rows: list[int]
) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(code, parent, totals, detail) of the region, every area below it down to villages, and no-village."""
    cov = computed.coverage
    region = settings.TEPAT_REGION
    features, slices = _village_features(cov, strategy_rows, owner_rows)
    n_vill = len(cov.villages)
    shape = (len(cov.programs), len(strategy_rows), len(owner_rows), cov.many + 3)
    out = [(region, "", *_area_payload(features.sum(axis=1), slices, *shape))]
    if features[:, n_vill].any():
        out.append((NO_VILLAGE, region, *_area_payload(features[:, n_vill], slices, *shape)))
    lengths = [n for n in (5, 8, 13) if n > len(region)]
    for depth, length in enumerate(lengths):
        codes = [v[:length] for v in cov.villages]  # villages are in code order, so each group is contiguous
        starts = [i for i, code in enumerate(codes) if i == 0 or code != codes[i - 1]]
        if not starts:
            continue
        sums = np.add.reduceat(features[:, :n_vill], starts, axis=1)
        parent_length = lengths[depth - 1] if depth else None
        for g, start in enumerate(starts):
            code = codes[start]
            parent = code[:parent_length] if parent_length else region
            out.append((code, parent, *_area_payload(sums[:, g], slices, *shape)))
    return out


# -- the lists -------------------------------------------------------------------------------------------------------
def _flags(matrix: np.ndarray) -> list[str]:
    """One '0'/'1' character per program for each family (column) of a programs × families bool matrix."""
    if matrix.shape[0] == 0:
        return [""] * matrix.shape[1]
    raw = (np.ascontiguousarray(matrix.T).astype(np.uint8) + ord("0")).tobytes()
    width = matrix.shape[0]
    return [raw[i : i + width].decode() for i in range(0, len(raw), width)]


def family_rows(computed: Computed) -> list[tuple[Any, ...]]:
    """(family id, village, district, rank, many rank, poor and no help, excluded, received) of every family on a
    list, ordered as the pages list them."""
    cov = computed.coverage
    poor = (cov.desil >= 1) & (cov.desil <= cov.poor_max_desil)
    no_help = poor & (cov.program_count == 0)
    excluded = cov.eligible & ~cov.received
    many = cov.program_count >= cov.many
    listed = np.flatnonzero(no_help | excluded.any(axis=0) | many)
    desil = np.where(cov.desil[listed] > 0, cov.desil[listed], 99).astype(np.int64)
    count = cov.program_count[listed].astype(np.int64)
    rank = np.empty(len(listed), dtype=np.int64)
    rank[np.lexsort((listed, count, desil))] = np.arange(len(listed))
    many_listed = np.flatnonzero(many[listed])
    many_rank = np.full(len(listed), -1, dtype=np.int64)
    order = np.lexsort((listed[many_listed], -cov.desil[listed][many_listed].astype(np.int64), -count[many_listed]))
    many_rank[many_listed[order]] = np.arange(len(many_listed))
    villages = [*cov.villages, ""]
    ids = computed.families.ids[listed].tolist()
    village = [villages[v] for v in cov.village[listed].tolist()]
    excluded_text = _flags(excluded[:, listed])
    received_text = _flags(cov.received[:, listed])
    return [
        (ids[i], village[i], village[i][:8], int(rank[i]), None if many_rank[i] < 0 else int(many_rank[i]),
         bool(no_help[listed[i]]), excluded_text[i], received_text[i])
        for i in range(len(listed))
    ]  # fmt: skip


FAMILY_COLUMNS = ("snapshot_id", "family_id", "village", "district", "rank", "many_rank", "poor_no_help", "excluded",
                  "received")  # fmt: skip


def _insert(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, chunk: int = 20_000) -> int:
    """Plain tuples into a table: COPY on PostgreSQL, sqlite3's own executemany on SQLite (the ORM's bulk_create
    costs ~150 µs of Python per row, and a province's lists hold hundreds of thousands of families)."""
    names = ", ".join(f'"{c}"' for c in columns)
    written = 0
    batch: list[Sequence[Any]] = []

    def flush() -> None:
        with connection.cursor() as cursor:
            raw = cursor.cursor
            if connection.vendor == "postgresql":
                with raw.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                    for row in batch:
                        copy.write_row(row)
            else:
                marks = ", ".join(["?"] * len(columns))
                sqlite3.Cursor.executemany(raw, f'INSERT INTO "{table}" ({names}) VALUES ({marks})', batch)

    for row in rows:
        batch.append(row)
        if len(batch) >= chunk:
            flush()
            written += len(batch)
            batch = []
    if batch:
        flush()
        written += len(batch)
    return written


# -- the refresh -----------------------------------------------------------------------------------------------------
def _progress(snapshot: AnalysisSnapshot, stage: str, done: int, total: int, progress: Progress | None) -> None:
    if progress:
        progress(stage, done, total)
    snapshot.progress_stage, snapshot.progress_done, snapshot.progress_total = stage, done, total
    AnalysisSnapshot.objects.filter(pk=snapshot.pk).update(progress_stage=stage, progress_done=done,
                                                           progress_total=total)  # fmt: skip


def snapshot_compute(*, snapshot: AnalysisSnapshot, progress: Progress | None = None) -> AnalysisSnapshot:
    """Compute and store one snapshot; the previous one of its period stays readable until this one is done.

    The stamp is read before the data, so data arriving during the computation leave the snapshot stale (and
    refreshed again), never wrongly current.
    """
    started = time.perf_counter()
    snapshot.stamp = data_stamp()
    snapshot.status, snapshot.started_at = SnapshotStatus.RUNNING, timezone.now()
    AnalysisSnapshot.objects.filter(pk=snapshot.pk).update(status=snapshot.status, started_at=snapshot.started_at,
                                                           stamp=snapshot.stamp)  # fmt: skip
    try:
        periods = ledger_periods()
        period = snapshot.period
        if period == LATEST_PERIOD:  # the row keeps its key until done, so a failure stays findable under it
            period = latest_year(periods)
            current = snapshot_latest(period=period, planned=snapshot.planned)
            if current is not None and current.stamp == snapshot.stamp:  # someone refreshed it already
                snapshot.delete()
                return current
        computed = region_analysis(
            period=period,
            planned=snapshot.planned,
            progress=lambda stage, done, total: _progress(snapshot, stage, done, total, progress),
        )
        snapshot.period = period
        _store(snapshot, computed, periods, progress)
        snapshot.summary = {**snapshot.summary, "seconds_total": round(time.perf_counter() - started, 3)}
        AnalysisSnapshot.objects.filter(pk=snapshot.pk).update(summary=snapshot.summary)
    except Exception as exc:  # the row must say it failed; re-raised for the worker's log
        AnalysisSnapshot.objects.filter(pk=snapshot.pk).update(
            status=SnapshotStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    _prune(snapshot)
    return snapshot


def _store(snapshot: AnalysisSnapshot, computed: Computed, periods: list[str], progress: Progress | None) -> None:
    mark = time.perf_counter()
    cov = computed.coverage
    strategy_rows = [i for i, code in enumerate(cov.strategies) if not code.startswith(OWNER_TAG)]
    owner_ids = {f"{OWNER_TAG}{pk}": (pk, name) for pk, name in computed.owners}
    owner_rows = [i for i, code in enumerate(cov.strategies) if code in owner_ids]
    areas = area_rows(computed, strategy_rows, owner_rows)
    lists = family_rows(computed)
    by_program = Benefit.objects.values("program_id").annotate(latest=Max("period"))
    latest = dict(by_program.values_list("program_id", "latest").order_by())
    programs = [
        {"id": p.pk, "code": p.code, "name": p.name, "funder": p.funder, "organisation_id": p.organisation_id,
         "organisation": str(p.organisation or ""), "strategies": [s.code for s in p.strategies.all()],
         "has_rule": computed.eligibility.has_rule[i], "problem": computed.eligibility.problems.get(p.code, ""),
         "latest": latest.get(p.pk, "")}
        for i, p in enumerate(computed.programs)
    ]  # fmt: skip
    computed.seconds["aggregate"] = time.perf_counter() - mark
    _progress(snapshot, "save", 0, len(lists), progress)
    mark = time.perf_counter()
    with transaction.atomic():
        AnalysisArea.objects.bulk_create(
            [AnalysisArea(snapshot=snapshot, code=code, parent=parent, totals=totals, detail=detail)
             for code, parent, totals, detail in areas],
            batch_size=500,
        )  # fmt: skip
        _insert(AnalysisFamily._meta.db_table, FAMILY_COLUMNS, ((snapshot.pk, *row) for row in lists))
        snapshot.status, snapshot.finished_at = SnapshotStatus.DONE, timezone.now()
        snapshot.periods, snapshot.programs = periods, programs
        snapshot.strategies = [cov.strategies[i] for i in strategy_rows]
        snapshot.owners = [{"id": owner_ids[cov.strategies[i]][0], "name": owner_ids[cov.strategies[i]][1]}
                           for i in owner_rows]  # fmt: skip
        computed.seconds["save"] = time.perf_counter() - mark
        snapshot.summary = {
            "families": len(computed.families.ids), "ledger_rows": int(cov.by_program["rows"].sum()),
            "listed": len(lists), "areas": len(areas), "many": cov.many, "poor_max_desil": cov.poor_max_desil,
            "seconds": {k: round(v, 3) for k, v in computed.seconds.items()},
            "latest": {str(pk): period for pk, period in latest.items()},
        }  # fmt: skip
        snapshot.progress_stage, snapshot.progress_done = "done", len(lists)
        snapshot.save()


def _prune(snapshot: AnalysisSnapshot) -> None:
    """Older snapshots of the same period go (their rows with them); so do the oldest period choices beyond
    KEEP_KEYS, and queued or running rows whose worker is gone."""
    done = AnalysisSnapshot.objects.filter(status=SnapshotStatus.DONE)
    older = done.filter(period=snapshot.period, planned=snapshot.planned, finished_at__lt=snapshot.finished_at)
    drop = list(older.values_list("pk", flat=True))
    keys = list(done.exclude(pk__in=drop).order_by("-finished_at").values_list("pk", flat=True))
    drop += keys[KEEP_KEYS:]
    drop += list(
        AnalysisSnapshot.objects.filter(status=SnapshotStatus.FAILED, period=snapshot.period,
                                        planned=snapshot.planned).values_list("pk", flat=True)
    )  # fmt: skip
    if drop:
        AnalysisFamily.objects.filter(snapshot_id__in=drop).delete()
        AnalysisArea.objects.filter(snapshot_id__in=drop).delete()
        AnalysisSnapshot.objects.filter(pk__in=drop).delete()


# -- looking snapshots up --------------------------------------------------------------------------------------------
def snapshot_latest(*, period: str | None = None, planned: bool = False) -> AnalysisSnapshot | None:
    """The newest finished snapshot of a period choice (``period`` None: of any period: the pages' choices)."""
    done = AnalysisSnapshot.objects.filter(status=SnapshotStatus.DONE)
    if period is not None:
        done = done.filter(period=period, planned=planned)
    return done.order_by("-finished_at", "-pk").first()


def snapshot_pending(*, period: str, planned: bool) -> AnalysisSnapshot | None:
    """A queued or running refresh of the period choice (``LATEST_PERIOD`` rows count for the latest year's)."""
    busy = AnalysisSnapshot.objects.filter(planned=planned, status__in=[SnapshotStatus.QUEUED, SnapshotStatus.RUNNING])
    alive = timezone.now() - timedelta(seconds=RUNNING_FOR_AT_MOST)
    busy = busy.exclude(status=SnapshotStatus.RUNNING, started_at__lt=alive)
    latest = latest_year(_known_periods())
    periods = (
        [period, LATEST_PERIOD]
        if period == latest
        else [LATEST_PERIOD, latest]
        if period == LATEST_PERIOD
        else [period]
    )
    return busy.filter(period__in=periods).order_by("-created_at", "-pk").first()


def _known_periods() -> list[str]:
    latest = snapshot_latest()
    return list(latest.periods) if latest is not None else []
