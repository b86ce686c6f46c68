"""Scorecards as data: indicators (each a condition in the rule language) with weights, read from JSON and checked."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tepat.engine.rules import Rule, RuleError, Schema, compile_rule
from tepat.engine.scorecard.fields import FAMILY_SCHEMA
from tepat.errors import UserError

SCORECARD_DIR = Path(os.environ.get("TEPAT_DATA_DIR", Path(__file__).resolve().parents[4] / "data")) / "targeting"
BUILTIN = ("kemensos_262_2022", "kriteria_bps_14", "multidimensi")
DEFAULT_SCORECARD = "kemensos_262_2022"

_AREA = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")


class ScorecardError(UserError):
    """A scorecard definition that cannot be used (bad JSON, unknown field in a condition, bad area code)."""

    def __init__(self, message: str, code: str = "scorecard.invalid") -> None:
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------------------------------------------------------
# Definitions


@dataclass(frozen=True)
class Indicator:
    id: str
    label: str
    dimension: str
    weight: float
    deprived_if: Rule
    note: str = ""


@dataclass(frozen=True)
class Scorecard:
    """A scorecard as loaded from data: indicators, weights per area, the poverty cutoff k."""

    id: str
    version: str
    name: str
    source: str
    indicators: tuple[Indicator, ...]
    cutoff: float  # k: a family with a score >= k is counted poor (Alkire–Foster)
    dimensions: Mapping[str, str] = field(default_factory=dict)  # id -> label
    area_weights: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # code prefix -> id -> weight
    outright: Rule | None = None  # families meeting it are poor whatever else (Kepmensos: no shelter)
    outright_label: str = ""
    note: str = ""

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(ind.id for ind in self.indicators)

    def with_area_weights(self, overrides: Mapping[str, Mapping[str, float]]) -> Scorecard:
        """The same scorecard with more per-area weights (e.g. a district's own priorities, set in the UI)."""
        merged = {prefix: dict(weights) for prefix, weights in self.area_weights.items()}
        for prefix, weights in _checked_area_weights(overrides, self.ids).items():
            merged.setdefault(prefix, {}).update(weights)
        return Scorecard(**{**self.__dict__, "area_weights": merged})

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (what `load_scorecard` reads), e.g. to store a region's edited copy."""
        data: dict[str, Any] = {
            "id": self.id,
            "version": self.version,
            "name": self.name,
            "source": self.source,
            "note": self.note,
            "cutoff": self.cutoff,
            "dimensions": dict(self.dimensions),
            "indicators": [
                {
                    "id": ind.id,
                    "label": ind.label,
                    "dimension": ind.dimension,
                    "weight": ind.weight,
                    "deprived_if": ind.deprived_if.text,
                    **({"note": ind.note} if ind.note else {}),
                }
                for ind in self.indicators
            ],
            "area_weights": {prefix: dict(w) for prefix, w in self.area_weights.items()},
        }
        if self.outright is not None:
            data["outright_if"] = {"rule": self.outright.text, "label": self.outright_label}
        return data


def scorecard_from_dict(data: Mapping[str, Any], *, schema: Schema = FAMILY_SCHEMA) -> Scorecard:
    """Build and check a scorecard; every condition is compiled against the family fields now, not at scoring."""
    try:
        indicators_raw = list(data["indicators"])
        card_id = str(data["id"])
    except (KeyError, TypeError):
        raise ScorecardError("definisi skor harus memuat 'id' dan daftar 'indicators'") from None
    dimensions_raw = data.get("dimensions") or {}
    dimensions = {str(k): str(v.get("label", k) if isinstance(v, Mapping) else v) for k, v in dimensions_raw.items()}
    dimension_weight = {
        str(k): float(v.get("weight", 1.0)) if isinstance(v, Mapping) else 1.0 for k, v in dimensions_raw.items()
    }
    per_dimension: dict[str, int] = {}
    for raw in indicators_raw:
        if "weight" not in raw:
            per_dimension[str(raw.get("dimension", ""))] = per_dimension.get(str(raw.get("dimension", "")), 0) + 1
    indicators: list[Indicator] = []
    seen: set[str] = set()
    for raw in indicators_raw:
        ident = str(raw.get("id", ""))
        if not ident or ident in seen:
            raise ScorecardError(f"{card_id}: indikator tanpa id atau id ganda: {ident!r}")
        seen.add(ident)
        dimension = str(raw.get("dimension", ""))
        if "weight" in raw:
            weight = float(raw["weight"])
        else:  # Alkire–Foster nesting: a dimension's weight shared equally by its indicators
            weight = dimension_weight.get(dimension, 1.0) / per_dimension[dimension]
        if not np.isfinite(weight) or weight < 0:
            raise ScorecardError(f"{card_id}: bobot indikator {ident} harus angka >= 0")
        try:
            rule = compile_rule(str(raw.get("deprived_if", "")), schema)
        except RuleError as exc:
            raise ScorecardError(f"{card_id}: syarat indikator {ident}: {exc}", exc.code) from None
        indicators.append(
            Indicator(ident, str(raw.get("label", ident)), dimension, weight, rule, str(raw.get("note", "")))
        )
    if not indicators or sum(ind.weight for ind in indicators) <= 0:
        raise ScorecardError(f"{card_id}: tidak ada indikator berbobot")
    cutoff = float(data.get("cutoff", 1 / 3))
    if not 0 < cutoff <= 1:
        raise ScorecardError(f"{card_id}: cutoff k harus di antara 0 dan 1")
    outright = None
    outright_label = ""
    if data.get("outright_if"):
        spec = data["outright_if"]
        text = spec["rule"] if isinstance(spec, Mapping) else str(spec)
        outright_label = str(spec.get("label", text)) if isinstance(spec, Mapping) else text
        try:
            outright = compile_rule(text, schema)
        except RuleError as exc:
            raise ScorecardError(f"{card_id}: syarat langsung miskin: {exc}", exc.code) from None
    ids = tuple(ind.id for ind in indicators)
    return Scorecard(
        id=card_id,
        version=str(data.get("version", "1")),
        name=str(data.get("name", card_id)),
        source=str(data.get("source", "")),
        indicators=tuple(indicators),
        cutoff=cutoff,
        dimensions=dimensions,
        area_weights=_checked_area_weights(data.get("area_weights") or {}, ids),
        outright=outright,
        outright_label=outright_label,
        note=str(data.get("note", "")),
    )


def _checked_area_weights(raw: Mapping[str, Mapping[str, float]], ids: Sequence[str]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for prefix, weights in raw.items():
        if not _AREA.match(str(prefix)):
            raise ScorecardError(f"kode wilayah {prefix!r} bukan kode Kemendagri (mis. 64.74 atau 64.74.03)")
        for ident, weight in weights.items():
            if ident not in ids:
                raise ScorecardError(f"bobot wilayah {prefix}: indikator {ident!r} tidak ada di kartu skor")
            if not np.isfinite(float(weight)) or float(weight) < 0:
                raise ScorecardError(f"bobot wilayah {prefix}: bobot {ident} harus angka >= 0")
        out[str(prefix)] = {str(k): float(v) for k, v in weights.items()}
    return out


def load_scorecard(name_or_path: str | Path, *, schema: Schema = FAMILY_SCHEMA) -> Scorecard:
    """A shipped scorecard by name (``kemensos_262_2022``, ``kriteria_bps_14``, ``multidimensi``) or a JSON file."""
    path = Path(name_or_path)
    if not path.suffix and str(name_or_path) in BUILTIN:
        path = SCORECARD_DIR / f"{name_or_path}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScorecardError(f"kartu skor tidak ditemukan: {name_or_path}", "scorecard.not_found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScorecardError(f"kartu skor {path.name} bukan JSON yang sah: {exc}", "scorecard.json") from None
    return scorecard_from_dict(data, schema=schema)
