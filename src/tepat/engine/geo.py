"""Geometry helpers that need no GIS database: spherical area, bounds and a label point of GeoJSON shapes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from shapely.geometry import shape
from shapely.validation import make_valid

EARTH_RADIUS_M = 6_378_137.0


@dataclass(frozen=True)
class ShapeSummary:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float
    point_lon: float
    point_lat: float
    area_km2: float


def ring_area_m2(ring: list[list[float]]) -> float:
    """Signed area of a lon/lat ring on the sphere (the formula of Chamberlain & Duquette, as in d3 and turf).

    Good to well under 1 % at village to province size, without a projection library.
    """
    n = len(ring)
    if n < 3:
        return 0.0
    total = 0.0
    for i in range(n):
        lon1, lat1 = ring[i][0], ring[i][1]
        lon2, lat2 = ring[(i + 1) % n][0], ring[(i + 1) % n][1]
        total += math.radians(lon2 - lon1) * (2 + math.sin(math.radians(lat1)) + math.sin(math.radians(lat2)))
    return total * EARTH_RADIUS_M * EARTH_RADIUS_M / 2.0


def geometry_area_km2(geometry: dict[str, Any]) -> float:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    total = 0.0
    for rings in polygons:
        outer, *holes = rings
        total += abs(ring_area_m2(outer)) - sum(abs(ring_area_m2(h)) for h in holes)
    return total / 1e6


def summarise(geometry: dict[str, Any]) -> ShapeSummary:
    """Bounds, a point guaranteed inside the area (not the centroid, which can fall in the sea) and the area."""
    geom = shape(geometry)
    if not geom.is_valid:
        geom = make_valid(geom)
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    point = geom.representative_point()
    return ShapeSummary(
        min_lon=min_lon,
        min_lat=min_lat,
        max_lon=max_lon,
        max_lat=max_lat,
        point_lon=round(point.x, 6),
        point_lat=round(point.y, 6),
        area_km2=round(geometry_area_km2(geometry), 4),
    )
