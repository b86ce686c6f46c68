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

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Exists, Max, OuterRef, QuerySet
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
    person_families,
    sql_columns,
    sql_numbers,
)
from tepat.programs.models import (
    LATEST_PERIOD,
    NO_VILLAGE,
    REACHED_STATUSES,
    AnalysisArea,
    AnalysisList,
    AnalysisSnapshot,
    Benefit,
    BenefitStatus,
    Program,
    SnapshotStatus,
)
from tepat.registry.models import Family, FamilyStatus, Membership, Person, VitalStatus

Progress = Callable[[str, int, int], None]
T = TypeVar("T")

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


@dataclass
class LedgerPairs:
    """The ledger as the engine reads it, one line per program and recipient family (or per program and village
    for recipients the registry does not know), with how many ledger rows and rows paid to the dead each stands
    for: a province's five million rows become a few hundred thousand lines (``_ledger``)."""

    ledger: Ledger
    rows: np.ndarray  # ledger rows per line
    dead: np.ndarray  # of them paid to a person recorded as deceased


def _ledger_where(period: str, planned: bool, program_ids: Sequence[int]) -> tuple[list[str], list[Any]]:
    chosen = statuses(planned)
    where = [f"b.status IN ({', '.join(['%s'] * len(chosen))})",
             f"b.program_id IN ({', '.join(['%s'] * len(program_ids))})"]  # fmt: skip
    params: list[Any] = [*chosen, *program_ids]
    if period:
        where.append("b.period LIKE %s ESCAPE '!'")
        params.append(period.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%")
    return where, params


PERSON_BITS = 1 << 40


def _ledger_rows(period: str, planned: bool, program_ids: Sequence[int]) -> list[np.ndarray]:
    """Every ledger row of the period as (program id, person id or 0, amount or NaN), and the village codes the
    lists gave for the rows without a person ("" for none), in their order: one scan of the ledger.

    Not joined or summed by the database: joining a province's millions of rows to the memberships and grouping
    them (sort or hash) cost most of the refresh there, numpy does both in a fraction of a second after the
    persons are mapped to their families (``person_families``).
    """
    if not program_ids:
        return [np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=object)]
    where, params = _ledger_where(period, planned, program_ids)
    # program and person in one 64-bit value (person ids below 2**40): one column less to aggregate and send
    sql = (f"SELECT b.program_id * {PERSON_BITS} + coalesce(b.person_id, 0), b.amount, "
           f"CASE WHEN b.person_id IS NULL THEN coalesce(b.village_id, '') END "
           f"FROM {connection.ops.quote_name(Benefit._meta.db_table)} b WHERE {' AND '.join(where)}")  # fmt: skip
    both, amount, villages = sql_numbers(sql, params, ["int", "float", "text"])
    return [both // PERSON_BITS, both % PERSON_BITS, amount, villages]


def _unplaced_sql(period: str, planned: bool, program_ids: Sequence[int], persons: Sequence[int]
                  ) -> tuple[str, list[Any]]:  # fmt: skip
    """The period's rows of the registry's persons without an active family (``persons``), summed per program
    and the village the list gave: a few index look-ups on PostgreSQL. SQLite finds those persons itself."""
    quote = connection.ops.quote_name
    benefit, membership, person = (quote(m._meta.db_table) for m in (Benefit, Membership, Person))
    where, params = _ledger_where(period, planned, program_ids)
    if connection.vendor == "postgresql":
        where.append("b.person_id = ANY(%s)")
        params.append(list(persons))
    else:
        where.append(f"b.person_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {membership} m "
                     f"WHERE m.person_id = b.person_id AND m.active = %s)")  # fmt: skip
        params.append(True)
    dead = f"CASE WHEN b.person_id IN (SELECT id FROM {person} WHERE vital_status = %s) THEN 1 ELSE 0 END"
    sql = (f"SELECT b.program_id, b.village_id, COUNT(*), SUM(b.amount), SUM({dead}) FROM {benefit} b "
           f"WHERE {' AND '.join(where)} GROUP BY b.program_id, b.village_id")  # fmt: skip
    return sql, [VitalStatus.DECEASED.value, *params]


def _deceased() -> np.ndarray:
    """Ids of the persons recorded as deceased (an index of their own)."""
    quote = connection.ops.quote_name
    (ids,) = sql_numbers(f"SELECT id FROM {quote(Person._meta.db_table)} WHERE vital_status = %s",
                         [VitalStatus.DECEASED.value], ["int"])  # fmt: skip
    return ids


def _ledger(rows: list[np.ndarray], period: str, planned: bool, region: str, program_ids: dict[int, int],
            table: FamilyTable, village_index: dict[str, int]) -> LedgerPairs:  # fmt: skip
    """The ledger as the engine reads it: rows of recipients with an active family of the region summed per
    program and family here; those without one by program and village (``_unplaced_sql``); recipients whose
    active family is not one of the region's are left out."""
    if not program_ids:
        empty = np.zeros(0, dtype=np.int64)
        return LedgerPairs(Ledger(program=empty, family=empty, village=empty, amount=np.zeros(0)), empty, empty)
    person_family = table.person_family if table.person_family is not None else person_families(table.ids)
    program_id, person, amount, no_person_village = rows
    lookup = np.full(max(program_ids, default=0) + 1, -1, dtype=np.int64)
    lookup[list(program_ids)] = list(program_ids.values())
    mapped = np.full(len(person), -1, dtype=np.int64)
    inside = (person > 0) & (person < len(person_family))
    mapped[inside] = person_family[person[inside]]
    unplaced = np.unique(person[(person > 0) & (mapped == -1)])
    # Lines of (program, family): per program, sums over the families by bincount (no sort of the rows).
    placed = mapped >= 0
    n_fam = len(table.ids)
    row_program, row_family, row_amount = lookup[program_id[placed]], mapped[placed], amount[placed]
    dead_person = np.zeros(int(person.max(initial=0)) + 1, dtype=bool)
    deceased = _deceased()
    dead_person[deceased[deceased < len(dead_person)]] = True
    row_dead = dead_person[person[placed]]
    given = ~np.isnan(row_amount)
    row_amount = np.where(given, row_amount, 0.0)
    parts: list[tuple[np.ndarray, ...]] = []
    for p in range(len(program_ids)):
        mine = row_program == p
        family = row_family[mine]
        counts_p = np.bincount(family, minlength=n_fam)
        at = np.flatnonzero(counts_p)
        amount_p = np.bincount(family, weights=row_amount[mine], minlength=n_fam)[at].astype(np.float64)
        if not given[mine].all():  # SUM of nulls is null
            amount_p[np.bincount(family[~given[mine]], minlength=n_fam)[at] == counts_p[at]] = np.nan
        dead_p = np.bincount(family[row_dead[mine]], minlength=n_fam)[at]
        parts.append((np.full(len(at), p, dtype=np.int64), at, counts_p[at], amount_p, dead_p))
    line_program, line_family, counts, summed, dead_rows = (
        np.concatenate([part[k] for part in parts]) if parts else np.zeros(0) for k in range(5)
    )
    dead = dead_rows.astype(np.int64)
    # Recipients without an active family count by the village the list gave, when that is in the region (a code
    # that is no village of it counts for the region as a whole): rows without a person from the scan, the
    # registry's persons without a family from the database.
    nobody = person == 0
    u_program, u_codes = [lookup[program_id[nobody]]], [no_person_village]
    u_rows, u_amount = [np.ones(int(nobody.sum()), dtype=np.int64)], [amount[nobody]]
    u_dead = [np.zeros(int(nobody.sum()), dtype=np.int64)]
    if connection.vendor != "postgresql" or len(unplaced):
        sql, params = _unplaced_sql(period, planned, list(program_ids), unplaced.tolist())
        q_program, q_village, q_rows, q_amount, q_dead = sql_columns(
            sql, params, [pa.int64(), pa.string(), pa.int64(), pa.float64(), pa.int64()]
        )
        u_program.append(lookup[_numpy(q_program)])
        u_codes.append(np.array([c or "" for c in q_village.to_pylist()], dtype=object))
        u_rows.append(_numpy(q_rows))
        u_amount.append(_numpy(q_amount))
        u_dead.append(_numpy(q_dead))
    codes_all = np.concatenate(u_codes) if u_codes else np.zeros(0, dtype=object)
    known_codes = sorted(set(codes_all.tolist()))
    code_at = {c: i for i, c in enumerate(known_codes)}
    code_index = np.array([code_at[c] for c in codes_all.tolist()], dtype=np.int64)
    key = np.concatenate(u_program) * max(len(known_codes), 1) + code_index
    groups, group_of = np.unique(key, return_inverse=True)
    all_amount = np.concatenate(u_amount)
    all_given = ~np.isnan(all_amount)
    g_rows = np.bincount(group_of, weights=np.concatenate(u_rows), minlength=len(groups)).astype(np.int64)
    g_amount = np.bincount(group_of, weights=np.where(all_given, all_amount, 0.0), minlength=len(groups))
    g_amount = g_amount.astype(np.float64)
    g_amount[np.bincount(group_of, weights=all_given, minlength=len(groups)) == 0] = np.nan  # SUM of nulls
    g_dead = np.bincount(group_of, weights=np.concatenate(u_dead), minlength=len(groups)).astype(np.int64)
    g_program = groups // max(len(known_codes), 1)
    g_codes = [known_codes[i] for i in (groups % max(len(known_codes), 1)).tolist()]
    village = np.array([village_index.get(c, -1) for c in g_codes], dtype=np.int64)
    in_region = np.array([bool(c) and (c == region or c.startswith(region + ".")) for c in g_codes], dtype=bool)
    return LedgerPairs(
        Ledger(program=np.concatenate([line_program, g_program[in_region]]).astype(np.int64),
               family=np.concatenate([line_family, np.full(int(in_region.sum()), -1)]).astype(np.int64),
               village=np.concatenate([np.full(len(line_family), -1), village[in_region]]).astype(np.int64),
               amount=np.concatenate([summed, g_amount[in_region]]),
               deceased=np.concatenate([dead > 0, g_dead[in_region] > 0])),
        np.concatenate([counts, g_rows[in_region]]).astype(np.int64),
        np.concatenate([dead, g_dead[in_region]]),
    )  # fmt: skip


def _numpy(array: pa.Array) -> np.ndarray:
    """An Arrow column as numpy, nulls as 0 (counts) or NaN (amounts: the engine reads NaN as "not given")."""
    if pa.types.is_floating(array.type):
        return np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.float64)
    return np.asarray(pc.fill_null(array, 0).to_numpy(zero_copy_only=False), dtype=np.int64)


def _recount(coverage: Coverage, pairs: LedgerPairs, tags: Sequence[Sequence[str]]) -> None:
    """Ledger-row counts (rows, unmatched, deceased) from the pairs' weights: the engine counted each line once.

    Family measures, amounts and overlaps need no change: a family is on a program's list or not, and amounts were
    summed per line (``_ledger``).
    """
    ledger = pairs.ledger
    width = len(coverage.villages) + 1
    n_prog = len(coverage.programs)
    matched = ledger.family >= 0
    row_village = np.where(matched, coverage.village[np.where(matched, ledger.family, 0)], ledger.village)
    row_village = np.where(row_village >= 0, row_village, width - 1)
    cell = ledger.program * width + row_village
    size = n_prog * width

    def table(weights: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        where = cell if mask is None else cell[mask]
        values = weights if mask is None else weights[mask]
        return np.rint(np.bincount(where, weights=values, minlength=size)).astype(np.int64).reshape(n_prog, width)

    coverage.by_program["rows"] = table(pairs.rows.astype(np.float64))
    coverage.by_program["unmatched"] = table(pairs.rows.astype(np.float64), ~matched)
    coverage.by_program["deceased"] = table(pairs.dead.astype(np.float64))
    for s, code in enumerate(coverage.strategies):
        members = [p for p, own in enumerate(tags) if code in own]
        for name in ("rows", "unmatched", "deceased"):
            coverage.by_strategy[name][s] = coverage.by_program[name][members].sum(axis=0)


@contextmanager
def _analytic_session() -> Iterator[None]:
    """PostgreSQL settings for the refresh's few large reads, on the worker's connection only: hash joins and
    aggregates of millions of rows stay in memory (the default 4 MB spills them to disk in hundreds of batches and
    turns anti-joins into a lookup per ledger row), and no JIT compilation (a second per query, for one run)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET work_mem = '256MB'")
        cursor.execute("SET jit = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET work_mem")
            cursor.execute("RESET jit")


def _beside(work: Callable[[], T], *, in_thread: bool | None = None) -> Callable[[], tuple[T, float]]:
    """Start ``work`` (database reads) on a second connection in a thread, now; the returned call waits for its
    result and the seconds it took.

    PostgreSQL answers each connection in its own process, so the refresh's two large reads (the families and
    the ledger) use both cores of a small server at once, and Python waits on the sockets without holding the
    GIL. Run in place, when asked, on SQLite and inside a transaction: a second connection would not see the
    caller's uncommitted rows (an inline refresh in an import's transaction, tests).
    """
    if in_thread is None:
        in_thread = connection.vendor == "postgresql" and not connection.in_atomic_block
    if not in_thread:

        def inline() -> tuple[T, float]:
            mark = time.perf_counter()
            return work(), time.perf_counter() - mark

        return inline
    result: list[Any] = []

    def run() -> None:
        mark = time.perf_counter()
        try:
            with _analytic_session():
                result.append(work())
        except BaseException as exc:  # handed to the caller, re-raised there
            result.append(exc)
        finally:
            connection.close()  # this thread's own connection
        result.append(time.perf_counter() - mark)

    thread = threading.Thread(target=run, name="analysis-ledger", daemon=True)
    thread.start()

    def wait() -> tuple[T, float]:
        thread.join()
        if isinstance(result[0], BaseException):
            raise result[0]
        return result[0], result[1]

    return wait


def _village_indices(table: FamilyTable, village_index: dict[str, int], missing: int) -> np.ndarray:
    """Each family's index in the region's villages (``missing`` when in none), through the family table's
    dictionary of village codes when it has one (a million families live in a thousand villages)."""
    if "kode_desa" in table.table.column_names and pa.types.is_dictionary(table.table.column("kode_desa").type):
        codes = table.table.column("kode_desa").combine_chunks()
        known = [village_index.get(c, missing) if c is not None else missing for c in codes.dictionary.to_pylist()]
        lookup = np.array([*known, missing], dtype=np.int64)
        indices = pc.fill_null(codes.indices, len(known)).to_numpy(zero_copy_only=False)
        return lookup[np.asarray(indices, dtype=np.int64)]
    return np.array([village_index.get(v, missing) for v in table.villages.tolist()], dtype=np.int64)


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
    program_ids = {p.pk: i for i, p in enumerate(programs)}
    villages = list(
        Area.objects.filter(within_q(region), level=Level.VILLAGE).order_by("code").values_list("code", flat=True)
    )
    village_index = {code: i for i, code in enumerate(villages)}
    # The ledger is read, and summed once the families (and the membership map) are known, beside the families.
    families_read: list[FamilyTable] = []
    families_done = threading.Event()

    def ledger() -> LedgerPairs:
        rows = _ledger_rows(period, planned, list(program_ids))
        families_done.wait()
        if not families_read:
            raise RuntimeError("the families could not be read")
        return _ledger(rows, period, planned, region, program_ids, families_read[0], village_index)

    ledger_pairs = _beside(ledger)
    try:
        table = family_table(families, fields=fields_needed(rules), everyone=True)
        families_read.append(table)
    finally:
        families_done.set()
    eligibility = evaluate_programs([p.code for p in programs], rules, table)
    seconds["families"] = time.perf_counter() - start
    report("ledger", 1, 3)
    mark = time.perf_counter()
    pairs, seconds["ledger_read"] = ledger_pairs()
    seconds["ledger"] = time.perf_counter() - mark  # waiting for the ledger, when it was read beside the families
    report("analyse", 2, 3)
    mark = time.perf_counter()
    family_village = _village_indices(table, village_index, len(villages))
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
        pairs.ledger,
        Programs(codes=[p.code for p in programs], eligible=eligibility.eligible, strategies=tags,
                 has_rule=eligibility.has_rule),
    )  # fmt: skip
    _recount(coverage, pairs, tags)
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
LIST_TOP = 50  # families of each list kept per area for the pages (the export reads the whole list)


def _flags(matrix: np.ndarray) -> list[str]:
    """One '0'/'1' character per program for each family (column) of a programs × families bool matrix."""
    if matrix.shape[0] == 0:
        return [""] * matrix.shape[1]
    raw = (np.ascontiguousarray(matrix.T).astype(np.uint8) + ord("0")).tobytes()
    width = matrix.shape[0]
    return [raw[i : i + width].decode() for i in range(0, len(raw), width)]


@dataclass
class Lists:
    """The families on the pages' lists: poor and helped by nothing, eligible for a program and not reached by it
    (extreme poor first, then by desil, then fewest programs), on many programs (most first, least poor first)."""

    listed: np.ndarray  # family indices on any list, in list order
    many_order: np.ndarray  # family indices on many programs, in their order
    no_help: np.ndarray  # bool per family
    excluded: np.ndarray  # programs × families


def lists_of(cov: Coverage) -> Lists:
    poor = (cov.desil >= 1) & (cov.desil <= cov.poor_max_desil)
    no_help = poor & (cov.program_count == 0)
    excluded = cov.eligible & ~cov.received
    many = cov.program_count >= cov.many
    listed = np.flatnonzero(no_help | excluded.any(axis=0) | many)
    desil = np.where(cov.desil[listed] > 0, cov.desil[listed], 99).astype(np.int64)
    count = cov.program_count[listed].astype(np.int64)
    listed = listed[np.lexsort((listed, count, desil))]
    on_many = np.flatnonzero(many)
    many_order = on_many[np.lexsort((on_many, -cov.desil[on_many].astype(np.int64),
                                     -cov.program_count[on_many].astype(np.int64)))]  # fmt: skip
    return Lists(listed, many_order, no_help, excluded)


def list_dtype(programs: int) -> np.dtype:
    """One listed family in ``AnalysisList.rows``: its id, rank on the lists, rank on the many-programs list (-1:
    not on it), poor and helped by nothing, and one bit per program (the first program the highest bit of the
    first byte) for "eligible and not reached" and for "on the program's list"."""
    width = max(1, (programs + 7) // 8)
    return np.dtype([("family", "<i8"), ("rank", "<i4"), ("many_rank", "<i4"), ("no_help", "u1"),
                     ("excluded", "u1", (width,)), ("received", "u1", (width,))])  # fmt: skip


def _bits(matrix: np.ndarray, width: int) -> np.ndarray:
    """A programs × families bool matrix as ``width`` bytes per family (see ``list_dtype``)."""
    if not matrix.shape[0]:
        return np.zeros((matrix.shape[1], width), dtype=np.uint8)
    return np.ascontiguousarray(np.packbits(matrix, axis=0).T)


def flags_of(bits: np.ndarray, programs: int) -> np.ndarray:
    """The families × programs bool matrix of packed bits (``list_dtype``'s ``excluded`` or ``received``)."""
    if not len(bits):
        return np.zeros((0, programs), dtype=bool)
    return np.unpackbits(bits.reshape(len(bits), -1), axis=1, count=programs).astype(bool)


def list_rows(computed: Computed, lists: Lists) -> list[tuple[str, np.ndarray]]:
    """(village code, records in list order) per village with listed families, "" for those in no village: the
    ``AnalysisList`` rows the exports read whole lists from."""
    cov = computed.coverage
    listed = lists.listed
    n_prog = len(cov.programs)
    dtype = list_dtype(n_prog)
    records = np.zeros(len(listed), dtype=dtype)
    records["family"] = computed.families.ids[listed]
    records["rank"] = np.arange(len(listed))
    many_rank = np.full(len(cov.desil), -1, dtype=np.int64)
    many_rank[lists.many_order] = np.arange(len(lists.many_order))
    records["many_rank"] = many_rank[listed]
    records["no_help"] = lists.no_help[listed]
    width = dtype["excluded"].shape[0]
    records["excluded"] = _bits(lists.excluded[:, listed], width)
    records["received"] = _bits(cov.received[:, listed], width)
    village = cov.village[listed]
    village = np.where((village >= 0) & (village < len(cov.villages)), village, len(cov.villages))
    order = np.argsort(village, kind="stable")  # each village's families keep the list order
    grouped = village[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]]) if len(grouped) else np.zeros(0, np.int64)
    ends = [*starts[1:].tolist(), len(grouped)]
    codes = [*cov.villages, ""]
    return [(codes[int(grouped[a])], records[order[a:b]]) for a, b in zip(starts.tolist(), ends, strict=True)]


def area_lists(computed: Computed, lists: Lists, *, limit: int = LIST_TOP) -> dict[str, dict[str, list[Any]]]:
    """The first ``limit`` families of every list in every area, as [family id, received] pairs: all a page shows.

    Each village's first families come from the region's order; an area above takes the first of its children's
    (the region's order is every area's order, so nothing further down can come first).
    """
    cov = computed.coverage
    region = settings.TEPAT_REGION
    ids = computed.families.ids
    position = np.full(len(cov.desil), -1, dtype=np.int64)
    orders: dict[str, np.ndarray] = {"none": lists.listed[lists.no_help[lists.listed]]}
    for p in range(len(cov.programs)):
        orders[f"p{p}"] = lists.listed[lists.excluded[p, lists.listed]]
    orders["many"] = lists.many_order
    chosen: dict[str, dict[str, np.ndarray]] = defaultdict(dict)
    lengths = [n for n in (5, 8, 13) if n > len(region)]
    for name, order in orders.items():
        if not len(order):
            continue
        position[order] = np.arange(len(order))
        village = cov.village[order]
        by_village = np.argsort(village, kind="stable")
        grouped = village[by_village]
        starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
        tops: dict[str, np.ndarray] = {}
        for g, start in enumerate(starts.tolist()):
            end = starts[g + 1] if g + 1 < len(starts) else len(grouped)
            index = int(grouped[start])
            if index < len(cov.villages):
                tops[cov.villages[index]] = order[by_village[start : min(end, start + limit)]]
        current = dict(tops)
        for length in reversed(lengths[:-1]):
            groups: dict[str, list[np.ndarray]] = defaultdict(list)
            for code, top in current.items():
                groups[code[:length]].append(top)
            current = {}
            for code, parts in groups.items():
                merged = np.concatenate(parts)
                current[code] = merged[np.argsort(position[merged], kind="stable")][:limit]
            tops.update(current)
        tops[region] = order[:limit]
        for code, top in tops.items():
            chosen[code][name] = top
    # '0'/'1' per program for the families shown only (a province lists half a million families)
    parts = [top for named in chosen.values() for top in named.values()]
    shown = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
    received = np.empty(len(cov.desil), dtype=object)
    received[shown] = _flags(cov.received[:, shown])
    out: dict[str, dict[str, list[Any]]] = defaultdict(dict)
    for code, named in chosen.items():
        for name, top in named.items():
            out[code][name] = list(zip(ids[top].tolist(), received[top].tolist(), strict=True))
    return out


def _write_rows(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Rows (database values: JSON as text, bytes) into a model's table: COPY on PostgreSQL, where bulk_create
    sends each column as one array literal quoted in Python (seconds for a province's area rows, whose JSON
    holds the pages' first families); executemany on SQLite."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table, names = quote(model._meta.db_table), ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})", rows)


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
