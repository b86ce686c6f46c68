"""The analyses' shared snapshot: computed for the whole region by a background task, read by every page.

A refresh reads every active family of the region and every ledger row of one period (``region_analysis``),
runs tepat.engine.coverage once, and stores what the pages show (``snapshot_compute``):

- ``AnalysisArea``: one row per area — the region, each regency of a province, each district and village, and
  the region's recipients in no village — with the area's counts and its per-program, per-strategy and per-owner
  rows, overlap matrix and distribution. A page reads its area's row and its children's totals: a few indexed
  rows whatever the size of the region, which is what keeps a village page fast right after an import.
- ``AnalysisList``: the families on the exclusion, no-help and many-programs lists, as ids in list order, one
  row of packed records per village (``list_dtype``).

Pages never compute: they compare the snapshot's ``stamp`` with ``data_stamp()`` (a few indexed look-ups) and,
when the data moved on, show the last snapshot with its date while ``programs.services.analysis_refresh_queue``
queues the refresh. The snapshot is not scoped (it is the region's); readers are (programs.analysis).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from django.db import connection, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from tepat.programs.models import (
    LATEST_PERIOD,
    AnalysisArea,
    AnalysisList,
    AnalysisSnapshot,
    Benefit,
    Program,
    SnapshotStatus,
)
from tepat.programs.snapshot.base import (
    KEEP_KEYS,
    OWNER_TAG,
    ROW_MEASURES,
    RUNNING_FOR_AT_MOST,
    Computed,
    Progress,
    statuses,
)
from tepat.programs.snapshot.figures import (
    _write_rows,
    area_lists,
    area_rows,
    flags_of,
    list_dtype,
    list_rows,
    lists_of,
)
from tepat.programs.snapshot.read import _analytic_session, region_analysis

# What the rest of the app reads from here; the parts live in base (shared), read (the registry read and the
# analysis), figures (per-area rows and the lists).
__all__ = [
    "ROW_MEASURES", "data_stamp", "flags_of", "latest_year", "ledger_periods", "list_dtype", "snapshot_compute",
    "snapshot_latest", "snapshot_pending", "statuses",
]  # fmt: skip


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


@dataclass
class LedgerPeriods:
    periods: list[str]  # newest first, each year before its periods (the pages' choices)
    latest: dict[int, str]  # program id -> its latest period


def ledger_periods() -> LedgerPeriods:
    """The ledger's periods and each program's latest, from the distinct (program, period) pairs: on PostgreSQL
    one index probe per pair on the (program, period) index (a loose index scan) rather than a pass over
    millions of rows."""
    if connection.vendor == "postgresql":
        benefit = connection.ops.quote_name(Benefit._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""WITH RECURSIVE pairs AS (
                        (SELECT program_id, period FROM {benefit} ORDER BY program_id, period LIMIT 1)
                        UNION ALL
                        SELECT n.program_id, n.period FROM pairs p, LATERAL (
                            SELECT b.program_id, b.period FROM {benefit} b
                            WHERE (b.program_id, b.period) > (p.program_id, p.period)
                            ORDER BY b.program_id, b.period LIMIT 1) n)
                    SELECT program_id, period FROM pairs"""
            )
            pairs = cursor.fetchall()
    else:
        pairs = list(Benefit.objects.values_list("program_id", "period").distinct().order_by())
    latest: dict[int, str] = {}
    for program, period in pairs:
        if period and period > latest.get(program, ""):
            latest[program] = period
    out: list[str] = []
    for period in sorted({p for _program, p in pairs if p}, reverse=True):
        year = period[:4]
        if year.isdigit() and year not in out:
            out.append(year)
        if period != year:
            out.append(period)
    return LedgerPeriods(out, latest)


def latest_year(periods: Sequence[str]) -> str:
    """The default period of the pages: coverage and spending are reported per year."""
    return next((p for p in periods if len(p) == 4 and p.isdigit()), "")


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
        known = ledger_periods()
        period = snapshot.period
        if period == LATEST_PERIOD:  # the row keeps its key until done, so a failure stays findable under it
            period = latest_year(known.periods)
            current = snapshot_latest(period=period, planned=snapshot.planned)
            if current is not None and current.stamp == snapshot.stamp:  # someone refreshed it already
                snapshot.delete()
                return current
        with _analytic_session():
            computed = region_analysis(
                period=period,
                planned=snapshot.planned,
                progress=lambda stage, done, total: _progress(snapshot, stage, done, total, progress),
            )
        snapshot.period = period
        _store(snapshot, computed, known, progress)
        snapshot.summary = {**snapshot.summary, "seconds_total": round(time.perf_counter() - started, 3)}
        AnalysisSnapshot.objects.filter(pk=snapshot.pk).update(summary=snapshot.summary)
    except Exception as exc:  # the row must say it failed; re-raised for the worker's log
        AnalysisSnapshot.objects.filter(pk=snapshot.pk).update(
            status=SnapshotStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    mark = time.perf_counter()
    _prune(snapshot)  # after the new snapshot is visible: pages do not wait for it
    snapshot.summary["seconds_prune"] = round(time.perf_counter() - mark, 3)
    AnalysisSnapshot.objects.filter(pk=snapshot.pk).update(summary=snapshot.summary)
    return snapshot


def _store(snapshot: AnalysisSnapshot, computed: Computed, known: LedgerPeriods, progress: Progress | None) -> None:
    mark = time.perf_counter()
    cov = computed.coverage
    strategy_rows = [i for i, code in enumerate(cov.strategies) if not code.startswith(OWNER_TAG)]
    owner_ids = {f"{OWNER_TAG}{pk}": (pk, name) for pk, name in computed.owners}
    owner_rows = [i for i, code in enumerate(cov.strategies) if code in owner_ids]
    areas = area_rows(computed, strategy_rows, owner_rows)
    lists = lists_of(cov)
    tops = area_lists(computed, lists)
    for _code, _parent, _totals, detail in areas:
        detail["lists"] = tops.get(_code, {})
    village_lists = list_rows(computed, lists)
    listed = len(lists.listed)
    latest = known.latest
    programs = [
        {"id": p.pk, "code": p.code, "name": p.name, "funder": p.funder, "organisation_id": p.organisation_id,
         "organisation": str(p.organisation or ""), "strategies": [s.code for s in p.strategies.all()],
         "has_rule": computed.eligibility.has_rule[i], "problem": computed.eligibility.problems.get(p.code, ""),
         "latest": latest.get(p.pk, "")}
        for i, p in enumerate(computed.programs)
    ]  # fmt: skip
    computed.seconds["aggregate"] = time.perf_counter() - mark
    _progress(snapshot, "save", 0, listed, progress)
    mark = time.perf_counter()
    with transaction.atomic():
        _write_rows(AnalysisArea, ["snapshot_id", "code", "parent", "totals", "detail"],
                    [(snapshot.pk, code, parent, orjson.dumps(totals).decode(), orjson.dumps(detail).decode())
                     for code, parent, totals, detail in areas])  # fmt: skip
        computed.seconds["save_areas"] = time.perf_counter() - mark
        _write_rows(AnalysisList, ["snapshot_id", "village", "count", "rows"],
                    [(snapshot.pk, code, len(records), records.tobytes())
                     for code, records in village_lists])  # fmt: skip
        snapshot.status, snapshot.finished_at = SnapshotStatus.DONE, timezone.now()
        snapshot.periods, snapshot.programs = known.periods, programs
        snapshot.strategies = [cov.strategies[i] for i in strategy_rows]
        snapshot.owners = [{"id": owner_ids[cov.strategies[i]][0], "name": owner_ids[cov.strategies[i]][1]}
                           for i in owner_rows]  # fmt: skip
        computed.seconds["save"] = time.perf_counter() - mark
        snapshot.summary = {
            "families": len(computed.families.ids), "ledger_rows": int(cov.by_program["rows"].sum()),
            "listed": listed, "areas": len(areas), "many": cov.many, "poor_max_desil": cov.poor_max_desil,
            "seconds": {k: round(v, 3) for k, v in computed.seconds.items()},
            "latest": {str(pk): period for pk, period in latest.items()},
        }  # fmt: skip
        snapshot.progress_stage, snapshot.progress_done = "done", listed
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
        AnalysisList.objects.filter(snapshot_id__in=drop).delete()
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
