"""Validate a staged batch: read, keep and parse every row, write the report and the preview (one pass for the family
lists: written, counted and rolled back)."""

from __future__ import annotations

import marshal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Protocol

import orjson
from django.db import transaction

from tepat.accounts.models import User
from tepat.engine.batch import gc_paused
from tepat.errors import UserError
from tepat.intake import parsing
from tepat.intake.columns import map_columns
from tepat.intake.errors import FileProblem, IntakeError
from tepat.intake.models import BatchStatus, ImportBatch, RowIssue, Severity
from tepat.intake.parsing import ChildReader, Parsed
from tepat.intake.readers import Table, open_table
from tepat.intake.services.common import (
    BACKGROUND_KINDS,
    CRASHED,
    CRASHED_MESSAGE,
    EXAMPLES,
    RERUNNABLE,
    PipelineError,
    Progress,
    _committed,
    _handler,
    _int_mapping,
    _parse,
    _set_progress,
)
from tepat.intake.services.stage import _mapping, missing_labels
from tepat.registry import bulk
from tepat.registry.bulk import BulkTable
from tepat.registry.models import (
    SourceRecord,
)
from tepat.registry.writer import CommitCounts, RegistryWriter


# -- validate -------------------------------------------------------------------------------------------------------
def import_validate(*, batch: ImportBatch, progress: Progress | None = None) -> ImportBatch:
    """Read the file, keep every row raw, write the report and the preview. File-level problems fail the batch."""
    _validate_or_fail(batch, progress, preview=True)
    return batch


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
    batch.sheets, batch.alike_sheets = table.sheets, table.alike
    batch.save(update_fields=["columns", "mapping", "header_line", "sheet", "sheets", "alike_sheets", "error_code",
                              "error"])  # fmt: skip
    missing = missing_labels(batch.kind, mapping)
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
            cells = parsing.cells(raw) if typed else raw
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


def _write_report(batch: ImportBatch, parsed: Parsed) -> None:
    headers = {name: batch.columns[index] for name, index in batch.mapping.items() if index < len(batch.columns)}
    RowIssue.objects.filter(batch=batch).delete()
    BulkTable(RowIssue, assign_ids=False).insert(
        {"batch_id": batch.pk, "row_number": i.row, "column": i.column, "header": headers.get(i.column, "")[:100],
         "code": i.code, "severity": Severity.ERROR if i.error else Severity.WARNING, "value": i.value[:200]}
        for i in parsed.issues
    )  # fmt: skip


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
