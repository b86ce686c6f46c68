"""Warm a serving process up off the request path."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


def warm_up_in_background() -> threading.Thread:
    """Import the libraries the first map view needs (PySAL: ~7 s of CPU on a small machine) in a daemon thread.

    Web processes keep heavy imports out of the URL path so they start in a second; this pays the rest while the
    first user logs in instead of while they wait for the map.
    """

    def run() -> None:
        try:
            from tepat.engine.hotspots import preload

            preload()
        except Exception:  # a warm-up must never take the server down; the map imports again when it runs
            log.exception("warm-up failed")

    thread = threading.Thread(target=run, name="tepat-warmup", daemon=True)
    thread.start()
    return thread
