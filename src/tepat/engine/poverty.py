"""Foster–Greer–Thorbecke poverty indices, and what a set of transfers would do to the poverty gap.

BPS states poverty with P0 (headcount), P1 (depth: the mean shortfall below the line as a share of the line) and P2
(severity: the mean squared shortfall, which weighs the poorest most), all per person, from per-capita monthly
consumption against the poverty line (garis kemiskinan). The same numbers tell a TKPK what a program is worth: a
transfer of Rp T a month to a family of n persons raises each member's welfare by T/n, and the rupiah by which the
total shortfall falls is the part of the transfer that actually reached the gap (the rest lifted people above the
line or went to families not below it).

Welfare here is whatever money-metric estimate the region has per family: per-capita consumption from a survey, a
PMT prediction (`tepat pmt score`), or a desil midpoint (`welfare_from_desil`); the functions do not care which,
but the results are only as good as that estimate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class Fgt:
    """FGT indices over persons. ``gap`` is the total monthly shortfall in rupiah (what it would cost, with perfect
    targeting, to lift everyone to the line); ``unknown`` counts persons whose welfare is missing, left out."""

    p0: float
    p1: float
    p2: float
    poor: float  # persons below the line (weighted)
    population: float
    gap: float
    unknown: float

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


def _arrays(
    welfare: Any, size: Any | None, weights: Any | None, line: float | Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(welfare, dtype=np.float64)
    n = np.ones_like(y) if size is None else np.asarray(size, dtype=np.float64)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=np.float64)
    z = np.broadcast_to(np.asarray(line, dtype=np.float64), y.shape)
    if y.shape != n.shape or y.shape != w.shape:
        raise ValueError("welfare, size and weights must have the same length")
    if (z <= 0).any():
        raise ValueError("the poverty line must be positive")
    return y, n * w, z


def fgt(
    welfare: Any,
    line: float | Any,
    *,
    size: Any | None = None,
    weights: Any | None = None,
) -> Fgt:
    """P0, P1, P2 over persons.

    ``welfare`` is per capita per month, one value per family (or per person); ``size`` the persons each value
    stands for (family size; 1 when rows are persons); ``weights`` survey expansion weights, if any. ``line`` a
    number or one per row (urban/rural lines).
    """
    y, persons, z = _arrays(welfare, size, weights, line)
    known = ~np.isnan(y)
    p, yk, zk = persons[known], y[known], z[known]
    shortfall = np.clip((zk - yk) / zk, 0.0, None)
    population = float(p.sum())
    if population <= 0:
        return Fgt(np.nan, np.nan, np.nan, 0.0, 0.0, 0.0, float(persons[~known].sum()))
    poor = yk < zk
    return Fgt(
        p0=float((p * poor).sum() / population),
        p1=float((p * shortfall).sum() / population),
        p2=float((p * shortfall**2).sum() / population),
        poor=float((p * poor).sum()),
        population=population,
        gap=float((p * np.clip(zk - yk, 0.0, None)).sum()),
        unknown=float(persons[~known].sum()),
    )


def gap_capacity(welfare: Any, size: Any, line: float | Any) -> np.ndarray:
    """Rupiah a month that would bring each family exactly to the line (0 for families at or above it, or whose
    welfare is unknown): the most a transfer to that family can reduce the poverty gap."""
    y = np.asarray(welfare, dtype=np.float64)
    n = np.asarray(size, dtype=np.float64)
    z = np.broadcast_to(np.asarray(line, dtype=np.float64), y.shape)
    return np.where(np.isnan(y), 0.0, n * np.clip(z - y, 0.0, None))


@dataclass(frozen=True)
class GapReduction:
    before: Fgt
    after: Fgt
    transferred: float  # Rp a month paid to families with known welfare
    gap_closed: float  # Rp a month by which the total shortfall fell
    lifted: float  # persons moved from below to at/above the line

    @property
    def efficiency(self) -> float:
        """Share of the money that reduced the gap (1 = every rupiah went to closing a shortfall)."""
        return self.gap_closed / self.transferred if self.transferred > 0 else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {
            "before": self.before.as_dict(),
            "after": self.after.as_dict(),
            "transferred": self.transferred,
            "gap_closed": self.gap_closed,
            "lifted": self.lifted,
            "efficiency": self.efficiency,
        }


def gap_reduction(
    welfare: Any,
    size: Any,
    transfer: Any,
    line: float | Any,
    *,
    weights: Any | None = None,
) -> GapReduction:
    """The FGT indices before and after giving each family ``transfer`` rupiah a month (0 for families not given
    anything), shared equally among its ``size`` members. A first-round estimate: no behavioural response."""
    y = np.asarray(welfare, dtype=np.float64)
    n = np.asarray(size, dtype=np.float64)
    t = np.broadcast_to(np.asarray(transfer, dtype=np.float64), y.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_capita = np.where(n > 0, t / np.where(n > 0, n, 1.0), 0.0)
    after_welfare = y + per_capita
    before = fgt(y, line, size=n, weights=weights)
    after = fgt(after_welfare, line, size=n, weights=weights)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=np.float64)
    z = np.broadcast_to(np.asarray(line, dtype=np.float64), y.shape)
    known = ~np.isnan(y)
    lifted = float((n * w)[known & (y < z) & (after_welfare >= z)].sum())
    return GapReduction(
        before=before,
        after=after,
        transferred=float((t * w)[known].sum()),
        gap_closed=before.gap - after.gap,
        lifted=lifted,
    )


def fgt_by_area(
    welfare: Any,
    line: float | Any,
    areas: pa.Array | pa.ChunkedArray | Sequence[str | None],
    *,
    size: Any | None = None,
    weights: Any | None = None,
) -> pa.Table:
    """P0, P1, P2, poor persons and the gap per area (village, district …), column-wise."""
    y, persons, z = _arrays(welfare, size, weights, line)
    array = areas if isinstance(areas, pa.Array | pa.ChunkedArray) else pa.array(areas, pa.string())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    encoded = pc.dictionary_encode(array, null_encoding="encode")
    index = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    groups = len(encoded.dictionary)
    known = ~np.isnan(y)
    p = np.where(known, persons, 0.0)
    yk = np.where(known, y, z)
    shortfall = np.clip((z - yk) / z, 0.0, None)
    population = np.bincount(index, weights=p, minlength=groups)
    poor = np.bincount(index, weights=p * (yk < z), minlength=groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pa.table(
            {
                "area": encoded.dictionary.cast(pa.string()),
                "population": population,
                "poor": poor,
                "P0": pa.array(poor / population, mask=population == 0),
                "P1": pa.array(
                    np.bincount(index, weights=p * shortfall, minlength=groups) / population, mask=population == 0
                ),
                "P2": pa.array(
                    np.bincount(index, weights=p * shortfall**2, minlength=groups) / population, mask=population == 0
                ),
                "gap": np.bincount(index, weights=p * np.clip(z - yk, 0.0, None), minlength=groups),
            }
        )
    return table.sort_by("area")


def welfare_from_desil(desil: Any, cut_points: Sequence[float], *, top: float | None = None) -> np.ndarray:
    """A rough per-capita welfare for families known only by desil: the midpoint of their desil's band.

    ``cut_points`` are the nine upper bounds of desil 1-9 in rupiah per capita per month (e.g. from the regency's
    Susenas); desil 1 spans from half its upper bound, desil 10 up to ``top`` (default: 1.5 × the last cut). Use it
    only when no survey-based or PMT estimate exists, and say so next to any figure it produces: every family of a
    desil gets the same value, so gaps inside a desil are invisible.
    """
    cuts = np.asarray(cut_points, dtype=np.float64)
    if cuts.shape != (9,) or (np.diff(cuts) <= 0).any() or cuts[0] <= 0:
        raise ValueError("cut_points must be nine increasing positive upper bounds (desil 1-9)")
    lower = np.concatenate([[cuts[0] / 2], cuts])
    upper = np.concatenate([cuts, [top if top is not None else cuts[-1] * 1.5]])
    mid = (lower + upper) / 2
    d = np.asarray(desil, dtype=np.float64)
    valid = (d >= 1) & (d <= 10) & ~np.isnan(d)
    out = np.full(d.shape, np.nan)
    out[valid] = mid[d[valid].astype(np.int64) - 1]
    return out
