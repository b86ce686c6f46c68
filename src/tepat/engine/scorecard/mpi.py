"""The Alkire–Foster multidimensional poverty measures per area, from a scorecard's scores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from tepat.engine.scorecard.arrays import encode
from tepat.engine.scorecard.scoring import ScoreResult


def multidimensional_poverty(
    result: ScoreResult,
    areas: pa.Array | pa.ChunkedArray | Sequence[str | None],
    *,
    k: float | None = None,
    persons: np.ndarray | None = None,
) -> pa.Table:
    """H, A and M0 per area, with each indicator's censored headcount and percentage contribution to M0.

    ``persons`` (e.g. family size) weights families so that H is a share of people, as the MPI is usually stated;
    without it every family counts once. ``k`` defaults to the scorecard's cutoff.
    """
    cutoff = result.scorecard.cutoff if k is None else k
    n = len(result.score)
    weight = np.ones(n) if persons is None else np.asarray(persons, dtype=np.float64)
    index, names = encode(areas)
    groups = len(names)
    scored = ~np.isnan(result.score)
    score = np.nan_to_num(result.score, nan=0.0)
    poor = scored & ((score >= cutoff - 1e-12) | result.outright)
    w = weight * scored
    population = np.bincount(index, weights=w, minlength=groups)
    poor_weight = np.bincount(index, weights=w * poor, minlength=groups)
    intensity_sum = np.bincount(index, weights=w * poor * score, minlength=groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        headcount = poor_weight / population
        intensity = intensity_sum / poor_weight
        m0 = intensity_sum / population
    columns: dict[str, Any] = {
        "area": pa.array(names, type=pa.string()),
        "families": pa.array(np.bincount(index, minlength=groups)),
        "population": pa.array(population),
        "poor": pa.array(poor_weight),
        "H": pa.array(headcount, mask=population == 0),
        "A": pa.array(intensity, mask=poor_weight == 0),
        "M0": pa.array(m0, mask=population == 0),
    }
    contributions = result.contributions()
    for j, ident in enumerate(result.scorecard.ids):
        censored = np.bincount(index, weights=w * poor * (result.deprived[j] == 1), minlength=groups)
        part = np.bincount(index, weights=w * poor * contributions[j], minlength=groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            columns[f"h.{ident}"] = pa.array(censored / population, mask=population == 0)
            columns[f"contribution.{ident}"] = pa.array(part / intensity_sum, mask=intensity_sum == 0)
    if result.outright.any():
        part = np.bincount(index, weights=w * poor * result.outright, minlength=groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            columns["contribution.outright"] = pa.array(part / intensity_sum, mask=intensity_sum == 0)
    return pa.table(columns).sort_by("area")
