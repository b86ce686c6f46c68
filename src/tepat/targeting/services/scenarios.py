"""Budget scenarios: their inputs written, changed (which runs them again), deleted or archived, each audited.

The run itself (who is covered, the optimiser) is in ``scenario_run``. A scenario whose families were exported is
no longer changed or deleted: the export's audit row points at it, and what was exported must stay what the
scenario says. It is archived, and a changed version of it is saved as a new scenario.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from tepat.accounts.models import AuditAction
from tepat.accounts.permissions import Permission, require, scope_code
from tepat.accounts.services import audit
from tepat.targeting.models import (
    PMT_PREFIX,
    EligibilityRule,
    Priority,
    RunStatus,
    Scenario,
    ScenarioKind,
    ScenarioProgram,
)
from tepat.targeting.services.common import TargetingError, json_safe, require_area, was_exported

if TYPE_CHECKING:
    from tepat.accounts.models import User
    from tepat.programs.models import Program as ProgramModel

# Upper bounds of desil 1–9 as multiples of the poverty line, for a rough welfare from the official desil when the
# region has no survey-based or PMT estimate (tepat.engine.poverty.welfare_from_desil). Roughly the national
# per-capita expenditure deciles of Susenas relative to the national line; a region should set its own.
DEFAULT_DESIL_CUTS = (1.0, 1.25, 1.45, 1.65, 1.9, 2.2, 2.6, 3.2, 4.3)


@dataclass(frozen=True)
class LineInput:
    """One program of an allocation scenario, as the form gives it."""

    code: str
    rule: EligibilityRule
    budget: Decimal
    cost_per_family: Decimal
    monthly_value: Decimal | None = None
    program: ProgramModel | None = None


def _positive(value: Decimal | None, label: str) -> Decimal:
    if value is None or value <= 0:
        raise TargetingError(f"{label} harus lebih dari 0", "targeting.amount")
    return value


def _usable(rule: EligibilityRule | None) -> None:
    if rule is not None and rule.archived_at is not None:
        raise TargetingError(f"aturan {rule.name!r} sudah diarsipkan", "targeting.archived")


def _check(
    *,
    name: str,
    kind: str,
    budget: Decimal | None,
    cost_per_family: Decimal | None,
    rule_a: EligibilityRule | None,
    rule_b: EligibilityRule | None,
    priority: str,
    poverty_line: Decimal,
    welfare_source: str,
    desil_cuts: Sequence[float] | None,
    lines: Sequence[LineInput],
) -> list[float]:
    """The inputs a run needs, checked here so that a queued run fails only on the data; returns the desil cuts."""
    if not name.strip():
        raise TargetingError("nama skenario wajib diisi", "targeting.name")
    _positive(poverty_line, "garis kemiskinan")
    if priority not in Priority.values:
        raise TargetingError("urutan prioritas tidak dikenal", "targeting.priority")
    if welfare_source != "desil" and not welfare_source.startswith(PMT_PREFIX):
        raise TargetingError("sumber kesejahteraan tidak dikenal", "targeting.welfare")
    cuts = list(desil_cuts or DEFAULT_DESIL_CUTS)
    if len(cuts) != 9 or any(b <= a for a, b in itertools.pairwise(cuts)) or cuts[0] <= 0:
        raise TargetingError("batas desil harus sembilan angka positif yang naik", "targeting.cuts")
    if kind == ScenarioKind.COMPARE:
        if rule_a is None:
            raise TargetingError("pilih aturan A", "targeting.rule")
        _usable(rule_a)
        _usable(rule_b)
        _positive(budget, "anggaran")
        _positive(cost_per_family, "biaya per keluarga")
    elif kind == ScenarioKind.ALLOCATE:
        if not lines:
            raise TargetingError("tambahkan paling sedikit satu program", "targeting.lines")
        codes = [line.code.strip() for line in lines]
        if any(not c for c in codes) or len(set(codes)) != len(codes):
            raise TargetingError("kode program dalam skenario harus diisi dan berbeda", "targeting.lines")
        for line in lines:
            _usable(line.rule)
            _positive(line.budget, f"anggaran {line.code}")
            _positive(line.cost_per_family, f"biaya per keluarga {line.code}")
    else:
        raise TargetingError("jenis skenario tidak dikenal", "targeting.kind")
    return cuts


def scenario_inputs(scenario: Scenario) -> dict[str, Any]:
    """What the scenario asks, as plain values: the audit row's ``before``/``after`` and the edit form's start."""
    return json_safe(
        {
            "name": scenario.name,
            "kind": scenario.kind,
            "program": scenario.program_id,
            "budget": scenario.budget,
            "cost_per_family": scenario.cost_per_family,
            "monthly_value": scenario.monthly_value,
            "rule_a": scenario.rule_a_id,
            "rule_b": scenario.rule_b_id,
            "priority": scenario.priority,
            "poverty_line": scenario.poverty_line,
            "welfare_source": scenario.welfare_source,
            "desil_cuts": list(scenario.desil_cuts or []),
            "max_programs_per_family": scenario.max_programs_per_family,
            "lines": [
                {
                    "code": line.code,
                    "program": line.program_id,
                    "rule": line.rule_id,
                    "budget": line.budget,
                    "cost_per_family": line.cost_per_family,
                    "monthly_value": line.monthly_value,
                }
                for line in scenario.lines.all()
            ],
        }
    )


def _write_lines(scenario: Scenario, lines: Sequence[LineInput]) -> None:
    for position, line in enumerate(lines):
        ScenarioProgram.objects.create(
            scenario=scenario,
            program=line.program,
            code=line.code.strip(),
            rule=line.rule,
            budget=line.budget,
            cost_per_family=line.cost_per_family,
            monthly_value=line.monthly_value,
            position=position,
        )


def scenario_create(
    *,
    actor: User,
    name: str,
    kind: str = ScenarioKind.COMPARE,
    program: ProgramModel | None = None,
    budget: Decimal | None = None,
    cost_per_family: Decimal | None = None,
    monthly_value: Decimal | None = None,
    rule_a: EligibilityRule | None = None,
    rule_b: EligibilityRule | None = None,
    priority: str = Priority.WELFARE,
    poverty_line: Decimal,
    welfare_source: str = "desil",
    desil_cuts: Sequence[float] | None = None,
    lines: Sequence[LineInput] = (),
    max_programs_per_family: int | None = None,
) -> Scenario:
    """Store a scenario and queue its run. Checks the inputs here, so a queued run fails only on the data."""
    require(actor, Permission.EDIT_TARGETS)
    scope = scope_code(actor)
    if scope is None:
        raise TargetingError("akun ini tidak memiliki wilayah kerja", "targeting.scope")
    cuts = _check(name=name, kind=kind, budget=budget, cost_per_family=cost_per_family, rule_a=rule_a,
                  rule_b=rule_b, priority=priority, poverty_line=poverty_line, welfare_source=welfare_source,
                  desil_cuts=desil_cuts, lines=lines)  # fmt: skip
    with transaction.atomic():
        scenario = Scenario.objects.create(
            name=name.strip(),
            kind=kind,
            program=program,
            budget=budget,
            cost_per_family=cost_per_family,
            monthly_value=monthly_value,
            rule_a=rule_a,
            rule_b=rule_b,
            priority=priority,
            poverty_line=poverty_line,
            welfare_source=welfare_source,
            max_programs_per_family=max_programs_per_family,
            created_by=actor,
            scope=scope,
            desil_cuts=cuts,
        )
        _write_lines(scenario, lines)
        audit(
            actor,
            AuditAction.TARGETING_SCENARIO,
            target=scenario,
            detail={"change": "create", "name": scenario.name, "kind": kind, "after": scenario_inputs(scenario)},
        )
        transaction.on_commit(lambda: _enqueue_scenario(scenario.pk))
    return scenario


def scenario_editable(scenario: Scenario) -> str:
    """Why the scenario's inputs cannot be changed in place ("" when they can): archived, being computed, or its
    families were exported (then a changed copy is saved as a new scenario)."""
    if scenario.archived_at is not None:
        return "archived"
    if scenario.status == RunStatus.RUNNING:
        return "running"
    if was_exported(scenario):
        return "exported"
    return ""


_REFUSED = {
    "archived": ("skenario ini sudah diarsipkan", "targeting.archived"),
    "running": ("skenario ini sedang dihitung; tunggu sampai selesai", "targeting.running"),
    "exported": (
        "daftar skenario ini sudah diekspor; simpan perubahan sebagai skenario baru",
        "targeting.exported",
    ),
}


def scenario_update(
    *,
    actor: User,
    scenario: Scenario,
    name: str,
    program: ProgramModel | None = None,
    budget: Decimal | None = None,
    cost_per_family: Decimal | None = None,
    monthly_value: Decimal | None = None,
    rule_a: EligibilityRule | None = None,
    rule_b: EligibilityRule | None = None,
    priority: str = Priority.WELFARE,
    poverty_line: Decimal,
    welfare_source: str = "desil",
    desil_cuts: Sequence[float] | None = None,
    lines: Sequence[LineInput] = (),
    max_programs_per_family: int | None = None,
) -> Scenario:
    """Change a scenario's inputs and run it again (its kind and area stay). The audit row keeps both versions."""
    require(actor, Permission.EDIT_TARGETS)
    require_area(actor, scenario.scope)
    refused = scenario_editable(scenario)
    if refused:
        raise TargetingError(*_REFUSED[refused])
    cuts = _check(name=name, kind=scenario.kind, budget=budget, cost_per_family=cost_per_family, rule_a=rule_a,
                  rule_b=rule_b, priority=priority, poverty_line=poverty_line, welfare_source=welfare_source,
                  desil_cuts=desil_cuts, lines=lines)  # fmt: skip
    with transaction.atomic():
        before = scenario_inputs(scenario)
        scenario.name = name.strip()
        scenario.program = program
        scenario.budget = budget
        scenario.cost_per_family = cost_per_family
        scenario.monthly_value = monthly_value
        scenario.rule_a = rule_a
        scenario.rule_b = rule_b
        scenario.priority = priority
        scenario.poverty_line = poverty_line
        scenario.welfare_source = welfare_source
        scenario.desil_cuts = cuts
        scenario.max_programs_per_family = max_programs_per_family
        scenario.status, scenario.results, scenario.error, scenario.run_at = RunStatus.QUEUED, {}, "", None
        scenario.save()
        scenario.lines.all().delete()
        _write_lines(scenario, lines)
        audit(
            actor,
            AuditAction.TARGETING_SCENARIO,
            target=scenario,
            detail={"change": "update", "name": scenario.name, "kind": scenario.kind, "before": before,
                    "after": scenario_inputs(scenario)},
        )  # fmt: skip
        transaction.on_commit(lambda: _enqueue_scenario(scenario.pk))
    return scenario


def scenario_delete(*, actor: User, scenario: Scenario) -> str:
    """Delete a scenario, or archive it once its families were exported. Returns "deleted" or "archived"."""
    require(actor, Permission.EDIT_TARGETS)
    require_area(actor, scenario.scope)
    if scenario.status == RunStatus.RUNNING:
        raise TargetingError(*_REFUSED["running"])
    with transaction.atomic():
        detail = {"name": scenario.name, "kind": scenario.kind, "before": scenario_inputs(scenario)}
        if was_exported(scenario):
            if scenario.archived_at is None:
                scenario.archived_at = timezone.now()
                scenario.save(update_fields=["archived_at"])
                audit(actor, AuditAction.TARGETING_SCENARIO, target=scenario, detail={"change": "archive", **detail})
            return "archived"
        audit(actor, AuditAction.TARGETING_SCENARIO, target=scenario, detail={"change": "delete", **detail})
        scenario.delete()
    return "deleted"


def scenario_restore(*, actor: User, scenario: Scenario) -> Scenario:
    """Bring an archived scenario back to the list (it stays unchangeable: its families were exported)."""
    require(actor, Permission.EDIT_TARGETS)
    require_area(actor, scenario.scope)
    if scenario.archived_at is not None:
        with transaction.atomic():
            scenario.archived_at = None
            scenario.save(update_fields=["archived_at"])
            audit(actor, AuditAction.TARGETING_SCENARIO, target=scenario,
                  detail={"change": "restore", "name": scenario.name})  # fmt: skip
    return scenario


def _enqueue_scenario(scenario_id: int) -> None:
    from tepat.targeting.tasks import run_scenario

    run_scenario.enqueue(scenario_id)
