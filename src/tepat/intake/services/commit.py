"""Commit a validated batch; and ``import_file``, which stages, validates and commits in one call (the CLI, the demo,
scripts)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from tepat.accounts.models import User
from tepat.accounts.permissions import Permission, require
from tepat.engine.batch import gc_paused
from tepat.intake.columns import map_columns
from tepat.intake.errors import IntakeError
from tepat.intake.models import BatchStatus, ImportBatch, RowIssue, Severity
from tepat.intake.parsing import Parsed, ReaderStopped
from tepat.intake.readers import open_table
from tepat.intake.services.common import (
    BACKGROUND_KINDS,
    PipelineError,
    Progress,
    _committed,
    _parse,
    _set_progress,
    _sha256,
)
from tepat.intake.services.stage import import_stage
from tepat.intake.services.validate import _read, _validate_or_fail
from tepat.registry.models import (
    SourceRecord,
)
from tepat.registry.writer import CommitCounts, RegistryWriter


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
    sheet: str | None = None,
    period: str = "",
) -> ImportOutcome:
    """Stage, validate and (unless ``commit`` is False: a dry run with the preview) commit the valid rows.

    One pass: the rows parsed for the report are the rows committed, so a large file is read and parsed once; the
    family lists are committed while they are read (see ``_validate``), the other kinds after.
    """
    batch = import_stage(actor=actor, path=path, kind=kind, source_name=source_name, program=program, sheet=sheet,
                         period=period)  # fmt: skip
    if batch.status == BatchStatus.UNCHANGED:
        return ImportOutcome(batch)
    parsed = _validate_or_fail(batch, progress, preview=not commit, commit=commit, actor=actor)
    if commit and parsed.record_ids and batch.status != BatchStatus.COMMITTED:
        if actor is not None:
            require(actor, Permission.IMPORT_DATA)
        with gc_paused():
            _commit(actor, batch, parsed, valid_only, progress)
    return ImportOutcome(batch)
