"""Proxy-means tests: predict household welfare from what can be observed, fitted on survey data the region holds.

The official desil comes from BPS's own PMT and is never recomputed here. A region fits its own PMT on survey data
shared with Bappeda (Susenas-like microdata) to rank families for local programs and to check the national ranking
against local reality. Public surface:

- ``fit_pmt(path, FitOptions(...))``: read the survey (person or household rows), aggregate member rows into
  household features, cross-validate a ridge regression and gradient boosting, keep the better one, report the
  targeting errors that matter (exclusion/inclusion at given coverages, Spearman, macro-F1 for classes) and a model
  card. Returns the model as plain JSON data: no pickles, so a model file cannot run code and still scores with
  another library version.
- ``score_pmt(model, path)``: household_id, score, rank, decile (1 = poorest) for another file.
- ``read_model`` / ``write_model``, ``model_card``.

Bad files raise ``PmtError`` (a UserError: one Indonesian line and a stable code such as ``pmt.text_in_number``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tepat.engine.pmt.card import cv_table, model_card
from tepat.engine.pmt.fitting import FitOptions, Scores, check_model, fit_pmt, score_pmt
from tepat.engine.pmt.reading import PmtError, PmtProblem

__all__ = [
    "FitOptions",
    "PmtError",
    "PmtProblem",
    "Scores",
    "cv_table",
    "fit_pmt",
    "model_card",
    "read_model",
    "score_pmt",
    "write_model",
]


def write_model(model: dict[str, Any], path: str | Path) -> None:
    Path(path).write_text(json.dumps(model, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")


def read_model(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PmtError(PmtProblem.NOT_FOUND, f"berkas model tidak ditemukan: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise PmtError(PmtProblem.MODEL, f"berkas model {path.name} bukan JSON yang sah") from None
    return check_model(data)
