"""The table every reader returns, the limits that keep a hostile file from hurting the server, and header finding."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path
from typing import Protocol, TypeAlias

from tepat.intake.errors import FileProblem, IntakeError

Cell: TypeAlias = str | int | float | bool | date | datetime | None
HeaderScore: TypeAlias = Callable[[list[str]], int]

# Title rows ("DAFTAR PENERIMA BANTUAN ... TAHUN 2025", a blank line, the office's name) sit above the header;
# thirty non-empty rows is far more than any template we have seen puts there.
HEADER_SEARCH_ROWS = 30
# A header needs this many recognised names (with a scorer) or filled cells (without) to be believed.
HEADER_MIN_CELLS = 2


@dataclass(frozen=True)
class Limits:
    """What a file may cost the server before it is refused; the defaults fit the largest real DTSEN extracts."""

    max_bytes: int = 250 * 1024 * 1024
    max_columns: int = 1000
    # xlsx/ods are zip archives: what they declare they unpack to, summed over the members (zip bombs).
    max_uncompressed_bytes: int = 1024**3
    # ... and how much more that is than the packed size; only judged above RATIO_GRACE_BYTES (see sniff.py).
    max_compression_ratio: int = 200
    # Excel's own cell limit: longer CSV cells are cut to this length.
    max_cell_chars: int = 32_767


DEFAULT_LIMITS = Limits()


class RowSource(Protocol):
    def rows(self, table: Table) -> Iterator[tuple[int, list[Cell]]]: ...

    def row_count_estimate(self, table: Table) -> int | None: ...

    def streams(self) -> bool:
        """Whether rows() reads the file as it goes, in bounded memory (not a whole sheet loaded beforehand)."""
        ...


@dataclass
class Table:
    """A sheet (or a CSV file) with its header found; the data rows are read lazily by `rows()`."""

    path: Path
    format: str  # "csv", "xlsx", "xlsb", "xls", "ods"
    sheet: str  # "" for CSV
    sheets: list[str]  # every sheet of a workbook, hidden ones included; [] for CSV
    # CSV only ("utf-8", "cp1252", "mixed", "utf-16"); "" otherwise. A CSV is decoded line by line, so a cp1252 line
    # found late in the file turns "utf-8" into "mixed" while rows() runs: read it after the rows if it matters.
    encoding: str
    delimiter: str  # CSV only; "" otherwise
    header: list[str]  # stripped, trailing empty cells removed, empty ones kept as "" so positions hold
    header_line: int  # 1-based, as the spreadsheet program numbers it
    source: RowSource = field(repr=False, compare=False)
    # Other visible sheets whose header names the same columns (a list kept one sheet per RT or dusun): not read.
    alike: list[str] = field(default_factory=list)

    def rows(self) -> Iterator[tuple[int, list[Cell]]]:
        """(1-based line number, cells) for every data row below the header with at least one non-empty cell.

        Cells are padded or cut to len(header). CSV cells are the raw text (not stripped: the caller decides).
        Workbook cells keep their type: str, int (integral numbers below 10**15), float, bool, date (a date-time at
        midnight), datetime, None for empty. Formulas come back as the value Excel cached when it saved the file.
        Numbers of 16 digits and more stay float: Excel keeps only 15 significant digits, so a NIK typed as a number
        is already damaged, and the identity checks must be able to see that. A malformed row never raises.
        """
        return self.source.rows(self)

    def row_count_estimate(self) -> int | None:
        """A cheap guess of the number of data rows, for progress bars (never read the file to count)."""
        return self.source.row_count_estimate(self)

    def streams(self) -> bool:
        """Whether the rows are read in bounded memory (CSV; a large xlsx sheet read in parts), so that another
        process can read them beside the importing one without holding a whole sheet there."""
        return self.source.streams()

    def release(self) -> None:
        """Let go of what the reader holds (a workbook's whole sheet, hundreds of MB for a million rows) once the
        rows have been read; rows() cannot be called again."""
        self.source = _Released()


class _Released:
    def rows(self, table: Table) -> Iterator[tuple[int, list[Cell]]]:
        raise RuntimeError("the table's rows were read and released")

    def row_count_estimate(self, table: Table) -> int | None:
        return None

    def streams(self) -> bool:
        return False


@dataclass(frozen=True)
class Header:
    line: int
    cells: list[str]
    score: int


def trim_cells(cells: list[str]) -> list[str]:
    """Strip every cell and drop the empty ones at the end of the row."""
    stripped = [c.strip() for c in cells]
    end = len(stripped)
    while end and not stripped[end - 1]:
        end -= 1
    del stripped[end:]
    return stripped


def find_header(
    rows: Iterable[tuple[int, list[str]]], *, score: HeaderScore | None, limits: Limits, path: Path
) -> tuple[Header | None, bool]:
    """The header among the first non-empty rows, and whether any non-empty row was seen at all.

    With a scorer (the number of column names we recognise), the best-scoring row wins when it reaches
    HEADER_MIN_CELLS: a merged title cell or a "No. | Keterangan" notes table above the list cannot beat the real
    header. Otherwise the first row with HEADER_MIN_CELLS filled cells is taken, as spreadsheet users expect.

    Government forms often take two rows for the header (a merged "ALAMAT" over "JALAN | RT | RW", "LAHIR" over
    "TEMPAT | TANGGAL") and number the columns in the row below it ("1 | 2 | 3" or "(1) | (2)"): both are taken as
    part of the header (see ``_header_block``), so neither becomes a row of data.
    """
    best: Header | None = None
    first_plain: Header | None = None
    seen = 0
    candidates: list[tuple[int, list[str]]] = []  # the non-empty rows looked at, trimmed
    iterator = iter(rows)
    for line, raw in iterator:
        cells = trim_cells(raw)
        filled = sum(1 for c in cells if c)
        if not filled:
            continue
        if filled > limits.max_columns:
            # Checked on every candidate row, before any scoring: a 10,000-column file fails here, cheaply.
            raise IntakeError(FileProblem.TOO_MANY_COLUMNS, path=path.name, count=filled, limit=limits.max_columns)
        seen += 1
        candidates.append((line, cells))
        if first_plain is None and filled >= HEADER_MIN_CELLS:
            first_plain = Header(line, cells, 0)
        if score is not None:
            points = score(cells)
            if points >= HEADER_MIN_CELLS and (best is None or points > best.score):
                best = Header(line, cells, points)
        if seen >= HEADER_SEARCH_ROWS:
            break
    header = best or first_plain
    if header is None:
        return None, seen > 0
    below = [(line, cells) for line, cells in candidates if line > header.line]
    for line, raw in iterator:  # the header was the last row looked at: the two rows under it are still wanted
        if len(below) >= 2:
            break
        cells = trim_cells(raw)
        if any(cells) and len(cells) <= limits.max_columns:
            below.append((line, cells))
    return _header_block(header, below[:2], score), True


_COLUMN_NUMBER = re.compile(r"\(?(\d{1,3})\)?\.?")


def _header_block(header: Header, below: list[tuple[int, list[str]]], score: HeaderScore | None) -> Header:
    """The header with the rows that belong to it: a row of sub-headers under merged group titles, then a row of
    column numbers; the header's line becomes the block's last line, so the data begins after it."""
    if score is not None and below and below[0][0] == header.line + 1:
        line, subs = below[0]
        found = _with_sub_headers(header.cells, subs, score)
        if found is not None:
            cells, renamed = found
            points = score(cells)
            if points > header.score or (renamed and points == header.score):
                header, below = Header(line, cells, points), below[1:]
    if below and below[0][0] == header.line + 1 and _column_numbers(below[0][1], header.cells):
        header = Header(below[0][0], header.cells, header.score)
    return header


def _with_sub_headers(top: list[str], subs: list[str], score: HeaderScore) -> tuple[list[str], bool] | None:
    """Header cells where the row below names the columns: under a title merged across several columns (spreadsheet
    programs keep a merged cell's text in its first column only) and under a title we do not know. A sub-header is
    tried alone, then with its group's title after and before it ("TEMPAT" under "LAHIR": "TEMPAT LAHIR"). With the
    cells, whether a known title gave way to another known column under it (the header names no more columns then,
    but says what the column holds).

    None when the row has a cell under a column we know that heads no group and is not itself the name of another
    column we know: a row of data (or of notes), never sub-headers, which sit under merged titles while the other
    titles are merged down over them."""
    width = max(len(top), len(subs))
    top = top + [""] * (width - len(top))
    subs = subs + [""] * (width - len(subs))
    cells = list(top)
    group = ""
    renamed = False
    for i in range(width):
        if top[i]:
            group = top[i]
        sub = subs[i]
        if not sub:
            continue
        merged = not top[i] or (i + 1 < width and not top[i + 1] and subs[i + 1])
        if not merged and score([top[i]]):
            if score([top[i], sub]) < 2:  # a value, a hint, or the same column named again: not a sub-header
                return None
            cells[i], renamed = sub, True  # another column we know under a title over it alone: ALAMAT over RT/RW
            continue
        tried = [sub, f"{sub} {group}", f"{group} {sub}"] if group else [sub]
        cells[i] = next((name for name in tried if score([name])), sub)
    return cells, renamed


def _column_numbers(cells: list[str], header: list[str]) -> bool:
    """Whether a row numbers the columns (1, 2, 3… or (1), (2)…, as government forms do): every filled cell such a
    number, increasing, and at least half as many as the header has names."""
    numbers: list[int] = []
    for cell in cells:
        if not cell:
            continue
        match = _COLUMN_NUMBER.fullmatch(cell)
        if match is None:
            return False
        numbers.append(int(match[1]))
    named = sum(1 for cell in header if cell)
    return len(numbers) >= max(HEADER_MIN_CELLS, (named + 1) // 2) and all(a < b for a, b in pairwise(numbers))
