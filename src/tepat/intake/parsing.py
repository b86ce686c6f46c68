"""Rows into a kind's handler, a chunk at a time; for the large family lists, in a second process.

A chunk's rows are taken column-wise where they have no finding (``Handler.prepare``/``accept``) and one by one
otherwise (``check``/``add``, which write the report): ``take_chunk``.

``ChildReader`` runs reading, keeping (the raw rows' JSON) and parsing in a forked child process while this one
matches and writes (``RegistryWriter.write``): the one-pass import of a family list is two processes' work on two
cores instead of one thread's. The child touches no database: it gets the open table, the mapping and the region's
codes from the fork, and sends back per chunk the raw rows to keep, the report's issues and the families with the
members it took (``Handler.flush`` is the boundary). The outcome is the same as parsing in this process: the child
runs the same ``take_chunk`` in the file's order, and record ids and indexes are handed out the same way.
"""

from __future__ import annotations

import contextlib
import marshal
import multiprocessing
import queue
import re
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from multiprocessing.connection import Connection
from typing import Any

import orjson

from tepat.engine.columnar import cell_text
from tepat.errors import UserError
from tepat.intake.errors import FileProblem, IntakeError
from tepat.intake.kinds import Cells, Handler, Issue
from tepat.intake.readers import Table
from tepat.registry.writer import FamilyIn, NikIn, RegistryWriter

PARSE_CHUNK = 5000
# Below this many rows (the table's estimate) a second process costs more than it saves.
CHILD_MIN_ROWS = 20_000
AHEAD = 4  # parts the reading process may be ahead of the writing one (about 2 MB each)


class ReaderStopped(UserError):
    code = "import.reader_stopped"


@dataclass
class Parsed:
    handler: Handler
    issues: list[Issue] = field(default_factory=list)
    record_ids: list[int] = field(default_factory=list)  # FamilyIn.record, Member[RECORD] -> SourceRecord id
    rows: int = 0
    rejected_rows: set[int] = field(default_factory=set)
    in_footer: bool = False  # the last row taken was part of the list's closing block (see footer_row)
    started: bool = False  # a row of data was taken: a form's filling hints (hint_row) are only above the first


def cell(value: Any) -> Any:
    """Cells as JSON keeps them: dates as ISO text; so parsing a staged row gives what parsing the file gave."""
    if isinstance(value, datetime):
        return value.date().isoformat() if (value.hour, value.minute, value.second) == (0, 0, 0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


_PLAIN = frozenset({str, int, float, bool, type(None)})


def cells(raw: list[Any]) -> list[Any]:
    """A workbook row as JSON keeps it (``cell`` of every cell); the row itself when no cell changes."""
    return raw if set(map(type, raw)) <= _PLAIN else [cell(c) for c in raw]


def take_chunk(parsed: Parsed, chunk: list[tuple[int, int, list[Any]]], mapping: dict[str, int]) -> None:
    """(SourceRecord id, line, cells) rows into the handler, the accepted records and the report, in order."""
    handler, record_ids, rejected_rows, issues = parsed.handler, parsed.record_ids, parsed.rejected_rows, parsed.issues
    if not parsed.rows:  # the list's first rows: its numbering of relationships (Handler.observe)
        issues.extend(handler.observe([raw for _, _, raw in chunk], [line for _, line, _ in chunk], mapping))
    ready = handler.prepare([raw for _, _, raw in chunk], [line for _, line, _ in chunk], mapping)
    accept = handler.accept
    in_footer, started = parsed.in_footer, parsed.started
    for (record_id, line, raw), prepared in zip(chunk, ready, strict=True):
        if not started:  # the rows right under the header: a form's filling hints or example (hint_row)?
            hint = hint_row(raw)
            if hint:
                issues.append(Issue(line, "", "row.hint", hint[:200], error=False))
                continue
            started = True
        if prepared is not None and accept(prepared, len(record_ids)):
            record_ids.append(record_id)
            in_footer = False
            continue
        width = len(raw)
        cells = Cells({name: raw[i] for name, i in mapping.items() if i < width}, line)
        handler.check(cells)
        if cells.rejected:
            closing = footer_row(raw, after_footer=in_footer)
            if closing:
                issues.append(Issue(line, "", "row.footer", closing[:200], error=False))
                in_footer = True
                continue
            rejected_rows.add(line)
            issues.extend(cells.issues)
            in_footer = False
            continue
        index = len(record_ids)
        record_ids.append(record_id)
        handler.add(cells, index)
        issues.extend(cells.issues)
        in_footer = False
    parsed.in_footer, parsed.started = in_footer, started
    parsed.rows += len(chunk)


# The closing block of a list as offices write it: totals, the place and date of signing, who knew or approved it,
# the signatory's office and NIP.
_FOOTER = re.compile(
    r"^\(?(jumlah|total|sub\s*total|grand\s*total|mengetahui|menyetujui|diketahui|disetujui|disahkan|dibuat\s+oleh|"
    r"yang\s+membuat|pembuat\s+daftar|petugas\s+pendata|ttd|tanda\s+tangan|cap\b|nip\b|nip\.|nrp\b|"
    r"an\.|a\.n\.|plt\.?\s|plh\.?\s|pj\.?\s|"
    r"(kepala|sekretaris)\s+(desa|kelurahan|dinas|badan|bidang|seksi|kantor|bappeda|kecamatan)|lurah\b|camat\b)",
    re.IGNORECASE,
)
# "Bontang, 12 Januari 2025", "Bontang, 12-01-2025": where and when the list was signed.
_SIGNED = re.compile(r"^[^\W\d_][\w .'-]*,\s*\d{1,2}(\s+[^\W\d_]+\s+|[-/.]\d{1,2}[-/.])\d{2,4}$")
_IDENTIFIER = re.compile(r"\d{15,}|\d[.,]\d+e\+?1[45]", re.IGNORECASE)  # a NIK or KK, also as Excel mangles it


# Filling instructions that forms put in a row under their header: choices ("L/P", "Ya/Tidak"), a date's format
# ("dd-mm-yyyy", "TGL/BLN/THN"), a length ("16 digit"), an instruction ("diisi sesuai KTP", "contoh", "wajib").
_HINT = re.compile(
    r"^\(?\s*[^\W\d_]{1,8}(\s*/\s*[^\W\d_]{1,8})+\s*\)?$|"
    r"\b(dd|tgl|hh|tanggal)\s*[-/. ]\s*(mm|bln|bb|bulan)\s*[-/. ]\s*(yyyy|yy|tttt|thn|tahun)\b|"
    r"\b(yyyy|tttt|thn)\s*[-/.]\s*(mm|bln|bb)\s*[-/.]\s*(dd|tgl|hh)\b|"
    r"\b\d{1,2}\s*(digit|angka|karakter)\b|"
    r"^\(?\s*(diisi|isi\s|isikan|isian|contoh|cth\.?|format|wajib|opsional|pilih|petunjuk|keterangan\s*:)|"
    r"\bsesuai\s+(ktp|kk|e-?ktp|kartu\s+keluarga|dokumen|akta)\b",
    re.IGNORECASE,
)
_EXAMPLE = re.compile(r"\(?\s*(contoh|cth\b)", re.IGNORECASE)  # "Contoh:", "(contoh pengisian)", "Cth."


def hint_row(raw: list[Any]) -> str:
    """The text of a row right under the header that tells how to fill the columns, or is the template's example
    ('' for any other row): at least half its filled cells are filling instructions (``_HINT``) and it carries no
    identifier, or one of its cells says it is an example ("Contoh"; its NIK is a made-up one, and was imported as
    a person). Such rows are skipped with a note; the first row that is neither ends them."""
    texts = [text for text in map(cell_text, raw) if text]
    if not texts:
        return ""
    hints = [bool(_HINT.search(text)) for text in texts]
    example = any(_EXAMPLE.match(text) for text in texts)
    if not example and any(_IDENTIFIER.search(text) for text in texts):
        return ""
    if example or 2 * sum(hints) >= len(texts):
        return " | ".join(texts)
    return ""


def footer_row(raw: list[Any], *, after_footer: bool) -> str:
    """The text of a rejected row that belongs to the list's closing block, '' for any other row: the row has no
    identifier, and one of its cells opens the block (JUMLAH, Mengetahui, Kepala Desa…, NIP., "Bontang, 12 Januari
    2025") or the row before it was of the block (the signatory's name). Such a row is skipped with a note, not
    rejected: every list signed by an office would otherwise need its valid rows committed by hand."""
    texts = [text for text in map(cell_text, raw) if text]
    if not texts or len(texts) > 4:
        return ""
    opening = [bool(_FOOTER.match(text) or _SIGNED.match(text)) for text in texts]
    if any(_IDENTIFIER.search(text) for text, opens in zip(texts, opening, strict=True) if not opens):
        return ""  # a NIK or KK (a signatory's NIP is part of the block)
    if any(opening) or (after_footer and len(texts) <= 2):  # after it: the signatory's name (two, side by side)
        return " | ".join(texts)
    return ""


def chunks_of(rows: Iterable[tuple[int, int, list[Any]]]) -> Iterator[list[tuple[int, int, list[Any]]]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, PARSE_CHUNK)):
        yield chunk


def can_fork() -> bool:
    """Linux only: elsewhere forking a process with threads and native libraries loaded is not safe (macOS)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


# -- the second process ----------------------------------------------------------------------------------------------
# Messages cross as marshal data of plain tuples: pickling the parsed dataclasses (field by field, dates through
# their reduce) took a third of the reader's time and a sixth of the writer's. Members are tuples already
# (registry.stream.Member); a family's dates travel as ISO text. A chunk's raw rows cross as one text of JSON
# lines: a million small strings cost marshal more than the same bytes in one piece.


def _iso(values: dict[str, Any], name: str) -> dict[str, Any]:
    value = values.get(name)
    if value is not None and type(value) is not str:
        values[name] = value.isoformat()
    return values


def _date(values: dict[str, Any], name: str) -> dict[str, Any]:
    value = values.get(name)
    if type(value) is str:
        values[name] = date.fromisoformat(value)
    return values


def encode_families(families: list[FamilyIn]) -> list[tuple[Any, ...]]:
    """Families and the members taken since they were last sent, as plain tuples (their values dicts change)."""
    return [
        (f.record, f.kk.nik, f.kk.raw, f.kk.valid, f.kk.problems, f.source_key, f.village, f.rt, f.rw, f.street,
         f.household_key, _iso(f.values, "welfare_date"), f.housing, f.size, f.members)
        for f in families
    ]  # fmt: skip


def decode_families(rows: list[tuple[Any, ...]]) -> list[FamilyIn]:
    return [
        FamilyIn(record, NikIn(kk, kk_raw, kk_valid, kk_problems), key, village, rt, rw, street, household,
                 _date(values, "welfare_date"), housing, members, size)
        for record, kk, kk_raw, kk_valid, kk_problems, key, village, rt, rw, street, household, values, housing, size,
        members in rows
    ]  # fmt: skip


class _Taken:
    """What ``Handler.flush`` hands its writer, kept to be sent to the writing process."""

    def __init__(self) -> None:
        self.families: list[FamilyIn] = []

    def write(self, families: list[FamilyIn]) -> None:
        self.families.extend(families)


def _child(sender: Connection, table: Table, handler: Handler, mapping: dict[str, int], first_record: int) -> None:
    """Read, keep and parse every row; send each chunk's outcome. Runs in the forked process: no database.

    A chunk: ("chunk", the SourceRecord id of its first row (the others follow it), the rows' lines, their raw cells
    to keep as JSON lines, the SourceRecord ids of the rows taken (in order: RegistryWriter.record_ids grows by
    these), the report's new issues, the rejected lines, the rows read so far, the families to write); then ("end",
    rows), or ("error", code, params) for a file problem.
    """
    try:
        parsed = Parsed(handler=handler)
        typed = table.format != "csv"  # CSV cells are text already
        dumps = orjson.dumps
        record_id = first_record

        def numbered() -> Iterator[tuple[int, int, list[Any]]]:
            nonlocal record_id
            for line, raw in table.rows():
                yield record_id, line, cells(raw) if typed else raw
                record_id += 1

        taken = _Taken()
        for chunk in chunks_of(numbered()):
            accepted_before = len(parsed.record_ids)
            take_chunk(parsed, chunk, mapping)
            handler.flush(taken)  # type: ignore[arg-type]  # the families this chunk took, as a writer gets them
            families, taken.families = taken.families, []
            message = (
                "chunk",
                chunk[0][0],
                [line for _, line, _ in chunk],
                b"\n".join([dumps(row, default=str) for _, _, row in chunk]),
                parsed.record_ids[accepted_before:],
                [(i.row, i.column, i.code, i.value, i.error) for i in parsed.issues],
                sorted(parsed.rejected_rows),
                parsed.rows,
                encode_families(families),
            )
            sender.send_bytes(marshal.dumps(message))
            for family in families:  # sent: the parent has them; later chunks send only new members
                family.members = []
                family.values = family.housing = {}
            parsed.issues = []
            parsed.rejected_rows.clear()
        sender.send_bytes(marshal.dumps(("end", parsed.rows)))
    except IntakeError as exc:
        params = {name: str(value) if not isinstance(value, int) else value for name, value in exc.params.items()}
        sender.send_bytes(marshal.dumps(("error", exc.code, params)))
    except BaseException:  # a bug: its traceback goes to the parent, which stops the import
        sender.send_bytes(marshal.dumps(("crash", traceback.format_exc())))
    finally:
        sender.close()


class ChildReader:
    """A forked child that reads and parses ``table``; ``receive`` writes what it sends as it arrives.

    Start it before any thread works on this process's database connection (the bulk writer): a fork copies only
    the forking thread. ``close`` ends the child whatever happened (a child still running is killed).
    """

    def __init__(self, table: Table, handler: Handler, mapping: dict[str, int], first_record: int) -> None:
        context = multiprocessing.get_context("fork")
        self.receiver, sender = context.Pipe(duplex=False)
        self.handler = handler
        self.process = context.Process(
            target=_child, args=(sender, table, handler, mapping, first_record), name="tepat-import-reader", daemon=True
        )
        self.process.start()
        sender.close()
        # Parts are taken off the pipe by a thread (the read releases the GIL), so the child can parse up to
        # AHEAD parts ahead of the writing: the two processes need about the same time per part, and without the
        # slack each waited for the other at every part whose time differed.
        self.parts: queue.Queue[bytes | None] = queue.Queue(maxsize=AHEAD)
        self.pump = threading.Thread(target=self._pump, name="tepat-import-pipe", daemon=True)
        self.pump.start()

    def _pump(self) -> None:
        try:
            while True:
                self.parts.put(self.receiver.recv_bytes())
        except (EOFError, OSError):
            self.parts.put(None)  # the child closed its end: after its last message, or dead

    def receive(
        self,
        *,
        keep: Callable[[list[tuple[int, int, str]]], None],
        writer: RegistryWriter,
        progress: Callable[[int], None],
    ) -> Parsed:
        """Keep the raw rows (``keep``) and write the families (``writer``) of every chunk, in order."""
        handler = self.handler
        parsed = Parsed(handler=type(handler)(handler.regions, handler.villages, program=handler.program))
        writer.record_ids = parsed.record_ids
        while True:
            data = self.parts.get()
            if data is not None:
                message = marshal.loads(data)
            else:
                self.process.join()
                raise ReaderStopped(
                    f"proses pembaca berkas berhenti tiba-tiba (kode {self.process.exitcode}); impor dibatalkan, "
                    "tidak ada yang tersimpan"
                ) from None
            if message[0] == "chunk":
                _, first, lines, texts, accepted, issues, rejected, rows, families = message
                keep(list(zip(range(first, first + len(lines)), lines, texts.decode().split("\n"), strict=True)))
                parsed.record_ids.extend(accepted)
                parsed.issues.extend(Issue(*issue) for issue in issues)
                parsed.rejected_rows.update(rejected)
                parsed.rows = rows
                if families:
                    writer.write(decode_families(families))
                progress(parsed.rows)
            elif message[0] == "end":
                return parsed
            elif message[0] == "error":
                raise IntakeError(FileProblem(message[1]), **message[2])
            else:
                raise RuntimeError(f"the import's reading process failed:\n{message[1]}")

    def close(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        while self.pump.is_alive():  # the child's end is closed now: the pump ends once it has room to say so
            with contextlib.suppress(queue.Empty):
                self.parts.get(timeout=0.1)
        self.receiver.close()
