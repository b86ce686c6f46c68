"""Reads of the targeting app. Every function takes the acting user and returns only what role and area allow.

Aggregates (counts per village, MPI, scenario figures) need VIEW_AGGREGATES and are cut to the user's area; named
families need VIEW_PERSONS and come through ``Family.objects.visible_to``. Numbers and names leave this module
already masked for users without VIEW_FULL_NIK (partners): ``6474********0001`` and initials, never the full name.
The family table comes from tepat.targeting.cache: built once per state of the data, cut to the user's area.

One module per page family: ``overview`` (official against local, the family page's assessments), ``rules``,
``scenarios``, ``families`` (named families and the table as a file); ``common`` holds what they share.
"""

from tepat.targeting.selectors.common import (
    can_compute_scores,
    can_edit_rules,
    method_label,
    scorecard_choices,
    welfare_sources,
)
from tepat.targeting.selectors.families import FamilyLine, family_by_kk, family_lines, family_table_csv, initials
from tepat.targeting.selectors.overview import (
    AreaLine,
    AssessmentLine,
    Overview,
    family_assessments,
    scoring_run_get,
    targeting_overview,
)
from tepat.targeting.selectors.rules import (
    DryRunView,
    ExampleFamily,
    PriorityRow,
    rule_dry_run,
    rule_explain_family,
    rule_fields,
    rule_get,
    rule_list,
    rule_priority_list,
    rule_versions,
)
from tepat.targeting.selectors.scenarios import ScenarioView, scenario_get, scenario_list, scenario_view

__all__ = [
    "AreaLine",
    "AssessmentLine",
    "DryRunView",
    "ExampleFamily",
    "FamilyLine",
    "Overview",
    "PriorityRow",
    "ScenarioView",
    "can_compute_scores",
    "can_edit_rules",
    "family_assessments",
    "family_by_kk",
    "family_lines",
    "family_table_csv",
    "initials",
    "method_label",
    "rule_dry_run",
    "rule_explain_family",
    "rule_fields",
    "rule_get",
    "rule_list",
    "rule_priority_list",
    "rule_versions",
    "scenario_get",
    "scenario_list",
    "scenario_view",
    "scorecard_choices",
    "scoring_run_get",
    "targeting_overview",
    "welfare_sources",
]
