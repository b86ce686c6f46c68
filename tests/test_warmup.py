"""A serving process imports the map's libraries in the background, so the first map view does not wait for them,
and a map request arriving during that warm-up still works (libpysal breaks when two threads import it at once)."""

from __future__ import annotations

import subprocess
import sys

WARM = """
import sys
from tepat.config.warmup import warm_up_in_background
assert "esda" not in sys.modules
warm_up_in_background().join(timeout=120)
assert {"esda", "libpysal.weights"} <= set(sys.modules), "not warmed up"
"""

RACE = """
from tepat.config.warmup import warm_up_in_background
from tepat.engine.hotspots import queen_neighbours
square = lambda x: {"type": "Polygon", "coordinates": [[[x, 0], [x + 1, 0], [x + 1, 1], [x, 1], [x, 0]]]}
thread = warm_up_in_background()
neighbours = queen_neighbours(["a", "b"], [square(0), square(1)])  # while the warm-up imports the same modules
thread.join(timeout=120)
assert neighbours is not None
"""


def test_the_warm_up_imports_pysal_in_a_thread() -> None:
    done = subprocess.run([sys.executable, "-c", WARM], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_map_request_during_the_warm_up_does_not_break_the_imports() -> None:
    for _ in range(3):  # the race is timing-dependent: a few tries
        done = subprocess.run([sys.executable, "-c", RACE], capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr[-2000:]
