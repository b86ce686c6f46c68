"""Desil within a region from any score, and the official desil set against the local one per area."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tepat.engine.scorecard.arrays import encode

AREA_LEVELS = {"province": 2, "regency": 5, "district": 8, "village": 13}


def area_level(codes: pa.Array | pa.ChunkedArray, level: str) -> pa.Array:
    """Kemendagri codes cut to a level (``province``, ``regency``, ``district``, ``village``): 64.74.03.1002 →
    64.74.03 for the district. Codes have fixed-width segments, so a prefix is the enclosing area."""
    width = AREA_LEVELS[level]
    array = codes.combine_chunks() if isinstance(codes, pa.ChunkedArray) else codes
    if pa.types.is_dictionary(array.type):
        cut = pc.utf8_slice_codeunits(array.dictionary, 0, width)
        return pc.take(cut, array.indices)
    return pc.utf8_slice_codeunits(array, 0, width)


def desil_within(
    score: np.ndarray,
    groups: pa.Array | pa.ChunkedArray | np.ndarray | None = None,
    *,
    poorest: str = "high",
    weights: np.ndarray | None = None,
    tiebreak: np.ndarray | None = None,
    bins: int = 10,
) -> np.ndarray:
    """Rank families into ``bins`` groups (desil 1 = poorest) within each group (region), column-wise.

    Ties are handled so that the result depends only on the data, never on row order: families with the same
    score share a desil, placed at the midpoint of the positions their tie block occupies. ``weights`` (e.g.
    family size) make each desil hold a tenth of the *people* instead of the families. ``poorest="high"`` for
    deprivation scores, ``"low"`` for welfare (consumption, PMT predictions). A scorecard of a few yes/no criteria
    gives many equal scores; ``tiebreak`` (lower = poorer, e.g. the official desil) orders families inside a tie,
    and only families equal on both stay tied. Returns int8, 0 where the score is missing.
    """
    values = np.asarray(score, dtype=np.float64)
    n = len(values)
    if poorest not in ("high", "low"):
        raise ValueError("poorest must be 'high' or 'low'")
    key = -values if poorest == "high" else values
    if groups is None:
        group = np.zeros(n, dtype=np.int64)
    elif isinstance(groups, np.ndarray) and np.issubdtype(groups.dtype, np.integer):
        group = groups.astype(np.int64, copy=False)
    else:
        group, _ = encode(groups)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    valid = ~np.isnan(values) & (w > 0)
    second = np.zeros(n) if tiebreak is None else np.nan_to_num(np.asarray(tiebreak, dtype=np.float64), nan=np.inf)
    order = np.lexsort((second, key, group))
    order = order[valid[order]]
    out = np.zeros(n, dtype=np.int8)
    if len(order) == 0:
        return out
    gs, ks, ts, ws = group[order], key[order], second[order], w[order]
    new_group = np.empty(len(order), dtype=bool)
    new_group[0] = True
    new_group[1:] = gs[1:] != gs[:-1]
    group_id = np.cumsum(new_group) - 1
    cumulative = np.cumsum(ws)
    before = cumulative - ws  # weight of everything earlier in the sort order
    before_in_group = before - before[new_group][group_id]
    total = np.bincount(group_id, weights=ws)
    new_block = new_group.copy()
    new_block[1:] |= (ks[1:] != ks[:-1]) | (ts[1:] != ts[:-1])
    block_id = np.cumsum(new_block) - 1
    block_start = before_in_group[new_block]
    block_weight = np.bincount(block_id, weights=ws)
    middle = block_start[block_id] + block_weight[block_id] / 2
    position = middle / total[group_id]
    out[order] = np.minimum(bins, np.floor(position * bins + 1e-9).astype(np.int64) + 1)
    return out


def compare_desil(
    official: np.ndarray,
    local: np.ndarray,
    areas: pa.Array | pa.ChunkedArray | Sequence[str | None],
    *,
    low: int = 4,
) -> pa.Table:
    """Official desil against the local one, per area: how often they agree, and who only one of them puts low.

    ``low_official_only`` counts families the national ranking puts in desil 1..``low`` but the local score does
    not, and ``low_local_only`` the reverse: the candidates for field verification (verval) and for
    proposals of additions and removals. ``spearman`` is the rank correlation of the two inside the area. Desil 0
    or NaN means "not ranked" and leaves the family out of the comparison.
    """
    a = np.nan_to_num(np.asarray(official, dtype=np.float64), nan=0)
    b = np.nan_to_num(np.asarray(local, dtype=np.float64), nan=0)
    index, names = encode(areas)
    groups = len(names)
    both = (a >= 1) & (b >= 1)

    def per_area(values: np.ndarray) -> np.ndarray:
        return np.bincount(index, weights=values, minlength=groups)

    count = per_area(both.astype(np.float64))
    low_a = both & (a <= low)
    low_b = both & (b <= low)
    # Spearman within each area: average ranks per area, then Pearson on the ranks.
    rank_a = _ranks_within(a, index, both)
    rank_b = _ranks_within(b, index, both)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_a = per_area(rank_a * both) / count
        mean_b = per_area(rank_b * both) / count
        da = np.where(both, rank_a - mean_a[index], 0.0)
        db = np.where(both, rank_b - mean_b[index], 0.0)
        spearman = per_area(da * db) / np.sqrt(per_area(da * da) * per_area(db * db))
    return pa.table(
        {
            "area": pa.array(names, pa.string()),
            "families": np.bincount(index, minlength=groups),
            "ranked_both": count.astype(np.int64),
            "same_desil": per_area((both & (a == b)).astype(np.float64)).astype(np.int64),
            "within_one": per_area((both & (np.abs(a - b) <= 1)).astype(np.float64)).astype(np.int64),
            "low_both": per_area((low_a & low_b).astype(np.float64)).astype(np.int64),
            "low_official_only": per_area((low_a & ~low_b).astype(np.float64)).astype(np.int64),
            "low_local_only": per_area((low_b & ~low_a).astype(np.float64)).astype(np.int64),
            "spearman": pa.array(spearman, mask=~np.isfinite(spearman)),
        }
    ).sort_by("area")


def _ranks_within(values: np.ndarray, group: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean rank) of ``values`` inside each group, for the valid rows."""
    ranks = np.zeros(len(values))
    rows = np.flatnonzero(valid)
    if len(rows) == 0:
        return ranks
    order = rows[np.lexsort((values[rows], group[rows]))]
    g, v = group[order], values[order]
    new_group = np.r_[True, g[1:] != g[:-1]]
    position = np.arange(len(order)) - np.flatnonzero(new_group)[np.cumsum(new_group) - 1]
    new_block = new_group | np.r_[True, v[1:] != v[:-1]]
    block = np.cumsum(new_block) - 1
    start = position[new_block]
    length = np.bincount(block)
    ranks[order] = start[block] + (length[block] + 1) / 2
    return ranks
