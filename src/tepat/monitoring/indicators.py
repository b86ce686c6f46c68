"""The indicators the product knows from the start: the two shipped BPS series and extreme poverty (imported).

Plain data, no models: the data migration and ``services.indicators_ensure`` both read it (test databases are
built without migrations).
"""

from __future__ import annotations

from typing import Any

BUILTIN_INDICATORS: list[dict[str, Any]] = [
    {
        "code": "p0_pct",
        "name": "Persentase penduduk miskin (P0)",
        "name_en": "Poverty headcount ratio (P0)",
        "unit": "persen",
        "unit_en": "percent",
        "symbol": "%",
        "decimals": 2,
        "direction": "lower",
        "source": "BPS, Susenas Maret (tabel var 621)",
        "order": 10,
    },
    {
        "code": "poor_thousand",
        "name": "Jumlah penduduk miskin",
        "name_en": "Number of poor people",
        "unit": "ribu jiwa",
        "unit_en": "thousand people",
        "symbol": "",
        "decimals": 2,
        "direction": "lower",
        "source": "BPS, Susenas Maret (tabel var 619)",
        "order": 20,
    },
    {
        "code": "extreme_poor_pct",
        "name": "Persentase penduduk miskin ekstrem",
        "name_en": "Extreme poverty rate",
        "unit": "persen",
        "unit_en": "percent",
        "symbol": "%",
        "decimals": 2,
        "direction": "lower",
        "source": "diimpor oleh daerah (BPS/Kemenko PMK)",
        "order": 30,
    },
]
