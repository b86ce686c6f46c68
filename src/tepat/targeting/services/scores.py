"""Local scores: a region-wide run of a scorecard in the background, stored as one assessment per family.

The official desil stays on registry.Family as imported; a run adds the region's own view next to it, with the
indicators that drove each family's score and the aggregates the overview page draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
from django.db import transaction
from django.utils import timezone

from tepat.accounts.models import AuditAction
from tepat.accounts.permissions import Permission, require
from tepat.accounts.services import audit
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
from tepat.targeting.cache import cached_family_table
from tepat.targeting.models import SCORECARD_PREFIX, RunStatus, ScoringRun, WelfareAssessment
from tepat.targeting.services.common import TargetingError, json_safe
from tepat.targeting.table import Progress, RegistryFamilies

if TYPE_CHECKING:
    from tepat.accounts.models import User

# Alkire–Foster "severe" deprivation (UNDP's global MPI: deprived in half or more of the weighted indicators). A
# scorecard has no money line, so this — not the USD 2.15 PPP line of "miskin ekstrem" — is what ``extreme`` means
# on a local assessment; the page says so.
SEVERE = 0.5
TOP_INDICATORS = 5
WRITE_CHUNK = 20_000


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
        audit(actor, AuditAction.TARGETING_SCORES, target=run, detail={"scorecard": card, "version": scorecard.version})
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
        data = cached_family_table(
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
            status=RunStatus.DONE, summary=json_safe(summary), finished_at=timezone.now(), progress_stage="done"
        )


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return [json_safe(row) for row in table.to_pylist()]


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
