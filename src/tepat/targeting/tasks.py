"""Background work for targeting (django-tasks; run `tepat db_worker`). Thin: each task calls one service."""

from __future__ import annotations

from django_tasks import task

from tepat.targeting.models import Scenario, ScoringRun
from tepat.targeting.services import scenario_run_execute, scores_run_execute


@task()
def compute_scores(run_id: int) -> str:
    run = scores_run_execute(run=ScoringRun.objects.get(pk=run_id))
    return run.status


@task()
def run_scenario(scenario_id: int) -> str:
    scenario = Scenario.objects.filter(pk=scenario_id).first()
    if scenario is None:  # deleted while it waited in the queue
        return "deleted"
    return scenario_run_execute(scenario=scenario).status
