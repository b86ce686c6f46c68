"""A serving process imports the map's libraries in the background, so the first map view does not wait for them."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
from tepat.config.warmup import warm_up_in_background
assert "esda" not in sys.modules
warm_up_in_background().join(timeout=120)
assert {"esda", "libpysal.weights", "shapely.geometry"} <= set(sys.modules), "not warmed up"
"""


def test_the_warm_up_imports_pysal_in_a_thread() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
