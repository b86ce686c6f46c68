"""The import pipeline: stage → validate (report + preview) → commit → (rollback).

- stage: keep a copy of the file and a batch row; the same file already committed for the same source is marked
  UNCHANGED and nothing else happens (re-importing changes nothing).
- validate: read every row, keep it raw (SourceRecord), parse it, write the report (RowIssue: row, column, code)
  and a preview made by running the real commit inside a transaction that is rolled back — so the preview's
  new/changed/unchanged counts are exactly what a commit would do.
- commit: one transaction; rows with errors are committed only never — the user either commits the valid rows
  (``valid_only``) or fixes the file and uploads again.
- rollback: undo a committed batch (created rows deleted, changed values restored with their old lineage),
  refused when a later batch built on it.
"""

from __future__ import annotations

import hashlib
import marshal
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tepat.accounts.models import AuditAction, User
from tepat.accounts.permissions import Permission, require
from tepat.accounts.services import audit
from tepat.areas.selectors import region_codes, village_codes
from tepat.engine.batch import gc_paused
from tepat.errors import UserError
from tepat.intake import parsing
from tepat.intake.columns import COLUMN_VARIANTS, map_columns, normalise_header
from tepat.intake.errors import FileProblem, IntakeError
from tepat.intake.kinds import KINDS, Handler
from tepat.intake.models import BatchStatus, ColumnMapping, ImportBatch, RowIssue, Severity, Source
from tepat.intake.parsing import ChildReader, Parsed, ReaderStopped, take_chunk
from tepat.intake.readers import Table, open_table
from tepat.monitoring.services import TARGET_PERMISSION, MonitoringError, monitoring_batch_rollback
from tepat.programs.models import Benefit
from tepat.registry import bulk
from tepat.registry.bulk import BulkTable
from tepat.registry.models import (
    Address,
    Change,
    Exclusion,
    Family,
    Household,
    Membership,
    Person,
    RegistryFlag,
    SourceRecord,
)
from tepat.registry.writer import CommitCounts, RegistryWriter
from tepat.verification.models import Proposal, ProposalStatus

Progress = Callable[[str, int, int], None]
EXAMPLES = 5
BACKGROUND_KINDS = ("person", "dtsen")


class PipelineError(UserError):
    code = "import.state"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _set_progress(batch: ImportBatch, stage: str, done: int, total: int, progress: Progress | None) -> None:
    """Progress goes to the CLI callback and, every so often, to the batch row the web page polls.

    The row is written through ``bulk.run``: in order with the bulk statements, on their thread when they have one.
    """
    if progress:
        progress(stage, done, total)
    if stage != batch.progress_stage or done == total or done - batch.progress_done >= max(total // 50, 1000):
        batch.progress_stage, batch.progress_done, batch.progress_total = stage, done, total
        mark = bulk.placeholder()
        sql = (f"UPDATE {ImportBatch._meta.db_table} SET progress_stage = {mark}, progress_done = {mark}, "
               f"progress_total = {mark} WHERE id = {mark}")  # fmt: skip
        params = (stage, done, total, batch.pk)
        bulk.run(lambda cursor: cursor.execute(sql, params))
        batch.write_live_progress()


# -- stage ----------------------------------------------------------------------------------------------------------
def import_stage(
    *, actor: User | None, path: Path, kind: str, source_name: str, file_name: str | None = None, program: str = ""
) -> ImportBatch:
    if actor is not None:
        require(actor, Permission.IMPORT_DATA)
    if kind not in KINDS:
        raise PipelineError(f"jenis impor belum didukung: {kind} (tersedia: {', '.join(KINDS)})")
    if kind == "targets" and actor is not None:
        require(actor, TARGET_PERMISSION)  # operators import lists; targets are the TKPK's decision
    if not path.exists() or not path.is_file():
        raise IntakeError(FileProblem.NOT_FOUND, path=path)
    sha = _sha256(path)
    source, _ = Source.objects.get_or_create(name=source_name, defaults={"kind": kind})
    batch = ImportBatch.objects.create(
        source=source,
        kind=kind,
        file_name=file_name or path.name,
        sha256=sha,
        created_by=actor,
        program_code=program.strip()[:80],
    )
    folder = Path(settings.VAR_DIR) / "imports" / str(batch.pk)
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / Path(file_name or path.name).name
    shutil.copyfile(path, stored)
    batch.stored_path = str(stored)
    previous = ImportBatch.objects.filter(source=source, sha256=sha, status=BatchStatus.COMMITTED).exclude(pk=batch.pk)
    if previous.exists():
        batch.status = BatchStatus.UNCHANGED
        batch.counts = {"same_as_batch": previous.first().pk}  # type: ignore[union-attr]
    batch.save()
    return batch


# -- read and parse -----------------------------------------------------------------------------------------------
def _mapping(batch: ImportBatch, header: list[str]) -> dict[str, int]:
    mapping = map_columns(header)
    remembered = {m.header: m.field for m in ColumnMapping.objects.filter(source=batch.source)}
    for index, text in enumerate(header):
        key = normalise_header(text)
        if key in remembered:
            for name, position in list(mapping.items()):
                if position == index:
                    del mapping[name]
            if remembered[key]:
                mapping[remembered[key]] = index
    return mapping


def _parse(batch: ImportBatch, rows: Iterable[tuple[int, int, list[Any]]], total: int,
           progress: Progress | None, writer: RegistryWriter | None = None) -> Parsed:  # fmt: skip
    """rows: (SourceRecord id, line, cells). Builds the kind's commit input and the report.

    Rows come in chunks (``parsing.take_chunk``). With a ``writer`` (a one-pass import), what each chunk gave is
    written at once (``Handler.flush``).
    """
    mapping = _int_mapping(batch)
    parsed = Parsed(handler=_handler(batch))
    if writer is not None:
        writer.record_ids = parsed.record_ids
    for chunk in parsing.chunks_of(rows):
        take_chunk(parsed, chunk, mapping)
        if writer is not None:
            parsed.handler.flush(writer)
        _set_progress(batch, "parse", parsed.rows, max(total, parsed.rows), progress)
    _set_progress(batch, "parse", parsed.rows, total, progress)
    return parsed


def _int_mapping(batch: ImportBatch) -> dict[str, int]:
    return {name: int(index) for name, index in batch.mapping.items()}


def _handler(batch: ImportBatch) -> Handler:
    return KINDS[batch.kind].handler(region_codes(), village_codes(), program=batch.program_code)


def missing_fields(kind: str, mapping: dict[str, int]) -> list[str]:
    definition = KINDS[kind]
    missing = [name for name in definition.required if name not in mapping]
    if definition.one_of and not any(name in mapping for name in definition.one_of):
        missing.append(" / ".join(definition.one_of))
    return missing


@transaction.atomic
def import_map_columns(
    *, actor: User | None, batch: ImportBatch, choices: dict[int, str], sheet: str | None = None
) -> ImportBatch:
    """The user's column choices (file column index -> field, '' = ignore), remembered for the batch's source;
    or, when ``sheet`` names another sheet of the workbook, that sheet instead of the one found by its header.

    The batch goes back to UPLOADED so validation runs again with the mapping.
    """
    if actor is not None:
        require(actor, Permission.IMPORT_DATA)
    if batch.status not in RERUNNABLE and batch.status != BatchStatus.VALIDATED:
        raise PipelineError(f"kolom batch #{batch.pk} tidak dapat diubah lagi ({batch.get_status_display().lower()})")
    if sheet is not None and sheet != batch.sheet:
        if sheet not in batch.sheets:
            raise PipelineError(f"lembar tidak ada di berkas: {sheet}")
        batch.sheet_choice = sheet  # another sheet: its own header, so the column choices below do not apply
        batch.status = BatchStatus.UPLOADED
        batch.save(update_fields=["sheet_choice", "status"])
        audit(actor, AuditAction.IMPORT_MAPPING, target=batch, detail={"sheet": sheet})
        return batch
    fields = set(COLUMN_VARIANTS)
    for index, field_name in choices.items():
        if index >= len(batch.columns) or (field_name and field_name not in fields):
            raise PipelineError(f"pilihan kolom tidak dikenal: {field_name}")
        header = normalise_header(batch.columns[index])
        ColumnMapping.objects.update_or_create(source=batch.source, header=header, defaults={"field": field_name})
    batch.status = BatchStatus.UPLOADED
    batch.save(update_fields=["status"])
    audit(actor, AuditAction.IMPORT_MAPPING, target=batch, detail={"choices": {str(k): v for k, v in choices.items()}})
    return batch


# -- validate -------------------------------------------------------------------------------------------------------
def import_validate(*, batch: ImportBatch, progress: Progress | None = None) -> ImportBatch:
    """Read the file, keep every row raw, write the report and the preview. File-level problems fail the batch."""
    _validate_or_fail(batch, progress, preview=True)
    return batch


RERUNNABLE = (BatchStatus.UPLOADED, BatchStatus.VALIDATING, BatchStatus.FAILED)


def _validate_or_fail(
    batch: ImportBatch, progress: Progress | None, *, preview: bool, commit: bool = False, actor: User | None = None
) -> Parsed:
    # VALIDATING again: a worker died half-way; FAILED again: the user mapped the columns. Staged rows are
    # never committed data, so a re-run starts from a clean slate.
    if batch.status not in RERUNNABLE:
        raise PipelineError(f"batch #{batch.pk} sudah {batch.get_status_display().lower()}")
    RowIssue.objects.filter(batch=batch).delete()
    SourceRecord.objects.filter(batch=batch).delete()
    batch.error_code = batch.error = ""
    with gc_paused():
        try:
            return _validate(batch, progress, preview=preview, commit=commit, actor=actor)
        except UserError as exc:  # a file problem, or the reading process stopped (import.reader_stopped)
            _failed(batch, exc.code, str(exc))
            raise
        except Exception:  # a bug: the batch says so (its page would wait for ever), the task logs the traceback
            _failed(batch, CRASHED, CRASHED_MESSAGE)
            raise


CRASHED = "import.crashed"
CRASHED_MESSAGE = "kesalahan internal saat memproses berkas; batch ini dapat dijalankan lagi, laporkan ke pengelola"


def _failed(batch: ImportBatch, code: str, message: str) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.FAILED, error_code=code, error=message)
    batch.refresh_from_db()


def _validate(
    batch: ImportBatch, progress: Progress | None, *, preview: bool, commit: bool, actor: User | None
) -> Parsed:
    """Read, keep and parse every row; write the report. With ``commit`` (one-pass imports of family lists),
    the valid rows are committed as they are parsed, in the same transaction as the raw rows and the report.

    A family list's preview is made the same way, in one pass: its rows are written as they are parsed, counted,
    and rolled back; the raw rows, kept aside meanwhile, and the report are then written in a transaction of their
    own. Other kinds parse first, then preview with ``_dry_run``.
    """
    table = open_table(Path(batch.stored_path), sheet=batch.sheet_choice or None,
                       header_score=lambda cells: len(map_columns(cells)))  # fmt: skip
    mapping = _mapping(batch, table.header)
    # Kept even when columns are missing: the page offers the file's headers for the user to map.
    batch.columns, batch.mapping, batch.header_line, batch.sheet = table.header, mapping, table.header_line, table.sheet
    batch.sheets = table.sheets
    batch.save(update_fields=["columns", "mapping", "header_line", "sheet", "sheets", "error_code", "error"])
    missing = missing_fields(batch.kind, mapping)
    if missing:
        raise IntakeError(FileProblem.MISSING_COLUMNS, columns=", ".join(missing))
    ImportBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.VALIDATING)
    estimate = table.row_count_estimate() or 0
    records = BulkTable(SourceRecord)
    shape = records.shape(("id", "row_number", "values"), {"batch_id": batch.pk, "sheet": table.sheet})
    # The family lists (the big ones) are only parsed here: their statements can go to a second thread, and a large
    # one is read and parsed by a second process. Other kinds read the database while they parse (programs, areas,
    # indicators), so they write as they go.
    streaming = batch.kind in BACKGROUND_KINDS and (commit or preview)
    dry = streaming and not commit
    spool = _Spool(Path(batch.stored_path).parent) if dry else None

    def keep(rows: list[tuple[int, int, str]]) -> None:
        if spool is not None:
            spool.add(rows)
        else:
            records.insert_tuples(shape, rows)

    counts: CommitCounts | None = None
    try:
        with transaction.atomic():
            parsed, counts, examples = _read(batch, table, records, keep, estimate, progress, streaming, dry)
            if dry:
                raise _DryRun(counts or CommitCounts(), examples)
            _record_validation(batch, parsed, preview, progress)
            if counts is not None:
                _committed(actor, batch, counts, valid_only=True)
    except _DryRun as result:
        assert spool is not None
        with transaction.atomic():
            kept = BulkTable(SourceRecord)  # the ids handed out in the rolled-back run may be taken by now
            shift = kept.reserve(spool.rows) - spool.first
            for rows in spool.replay():
                kept.insert_tuples(shape, [(rid + shift, line, values) for rid, line, values in rows])
            kept.finish()
            batch.preview = {**result.counts.as_dict(), "examples": result.examples}
            _record_validation(batch, parsed, False, progress)
    finally:
        if spool is not None:
            spool.close()
    return parsed


class _Ids(Protocol):
    def reserve(self, count: int) -> int: ...

    def finish(self) -> None: ...


def _read(
    batch: ImportBatch,
    table: Table,
    records: _Ids,
    keep: Callable[[list[tuple[int, int, str]]], None],
    estimate: int,
    progress: Progress | None,
    streaming: bool,
    dry: bool,
) -> tuple[Parsed, CommitCounts | None, dict[str, Any]]:
    """Keep and parse every row; a streaming batch writes its families as they come, and commits them (the commit of
    a dry one is rolled back by the caller). The raw rows go to ``keep`` as (id, line, JSON)."""
    typed = table.format != "csv"  # CSV cells are text already
    dumps = orjson.dumps

    def staged() -> Iterator[tuple[int, int, list[Any]]]:
        """Each row is kept raw (SourceRecord) as it is read, and parsed at once: one pass, nothing held twice."""
        pending: list[tuple[int, int, str]] = []
        first = record_id = records.reserve(0)  # reserve(0) again: the first id, reserved nothing yet
        for line, raw in table.rows():
            cells = [parsing.cell(c) for c in raw] if typed else raw
            pending.append((record_id, line, dumps(cells, default=str).decode()))
            if len(pending) >= 5_000:
                keep(pending)
                pending = []
            yield record_id, line, cells
            record_id += 1
        table.release()
        records.reserve(record_id - first)  # the ids handed out above
        keep(pending)
        records.finish()

    # Only tables read in bounded memory (CSV, a large xlsx sheet read in parts): a whole loaded sheet (1.3 GB for a
    # million rows) would stay in the reading process beside what the writing one holds.
    forked = streaming and table.streams() and estimate >= parsing.CHILD_MIN_ROWS and parsing.can_fork()
    writes = bulk.background_writes() if batch.kind in BACKGROUND_KINDS else nullcontext()
    counts: CommitCounts | None = None
    examples: dict[str, Any] = {}
    first_record = records.reserve(0)
    # Forked before the bulk writer thread starts: a fork copies only the forking thread.
    child = ChildReader(table, _handler(batch), _int_mapping(batch), first_record) if forked else None
    try:
        with writes:
            writer = (
                RegistryWriter(batch, [], expected_rows=estimate, examples=EXAMPLES if dry else 0, dry_run=dry)
                if streaming
                else None
            )
            if child is not None and writer is not None:
                parsed = child.receive(
                    keep=keep, writer=writer,
                    progress=lambda done: _set_progress(batch, "parse", done, max(estimate, done), progress),
                )  # fmt: skip
                records.reserve(parsed.rows)  # the ids the child handed out
                records.finish()
                _set_progress(batch, "parse", parsed.rows, parsed.rows, progress)
            else:
                parsed = _parse(batch, staged(), estimate, progress, writer)
            _refuse_unusable(parsed)
            if writer is not None and (parsed.record_ids or dry):
                stage = "parse" if dry else "commit"  # a preview saves nothing: still "reading and checking"
                _set_progress(batch, stage, len(parsed.record_ids), len(parsed.record_ids), progress)
                counts = parsed.handler.commit(writer)
                examples = {**writer.examples, "unmatched_rows": writer.unmatched[:EXAMPLES]}
                parsed.handler.release()
    finally:
        if child is not None:
            child.close()
            table.release()
    return parsed, counts, examples


def _record_validation(batch: ImportBatch, parsed: Parsed, preview: bool, progress: Progress | None) -> None:
    """The report, the counts and (``preview``: made now with ``_dry_run``) the preview; the batch is validated."""
    _write_report(batch, parsed)
    batch.status = BatchStatus.VALIDATED
    batch.counts = {"rows": parsed.rows, "accepted": len(parsed.record_ids),
                    "rejected_rows": len(parsed.rejected_rows),
                    "warnings": sum(1 for i in parsed.issues if not i.error)}  # fmt: skip
    if preview:
        batch.preview = _dry_run(batch, parsed, progress)
    batch.save(update_fields=["status", "counts", "preview"])


class _Spool:
    """Raw rows kept aside in a temporary file (marshal, one chunk a record) while a dry run's transaction lasts."""

    def __init__(self, folder: Path) -> None:
        # Beside the stored file: the system's temporary folder can be memory, and this holds every raw row.
        self.file = tempfile.TemporaryFile(prefix=".tepat-rows-", dir=folder)  # noqa: SIM115  # closed by close()
        self.rows = 0
        self.first = 0

    def add(self, rows: list[tuple[int, int, str]]) -> None:
        if not rows:
            return
        if not self.rows:
            self.first = rows[0][0]
        data = marshal.dumps(rows)
        self.file.write(len(data).to_bytes(8, "little"))
        self.file.write(data)
        self.rows += len(rows)

    def replay(self) -> Iterator[list[tuple[int, int, str]]]:
        self.file.seek(0)
        while size := self.file.read(8):
            yield marshal.loads(self.file.read(int.from_bytes(size, "little")))

    def close(self) -> None:
        self.file.close()


def _refuse_unusable(parsed: Parsed) -> None:
    """File-level outcomes of the parse: no rows at all, or every row in a region this deployment does not know."""
    if not parsed.rows:
        raise IntakeError(FileProblem.NO_ROWS)
    if (
        not parsed.record_ids
        and parsed.rejected_rows
        and all(i.code == "village.unknown" for i in parsed.issues if i.error)
    ):
        raise IntakeError(FileProblem.UNKNOWN_REGION)


def _write_report(batch: ImportBatch, parsed: Parsed) -> None:
    headers = {name: batch.columns[index] for name, index in batch.mapping.items() if index < len(batch.columns)}
    RowIssue.objects.filter(batch=batch).delete()
    BulkTable(RowIssue, assign_ids=False).insert(
        {"batch_id": batch.pk, "row_number": i.row, "column": i.column, "header": headers.get(i.column, "")[:100],
         "code": i.code, "severity": Severity.ERROR if i.error else Severity.WARNING, "value": i.value[:200]}
        for i in parsed.issues
    )  # fmt: skip


class _DryRun(Exception):
    def __init__(self, counts: CommitCounts, examples: dict[str, Any]) -> None:
        self.counts, self.examples = counts, examples


def _dry_run(batch: ImportBatch, parsed: Parsed, progress: Progress | None) -> dict[str, Any]:
    """Run the real commit and roll it back: the preview is exactly what a commit would do."""
    try:
        with transaction.atomic():
            writer = RegistryWriter(
                batch, parsed.record_ids, examples=EXAMPLES, expected_rows=parsed.rows, dry_run=True
            )
            counts = parsed.handler.commit(writer)
            raise _DryRun(counts, {**writer.examples, "unmatched_rows": writer.unmatched[:EXAMPLES]})
    except _DryRun as result:
        return {**result.counts.as_dict(), "examples": result.examples}


# -- commit ---------------------------------------------------------------------------------------------------------
def import_commit(
    *, actor: User | None, batch: ImportBatch, valid_only: bool = False, progress: Progress | None = None
) -> ImportBatch:
    """Commit a validated batch in one transaction. With rejected rows, the user must choose ``valid_only``."""
    if actor is not None:
        require(actor, Permission.IMPORT_DATA)
    if batch.status != BatchStatus.VALIDATED:
        raise PipelineError(f"batch #{batch.pk} tidak siap disimpan ({batch.get_status_display().lower()})")
    if batch.counts.get("rejected_rows") and not valid_only:
        raise PipelineError(
            f"{batch.counts['rejected_rows']} baris ditolak: pilih 'simpan baris yang valid' atau perbaiki berkas"
        )
    with gc_paused():
        if _commit_from_file(actor, batch, valid_only, progress):
            return batch
        rejected = set(
            RowIssue.objects.filter(batch=batch, severity=Severity.ERROR).values_list("row_number", flat=True)
        )
        total = SourceRecord.objects.filter(batch=batch).count()
        rows = (
            (pk, line, values)
            for pk, line, values in SourceRecord.objects.filter(batch=batch)
            .order_by("row_number")
            .values_list("pk", "row_number", "values")
            .iterator(chunk_size=5000)
            if line not in rejected
        )
        _commit(actor, batch, _parse(batch, rows, total, progress), valid_only, progress)
    return batch


class _Misaligned(Exception):
    """The file read again does not give the rows kept at validation."""


class _Restaged:
    """The ids of the rows kept at validation, handed out again in the file's order (``_read``'s records)."""

    def __init__(self, first: int) -> None:
        self.first = first

    def reserve(self, count: int) -> int:
        return self.first

    def finish(self) -> None:
        pass


def _commit_from_file(actor: User | None, batch: ImportBatch, valid_only: bool, progress: Progress | None) -> bool:
    """Commit a validated family list in one pass from its stored file, as ``import_file`` does: read and parsed by
    a second process when large, the families written as they come. Every row read must be the row kept at
    validation (same id, same line) and the outcome the validated one (same rows accepted and rejected).

    False, with nothing written, when that cannot be: the file is gone or changed, its rows do not line up, or the
    reference data changed what passes. The rows kept at validation are then parsed instead (``import_commit``).
    """
    path = Path(batch.stored_path)
    if batch.kind not in BACKGROUND_KINDS or not path.is_file() or _sha256(path) != batch.sha256:
        return False
    staged = list(SourceRecord.objects.filter(batch=batch).order_by("pk").values_list("pk", "row_number"))
    if not staged or staged[-1][0] - staged[0][0] + 1 != len(staged):
        return False
    first, lines = staged[0][0], [line for _, line in staged]
    del staged
    rejected = set(RowIssue.objects.filter(batch=batch, severity=Severity.ERROR).values_list("row_number", flat=True))
    try:
        table = open_table(path, sheet=batch.sheet or None, header_score=lambda cells: len(map_columns(cells)))
    except IntakeError:
        return False
    if table.header != batch.columns or table.header_line != batch.header_line:
        table.release()
        return False

    def check(rows: list[tuple[int, int, str]]) -> None:
        for record_id, line, _ in rows:
            index = record_id - first
            if not 0 <= index < len(lines) or lines[index] != line:
                raise _Misaligned

    try:
        with transaction.atomic():
            ImportBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.COMMITTING)
            parsed, counts, _ = _read(batch, table, _Restaged(first), check, len(lines), progress, True, False)
            # The same rows must pass as at validation: reference data changed since (a village added or removed)
            # would commit rows the report rejected, or leave out rows it accepted.
            if parsed.rows != len(lines) or len(parsed.record_ids) != batch.counts.get("accepted"):
                raise _Misaligned
            if parsed.rejected_rows != rejected:
                raise _Misaligned
            _committed(actor, batch, counts or CommitCounts(), valid_only)
    except (_Misaligned, IntakeError, ReaderStopped):
        batch.refresh_from_db()
        return False
    return True


def _commit(
    actor: User | None, batch: ImportBatch, parsed: Parsed, valid_only: bool, progress: Progress | None
) -> None:
    with transaction.atomic():
        ImportBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.COMMITTING)
        _set_progress(batch, "commit", 0, len(parsed.record_ids), progress)
        done = [0]

        def on_persons(n: int) -> None:
            done[0] += n
            _set_progress(batch, "commit", done[0], len(parsed.record_ids), progress)

        writer = RegistryWriter(batch, parsed.record_ids, progress=on_persons, expected_rows=parsed.rows)
        counts = parsed.handler.commit(writer)
        parsed.handler.release()
        _set_progress(batch, "commit", len(parsed.record_ids), len(parsed.record_ids), progress)
        _committed(actor, batch, counts, valid_only)


def _committed(actor: User | None, batch: ImportBatch, counts: CommitCounts, valid_only: bool) -> None:
    """The batch's record of a commit, inside the commit's transaction."""
    batch.counts = {**batch.counts, **counts.as_dict()}
    batch.status = BatchStatus.COMMITTED
    batch.commit_valid_only = valid_only
    batch.committed_at = timezone.now()
    batch.save(update_fields=["counts", "status", "commit_valid_only", "committed_at"])
    audit(actor, AuditAction.IMPORT_COMMIT, target=batch, detail={"file": batch.file_name, **batch.counts})


# -- one call for the CLI, the demo and scripts ----------------------------------------------------------------------
@dataclass
class ImportOutcome:
    batch: ImportBatch

    @property
    def counts(self) -> dict[str, Any]:
        return dict(self.batch.counts)

    @property
    def unchanged(self) -> bool:
        return self.batch.status == BatchStatus.UNCHANGED

    def issues(self, *, errors_only: bool = False) -> list[RowIssue]:
        issues = RowIssue.objects.filter(batch=self.batch)
        return list(issues.filter(severity=Severity.ERROR) if errors_only else issues)


def import_file(
    *,
    actor: User | None,
    path: Path,
    kind: str,
    source_name: str,
    commit: bool = True,
    valid_only: bool = True,
    program: str = "",
    progress: Progress | None = None,
) -> ImportOutcome:
    """Stage, validate and (unless ``commit`` is False: a dry run with the preview) commit the valid rows.

    One pass: the rows parsed for the report are the rows committed, so a large file is read and parsed once; the
    family lists are committed while they are read (see ``_validate``), the other kinds after.
    """
    batch = import_stage(actor=actor, path=path, kind=kind, source_name=source_name, program=program)
    if batch.status == BatchStatus.UNCHANGED:
        return ImportOutcome(batch)
    parsed = _validate_or_fail(batch, progress, preview=not commit, commit=commit, actor=actor)
    if commit and parsed.record_ids and batch.status != BatchStatus.COMMITTED:
        if actor is not None:
            require(actor, Permission.IMPORT_DATA)
        with gc_paused():
            _commit(actor, batch, parsed, valid_only, progress)
    return ImportOutcome(batch)


# -- rollback -------------------------------------------------------------------------------------------------------
@transaction.atomic
def import_rollback(*, actor: User | None, batch: ImportBatch) -> ImportBatch:
    """Undo a committed batch. Refused when a later batch changed or linked rows that this batch created."""
    if actor is not None:
        require(actor, Permission.IMPORT_DATA)
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != BatchStatus.COMMITTED:
        raise PipelineError(
            f"hanya batch yang tersimpan yang dapat dibatalkan (#{batch.pk}: {batch.get_status_display()})"
        )
    created = {
        "person": Person.objects.filter(created_batch=batch).values("pk"),
        "family": Family.objects.filter(created_batch=batch).values("pk"),
        "household": Household.objects.filter(created_batch=batch).values("pk"),
    }
    later_changes = Change.objects.exclude(batch=batch).filter(_about(created))
    later_links = (
        Membership.objects.exclude(created_batch=batch).filter(person__created_batch=batch).exists()
        or Membership.objects.exclude(created_batch=batch).filter(family__created_batch=batch).exists()
    )
    if later_links or later_changes.exists():
        raise PipelineError(f"batch #{batch.pk} sudah dipakai oleh impor berikutnya; batalkan impor berikutnya dulu")
    try:
        monitoring_batch_rollback(batch_id=batch.pk)
    except MonitoringError as exc:
        raise PipelineError(str(exc)) from exc
    from tepat.programs.models import Adoption

    if Adoption.objects.filter(family__created_batch=batch).exists():
        raise PipelineError(
            f"keluarga dari batch #{batch.pk} sudah diadopsi mitra; impor ini tidak dapat dibatalkan lagi"
        )
    proposals = Proposal.objects.filter(batch=batch)
    if proposals.exclude(status=ProposalStatus.PROPOSED).exists():
        raise PipelineError(f"usulan dari batch #{batch.pk} sudah diproses; impor ini tidak dapat dibatalkan lagi")
    proposals.delete()
    _revert_changes(batch, actor)
    RegistryFlag.objects.filter(batch=batch).delete()
    Exclusion.objects.filter(batch=batch).delete()
    Benefit.objects.filter(batch=batch).delete()
    Membership.objects.filter(created_batch=batch).delete()
    Person.objects.filter(created_batch=batch).delete()
    households = list(Household.objects.filter(created_batch=batch).values_list("pk", "address_id"))
    Family.objects.filter(created_batch=batch).delete()
    Household.objects.filter(pk__in=[h for h, _ in households]).delete()
    Address.objects.filter(pk__in=[a for _, a in households if a]).exclude(
        pk__in=Family.objects.values("address_id")
    ).delete()
    batch.status = BatchStatus.ROLLED_BACK
    batch.rolled_back_at = timezone.now()
    batch.rolled_back_by = actor
    batch.save(update_fields=["status", "rolled_back_at", "rolled_back_by"])
    audit(actor, AuditAction.IMPORT_ROLLBACK, target=batch, detail={"file": batch.file_name})
    return batch


def _about(created: dict[str, Any]) -> Q:
    """Changes about any of the given rows (entity name -> ids)."""
    q = Q(pk__in=[])
    for entity, ids in created.items():
        q |= Q(entity=entity, entity_id__in=ids)
    return q


_MODELS: dict[str, Any] = {"person": Person, "family": Family, "household": Household, "membership": Membership}


def _revert_changes(batch: ImportBatch, actor: User | None) -> None:
    """Restore every value the batch changed, newest first, and record each restoration as a change itself."""
    reverts: list[Change] = []
    for change in Change.objects.filter(batch=batch).order_by("-id"):
        model = _MODELS[change.entity]
        obj = model.objects.filter(pk=change.entity_id).first()
        if obj is None:
            continue
        current = getattr(obj, change.field)
        setattr(obj, change.field, model._meta.get_field(change.field).to_python(change.old))
        if change.old_source_record_id:
            obj.lineage[change.field] = change.old_source_record_id
        else:
            obj.lineage.pop(change.field, None)
        obj.save(update_fields=[change.field, "lineage", "updated_at"])
        reverts.append(
            Change(entity=change.entity, entity_id=change.entity_id, field=change.field,
                   old=current.isoformat() if isinstance(current, date) else current, new=change.old,
                   source_record_id=change.old_source_record_id, actor=actor,
                   reason=f"pembatalan impor #{batch.pk}")
        )  # fmt: skip
    Change.objects.bulk_create(reverts)
