"""The design matrix: household features as numbers, with everything needed to rebuild it stored as data.

Missing numbers are imputed with the training median and flagged by an indicator column (in survey data, "missing"
often means "not applicable", which itself carries information); categories become one column per kept level, so a
level never seen in training scores as "other" instead of failing; numbers are standardised with the training mean
and spread, and clipped to the training range so a typo in the scoring data (a floor area of 12,000 m²) cannot push a
linear prediction anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tepat.engine.pmt.reading import Categorical, Column, Numeric


@dataclass
class FeatureSpec:
    numeric: list[dict[str, Any]]  # name, median, missing (indicator), mean, scale, low, high
    categorical: list[dict[str, Any]]  # name, levels (one column each), missing (indicator)

    @property
    def names(self) -> list[str]:
        names: list[str] = []
        for item in self.numeric:
            names.append(item["name"])
            if item["missing"]:
                names.append(f"{item['name']}__kosong")
        for item in self.categorical:
            names.extend(f"{item['name']}={level}" for level in item["levels"])
            if item["missing"]:
                names.append(f"{item['name']}__kosong")
        return names

    def as_dict(self) -> dict[str, Any]:
        return {"numeric": self.numeric, "categorical": self.categorical}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        return cls(numeric=list(data["numeric"]), categorical=list(data["categorical"]))


def subset(features: dict[str, Column], rows: np.ndarray) -> dict[str, Column]:
    return {
        name: Numeric(c.values[rows]) if isinstance(c, Numeric) else Categorical(c.codes[rows], c.levels)
        for name, c in features.items()
    }


def fit_features(features: dict[str, Column]) -> FeatureSpec:
    numeric: list[dict[str, Any]] = []
    categorical: list[dict[str, Any]] = []
    for name, column in features.items():
        if isinstance(column, Numeric):
            x = column.values
            known = ~np.isnan(x)
            if not known.any():
                continue
            median = float(np.median(x[known]))
            filled = np.where(known, x, median)
            missing = bool((~known).any()) and bool(known.any())
            spread = float(filled.std())
            if spread == 0 and not missing:
                continue  # constant for these households: carries nothing
            numeric.append(
                {
                    "name": name,
                    "median": median,
                    "missing": missing,
                    "mean": float(filled.mean()),
                    "scale": spread if spread > 0 else 1.0,
                    "low": float(x[known].min()),
                    "high": float(x[known].max()),
                }
            )
        else:
            present = np.bincount(column.codes[column.codes >= 0], minlength=len(column.levels))
            levels = [
                level for level, count in zip(column.levels, present, strict=True) if 0 < count < len(column.codes)
            ]
            missing = bool((column.codes == -1).any()) and not bool((column.codes == -1).all())
            if levels or missing:
                categorical.append(
                    {"name": name, "levels": levels, "all_levels": list(column.levels), "missing": missing}
                )
    return FeatureSpec(numeric=numeric, categorical=categorical)


def design(spec: FeatureSpec, features: dict[str, Column], n: int) -> np.ndarray:
    """The standardised matrix (households × spec.names). Columns absent from ``features`` count as missing."""
    blocks: list[np.ndarray] = []
    for item in spec.numeric:
        column = features.get(item["name"])
        x = column.values if isinstance(column, Numeric) else np.full(n, np.nan)
        known = ~np.isnan(x)
        filled = np.clip(np.where(known, x, item["median"]), item["low"], item["high"])
        blocks.append(((filled - item["mean"]) / item["scale"])[:, None])
        if item["missing"]:
            blocks.append((~known).astype(np.float64)[:, None])
    for item in spec.categorical:
        column = features.get(item["name"])
        if isinstance(column, Categorical):
            lookup = {level: i for i, level in enumerate(column.levels)}
            codes = column.codes
        else:
            lookup, codes = {}, np.full(n, -1, dtype=np.int32)
        for level in item["levels"]:
            index = lookup.get(level, -9)
            blocks.append((codes == index).astype(np.float64)[:, None])
        if item["missing"]:
            blocks.append((codes == -1).astype(np.float64)[:, None])
    return np.hstack(blocks) if blocks else np.zeros((n, 0))
