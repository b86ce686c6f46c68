"""Workbooks (xlsx, xlsb, xls, ods) through calamine.

calamine loads a whole sheet when it is opened (the zip-bomb and size limits in sniff.py bound what that costs) and
returns what Excel cached for formulas: we read values, never evaluate. A merged cell comes back as its value in the
first cell and empty cells in the rest, which is exactly what a title row above the header looks like.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from python_calamine import CalamineSheet, CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

from tepat.intake.errors import FileProblem, IntakeError
from tepat.intake.readers import parts
from tepat.intake.readers.base import Cell, Header, HeaderScore, Limits, RowSource, Table, find_header
from tepat.intake.readers.sniff import looks_encrypted

# Excel stores every number as a double but shows, and keeps when typed, only 15 significant digits: a 16-digit NIK
# typed as a number has already lost its last digit. Such values stay float so engine.identity can tell.
EXACT_INTEGER_LIMIT = 10**15
MIDNIGHT = time()
SUFFIXES = {"xlsx": ".xlsx", "xlsb": ".xlsb", "xls": ".xls", "ods": ".ods"}
_FATAL = (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)
T = TypeVar("T")


def to_cell(value: Any) -> Cell:
    """calamine's value as a Cell: "" is None, integral numbers below 10**15 are int, a midnight datetime is a date."""
    kind = type(value)
    if kind is str:
        return value or None
    if kind is float:
        if value.is_integer() and -EXACT_INTEGER_LIMIT < value < EXACT_INTEGER_LIMIT:
            return int(value)
        return value
    if kind is bool or kind is int or kind is date:
        return value
    if kind is datetime:
        return value.date() if value.time() == MIDNIGHT and value.tzinfo is None else value
    if isinstance(value, time):
        return value.isoformat()  # a time of day alone ("08:30"): no registry field takes it as a time
    if isinstance(value, timedelta):
        return str(value)
    return None if value is None else str(value)


def _safe_cell(value: Any) -> Cell:
    try:
        return to_cell(value)
    except Exception:
        return None


def _filled(cell: Cell) -> bool:
    return cell is not None and (type(cell) is not str or bool(cell.strip()))


def header_text(value: Any) -> str:
    cell = to_cell(value)
    if cell is None:
        return ""
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


@dataclass
class WorkbookSource:
    """A loaded sheet. python-calamine's iter_rows() starts at row 1 (rows above the used range come back empty)
    but at the first used column, so index + 1 is the spreadsheet line and an empty column A is not part of the
    table; test_a_table_that_starts_away_from_a1_keeps_spreadsheet_line_numbers guards this."""

    sheet: CalamineSheet

    def rows(self, table: Table) -> Iterator[tuple[int, list[Cell]]]:
        width = len(table.header)
        skip = table.header_line  # rows down to and including the header
        for index, values in enumerate(self.sheet.iter_rows()):
            if index < skip:
                continue
            cells = row_cells(values, width)
            if cells is not None:
                yield index + 1, cells

    def row_count_estimate(self, table: Table) -> int | None:
        end = self.sheet.end
        return None if end is None else max(0, end[0] + 1 - table.header_line)

    def header_rows(self) -> Iterator[tuple[int, list[str]]]:
        for index, values in enumerate(self.sheet.iter_rows()):
            yield index + 1, [header_text(v) for v in values]

    def streams(self) -> bool:
        return False  # the whole sheet is in memory until release()


_TEXT = {str}


def row_cells(values: list[Any], width: int) -> list[Cell] | None:
    """calamine's row as ``width`` cells; None when every cell is empty."""
    row = values[:width]
    if set(map(type, row)) == _TEXT:  # every cell text, as in most lists: to_cell of each, in one loop
        if not "".join(row).strip():
            return None
        cells: list[Cell] = [value or None for value in row]
        if len(cells) < width:
            cells.extend([None] * (width - len(cells)))
        return cells
    try:
        cells = [to_cell(value) for value in row]
    except Exception:  # a value we cannot turn into a Cell: keep the row, lose the cell
        cells = [_safe_cell(value) for value in row]
    if not any(map(_filled, cells)):
        return None
    if len(cells) < width:
        cells.extend([None] * (width - len(cells)))
    return cells


@dataclass
class PartedSource:
    """The rows of a sheet cut by ``parts.split_sheet``, one part loaded at a time.

    Columns are counted from the first used column of the first part (the one with the header), as calamine counts
    them for the whole sheet; a cell left of it in a later part has no header and is left out.
    """

    original: Path  # the file, for messages
    path: Path
    parts: list[str]
    first_column: int
    rows_counted: int
    _cleanup: Any = field(default=None, repr=False)
    # The parts' workbook as opened to find the header, for the first reading of the rows: opening it again parsed
    # the shared strings again (1.2 s for a million-row list Excel wrote). A forked reading process uses its copy.
    book: CalamineWorkbook | None = field(default=None, repr=False)

    def rows(self, table: Table) -> Iterator[tuple[int, list[Cell]]]:
        width = len(table.header)
        skip = table.header_line
        book, self.book = self.book, None  # the loader closes it when done: a second reading opens the file again
        loader = _PartLoader(self.original, self.path, self.parts, book)
        try:
            while (loaded := loader.next()) is not None:
                first_row, first_column, values = loaded
                shift = first_column - self.first_column
                for offset, row in enumerate(values):
                    line = first_row + offset + 1
                    if line <= skip:
                        continue
                    if shift:
                        row = [""] * shift + row if shift > 0 else row[-shift:]
                    cells = row_cells(row, width)
                    if cells is not None:
                        yield line, cells
                del values, loaded
        finally:
            loader.stop()

    def row_count_estimate(self, table: Table) -> int | None:
        return max(0, self.rows_counted - table.header_line)

    def streams(self) -> bool:
        return True


_Loaded = tuple[int, int, list[list[Any]]]  # a part's first row and column (0-based), its rows


class _PartLoader:
    """Loads the parts in a thread, one ahead of the rows being taken: calamine parses a part's XML without the GIL
    (a million-row sheet: ~19 s of its ~22 s), so that runs beside the checking of the part before it. At most three
    parts are held (the one being taken, the next one, the one after it waiting for room). A part calamine cannot
    read is file.corrupt, as the whole sheet would have been when it was opened, raised where the rows are taken.
    Stopping waits for the part being parsed (a few seconds at most for a part of PART_ROWS rows)."""

    def __init__(self, original: Path, path: Path, names: list[str], book: CalamineWorkbook | None = None) -> None:
        self.original, self.path, self.names, self.book = original, path, names, book
        self.ready: queue.Queue[_Loaded | BaseException | None] = queue.Queue(maxsize=1)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="tepat-xlsx-parts", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        outcome: BaseException | None = None
        try:
            opened = self.book or _calamine(self.original, "xlsx", partial(CalamineWorkbook.from_path, self.path))
            self.book = None
            with contextlib.closing(opened) as book:
                for name in self.names:
                    if self.stopped.is_set():
                        return
                    sheet = _calamine(self.original, "xlsx", partial(book.get_sheet_by_name, name))
                    start = sheet.start
                    if start is None:
                        continue
                    values = _calamine(self.original, "xlsx", partial(sheet.to_python, skip_empty_area=True))
                    del sheet
                    if not self._put((start[0], start[1], values)):
                        return
                    del values
        except BaseException as exc:  # handed to the reading thread, which raises it
            outcome = exc
        self._put(outcome)

    def _put(self, item: _Loaded | BaseException | None) -> bool:
        while not self.stopped.is_set():
            with contextlib.suppress(queue.Full):
                self.ready.put(item, timeout=0.1)
                return True
        return False

    def next(self) -> _Loaded | None:
        """The next part (None after the last); raises what loading raised."""
        item = self.ready.get()
        if isinstance(item, BaseException):
            self.thread.join()
            raise item
        if item is None:
            self.thread.join()
        return item

    def stop(self) -> None:
        """The rows are no longer wanted (all taken, or the reader stopped early): the thread ends."""
        self.stopped.set()
        with contextlib.suppress(queue.Empty):
            self.ready.get_nowait()
        self.thread.join()


def parted(original: Path, split: parts.Split, first_column: int) -> PartedSource:
    """The source over ``parts.split_sheet``'s workbook. Its folder goes when the source does, in the process that
    made it: a forked reading process that lets go of its copy leaves the files alone."""
    target, sheets, counted = split
    source = PartedSource(original, target, sheets, first_column, counted)
    source._cleanup = weakref.finalize(source, _remove, target.parent, os.getpid())
    return source


def _remove(folder: Path, owner: int) -> None:
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)


def open_workbook(
    path: Path, fmt: str, *, sheet: str | None, header_score: HeaderScore | None, limits: Limits
) -> Table:
    workbook = _calamine(path, fmt, lambda: _load(path, fmt))
    with contextlib.closing(workbook):
        names = list(workbook.sheet_names)
        visible: list[str] = []
        hidden: list[str] = []
        if sheet is not None:
            if sheet not in names:
                raise IntakeError(
                    FileProblem.UNKNOWN_SHEET, path=path.name, sheet=sheet, sheets=", ".join(f"“{n}”" for n in names)
                )
            visible = [sheet]
        else:
            for meta in workbook.sheets_metadata:
                if meta.typ not in (SheetTypeEnum.WorkSheet, SheetTypeEnum.DialogSheet):
                    continue
                (visible if meta.visible == SheetVisibleEnum.Visible else hidden).append(meta.name)
        chosen, header, any_data, alike = _choose(
            workbook, path, fmt, visible, hidden, header_score=header_score, limits=limits
        )
    label = path.name if sheet is None else f"{path.name} (lembar “{sheet}”)"
    if chosen is None or header is None:
        raise IntakeError(FileProblem.NO_HEADER if any_data else FileProblem.EMPTY, path=label)
    return Table(
        path=path,
        format=fmt,
        sheet=chosen[0],
        sheets=names,
        encoding="",
        delimiter="",
        header=header.cells,
        header_line=header.line,
        source=chosen[1],
        alike=alike,
    )


def _choose(
    workbook: CalamineWorkbook,
    path: Path,
    fmt: str,
    visible: list[str],
    hidden: list[str],
    *,
    header_score: HeaderScore | None,
    limits: Limits,
) -> tuple[tuple[str, RowSource] | None, Header | None, bool, list[str]]:
    """The sheet whose header scores best; ties go to the first. Hidden sheets are looked at only when no visible
    sheet has a header (an operator who hid the list still means it). Also the other visible sheets whose header
    names the same columns as the chosen one's (see Table.alike)."""
    best: tuple[str, RowSource] | None = None
    best_header: Header | None = None
    any_data = False
    headers: dict[str, list[str]] = {}  # visible sheet -> its header's names, as compared
    sizes = parts.sheet_sizes(path) if fmt == "xlsx" else {}
    for position, name in enumerate(visible + hidden):
        if position == len(visible) and best is not None:
            break
        split = _split(path, name) if sizes.get(name, 0) > parts.SPLIT_BYTES else None
        # From here the source owns the parts' folder: whatever happens to it (no header, a better sheet, an
        # error), the folder goes when it does.
        held = parted(path, split, first_column=0) if split is not None else None
        if held is not None:  # the first part has the header
            held.book = _calamine(path, fmt, partial(CalamineWorkbook.from_path, held.path))
            loaded = _calamine(path, fmt, partial(held.book.get_sheet_by_name, held.parts[0]))
        else:
            loaded = _calamine(path, fmt, partial(workbook.get_sheet_by_name, name))
        if loaded.start is None or loaded.height == 0:
            continue
        whole = WorkbookSource(sheet=loaded)
        header, seen = _calamine(
            path, fmt, partial(find_header, whole.header_rows(), score=header_score, limits=limits, path=path)
        )
        any_data = any_data or seen
        if header is not None and position < len(visible):
            headers[name] = [" ".join(cell.lower().split()) for cell in header.cells]
        source: RowSource = whole
        if held is not None:
            held.first_column, source = loaded.start[1], held
        if header is not None and (best_header is None or header.score > best_header.score):
            best, best_header = (name, source), header
    if best is None or best[0] not in headers:
        return best, best_header, any_data, []
    chosen = best[0]
    return (
        best,
        best_header,
        any_data,
        [name for name in headers if name != chosen and headers[name] == headers[chosen]],
    )


def _split(path: Path, sheet: str) -> parts.Split | None:
    """The sheet cut into parts (see parts.py); None when it cannot be, and it is then read whole."""
    folder = parts.part_folder(path)
    try:
        split = parts.split_sheet(path, sheet, folder)
    except _FATAL:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    except BaseException:  # whatever the cut trips over, calamine reading the whole sheet will judge
        split = None
    if split is None:
        shutil.rmtree(folder, ignore_errors=True)
    return split


def _load(path: Path, fmt: str) -> CalamineWorkbook:
    """calamine picks its reader by the file's extension; a workbook sent under another name is opened through a
    symbolic link that has the right one (reading from a file object would copy the whole file into memory)."""
    suffix = SUFFIXES[fmt]
    if path.suffix == suffix or (fmt == "xlsx" and path.suffix in (".xlsm", ".xltx", ".xltm")):
        return CalamineWorkbook.from_path(path)
    with tempfile.TemporaryDirectory(prefix="tepat-") as folder:
        link = Path(folder) / f"workbook{suffix}"
        try:
            os.symlink(path.resolve(), link)
        except OSError:
            with path.open("rb") as fh:
                return CalamineWorkbook.from_filelike(fh)
        return CalamineWorkbook.from_path(link)  # calamine holds the open file; the link may go


def _calamine(path: Path, fmt: str, call: Callable[[], T]) -> T:
    """Run a calamine call; whatever a broken file makes it raise becomes file.corrupt (or file.encrypted)."""
    try:
        return call()
    except IntakeError:
        raise
    except PasswordError:
        raise IntakeError(FileProblem.ENCRYPTED, path=path.name) from None
    except _FATAL:
        raise
    except BaseException as exc:  # calamine's errors, and pyo3's PanicException (a BaseException) on malformed input
        if fmt == "xls" and looks_encrypted(path):
            raise IntakeError(FileProblem.ENCRYPTED, path=path.name) from None
        raise IntakeError(FileProblem.CORRUPT, path=path.name, format=fmt) from exc
