"""Background work for programs (django-tasks; run `tepat db_worker`). Thin: each task calls one function."""

from __future__ import annotations

from django_tasks import task

from tepat.programs.models import AnalysisSnapshot
from tepat.programs.snapshot import snapshot_compute


@task()
def refresh_analysis(snapshot_id: int) -> str:
    snapshot = AnalysisSnapshot.objects.filter(pk=snapshot_id).first()
    if snapshot is None:  # pruned or superseded before the worker got to it
        return "gone"
    return str(snapshot_compute(snapshot=snapshot).status)
