"""Survey files as they arrive: CSV of any delimiter and encoding, every cell read as text first, then typed.

Survey microdata shared with a Bappeda (Susenas-like) have hundreds of columns, numeric codes for categories, empty
cells for "not asked", and the occasional stray text in a numeric column ("tidak tahu" in an age column). Reading
everything as text and typing each column afterwards lets us say *which* cell is wrong (column, spreadsheet line,
value) instead of failing deep inside a library, and keeps household ids such as ``0012`` as written.
"""

from __future__ import annotations

import csv
import difflib
import io
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tepat.errors import UserError

MISSING_TOKENS = ("", "na", "n/a", "nan", "null", "none", "-", ".", "?", "#n/a", "#na", "missing")
_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_DECIMAL_COMMA = r"^[+-]?\d+,\d+$"
MOSTLY_NUMERIC = 0.95  # a column whose filled cells are at least this share numbers is numeric with stray text


class PmtProblem(StrEnum):
    NOT_FOUND = "pmt.file_not_found"
    EMPTY = "pmt.file_empty"
    UNREADABLE = "pmt.file_unreadable"
    HEADER = "pmt.header"
    MISSING_COLUMN = "pmt.missing_column"
    TEXT_IN_NUMBER = "pmt.text_in_number"
    TARGET = "pmt.target"
    SINGLE_CLASS = "pmt.single_class"
    TOO_FEW = "pmt.too_few_households"
    NO_FEATURES = "pmt.no_features"
    HOUSEHOLD_ID = "pmt.household_id"
    NOT_CONSTANT = "pmt.not_household_constant"
    OPTIONS = "pmt.options"
    MODEL = "pmt.model_file"


class PmtError(UserError):
    """A survey, data or model file the PMT cannot use; the message is one Indonesian line naming what to fix."""

    def __init__(self, problem: PmtProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.code = problem.value


@dataclass(frozen=True)
class Numeric:
    values: np.ndarray  # float64, NaN = missing


@dataclass(frozen=True)
class Categorical:
    codes: np.ndarray  # int32 index into levels, -1 = missing
    levels: tuple[str, ...]


Column = Numeric | Categorical


@dataclass(frozen=True)
class RawTable:
    """Every column as trimmed text (None = missing), in file order; line numbers are spreadsheet lines."""

    path: Path
    columns: dict[str, pa.Array]
    rows: int

    def line(self, index: int) -> int:
        return index + 2  # header is line 1


def read_table(path: str | Path, *, what: str = "survei") -> RawTable:
    """Read a CSV file with every cell as text. Delimiter (, ; tab |) and encoding (UTF-8, else Windows-1252)
    are detected; the header must be on the first line."""
    path = Path(path)
    if not path.is_file():
        raise PmtError(PmtProblem.NOT_FOUND, f"berkas {what} tidak ditemukan: {path}")
    head = path.open("rb").read(1 << 16)
    if not head.strip():
        raise PmtError(PmtProblem.EMPTY, f"berkas {what} kosong: {path}")
    if b"\x00" in head:
        raise PmtError(PmtProblem.UNREADABLE, f"berkas {what} {path.name} bukan CSV/teks (mungkin lembar kerja Excel)")
    try:
        text = head.decode("utf-8-sig")
        encoding = "utf8"
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # a multi-byte character cut by the sample: still UTF-8
            text, encoding = head[: exc.start].decode("utf-8-sig"), "utf8"
        else:
            text, encoding = head.decode("cp1252", errors="replace"), "cp1252"
    first = text.splitlines()[0] if text.splitlines() else ""
    delimiter = max((",", ";", "\t", "|"), key=first.count)
    header = next(csv.reader(io.StringIO(first), delimiter=delimiter))
    names = [name.strip() for name in header]
    if not any(names):
        raise PmtError(PmtProblem.HEADER, f"baris pertama {path.name} bukan judul kolom")
    blank = [i + 1 for i, name in enumerate(names) if not name]
    if blank:
        raise PmtError(PmtProblem.HEADER, f"judul kolom ke-{blank[0]} di {path.name} kosong; beri nama setiap kolom")
    twice = [name for name, count in Counter(n.lower() for n in names).items() if count > 1]
    if twice:
        raise PmtError(PmtProblem.HEADER, f"nama kolom ganda di {path.name}: {', '.join(twice)}")
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=encoding, column_names=names, skip_rows=1, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        reason = str(exc).strip().splitlines()[0]
        raise PmtError(PmtProblem.UNREADABLE, f"{path.name} tidak bisa dibaca sebagai CSV: {reason}") from None
    if table.num_rows == 0:
        raise PmtError(PmtProblem.EMPTY, f"{path.name} hanya berisi judul kolom, tanpa baris data")
    columns: dict[str, pa.Array] = {}
    missing_set = pa.array(MISSING_TOKENS)
    for name in names:
        values = pc.utf8_trim_whitespace(table.column(name).combine_chunks())
        empty = pc.is_in(pc.utf8_lower(values), value_set=missing_set)
        columns[name] = pc.if_else(empty, pa.scalar(None, pa.string()), values)
    return RawTable(path=path, columns=columns, rows=table.num_rows)


def find_column(raw: RawTable, name: str, *, option: str) -> str:
    """The file's spelling of a column the user named (case-insensitive), or a one-line error listing the columns."""
    for column in raw.columns:
        if column.lower() == name.strip().lower():
            return column
    close = difflib.get_close_matches(name.strip().lower(), [c.lower() for c in raw.columns], n=1, cutoff=0.7)
    if close:
        hint = f"maksud Anda {next(c for c in raw.columns if c.lower() == close[0])!r}?"
    else:
        hint = "kolom yang ada: " + ", ".join(list(raw.columns)[:12]) + (" …" if len(raw.columns) > 12 else "")
    raise PmtError(PmtProblem.MISSING_COLUMN, f"kolom {name!r} ({option}) tidak ada di {raw.path.name}; {hint}")


def numeric_share(values: pa.Array) -> tuple[int, int]:
    """(filled cells, cells that are numbers)."""
    filled = len(values) - values.null_count
    if filled == 0:
        return 0, 0
    numeric = pc.sum(pc.match_substring_regex(values, _NUMBER)).as_py() or 0
    comma = pc.sum(pc.match_substring_regex(values, _DECIMAL_COMMA)).as_py() or 0
    return filled, int(numeric + comma)


def to_numeric(raw: RawTable, name: str, *, what: str) -> np.ndarray:
    """A column as float64 (NaN missing); any cell that is not a number is an error naming column, line, value."""
    values = raw.columns[name]
    comma = pc.match_substring_regex(values, _DECIMAL_COMMA)
    fixed = pc.if_else(comma, pc.replace_substring(values, ",", "."), values)
    ok = pc.or_kleene(pc.match_substring_regex(fixed, _NUMBER), pc.is_null(fixed))
    bad = np.flatnonzero(~pc.fill_null(ok, True).to_numpy(zero_copy_only=False))
    if len(bad):
        first = int(bad[0])
        more = f" (dan {len(bad) - 1} sel lain)" if len(bad) > 1 else ""
        raise PmtError(
            PmtProblem.TEXT_IN_NUMBER,
            f"kolom {name!r} ({what}) baris {raw.line(first)}: {values[first].as_py()!r} bukan angka{more}; "
            "perbaiki sel itu atau kosongkan",
        )
    return pc.cast(fixed, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)


def to_categorical(values: pa.Array) -> Categorical:
    encoded = pc.dictionary_encode(values)
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int32)
    return Categorical(codes, tuple(str(v) for v in encoded.dictionary.to_pylist()))


def to_text_codes(values: pa.Array) -> tuple[np.ndarray, list[str]]:
    """Household ids as codes in order of first appearance, and the distinct ids."""
    encoded = pc.dictionary_encode(values)
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, [str(v) for v in encoded.dictionary.to_pylist()]
