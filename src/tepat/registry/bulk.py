"""Fast inserts for imports: ids reserved up front, rows written as plain tuples.

The ORM's bulk_create spends ~150 µs of Python per row (model instances, per-field preparation); an extract of a
regency has hundreds of thousands of rows and a province millions. Here each table gets its column adapters once,
rows are tuples, and they go in as multi-row ``INSERT … VALUES (…), (…)`` statements on SQLite and ``COPY`` on
PostgreSQL. Ids are assigned here, under a table lock on PostgreSQL (SQLite's IMMEDIATE transactions already
exclude other writers), so rows can reference each other before they are written.

Measured on SQLite (2-core machine, 2026-11-22): Python's sqlite3 binds each parameter for ~0.35 µs with the GIL
held, which was most of an import's database time. So (1) one statement carries hundreds of rows (one
``sqlite3_step`` instead of one per row: a third less time, and one GIL release per statement), (2) columns that
are the same for every row of a batch (the batch id, timestamps, defaults) are written into the statement as
literals instead of being bound again for every row (``BulkTable.shape``), and (3) inside ``background_writes()``
SQLite gets a page cache large enough for a million rows' index pages (16 MB → 128 MB: a third less time for the
person table at a million rows).

On PostgreSQL, inside ``background_writes()`` the COPY statements run on a second thread on the same connection
and transaction: the thread waits for the server (which checks the rows' indexes and foreign keys in its own
process) while the main thread parses the next part. SQLite used to get the thread as well, to overlap its
B-tree work with parsing; measured, the two threads did not overlap (the GIL changes hands around every statement
and the parameter binding holds it) and the import took 7 % longer than with the statements run at once
(docs/benchmarks.md).
"""

from __future__ import annotations

import itertools
import queue
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from operator import itemgetter
from typing import Any

import orjson
from django.db import connection, models
from django.utils import timezone

from tepat.registry.fields import JSONText

Adapter = Callable[[Any], Any]
# SQLite's default limit of bound variables per statement is 32,766 (3.32+); rows per statement stay well below it.
MAX_VARIABLES = 30_000
ROWS_PER_STATEMENT = 500
SQLITE_CACHE_KIB = 128 * 1024


def _json(value: Any) -> str | None:
    """JSON text as Django's JSONField stores it (orjson: dates as ISO text, Decimals via str)."""
    return None if value is None else orjson.dumps(value, default=str).decode()


def plain(value: Any) -> Any:
    """A value of an exact built-in type: sqlite3 binds bool and str subclasses (enums) through its slow adapter
    look-up, and writes them the same as int and str."""
    kind = type(value)
    if kind is bool:
        return int(value)
    if isinstance(value, Enum):
        return value.value
    return value


def _literal(value: Any) -> str | None:
    """``value`` as an SQL literal, or None when it cannot safely be one (then it is bound as a parameter)."""
    value = plain(value)
    kind = type(value)
    if value is None:
        return "NULL"
    if kind is int:
        return str(value)
    if kind is str and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None


# -- a second thread for the statements ----------------------------------------------------------------------------
class BackgroundWriter:
    """Runs this connection's bulk statements on a thread of their own, in order, inside the caller's transaction.

    Only one thread uses the connection at a time: while the writer is active the main thread sends it work
    (``submit``) and waits for it (``sync``) before any other query of its own.
    """

    def __init__(self) -> None:
        connection.ensure_connection()
        self.raw = connection.connection
        self.vendor = connection.vendor
        self.jobs: queue.Queue[Callable[[Any], object] | None] = queue.Queue(maxsize=6)
        self.error: BaseException | None = None
        self.cancelled = False
        self.thread = threading.Thread(target=self._run, name="tepat-bulk-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        cursor = self.raw.cursor()
        try:
            while True:
                job = self.jobs.get()
                try:
                    if job is None:
                        return
                    if self.error is None and not self.cancelled:
                        job(cursor)
                except BaseException as exc:  # handed to the main thread at its next submit or sync
                    self.error = exc
                finally:
                    self.jobs.task_done()
        finally:
            cursor.close()

    def submit(self, job: Callable[[Any], object]) -> None:
        self._raise()
        self.jobs.put(job)

    def sync(self) -> None:
        """Wait until every statement sent so far has run; raise what failed."""
        self.jobs.join()
        self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            self.cancelled = True
            raise error

    def stop(self) -> None:
        self.jobs.put(None)
        self.thread.join()


_writer: ContextVar[BackgroundWriter | None] = ContextVar("tepat_bulk_writer", default=None)


_inside: ContextVar[bool] = ContextVar("tepat_bulk_inside", default=False)


@contextmanager
def background_writes() -> Iterator[None]:
    """Inside, BulkTable statements (and ``run``) go to a second thread on PostgreSQL; leaving waits for them all.
    On SQLite they run at once, with a larger page cache.

    Use inside ``transaction.atomic()``: on an error nothing more is written and the caller's transaction rolls
    back as usual, after the thread has stopped touching the connection.
    """
    if _inside.get():
        yield
        return
    inside = _inside.set(True)
    cache = _sqlite_cache(-SQLITE_CACHE_KIB)
    try:
        if connection.vendor == "postgresql":
            with _thread():
                yield
        else:
            yield
    finally:
        _inside.reset(inside)
        if cache is not None:
            _sqlite_cache(cache)


@contextmanager
def _thread() -> Iterator[None]:
    writer = BackgroundWriter()
    token = _writer.set(writer)
    interval = sys.getswitchinterval()
    # The writer needs the GIL back after every statement; the default 5 ms would leave it waiting.
    sys.setswitchinterval(0.0005)
    try:
        yield
        writer.sync()
    except BaseException:
        writer.cancelled = True
        raise
    finally:
        writer.stop()
        sys.setswitchinterval(interval)
        _writer.reset(token)


def _sqlite_cache(setting: int) -> int | None:
    """Set SQLite's ``PRAGMA cache_size`` of this connection (negative: KiB); the previous one (None: PostgreSQL).

    A million-row import inserts NIKs and ids into indexes all over the file: with SQLite's default 2 MB cache the
    pages go back and forth between the cache and the WAL file many times over.
    """
    if connection.vendor != "sqlite":
        return None
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA cache_size = {int(setting)}")
    return previous


def sync() -> None:
    """Before a query of the main thread inside ``background_writes()``: wait for the pending statements."""
    writer = _writer.get()
    if writer is not None:
        writer.sync()


def run(job: Callable[[Any], object]) -> None:
    """Run ``job(dbapi_cursor)`` after the statements sent before it: on the writer thread when one is active."""
    writer = _writer.get()
    if writer is not None:
        writer.submit(job)
        return
    with connection.cursor() as cursor:
        job(cursor.cursor)


def placeholder() -> str:
    return "%s" if connection.vendor == "postgresql" else "?"


# -- tables ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Shape:
    """The columns a caller gives per row (in tuple order); every other column is a constant for the whole batch."""

    table: str
    variable: tuple[str, ...]
    constant: tuple[str, ...]
    constant_values: tuple[Any, ...]
    row_sql: str  # SQLite: "(?, ?, 'x', 3, NULL)" in the table's column order
    columns_sql: str  # SQLite: the table's columns
    copy_sql: str  # PostgreSQL: COPY with the variable columns first, then the constant ones
    copy_columns: tuple[str, ...] = ()  # PostgreSQL: their database names
    constant_objects: tuple[Any, ...] = ()  # the constants as Python values (binary COPY: datetimes as they are)


class BulkTable:
    """One table's insert path. Use inside ``transaction.atomic()``."""

    def __init__(self, model: type[models.Model], *, assign_ids: bool = True) -> None:
        """``assign_ids=False`` leaves the primary key to the database (rows nothing else refers to)."""
        self.model = model
        self.table = model._meta.db_table
        pk = model._meta.pk
        # generated columns are the database's to fill
        self.fields = [f for f in model._meta.concrete_fields
                       if (assign_ids or f is not pk) and not getattr(f, "generated", False)]  # fmt: skip
        self.columns = [f.attname for f in self.fields]
        self.db_columns = {f.attname: str(f.column) for f in self.fields}
        now = timezone.now()
        self.adapters: list[tuple[int, str, Adapter]] = []
        self.adapter_of: dict[str, Adapter] = {}
        self.defaults: dict[str, Any] = {}
        for index, f in enumerate(self.fields):
            adapter = self._adapter(f)
            if adapter is not None:
                self.adapters.append((index, f.attname, adapter))
                self.adapter_of[f.attname] = adapter
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                default = now
            else:
                default = f.get_default()  # '' for text columns without a default, like the ORM
            default = adapter(default) if adapter is not None and default is not None else default
            self.defaults[f.attname] = plain(default)
        self._pick = itemgetter(*self.columns)
        self._next_id: int | None = None

    @staticmethod
    def _adapter(field: models.Field[Any, Any]) -> Adapter | None:
        """How a Python value becomes a database value for this column; None when it goes in as it is."""
        if isinstance(field, models.JSONField | JSONText):
            return _json
        if isinstance(field, models.DateTimeField):
            return connection.ops.adapt_datetimefield_value
        if isinstance(field, models.DateField):
            return lambda v: v.isoformat() if isinstance(v, date | datetime) else v
        return None

    def reserve(self, count: int) -> int:
        """First of ``count`` consecutive new ids."""
        if self._next_id is None:
            sync()
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute(f'LOCK TABLE "{self.table}" IN EXCLUSIVE MODE')
                cursor.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{self.table}"')
                self._next_id = int(cursor.fetchone()[0]) + 1
        first = self._next_id
        self._next_id += count
        return first

    def row(self, values: dict[str, Any]) -> list[Any]:
        """Missing columns take the field's default; given values go through the column's adapter."""
        out = list(self._pick({**self.defaults, **values}))
        for index, name, adapter in self.adapters:
            value = values.get(name)
            if value is not None:
                out[index] = adapter(value)
        return out

    def insert(self, rows: Iterable[dict[str, Any]], *, chunk: int = 5000) -> int:
        count = 0
        batch: list[tuple[Any, ...]] = []
        for values in rows:
            batch.append(tuple(map(plain, self.row(values))))
            if len(batch) >= chunk:
                count += self.insert_tuples(self._full, batch)
                batch = []
        if batch:
            count += self.insert_tuples(self._full, batch)
        return count

    @property
    def _full(self) -> Shape:
        shape = getattr(self, "_full_shape", None)
        if shape is None:
            shape = self._full_shape = self.shape(self.columns)
        return shape

    def shape(self, variable: Sequence[str], constants: dict[str, Any] | None = None) -> Shape:
        """Rows given as tuples of ``variable`` columns (database values: see ``adapt``); ``constants`` and the
        defaults of all other columns are written once into the statement."""
        fixed = {name: value for name, value in self.defaults.items() if name not in variable}
        for name, value in (constants or {}).items():
            adapter = self.adapter_of.get(name)
            fixed[name] = plain(adapter(value) if adapter is not None and value is not None else value)
        unknown = (set(variable) | set(fixed)) - set(self.columns)
        if unknown:
            raise ValueError(f"{self.table}: no such columns {sorted(unknown)}")
        parts = []
        if connection.vendor != "postgresql":  # COPY takes the constants as values (see _copy)
            for name in self.columns:
                literal = "?" if name in variable else _literal(fixed[name])
                if literal is None:
                    raise ValueError(f"{self.table}.{name}: constant {fixed[name]!r} cannot be a literal")
                parts.append(literal)
        constant = tuple(name for name in self.columns if name not in variable)
        copy_columns = ", ".join(f'"{self.db_columns[name]}"' for name in (*variable, *constant))
        if [name for name in self.columns if name in variable] != list(variable):
            raise ValueError(f"{self.table}: variable columns must follow the table's order {self.columns}")
        return Shape(
            table=self.table,
            variable=tuple(variable),
            constant=constant,
            # As text once: psycopg dumps a datetime in ~3 µs, on every row of a COPY.
            constant_values=tuple(
                fixed[name].isoformat() if isinstance(fixed[name], date | datetime) else fixed[name]
                for name in constant
            ),
            row_sql="(" + ", ".join(parts) + ")",
            columns_sql=", ".join(f'"{self.db_columns[name]}"' for name in self.columns),
            copy_sql=f'COPY "{self.table}" ({copy_columns}) FROM STDIN',
            copy_columns=tuple(self.db_columns[name] for name in (*variable, *constant)),
            constant_objects=tuple(fixed[name] for name in constant),
        )

    def order(self, names: Iterable[str]) -> tuple[str, ...]:
        """``names`` in the table's column order (the order ``shape`` wants)."""
        wanted = set(names)
        return tuple(name for name in self.columns if name in wanted)

    def adapt(self, name: str, value: Any) -> Any:
        adapter = self.adapter_of.get(name)
        return plain(adapter(value) if adapter is not None and value is not None else value)

    def insert_tuples(self, shape: Shape, rows: list[tuple[Any, ...]]) -> int:
        """Write rows already in the shape's column order and database types (int for bool, text for JSON)."""
        if not rows:
            return 0
        if connection.vendor == "postgresql":
            run(lambda cursor: _copy(cursor, shape, rows))
        else:
            run(lambda cursor: _sqlite_insert(cursor, shape, rows))
        return len(rows)

    def finish(self) -> None:
        """Move PostgreSQL's identity sequence past the ids written here."""
        if connection.vendor == "postgresql" and self._next_id is not None:
            next_id = self._next_id
            run(
                lambda cursor: cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), GREATEST(%s, 1), %s)",
                    [f'"{self.table}"', next_id - 1, next_id > 1],
                )
            )


def _sqlite_insert(cursor: sqlite3.Cursor, shape: Shape, rows: list[tuple[Any, ...]]) -> None:
    width = len(shape.variable)
    per = max(1, min(ROWS_PER_STATEMENT, MAX_VARIABLES // max(width, 1)))
    head = f'INSERT INTO "{shape.table}" ({shape.columns_sql}) VALUES '
    full = head + ", ".join([shape.row_sql] * per)
    flat = itertools.chain.from_iterable
    start = 0
    while len(rows) - start >= per:
        sqlite3.Cursor.execute(cursor, full, list(flat(rows[start : start + per])))
        start += per
    if start < len(rows):
        rest = rows[start:]
        sqlite3.Cursor.execute(cursor, head + ", ".join([shape.row_sql] * len(rest)), list(flat(rest)))


# PostgreSQL types that binary COPY takes from the values the row builders give: bools as 0/1, dates as ISO text
# or dates, JSON as its text (see _binary_dumpers). Tables with any other type (numeric…) are copied as text.
_BINARY_TYPES = frozenset({"bool", "int2", "int4", "int8", "text", "varchar", "date", "timestamptz", "jsonb", "float8"})
_column_types: dict[str, dict[str, str]] = {}  # table -> column -> type name (from the catalog, once per process)


def _copy(cursor: Any, shape: Shape, rows: list[tuple[Any, ...]]) -> None:
    """COPY ``rows`` with the shape's constants appended: in binary where the table's types allow it.

    Measured at a million person rows (2026-11-23): the server spent 10.6 s parsing the text format (timestamps,
    dates, booleans, integers column by column) and 5.1 s taking the same rows in binary; the client 2.9 s against
    4.2 s.
    """
    types = _types(cursor, shape)
    binary = types is not None
    constants = shape.constant_objects if binary else shape.constant_values
    with cursor.copy(shape.copy_sql + (" (FORMAT BINARY)" if binary else "")) as copy:
        if types is not None:
            _binary_dumpers(cursor)
            copy.set_types(types)
        write = copy.write_row
        if constants:
            for row in rows:
                write(row + constants)
        else:
            for row in rows:
                write(row)


def _types(cursor: Any, shape: Shape) -> list[str] | None:
    """The COPY columns' type names when binary COPY can take them all, else None."""
    known = _column_types.get(shape.table)
    if known is None or any(name not in known for name in shape.copy_columns):
        cursor.execute(
            "SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
            "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
            [f'"{shape.table}"'],
        )
        known = _column_types[shape.table] = dict(cursor.fetchall())
    types = [known[name] for name in shape.copy_columns]
    return types if all(name in _BINARY_TYPES for name in types) else None


class _AsText:
    """Key for the dumpers below (they are found by type, never by a Python class)."""


def _binary_dumpers(cursor: Any) -> None:
    """Binary dumpers for this cursor that take what the row builders give: JSON as text, dates as ISO text."""
    from psycopg.adapt import Dumper
    from psycopg.pq import Format

    adapters = cursor.adapters
    if getattr(adapters, "_tepat_binary", False):
        return
    jsonb, date_oid = adapters.types["jsonb"].oid, adapters.types["date"].oid
    date_dumper = adapters.get_dumper_by_oid(date_oid, Format.BINARY)(date, cursor)

    class JsonbText(Dumper):
        format = Format.BINARY
        oid = jsonb

        def dump(self, obj: Any) -> bytes:
            text = obj if type(obj) is str else orjson.dumps(obj, default=str).decode()
            return b"\x01" + text.encode()  # jsonb's binary format: version 1, then the text

        def quote(self, obj: Any) -> bytes:  # pragma: no cover - COPY never quotes
            raise NotImplementedError

    class DateText(Dumper):
        format = Format.BINARY
        oid = date_oid

        def dump(self, obj: Any) -> Any:
            return date_dumper.dump(date.fromisoformat(obj) if type(obj) is str else obj)

        def quote(self, obj: Any) -> bytes:  # pragma: no cover
            raise NotImplementedError

    adapters.register_dumper(_AsText, JsonbText)
    adapters.register_dumper(_AsText, DateText)
    adapters._tepat_binary = True


# -- tables filled from empty ---------------------------------------------------------------------------------------
BUILD_MEMORY = "512MB"  # PostgreSQL's maintenance_work_mem while DeferredIndexes builds (when it is lower)


class DeferredIndexes:
    """Secondary indexes (and on PostgreSQL foreign keys) of tables a large batch fills from empty: dropped before
    its rows go in and built once at the end, in the same transaction.

    A regency's first extract puts a million rows into empty tables. Keeping a B-tree up to date row by row, with
    keys in random order (NIK, KK, source ids), cost more than building it once from the finished table, and on
    PostgreSQL every foreign key was a trigger query per row; built at the end, each is one sort or one join.
    Unique indexes and constraints are built again as well, which checks them over the whole table at once: a
    duplicate would fail the batch then, as it would have on its row (the writer never makes one). Primary keys,
    SQLite's unique constraints inside CREATE TABLE and partial indexes that are not unique stay: those cover the
    few rows of a condition (deceased, merged), cheap to keep up and a whole table's scan to build. The definitions
    are read from the database, so what is built again is exactly what was there; a rollback undoes the drop.

    On PostgreSQL dropping an index locks its table against readers until the commit: only for tables that held
    nothing, so nothing is hidden from anyone that was there to see. Dropping a foreign key locks the table it refers
    to as well, so only the keys between these tables are dropped; those to other tables (areas, import batches,
    which every page reads) stay, checked at the commit.
    """

    def __init__(self, tables: Sequence[str]) -> None:
        self.tables = list(tables)
        self.indexes: list[str] = []
        self.keys: list[str] = []

    def drop(self) -> None:
        if not self.tables:
            return
        sync()
        drops: list[str] = []
        with connection.cursor() as cursor:
            for table in self.tables:
                if connection.vendor == "postgresql":
                    # Only keys between these tables: dropping a foreign key locks the table it refers to as well,
                    # against every reader until the commit (areas, import batches: every page).
                    cursor.execute(
                        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                        "AND (contype = 'u' OR (contype = 'f' AND confrelid = ANY(%s::regclass[]))) "
                        "ORDER BY contype DESC, conname",
                        [f'"{table}"', [f'"{name}"' for name in self.tables]],
                    )
                    for name, definition in cursor.fetchall():
                        drops.append(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                        self.keys.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
                    cursor.execute(
                        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass "
                        "AND NOT i.indisprimary AND (i.indisunique OR i.indpred IS NULL) AND NOT EXISTS "
                        "(SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY c.relname",
                        [f'"{table}"'],
                    )
                else:
                    cursor.execute(
                        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                        "AND sql IS NOT NULL AND (sql LIKE 'CREATE UNIQUE%%' OR sql NOT LIKE '%% WHERE %%') "
                        "ORDER BY name",
                        [table],
                    )
                for name, definition in cursor.fetchall():
                    drops.append(f'DROP INDEX "{name}"')
                    self.indexes.append(definition)
            for statement in drops:
                cursor.execute(statement)

    def restore(self) -> None:
        """Build what ``drop`` dropped (after the batch's last rows are written): indexes, then foreign keys."""
        indexes, keys = self.indexes, self.keys
        self.indexes, self.keys = [], []

        def build(cursor: Any) -> None:
            if connection.vendor == "postgresql":
                # Sorting a million keys in the default 64 MB spills to disk and leaves no room for the parallel
                # workers PostgreSQL would give a large build (each needs 32 MB): the NIK index took 0.87 s, with
                # room 0.77 s. For this transaction only: set_config(..., true) is SET LOCAL.
                cursor.execute(
                    "SELECT set_config('maintenance_work_mem', %s, true) "
                    "WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes(%s)",
                    [BUILD_MEMORY, BUILD_MEMORY],
                )
            for statement in indexes:
                cursor.execute(statement)
            if not keys:  # only PostgreSQL's keys are dropped
                return
            # PostgreSQL checks a key it adds with one anti-join of the two tables. Planned as a hash join it took
            # 0.96 s for a million memberships against a million persons; as a merge join over the two indexes
            # just built (ids in both, in about the order they were written), 0.23 s. For these statements only.
            cursor.execute("SELECT current_setting('enable_hashjoin')")
            (hashjoin,) = cursor.fetchone()
            cursor.execute("SET LOCAL enable_hashjoin = off")
            try:
                for statement in keys:
                    cursor.execute(statement)
            finally:
                cursor.execute("SELECT set_config('enable_hashjoin', %s, true)", [hashjoin])

        run(build)
        sync()
