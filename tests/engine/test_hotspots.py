"""Poverty pockets: a planted cluster of poor villages is found, a random field mostly is not."""

from __future__ import annotations

import numpy as np
import pytest

from tepat.engine.hotspots import Cluster, Link, Neighbours, Pocket, Skip, find_pockets, queen_neighbours

SIZE = 10


def square(col: float, row: float, side: float = 1.0) -> dict[str, object]:
    return {"type": "Polygon", "coordinates": [[[col, row], [col + side, row], [col + side, row + side],
                                                [col, row + side], [col, row]]]}  # fmt: skip


@pytest.fixture(scope="module")
def grid() -> Neighbours:
    ids = [f"{r}.{c}" for r in range(SIZE) for c in range(SIZE)]
    return queen_neighbours(ids, [square(c, r) for r in range(SIZE) for c in range(SIZE)])


def field(seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    return {f"{r}.{c}": float(rng.normal(20.0, 3.0)) for r in range(SIZE) for c in range(SIZE)}


PLANTED = {f"{r}.{c}" for r in range(2, 5) for c in range(6, 9)}  # a 3×3 block of villages with +15 points


def test_queen_contiguity_counts_corners() -> None:
    ids = ["a", "b", "c", "d"]
    # a b     a and d only share a corner: Queen neighbours all the same
    # c d
    nb = queen_neighbours(ids, [square(0, 1), square(1, 1), square(0, 0), square(1, 0)])
    assert nb.contiguous == {"a": ("b", "c", "d"), "b": ("a", "c", "d"), "c": ("a", "b", "d"), "d": ("a", "b", "c")}


def test_a_planted_cluster_is_a_hot_spot_and_a_high_high_cluster(grid: Neighbours) -> None:
    values = field(1)
    for code in PLANTED:
        values[code] += 15.0
    result = find_pockets(values, grid)
    hot = {a.id for a in result.hot}
    assert {"3.7", "2.7", "4.7", "3.6", "3.8"} <= hot  # the block's core: most of each neighbourhood is planted
    assert len(PLANTED & hot) >= 7  # corners have 4 planted villages out of 9 in their neighbourhood
    assert len(hot - PLANTED) <= 6  # at most a rim of neighbours that Gi* counts with the block
    assert result.hot[0].id == "3.7"  # the centre of the block has the strongest neighbourhood
    assert {a.id for a in result.areas if a.cluster is Cluster.HIGH_HIGH} <= PLANTED | hot
    assert sum(a.cluster is Cluster.HIGH_HIGH for a in result.areas) >= 5
    assert result.moran_i is not None and result.moran_i > 0.2 and result.moran_p is not None
    assert result.moran_p < 0.001
    centre = result.by_id["3.7"]
    assert centre.gi_z is not None and centre.gi_z > 3 and centre.gi_p is not None and centre.gi_p < 0.01
    assert centre.link is Link.CONTIGUOUS and len(centre.neighbours) == 8


def test_a_low_cluster_is_a_cold_spot(grid: Neighbours) -> None:
    values = field(2)
    for r in range(6, 9):
        for c in range(1, 4):
            values[f"{r}.{c}"] -= 12.0
    cold = {a.id for a in find_pockets(values, grid).cold}
    assert {"7.2", "6.2", "8.2", "7.1", "7.3"} <= cold
    assert not cold & PLANTED


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_a_random_field_is_mostly_not_significant(grid: Neighbours, seed: int) -> None:
    values = field(seed)
    result = find_pockets(values, grid)
    assert len(result.hot) + len(result.cold) <= 10  # ~5 of 100 by chance at p < 0.05
    assert result.moran_p is not None and result.moran_p > 0.01
    corrected = find_pockets(values, grid, fdr=True)
    assert len(corrected.hot) + len(corrected.cold) <= 2


def test_same_data_same_pockets(grid: Neighbours) -> None:
    values = field(6)
    first, second = find_pockets(values, grid), find_pockets(values, grid)
    assert [(a.gi_p, a.lisa_p, a.pocket) for a in first.areas] == [(a.gi_p, a.lisa_p, a.pocket) for a in second.areas]


def test_islands_join_their_nearest_village_or_stay_unassessed() -> None:
    ids = [f"v{i}" for i in range(9)] + ["island"]
    shapes = [square(i % 3, i // 3) for i in range(9)] + [square(5.0, 1.2, 0.5)]  # off the coast of v5
    nb = queen_neighbours(ids, shapes)
    assert nb.islands == ["island"]
    values = {i: float(v) for i, v in zip(ids, [10, 12, 11, 30, 9, 14, 13, 10, 12, 25], strict=True)}
    joined = find_pockets(values, nb)
    assert joined.by_id["island"].link is Link.NEAREST and joined.by_id["island"].neighbours == ("v5",)
    assert "island" in joined.by_id["v5"].neighbours
    left = find_pockets(values, nb, islands="leave")
    assert left.by_id["island"].pocket is Pocket.NOT_ASSESSED and left.by_id["island"].link is Link.NONE
    assert left.by_id["v5"].pocket is not Pocket.NOT_ASSESSED


def test_villages_without_data_are_not_assessed_and_nobodys_neighbour(grid: Neighbours) -> None:
    values: dict[str, float | None] = dict(field(7))
    values["0.0"] = None
    values["0.1"] = float("nan")
    result = find_pockets(values, grid)
    assert result.by_id["0.0"].pocket is Pocket.NOT_ASSESSED and result.by_id["0.1"].value is None
    assert "0.0" not in result.by_id["1.1"].neighbours and result.assessed == 98


def test_too_few_villages_or_no_variation_assess_nothing(grid: Neighbours) -> None:
    three = queen_neighbours(["a", "b", "c"], [square(0, 0), square(1, 0), square(2, 0)])
    few = find_pockets({"a": 1.0, "b": 5.0, "c": 9.0}, three)
    assert few.skipped is Skip.TOO_FEW and {a.pocket for a in few.areas} == {Pocket.NOT_ASSESSED}
    flat = find_pockets(dict.fromkeys(grid.ids, 12.5), grid)
    assert flat.skipped is Skip.NO_VARIATION and flat.hot == [] and flat.moran_i is None
