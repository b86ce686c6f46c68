"""What a refresh stores: per-area figures (``area_rows``) and the listed families (``lists_of``; packed per
village by ``list_rows``, the first of each area for the pages by ``area_lists``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, models

from tepat.engine.coverage import AREA_MEASURES, PROGRAM_MEASURES, Coverage
from tepat.programs.models import (
    NO_VILLAGE,
)
from tepat.programs.snapshot.base import ROW_MEASURES, TOTAL_MEASURES, Computed


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
