"""Poverty pockets (kantong kemiskinan): villages whose neighbourhood is significantly poorer than the region.

A single poor village may be chance; a group of neighbouring poor villages is a pocket a program can be aimed at.
Two local statistics from PySAL (esda) on village polygons find them:

- Getis–Ord Gi* compares the value of a village *and its neighbours* with the whole region: a significantly high
  neighbourhood is a hot spot, a significantly low one a cold spot. This is the pocket the map outlines.
- Local Moran's I (LISA) compares a village with its neighbours: high among high (HH) and low among low (LL) are
  clusters, high among low (HL) and low among high (LH) are outliers: a poor village in a well-off area, which a
  neighbourhood average hides.

Neighbours are Queen contiguity (sharing an edge or a corner). A village with no neighbour (an island) is joined to
its nearest village by distance between representative points when ``islands="nearest"`` (fishing islands belong
to the coast they trade with), or left "not assessed". Significance comes from conditional permutations with a
fixed seed, so the same data always give the same pockets; p-values are two-sided (twice esda's folded pseudo
p-value, as esda recommends from its next major version). A false discovery rate correction is optional: with many
villages, about 5 % of them pass p < 0.05 by chance alone.

Values are rates (a share of families), not counts: with counts a populous kelurahan would be a "pocket" only for
its size. No Django here; the web app passes GeoJSON geometries and values.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

import numpy as np

PERMUTATIONS = 999
SEED = 20_251_122
ALPHA = 0.05
MIN_AREAS = 8  # below this the permutation distribution is too coarse to call anything significant


class Pocket(StrEnum):
    """Getis–Ord Gi* class of an area."""

    HOT = "hot"
    COLD = "cold"
    NOT_SIGNIFICANT = "ns"
    NOT_ASSESSED = "na"


class Cluster(StrEnum):
    """Local Moran's I class of an area (its value vs its neighbours')."""

    HIGH_HIGH = "HH"
    LOW_LOW = "LL"
    HIGH_LOW = "HL"
    LOW_HIGH = "LH"
    NOT_SIGNIFICANT = "ns"
    NOT_ASSESSED = "na"


class Link(StrEnum):
    """How an area got its neighbours."""

    CONTIGUOUS = "contiguous"
    NEAREST = "nearest"  # an island joined to the nearest area
    NONE = "none"  # no neighbour, or no data: not assessed


class Skip(StrEnum):
    """Why the whole analysis assessed nothing."""

    TOO_FEW = "too_few_areas"
    NO_VARIATION = "no_variation"


IslandRule = Literal["nearest", "leave"]


@dataclass(frozen=True)
class Neighbours:
    """Queen contiguity of a set of areas, computed once per boundary set and reused for every indicator.

    ``points`` are representative points (inside each polygon), used to join islands to their nearest area.
    """

    ids: tuple[str, ...]
    contiguous: dict[str, tuple[str, ...]]
    points: dict[str, tuple[float, float]]

    @property
    def islands(self) -> list[str]:
        return [i for i in self.ids if not self.contiguous.get(i)]


def queen_neighbours(ids: Sequence[str], geometries: Sequence[Mapping[str, Any]]) -> Neighbours:
    """Queen contiguity from GeoJSON geometries (Polygon or MultiPolygon, lon/lat)."""
    preload()
    from libpysal.weights import Queen
    from shapely.geometry import shape
    from shapely.validation import make_valid

    if len(ids) != len(geometries):
        raise ValueError("one geometry per id")
    if len(set(ids)) != len(ids):
        raise ValueError("ids must be unique")
    shapes = []
    for geometry in geometries:
        polygon = shape(geometry)
        shapes.append(polygon if polygon.is_valid else make_valid(polygon))
    contiguous: dict[str, tuple[str, ...]] = {i: () for i in ids}
    if len(shapes) > 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # libpysal warns about islands; they are handled by the caller's rule
            w = Queen.from_iterable(shapes, ids=list(ids))
        contiguous = {i: tuple(sorted(str(n) for n in w.neighbors.get(i, []))) for i in ids}
    points = {}
    for i, polygon in zip(ids, shapes, strict=True):
        point = polygon.representative_point()
        points[i] = (float(point.x), float(point.y))
    return Neighbours(tuple(ids), contiguous, points)


@dataclass(frozen=True)
class AreaPocket:
    id: str
    value: float | None
    link: Link
    neighbours: tuple[str, ...]
    gi_z: float | None  # standardised Gi* (analytical z); its sign gives the direction
    gi_p: float | None  # two-sided permutation p-value
    pocket: Pocket
    lisa_i: float | None
    lisa_p: float | None
    cluster: Cluster


@dataclass(frozen=True)
class PocketAnalysis:
    areas: list[AreaPocket]
    assessed: int  # areas with a value and a neighbour (when skipped: those there would have been)
    skipped: Skip | None
    min_areas: int
    moran_i: float | None  # global Moran's I: is the indicator clustered at all?
    moran_z: float | None
    moran_p: float | None  # two-sided, under randomisation (analytical, so deterministic)
    alpha: float
    fdr: bool
    permutations: int
    seed: int
    islands: IslandRule
    by_id: dict[str, AreaPocket] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.by_id.update({a.id: a for a in self.areas})

    @property
    def hot(self) -> list[AreaPocket]:
        return sorted((a for a in self.areas if a.pocket is Pocket.HOT), key=lambda a: -(a.gi_z or 0))

    @property
    def cold(self) -> list[AreaPocket]:
        return sorted((a for a in self.areas if a.pocket is Pocket.COLD), key=lambda a: a.gi_z or 0)


def _links(
    assessed: list[str], neighbours: Neighbours, islands: IslandRule
) -> tuple[dict[str, list[str]], dict[str, Link]]:
    """Neighbour lists among the assessed areas only (areas without data drop out of everyone's list)."""
    inside = set(assessed)
    lists = {i: [n for n in neighbours.contiguous.get(i, ()) if n in inside] for i in assessed}
    links = {i: Link.CONTIGUOUS if lists[i] else Link.NONE for i in assessed}
    if islands == "nearest":
        for i in [i for i in assessed if not lists[i]]:
            x, y = neighbours.points[i]
            scale = math.cos(math.radians(y))  # metres per degree of longitude shrink with latitude

            def distance(j: str, x: float = x, y: float = y, scale: float = scale) -> float:
                px, py = neighbours.points[j]
                return math.hypot((px - x) * scale, py - y)

            others = [j for j in assessed if j != i]
            if not others:
                continue
            nearest = min(others, key=lambda j: (distance(j), j))
            lists[i].append(nearest)
            if i not in lists[nearest]:
                lists[nearest].append(i)  # symmetric, as Queen contiguity is
            links[i] = Link.NEAREST
    return lists, links


def _significant(p: np.ndarray, alpha: float, fdr: bool) -> np.ndarray:
    if not fdr:
        return np.asarray(p < alpha)
    preload()
    from esda import fdr as fdr_threshold

    return np.asarray(p <= fdr_threshold(p, alpha))


def find_pockets(
    values: Mapping[str, float | None],
    neighbours: Neighbours,
    *,
    alpha: float = ALPHA,
    fdr: bool = False,
    permutations: int = PERMUTATIONS,
    seed: int = SEED,
    islands: IslandRule = "nearest",
    min_areas: int = MIN_AREAS,
) -> PocketAnalysis:
    """Gi* hot and cold spots, local Moran clusters and global Moran's I for the areas of ``neighbours``.

    Areas missing from ``values`` or with a None/NaN value are not assessed and are nobody's neighbour.
    """
    preload()
    from esda import G_Local, Moran, Moran_Local
    from libpysal.weights import W

    def known(i: str) -> bool:
        v = values.get(i)
        return v is not None and math.isfinite(v)

    candidates = [i for i in neighbours.ids if known(i)]
    lists, links = _links(candidates, neighbours, islands)
    assessed = [i for i in candidates if lists[i]]
    y = np.array([float(values[i]) for i in assessed], dtype=np.float64)  # type: ignore[arg-type]
    skipped = None
    if len(assessed) < min_areas:
        skipped = Skip.TOO_FEW
    elif np.ptp(y) == 0:
        skipped = Skip.NO_VARIATION

    def analysis(areas: list[AreaPocket], **stats: float | None) -> PocketAnalysis:
        return PocketAnalysis(areas=areas, assessed=len(assessed), skipped=skipped,
                              moran_i=stats.get("i"), moran_z=stats.get("z"), moran_p=stats.get("p"), alpha=alpha,
                              fdr=fdr, permutations=permutations, seed=seed, islands=islands,
                              min_areas=min_areas)  # fmt: skip

    def untested(i: str) -> AreaPocket:
        value = float(values[i]) if known(i) else None  # type: ignore[arg-type]
        link = links.get(i, Link.NONE) if i in assessed else Link.NONE
        nbrs = tuple(lists.get(i, ())) if i in assessed else ()
        return AreaPocket(i, value, link, nbrs, None, None, Pocket.NOT_ASSESSED, None, None, Cluster.NOT_ASSESSED)

    if skipped:
        return analysis([untested(i) for i in neighbours.ids])

    def weights() -> W:  # esda changes the transform of the W it is given: a fresh one per statistic
        return W({i: lists[i] for i in assessed}, id_order=assessed, silence_warnings=True)

    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore")  # esda's notices about its future default alternative hypothesis
        gi_weights = weights()
        gi_weights.transform = "b"
        from libpysal.weights import fill_diagonal

        gi = G_Local(y, fill_diagonal(gi_weights, 1.0), transform="B", star=None, permutations=permutations,
                     seed=seed, n_jobs=1, keep_simulations=False)  # fmt: skip
        lisa = Moran_Local(y, weights(), transformation="r", permutations=permutations, seed=seed, n_jobs=1,
                           keep_simulations=False)  # fmt: skip
        moran = Moran(y, weights(), transformation="r", permutations=0)
    gi_p = np.minimum(1.0, 2.0 * np.asarray(gi.p_sim))
    lisa_p = np.minimum(1.0, 2.0 * np.asarray(lisa.p_sim))
    gi_hit = _significant(gi_p, alpha, fdr)
    lisa_hit = _significant(lisa_p, alpha, fdr)
    quadrant = {1: Cluster.HIGH_HIGH, 2: Cluster.LOW_HIGH, 3: Cluster.LOW_LOW, 4: Cluster.HIGH_LOW}
    results: dict[str, AreaPocket] = {}
    for n, i in enumerate(assessed):
        z = float(gi.Zs[n])
        pocket = Pocket.NOT_SIGNIFICANT
        if gi_hit[n] and math.isfinite(z):
            pocket = Pocket.HOT if z > 0 else Pocket.COLD
        cluster = quadrant[int(lisa.q[n])] if lisa_hit[n] else Cluster.NOT_SIGNIFICANT
        results[i] = AreaPocket(i, float(y[n]), links[i], tuple(lists[i]), z, float(gi_p[n]), pocket,
                                float(lisa.Is[n]), float(lisa_p[n]), cluster)  # fmt: skip
    areas = [results.get(i) or untested(i) for i in neighbours.ids]
    moran_p = float(moran.p_rand)  # two-tailed by esda's default
    return analysis(areas, i=float(moran.I), z=float(moran.z_rand), p=moran_p if math.isfinite(moran_p) else None)


# libpysal's modules import each other in a cycle that breaks when two threads import it at once (a request
# during the start-up warm-up): every import of PySAL goes through this lock.
_PYSAL = threading.Lock()


def preload() -> None:
    """Import PySAL now. A web process calls this in a background thread when it starts, so the first map view
    does not pay the import (seconds) on the request path; the functions below call it before their imports."""
    with _PYSAL:
        import esda  # noqa: F401
        import libpysal.weights  # noqa: F401
