from __future__ import annotations

from django_tasks import task

from tepat.linkage.models import LinkageRun
from tepat.linkage.services import linkage_run_execute


@task()
def run_linkage(run_id: int) -> None:
    linkage_run_execute(run=LinkageRun.objects.get(pk=run_id))
