"""Area outlines ready to send to a map, and village neighbourhoods, built once per boundary set and kept.

Boundaries are public facts (no acting user) and change only when `tepat areas load` runs, so each process keeps
the GeoJSON text of a layer (all districts or villages inside an area) in memory, keyed by a digest of the
boundaries' bounding boxes and areas: a reload with new outlines changes the digest and the layer is rebuilt.
Building a layer of 400 villages takes a few tenths of a second; serving it afterwards costs one small query.

Large layers are simplified as a *coverage* (GEOS coverage simplification): shared borders are simplified once,
so neighbouring villages keep touching without gaps or overlaps, which per-polygon simplification would break.
Coordinates are rounded to 5 decimals (about 1 m), below anything a screen or printed map can show.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import QuerySet

from tepat.areas.models import Area, Boundary, ancestor_codes
from tepat.engine.hotspots import Neighbours, queen_neighbours

SIMPLIFY_ABOVE = 5_000  # vertices in a layer; Kota Bontang's 15 kelurahan have ~2,000 and are sent as they are
SCREEN_STEPS = 3_000  # tolerance = layer diagonal / this: well under a pixel on a full-screen map
DECIMALS = 5


@dataclass(frozen=True)
class Shape:
    code: str
    geometry: str  # GeoJSON geometry text, WGS84
    bbox: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat


@dataclass(frozen=True)
class Layer:
    shapes: dict[str, Shape]
    simplified: bool
    vertices: int

    @property
    def bbox(self) -> tuple[float, float, float, float] | None:
        if not self.shapes:
            return None
        boxes = [s.bbox for s in self.shapes.values()]
        return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                max(b[3] for b in boxes))  # fmt: skip


_layers: dict[str, tuple[str, Layer]] = {}
_neighbours: dict[str, tuple[str, Neighbours]] = {}
_lock = threading.Lock()


def areas_below(root: str, level: int) -> QuerySet[Area]:
    """Areas of ``level`` inside ``root`` (or root itself at its own level), found through the parent links.

    A join on primary keys rather than a prefix test on the code: SQLite's LIKE cannot use an index, and a
    regency's few hundred villages should not cost a scan of Indonesia's 84,000 areas on every map request.
    """
    depth = level - len(ancestor_codes(root))
    if depth <= 0:
        return Area.objects.filter(code=root)
    return Area.objects.filter(level=level, **{"parent__" * (depth - 1) + "parent_id": root})


def _boundaries(codes: Sequence[str]) -> tuple[str, list[str]]:
    """A digest of the outlines of ``codes`` (bounding boxes and areas), and the codes that have one, in order."""
    rows = sorted(
        Boundary.objects.filter(area_id__in=list(codes)).values_list(
            "area_id", "min_lon", "min_lat", "max_lon", "max_lat", "area_km2"
        )
    )
    digest = hashlib.sha1(repr(rows).encode(), usedforsecurity=False).hexdigest()
    return digest, [r[0] for r in rows]


def _build(codes: list[str]) -> Layer:
    import numpy as np
    import shapely
    from shapely.geometry import shape
    from shapely.validation import make_valid

    texts = dict(Boundary.objects.filter(area_id__in=codes).values_list("area_id", "geojson"))
    geometries = []
    for code in codes:
        geometry = shape(json.loads(texts[code]))
        geometries.append(geometry if geometry.is_valid else make_valid(geometry))
    vertices = int(sum(shapely.get_num_coordinates(g) for g in geometries))
    simplified = vertices > SIMPLIFY_ABOVE
    if simplified:
        min_x, min_y, max_x, max_y = shapely.total_bounds(geometries)
        tolerance = math.hypot(max_x - min_x, max_y - min_y) / SCREEN_STEPS
        geometries = list(shapely.coverage_simplify(geometries, tolerance))
    rounded = shapely.transform(geometries, lambda xy: np.round(xy, DECIMALS))
    shapes = {}
    for code, geometry in zip(codes, rounded, strict=True):
        bounds = tuple(float(b) for b in geometry.bounds)
        shapes[code] = Shape(code, shapely.to_geojson(geometry), bounds)  # type: ignore[arg-type]
    return Layer(shapes, simplified, int(sum(shapely.get_num_coordinates(g) for g in rounded)))


def layer(key: str, codes: Sequence[str]) -> Layer:
    """Outlines of ``codes`` that have a boundary (others are simply absent), kept under ``key`` (scope + level)."""
    digest, outlined = _boundaries(codes)
    cached = _layers.get(key)
    if cached and cached[0] == digest:
        return cached[1]
    with _lock:
        cached = _layers.get(key)
        if cached and cached[0] == digest:
            return cached[1]
        built = _build(outlined)
        _layers[key] = (digest, built)
        return built


def neighbours(key: str, codes: Sequence[str]) -> Neighbours:
    """Queen contiguity of ``codes`` that have a boundary, from the full (unsimplified) outlines."""
    digest, outlined = _boundaries(codes)
    cached = _neighbours.get(key)
    if cached and cached[0] == digest:
        return cached[1]
    with _lock:
        cached = _neighbours.get(key)
        if cached and cached[0] == digest:
            return cached[1]
        texts = dict(Boundary.objects.filter(area_id__in=outlined).values_list("area_id", "geojson"))
        built = queen_neighbours(outlined, [json.loads(texts[c]) for c in outlined])
        _neighbours[key] = (digest, built)
        return built


def forget() -> None:
    """Drop every cached layer (tests and `areas load` in the same process)."""
    with _lock:
        _layers.clear()
        _neighbours.clear()
