"""Delimited text as regencies send it: Excel's "CSV" in whatever code page the office PC had, ";" where the decimal
separator is ",", Excel's "Unicode text" (UTF-16, tabs), and lists pasted together from several PCs so that UTF-8 and
Windows-1252 lines sit in one file.

The file is streamed in blocks of whole lines, decoded as UTF-8 (line by line, with Windows-1252 for the lines that
are not UTF-8, when a block holds such lines), and fed to csv.reader, which joins quoted fields that span lines.
Memory stays bounded whatever the size.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import AnyStr, BinaryIO, cast

from tepat.intake.errors import FileProblem, IntakeError
from tepat.intake.readers.base import Cell, HeaderScore, Limits, Table, find_header, trim_cells

DELIMITERS = (",", ";", "\t", "|")  # ties go to the first
SAMPLE_BYTES = 64 * 1024
SAMPLE_LINE_BYTES = 1024 * 1024  # the delimiter sniff looks at no more of one line than this
BLOCK_BYTES = 256 * 1024  # read and decoded at once; small enough to keep a streamed import's memory flat
# A physical line longer than this is cut (the rest is skipped): no real row is this long, and it bounds memory.
MAX_LINE_BYTES = 16 * 1024 * 1024
ESTIMATE_LINES = 100
BOM = b"\xef\xbb\xbf"


@dataclass
class _Decoder:
    """UTF-8 where a block (or, failing that, a line) is valid UTF-8, else Windows-1252 (Latin-1 for its five
    unassigned bytes). Whole blocks are tried first: most files are clean, and decoding per line costs time."""

    utf8_seen: bool = False
    legacy_seen: bool = False
    label: str = "utf-8"  # "utf-8", "cp1252" or "mixed", from what has been decoded so far

    def decode(self, block: bytes) -> str:
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError:
            text = "".join(self._line(line) for line in block.splitlines(keepends=True))
        else:
            if not self.utf8_seen and not block.isascii():
                self.utf8_seen = True
        if self.legacy_seen:
            self.label = "mixed" if self.utf8_seen else "cp1252"
        return text

    def _line(self, line: bytes) -> str:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            self.legacy_seen = True
            try:
                return line.decode("cp1252")
            except UnicodeDecodeError:
                return line.decode("latin-1")
        if not line.isascii():
            self.utf8_seen = True
        return text


@dataclass
class TextSource:
    path: Path
    utf16: str  # "" for byte-oriented text, else the codec name
    newline: bytes  # b"\n", or b"\r" for classic Mac exports
    delimiter: str
    limits: Limits
    bytes_per_line: float | None = None
    decoder: _Decoder = field(default_factory=_Decoder)

    @property
    def encoding(self) -> str:
        return "utf-16" if self.utf16 else self.decoder.label

    def blocks(self, fh: BinaryIO, *, size: int = BLOCK_BYTES, max_line: int = MAX_LINE_BYTES) -> Iterator[str]:
        """The file as decoded blocks of whole physical lines; a line longer than max_line is cut there."""
        if self.utf16:
            text = io.TextIOWrapper(fh, encoding=self.utf16, errors="replace", newline="")
            first = True
            for block in _whole_lines(iter(lambda: text.read(size // 2), ""), "\n", "\r", max_line // 2):
                if first:
                    block, first = block.removeprefix("\ufeff"), False
                yield block
            return
        first = True
        for raw in _whole_lines(iter(lambda: fh.read(size), b""), self.newline, b"", max_line):
            if first:
                raw, first = raw.removeprefix(BOM), False
            yield self.decoder.decode(raw)

    def records(
        self, *, max_line: int = MAX_LINE_BYTES, table: Table | None = None
    ) -> Generator[tuple[int, list[str]], None, None]:
        """(record number, raw cells) for every record, blank ones included so numbers match the spreadsheet.

        Cells are cut to max_cell_chars. With `table`, its encoding follows what the decoder finds, block by block.
        """
        limit = self.limits.max_cell_chars
        with self.path.open("rb") as fh:
            recent = _RecentLines(self.blocks(fh, max_line=max_line), limit)
            if table is not None and not self.utf16:
                recent.on_block = lambda: setattr(table, "encoding", self.decoder.label)
            reader = csv.reader(chain.from_iterable(recent), delimiter=self.delimiter)
            number = 0
            start = 0  # physical lines read before the current record
            while True:
                try:
                    for cells in reader:
                        number += 1
                        end = reader.line_num
                        # Only a record over several lines or from a block with a long line can hold a long cell:
                        # the test is skipped for the millions of ordinary rows.
                        if end - start > 1 or recent.long_lines:
                            cells = [c[:limit] for c in cells]
                        start = end
                        yield number, cells
                    return
                except csv.Error:
                    number += 1
                    cells = self._salvage(recent.between(start, reader.line_num))
                    start = reader.line_num
                    yield number, cells

    def _salvage(self, lines: list[str]) -> list[str]:
        """A record csv refused (a field past csv.field_size_limit): re-read what is left of it, cut short.

        The rest of an oversized quoted field may come out as odd rows after it; the validation reports those.
        """
        limit = self.limits.max_cell_chars
        text = "".join(lines)[: limit * 2]
        try:
            cells = next(csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter), [])
        except csv.Error:
            cells = text.rstrip("\r\n").split(self.delimiter)
        return [c[:limit] for c in cells]

    def rows(self, table: Table) -> Iterator[tuple[int, list[Cell]]]:
        width = len(table.header)
        header_line = table.header_line
        with contextlib.closing(self.records(table=table)) as records:
            for number, cells in records:
                if number <= header_line or not cells:
                    continue
                if len(cells) != width:
                    if len(cells) > width:
                        del cells[width:]
                    else:
                        cells.extend([""] * (width - len(cells)))
                if not cells[0].strip() and not "".join(cells).strip():
                    continue
                yield number, cast("list[Cell]", cells)

    def row_count_estimate(self, table: Table) -> int | None:
        if not self.bytes_per_line:
            return None
        return max(0, round(self.path.stat().st_size / self.bytes_per_line) - table.header_line)

    def streams(self) -> bool:
        return True


class _RecentLines:
    """Splits blocks into lines for csv.reader (itertools.chain keeps the per-line work in C) and keeps the last two
    blocks' lines, so the lines of a record csv refused can be found again by csv.reader.line_num."""

    def __init__(self, blocks: Iterator[str], long_line: int) -> None:
        self.blocks = blocks
        self.long_line = long_line
        self.long_lines = False  # the current block has a line longer than long_line
        self.kept: deque[tuple[int, list[str]]] = deque(maxlen=2)  # (number of lines before, lines)
        self.read = 0
        self.on_block: Callable[[], object] | None = None

    def __iter__(self) -> Iterator[list[str]]:
        for block in self.blocks:
            lines = io.StringIO(block, newline="").readlines()
            self.long_lines = max(map(len, lines), default=0) > self.long_line
            self.kept.append((self.read, lines))
            self.read += len(lines)
            if self.on_block is not None:
                self.on_block()
            yield lines

    def between(self, start: int, end: int) -> list[str]:
        return [line for first, lines in self.kept for i, line in enumerate(lines, first) if start <= i < end]


def _whole_lines(chunks: Iterator[AnyStr], newline: AnyStr, also: AnyStr, max_line: int) -> Iterator[AnyStr]:
    """Re-cut chunks so each ends at a line end: at the last `newline`, or at the last `also` that is not the
    chunk's final character (a "\r" there may be the first half of "\r\n"). A line longer than max_line is cut,
    and the rest of it skipped."""
    pending = newline[:0]
    skipping = False
    for chunk in chunks:
        if skipping:
            end = _first_line_end(chunk, newline, also)
            if not end:
                continue
            chunk, skipping = chunk[end:], False
        pending += chunk
        cut = _line_end(pending, newline, also, len(pending) - 1)
        if cut:
            yield pending[:cut]
            pending = pending[cut:]
        if len(pending) > max_line:
            yield pending[:max_line] + newline
            pending, skipping = newline[:0], True
    if pending and not skipping:
        yield pending


def _first_line_end(text: AnyStr, newline: AnyStr, also: AnyStr) -> int:
    """Position just after the first line end in text (0 when there is none)."""
    end = text.find(newline) + 1
    if also and (other := text.find(also) + 1) and (not end or other < end):
        end = other + 1 if text[other : other + 1] == newline else other
    return end


def _line_end(text: AnyStr, newline: AnyStr, also: AnyStr, before: int) -> int:
    """Position just after the last line end in text (0 when there is none)."""
    end = text.rfind(newline) + 1
    if also:
        end = max(end, text.rfind(also, 0, before) + 1)
    return end


def open_text(path: Path, *, utf16: str, header_score: HeaderScore | None, limits: Limits) -> Table:
    if csv.field_size_limit() < limits.max_cell_chars * 4:
        csv.field_size_limit(limits.max_cell_chars * 4)
    with path.open("rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    if utf16:
        text = codecs.getincrementaldecoder(utf16)(errors="replace").decode(head)
        if not text.strip().strip("\ufeff"):
            raise IntakeError(FileProblem.EMPTY, path=path.name)
        newline = b"\n"
    else:
        if not head.removeprefix(BOM).strip():
            raise IntakeError(FileProblem.EMPTY, path=path.name)
        newline = b"\r" if b"\r" in head and b"\n" not in head else b"\n"
    source = TextSource(path=path, utf16=utf16, newline=newline, delimiter=",", limits=limits)

    sample = _sample(source)
    if sample:
        per_char = 2 if utf16 else 1
        counted = sample[:ESTIMATE_LINES]
        source.bytes_per_line = sum(len(line) for line in counted) * per_char / len(counted)
    source.delimiter = _sniff_delimiter(sample, header_score, limits)

    with contextlib.closing(source.records()) as records:
        header, seen = find_header(records, score=header_score, limits=limits, path=path)
    if header is None:
        # Whitespace past the first 64 KB counts as empty too.
        raise IntakeError(FileProblem.NO_HEADER if seen else FileProblem.EMPTY, path=path.name)
    return Table(
        path=path,
        format="csv",
        sheet="",
        sheets=[],
        encoding=source.encoding,
        delimiter=source.delimiter,
        header=header.cells,
        header_line=header.line,
        source=source,
    )


def _sample(source: TextSource) -> list[str]:
    """The first physical lines, about SAMPLE_BYTES of them, whole."""
    with source.path.open("rb") as fh:
        block = next(source.blocks(fh, size=SAMPLE_BYTES, max_line=SAMPLE_LINE_BYTES), "")
    return io.StringIO(block, newline="").readlines()


def _sniff_delimiter(sample: list[str], header_score: HeaderScore | None, limits: Limits) -> str:
    """The delimiter under which the header region looks most like a table.

    Judged on parsed records, not character counts, so a title row "Kota Bontang, 2025" or commas inside quoted
    addresses cannot tip it: first the best header score, then how many rows share the most common width.
    """
    best_key: tuple[int, int, int] = (0, 0, 0)
    best = DELIMITERS[0]
    for delimiter in DELIMITERS:
        try:
            records = list(islice((r for r in csv.reader(sample, delimiter=delimiter) if any(r)), 30))
        except csv.Error:
            continue
        widths = Counter(len(trim_cells(r)) for r in records)
        width, agreeing = max(
            ((w, n) for w, n in widths.items() if w >= 2), key=lambda wn: (wn[1], wn[0]), default=(0, 0)
        )
        points = 0
        if header_score is not None:
            for record in records:
                cells = trim_cells(record)
                if 2 <= len(cells) <= limits.max_columns:
                    points = max(points, header_score(cells))
        key = (points if points >= 2 else 0, agreeing, width)
        if key > best_key:
            best_key, best = key, delimiter
    return best
