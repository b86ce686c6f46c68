"""Writes of the targeting app: local scores (a background run), eligibility rules, budget scenarios.

Every computation is the engine's (tepat.engine.scorecard, rules, allocation, poverty); what is here is getting the
registry's data to it, checking who may ask, storing what came back, and the audit row.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pyarrow as pa
from django.db import transaction
from django.utils import timezone

from tepat.accounts.models import AuditAction
from tepat.accounts.permissions import Permission, require, scope_code
from tepat.accounts.services import audit
from tepat.engine.allocation import Families, Program, allocate, compare, priority_list
from tepat.engine.poverty import welfare_from_desil
from tepat.engine.scorecard import (
    BUILTIN,
    ScoreResult,
    compare_desil,
    desil_within,
    load_scorecard,
    multidimensional_poverty,
)
from tepat.errors import UserError
from tepat.registry.bulk import BulkTable
from tepat.registry.selectors import served_families_q
from tepat.targeting.models import (
    PMT_PREFIX,
    SCORECARD_PREFIX,
    EligibilityRule,
    Priority,
    RunStatus,
    Scenario,
    ScenarioKind,
    ScenarioProgram,
    ScoringRun,
    WelfareAssessment,
)
from tepat.targeting.table import (
    Progress,
    RegistryFamilies,
    compile_registry_rule,
    family_table_from_registry,
    region_families,
)

if TYPE_CHECKING:
    from tepat.accounts.models import User
    from tepat.programs.models import Program as ProgramModel

# Alkire–Foster "severe" deprivation (UNDP's global MPI: deprived in half or more of the weighted indicators). A
# scorecard has no money line, so this — not the USD 2.15 PPP line of "miskin ekstrem" — is what ``extreme`` means
# on a local assessment; the page says so.
SEVERE = 0.5
TOP_INDICATORS = 5
WRITE_CHUNK = 20_000
# Upper bounds of desil 1–9 as multiples of the poverty line, for a rough welfare from the official desil when the
# region has no survey-based or PMT estimate (tepat.engine.poverty.welfare_from_desil). Roughly the national
# per-capita expenditure deciles of Susenas relative to the national line; a region should set its own.
DEFAULT_DESIL_CUTS = (1.0, 1.25, 1.45, 1.65, 1.9, 2.2, 2.6, 3.2, 4.3)


class TargetingAudit(StrEnum):
    """Audit action codes of this app (stable strings; see the report for adding them to AuditAction)."""

    SCORES = "targeting.scores"
    RULE = "targeting.rule"
    SCENARIO = "targeting.scenario"


class TargetingError(UserError):
    def __init__(self, message: str, code: str = "targeting.invalid") -> None:
        super().__init__(message)
        self.code = code


def _audit(actor: User | None, action: TargetingAudit | AuditAction, **kwargs: Any) -> None:
    audit(actor, cast(AuditAction, action), **kwargs)


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf become null (PostgreSQL's jsonb refuses them), numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal):
        return float(value)
    return value


def personal_export_logged(
    *,
    actor: User,
    target: Any = None,
    target_type: str = "",
    purpose: str,
    rows: int,
    detail: dict[str, Any] | None = None,
    request: Any = None,
) -> None:
    """Every export of personal data is logged with its purpose and size (UU 27/2022)."""
    require(actor, Permission.EXPORT_PERSONS)
    audit(
        actor,
        AuditAction.PERSONAL_EXPORT,
        target=target,
        target_type=target_type,
        purpose=purpose,
        detail={**(detail or {}), "rows": rows},
        request=request,
    )


# -- local scores ---------------------------------------------------------------------------------------------------
def scores_compute(*, actor: User, card: str) -> ScoringRun:
    """Queue a region-wide run of a shipped scorecard; the worker (`tepat db_worker`) stores the assessments."""
    require(actor, Permission.EDIT_REGISTRY)
    if card not in BUILTIN:
        raise TargetingError(f"kartu skor tidak dikenal: {card}", "targeting.scorecard")
    scorecard = load_scorecard(card)
    with transaction.atomic():
        run = ScoringRun.objects.create(
            method=f"{SCORECARD_PREFIX}{scorecard.id}",
            scorecard=card,
            version=scorecard.version,
            created_by=actor,
            progress_stage="queued",
        )
        _audit(actor, TargetingAudit.SCORES, target=run, detail={"scorecard": card, "version": scorecard.version})
        transaction.on_commit(lambda: _enqueue_scores(run.pk))
    return run


def _enqueue_scores(run_id: int) -> None:
    from tepat.targeting.tasks import compute_scores

    compute_scores.enqueue(run_id)


def _set_progress(run: ScoringRun, stage: str, done: int, total: int, progress: Progress | None) -> None:
    if progress:
        progress(stage, done, total)
    run.progress_stage, run.progress_done, run.progress_total = stage, done, total
    ScoringRun.objects.filter(pk=run.pk).update(progress_stage=stage, progress_done=done, progress_total=total)


def scores_run_execute(*, run: ScoringRun, on: date | None = None, progress: Progress | None = None) -> ScoringRun:
    """Score every active family of the region, rank it within its regency, store one assessment per family.

    The heavy part (table, scoring, ranking) runs outside any transaction, so the progress is visible to the page
    polling it; the assessments of the method are then replaced in one transaction, so a page never sees half a run.
    """
    ScoringRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    run.status = RunStatus.RUNNING
    try:
        card = load_scorecard(run.scorecard)
        data = family_table_from_registry(
            on=on, progress=lambda stage, done, total: _set_progress(run, "table", done, total, progress)
        )
        _set_progress(run, "score", 0, len(data), progress)
        result = _score(card, data)
        _set_progress(run, "score", len(data), len(data), progress)
        _store(run, data, result, on or timezone.localdate(), progress)
    except Exception as exc:
        ScoringRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        run.refresh_from_db()
        if isinstance(exc, UserError):
            return run
        raise
    run.refresh_from_db()
    return run


@dataclass(frozen=True)
class _Scored:
    result: ScoreResult
    local_desil: np.ndarray
    rank: np.ndarray
    severe: np.ndarray


def _score(card: Any, data: RegistryFamilies) -> _Scored:
    from tepat.engine.scorecard import score_families

    table = data.table
    result = score_families(card, table)
    official = np.asarray(table.column("desil").to_numpy(zero_copy_only=False), dtype=np.float64)
    regency = table.column("kode_kabupaten")
    local = desil_within(result.score, regency, tiebreak=official)
    rank = _ranks(result.score, regency, official)
    severe = (np.nan_to_num(result.score, nan=-1.0) >= SEVERE - 1e-12) | result.outright
    return _Scored(result, local, rank, severe)


def _ranks(score: np.ndarray, groups: pa.ChunkedArray | pa.Array, tiebreak: np.ndarray) -> np.ndarray:
    """1 = the poorest (highest deprivation) inside each group; official desil then row order break ties."""
    n = len(score)
    array = groups.combine_chunks() if isinstance(groups, pa.ChunkedArray) else groups
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    index = np.asarray(array.dictionary_encode().indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    valid = ~np.isnan(score)
    order = np.lexsort((np.arange(n), np.nan_to_num(tiebreak, nan=np.inf), -np.nan_to_num(score, nan=0.0), index))
    order = order[valid[order]]
    rank = np.zeros(n, dtype=np.int64)
    if len(order):
        g = index[order]
        first = np.r_[True, g[1:] != g[:-1]]
        start = np.flatnonzero(first)[np.cumsum(first) - 1]
        rank[order] = np.arange(len(order)) - start + 1
    return rank


def _explanations(result: ScoreResult, rows: np.ndarray) -> list[dict[str, Any]]:
    """Per family: the indicators that made up most of its score, and how much of its data was missing."""
    indicators = result.scorecard.indicators
    contributions = result.contributions(rows)
    top = np.argsort(-contributions, axis=0, kind="stable")[:TOP_INDICATORS]
    out = []
    for k, row in enumerate(rows.tolist()):
        picked = [
            {
                "id": indicators[j].id,
                "label": indicators[j].label,
                "dimension": indicators[j].dimension,
                "contribution": round(float(contributions[j, k]), 4),
            }
            for j in top[:, k].tolist()
            if contributions[j, k] > 0
        ]
        entry: dict[str, Any] = {"top": picked, "unknown_share": round(float(result.unknown_share[row]), 4)}
        if result.outright[row]:
            entry["outright"] = result.scorecard.outright_label
        out.append(entry)
    return out


def _store(run: ScoringRun, data: RegistryFamilies, scored: _Scored, on: date, progress: Progress | None) -> None:
    result = scored.result
    card = result.scorecard
    n = len(data)
    source = f"{card.name} · {card.source}"[:300]
    summary = _summary(data, scored)
    _set_progress(run, "save", 0, n, progress)
    with transaction.atomic():
        WelfareAssessment.objects.filter(method=run.method).delete()
        writer = BulkTable(WelfareAssessment, assign_ids=False)
        now = timezone.now()
        for start in range(0, n, WRITE_CHUNK):
            rows = np.arange(start, min(n, start + WRITE_CHUNK))
            explanations = _explanations(result, rows)
            writer.insert(
                {
                    "family_id": int(data.ids[i]),
                    "method": run.method,
                    "version": run.version,
                    "assessed_on": on,
                    "source": source,
                    "score": None if math.isnan(result.score[i]) else round(float(result.score[i]), 6),
                    "desil": int(scored.local_desil[i]) or None,
                    "rank": int(scored.rank[i]) or None,
                    "poor": None if math.isnan(result.score[i]) else bool(result.poor[i]),
                    "extreme": None if math.isnan(result.score[i]) else bool(scored.severe[i]),
                    "explanation": explanation,
                    "run_id": run.pk,
                    "created_at": now,
                }
                for i, explanation in zip(rows.tolist(), explanations, strict=True)
            )
            _set_progress(run, "save", int(rows[-1]) + 1, n, progress)
        ScoringRun.objects.filter(pk=run.pk).update(
            status=RunStatus.DONE, summary=_clean(summary), finished_at=timezone.now(), progress_stage="done"
        )


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return [_clean(row) for row in table.to_pylist()]


def _summary(data: RegistryFamilies, scored: _Scored) -> dict[str, Any]:
    """The aggregates the overview shows, per village, district and regency: official vs local desil, MPI."""
    table = data.table
    result = scored.result
    basis, official = _comparison_basis(table)
    persons = np.asarray(table.column("members").to_numpy(zero_copy_only=False), dtype=np.float64)
    persons = np.where(persons > 0, persons, 1.0)  # a family whose members are all gone still counts once
    levels = {"village": "kode_desa", "district": "kode_kecamatan", "regency": "kode_kabupaten"}
    out: dict[str, Any] = {
        "families": len(data),
        "scored": int((~np.isnan(result.score)).sum()),
        "poor": int(result.poor.sum()),
        "severe": int(scored.severe.sum()),
        "cutoff": result.scorecard.cutoff,
        "name": result.scorecard.name,
        "source": result.scorecard.source,
        "indicators": [
            {"id": i.id, "label": i.label, "dimension": i.dimension, "available": i.id in result.used}
            for i in result.scorecard.indicators
        ],
        "unavailable": {k: list(v) for k, v in result.unavailable.items()},
        "compare_basis": basis,
    }
    for level, column in levels.items():
        areas = table.column(column)
        out[f"compare_{level}"] = _rows(compare_desil(official, scored.local_desil, areas))
        out[f"mpi_{level}"] = _rows(multidimensional_poverty(result, areas, persons=persons))
    return out


def _comparison_basis(table: pa.Table) -> tuple[str, np.ndarray]:
    """Which official desil to set the local one against. The local desil ranks families *within the regency*; so
    does the official regency desil of the DTSEN extract, which makes it the like-for-like comparison. The national
    desil ranks them in the whole country (a well-off city has few national desil 1–4 families but always 40 % in
    local desil 1–4), so it is used only when the extract carries no regency desil for most families."""
    regency = np.asarray(table.column("desil_kabupaten").to_numpy(zero_copy_only=False), dtype=np.float64)
    national = np.asarray(table.column("desil").to_numpy(zero_copy_only=False), dtype=np.float64)
    if len(regency) and (~np.isnan(regency)).mean() >= 0.5:
        return "desil_kabupaten", regency
    return "desil", national


# -- eligibility rules ------------------------------------------------------------------------------------------------
def rule_save(
    *,
    actor: User,
    rule: EligibilityRule | None = None,
    name: str,
    expression: str,
    program: ProgramModel | None = None,
    note: str = "",
) -> EligibilityRule:
    """Create or change a rule. RuleError (with position) when the text cannot be used; nothing is stored then."""
    require(actor, Permission.EDIT_TARGETS)
    name = name.strip()
    if not name:
        raise TargetingError("nama aturan wajib diisi", "targeting.rule_name")
    compile_registry_rule(expression)
    clash = EligibilityRule.objects.filter(name=name)
    if rule is not None:
        clash = clash.exclude(pk=rule.pk)
    if clash.exists():
        raise TargetingError(f"sudah ada aturan bernama {name!r}", "targeting.rule_name")
    with transaction.atomic():
        before = rule.expression if rule is not None else None
        target = rule or EligibilityRule(created_by=actor)
        target.name, target.expression, target.program, target.note = name, expression.strip(), program, note.strip()
        target.save()
        _audit(
            actor,
            TargetingAudit.RULE,
            target=target,
            detail={"name": name, "expression": target.expression, "before": before},
        )
    return target


# -- scenarios --------------------------------------------------------------------------------------------------------
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
        _positive(budget, "anggaran")
        _positive(cost_per_family, "biaya per keluarga")
    elif kind == ScenarioKind.ALLOCATE:
        if not lines:
            raise TargetingError("tambahkan paling sedikit satu program", "targeting.lines")
        codes = [line.code.strip() for line in lines]
        if any(not c for c in codes) or len(set(codes)) != len(codes):
            raise TargetingError("kode program dalam skenario harus diisi dan berbeda", "targeting.lines")
        for line in lines:
            _positive(line.budget, f"anggaran {line.code}")
            _positive(line.cost_per_family, f"biaya per keluarga {line.code}")
    else:
        raise TargetingError("jenis skenario tidak dikenal", "targeting.kind")
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
        _audit(actor, TargetingAudit.SCENARIO, target=scenario, detail={"name": scenario.name, "kind": kind})
        transaction.on_commit(lambda: _enqueue_scenario(scenario.pk))
    return scenario


def _enqueue_scenario(scenario_id: int) -> None:
    from tepat.targeting.tasks import run_scenario

    run_scenario.enqueue(scenario_id)


def scenario_families(scenario: Scenario) -> Any:
    """The families a scenario is about: those its author could count when it was made (area scope)."""
    from tepat.areas.selectors import within_q

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
    data = family_table_from_registry(families=scenario_families(scenario), on=on)
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
        status=RunStatus.DONE, results=_clean(results), error="", run_at=timezone.now()
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


# -- demo -------------------------------------------------------------------------------------------------------------
DEMO_RULES = (
    (
        "PKH (desil 1–4 dengan komponen)",
        "desil <= 4 and (anak_usia_sekolah > 0 or balita > 0 or lansia > 0 or anggota_disabilitas > 0)"
        " and not flag.ada",
        "PKH",
    ),
    (
        "Sembako (desil 1–5, tanpa temuan BPK)",
        "desil <= 5 and not (flag.asn or flag.tni_polri or flag.pln_900va_nonsubsidi or flag.pemilik_mobil)",
        "Sembako (BPNT)",
    ),
    (
        "RTLH daerah (skor lokal)",
        'desil_lokal <= 3 and jenis_lantai in ["Tanah", "Bambu", "Kayu/papan"] and status_kepemilikan_rumah == '
        '"Milik sendiri"',
        "",
    ),
)


def targeting_demo(*, actor: User) -> ScoringRun:
    """For `tepat demo`: the example rules, and local scores computed at once (no worker needed)."""
    from tepat.programs.models import Program as ProgramModel

    for name, expression, program_code in DEMO_RULES:
        if not EligibilityRule.objects.filter(name=name).exists():
            program = ProgramModel.objects.filter(code__iexact=program_code).first() if program_code else None
            rule_save(actor=actor, name=name, expression=expression, program=program)
    card = load_scorecard(settings_local_card())
    run = ScoringRun.objects.create(
        method=f"{SCORECARD_PREFIX}{card.id}", scorecard=card.id, version=card.version, created_by=actor
    )
    _audit(actor, TargetingAudit.SCORES, target=run, detail={"scorecard": card.id, "version": card.version})
    return scores_run_execute(run=run)


def settings_local_card() -> str:
    """The scorecard behind ``local_score`` in rules (tepat.targeting.table.local_method)."""
    from tepat.targeting.table import local_method

    return local_method().removeprefix(SCORECARD_PREFIX)


# -- PMT scores -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PmtStored:
    method: str
    stored: int
    unknown_ids: int  # rows whose household_id is no active family of the region
    examples: tuple[str, ...]


def pmt_method(model: str) -> str:
    slug = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in model.strip().lower())[:60]
    if not slug.strip("_"):
        raise TargetingError("nama model PMT wajib diisi", "targeting.pmt_name")
    return f"{PMT_PREFIX}{slug}"


def pmt_scores_store(
    *, actor: User, model: str, rows: Sequence[dict[str, str]], welfare: bool, version: str = "", on: date | None = None
) -> PmtStored:
    """Store the output of `tepat pmt score` (household_id, score, rank, decile) as assessments ``pmt:<model>``.

    ``household_id`` is the family number Tepat gave the scored file (the family table export), or a KK number.
    ``welfare``: the score is per-capita welfare in rupiah a month (a ``--welfare`` model), so scenarios may use it;
    a ``--label`` model's class position is stored for ranking only. The rows of the method are replaced.
    """
    require(actor, Permission.EDIT_REGISTRY)
    method = pmt_method(model)
    if not rows or not {"household_id", "score"} <= set(rows[0]):
        raise TargetingError(
            "berkas skor harus memuat kolom household_id dan score (keluaran `tepat pmt score`)",
            "targeting.pmt_columns",
        )
    active = dict(region_families().values_list("pk", "kk"))
    by_kk = {kk: pk for pk, kk in active.items() if kk}
    found: dict[int, dict[str, Any]] = {}
    unknown: list[str] = []
    for number, row in enumerate(rows, start=2):
        ident = (row.get("household_id") or "").strip()
        pk = by_kk.get(ident) if len(ident) == 16 else (int(ident) if ident.isdigit() else None)
        if pk is None or pk not in active:
            unknown.append(ident)
            continue
        try:
            score = float((row.get("score") or "").replace(",", "."))
        except ValueError:
            raise TargetingError(
                f"baris {number}: score bukan angka: {row.get('score')!r}", "targeting.pmt_score"
            ) from None
        if not math.isfinite(score):
            raise TargetingError(f"baris {number}: score bukan angka yang sah", "targeting.pmt_score")
        decile, rank = (row.get("decile") or "").strip(), (row.get("rank") or "").strip()
        found[pk] = {
            "score": score,
            "desil": int(decile) if decile.isdigit() and 1 <= int(decile) <= 10 else None,
            "rank": int(rank) if rank.isdigit() else None,
        }
    if not found:
        raise TargetingError(
            "tidak ada household_id yang cocok dengan keluarga aktif di wilayah ini", "targeting.pmt_unmatched"
        )
    today = on or timezone.localdate()
    source = f"PMT {model.strip()}"[:300]
    with transaction.atomic():
        WelfareAssessment.objects.filter(method=method).delete()
        writer = BulkTable(WelfareAssessment, assign_ids=False)
        now = timezone.now()
        writer.insert(
            {
                "family_id": pk,
                "method": method,
                "version": version[:40],
                "assessed_on": today,
                "source": source,
                "score": values["score"],
                "desil": values["desil"],
                "rank": values["rank"],
                "explanation": {"model": model.strip(), "welfare": welfare},
                "created_at": now,
            }
            for pk, values in found.items()
        )
        _audit(
            actor,
            TargetingAudit.SCORES,
            target_type="targeting.welfareassessment",
            target_id=method,
            detail={"method": method, "stored": len(found), "unknown_ids": len(unknown), "welfare": welfare},
        )
    return PmtStored(method, len(found), len(unknown), tuple(unknown[:5]))
