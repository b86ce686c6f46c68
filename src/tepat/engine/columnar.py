"""Cells of a whole column at once, with exactly the results of the per-cell functions.

A million-row list spent ~55 µs a row in per-cell Python (a dict per row, a method call per cell, a full NIK check
for every clean NIK). Columns repeat values (dates, villages, codes, relationships), and almost every NIK is
sixteen clean digits that pass every check. So a column's distinct values are parsed once, and a NIK is only
checked in full when the quick test below cannot prove that the full check finds nothing; the callers then send
every row with any finding through the per-row path, which writes the report. The results are the per-cell
functions' results by construction (tests/engine/test_columnar.py checks that with generated cells).

No Django here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np

from tepat.engine import identity
from tepat.engine.identity import RegionCodes, Sex
from tepat.engine.values import ValueError_

_LENGTH = 16


def cell_text(value: Any) -> str:
    """A cell as text: stripped; an integral float without its ``.0``; '' for an empty cell."""
    if type(value) is str:  # CSV cells, and most workbook cells
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    return str(value).strip()


def cell_raw(value: Any) -> Any:
    """A cell as its parsers take it: text stripped, other values as they are."""
    return value.strip() if isinstance(value, str) else value


_STR, _NONE = {str}, {type(None)}


def texts(values: Sequence[Any]) -> list[str]:
    """``cell_text`` of every cell."""
    kinds = set(map(type, values))
    if kinds == _STR:
        return [v.strip() for v in values]
    if kinds == _NONE:
        return [""] * len(values)
    return [cell_text(v) for v in values]


def fit(values: list[str], limit: int) -> list[str]:
    """Texts cut to ``limit`` characters (a database column's length); the list itself when every text fits, which
    one pass of C finds out."""
    if not values or max(map(len, values)) <= limit:
        return values
    return [value[:limit] for value in values]


def raws(values: Sequence[Any]) -> list[Any]:
    """``cell_raw`` of every cell."""
    kinds = set(map(type, values))
    if kinds == _STR:
        return [v.strip() for v in values]
    if kinds == _NONE:
        return list(values)
    return [cell_raw(v) for v in values]


# The outcome of a cell parser: the value, and the code of the problem ('' when there is none).
Parsed = tuple[Any, str]


def parse_cell(raw: Any, parser: Callable[[Any], Any]) -> Parsed:
    """``parser`` over a raw cell as an import reads it: None for an empty cell; a code when it cannot be read."""
    if raw is None or raw == "":
        return None, ""
    try:
        return parser(raw), ""
    except ValueError_ as exc:
        return None, exc.code
    except TypeError:  # an unhashable or odd cell type from a workbook
        return None, "value.invalid"


def parse_column(raw_values: Sequence[Any], parser: Callable[[Any], Any]) -> list[Parsed]:
    """``parse_cell`` of every raw cell, each distinct cell parsed once.

    Distinct by type as well as value: 1, 1.0 and True are equal keys to a dict but not to the parsers.
    """
    one_kind = _by_value(raw_values, lambda raw: parse_cell(raw, parser))
    if one_kind is not None:
        return one_kind
    seen: dict[tuple[type, Any], Parsed] = {}
    out: list[Parsed] = []
    append = out.append
    for raw in raw_values:
        try:
            key = (type(raw), raw)
            result = seen.get(key)
        except TypeError:  # unhashable
            append(parse_cell(raw, parser))
            continue
        if result is None:
            result = seen[key] = parse_cell(raw, parser)
        append(result)
    return out


_TEXT_OR_NONE = frozenset({str, type(None)})


def _by_value(values: Sequence[Any], function: Callable[[Any], Any]) -> list[Any] | None:
    """``function`` of every value, computed once per distinct value and spread back by C loops, when the values
    are of one type (or text and None): then equal values are the same cell. None for anything else."""
    kinds = set(map(type, values))
    if not (len(kinds) == 1 or kinds <= _TEXT_OR_NONE):
        return None
    try:
        results = {value: function(value) for value in set(values)}
    except TypeError:  # unhashable cells
        return None
    return list(map(results.__getitem__, values))


def map_distinct(values: Sequence[Any], function: Callable[[Any], Any]) -> list[Any]:
    """``function`` of every value (hashable, typed: see parse_column), computed once per distinct value."""
    one_kind = _by_value(values, function)
    if one_kind is not None:
        return one_kind
    seen: dict[tuple[type, Any], Any] = {}
    out: list[Any] = []
    append = out.append
    for value in values:
        key = (type(value), value)
        try:
            if key in seen:
                append(seen[key])
                continue
        except TypeError:  # unhashable
            append(function(value))
            continue
        result = seen[key] = function(value)
        append(result)
    return out


# Values equal only when they are the same value (unlike 1, 1.0 and True): safe as keys of a cache kept across
# chunks whatever types later chunks bring. datetime is not among them (a datetime is never equal to a date).
_CACHEABLE = frozenset({str, type(None), date})
CACHE_LIMIT = 200_000  # distinct values kept per cache; past it the cache starts again


def map_cached(values: Sequence[Any], function: Callable[[Any], Any], cache: dict[Any, Any]) -> list[Any]:
    """``function`` of every value, remembered in ``cache`` across calls (the chunks of one import): a birth date
    column has tens of thousands of distinct values, and a chunk of 5,000 rows parsed most of them again (1.5 of
    2 µs per row, against 0.3). Text, None and dates only; any other column as ``map_distinct``."""
    if not set(map(type, values)) <= _CACHEABLE:
        return map_distinct(values, function)
    missing = set(values).difference(cache)
    if missing:
        if len(cache) + len(missing) > CACHE_LIMIT:
            cache.clear()
            missing = set(values)  # the values this chunk found in the cache are gone with it
        for value in missing:
            cache[value] = function(value)
    return list(map(cache.__getitem__, values))


def _plain_number(raw: Any, districts: frozenset[str] | None) -> bool:
    """Sixteen ASCII digits that identity's NIK and KK checks take as they are and find nothing wrong with before
    their date: not a placeholder (identity._is_placeholder: its "region code and zeros" ends in 0000 too), no
    zero serial, a known district (when ``districts`` is given)."""
    return not (
        type(raw) is not str
        or len(raw) != _LENGTH
        or not raw.isascii()
        or not raw.isdigit()
        or raw[12:] == "0000"
        or raw == raw[0] * _LENGTH
        or raw in identity._ASCENDING
        or raw in identity._DESCENDING
        or raw[2:] == raw[:-2]
        or (districts is not None and raw[:6] not in districts)
    )


def niks_without_findings(
    raw_niks: Sequence[Any],
    sexes: Sequence[Sex | None],
    borns: Sequence[date | None],
    *,
    regions: RegionCodes | None,
    today: date | None = None,
) -> list[bool]:
    """For each row, whether ``identity.check_nik(raw, regions=regions, sex=sex, born=born)`` gives a valid NIK
    with no problem at all (then the check's result is known: nik == raw, valid, no problems).

    False means "not proven", never "invalid": those rows take the full check. With a recorded birth date the
    proof is that the NIK's DDMMYY is exactly that date (day + 40 for women) of a year 1900-2099 not after today:
    then check_nik reads the same date from the NIK (the recorded year picks the century) and finds no mismatch.

    Whole columns at once in numpy (the sixteen digits as a byte matrix); ``nik_without_findings`` is the same
    proof for one row, and the rows without a birth date take it.
    """
    now = today or identity._today()
    districts = _districts(regions) if regions is not None else None
    count = len(raw_niks)
    ok, digits, rows = _plain_numbers(raw_niks, districts)
    if not len(rows):
        return ok.tolist()
    if not (set(map(type, borns)) <= _DATE_OR_NONE and set(map(type, sexes)) <= _SEX_OR_NONE):
        # Not what the parsers give (a datetime, "L" as text: equal to a Sex or a date as a dict key but not to the
        # check): row by row.
        return [nik_without_findings(raw, sex, born, districts=districts, today=now)
                for raw, sex, born in zip(raw_niks, sexes, borns, strict=True)]  # fmt: skip
    sex_codes = {sex: _SEX_CODES[sex] for sex in set(sexes)}
    sex = np.fromiter(map(sex_codes.__getitem__, sexes), dtype=np.int8, count=count)[rows]
    ordinals = np.fromiter([born.toordinal() if born is not None else 0 for born in borns], np.int64, count)[rows]
    day = (ordinals - _UNIX_ORDINAL).astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    year = month.astype("datetime64[Y]").astype(np.int64) + 1970
    # The DDMMYY a man's NIK carries for the recorded date (a woman's: day + 40), as a number; see _ddmmyy_texts.
    man = ((day - month).astype(np.int64) + 1) * 10_000 + (month.astype(np.int64) % 12 + 1) * 100 + year % 100
    provable = (ordinals > 0) & (year >= 1900) & (year <= 2099) & (ordinals <= now.toordinal())
    ddmmyy = digits[:, 6:12].astype(np.int64) @ _POWERS_6
    ok[rows] = provable & (((ddmmyy == man) & (sex != _FEMALE)) | ((ddmmyy == man + 400_000) & (sex != _MALE)))
    birth = identity._birth
    for at in rows[ordinals == 0].tolist():  # no recorded date: the NIK's own must read
        raw, given = raw_niks[at], sexes[at]
        _, nik_sex, kinds = birth(raw[6:12], now, None)
        ok[at] = not kinds and not (given and nik_sex and given is not nik_sex)
    return ok.tolist()


def nik_without_findings(
    raw: Any, sex: Sex | None, born: date | None, *, districts: frozenset[str] | None, today: date
) -> bool:
    """``niks_without_findings`` for one row."""
    if not _plain_number(raw, districts) or not (sex is None or type(sex) is Sex):
        return False
    if type(born) is date:
        texts = _ddmmyy_texts(born, today)
        digits = raw[6:12]
        return texts is not None and (
            (digits == texts[0] and sex is not Sex.FEMALE) or (digits == texts[1] and sex is not Sex.MALE)
        )
    if born is not None:
        return False
    _, nik_sex, kinds = identity._birth(raw[6:12], today, None)
    return not kinds and not (sex and nik_sex and sex is not nik_sex)


_MALE, _FEMALE = 1, 2
_DATE_OR_NONE, _SEX_OR_NONE = frozenset({date, type(None)}), frozenset({Sex, type(None)})
_SEX_CODES: dict[Sex | None, int] = {None: 0, Sex.MALE: _MALE, Sex.FEMALE: _FEMALE}
_POWERS_6 = 10 ** np.arange(5, -1, -1, dtype=np.int64)
_UNIX_ORDINAL = date(1970, 1, 1).toordinal()


def _plain_numbers(raws: Sequence[Any], districts: frozenset[str] | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_plain_number`` of every cell, in numpy: (a bool per cell, the digit matrix of the cells that pass, their
    row numbers)."""
    count = len(raws)
    ok = np.zeros(count, dtype=bool)
    if set(map(type, raws)) == _STR:
        lengths = np.fromiter(map(len, raws), dtype=np.int64, count=count)
        rows = np.flatnonzero(lengths == _LENGTH)
        texts = raws if len(rows) == count else [raws[i] for i in rows.tolist()]
    else:
        rows = np.array([i for i, raw in enumerate(raws) if type(raw) is str and len(raw) == _LENGTH], dtype=np.int64)
        texts = [raws[i] for i in rows.tolist()]
    if not len(rows):
        return ok, np.zeros((0, _LENGTH), dtype=np.uint8), rows
    # One byte per character: anything not ASCII becomes '?', which is not a digit.
    digits = np.frombuffer("".join(texts).encode("ascii", "replace"), dtype=np.uint8).reshape(-1, _LENGTH) - 48
    step = (digits[:, 1:].astype(np.int16) - digits[:, :-1]) % 10
    passed = (
        (digits <= 9).all(axis=1)  # uint8: the characters below '0' wrapped round to large numbers
        & (digits[:, 12:] != 0).any(axis=1)  # a zero serial (also "region code and zeros")
        & (digits != digits[:, :1]).any(axis=1)  # one digit sixteen times
        & (step != 1).any(axis=1)  # 0123456789… from any digit
        & (step != 9).any(axis=1)  # 9876543210… from any digit
        & (digits[:, 2:] != digits[:, :-2]).any(axis=1)  # 1212… and every other two-digit repeat
    )
    if districts is not None:  # looked up for the all-digit rows only: another row's "code" can pass 999,999
        codes = digits[passed, :6].astype(np.int64) @ _POWERS_6
        passed[passed] = _district_table(districts)[codes]
    rows, digits = rows[passed], digits[passed]
    ok[rows] = True
    return ok, digits, rows


@lru_cache(maxsize=8)
def _district_table(districts: frozenset[str]) -> np.ndarray:
    """A flag for every six-digit number: whether it is one of ``districts`` (1 MB, looked up without a search)."""
    table = np.zeros(10**6, dtype=bool)
    table[[int(code) for code in districts if len(code) == 6 and code.isdigit()]] = True
    return table


def kk_without_findings(raw: Any, *, regions: RegionCodes | None, today: date | None = None) -> bool:
    """Whether ``identity.check_kk(raw, regions=regions)`` gives a valid KK with no problem at all (then its result
    is known: kk == raw, valid, no problems). False means "not proven": take the full check."""
    if not _plain_number(raw, _districts(regions) if regions is not None else None):
        return False
    now = today or identity._today()
    day, month, yy = int(raw[6:8]), int(raw[8:10]), int(raw[10:12])
    try:
        date(identity._year(yy, month, day, now, None), month, day)
    except ValueError:
        return False
    return True


def kks_without_findings(raws: Sequence[Any], *, regions: RegionCodes | None, today: date | None = None) -> list[bool]:
    """``kk_without_findings`` of every cell, in numpy."""
    now = today or identity._today()
    ok, digits, rows = _plain_numbers(raws, _districts(regions) if regions is not None else None)
    if len(rows):
        day, month, yy = (digits[:, at : at + 2].astype(np.int64) @ _POWERS_6[-2:] for at in (6, 8, 10))
        # identity._year without a recorded date: 20YY unless that is after today
        year = np.where(yy * 10_000 + month * 100 + day <= (now.year - 2000) * 10_000 + now.month * 100 + now.day,
                        2000 + yy, 1900 + yy)  # fmt: skip
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        last = _MONTH_DAYS[np.clip(month, 0, 12)] + (leap & (month == 2))
        ok[rows] = (month >= 1) & (month <= 12) & (day >= 1) & (day <= last)
    return ok.tolist()


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


@lru_cache(maxsize=1 << 17)  # birth dates repeat across a list: about 36,500 in a century
def _ddmmyy_texts(born: date, today: date) -> tuple[str, str] | None:
    """The DDMMYY a man's and a woman's NIK carry for this birth date; None when check_nik would not read it back."""
    if not 1900 <= born.year <= 2099 or born > today:
        return None
    tail = f"{born.month:02d}{born.year % 100:02d}"
    return f"{born.day:02d}{tail}", f"{born.day + 40:02d}{tail}"


_DISTRICTS: dict[int, tuple[RegionCodes, frozenset[str]]] = {}


def _districts(regions: RegionCodes) -> frozenset[str]:
    """The district codes as a NIK's first six digits write them (only codes of the dotted 2.2.2 form)."""
    cached = _DISTRICTS.get(id(regions))
    if cached is None or cached[0] is not regions:
        digits = frozenset(
            code.replace(".", "") for code in regions.districts if len(code) == 8 and code[2] == code[5] == "."
        )
        cached = _DISTRICTS[id(regions)] = (regions, digits)
    return cached[1]
