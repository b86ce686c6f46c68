"""The choropleth as an SVG picture: for reports and WhatsApp, and the source of the PNG the browser makes.

No plotting library is installed (matplotlib and Pillow are not dependencies), and an SVG needs none: outlines are
projected with a plain equirectangular projection scaled by the cosine of the middle latitude, which is exact
enough for one regency (a few tenths of a degree of latitude). The title and legend are drawn by a template, so
numbers are formatted like everywhere else.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from tepat.engine.hotspots import Pocket
from tepat.maps.selectors import MapLayer

MAP_SIZE = 720.0  # the longer side of the map box, in SVG units (pixels at 1:1)


@dataclass(frozen=True)
class Drawn:
    code: str
    path: str
    fill: str
    pocket: str


@dataclass(frozen=True)
class Picture:
    width: float
    height: float
    shapes: list[Drawn]
    pockets: list[Drawn]  # drawn again on top, outline only, so neighbours' borders do not hide them


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    coordinates = geometry["coordinates"]
    polygons = coordinates if geometry["type"] == "MultiPolygon" else [coordinates]
    return [ring for polygon in polygons for ring in polygon]


def picture(layer: MapLayer) -> Picture:
    bbox = layer.bbox
    if bbox is None:
        return Picture(MAP_SIZE, MAP_SIZE / 2, [], [])
    min_lon, min_lat, max_lon, max_lat = bbox
    squeeze = math.cos(math.radians((min_lat + max_lat) / 2))
    span_x = max((max_lon - min_lon) * squeeze, 1e-9)
    span_y = max(max_lat - min_lat, 1e-9)
    scale = MAP_SIZE / max(span_x, span_y)
    width, height = span_x * scale, span_y * scale

    def path(geometry: dict[str, Any]) -> str:
        parts = []
        for ring in _rings(geometry):
            points = [f"{(lon - min_lon) * squeeze * scale:.1f} {(max_lat - lat) * scale:.1f}" for lon, lat, *_ in ring]
            parts.append("M" + "L".join(points) + "Z")
        return "".join(parts)

    drawn = [
        Drawn(f.area.code, path(json.loads(layer.shapes.shapes[f.area.code].geometry)), f.colour, f.pocket_class)
        for f in layer.features
        if f.outlined
    ]
    pockets = [d for d in drawn if d.pocket in (Pocket.HOT, Pocket.COLD)]
    return Picture(round(width, 1), round(height, 1), drawn, pockets)
