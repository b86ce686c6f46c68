"""Eligibility rules as the pages show them: the list, versions, the fields a rule may name, dry runs with the
reason each family is in or out, and a rule's priority list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db.models import QuerySet

from tepat.accounts.permissions import Permission, has_permission, scope_code
from tepat.areas.models import Area
from tepat.engine.rules import RowExplanation
from tepat.engine.scorecard import FAMILY_FIELDS
from tepat.registry.models import Family, FamilyStatus
from tepat.targeting.cache import cached_family_table
from tepat.targeting.models import EligibilityRule, EligibilityRuleVersion
from tepat.targeting.selectors.families import FamilyLine, family_lines
from tepat.targeting.table import REGISTRY_FIELDS, compile_registry_rule, family_table_from_registry
from tepat.targeting.texts import label, reason

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User

    Actor = User | AnonymousUser


def rule_list(*, actor: Actor, archived: bool | None = False) -> QuerySet[EligibilityRule]:
    """The rules (they are the region's, not an area's); ``archived`` None for both current and archived."""
    if not has_permission(actor, Permission.VIEW_AGGREGATES):
        return EligibilityRule.objects.none()
    rules = EligibilityRule.objects.select_related("program", "created_by")
    if archived is not None:
        rules = rules.filter(archived_at__isnull=not archived)
    return rules


def rule_get(*, actor: Actor, pk: int) -> EligibilityRule:
    return rule_list(actor=actor, archived=None).get(pk=pk)


def rule_versions(*, actor: Actor, rule: EligibilityRule) -> QuerySet[EligibilityRuleVersion]:
    """Every saved text of the rule, newest first, with who saved it."""
    if not has_permission(actor, Permission.VIEW_AGGREGATES):
        return EligibilityRuleVersion.objects.none()
    return rule.versions.select_related("saved_by", "program")


def rule_fields() -> list[dict[str, Any]]:
    """The fields a rule may name (the registry's), with their Indonesian names and known values, for the editor."""
    return [
        {
            "name": spec.name,
            "aliases": spec.aliases,
            "label": label(spec.label),
            "type": spec.type,
            "values": spec.values or (),
        }
        for spec in FAMILY_FIELDS
        if spec.name in REGISTRY_FIELDS and spec.name != "family_id"
    ]


@dataclass
class ExampleFamily:
    line: FamilyLine
    result: bool | None
    summary: str
    conditions: list[tuple[str, bool | None]]


@dataclass
class DryRunView:
    total: int
    eligible: int
    not_eligible: int
    unknown: int
    by_area: list[dict[str, Any]]
    reasons: list[tuple[str, int, int]]
    examples_in: list[ExampleFamily]
    examples_out: list[ExampleFamily]
    personal: bool  # the actor may see named families

    @property
    def eligible_share(self) -> float | None:
        return self.eligible / self.total if self.total else None


def _examples(actor: Actor, ids: np.ndarray, explanations: list[RowExplanation]) -> list[ExampleFamily]:
    lines = {line.pk: line for line in family_lines(actor=actor, family_ids=[int(ids[e.row]) for e in explanations])}
    out = []
    for e in explanations:
        line = lines.get(int(ids[e.row]))
        if line is None:
            continue
        conditions = [(clause.text, state) for clause, state in e.conditions]
        out.append(ExampleFamily(line, e.result, reason(e), conditions))
    return out


def rule_dry_run(*, actor: Actor, expression: str, examples: int = 5, on: date | None = None) -> DryRunView | None:
    """What a rule would do over the families of the actor's area: counts per village, the clauses that decided,
    and examples in and out with the reason. None without VIEW_AGGREGATES; RuleError when the rule is unusable."""
    if not has_permission(actor, Permission.VIEW_AGGREGATES):
        return None
    scope = scope_code(actor)
    if scope is None:
        return None
    rule = compile_registry_rule(expression)
    data = cached_family_table(scope, on=on)
    result = rule.dry_run(data.table, examples=examples)
    names = dict(Area.objects.filter(code__in=result.by_area.column("area").to_pylist()).values_list("code", "name"))
    by_area = [
        {
            **row,
            "label": names.get(row["area"], row["area"]),
            "share": row["eligible"] / row["families"] if row["families"] else None,
        }
        for row in result.by_area.to_pylist()
    ]
    personal = has_permission(actor, Permission.VIEW_PERSONS)
    examples_in: list[ExampleFamily] = []
    examples_out: list[ExampleFamily] = []
    if personal and (result.examples_in or result.examples_out):
        explained = rule.explain(data.table, [*result.examples_in, *result.examples_out])
        examples_in = _examples(actor, data.ids, explained[: len(result.examples_in)])
        examples_out = _examples(actor, data.ids, explained[len(result.examples_in) :])
    return DryRunView(
        total=result.total,
        eligible=result.eligible,
        not_eligible=result.not_eligible,
        unknown=result.unknown,
        by_area=by_area,
        reasons=[(clause.text, ins, outs) for clause, ins, outs in result.reasons],
        examples_in=examples_in,
        examples_out=examples_out,
        personal=personal,
    )


def rule_explain_family(*, actor: Actor, expression: str, family_pk: int, on: date | None = None) -> ExampleFamily:
    """Why one family is in or out. Raises Family.DoesNotExist when the actor may not see it."""
    families = Family.objects.visible_to(actor).filter(pk=family_pk, status=FamilyStatus.ACTIVE)
    if not families.exists():
        raise Family.DoesNotExist
    rule = compile_registry_rule(expression)
    data = family_table_from_registry(families=families, on=on)
    found = _examples(actor, data.ids, rule.explain(data.table, [0]))
    if not found:
        raise Family.DoesNotExist
    return found[0]


@dataclass
class PriorityRow:
    position: int
    line: FamilyLine
    members: int | None
    local_desil: int | None
    local_score: float | None
    decided_by: str


def rule_priority_list(*, actor: Actor, expression: str, on: date | None = None) -> list[PriorityRow]:
    """Eligible families of the actor's area, poorest first: official desil, then the local score (higher = more
    deprived), then registry order. Each with the clause that let it in."""
    if not has_permission(actor, Permission.VIEW_PERSONS):
        return []
    scope = scope_code(actor)
    if scope is None:
        return []
    rule = compile_registry_rule(expression)
    data = cached_family_table(scope, on=on)
    table = data.table
    states, blamed = rule.blame(table)
    eligible = np.flatnonzero(states == 1)
    desil = np.nan_to_num(table.column("desil").to_numpy(zero_copy_only=False).astype(np.float64), nan=np.inf)
    local = table.column("local_score").to_numpy(zero_copy_only=False).astype(np.float64)
    order = eligible[np.lexsort((eligible, np.nan_to_num(-local[eligible], nan=np.inf), desil[eligible]))]
    lines = {line.pk: line for line in family_lines(actor=actor, family_ids=data.ids[order].tolist())}
    members = table.column("members").to_pylist()
    local_desil = table.column("local_desil").to_pylist()
    rows: list[PriorityRow] = []
    for row in order.tolist():
        line = lines.get(int(data.ids[row]))
        if line is None:
            continue
        score = local[row]
        rows.append(
            PriorityRow(
                position=len(rows) + 1,
                line=line,
                members=members[row],
                local_desil=None if local_desil[row] is None else int(local_desil[row]),
                local_score=None if np.isnan(score) else float(score),
                decided_by=rule.clauses[int(blamed[row])].text,
            )
        )
    return rows
