"""Targeting errors, the figures that matter when a PMT decides who gets help.

At a coverage c (a program reaching the bottom 20 % or 40 %): the *exclusion error* is the share of the truly
poorest c who are not selected by the model's bottom c, and the *inclusion error* the share of those selected who are
not among the truly poorest. They are the two ways a PMT fails families, and a single R² hides both. Rank
correlation (Spearman) says how well the model orders households; for ordinal classes, macro-F1 weighs every class
equally, so the small bottom classes count as much as the big middle ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(x, kind="stable")
    cumulative = np.cumsum(w[order])
    index = int(np.searchsorted(cumulative, q * cumulative[-1], side="left"))
    return float(x[order][min(index, len(x) - 1)])


def targeting_errors(
    truth: np.ndarray, predicted: np.ndarray, w: np.ndarray, coverage: float, *, classes: bool = False
) -> dict[str, Any]:
    """Exclusion and inclusion error when the model's bottom share is selected (households, survey-weighted)."""
    total = w.sum()
    if classes:
        values = np.unique(truth)
        shares = np.array([w[truth <= v].sum() / total for v in values])
        threshold = float(values[int(np.argmin(np.abs(shares - coverage)))])
        poor = truth <= threshold
    else:
        threshold = weighted_quantile(truth, w, coverage)
        poor = truth <= threshold
    share = w[poor].sum() / total
    cut = weighted_quantile(predicted, w, share)
    targeted = predicted <= cut
    poor_weight = w[poor].sum()
    targeted_weight = w[targeted].sum()
    return {
        "coverage": coverage,
        "poor_share": float(share),
        "targeted_share": float(targeted_weight / total),
        "exclusion_error": float(w[poor & ~targeted].sum() / poor_weight) if poor_weight else float("nan"),
        "inclusion_error": float(w[targeted & ~poor].sum() / targeted_weight) if targeted_weight else float("nan"),
        **({"poor_classes_up_to": threshold} if classes else {}),
    }


def rank_correlation(truth: np.ndarray, predicted: np.ndarray) -> float:
    from scipy.stats import spearmanr

    if np.ptp(truth) == 0 or np.ptp(predicted) == 0:
        return float("nan")
    return float(spearmanr(truth, predicted).statistic)


def regression_figures(truth: np.ndarray, predicted: np.ndarray, w: np.ndarray) -> dict[str, float]:
    residual = truth - predicted
    mean = np.average(truth, weights=w)
    total = np.average((truth - mean) ** 2, weights=w)
    mse = float(np.average(residual**2, weights=w))
    return {"r2": float(1 - mse / total) if total > 0 else float("nan"), "rmse": float(np.sqrt(mse))}


def class_figures(truth: np.ndarray, predicted: np.ndarray, w: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import f1_score

    labels = np.unique(truth)
    return {
        "macro_f1": float(f1_score(truth, predicted, labels=labels, average="macro", sample_weight=w, zero_division=0)),
        "accuracy": float(np.average(truth == predicted, weights=w)),
        "within_one_class": float(np.average(np.abs(_rank(truth, labels) - _rank(predicted, labels)) <= 1, weights=w)),
    }


def _rank(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.searchsorted(labels, values)


def class_cuts(scores: np.ndarray, w: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Score thresholds that give each class its share of households (ordinal classes from a continuous score)."""
    cumulative = np.cumsum(shares)[:-1]
    return np.array([weighted_quantile(scores, w, float(c)) for c in cumulative])


def assign_classes(scores: np.ndarray, cuts: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return classes[np.searchsorted(cuts, scores, side="left")]
