"""Background work for imports (django-tasks; run `tepat db_worker`). Thin: each task calls one service."""

from __future__ import annotations

from django_tasks import task

from tepat.accounts.models import User
from tepat.errors import UserError
from tepat.intake.models import ImportBatch
from tepat.intake.services import CRASHED_MESSAGE, import_commit, import_validate


@task()
def validate_batch(batch_id: int) -> str:
    batch = ImportBatch.objects.get(pk=batch_id)
    try:
        import_validate(batch=batch)
    except UserError as exc:  # recorded on the batch by the service; the page shows it
        return exc.code
    return batch.status


@task()
def commit_batch(batch_id: int, user_id: int | None, valid_only: bool) -> str:
    batch = ImportBatch.objects.get(pk=batch_id)
    actor = User.objects.filter(pk=user_id).first() if user_id else None
    try:
        import_commit(actor=actor, batch=batch, valid_only=valid_only)
    except UserError as exc:
        _commit_ended(batch, error=str(exc))
        return exc.code
    except BaseException:  # rolled back: the batch is validated again, and its page must stop waiting
        _commit_ended(batch, error=CRASHED_MESSAGE)
        raise
    return batch.status


def _commit_ended(batch: ImportBatch, *, error: str) -> None:
    """A commit that failed: the batch stays validated, with the reason; the page stops showing the queue."""
    ImportBatch.objects.filter(pk=batch.pk).update(error=error, progress_stage="", progress_done=0, progress_total=0)
    batch.clear_live_progress()
