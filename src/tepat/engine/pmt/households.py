"""From survey rows to one row per household: which columns describe the dwelling, which describe members.

A PMT predicts a *household's* welfare, but surveys such as Susenas deliver one row per person with the dwelling
repeated on every row. Each column is classified from the data: a column whose value is the same for every member
of (almost) every household is household-level (floor, roof, land, the welfare aggregate itself); any other is
member-level and becomes counts, shares, means, minima and maxima per household (working members, the highest
schooling, the share of children), plus the household head's own value when a relationship column says who the head
is. The classification, the kept category levels and the detected columns are stored in the model, so scoring
another file builds exactly the same features.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tepat.engine.pmt.reading import (
    MOSTLY_NUMERIC,
    Categorical,
    Column,
    Numeric,
    PmtError,
    PmtProblem,
    RawTable,
    numeric_share,
    to_numeric,
    to_text_codes,
)
from tepat.engine.scorecard import EDUCATION_LEVELS

HOUSEHOLD_CONSTANT = 0.99  # share of multi-member households in which a column must not vary to be household-level
MAX_LEVELS = 20
AGE_NAMES = ("umur", "usia", "age", "r407", "umur_tahun", "umur_th")
HEAD_NAMES = (
    "hubungan_keluarga",
    "hubungan",
    "hub_krt",
    "hubungan_krt",
    "hubungan_dengan_krt",
    "relationship",
    "r403",
    "hub_kk",
    "hubungan_dengan_kepala",
    "hubungan_kepala",
)
SIZE = "n_anggota"
ORDINAL = "__tingkat"  # the schooling level (0 none … 5 degree) derived from a text education column


@dataclass
class ColumnSpec:
    name: str
    kind: str  # numeric | categorical
    level: str  # household | member
    levels: list[str] = field(default_factory=list)  # kept categories (others pooled as "lainnya")
    education: bool = False  # text schooling levels that also give an ordinal number

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "level": self.level,
            "levels": self.levels,
            "education": self.education,
        }


@dataclass
class HouseholdSpec:
    id_column: str
    rows: str  # persons | households
    columns: list[ColumnSpec]
    age_column: str | None = None
    head_column: str | None = None
    head_value: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id_column": self.id_column,
            "rows": self.rows,
            "columns": [c.as_dict() for c in self.columns],
            "age_column": self.age_column,
            "head_column": self.head_column,
            "head_value": self.head_value,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HouseholdSpec:
        return cls(
            id_column=data["id_column"],
            rows=data["rows"],
            columns=[ColumnSpec(**c) for c in data["columns"]],
            age_column=data.get("age_column"),
            head_column=data.get("head_column"),
            head_value=data.get("head_value"),
        )


@dataclass
class Households:
    ids: list[str]
    size: np.ndarray  # rows per household
    features: dict[str, Column]
    first_row: np.ndarray  # file line index of each household's first row


@dataclass
class Grouping:
    """Rows sorted by household, with segment starts: the basis of every per-household reduction."""

    order: np.ndarray
    starts: np.ndarray
    size: np.ndarray
    ids: list[str]
    first_row: np.ndarray

    def reduce(self, ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
        return ufunc.reduceat(values[self.order], self.starts)


def group_rows(raw: RawTable, id_column: str) -> Grouping:
    codes, ids = to_text_codes(raw.columns[id_column])
    missing = np.flatnonzero(codes < 0)
    if len(missing):
        raise PmtError(
            PmtProblem.HOUSEHOLD_ID,
            f"kolom id rumah tangga {id_column!r} kosong di baris {raw.line(int(missing[0]))}"
            + (f" (dan {len(missing) - 1} baris lain)" if len(missing) > 1 else ""),
        )
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    size = np.diff(np.r_[starts, len(order)])
    return Grouping(order=order, starts=starts, size=size, ids=ids, first_row=order[starts])


def household_value(
    raw: RawTable, grouping: Grouping, name: str, *, what: str, values: np.ndarray | None = None
) -> np.ndarray:
    """A numeric column that must hold one value per household (welfare, class, weight)."""
    x = to_numeric(raw, name, what=what) if values is None else values
    low = grouping.reduce(np.fmin, x)
    high = grouping.reduce(np.fmax, x)
    varies = np.flatnonzero(~np.isnan(high) & (high != low))
    if len(varies):
        h = int(varies[0])
        raise PmtError(
            PmtProblem.NOT_CONSTANT,
            f"kolom {name!r} ({what}) berbeda antar anggota rumah tangga {grouping.ids[h]!r} "
            f"(baris {raw.line(int(grouping.first_row[h]))} dst.); nilainya harus sama untuk satu rumah tangga",
        )
    return high


def classify_columns(
    raw: RawTable,
    grouping: Grouping,
    candidates: list[str],
    *,
    categorical: set[str],
    warnings: list[str],
) -> tuple[list[ColumnSpec], dict[str, Column]]:
    """Type each candidate column, drop the useless ones with a warning, and find which are household-level."""
    specs: list[ColumnSpec] = []
    typed: dict[str, Column] = {}
    empty, constant, identifiers = [], [], []
    multi = grouping.size > 1
    for name in candidates:
        values = raw.columns[name]
        filled, numbers = numeric_share(values)
        if filled == 0:
            empty.append(name)
            continue
        column: Column
        if name not in categorical and numbers == filled:
            x = to_numeric(raw, name, what="fitur")
            finite = x[~np.isnan(x)]
            if finite.min() == finite.max():
                constant.append(name)
                continue
            if (finite == np.round(finite)).all() and finite.min() >= 1e9:
                identifiers.append(name)  # NIK, KK, phone numbers: distinct per row, meaningless as a number
                continue
            column = Numeric(x)
        elif name not in categorical and numbers >= MOSTLY_NUMERIC * filled:
            to_numeric(raw, name, what="fitur")  # raises, naming the first cell that is not a number
            raise AssertionError("unreachable")
        else:
            encoded = pc.dictionary_encode(values)
            levels = [str(v) for v in encoded.dictionary.to_pylist()]
            if len(levels) <= 1:
                constant.append(name)
                continue
            if len(levels) > 100 and len(levels) > 0.5 * filled:
                identifiers.append(name)  # names, addresses, person ids: free text, not categories
                continue
            codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int32)
            counts = np.bincount(codes[codes >= 0], minlength=len(levels))
            floor = max(2, int(0.005 * raw.rows))  # a level needs some support to be learnt
            keep = [i for i in np.argsort(-counts, kind="stable")[:MAX_LEVELS] if counts[i] >= floor]
            if not keep:
                keep = [int(np.argmax(counts))]
            kept = [levels[i] for i in keep]
            column = _recode(values, kept)
            is_education = _is_education(levels, counts)
            specs_level = kept
            if is_education:
                typed[f"{name}{ORDINAL}"] = Numeric(education_level(values))
        level = "household"
        if multi.any():
            as_float = (
                column.values if isinstance(column, Numeric) else np.where(column.codes == -1, np.nan, column.codes)
            )
            low = grouping.reduce(np.fmin, as_float)
            high = grouping.reduce(np.fmax, as_float)
            same = (low == high) | np.isnan(high)
            if same[multi].mean() < HOUSEHOLD_CONSTANT:
                level = "member"
        if isinstance(column, Numeric):
            specs.append(ColumnSpec(name, "numeric", level))
        else:
            specs.append(ColumnSpec(name, "categorical", level, specs_level, is_education))
        typed[name] = column
    if empty:
        warnings.append(f"kolom tanpa isi diabaikan: {', '.join(empty)}")
    if constant:
        warnings.append(f"kolom konstan (satu nilai saja) diabaikan: {', '.join(constant)}")
    if identifiers:
        warnings.append(f"kolom mirip ID/nama/teks bebas diabaikan: {', '.join(identifiers)}")
    return specs, typed


def _is_education(levels: list[str], counts: np.ndarray) -> bool:
    known = sum(int(c) for level, c in zip(levels, counts, strict=True) if level.strip().lower() in EDUCATION_LEVELS)
    return bool(known >= 0.8 * counts.sum())


def education_level(values: pa.Array) -> np.ndarray:
    """Schooling written as text (SD, SMP, Tamat SD/sederajat …) as a level 0-5; NaN where not recognised."""
    lowered = pc.utf8_lower(values)
    encoded = pc.dictionary_encode(lowered)
    table = np.array([EDUCATION_LEVELS.get(str(v).strip(), np.nan) for v in encoded.dictionary.to_pylist()] + [np.nan])
    index = pc.fill_null(encoded.indices, len(table) - 1).to_numpy(zero_copy_only=False).astype(np.int64)
    return table[index]


def _recode(values: pa.Array, kept: list[str]) -> Categorical:
    """Codes into the kept levels: index, -1 missing, -2 any other (or unseen) value."""
    index = pc.index_in(values, value_set=pa.array(kept, pa.string()))
    codes = pc.fill_null(index, -2).to_numpy(zero_copy_only=False).astype(np.int32)
    codes[pc.is_null(values).to_numpy(zero_copy_only=False)] = -1
    return Categorical(codes, tuple(kept))


def detect_age(specs: list[ColumnSpec], option: str | None) -> str | None:
    if option:
        return option
    for spec in specs:
        if spec.kind == "numeric" and spec.level == "member" and spec.name.lower() in AGE_NAMES:
            return spec.name
    return None


def detect_head(
    specs: list[ColumnSpec], typed: dict[str, Column], column: str | None, value: str | None
) -> tuple[str | None, str | None]:
    """The relationship column and the value that marks the household head (``Kepala …``, ``KRT``, code 1)."""
    by_name = {s.name: s for s in specs}
    if column is None:
        column = next((s.name for s in specs if s.name.lower() in HEAD_NAMES and s.level == "member"), None)
    if column is None:  # no known name: a member column with a "Kepala …" category
        column = next(
            (
                s.name
                for s in specs
                if s.kind == "categorical" and s.level == "member" and any(_is_head_label(v) for v in s.levels)
            ),
            None,
        )
    if column is None:
        return None, None
    spec = by_name.get(column)
    if spec is None:
        return None, None
    if value is not None:
        return column, value
    if spec.kind == "numeric":
        x = typed[column]
        return (column, "1") if isinstance(x, Numeric) and (x.values == 1).any() else (None, None)
    for level in spec.levels:
        if _is_head_label(level):
            return column, level
    return None, None


def _is_head_label(level: str) -> bool:
    lowered = level.strip().lower()
    return "kepala" in lowered or "head" in lowered or lowered in ("krt", "kk", "1")


def typed_for_scoring(raw: RawTable, spec: HouseholdSpec) -> dict[str, Column]:
    """The spec's columns read from another file: numbers must be numbers, categories map to the kept levels."""
    missing = [c.name for c in spec.columns if c.name not in raw.columns]
    if missing:
        raise PmtError(
            PmtProblem.MISSING_COLUMN,
            f"kolom yang dipakai model tidak ada di {raw.path.name}: {', '.join(missing)}",
        )
    typed: dict[str, Column] = {}
    for column in spec.columns:
        values = raw.columns[column.name]
        if column.kind == "numeric":
            typed[column.name] = Numeric(to_numeric(raw, column.name, what="fitur"))
        else:
            typed[column.name] = _recode(values, column.levels)
            if column.education:
                typed[f"{column.name}{ORDINAL}"] = Numeric(education_level(values))
    return typed


def aggregate(raw: RawTable, grouping: Grouping, spec: HouseholdSpec, typed: dict[str, Column]) -> Households:
    """One row per household: household-level values, member counts/shares/statistics, the head's values."""
    features: dict[str, Column] = {}
    persons = spec.rows == "persons"
    size = grouping.size.astype(np.float64)
    if persons:
        features[SIZE] = Numeric(size)
    head_row = None
    if persons and spec.head_column is not None and spec.head_column in typed:
        marker = typed[spec.head_column]
        if isinstance(marker, Numeric):
            is_head = marker.values == float(spec.head_value or 1)
        else:
            target = marker.levels.index(spec.head_value) if spec.head_value in marker.levels else -3
            is_head = marker.codes == target
        position = np.where(is_head[grouping.order], np.arange(len(grouping.order)), len(grouping.order))
        first_head = np.minimum.reduceat(position, grouping.starts)
        has_head = first_head < len(grouping.order)
        head_row = np.where(has_head, grouping.order[np.minimum(first_head, len(grouping.order) - 1)], -1)
    for column in spec.columns:
        data = typed[column.name]
        if column.level == "household" or not persons:
            features[column.name] = _household_level(grouping, data)
            continue
        if isinstance(data, Numeric):
            _member_numeric(features, grouping, column.name, data.values, head_row)
        else:
            _member_categorical(features, grouping, column.name, data, size, head_row)
            ordinal = typed.get(f"{column.name}{ORDINAL}")
            if column.education and isinstance(ordinal, Numeric):
                _member_numeric(features, grouping, f"{column.name}{ORDINAL}", ordinal.values, head_row)
    if persons and spec.age_column is not None and isinstance(typed.get(spec.age_column), Numeric):
        age = typed[spec.age_column]
        assert isinstance(age, Numeric)
        bands = {"n_umur_0_4": (0, 5), "n_umur_5_17": (5, 18), "n_umur_18_59": (18, 60), "n_umur_60_plus": (60, 999)}
        for name, (low, high) in bands.items():
            inside = (age.values >= low) & (age.values < high)
            features[name] = Numeric(grouping.reduce(np.add, inside.astype(np.float64)))
        young = grouping.reduce(np.add, (age.values < 15).astype(np.float64))
        old = grouping.reduce(np.add, (age.values >= 65).astype(np.float64))
        working = grouping.reduce(np.add, ((age.values >= 15) & (age.values < 65)).astype(np.float64))
        with np.errstate(divide="ignore", invalid="ignore"):
            features["rasio_ketergantungan"] = Numeric(np.where(working > 0, (young + old) / working, young + old))
    return Households(ids=grouping.ids, size=grouping.size, features=features, first_row=grouping.first_row)


def _household_level(grouping: Grouping, data: Column) -> Column:
    if isinstance(data, Numeric):
        return Numeric(grouping.reduce(np.fmax, data.values))
    as_float = np.where(data.codes == -1, np.nan, data.codes.astype(np.float64))
    value = grouping.reduce(np.fmax, as_float)
    return Categorical(np.where(np.isnan(value), -1, value).astype(np.int32), data.levels)


def _member_numeric(
    features: dict[str, Column], grouping: Grouping, name: str, x: np.ndarray, head_row: np.ndarray | None
) -> None:
    known = ~np.isnan(x)
    count = grouping.reduce(np.add, known.astype(np.float64))
    total = grouping.reduce(np.add, np.where(known, x, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        features[f"{name}__mean"] = Numeric(np.where(count > 0, total / count, np.nan))
    features[f"{name}__min"] = Numeric(grouping.reduce(np.fmin, x))
    features[f"{name}__max"] = Numeric(grouping.reduce(np.fmax, x))
    features[f"{name}__sum"] = Numeric(np.where(count > 0, total, np.nan))
    if head_row is not None:
        features[f"kepala__{name}"] = Numeric(np.where(head_row >= 0, x[np.maximum(head_row, 0)], np.nan))


def _member_categorical(
    features: dict[str, Column],
    grouping: Grouping,
    name: str,
    data: Categorical,
    size: np.ndarray,
    head_row: np.ndarray | None,
) -> None:
    for index, level in enumerate(data.levels):
        count = grouping.reduce(np.add, (data.codes == index).astype(np.float64))
        features[f"{name}__n[{level}]"] = Numeric(count)
        features[f"{name}__pct[{level}]"] = Numeric(count / size)
    if head_row is not None:
        codes = np.where(head_row >= 0, data.codes[np.maximum(head_row, 0)], -1).astype(np.int32)
        features[f"kepala__{name}"] = Categorical(codes, data.levels)
