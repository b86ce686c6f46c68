"""Who each program is for, over the registry's families: the family table its rule reads, built from the database.

Until the targeting app serves a shared family table, this builds the columns program rules may use (the official
desil, member counts by age, housing, the custodians' exclusion findings) for the families of one area, and only
the columns some rule needs. Rules are parsed and evaluated by tepat.engine.rules against the family schema of
tepat.engine.scorecard, so a rule means the same here as in targeting.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet

from tepat.engine.rules import Rule, RuleError
from tepat.engine.scorecard import EXCLUSION_FLAGS, FAMILY_SCHEMA
from tepat.registry.models import HOUSING_FIELDS, Exclusion, Family, Household, Membership, Person, VitalStatus
from tepat.targeting.table import compile_registry_rule, family_table_from_registry

BASE = ("family_id", "kode_desa", "kode_kecamatan", "kode_kabupaten", "desil", "desil_provinsi", "desil_kabupaten",
        "extreme_poor")  # fmt: skip
MEMBER_COUNTS = ("members", "children_under_5", "school_age_children", "elderly", "disabled_members")
HOUSING = HOUSING_FIELDS
FLAGS = (*EXCLUSION_FLAGS.values(), "flag.any")
AVAILABLE = frozenset((*BASE, *MEMBER_COUNTS, *HOUSING, *FLAGS))


def parse_rule(text: str) -> Rule:
    """The program's rule, checked against the fields the registry can answer (the targeting app's list, so a rule
    means the same on the targeting and the programs pages); RuleError says what is wrong and where."""
    return compile_registry_rule(text)


@dataclass
class FamilyTable:
    """Families of an area in id order, with the attributes analyses need and an Arrow table for rules."""

    ids: np.ndarray  # int64, ascending
    villages: np.ndarray  # object array of village codes
    desil: np.ndarray  # int8, 0 = unknown
    flagged: np.ndarray  # bool
    table: pa.Table
    # person id -> index of the person's active family in this table (-1: no active family, -2: not one of these;
    # see ``person_families``), read for a region's refresh (``everyone``), which maps the ledger's recipients
    person_family: np.ndarray | None = None

    def index_of(self, family_ids: np.ndarray) -> np.ndarray:
        """Index of each family id in this table, -1 when it is not here."""
        if not len(self.ids):
            return np.full(len(family_ids), -1, dtype=np.int64)
        pos = np.searchsorted(self.ids, family_ids)
        pos = np.minimum(pos, len(self.ids) - 1)
        return np.where(self.ids[pos] == family_ids, pos, -1)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def raw_rows(queryset: QuerySet[Any]) -> list[tuple[Any, ...]]:
    """Rows of a values_list queryset as the database driver returns them.

    The SQL is the ORM's (so scoping and joins stay in one place), but Django's per-value converters are skipped:
    for the tens of thousands of rows an analysis reads they cost more than the query itself. Callers only read
    integers, text and numbers, which every backend returns as Python values already.
    """
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # e.g. `pk__in=[]`: the ORM knows there is nothing to ask for
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def raw_columns(queryset: QuerySet[Any], types: Sequence[pa.DataType]) -> list[pa.Array]:
    """The columns of a values_list queryset as Arrow arrays (see ``sql_columns``)."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return [pa.array([], type=t) for t in types]
    return sql_columns(sql, list(params), types)


def sql_columns(sql: str, params: Sequence[Any], types: Sequence[pa.DataType]) -> list[pa.Array]:
    """The columns of a query's result as Arrow arrays, one per selected value, typed as asked; row order is not
    guaranteed. Values must be numbers, dates or codes (no commas, quotes or line breaks): ids, area codes,
    desil, counts, amounts.

    On PostgreSQL the database writes the whole result as one CSV text (``string_agg``) that Arrow parses: a
    province's million families or ledger pairs arrive several times faster than as Python tuples, or as COPY,
    whose one message per row costs a Python call each. SQLite (a city's demo or office) goes through tuples.
    """
    names = [f"c{i}" for i in range(len(types))]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            return [pa.array([r[i] for r in rows], type=t) for i, t in enumerate(types)]
        fields = ", ".join(f"coalesce({n}::text, '')" for n in names)
        cursor.execute(f"SELECT string_agg(concat_ws(',', {fields}), E'\\n') FROM ({sql}) AS q({', '.join(names)})",
                       params)  # fmt: skip
        text = cursor.fetchone()[0]
    if not text:
        return [pa.array([], type=t) for t in types]
    from pyarrow import csv

    convert = csv.ConvertOptions(column_types=dict(zip(names, types, strict=True)), strings_can_be_null=True)
    table = csv.read_csv(pa.BufferReader(text.encode()), read_options=csv.ReadOptions(column_names=names),
                         convert_options=convert)  # fmt: skip
    return [table.column(n).combine_chunks() for n in names]


def sql_numbers(sql: str, params: Sequence[Any], kinds: Sequence[str]) -> list[np.ndarray]:
    """The columns of a query's result as numpy arrays, ``kinds`` "int" (int64, NULL as 0) or "float" (float64,
    NULL as NaN), in the same row order; row order is not guaranteed. A "text" column (codes without commas)
    comes as an object array of its values that are not NULL, in the same order: for a column given on few rows.

    On PostgreSQL the numbers arrive as one bytea of fixed-size binary records (``int8send``/``float8send`` of
    each number, concatenated per row and over the rows by ``string_agg``), in binary: millions of rows cost the
    database one pass and one aggregate call per row, and Python a copy, with no text to print or parse. A text
    column is aggregated only over its rows that have a value (``FILTER``). SQLite goes through tuples.
    """
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            out = []
            for i, kind in enumerate(kinds):
                if kind == "text":
                    out.append(np.array([r[i] for r in rows if r[i] is not None], dtype=object))
                elif kind == "float":
                    out.append(np.array([np.nan if r[i] is None else float(r[i]) for r in rows], dtype=np.float64))
                else:
                    out.append(np.array([r[i] or 0 for r in rows], dtype=np.int64))
            return out
    names = [f"c{i}" for i in range(len(kinds))]
    send = {"float": "float8send(coalesce({}::float8, 'NaN'))", "int": "int8send(coalesce({}::int8, 0))"}
    numbers = [(n, kind) for n, kind in zip(names, kinds, strict=True) if kind != "text"]
    parts = []
    if numbers:
        parts.append(f"string_agg({' || '.join(send[kind].format(n) for n, kind in numbers)}, ''::bytea)")
    parts += [f"string_agg({n}::text, ',') FILTER (WHERE {n} IS NOT NULL)"
              for n, kind in zip(names, kinds, strict=True) if kind == "text"]  # fmt: skip
    values = _fetch_binary(f"SELECT {', '.join(parts)} FROM ({sql}) AS q({', '.join(names)})", params)
    records = np.frombuffer(values[0] or b"", dtype=[(n, ">f8" if kind == "float" else ">i8") for n, kind in numbers]
                            ) if numbers else None  # fmt: skip
    texts = iter(values[1:] if numbers else values)
    out = []
    for n, kind in zip(names, kinds, strict=True):
        if kind == "text":
            value = next(texts)
            out.append(np.array([] if value is None else value.split(","), dtype=object))
        else:
            assert records is not None
            out.append(records[n].astype(np.float64 if kind == "float" else np.int64))
    return out


@overload
def _fetch_binary(sql: str, params: Sequence[Any]) -> tuple[Any, ...]: ...
@overload
def _fetch_binary(sql: str, params: Sequence[Any], *, rows: Literal[True]) -> list[tuple[Any, ...]]: ...
def _fetch_binary(sql: str, params: Sequence[Any], *, rows: bool = False) -> Any:
    """One row (all ``rows``) of a query's result in PostgreSQL's binary format, on Django's connection and
    transaction.

    Django's cursors bind parameters in the client and read results as text, where a bytea travels as hexadecimal
    (twice its size, encoded by the database and decoded here); a plain psycopg cursor binds them on the server and
    reads binary."""
    import psycopg

    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:  # Django's errors
        cursor.execute(sql, list(params), binary=True)
        if rows:
            return [tuple(row) for row in cursor.fetchall()]
        row = cursor.fetchone()
    assert row is not None  # an aggregate without GROUP BY returns one row
    return tuple(row)


def person_families(ids: np.ndarray) -> np.ndarray:
    """Person id -> index in ``ids`` (sorted family ids) of the person's active family; -1 when the person has no
    active family, -2 when it is not one of ``ids``: every active membership, read once (a person has at most
    one active family)."""
    quote = connection.ops.quote_name
    person, family = sql_numbers(
        f"SELECT person_id, family_id FROM {quote(Membership._meta.db_table)} WHERE active = %s",
        [True],
        ["int", "int"],
    )
    out = np.full(int(person.max(initial=0)) + 1, -1, dtype=np.int64)
    where = _positions(ids, family)
    out[person] = np.where(where >= 0, where, -2)
    return out


def family_table(families: QuerySet[Family], *, fields: Iterable[str] = (), today: date | None = None,
                 everyone: bool = False) -> FamilyTable:  # fmt: skip
    """The family table for ``families`` (already scoped by the caller) with the base columns and ``fields``.

    ``everyone``: the families are most of the registry (a region's refresh): member counts read every active
    membership instead of joining the family query, and drop the others afterwards.

    The national programs' rules need only the desil, member counts and exclusion findings, which this module
    reads in a few queries; a rule naming anything else (head of family, local score, floor area per person …)
    gets the targeting app's complete family table, slower but the same columns targeting rules read.
    """
    wanted = set(fields)
    if wanted - AVAILABLE:
        return _targeting_table(families, today)
    ids_arr, kode_desa, desil_arr, province_arr, regency_arr, household_arr = _family_columns(families)
    ids = np.asarray(ids_arr.to_numpy(zero_copy_only=False), dtype=np.int64)
    dictionary = kode_desa.dictionary.to_pylist()
    columns: dict[str, pa.Array] = {
        "family_id": ids_arr.cast(pa.string()),
        "kode_desa": kode_desa,
        "kode_kecamatan": pa.DictionaryArray.from_arrays(kode_desa.indices, pa.array([c[:8] for c in dictionary])),
        "kode_kabupaten": pa.DictionaryArray.from_arrays(kode_desa.indices, pa.array([c[:5] for c in dictionary])),
        "desil": desil_arr,
        "desil_provinsi": province_arr,
        "desil_kabupaten": regency_arr,
        "extreme_poor": pc.equal(desil_arr, 1),
    }
    person_family = person_families(ids) if everyone else None
    if wanted & set(MEMBER_COUNTS) and person_family is not None:
        columns.update(_member_counts_of_everyone(person_family, len(ids), today or date.today(), wanted))
    elif wanted & set(MEMBER_COUNTS):
        columns.update(_member_counts(families, ids, today or date.today(), wanted))
    if wanted & set(HOUSING):
        columns.update(_housing(household_arr.to_pylist(), wanted & set(HOUSING)))
    flags = _flags(families, ids, person_family)
    columns.update(flags)
    desil = np.asarray(pc.fill_null(desil_arr, 0).to_numpy(zero_copy_only=False), dtype=np.int8)
    flagged = np.asarray(flags["flag.any"].to_numpy(zero_copy_only=False), dtype=bool)
    villages = np.asarray(kode_desa.dictionary.to_numpy(zero_copy_only=False), dtype=object)[
        np.asarray(kode_desa.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    ] if len(ids) else np.empty(0, dtype=object)  # fmt: skip
    return FamilyTable(ids, villages, desil, flagged, pa.table(columns), person_family)


FAMILY_COLUMNS = ("village_id", "pk", "desil_national", "desil_province", "desil_regency", "household_id")


def _family_columns(families: QuerySet[Family]) -> list[pa.Array]:
    """The family query's id, village code (dictionary-encoded), three desils and household, in id order.

    On PostgreSQL the families come grouped by village: per village one bytea of binary records, so a million
    families cost the database one aggregate call each and Python a copy, and a village code arrives once."""
    types = [pa.int64(), pa.string(), pa.int64(), pa.int64(), pa.int64(), pa.int64()]
    if connection.vendor != "postgresql":
        ids_arr, village_arr, *rest = raw_columns(
            families.order_by("pk").values_list("pk", "village_id", *FAMILY_COLUMNS[2:]), types
        )
        ids = np.asarray(ids_arr.to_numpy(zero_copy_only=False), dtype=np.int64)
        if len(ids) > 1 and np.any(ids[1:] < ids[:-1]):  # the table is in id order (index_of searches it)
            order = pa.array(np.argsort(ids, kind="stable"))
            ids_arr, village_arr, *rest = (a.take(order) for a in (ids_arr, village_arr, *rest))
        return [ids_arr, village_arr.dictionary_encode(), *rest]
    try:
        sql, params = families.order_by().values_list(*FAMILY_COLUMNS).query.sql_with_params()
    except EmptyResultSet:
        sql, params = "", ()
    names = [f"c{i}" for i in range(len(FAMILY_COLUMNS))]
    record = " || ".join(f"int8send(coalesce({n}::int8, -1))" for n in names[1:])  # -1: NULL (ids, desils > 0)
    groups = _fetch_binary(f"SELECT c0, string_agg({record}, ''::bytea) FROM ({sql}) AS q({', '.join(names)}) "
                           f"GROUP BY c0", params, rows=True) if sql else []  # fmt: skip
    dtype = np.dtype([(n, ">i8") for n in names[1:]])
    parts = [np.frombuffer(blob, dtype=dtype) for _code, blob in groups]
    records = np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
    village = np.repeat(np.arange(len(parts), dtype=np.int32), [len(part) for part in parts])
    order = np.argsort(records["c1"], kind="stable")
    records, village = records[order], village[order]

    def column(name: str) -> pa.Array:
        values = records[name].astype(np.int64)
        return pa.array(values, mask=values == -1)

    return [column("c1"), pa.DictionaryArray.from_arrays(village, pa.array([code for code, _ in groups], pa.string())),
            column("c2"), column("c3"), column("c4"), column("c5")]  # fmt: skip


def _targeting_table(families: QuerySet[Family], today: date | None) -> FamilyTable:
    full = family_table_from_registry(families=families, on=today)
    table = full.table
    desil = np.nan_to_num(np.asarray(table.column("desil").to_numpy(zero_copy_only=False), dtype=np.float64), nan=0)
    villages = table.column("kode_desa").cast(pa.string()).to_numpy(zero_copy_only=False)
    flagged = np.asarray(table.column("flag.any").to_numpy(zero_copy_only=False), dtype=bool)
    return FamilyTable(full.ids, np.asarray(villages, dtype=object), desil.astype(np.int8), flagged, table)


def _positions(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Index of each wanted id in the sorted ``ids`` (-1 when absent)."""
    if not len(ids) or not len(wanted):
        return np.full(len(wanted), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
    return np.where(ids[pos] == wanted, pos, -1)


def _count_conditions(today: date) -> dict[str, tuple[str, list[Any]]]:
    """SQL over the person ``p`` for each member count ("" counts everyone)."""
    adapt = connection.ops.adapt_datefield_value
    under_5 = adapt(_years_before(today, 5))
    school_from, school_to = adapt(_years_before(today, 19)), adapt(_years_before(today, 7))
    elderly = adapt(_years_before(today, 60))
    return {
        "members": ("", []),
        "children_under_5": ("p.birth_date > %s", [under_5]),
        "school_age_children": ("p.birth_date > %s AND p.birth_date <= %s", [school_from, school_to]),
        "elderly": ("p.birth_date <= %s", [elderly]),
        "disabled_members": ("p.disability = %s", [True]),
    }


def _member_counts(families: QuerySet[Family], ids: np.ndarray, today: date, wanted: set[str]) -> dict[str, pa.Array]:
    """Living members of the active KK by age group (ages as of today), the counts ``wanted`` only (0 for a family
    with none). A family's members are those of its active memberships whose person is alive: someone recorded
    dead or moved out no longer lives in the family (as targeting).

    One grouped scan of the family query's active memberships joined to their persons, in SQL (the ORM's version
    counted every group through five filtered aggregates). Without "members", only the members some wanted
    count can include are grouped.
    """
    quote = connection.ops.quote_name
    conditions = _count_conditions(today)
    names = [n for n in MEMBER_COUNTS if n in wanted]
    counts, params = [], []
    for name in names:
        condition, given = conditions[name]
        counts.append(f"COUNT(*) FILTER (WHERE {condition})" if condition else "COUNT(*)")
        params += given
    where = ["m.active = %s", "p.vital_status = %s"]
    params += [True, VitalStatus.ALIVE.value]
    if "members" not in names:
        where.append("(" + " OR ".join(f"({conditions[n][0]})" for n in names) + ")")
        params += [v for n in names for v in conditions[n][1]]
    try:
        subquery, sub_params = families.values("pk").query.sql_with_params()
    except EmptyResultSet:
        return {name: pa.array(np.zeros(len(ids), dtype=np.int64)) for name in names}
    where.append(f"m.family_id IN ({subquery})")
    params += list(sub_params)
    membership, person = quote(Membership._meta.db_table), quote(Person._meta.db_table)
    sql = (f"SELECT m.family_id, {', '.join(counts)} FROM {membership} m JOIN {person} p ON p.id = m.person_id "
           f"WHERE {' AND '.join(where)} GROUP BY m.family_id")  # fmt: skip
    arrays = sql_columns(sql, params, [pa.int64()] * (len(names) + 1))
    values = np.stack([np.asarray(a.to_numpy(zero_copy_only=False), dtype=np.int64) for a in arrays], axis=1)
    where_at = _positions(ids, values[:, 0])
    found = where_at >= 0
    out = {}
    for k, name in enumerate(names, start=1):
        column = np.zeros(len(ids), dtype=np.int64)
        column[where_at[found]] = values[found, k]
        out[name] = pa.array(column)
    return out


def _member_counts_of_everyone(person_family: np.ndarray, n: int, today: date, wanted: set[str]
                               ) -> dict[str, pa.Array]:  # fmt: skip
    """``_member_counts`` for a region's refresh: the living persons some wanted count includes, one bit per
    count, read in one scan of the person table and counted per family through the membership map (no join or
    grouping in the database)."""
    conditions = _count_conditions(today)
    names = [name for name in MEMBER_COUNTS if name in wanted]
    bits, params = [], []
    for k, name in enumerate(names):
        condition, given = conditions[name]
        bits.append(f"CASE WHEN {condition} THEN {1 << k} ELSE 0 END" if condition else str(1 << k))
        params += given
    where = ["p.vital_status = %s"]
    params.append(VitalStatus.ALIVE.value)
    if "members" not in names:
        where.append("(" + " OR ".join(f"({conditions[name][0]})" for name in names) + ")")
        params += [v for name in names for v in conditions[name][1]]
    person, flags = sql_numbers(
        f"SELECT p.id, {' + '.join(bits)} FROM {connection.ops.quote_name(Person._meta.db_table)} p "
        f"WHERE {' AND '.join(where)}",
        params,
        ["int", "int"],
    )
    known = person < len(person_family)
    family = np.full(len(person), -1, dtype=np.int64)
    family[known] = person_family[person[known]]
    here = family >= 0
    family, flags = family[here], flags[here]
    return {
        name: pa.array(np.bincount(family[(flags & (1 << k)) > 0], minlength=n).astype(np.int64))
        for k, name in enumerate(names)
    }


def _housing(household_ids: Sequence[int | None], fields: set[str]) -> dict[str, pa.Array]:
    names = sorted(fields)
    by_id: dict[int, tuple[object, ...]] = {}
    wanted = sorted({h for h in household_ids if h is not None})
    for start in range(0, len(wanted), 5000):
        for row in Household.objects.filter(pk__in=wanted[start : start + 5000]).values_list("pk", *names):
            by_id[row[0]] = row[1:]
    empty = (None,) * len(names)
    values = [by_id.get(h, empty) if h is not None else empty for h in household_ids]
    out: dict[str, pa.Array] = {}
    for i, name in enumerate(names):
        spec = FAMILY_SCHEMA.fields[name]
        column = [v[i] for v in values]
        if spec.type == "text":
            out[name] = pa.array([c or None for c in column], pa.string()).dictionary_encode()
        elif spec.type == "bool":
            out[name] = pa.array(column, pa.bool_())
        else:
            out[name] = pa.array(column, pa.float64())
    return out


def _flags(families: QuerySet[Family], ids: np.ndarray, person_family: np.ndarray | None = None
           ) -> dict[str, pa.Array]:  # fmt: skip
    """Custodians' exclusion findings on any member of the active KK; no finding is "no", not "unknown".

    With ``person_family`` (a region's refresh) the findings' persons are placed through the membership map
    instead of joining memberships and the family query.
    """
    out = {name: np.zeros(len(ids), dtype=bool) for name in FLAGS}
    if person_family is None:
        pairs = raw_rows(
            Exclusion.objects.filter(
                person__memberships__active=True, person__memberships__family__in=families.values("pk")
            ).values_list("person__memberships__family_id", "kind")
        )
        where = _positions(ids, np.array([f for f, _ in pairs], dtype=np.int64))
    else:
        pairs = raw_rows(Exclusion.objects.filter(person__isnull=False).values_list("person_id", "kind"))
        persons = np.array([p for p, _ in pairs], dtype=np.int64)
        where = np.full(len(persons), -1, dtype=np.int64)
        known = persons < len(person_family)
        where[known] = person_family[persons[known]]
    for (_family, kind), i in zip(pairs, where.tolist(), strict=True):
        column = EXCLUSION_FLAGS.get(kind)
        if i >= 0 and column is not None:
            out[column][i] = True
            out["flag.any"][i] = True
    return {name: pa.array(values) for name, values in out.items()}


@dataclass
class Eligibility:
    eligible: np.ndarray  # programs × families
    has_rule: list[bool]
    problems: dict[str, str]  # program code -> why its rule could not be used


def evaluate_programs(codes: Sequence[str], rules: Sequence[str], table: FamilyTable) -> Eligibility:
    """Each program's rule over the families; a missing or unusable rule leaves the program "rule unknown"."""
    eligible = np.zeros((len(codes), len(table.ids)), dtype=bool)
    has_rule = [False] * len(codes)
    problems: dict[str, str] = {}
    for p, (code, text) in enumerate(zip(codes, rules, strict=True)):
        if not text.strip():
            continue
        try:
            eligible[p] = parse_rule(text).evaluate(table.table)
            has_rule[p] = True
        except RuleError as exc:
            problems[code] = str(exc)
    return Eligibility(eligible, has_rule, problems)


def fields_needed(rules: Iterable[str]) -> set[str]:
    needed: set[str] = set()
    for text in rules:
        if text.strip():
            try:
                needed |= set(parse_rule(text).fields)
            except RuleError:
                continue
    return needed
