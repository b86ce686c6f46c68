"""From a person list as it arrives to one row of comparable evidence per record (the table `rec`).

Cells are read the way the import reads them (engine.identity for NIK/KK/sex/dates, engine.names for names,
engine.values for village codes), but each distinct value is read once: a million-row union of lists repeats the
same names, dates and NIKs many times, and per-value Python is the expensive part. Arrow's dictionary encoding
finds the distinct values and spreads the answers back to the rows in C++, so no row-by-row Python remains.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from tepat.engine import names
from tepat.engine.identity import (
    KkProblem,
    NikProblem,
    RegionCodes,
    check_kk,
    check_nik,
    parse_date,
    parse_sex,
)
from tepat.engine.linkage.config import Fields, LinkageConfig
from tepat.engine.values import normalise_village_code

# The parts an input column can play (see config.Fields); "address" may span several columns.
ROLES = (
    "record_id",
    "identifier",
    "family_id",
    "name",
    "given_name",
    "surname",
    "sex",
    "birth_place",
    "birth_date",
    "mother_name",
    "house_number",
    "rt",
    "rw",
    "village",
    "locality",
    "postcode",
    "region",
)
# The evidence columns of `rec`, in this order (all present, null where the list has nothing).
EVIDENCE: dict[str, pa.DataType] = {
    "record_id": pa.string(),
    "ident": pa.string(),  # the identifier as 16 digits (NIK) or as written (plain)
    "ident_ok": pa.bool_(),  # a valid NIK (tepat.engine.identity), or any plain identifier
    "ident_digits": pa.string(),  # digits of a damaged identifier: still evidence in generic mode
    "kk": pa.string(),  # a valid KK number
    "name": pa.string(),
    "name_key": pa.string(),
    "first_key": pa.string(),
    "last_key": pa.string(),
    "father": pa.string(),
    "given": pa.string(),
    "given_key": pa.string(),
    "surname": pa.string(),
    "surname_key": pa.string(),
    "sex": pa.string(),
    "dob": pa.date32(),
    "dob_text": pa.string(),  # YYYYMMDD
    "birth_place": pa.string(),
    "mother": pa.string(),
    "mother_key": pa.string(),
    "address": pa.string(),
    "house_number": pa.string(),
    "rtrw": pa.string(),
    "village": pa.string(),
    "district": pa.string(),
    "area": pa.string(),  # where layer 2 looks: the village, or the postcode when there is no village
    "locality": pa.string(),
    "postcode": pa.string(),
    "region": pa.string(),
}


@dataclass(frozen=True)
class Prepared:
    rows: int
    present: frozenset[str]  # evidence columns of `rec` that hold at least one value
    anchors: bool  # valid identifiers anchor persons (NIK mode)
    seconds: dict[str, float]


def input_columns(table: pa.Table, fields: Fields) -> dict[str, list[str]]:
    """role -> input column names found in the table (case-insensitive); address may span several columns."""
    by_lower = {name.strip().lower(): name for name in table.column_names}
    found: dict[str, list[str]] = {}
    for role in ROLES:
        wanted = getattr(fields, role)
        if wanted and wanted.strip().lower() in by_lower:
            found[role] = [by_lower[wanted.strip().lower()]]
    address = [by_lower[c.strip().lower()] for c in fields.address if c.strip().lower() in by_lower]
    if address:
        found["address"] = address
    return found


def load(con: duckdb.DuckDBPyConnection, table: pa.Table, config: LinkageConfig) -> Prepared:
    """Build `rec` (one row per input row, `rid` = position, the EVIDENCE columns) from an Arrow table."""
    fields = config.fields
    columns = input_columns(table, fields)
    rows = table.num_rows
    cells = {role: _cells(table, sources) for role, sources in columns.items()}
    anchors = fields.identifier_kind == "nik"
    seconds: dict[str, float] = {}
    clock = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        seconds[name] = round(now - clock[0], 3)
        clock[0] = now

    out: dict[str, pa.Array] = {}
    record_ids = pa.array([str(n) for n in range(1, rows + 1)], pa.string())  # no record id: the row number
    out["record_id"] = pc.coalesce(cells["record_id"], record_ids) if "record_id" in cells else record_ids
    if "identifier" in cells:
        if anchors:
            out |= _nik(cells["identifier"], config)
        else:
            out |= _by_value(cells["identifier"], _plain_identifier, ("ident", "ident_ok", "ident_digits"))
    if "family_id" in cells:
        out["kk"] = _kk(cells["family_id"], config) if anchors else _by_value(cells["family_id"], _plain, ("kk",))["kk"]
    lap("nik_kk")
    _names = _Names()
    if "name" in cells:
        out |= _by_value(cells["name"], _names, ("name", "name_key", "first_key", "last_key", "father"))
    for role, prefix in (("given_name", "given"), ("surname", "surname")):
        if role in cells:
            parsed = _by_value(cells[role], _names, (prefix, f"{prefix}_key", "_", "_", "_"))
            out |= {prefix: parsed[prefix], f"{prefix}_key": parsed[f"{prefix}_key"]}
    if "name" not in cells and ("given" in out or "surname" in out):
        given, surname = out.get("given"), out.get("surname")
        parts = [part for part in (given, surname) if part is not None]
        keys = [out[f"{p}_key"] for p in ("given", "surname") if f"{p}_key" in out]
        out["name"] = _none_if_empty(pc.binary_join_element_wise(*[pc.fill_null(p, "") for p in parts], " "))
        out["name"] = _none_if_empty(pc.utf8_trim_whitespace(out["name"]))
        out["name_key"] = _none_if_empty(pc.binary_join_element_wise(*[pc.fill_null(k, "") for k in keys], ""))
        out["first_key"], out["last_key"] = keys[0], keys[-1]
    if "mother_name" in cells:
        parsed = _by_value(cells["mother_name"], _names, ("mother", "mother_key", "_", "_", "_"))
        out |= {"mother": parsed["mother"], "mother_key": parsed["mother_key"]}
    lap("names")
    if "birth_date" in cells:
        out |= _by_value(cells["birth_date"], _birth_date, ("dob", "dob_text"), {"dob": pa.date32()})
    if "sex" in cells:
        out["sex"] = _by_value(cells["sex"], _sex, ("sex",))["sex"]
    if "village" in cells:
        out |= _by_value(cells["village"], _village, ("village", "district"))
    if "address" in cells:
        out["address"] = _by_value(cells["address"], _address, ("address",))["address"]
    if "birth_place" in cells:
        out["birth_place"] = _by_value(cells["birth_place"], _place, ("birth_place",))["birth_place"]
    for role in ("house_number", "locality", "postcode", "region"):
        if role in cells:
            out[role] = _by_value(cells[role], _plain_text, (role,))[role]
    if "rt" in cells or "rw" in cells:
        out["rtrw"] = _rt_rw(cells.get("rt"), cells.get("rw"), rows)
    if "village" in out or "postcode" in out:
        out["area"] = pc.coalesce(*[out[c] for c in ("village", "postcode") if c in out])
    lap("values")

    arrays = {"rid": pa.array(range(rows), pa.int64())}
    for name, kind in EVIDENCE.items():
        arrays[name] = out[name].cast(kind) if name in out else pa.nulls(rows, kind)
    if "ident_ok" in out:
        arrays["ident_ok"] = pc.fill_null(arrays["ident_ok"], False)
    else:
        arrays["ident_ok"] = pa.array([False] * rows, pa.bool_()) if rows else pa.array([], pa.bool_())
    rec = pa.table(arrays)
    present = frozenset(name for name in EVIDENCE if name != "record_id" and rec.column(name).null_count < rows)
    if "ident_ok" in present and not pc.any(rec.column("ident_ok")).as_py():
        present -= {"ident_ok"}
    # Registered, not copied: DuckDB reads the Arrow buffers in place, and each query reads only its columns.
    con.register("rec", rec)
    lap("rec")
    return Prepared(rows=rows, present=present, anchors=anchors and "ident_ok" in present, seconds=seconds)


# --- cells --------------------------------------------------------------------------------------------------------


def _cells(table: pa.Table, sources: Sequence[str]) -> pa.Array:
    """The cells of a role as trimmed text, empty cells as null (address: several columns joined by spaces)."""
    parts = [_none_if_empty(pc.utf8_trim_whitespace(_as_text(table.column(source)))) for source in sources]
    if len(parts) == 1:
        return parts[0]
    joined = pc.binary_join_element_wise(*[pc.fill_null(part, "") for part in parts], " ")
    return _none_if_empty(pc.utf8_trim_whitespace(joined))


def _as_text(column: pa.ChunkedArray) -> pa.Array:
    """Lists mix numbers, dates and text in one column: every cell as text."""
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_string(column.type):
        return column
    if pa.types.is_large_string(column.type):
        return column.cast(pa.string())
    if pa.types.is_floating(column.type):  # 3.0 -> "3" (an RT read as a number); NIK floats keep their digits
        values = [
            None if v is None else (str(int(v)) if float(v).is_integer() else repr(v)) for v in column.to_pylist()
        ]
        return pa.array(values, pa.string())
    if pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
        return pc.strftime(column, format="%Y-%m-%d")
    return column.cast(pa.string())


def _none_if_empty(array: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(array, ""), pa.scalar(None, array.type), array)


Reader = Callable[[list[str]], Iterable[tuple[object, ...]]]


def _by_value(
    cells: pa.Array, reader: Reader, outputs: Sequence[str], types: dict[str, pa.DataType] | None = None
) -> dict[str, pa.Array]:
    """Run `reader` once per distinct cell and spread its outputs back to every row (outputs named "_" dropped)."""
    encoded = cells.dictionary_encode()
    distinct = encoded.dictionary.to_pylist()
    results = list(reader(distinct))
    spread: dict[str, pa.Array] = {}
    for index, output in enumerate(outputs):
        if output == "_":
            continue
        kind = (types or {}).get(output, pa.bool_() if output == "ident_ok" else pa.string())
        values = pa.array([result[index] for result in results], kind)
        spread[output] = values.take(encoded.indices)
    return spread


# --- readers of distinct values -----------------------------------------------------------------------------------


class _Names:
    """Reads names for every name column of one run; a mother is often a person of the list too: parsed once."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[object, ...]] = {}

    def __call__(self, values: list[str]) -> Iterator[tuple[object, ...]]:
        seen = self.seen
        new = [value for value in values if value not in seen]
        for value, parsed in zip(new, names.parse_names(new), strict=True):
            if not parsed.name:
                seen[value] = (None, None, None, None, parsed.father or None)
            else:
                seen[value] = (parsed.name, parsed.key, parsed.first_key, parsed.last_key, parsed.father or None)
        return (seen[value] for value in values)


_YYYYMMDD = re.compile(r"(1[89]\d\d|20\d\d)(\d\d)(\d\d)")


def _birth_date(values: list[str]) -> Iterator[tuple[object, ...]]:
    """The date, and its digits YYYYMMDD (a typing error in one digit is a comparison level)."""
    for value in values:
        born: date | None = None
        if match := _YYYYMMDD.fullmatch(value):  # 19560429 (FEBRL, some exports) is not an Excel serial
            try:
                born = date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                born = None
        else:
            born = parse_date(value)
        if born is None or not 1880 <= born.year <= 2100:
            yield None, None
        else:
            yield born, f"{born.year:04d}{born.month:02d}{born.day:02d}"


def _sex(values: list[str]) -> Iterator[tuple[object, ...]]:
    for value in values:
        sex = parse_sex(value)
        yield (sex.value if sex else None,)


_VILLAGE_CODE = re.compile(r"\d\d\.\d\d\.\d\d\.\d{4}")


def _village(values: list[str]) -> Iterator[tuple[object, ...]]:
    for value in values:
        code = normalise_village_code(value)
        if _VILLAGE_CODE.fullmatch(code):
            yield code, code[:8]
        else:  # a village name instead of a code: comparable with itself, no district
            yield " ".join(code.lower().split()) or None, None


_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_ADDRESS_WORDS = {"jalan": "jl", "jln": "jl", "gang": "gg", "nomor": "no", "nomer": "no", "nmr": "no"}


def _address(values: list[str]) -> Iterator[tuple[object, ...]]:
    """ "Jalan Ahmad Yani, No. 5" and "JL. AHMAD YANI NO 5" are one address."""
    for value in values:
        words = _NOT_ALNUM.sub(" ", value.lower()).split()
        yield (" ".join(_ADDRESS_WORDS.get(word, word) for word in words) or None,)


_PLACE_PREFIX = re.compile(r"^(kota|kab|kabupaten)\s+")


def _place(values: list[str]) -> Iterator[tuple[object, ...]]:
    for value in values:
        text = " ".join(_NOT_ALNUM.sub(" ", value.lower()).split())
        yield (_PLACE_PREFIX.sub("", text) or None,)


def _plain_text(values: list[str]) -> Iterator[tuple[object, ...]]:
    for value in values:
        yield (" ".join(_NOT_ALNUM.sub(" ", value.lower()).split()) or None,)


_SEPARATORS = re.compile(r"[\s\-./]")


def _plain_identifier(values: list[str]) -> Iterator[tuple[object, ...]]:
    for value in values:
        text = _SEPARATORS.sub("", value).upper()
        yield text or None, bool(text), text or None


def _plain(values: list[str]) -> Iterator[tuple[object, ...]]:
    for value in values:
        yield (_SEPARATORS.sub("", value).upper() or None,)


def _rt_rw(rt: pa.Array | None, rw: pa.Array | None, rows: int) -> pa.Array:
    """RT "003" and "3" are one RT; "3/1" for RT 3, RW 1."""

    def read(values: list[str]) -> Iterator[tuple[object, ...]]:
        for value in values:
            yield ("".join(ch for ch in value if ch.isdigit()).lstrip("0") or None,)

    def number(cells: pa.Array | None) -> pa.Array:
        return pa.nulls(rows, pa.string()) if cells is None else _by_value(cells, read, ("n",))["n"]

    rt_n, rw_n = number(rt), number(rw)
    joined = pc.binary_join_element_wise(rt_n, pc.fill_null(rw_n, ""), "/")
    return pc.if_else(pc.is_null(rt_n), pa.scalar(None, pa.string()), joined)


# --- NIK and KK: tepat.engine.identity's verdict, segment by segment -----------------------------------------------

_SAFE_DATE = "150588"  # 15 May 1988: a valid NIK and KK date, used to test the other segments on their own
_NIK_REGION = {NikProblem.PROVINCE_UNKNOWN, NikProblem.REGENCY_UNKNOWN, NikProblem.DISTRICT_UNKNOWN}
_DIGIT_RUN = re.compile(r"\d{12,18}")
_RUNS = pa.array(sorted({(digits * 3)[i : i + 16] for digits in ("0123456789", "9876543210") for i in range(10)}))


def segmentable(numbers: pa.Array) -> pa.Array:
    """Clean 16-digit numbers that cannot be placeholders (1212…, 0000…, 1234…, region code + zeros).

    For these, identity.check_nik's verdict is the conjunction of its verdicts on the region (digits 1-6), the
    birth date (7-12) and the serial (13-16): each distinct segment is judged once by check_nik itself. Every other
    value (Excel damage, separators, possible placeholders) is judged whole. tests/engine/test_linkage.py checks
    that the shortcut and check_nik agree.
    """
    clean = pc.and_(pc.equal(pc.binary_length(numbers), 16), pc.ascii_is_decimal(numbers))
    periodic = pc.equal(pc.utf8_slice_codeunits(numbers, 2), pc.utf8_slice_codeunits(numbers, 0, 14))
    zeros = pc.equal(pc.utf8_slice_codeunits(numbers, 6), "0000000000")
    runs = pc.is_in(numbers, value_set=_RUNS)
    suspicious = pc.or_(pc.or_(periodic, zeros), runs)
    return pc.fill_null(pc.and_(clean, pc.invert(suspicious)), False)


def _safe_prefix(regions: RegionCodes | None) -> str:
    if regions is None or not regions.districts:
        return "647403"
    return min(regions.districts).replace(".", "")


def _segment_ok(
    numbers: pa.Array, clean: pa.Array, start: int, length: int, check: Callable[[list[str]], Iterable[bool]]
) -> pa.Array:
    parts = pc.if_else(clean, pc.utf8_slice_codeunits(numbers, start, start + length), pa.scalar(None, pa.string()))
    return _by_value(parts, lambda values: ((ok,) for ok in check(values)), ("ok",), {"ok": pa.bool_()})["ok"]


def _each(check: Callable[[str], bool]) -> Callable[[list[str]], Iterable[bool]]:
    return lambda values: (check(value) for value in values)


def _birth_verdicts(check: Callable[[str], bool]) -> Callable[[list[str]], Iterable[bool]]:
    """Verdicts on DDMMYY, asking check_nik once per day and month rather than once per date.

    Without a recorded birth date, check_nik reads YY as the latest year that is not in the future, so no NIK date
    is ever in the future and the year decides nothing but 29 February (leap years): every other DDMM gets the
    verdict of DDMM + "88", and DDMMYY with 29 February (day 29 or 69) is asked as it is. 63,000 distinct dates in
    a million NIKs become about 900 questions. The equivalence with check_nik is tested.
    """

    def verdicts(values: list[str]) -> Iterator[bool]:
        by_day: dict[str, bool] = {}
        for value in values:
            day_month = value[:4]
            if day_month in ("2902", "6902"):
                yield check(value)
                continue
            verdict = by_day.get(day_month)
            if verdict is None:
                verdict = by_day[day_month] = check(day_month + "88")
            yield verdict

    return verdicts


def _nik(cells: pa.Array, config: LinkageConfig) -> dict[str, pa.Array]:
    regions, today = config.regions, config.today
    prefix = _safe_prefix(regions)

    def region(part: str) -> bool:
        return not _NIK_REGION.intersection(check_nik(part + _SAFE_DATE + "0001", regions=regions).problems)

    def birth(part: str) -> bool:
        return check_nik(prefix + part + "0001", regions=regions, today=today).valid

    def serial(part: str) -> bool:
        return check_nik(prefix + _SAFE_DATE + part, regions=regions, today=today).valid

    clean = segmentable(cells)
    ok = pc.and_(
        pc.and_(
            _segment_ok(cells, clean, 0, 6, _each(region)), _segment_ok(cells, clean, 6, 6, _birth_verdicts(birth))
        ),
        _segment_ok(cells, clean, 12, 4, _each(serial)),
    )

    def whole(values: list[str]) -> Iterator[tuple[object, ...]]:
        for value in values:
            result = check_nik(value, regions=regions, today=today)
            digits = result.nik
            if digits is None and "e" not in value.lower():  # a digit dropped or added: still evidence
                run = _DIGIT_RUN.search(re.sub(r"[\s.\-]", "", value))
                digits = run[0] if run else None
            yield result.nik, result.valid, digits

    others = _by_value(
        pc.if_else(clean, pa.scalar(None, pa.string()), cells), whole, ("ident", "ident_ok", "ident_digits")
    )
    return {
        "ident": pc.if_else(clean, cells, others["ident"]),
        "ident_ok": pc.if_else(clean, ok, others["ident_ok"]),
        "ident_digits": pc.if_else(clean, cells, others["ident_digits"]),
    }


def _kk(cells: pa.Array, config: LinkageConfig) -> pa.Array:
    """KK numbers that check_kk finds valid (a KK's date is only a warning); others are no evidence."""
    regions, today = config.regions, config.today
    prefix = _safe_prefix(regions)

    def region(part: str) -> bool:
        return KkProblem.DISTRICT_UNKNOWN not in check_kk(part + _SAFE_DATE + "0001", regions=regions).problems

    def serial(part: str) -> bool:
        return check_kk(prefix + _SAFE_DATE + part, regions=regions, today=today).valid

    clean = segmentable(cells)
    ok = pc.and_(_segment_ok(cells, clean, 0, 6, _each(region)), _segment_ok(cells, clean, 12, 4, _each(serial)))

    def whole(values: list[str]) -> Iterator[tuple[object, ...]]:
        for value in values:
            result = check_kk(value, regions=regions, today=today)
            yield (result.kk if result.valid else None,)

    others = _by_value(pc.if_else(clean, pa.scalar(None, pa.string()), cells), whole, ("kk",))["kk"]
    return pc.if_else(clean, pc.if_else(ok, cells, pa.scalar(None, pa.string())), others)
