"""A serving process imports the map's libraries in the background, so the first map view does not wait for them,
and a map request arriving during that warm-up still works (libpysal breaks when two threads import it at once)."""

from __future__ import annotations

import subprocess
import sys
import threading

from tepat.engine import hotspots

WARM = """
import sys
from tepat.config.warmup import warm_up_in_background
assert "esda" not in sys.modules
warm_up_in_background().join(timeout=120)
assert {"esda", "libpysal.weights"} <= set(sys.modules), "not warmed up"
"""


def test_the_warm_up_imports_pysal_in_a_thread() -> None:
    done = subprocess.run([sys.executable, "-c", WARM], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_map_computation_waits_while_the_warm_up_imports_pysal() -> None:
    """The race itself is timing-dependent; the mechanism is not: while the warm-up holds the PySAL lock, a map
    computation does not start its own import of libpysal."""
    square = lambda x: {"type": "Polygon", "coordinates": [[[x, 0], [x + 1, 0], [x + 1, 1], [x, 1], [x, 0]]]}  # noqa: E731
    results: list[object] = []
    hotspots.preload()  # imported already, so only the lock can make the computation wait
    with hotspots._PYSAL:  # as the warm-up thread does while it imports
        worker = threading.Thread(
            target=lambda: results.append(hotspots.queen_neighbours(["a", "b"], [square(0), square(1)]))
        )
        worker.start()
        worker.join(timeout=1.0)
        assert worker.is_alive() and not results, "the map computation did not wait for the warm-up"
    worker.join(timeout=60)
    assert results and results[0] is not None
