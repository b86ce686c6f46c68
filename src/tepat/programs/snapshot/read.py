"""Reading the registry for a refresh: every active family of the region and every ledger row of one period,
analysed once (``region_analysis``)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef

from tepat.areas.models import Area, Level
from tepat.areas.selectors import within_q
from tepat.engine.coverage import Coverage, Families, Ledger, Programs, analyse
from tepat.programs.eligibility import (
    FamilyTable,
    evaluate_programs,
    family_table,
    fields_needed,
    person_families,
    sql_columns,
    sql_numbers,
)
from tepat.programs.models import (
    Benefit,
    Program,
)
from tepat.programs.snapshot.base import OWNER_TAG, Computed, Progress, T, statuses
from tepat.registry.models import Family, FamilyStatus, Membership, Person, VitalStatus


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
# (program, family) cells summed at once by ``_ledger``: 32 MB of counts and as much of sums, used again for the
# next programs (a refresh's fresh memory is what costs on a virtual machine: ``tepat.memory``)
CELLS = 1 << 22


LEDGER_PARTS = 8  # block ranges of the ledger, read by two connections as each is free (``region_analysis``)


def _ledger_parts() -> list[tuple[int, int | None] | None]:
    """The ledger table's pages in LEDGER_PARTS ranges on PostgreSQL (the last one open: rows written meanwhile);
    one part, the whole table, elsewhere."""
    if connection.vendor != "postgresql":
        return [None]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_size(%s) / current_setting('block_size')::int8", [Benefit._meta.db_table])
        blocks = int(cursor.fetchone()[0])
    edges = sorted({blocks * k // LEDGER_PARTS for k in range(LEDGER_PARTS)})
    return [(low, high) for low, high in zip(edges, [*edges[1:], None], strict=True)]


def _ledger_file() -> int | None:
    """The ledger table's file on PostgreSQL: a rewrite (VACUUM FULL, CLUSTER, a migration) moves every row to other
    pages, so page ranges read before and after it would count rows twice or miss them."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_filenode(%s)", [Benefit._meta.db_table])
        return cursor.fetchone()[0]


def _ledger_rows(period: str, planned: bool, program_ids: Sequence[int], blocks: tuple[int, int | None] | None = None
                 ) -> list[np.ndarray]:  # fmt: skip
    """Every ledger row of the period as (program id, person id or 0, amount in sen or NaN), and the village codes
    the lists gave for the rows without a person ("" for none), in their order: one scan of the ledger, or of the
    table's pages from ``blocks[0]`` to before ``blocks[1]`` (PostgreSQL's TID range scan).

    Not joined or summed by the database: joining a province's millions of rows to the memberships and grouping
    them (sort or hash) cost most of the refresh there, numpy does both in a fraction of a second after the
    persons are mapped to their families (``person_families``).
    """
    if not program_ids:
        return [np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=object)]
    where, params = _ledger_where(period, planned, program_ids)
    if blocks is not None:
        where.append("b.ctid >= %s::tid")
        params.append(f"({blocks[0]},0)")
        if blocks[1] is not None:
            where.append("b.ctid < %s::tid")
            params.append(f"({blocks[1]},0)")
    # program and person in one 64-bit value (person ids below 2**40): 16 bytes a row to send
    sql = (f"SELECT b.program_id * {PERSON_BITS} + coalesce(b.person_id, 0), b.amount_sen, "
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
    # Lines of (program, family): sums over (program, family) cells by bincount (no sort of the rows), for as many
    # programs at a time as keep the cells to a few tens of millions.
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
    step = max(1, CELLS // max(n_fam, 1))
    for first in range(0, len(program_ids), step):
        mine = (row_program >= first) & (row_program < first + step) if step < len(program_ids) else slice(None)
        cell = (row_program[mine] - first) * n_fam + row_family[mine]
        size = min(step, len(program_ids) - first) * n_fam
        counts_c = np.bincount(cell, minlength=size)
        at = np.flatnonzero(counts_c)
        amount_c = np.bincount(cell, weights=row_amount[mine], minlength=size)[at]
        unknown = ~given[mine]
        if unknown.any():  # SUM of nulls is null
            missing = np.bincount(np.searchsorted(at, cell[unknown]), minlength=len(at))
            amount_c[missing == counts_c[at]] = np.nan
        dead_c = np.bincount(np.searchsorted(at, cell[row_dead[mine]]), minlength=len(at))  # few rows: by line
        parts.append((at // n_fam + first, at % n_fam, counts_c[at], amount_c / 100, dead_c))  # sen: exact sums
    line_program, line_family, counts, summed, dead_rows = (
        np.concatenate([part[k] for part in parts]) if parts else np.zeros(0, dtype=np.int64) for k in range(5)
    )
    dead = dead_rows.astype(np.int64)
    # Recipients without an active family count by the village the list gave, when that is in the region (a code
    # that is no village of it counts for the region as a whole): rows without a person from the scan, the
    # registry's persons without a family from the database.
    nobody = person == 0
    u_program, u_codes = [lookup[program_id[nobody]]], [no_person_village]
    u_rows, u_amount = [np.ones(int(nobody.sum()), dtype=np.int64)], [amount[nobody] / 100]
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
    # The ledger is read in parts, by a second connection from the start and by this one once the families are in,
    # each taking the next part as it is free, so both finish together; its rows are summed per family here. Each
    # part is a query of its own: a row changed meanwhile may be read as it was or as it is, and the snapshot, whose
    # stamp was read first, is stale and computed again (as for the families, read on the other connection).
    parts: queue.SimpleQueue[tuple[int, int | None] | None] = queue.SimpleQueue()
    ledger_file = _ledger_file()
    for part in _ledger_parts():
        parts.put(part)
    read: list[list[np.ndarray]] = []

    def take_parts() -> None:
        while True:
            try:
                blocks = parts.get_nowait()
            except queue.Empty:
                return
            read.append(_ledger_rows(period, planned, list(program_ids), blocks))

    beside = _beside(take_parts)
    try:
        table = family_table(families, fields=fields_needed(rules), everyone=True)
        eligibility = evaluate_programs([p.code for p in programs], rules, table)
    except BaseException:
        while not parts.empty():  # the other connection stops after its current part
            parts.get_nowait()
        raise
    seconds["families"] = time.perf_counter() - start
    report("ledger", 1, 3)
    mark = time.perf_counter()
    take_parts()
    _done, seconds["ledger_read"] = beside()
    if _ledger_file() != ledger_file:  # rewritten while being read: read again, in one part
        read[:] = [_ledger_rows(period, planned, list(program_ids))]
    seconds["ledger"] = time.perf_counter() - mark  # reading the parts left, and waiting for the other connection
    rows = [np.concatenate([part[k] for part in read]) for k in range(4)]
    mark = time.perf_counter()
    pairs = _ledger(rows, period, planned, region, program_ids, table, village_index)
    seconds["ledger_sum"] = time.perf_counter() - mark
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
