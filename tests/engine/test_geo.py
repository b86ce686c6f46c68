from __future__ import annotations

import math

import pytest

from tepat.engine.geo import geometry_area_km2, summarise


def test_a_one_degree_square_on_the_equator_has_its_spherical_area() -> None:
    square = {"type": "Polygon", "coordinates": [[[117, 0], [118, 0], [118, 1], [117, 1], [117, 0]]]}
    r = 6378.137
    exact = r * r * math.radians(1) * (math.sin(math.radians(1)) - 0)
    assert geometry_area_km2(square) == pytest.approx(exact, rel=0.005)


def test_holes_are_subtracted_and_the_label_point_lies_inside() -> None:
    ring = [[0, 0], [0.1, 0], [0.1, 0.1], [0, 0.1], [0, 0]]
    hole = [[0.02, 0.02], [0.02, 0.08], [0.08, 0.08], [0.08, 0.02], [0.02, 0.02]]
    with_hole = {"type": "Polygon", "coordinates": [ring, hole]}
    full = geometry_area_km2({"type": "Polygon", "coordinates": [ring]})
    assert geometry_area_km2(with_hole) == pytest.approx(full * (1 - 0.36), rel=0.01)
    s = summarise(with_hole)
    assert not (0.02 < s.point_lon < 0.08 and 0.02 < s.point_lat < 0.08)
    assert (s.min_lon, s.max_lat) == (0, 0.1)
