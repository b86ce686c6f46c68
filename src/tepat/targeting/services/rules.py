"""Eligibility rules: written, changed (every saved text kept as a version), deleted or archived, each audited.

A rule is checked when saved, so a stored rule always compiles against the family fields the registry supplies. A
rule some scenario used, or whose priority list was exported, is archived instead of deleted: the scenario and the
export's audit row still point at it, and the decision it stood for must stay readable (BPK: every list traceable).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tepat.accounts.models import AuditAction
from tepat.accounts.permissions import Permission, require
from tepat.accounts.services import audit
from tepat.targeting.models import EligibilityRule, EligibilityRuleVersion, Scenario, ScenarioProgram
from tepat.targeting.services.common import TargetingError, was_exported
from tepat.targeting.table import compile_registry_rule

if TYPE_CHECKING:
    from tepat.accounts.models import User
    from tepat.programs.models import Program as ProgramModel


def _state(rule: EligibilityRule) -> dict[str, Any]:
    return {"name": rule.name, "expression": rule.expression, "program": rule.program_id, "note": rule.note}


def rule_save(
    *,
    actor: User,
    rule: EligibilityRule | None = None,
    name: str,
    expression: str,
    program: ProgramModel | None = None,
    note: str = "",
) -> EligibilityRule:
    """Create or change a rule. RuleError (with position) when the text cannot be used; nothing is stored then.

    A change that alters anything makes a new version (the old text stays in ``versions`` and in the audit row as
    ``before``); saving the same values again changes nothing and writes nothing.
    """
    require(actor, Permission.EDIT_TARGETS)
    name = name.strip()
    expression = expression.strip()
    note = note.strip()
    if not name:
        raise TargetingError("nama aturan wajib diisi", "targeting.rule_name")
    if rule is not None and rule.archived_at is not None:
        raise TargetingError("aturan ini sudah diarsipkan; pulihkan dulu untuk mengubahnya", "targeting.archived")
    compile_registry_rule(expression)
    clash = EligibilityRule.objects.filter(name=name)
    if rule is not None:
        clash = clash.exclude(pk=rule.pk)
    if clash.exists():
        raise TargetingError(f"sudah ada aturan bernama {name!r}", "targeting.rule_name")
    with transaction.atomic():
        if rule is not None:
            rule = EligibilityRule.objects.select_for_update().get(pk=rule.pk)  # two editors: versions stay in order
        before = _state(rule) if rule is not None else None
        target = rule or EligibilityRule(created_by=actor)
        target.name, target.expression, target.program, target.note = name, expression, program, note
        if before is not None and _state(target) == before:
            return target
        if before is not None:
            target.version += 1
        target.save()
        EligibilityRuleVersion.objects.create(
            rule=target,
            version=target.version,
            name=name,
            expression=expression,
            note=note,
            program=program,
            saved_by=actor,
        )
        audit(
            actor,
            AuditAction.TARGETING_RULE,
            target=target,
            detail={
                "change": "update" if before is not None else "create",
                "version": target.version,
                **_state(target),
                "before": before,
            },
        )
    return target


def rule_in_use(rule: EligibilityRule) -> bool:
    """Whether a scenario used the rule or its priority list left the application: then it is archived, not
    deleted."""
    used = Scenario.objects.filter(Q(rule_a=rule) | Q(rule_b=rule)).exists()
    return used or ScenarioProgram.objects.filter(rule=rule).exists() or was_exported(rule)


def rule_delete(*, actor: User, rule: EligibilityRule) -> str:
    """Delete a rule, or archive it when something refers to it (``rule_in_use``). Returns "deleted" or
    "archived". An archived rule is left out of the lists and the scenario forms and can be restored."""
    require(actor, Permission.EDIT_TARGETS)
    with transaction.atomic():
        detail = {**_state(rule), "version": rule.version}
        if rule_in_use(rule):
            if rule.archived_at is None:
                rule.archived_at = timezone.now()
                rule.save(update_fields=["archived_at"])
                audit(actor, AuditAction.TARGETING_RULE, target=rule, detail={"change": "archive", **detail})
            return "archived"
        audit(actor, AuditAction.TARGETING_RULE, target=rule, detail={"change": "delete", **detail})
        rule.delete()
    return "deleted"


def rule_restore(*, actor: User, rule: EligibilityRule) -> EligibilityRule:
    """Bring an archived rule back to the lists (its text is checked again: the fields may have changed)."""
    require(actor, Permission.EDIT_TARGETS)
    if rule.archived_at is None:
        return rule
    compile_registry_rule(rule.expression)
    with transaction.atomic():
        rule.archived_at = None
        rule.save(update_fields=["archived_at"])
        audit(actor, AuditAction.TARGETING_RULE, target=rule, detail={"change": "restore", **_state(rule)})
    return rule
