"""Writes of the targeting app: local scores (a background run), eligibility rules, budget scenarios, PMT scores.

Every computation is the engine's (tepat.engine.scorecard, rules, allocation, poverty); what is here is getting the
registry's data to it, checking who may ask, storing what came back, and the audit row. One module per concept:
``scores``, ``rules``, ``scenarios`` (inputs) and ``scenario_run`` (the run), ``pmt``, ``demo``; ``common`` holds
what they share. Importing this package stays light: the optimiser (scipy) is imported by a scenario run only.
"""

from tepat.targeting.services.common import TargetingError, json_safe, personal_export_logged, was_exported
from tepat.targeting.services.demo import DEMO_RULES, settings_local_card, targeting_demo
from tepat.targeting.services.pmt import PmtStored, pmt_method, pmt_scores_store
from tepat.targeting.services.rules import rule_delete, rule_in_use, rule_restore, rule_save
from tepat.targeting.services.scenario_run import (
    ScenarioData,
    priority_key,
    scenario_data,
    scenario_families,
    scenario_run_execute,
)
from tepat.targeting.services.scenarios import (
    DEFAULT_DESIL_CUTS,
    LineInput,
    scenario_create,
    scenario_delete,
    scenario_editable,
    scenario_inputs,
    scenario_restore,
    scenario_update,
)
from tepat.targeting.services.scores import SEVERE, TOP_INDICATORS, scores_compute, scores_run_execute

__all__ = [
    "DEFAULT_DESIL_CUTS",
    "DEMO_RULES",
    "SEVERE",
    "TOP_INDICATORS",
    "LineInput",
    "PmtStored",
    "ScenarioData",
    "TargetingError",
    "json_safe",
    "personal_export_logged",
    "pmt_method",
    "pmt_scores_store",
    "priority_key",
    "rule_delete",
    "rule_in_use",
    "rule_restore",
    "rule_save",
    "scenario_create",
    "scenario_data",
    "scenario_delete",
    "scenario_editable",
    "scenario_families",
    "scenario_inputs",
    "scenario_restore",
    "scenario_run_execute",
    "scenario_update",
    "scores_compute",
    "scores_run_execute",
    "settings_local_card",
    "targeting_demo",
    "was_exported",
]
