"""Fit a PMT on a survey with cross-validated targeting errors, and score other files with the stored model."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from tepat.engine.pmt import metrics, models
from tepat.engine.pmt.features import FeatureSpec, design, fit_features, subset
from tepat.engine.pmt.households import (
    ColumnSpec,
    HouseholdSpec,
    aggregate,
    classify_columns,
    detect_age,
    detect_head,
    group_rows,
    household_value,
    typed_for_scoring,
)
from tepat.engine.pmt.reading import Numeric, PmtError, PmtProblem, find_column, read_table
from tepat.engine.scorecard import desil_within

FORMAT = "tepat-pmt"
FORMAT_VERSION = 1
MIN_HOUSEHOLDS = 50
LEAK_CORRELATION = 0.98
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class FitOptions:
    household_id: str
    welfare: str | None = None
    label: str | None = None
    weight: str | None = None
    coverage: tuple[float, ...] = (0.2, 0.4)
    exclude: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    age: str | None = None
    head_column: str | None = None
    head_value: str | None = None
    folds: int = 5
    models: tuple[str, ...] = models.CANDIDATES
    seed: int = 0
    threads: int = 1


def _check_options(options: FitOptions) -> None:
    if (options.welfare is None) == (options.label is None):
        raise PmtError(
            PmtProblem.OPTIONS,
            "pilih tepat satu: --welfare KOLOM (kesejahteraan kontinu, mis. pengeluaran per kapita) "
            "atau --label KOLOM (kelas berurutan, makin kecil makin miskin)",
        )
    if not options.coverage or any(not 0 < c < 1 for c in options.coverage):
        raise PmtError(PmtProblem.OPTIONS, "--coverage harus pecahan antara 0 dan 1, mis. 0.2,0.4")
    if not 2 <= options.folds <= 20:
        raise PmtError(PmtProblem.OPTIONS, "--folds harus antara 2 dan 20")
    unknown = [m for m in options.models if m not in models.CANDIDATES]
    if unknown or not options.models:
        raise PmtError(PmtProblem.OPTIONS, f"--models hanya boleh: {', '.join(models.CANDIDATES)}")


def fit_pmt(path: str | Path, options: FitOptions, *, progress: Progress | None = None) -> dict[str, Any]:
    """Read the survey, build household features, cross-validate the candidates, refit the best on all data.

    Returns the model as a JSON-ready dict (see `write_model`); `model["card"]` is the model card.
    """
    _check_options(options)
    report = progress or (lambda stage, done, total: None)
    warnings: list[str] = []
    raw = read_table(path, what="survei")
    id_column = find_column(raw, options.household_id, option="--household-id")
    kind = "welfare" if options.welfare is not None else "label"
    target_name = options.welfare if options.welfare is not None else options.label
    assert target_name is not None
    target_column = find_column(raw, target_name, option=f"--{kind}")
    weight_column = find_column(raw, options.weight, option="--weight") if options.weight else None
    reserved = {id_column, target_column, *([weight_column] if weight_column else [])}
    excluded = {find_column(raw, name, option="--exclude") for name in options.exclude}
    forced = {find_column(raw, name, option="--categorical") for name in options.categorical}
    if options.age:
        find_column(raw, options.age, option="--age")
    grouping = group_rows(raw, id_column)
    target = household_value(raw, grouping, target_column, what=f"--{kind}")
    weight = (
        household_value(raw, grouping, weight_column, what="--weight") if weight_column else np.ones(len(grouping.ids))
    )
    if weight_column and (np.isnan(weight).any() or (weight <= 0).any()):
        bad = int(np.flatnonzero(np.isnan(weight) | (weight <= 0))[0])
        raise PmtError(
            PmtProblem.TARGET,
            f"kolom bobot {weight_column!r} kosong atau <= 0 untuk rumah tangga {grouping.ids[bad]!r} "
            f"(baris {raw.line(int(grouping.first_row[bad]))})",
        )
    keep = ~np.isnan(target)
    if not keep.any():
        raise PmtError(PmtProblem.TARGET, f"kolom {target_column!r} kosong untuk semua rumah tangga")
    if (~keep).any():
        warnings.append(f"{int((~keep).sum())} rumah tangga tanpa nilai {target_column!r} tidak dipakai")
    households_used = int(keep.sum())
    if households_used < MIN_HOUSEHOLDS:
        raise PmtError(
            PmtProblem.TOO_FEW,
            f"hanya {households_used} rumah tangga dengan nilai {target_column!r}; "
            f"perlu sedikitnya {MIN_HOUSEHOLDS} untuk validasi silang",
        )
    y_raw = target[keep]
    w = weight[keep]
    target_info: dict[str, Any] = {"kind": kind, "column": target_column}
    if kind == "label":
        classes, class_counts = np.unique(y_raw, return_counts=True)
        if len(classes) < 2:
            raise PmtError(
                PmtProblem.SINGLE_CLASS,
                f"kolom {target_column!r} hanya berisi satu kelas ({_number(classes[0])}); perlu dua kelas atau lebih",
            )
        small = [_number(c) for c, n in zip(classes, class_counts, strict=True) if n < options.folds]
        if small:
            warnings.append(f"kelas dengan rumah tangga lebih sedikit dari jumlah lipatan: {', '.join(small)}")
        shares = np.array([w[y_raw == c].sum() for c in classes]) / w.sum()
        target_info.update({"classes": [float(c) for c in classes], "shares": [float(s) for s in shares]})
        y = y_raw.astype(np.float64)
        transform = "none"
    else:
        if y_raw.min() == y_raw.max():
            raise PmtError(
                PmtProblem.TARGET,
                f"kolom {target_column!r} bernilai sama ({_number(y_raw[0])}) untuk semua rumah tangga: "
                "tidak ada perbedaan kesejahteraan yang bisa dipelajari",
            )
        if (y_raw > 0).all():
            transform = "log"
            y = np.log(y_raw)
        elif (y_raw >= 0).all():
            transform = "log1p"
            y = np.log1p(y_raw)
            warnings.append(f"{target_column!r} memuat nilai 0: dipakai log(1 + x)")
        else:
            transform = "none"
            y = y_raw.astype(np.float64)
            warnings.append(f"{target_column!r} memuat nilai negatif: dipakai tanpa transformasi log")
        target_info.update(
            {
                "median": float(np.median(y_raw)),
                "mean": float(np.average(y_raw, weights=w)),
                "min": float(y_raw.min()),
                "max": float(y_raw.max()),
            }
        )
    target_info["transform"] = transform
    candidates = [name for name in raw.columns if name not in reserved and name not in excluded]
    noted = len(warnings)
    specs, typed = classify_columns(raw, grouping, candidates, categorical=forced, warnings=warnings)
    if not specs:
        why = "; ".join(warnings[noted:]) or "berkas hanya memuat kolom ID dan target"
        raise PmtError(
            PmtProblem.NO_FEATURES, f"tidak ada kolom yang bisa dipakai sebagai prediktor di {raw.path.name} ({why})"
        )
    rows_kind = "persons" if grouping.size.max() > 1 else "households"
    head_column = find_column(raw, options.head_column, option="--head-column") if options.head_column else None
    head_column, head_value = detect_head(specs, typed, head_column, options.head_value)
    spec = HouseholdSpec(
        id_column=id_column,
        rows=rows_kind,
        columns=specs,
        age_column=detect_age(specs, find_column(raw, options.age, option="--age") if options.age else None),
        head_column=head_column,
        head_value=head_value,
    )
    households = aggregate(raw, grouping, spec, typed)
    features = subset(households.features, np.flatnonzero(keep))
    leaks = _leaks(features, y)
    if leaks:
        warnings.append(
            "kolom yang hampir sama dengan target (kemungkinan turunan darinya) dikeluarkan: " + ", ".join(leaks)
        )
        features = {name: column for name, column in features.items() if name not in leaks}
    n = len(y)
    folds = _folds(kind, y, options)
    cv: dict[str, Any] = {}
    steps = len(options.models) * options.folds + 1
    done = 0
    for candidate in options.models:
        oof = np.empty(n)
        oof_class = np.empty(n)
        for train, test in folds:
            train_features = subset(features, train)
            feature_spec = fit_features(train_features)
            X_train = design(feature_spec, train_features, len(train))
            model = models.fit(candidate, X_train, y[train], w[train], seed=options.seed, threads=options.threads)
            oof[test] = models.predict(model, design(feature_spec, subset(features, test), len(test)))
            if kind == "label":
                classes = np.asarray(target_info["classes"])
                shares_train = np.array([w[train][y[train] == c].sum() for c in classes]) / w[train].sum()
                cuts = metrics.class_cuts(models.predict(model, X_train), w[train], shares_train)
                oof_class[test] = metrics.assign_classes(oof[test], cuts, classes)
            done += 1
            report("cv", done, steps)
        cv[candidate] = _figures(kind, y, oof, oof_class, w, options.coverage)
    criterion = "macro_f1" if kind == "label" else "spearman"
    chosen = max(options.models, key=lambda m: _criterion(cv[m], criterion))
    feature_spec = fit_features(features)
    X = design(feature_spec, features, n)
    model = models.fit(chosen, X, y, w, seed=options.seed, threads=options.threads)
    if kind == "label":
        classes = np.asarray(target_info["classes"])
        target_info["cuts"] = [
            float(c) for c in metrics.class_cuts(models.predict(model, X), w, np.asarray(target_info["shares"]))
        ]
    report("cv", steps, steps)
    names = feature_spec.names
    top = models.importance(model, names)[:20]
    result: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "software": {"tepat_pmt": FORMAT_VERSION, "scikit_learn": _sklearn_version(), "numpy": np.__version__},
        "target": target_info,
        "households": spec.as_dict(),
        "features": feature_spec.as_dict(),
        "model": model,
        "cv": {
            "folds": options.folds,
            "seed": options.seed,
            "criterion": criterion,
            "coverage": list(options.coverage),
            "candidates": cv,
            "chosen": chosen,
        },
        "card": {
            "data": {
                "file": raw.path.name,
                "rows": raw.rows,
                "row_kind": rows_kind,
                "households": len(grouping.ids),
                "households_used": households_used,
                "weight_column": weight_column,
                "excluded_columns": sorted(excluded),
            },
            "columns": {
                "household": [c.name for c in specs if c.level == "household"],
                "member": [c.name for c in specs if c.level == "member"],
                "categorical": [c.name for c in specs if c.kind == "categorical"],
                "age": spec.age_column,
                "head": {"column": head_column, "value": head_value} if head_column else None,
                "features": len(names),
            },
            "top_features": [{"feature": name, "share": share} for name, share in top],
            "warnings": warnings,
        },
    }
    return _clean(result)


def _sklearn_version() -> str:
    import sklearn

    return str(sklearn.__version__)


def _folds(kind: str, y: np.ndarray, options: FitOptions) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold, StratifiedKFold

    index = np.zeros(len(y))
    if kind == "label":
        counts = np.unique(y, return_counts=True)[1]
        if counts.min() >= options.folds:
            splitter = StratifiedKFold(n_splits=options.folds, shuffle=True, random_state=options.seed)
            return list(splitter.split(index, y))
    return list(KFold(n_splits=options.folds, shuffle=True, random_state=options.seed).split(index))


def _figures(
    kind: str, y: np.ndarray, oof: np.ndarray, oof_class: np.ndarray, w: np.ndarray, coverage: tuple[float, ...]
) -> dict[str, Any]:
    figures: dict[str, Any] = {"spearman": metrics.rank_correlation(y, oof)}
    if kind == "label":
        figures.update(metrics.class_figures(y, oof_class, w))
    else:
        figures.update(metrics.regression_figures(y, oof, w))
    figures["targeting"] = [metrics.targeting_errors(y, oof, w, c, classes=kind == "label") for c in coverage]
    return figures


def _criterion(figures: dict[str, Any], criterion: str) -> float:
    value = figures.get(criterion)
    return -math.inf if value is None or not math.isfinite(value) else float(value)


def _leaks(features: dict[str, Any], y: np.ndarray) -> list[str]:
    """Numeric features that rank households almost exactly like the target: a total of the same consumption,
    a poverty status derived from it. Such a column would make the CV figures look perfect and the model useless
    where the survey's consumption module is not available."""
    leaks = []
    for name, column in features.items():
        if not isinstance(column, Numeric):
            continue
        x = column.values
        known = ~np.isnan(x)
        if known.sum() < 10 or np.ptp(x[known]) == 0:
            continue
        rho = metrics.rank_correlation(y[known], x[known])
        if math.isfinite(rho) and abs(rho) >= LEAK_CORRELATION:
            leaks.append(name)
    return leaks


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _min_rank(values: np.ndarray) -> np.ndarray:
    """1 for the lowest value; equal values share the lowest rank of their block ("1, 2, 2, 4")."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.r_[True, ordered[1:] != ordered[:-1]]
    first = np.flatnonzero(new)
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[order] = first[np.cumsum(new) - 1] + 1
    return ranks


def _clean(value: Any) -> Any:
    """JSON has no NaN (missing figures are stored as null) and no numpy scalars."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------------------------
# Scoring


def check_model(model: Any) -> dict[str, Any]:
    if not isinstance(model, dict) or model.get("format") != FORMAT:
        raise PmtError(PmtProblem.MODEL, "berkas model bukan model PMT Tepat (buat dengan `tepat pmt fit`)")
    if model.get("format_version") != FORMAT_VERSION:
        raise PmtError(
            PmtProblem.MODEL,
            f"versi format model {model.get('format_version')} tidak didukung (yang didukung: {FORMAT_VERSION})",
        )
    for key in ("target", "households", "features", "model"):
        if key not in model:
            raise PmtError(PmtProblem.MODEL, f"berkas model tidak lengkap: bagian {key!r} tidak ada")
    return model


@dataclass(frozen=True)
class Scores:
    table: pa.Table  # household_id, score, rank, decile
    warnings: tuple[str, ...]


def score_pmt(model: dict[str, Any], path: str | Path, *, household_id: str | None = None) -> Scores:
    """Score every household of a file (person or household rows) with a stored model.

    ``score``: the predicted per-capita welfare in the survey's unit for a ``--welfare`` model, the predicted
    position on the class scale for a ``--label`` model; lower is poorer either way. ``rank`` 1 is the poorest
    (equal scores share the lowest rank), ``decile`` 1 the poorest tenth of the households scored.
    """
    model = check_model(model)
    warnings: list[str] = []
    spec = HouseholdSpec.from_dict(model["households"])
    raw = read_table(path, what="data")
    id_column = find_column(raw, household_id or spec.id_column, option="--household-id")
    grouping = group_rows(raw, id_column)
    typed = typed_for_scoring(raw, spec)
    data_rows = "persons" if grouping.size.max() > 1 else "households"
    if spec.rows == "persons" and data_rows == "households":
        warnings.append(
            "model dilatih pada baris anggota rumah tangga, tetapi data ini satu baris per rumah tangga: "
            "jumlah anggota dan ciri anggota dihitung dari satu baris saja"
        )
    households = aggregate(raw, grouping, spec, typed)
    feature_spec = FeatureSpec.from_dict(model["features"])
    X = design(feature_spec, households.features, len(households.ids))
    predicted = models.predict(model["model"], X)
    transform = model["target"].get("transform", "none")
    if transform == "log":
        score = np.exp(predicted)
    elif transform == "log1p":
        score = np.expm1(predicted)
    else:
        score = predicted
    rank = _min_rank(score)
    decile = desil_within(score, poorest="low")
    table = pa.table(
        {
            "household_id": pa.array(households.ids, pa.string()),
            "score": pa.array(np.round(score, 6)),
            "rank": pa.array(rank),
            "decile": pa.array(decile.astype(np.int64)),
        }
    )
    return Scores(table=table, warnings=tuple(warnings))


__all__ = ["ColumnSpec", "FitOptions", "Scores", "check_model", "fit_pmt", "score_pmt"]
