"""Running a budget scenario: the registry's families as the engine's ``Families``, then a priority list under
rule A (and B) or the optimiser across several programs (tepat.engine.allocation, imported only here: scipy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
from django.db.models import QuerySet
from django.utils import timezone

from tepat.areas.selectors import within_q
from tepat.engine.poverty import welfare_from_desil
from tepat.errors import UserError
from tepat.registry.models import Family
from tepat.registry.selectors import served_families_q
from tepat.targeting.cache import cached_family_table
from tepat.targeting.models import (
    PMT_PREFIX,
    EligibilityRule,
    Priority,
    RunStatus,
    Scenario,
    ScenarioKind,
    WelfareAssessment,
)
from tepat.targeting.services.common import json_safe
from tepat.targeting.services.scenarios import DEFAULT_DESIL_CUTS
from tepat.targeting.table import RegistryFamilies, compile_registry_rule, region_families

if TYPE_CHECKING:
    from tepat.engine.allocation import Families


def scenario_families(scenario: Scenario) -> QuerySet[Family]:
    """The families a scenario is about: those its author could count when it was made (area scope)."""
    families = region_families()
    return families.filter(within_q(scenario.scope, field="village__code")) if scenario.scope else families.none()


@dataclass(frozen=True)
class ScenarioData:
    data: RegistryFamilies
    families: Families
    welfare_note: str
    estimated: int  # families whose welfare came from the desil midpoint


def scenario_data(scenario: Scenario, *, on: date | None = None) -> ScenarioData:
    """The engine's Families for a scenario: welfare per capita, size, line, desil, who is already reached."""
    from tepat.engine.allocation import Families

    data = cached_family_table(scenario.scope, on=on)
    table = data.table
    n = len(data)
    line = float(scenario.poverty_line)
    desil = np.asarray(table.column("desil").to_numpy(zero_copy_only=False), dtype=np.float64)
    cuts = [c * line for c in scenario.desil_cuts or DEFAULT_DESIL_CUTS]
    from_desil = welfare_from_desil(desil, cuts)
    welfare = from_desil
    note = "desil"
    if scenario.welfare_source.startswith(PMT_PREFIX):
        pmt = np.full(n, np.nan)
        rows = WelfareAssessment.objects.filter(
            method=scenario.welfare_source, family_id__in=scenario_families(scenario).values("pk")
        ).values_list("family_id", "score")
        pairs = [(family_id, score) for family_id, score in rows if score is not None]
        if pairs:
            at = data.rows_of([p[0] for p in pairs])
            values = np.array([p[1] for p in pairs], dtype=np.float64)
            pmt[at[at >= 0]] = values[at >= 0]
        welfare = np.where(np.isnan(pmt), from_desil, pmt)
        note = scenario.welfare_source
    members = np.asarray(table.column("members").to_numpy(zero_copy_only=False), dtype=np.float64)
    reached_ids = np.fromiter(
        scenario_families(scenario).filter(served_families_q()).values_list("pk", flat=True), dtype=np.int64
    )
    reached = np.zeros(n, dtype=bool)
    rows_reached = data.rows_of(reached_ids)
    reached[rows_reached[rows_reached >= 0]] = True
    # "In need" as the region dashboard counts it: official desil 1–4 (the PKH line), or below the poverty line by
    # the welfare estimate; "reached by nothing" then means the same families the overview calls unserved.
    official_poor = (desil >= 1) & (desil <= 4)
    families = Families(
        welfare=welfare,
        size=np.where(members > 0, members, 1.0),
        line=line,
        desil=desil,
        reached=reached,
        needy=official_poor | (np.nan_to_num(welfare, nan=np.inf) < line),
        area=table.column("kode_desa"),
        ids=data.ids,
    )
    estimated = int((~np.isnan(from_desil) & (welfare == from_desil)).sum())
    return ScenarioData(data, families, note, estimated)


def priority_key(table: pa.Table, families: Families, priority: str) -> np.ndarray:
    """One number per family, lower = served first, from the scenario's chosen order (ties by registry order)."""
    n = table.num_rows
    desil = np.nan_to_num(np.asarray(families.desil, dtype=np.float64), nan=np.inf)
    local = table.column("local_score").to_numpy(zero_copy_only=False).astype(np.float64)
    poorer_local = np.nan_to_num(-local, nan=np.inf)  # higher deprivation first; unknown last
    welfare = np.nan_to_num(np.asarray(families.welfare, dtype=np.float64), nan=np.inf)
    keys = {
        Priority.WELFARE: (poorer_local, desil, welfare),
        Priority.DESIL: (welfare, poorer_local, desil),
        Priority.LOCAL: (welfare, desil, poorer_local),
    }[Priority(priority)]
    order = np.lexsort((np.arange(n), *keys))  # lexsort: the last key is the primary one
    key = np.empty(n, dtype=np.float64)
    key[order] = np.arange(n)
    return key


def _eligible(rule: EligibilityRule, table: pa.Table) -> np.ndarray:
    return compile_registry_rule(rule.expression).evaluate(table)


def scenario_run_execute(*, scenario: Scenario, on: date | None = None) -> Scenario:
    """Run a queued scenario: a priority list under rule A (and B), or the optimiser across its programs."""
    Scenario.objects.filter(pk=scenario.pk).update(status=RunStatus.RUNNING)
    try:
        prepared = scenario_data(scenario, on=on)
        if scenario.kind == ScenarioKind.ALLOCATE:
            results = _allocation(scenario, prepared)
        else:
            results = _comparison(scenario, prepared)
    except Exception as exc:
        Scenario.objects.filter(pk=scenario.pk).update(
            status=RunStatus.FAILED, error=str(exc)[:2000], run_at=timezone.now()
        )
        scenario.refresh_from_db()
        if isinstance(exc, UserError):
            return scenario
        raise
    results = {
        **results,
        "welfare_source": prepared.welfare_note,
        "welfare_estimated_from_desil": prepared.estimated,
        "families": len(prepared.data),
        "line": float(scenario.poverty_line),
    }
    Scenario.objects.filter(pk=scenario.pk).update(
        status=RunStatus.DONE, results=json_safe(results), error="", run_at=timezone.now()
    )
    scenario.refresh_from_db()
    return scenario


def _list_figures(result: Any, ids: np.ndarray) -> dict[str, Any]:
    return {
        **result.outcome.as_dict(),
        "eligible": result.eligible,
        "waiting": result.waiting,
        "budget_left": result.budget_left,
        "order": ids[result.order].tolist(),
    }


def _comparison(scenario: Scenario, prepared: ScenarioData) -> dict[str, Any]:
    from tepat.engine.allocation import Program, compare, priority_list

    table = prepared.data.table
    families = prepared.families
    assert scenario.rule_a is not None and scenario.budget is not None and scenario.cost_per_family is not None
    program = Program(
        code=scenario.program.code if scenario.program else "program",
        cost=float(scenario.cost_per_family),
        budget=float(scenario.budget),
        value=float(scenario.monthly_value) if scenario.monthly_value else None,
    )
    key = priority_key(table, families, scenario.priority)
    eligible_a = _eligible(scenario.rule_a, table)
    rules = {"a": {"name": scenario.rule_a.name, "text": scenario.rule_a.expression}}
    out: dict[str, Any] = {
        "program": {
            "code": program.code,
            "cost": program.cost,
            "budget": program.budget,
            "value": program.monthly_value,
        }
    }
    ids = prepared.data.ids
    if scenario.rule_b is None:
        only = priority_list(families, eligible_a, program, priority=key)
        out.update({"a": _list_figures(only, ids), "b": None})
        covered_b = np.zeros(len(ids), dtype=bool)
        covered_a = only.covered
    else:
        rules["b"] = {"name": scenario.rule_b.name, "text": scenario.rule_b.expression}
        result = compare(families, eligible_a, _eligible(scenario.rule_b, table), program, priority=key)
        out.update(
            {
                "a": _list_figures(result.a, ids),
                "b": _list_figures(result.b, ids),
                "both": result.both,
                "only_a": result.only_a,
                "only_b": result.only_b,
            }
        )
        covered_a, covered_b = result.a.covered, result.b.covered
    out["rules"] = rules
    out["by_area"] = _by_area(table, {"covered_a": covered_a, "covered_b": covered_b, "both": covered_a & covered_b})
    return out


def _by_area(table: pa.Table, counts: dict[str, Any]) -> list[dict[str, Any]]:
    area = table.column("kode_desa").combine_chunks().dictionary_decode()
    encoded = area.dictionary_encode()
    index = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    names = encoded.dictionary.to_pylist()
    groups = len(names)
    columns = {"families": np.bincount(index, minlength=groups)}
    for name, mask in counts.items():
        columns[name] = np.bincount(index, weights=mask.astype(np.float64), minlength=groups).astype(np.int64)
    rows = [{"area": names[g], **{k: int(v[g]) for k, v in columns.items()}} for g in range(groups)]
    return sorted(rows, key=lambda row: row["area"])


def _allocation(scenario: Scenario, prepared: ScenarioData) -> dict[str, Any]:
    from tepat.engine.allocation import Program, allocate

    table = prepared.data.table
    lines = list(scenario.lines.select_related("rule"))
    programs = [
        Program(
            code=line.code,
            cost=float(line.cost_per_family),
            budget=float(line.budget),
            value=float(line.monthly_value) if line.monthly_value else None,
        )
        for line in lines
    ]
    eligibility = {line.code: _eligible(line.rule, table) for line in lines}
    result = allocate(
        prepared.families, programs, eligibility, max_programs_per_family=scenario.max_programs_per_family
    )
    ids = prepared.data.ids
    codes = [p.code for p in programs]
    receiving = np.flatnonzero(result.assigned.any(axis=1))
    assigned = [
        [int(ids[r]), [code for code, on in zip(codes, result.assigned[r], strict=True) if on]] for r in receiving
    ]
    return {
        "programs": [
            {
                "code": p.code,
                "rule": line.rule.name,
                "text": line.rule.expression,
                "cost": p.cost,
                "budget": p.budget,
                "value": p.monthly_value,
                "eligible": int(eligibility[p.code].sum()),
                "assigned": int(result.assigned[:, j].sum()),
                "spent": result.spent.get(p.code, 0.0),
            }
            for j, (p, line) in enumerate(zip(programs, lines, strict=True))
        ],
        "method": result.method,
        "status": result.status,
        "objective": result.objective,
        "bound": result.bound,
        "notes": list(result.notes),
        "max_programs_per_family": result.max_programs_per_family,
        "outcome": result.outcome.as_dict(),
        "assigned": assigned,
        "by_area": _by_area(
            table, {code: result.assigned[:, j] for j, code in enumerate(codes)} | {"any": result.assigned.any(axis=1)}
        ),
    }
