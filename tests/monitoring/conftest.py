from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings

from tepat.monitoring.services import BPS_DIR, BPS_FILE, SHIPPED_SOURCE, read_bps_csv, series_values_save


@pytest.fixture
def bps(db: None) -> Callable[..., int]:
    """Load the shipped BPS rows of a few areas only (the whole table is ~0.7 s; pages need a handful)."""

    def load(*codes: str) -> int:
        _, values = read_bps_csv(Path(settings.DATA_DIR) / BPS_DIR / BPS_FILE)
        wanted = [v for v in values if v.area_code in codes]
        series_values_save(values=wanted, batch_id=None, source=SHIPPED_SOURCE)
        return len(wanted)

    return load
