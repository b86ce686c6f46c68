"""Targeting pages: overview (official vs local), rules with dry runs, budget scenarios, exports. Thin."""

from tepat.targeting.views.overview import family_table_export, overview, pmt_upload, run_progress, scores
from tepat.targeting.views.rules import (
    dry_run,
    rule_check,
    rule_delete,
    rule_detail,
    rule_export,
    rule_new,
    rule_restore,
    rules,
)
from tepat.targeting.views.scenarios import (
    scenario_delete,
    scenario_detail,
    scenario_edit,
    scenario_export,
    scenario_new,
    scenario_restore,
    scenarios,
)

__all__ = [
    "dry_run",
    "family_table_export",
    "overview",
    "pmt_upload",
    "rule_check",
    "rule_delete",
    "rule_detail",
    "rule_export",
    "rule_new",
    "rule_restore",
    "rules",
    "run_progress",
    "scenario_delete",
    "scenario_detail",
    "scenario_edit",
    "scenario_export",
    "scenario_new",
    "scenario_restore",
    "scenarios",
    "scores",
]
