"""The two candidate models and their storage as plain JSON numbers.

A model file must score on another machine years later without running code from the file: a pickle would execute
whatever it contains and break with the next scikit-learn. So a ridge regression is stored as its coefficients and
a gradient-boosted ensemble as its trees (feature, threshold, children, leaf values), and both are evaluated here
with numpy. After fitting, the stored trees are checked to reproduce scikit-learn's own predictions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CANDIDATES = ("ridge", "boosting")
ALPHAS = tuple(float(a) for a in np.logspace(-2, 4, 13))


def fit(kind: str, X: np.ndarray, y: np.ndarray, w: np.ndarray, *, seed: int, threads: int = 1) -> dict[str, Any]:
    """Fit one candidate. ``threads`` bounds OpenMP in gradient boosting: on a shared 2-core machine one thread
    was 1.5-6 times faster than two (spin-waiting threads compete with the other processes)."""
    if kind == "ridge":
        return fit_ridge(X, y, w)
    if kind == "boosting":
        from threadpoolctl import threadpool_limits  # scikit-learn's own dependency

        with threadpool_limits(limits=max(1, threads), user_api="openmp"):
            return fit_boosting(X, y, w, seed=seed)
    raise ValueError(f"unknown model {kind!r}")


# scikit-learn is imported where a model is fitted: scoring needs only numpy, and starts in a fraction of the time.


def fit_ridge(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, Any]:
    from sklearn.linear_model import RidgeCV

    model = RidgeCV(alphas=ALPHAS).fit(X, y, sample_weight=w)
    return {
        "kind": "ridge",
        "alpha": float(model.alpha_),
        "intercept": float(model.intercept_),
        "coef": [float(c) for c in np.ravel(model.coef_)],
    }


def fit_boosting(X: np.ndarray, y: np.ndarray, w: np.ndarray, *, seed: int) -> dict[str, Any]:
    from sklearn.ensemble import HistGradientBoostingRegressor

    model = HistGradientBoostingRegressor(
        learning_rate=0.08,
        max_iter=400 if len(y) >= 400 else 150,
        max_leaf_nodes=31,
        min_samples_leaf=20,
        l2_regularization=1.0,
        early_stopping=len(y) >= 400,  # a 10 % hold-out decides when to stop adding trees
        validation_fraction=0.1,
        n_iter_no_change=20,
        random_state=seed,
    ).fit(X, y, sample_weight=w)
    trees = []
    gain = np.zeros(X.shape[1])
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        trees.append(
            {
                "feature": [int(v) for v in nodes["feature_idx"]],
                "threshold": [float(v) for v in nodes["num_threshold"]],
                "left": [int(v) for v in nodes["left"]],
                "right": [int(v) for v in nodes["right"]],
                "leaf": [bool(v) for v in leaf],
                "value": [float(v) for v in nodes["value"]],
            }
        )
        np.add.at(gain, nodes["feature_idx"][~leaf], np.maximum(nodes["gain"][~leaf], 0.0))
    stored = {
        "kind": "boosting",
        "baseline": float(np.ravel(model._baseline_prediction)[0]),
        "iterations": int(model.n_iter_),
        "trees": trees,
        "gain": [float(g) for g in gain],
    }
    sample = X[: min(len(X), 5000)]
    if not np.allclose(predict(stored, sample), model.predict(sample), rtol=0, atol=1e-9 * (1 + np.abs(y).max())):
        raise RuntimeError("stored trees do not reproduce scikit-learn's predictions")
    return stored


def predict(model: dict[str, Any], X: np.ndarray) -> np.ndarray:
    if model["kind"] == "ridge":
        return X @ np.asarray(model["coef"], dtype=np.float64) + model["intercept"]
    if model["kind"] == "boosting":
        out = np.full(len(X), float(model["baseline"]))
        rows = np.arange(len(X))
        for tree in model["trees"]:
            feature = np.asarray(tree["feature"], dtype=np.int64)
            threshold = np.asarray(tree["threshold"], dtype=np.float64)
            left = np.asarray(tree["left"], dtype=np.int64)
            right = np.asarray(tree["right"], dtype=np.int64)
            leaf = np.asarray(tree["leaf"], dtype=bool)
            value = np.asarray(tree["value"], dtype=np.float64)
            node = np.zeros(len(X), dtype=np.int64)
            active = ~leaf[node]
            while active.any():
                current = node[active]
                go_left = X[rows[active], feature[current]] <= threshold[current]
                node[active] = np.where(go_left, left[current], right[current])
                active = ~leaf[node]
            out += value[node]
        return out
    raise ValueError(f"unknown model kind {model.get('kind')!r}")


def importance(model: dict[str, Any], names: list[str]) -> list[tuple[str, float]]:
    """Features by their share of the model's weight: |standardised coefficient| or total split gain."""
    if model["kind"] == "ridge":
        raw = np.abs(np.asarray(model["coef"], dtype=np.float64))
    else:
        raw = np.asarray(model["gain"], dtype=np.float64)
    total = raw.sum()
    if total <= 0:
        return []
    order = np.argsort(-raw, kind="stable")
    return [(names[i], float(raw[i] / total)) for i in order if raw[i] > 0]
