"""What the import pipeline's steps share: progress, the parse of rows into a kind's handler, the record of a commit."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.utils import timezone

from tepat.accounts.models import AuditAction, User
from tepat.accounts.services import audit
from tepat.areas.selectors import region_codes, region_village_names, village_codes
from tepat.errors import UserError
from tepat.intake import parsing
from tepat.intake.kinds import KINDS, Handler
from tepat.intake.kinds.base import VillageNames
from tepat.intake.models import BatchStatus, ImportBatch
from tepat.intake.parsing import Parsed, take_chunk
from tepat.registry import bulk
from tepat.registry.writer import CommitCounts, RegistryWriter

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
    handler = KINDS[batch.kind].handler(region_codes(), village_codes(), program=batch.program_code)
    handler.names = VillageNames(region_village_names())
    handler.period = batch.period_choice
    return handler


CRASHED = "import.crashed"


CRASHED_MESSAGE = "kesalahan internal saat memproses berkas; batch ini dapat dijalankan lagi, laporkan ke pengelola"


def _committed(actor: User | None, batch: ImportBatch, counts: CommitCounts, valid_only: bool) -> None:
    """The batch's record of a commit, inside the commit's transaction."""
    batch.counts = {**batch.counts, **counts.as_dict()}
    batch.status = BatchStatus.COMMITTED
    batch.commit_valid_only = valid_only
    batch.committed_at = timezone.now()
    batch.save(update_fields=["counts", "status", "commit_valid_only", "committed_at"])
    audit(actor, AuditAction.IMPORT_COMMIT, target=batch, detail={"file": batch.file_name, **batch.counts})


# Statuses validation may run from: VALIDATING again (a worker died half-way), FAILED again (the user mapped the
# columns). Staged rows are never committed data, so a re-run starts from a clean slate.
RERUNNABLE = (BatchStatus.UPLOADED, BatchStatus.VALIDATING, BatchStatus.FAILED)
