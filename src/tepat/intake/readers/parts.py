"""A large xlsx sheet read in parts, so that reading it costs bounded memory.

calamine loads a whole sheet before it gives the first row: a million-row sheet holds 1.3 GB for the whole import
and keeps every other stage waiting ~18 s. A sheet whose XML is larger than ``SPLIT_BYTES`` is therefore cut first,
at row boundaries, into parts of ``PART_ROWS`` rows. The parts become the sheets of a new workbook beside the file
(stored, not deflated), with the original's shared strings, styles and date system, so calamine reads every value
exactly as it would have in the original; it then loads one part at a time.

Cutting is byte work on the sheet's XML: the rows are not parsed here. Anything unexpected in the workbook (no
relationships, a strict-OOXML namespace, a sheet without rows) means no split: the sheet is read whole, as before.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shutil
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

# Above this (the sheet's XML, unpacked) a sheet is read in parts: ~80,000 rows of a person list.
SPLIT_BYTES = 64 * 1024 * 1024
PART_ROWS = 50_000
# The first part holds the header, found among the first 30 non-empty rows (base.HEADER_SEARCH_ROWS): it is never
# cut shorter than this, whatever empty or styled rows come first; and no longer, as the header is looked for before
# the rows are read (a first part of 50,000 rows cost a million-row import 1.4 s of waiting).
FIRST_PART_ROWS = 1_000
READ_BYTES = 8 * 1024 * 1024

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_SHEET_DATA = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)sheetData\b[^>]*?(/?)>")
_ROOT = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)worksheet\b")
_DIMENSION = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)dimension\b[^>]*?(?:/>|>.*?</\1dimension>)", re.S)
_ROW_NUMBER = re.compile(rb"\sr\s*=")
_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>{overrides}</Types>"""
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_STYLES_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _rel_id(element: ElementTree.Element) -> str | None:
    for name, value in element.attrib.items():
        if name == f"{{{DOC_REL_NS}}}id":
            return value
    return None


@dataclass(frozen=True)
class _Book:
    """What the split needs from the original workbook."""

    sheets: dict[str, str]  # sheet name -> its zip member
    styles: str | None
    strings: str | None
    date1904: bool


def _member(target: str) -> str:
    target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    parts: list[str] = []
    for piece in target.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece and piece != ".":
            parts.append(piece)
    return "/".join(parts)


def _book(archive: zipfile.ZipFile) -> _Book | None:
    try:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError, zipfile.BadZipFile, OSError, ValueError):
        return None
    if workbook.tag != f"{{{MAIN_NS}}}workbook":  # strict OOXML and other oddities: read whole
        return None
    targets: dict[str, tuple[str, str]] = {}  # id -> (type, member)
    for rel in rels:
        if _local(rel.tag) == "Relationship" and rel.get("TargetMode") != "External":
            targets[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], _member(rel.get("Target", "")))
    sheets: dict[str, str] = {}
    date1904 = False
    for element in workbook.iter():
        name = _local(element.tag)
        if name == "workbookPr":
            date1904 = element.get("date1904", "").lower() in ("1", "true")
        elif name == "sheet":
            kind, member = targets.get(_rel_id(element) or "", ("", ""))
            if kind == "worksheet" and element.get("name"):
                sheets[element.get("name", "")] = member
    of_kind = {kind: member for kind, member in targets.values()}
    return _Book(sheets, of_kind.get("styles"), of_kind.get("sharedStrings"), date1904)


def sheet_sizes(path: Path) -> dict[str, int]:
    """Sheet name -> the unpacked size of its XML, for the xlsx sheets that could be split; {} when none can."""
    try:
        with zipfile.ZipFile(path) as archive:
            book = _book(archive)
            if book is None:
                return {}
            sizes = {info.filename: info.file_size for info in archive.infolist()}
            return {name: sizes[member] for name, member in book.sheets.items() if member in sizes}
    except (zipfile.BadZipFile, OSError, ValueError):
        return {}


def _copy(archive: zipfile.ZipFile, member: str, out: zipfile.ZipFile, name: str) -> None:
    with archive.open(member) as src, out.open(name, "w", force_zip64=True) as dst:
        shutil.copyfileobj(src, dst, READ_BYTES)


Split = tuple[Path, list[str], int]  # the parts' workbook, its sheets, the rows counted


def split_sheet(path: Path, sheet: str, folder: Path, rows_per_part: int | None = None) -> Split | None:
    """Write the sheet's rows as a workbook of parts in ``folder``: (its path, the part sheets, the rows counted).

    None when the sheet cannot be cut (see the module's docstring).
    """
    rows_per_part = rows_per_part or PART_ROWS
    try:
        return _split(path, sheet, folder, rows_per_part, FIRST_PART_ROWS)
    except _Unnumbered:
        return None


class _Unnumbered(Exception):
    """A part whose first row has no number."""


def _split(path: Path, sheet: str, folder: Path, rows_per_part: int, first_part: int) -> Split | None:
    with zipfile.ZipFile(path) as archive:
        book = _book(archive)
        if book is None or sheet not in book.sheets:
            return None
        names = set(archive.namelist())
        member = book.sheets[sheet]
        if member not in names:
            return None
        target = folder / "parts.xlsx"
        parts: list[str] = []
        counted = 0
        with (
            archive.open(member) as packed,
            _ReadAhead(packed) as source,
            zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as out,
            _PartWriter(out) as writer,
        ):
            buffer = b""
            found = None
            while found is None:
                data = source.read(READ_BYTES)
                if not data:
                    return None
                buffer += data
                found = _SHEET_DATA.search(buffer)
                if found is None and len(buffer) > 64 * READ_BYTES:
                    return None  # megabytes of something before the rows: not a sheet we know
            if found.group(2):  # <sheetData/>: no rows at all
                return None
            prefix = found.group(1)
            root = _ROOT.search(buffer, 0, found.start())
            if root is None:
                return None
            head = _DIMENSION.sub(b"", buffer[: found.start()]) + b"<" + prefix + b"sheetData>"
            tail = b"</" + prefix + b"sheetData></" + root.group(1) + b"worksheet>"
            row_start, row_end = b"<" + prefix + b"row", b"</" + prefix + b"row>"
            data_end = b"</" + prefix + b"sheetData>"
            buffer = buffer[found.end() :]

            def write(pieces: list[bytes]) -> None:
                # A row's number (r) is optional: without it calamine counts the rows of each part from the part's
                # first, so the lines would start again at every part. Such a sheet is read whole.
                body = next((piece for piece in pieces if row_start in piece), b"")
                first = body.find(row_start)
                if first >= 0 and not _ROW_NUMBER.search(body, first, body.find(b">", first)):
                    raise _Unnumbered
                name = f"xl/worksheets/part{len(parts) + 1}.xml"
                writer.put(name, [head, *pieces, tail])
                parts.append(name)

            pending: list[bytes] = []  # whole rows of the current part
            in_part = 0

            def feed(whole: bytes) -> None:
                """Whole rows, in the file's order: cut a part every ``rows_per_part`` row ends."""
                nonlocal pending, in_part, counted
                start = 0
                while True:
                    count = whole.count(row_end, start)
                    size = rows_per_part if parts else first_part
                    if in_part + count < size:
                        pending.append(whole[start:])
                        in_part += count
                        counted += count
                        return
                    position = start
                    for _ in range(size - in_part):
                        position = whole.index(row_end, position) + len(row_end)
                    pending.append(whole[start:position])
                    counted += size - in_part
                    write(pending)
                    pending, in_part, start = [], 0, position

            while (end := buffer.find(data_end)) < 0:
                data = source.read(READ_BYTES)
                if not data:
                    return None  # the rows never end: a truncated sheet is calamine's to report
                cut = buffer.rfind(row_end)
                if cut >= 0:  # whole rows go on; the row being read stays
                    feed(buffer[: cut + len(row_end)])
                    buffer = buffer[cut + len(row_end) :]
                buffer += data
            feed(buffer[:end])
            if pending and any(chunk.strip() for chunk in pending):
                write(pending)
            writer.finish()
            if book.styles and book.styles in names:
                _copy(archive, book.styles, out, "xl/styles.xml")
            if book.strings and book.strings in names:
                _copy(archive, book.strings, out, "xl/sharedStrings.xml")
            _write_book(out, len(parts), book, styles=bool(book.styles and book.styles in names),
                        strings=bool(book.strings and book.strings in names))  # fmt: skip
    if not parts:
        return None
    return target, [f"part{i}" for i in range(1, len(parts) + 1)], counted


class _ReadAhead:
    """The sheet's XML unpacked by a thread, a few blocks ahead of the cutting: zlib and the parts' CRC and writes
    release the GIL, so unpacking (~2 s of a million-row sheet) runs beside the cutting instead of before it.
    An error unpacking is raised where the block is taken, as a plain read would raise it."""

    AHEAD = 3

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.blocks: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=self.AHEAD)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="tepat-xlsx-unpack", daemon=True)

    def __enter__(self) -> _ReadAhead:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        with contextlib.suppress(queue.Empty):
            while True:  # let a thread waiting to put a block see the stop
                self.blocks.get_nowait()
        self.thread.join()

    def _run(self) -> None:
        while not self.stopped.is_set():
            try:
                block: bytes | BaseException = self.source.read(READ_BYTES)
            except BaseException as exc:  # raised again in the thread that takes the blocks
                block = exc
            while not self.stopped.is_set():
                try:
                    self.blocks.put(block, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if not block or isinstance(block, BaseException):
                return

    def read(self, size: int = -1) -> bytes:
        block = self.blocks.get()
        if isinstance(block, BaseException):
            self.blocks.put(block)  # every later read fails the same way
            raise block
        if not block:
            self.blocks.put(block)  # and every later read ends
        return block


class _PartWriter:
    """Writes the parts into the workbook on a thread, in order, while the next part is cut (the CRC and the
    writes release the GIL). An error writing (a full disk) is raised by the next ``put`` or by ``finish``."""

    def __init__(self, out: zipfile.ZipFile) -> None:
        self.out = out
        self.parts: queue.Queue[tuple[str, list[bytes]] | None] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="tepat-xlsx-parts", daemon=True)

    def __enter__(self) -> _PartWriter:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.thread.is_alive():
            self.error = self.error or RuntimeError("the cut stopped")  # the thread drops what is left
            self.parts.put(None)
            self.thread.join()

    def _run(self) -> None:
        while (item := self.parts.get()) is not None:
            if self.error is not None:
                continue
            name, pieces = item
            try:
                with self.out.open(name, "w", force_zip64=True) as fh:
                    for piece in pieces:
                        fh.write(piece)
            except BaseException as exc:  # raised again in the cutting thread
                self.error = exc

    def put(self, name: str, pieces: list[bytes]) -> None:
        if self.error is not None:
            raise self.error
        self.parts.put((name, pieces))

    def finish(self) -> None:
        """Wait for every part to be written; the workbook's other members follow them."""
        self.parts.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def _write_book(out: zipfile.ZipFile, count: int, book: _Book, *, styles: bool, strings: bool) -> None:
    sheets = "".join(f'<sheet name="part{i}" sheetId="{i}" r:id="rId{i}"/>' for i in range(1, count + 1))
    properties = '<workbookPr date1904="1"/>' if book.date1904 else ""
    out.writestr(
        "xl/workbook.xml",
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{MAIN_NS}" '
        f'xmlns:r="{DOC_REL_NS}">{properties}<sheets>{sheets}</sheets></workbook>',
    )
    rels = [(f"rId{i}", "worksheet", f"worksheets/part{i}.xml") for i in range(1, count + 1)]
    overrides = [(f"/xl/worksheets/part{i}.xml", _SHEET_TYPE) for i in range(1, count + 1)]
    if styles:
        rels.append(("rIdStyles", "styles", "styles.xml"))
        overrides.append(("/xl/styles.xml", _STYLES_TYPE))
    if strings:
        rels.append(("rIdStrings", "sharedStrings", "sharedStrings.xml"))
        overrides.append(("/xl/sharedStrings.xml", _STRINGS_TYPE))
    out.writestr(
        "xl/_rels/workbook.xml.rels",
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG_REL_NS}">'
        + "".join(f'<Relationship Id="{i}" Type="{DOC_REL_NS}/{t}" Target="{p}"/>' for i, t, p in rels)
        + "</Relationships>",
    )
    out.writestr(
        "_rels/.rels",
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG_REL_NS}">'
        f'<Relationship Id="rId1" Type="{DOC_REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    )
    out.writestr(
        "[Content_Types].xml",
        _CONTENT_TYPES.format(overrides="".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)),
    )


def part_folder(path: Path) -> Path:
    """A folder beside the file (same disk and same clean-up as the staged file; the system's temporary folder can be
    memory), else the system's temporary one. Folders left there by a process that died (a killed worker) go."""
    for old in path.parent.glob(".tepat-parts-*"):
        owner = old.name.split("-")[2]
        if owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(old, ignore_errors=True)
    prefix = f".tepat-parts-{os.getpid()}-"
    with contextlib.suppress(OSError):
        return Path(tempfile.mkdtemp(prefix=prefix, dir=path.parent))
    return Path(tempfile.mkdtemp(prefix=prefix))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    return True
