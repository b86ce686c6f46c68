"""Scoring a family table with a scorecard, column-wise, keeping what each indicator contributed to each family."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from tepat.engine.rules import Rule
from tepat.engine.scorecard.arrays import encode
from tepat.engine.scorecard.definition import Indicator, Scorecard


@dataclass(frozen=True)
class IndicatorResult:
    """One indicator for one family, as the family page shows it."""

    id: str
    label: str
    dimension: str
    deprived: bool | None  # None: the data for this indicator are missing for the family
    weight: float  # the effective weight after area overrides and rescaling over known indicators
    contribution: float  # weight × deprived: its part of the family's score
    values: Mapping[str, Any]


@dataclass(frozen=True)
class ScoreResult:
    """Scores of a family table. Arrays are aligned with the table's rows."""

    scorecard: Scorecard
    score: np.ndarray  # float64 in [0, 1]; NaN when no indicator is known for the family
    poor: np.ndarray  # bool: score >= k, or the outright condition
    deprived: np.ndarray  # int8 (indicators × families): 1 deprived, 0 not, -1 unknown
    weight_group: np.ndarray  # int32 per family: row of weight_table (area overrides)
    weight_table: np.ndarray  # float64 (groups × indicators), raw weights
    weight_groups: tuple[str, ...]  # "" for the default weights, else the area prefix
    unknown_share: np.ndarray  # float64: share of the family's weight whose data were missing
    outright: np.ndarray  # bool
    used: tuple[str, ...]  # indicators the table could feed
    unavailable: Mapping[str, tuple[str, ...]]  # indicator -> the columns the table lacks

    @property
    def method(self) -> str:
        return f"{self.scorecard.id}@{self.scorecard.version}"

    def effective_weights(self, rows: np.ndarray | slice | None = None) -> np.ndarray:
        """(indicators × families) weights after area overrides and rescaling over the known indicators."""
        select = slice(None) if rows is None else rows
        group = self.weight_group[select]
        known = self.deprived[:, select] >= 0
        raw = self.weight_table[group].T * known
        total = raw.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, raw / np.where(total > 0, total, 1.0), 0.0)

    def contributions(self, rows: np.ndarray | slice | None = None) -> np.ndarray:
        """(indicators × families): each indicator's part of the score; columns sum to the score."""
        select = slice(None) if rows is None else rows
        contrib = self.effective_weights(rows) * (self.deprived[:, select] == 1)
        return np.where(self.outright[select], 0.0, contrib)

    def explain(self, table: pa.Table, row: int) -> list[IndicatorResult]:
        """Every indicator for one family: deprived or not, its weight and part of the score, the data it read."""
        weights = self.effective_weights(np.array([row]))[:, 0]
        contrib = self.contributions(np.array([row]))[:, 0]
        out = []
        for j, indicator in enumerate(self.scorecard.indicators):
            state = int(self.deprived[j, row])
            fields = indicator.deprived_if.fields
            values = {name: table.column(name)[row].as_py() for name in fields if name in table.column_names}
            out.append(
                IndicatorResult(
                    id=indicator.id,
                    label=indicator.label,
                    dimension=indicator.dimension,
                    deprived=None if state < 0 else bool(state),
                    weight=float(weights[j]),
                    contribution=float(contrib[j]),
                    values=values,
                )
            )
        return out

    def to_table(self) -> pa.Table:
        """score, poor, unknown_share and one int8 column per indicator (1/0/null): the scores as data."""
        columns: dict[str, Any] = {
            "score": pa.array(self.score, mask=np.isnan(self.score)),
            "poor": pa.array(self.poor),
            "unknown_share": pa.array(self.unknown_share),
        }
        for j, ident in enumerate(self.scorecard.ids):
            state = self.deprived[j]
            columns[f"deprived.{ident}"] = pa.array(state, type=pa.int8(), mask=state < 0)
        return pa.table(columns)


def score_families(
    card: Scorecard,
    table: pa.Table,
    *,
    area_column: str = "kode_desa",
    area_weights: Mapping[str, Mapping[str, float]] | None = None,
) -> ScoreResult:
    """Score every family of ``table`` with ``card`` (column-wise).

    Indicators whose columns the table lacks are left out altogether and listed in ``unavailable``; that is how
    the Kemensos criteria that only a field survey collects (food, clothing) coexist with a DTSEN-only table.
    """
    if area_weights:
        card = card.with_area_weights(area_weights)
    n = table.num_rows
    m = len(card.indicators)
    deprived = np.full((m, n), -1, dtype=np.int8)
    unavailable: dict[str, tuple[str, ...]] = {}
    used: list[str] = []
    for j, indicator in enumerate(card.indicators):
        missing = tuple(name for name in indicator.deprived_if.fields if name not in table.column_names)
        if missing:
            unavailable[indicator.id] = missing
            continue
        deprived[j] = indicator.deprived_if.states(table)
        used.append(indicator.id)
    groups, group_of_row = _weight_groups(card, table, area_column)
    weight_table = np.array(
        [[_weight_for(card, prefix, ind) for ind in card.indicators] for prefix in groups], dtype=np.float64
    ).reshape(len(groups), m)
    for j, indicator in enumerate(card.indicators):
        if indicator.id in unavailable:
            weight_table[:, j] = 0.0
    numerator = np.zeros(n)
    known = np.zeros(n)
    total = np.zeros(n)
    for j in range(m):
        w = weight_table[group_of_row, j] if len(groups) > 1 else np.full(n, weight_table[0, j])
        state = deprived[j]
        total += w
        known += w * (state >= 0)
        numerator += w * (state == 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(known > 0, numerator / np.where(known > 0, known, 1.0), np.nan)
        unknown_share = np.where(total > 0, 1.0 - known / np.where(total > 0, total, 1.0), 1.0)
    outright = card.outright.evaluate(table) if card.outright is not None and _has(table, card.outright) else None
    if outright is None:
        outright = np.zeros(n, dtype=bool)
    else:
        score = np.where(outright, 1.0, score)
    poor = (np.nan_to_num(score, nan=-1.0) >= card.cutoff - 1e-12) | outright
    return ScoreResult(
        scorecard=card,
        score=score,
        poor=poor,
        deprived=deprived,
        weight_group=group_of_row,
        weight_table=weight_table,
        weight_groups=tuple(groups),
        unknown_share=unknown_share,
        outright=outright,
        used=tuple(used),
        unavailable=unavailable,
    )


def _has(table: pa.Table, rule: Rule) -> bool:
    return all(name in table.column_names for name in rule.fields)


def _weight_for(card: Scorecard, prefix: str, indicator: Indicator) -> float:
    """The weight in force for an area: the default, then every override from the widest prefix to the narrowest."""
    weight = indicator.weight
    for override in sorted((p for p in card.area_weights if _within(prefix, p)), key=len):
        weight = card.area_weights[override].get(indicator.id, weight)
    return weight


def _within(code: str, prefix: str) -> bool:
    return bool(code) and (code == prefix or code.startswith(prefix + "."))


def _weight_groups(card: Scorecard, table: pa.Table, area_column: str) -> tuple[list[str], np.ndarray]:
    n = table.num_rows
    if not card.area_weights or area_column not in table.column_names:
        return [""], np.zeros(n, dtype=np.int32)
    prefixes = sorted(card.area_weights, key=len)
    indices, unique = encode(table.column(area_column))
    groups = [""]
    index = {"": 0}
    group_of_code = np.zeros(len(unique), dtype=np.int32)
    for k, code in enumerate(unique):
        best = ""
        for prefix in prefixes:
            if _within(str(code or ""), prefix):
                best = prefix  # prefixes sorted by length: the narrowest that matches wins
        if best not in index:
            index[best] = len(groups)
            groups.append(best)
        group_of_code[k] = index[best]
    return groups, group_of_code[indices]
