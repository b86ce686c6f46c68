"""Where people live and where they came from: village sizes, RT/RW, street addresses, districts of origin."""

from __future__ import annotations

import random
from bisect import bisect
from itertools import accumulate

from tepat.engine.synth import _names as names
from tepat.engine.synth._model import Household
from tepat.engine.synth._reference import Atlas, Region, Village


class Geography:
    """Village sizes vary a lot (a kelurahan in the centre vs a fishing village): lognormal weights."""

    def __init__(self, *, rng: random.Random, region: Region, atlas: Atlas, persons: int) -> None:
        self.rng = rng
        self.region = region
        self.atlas = atlas
        villages = region.villages
        weights = [rng.lognormvariate(0.0, 0.6) * (1.4 if v.urban else 1.0) for v in villages]
        total = sum(weights)
        expected_households = persons / 3.4
        self.village_cum = tuple(accumulate(weights))
        self.rt_count: dict[str, int] = {}
        self.rw_count: dict[str, int] = {}
        self.streets: dict[str, tuple[str, ...]] = {}
        for village, weight in zip(villages, weights, strict=True):
            households = expected_households * weight / total
            rts = max(3, min(40, round(households / 90)))
            self.rt_count[village.code] = rts
            # Some cities (Bontang among them) have no RW level at all in many kelurahan.
            no_rw = rng.random() < (0.45 if village.urban else 0.1)
            self.rw_count[village.code] = 0 if no_rw else max(1, min(15, rts // 4))
            self.streets[village.code] = tuple(rng.sample(names.STREETS, 6 + int(rng.random() * 12)))
        district_weight: dict[str, float] = {}
        for village, weight in zip(villages, weights, strict=True):
            district_weight[village.district] = district_weight.get(village.district, 0.0) + weight
        self.home_districts = tuple(district_weight)
        self.home_cum = tuple(accumulate(district_weight.values()))
        self._setup_origins()

    def _setup_origins(self) -> None:
        """Per ethnic group, the districts its migrants were first registered in (never the region itself)."""
        atlas, region = self.atlas, self.region
        self.origin: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {}
        for group in names.GROUPS:
            codes: list[str] = []
            weights: list[float] = []
            for prefix, weight in group.origin:
                if len(prefix) == 2:
                    pool = atlas.districts_by_province.get(prefix, [])
                else:
                    pool = atlas.districts_by_regency.get(prefix, [])
                pool = [code for code in pool if not code.startswith(region.code + ".")]
                for code in pool:
                    codes.append(code)
                    weights.append(weight / len(pool))
            if not codes:  # a reference set without those provinces: fall back to any other district
                codes = [c for c in atlas.district_names if not c.startswith(region.code + ".")][:500]
                weights = [1.0] * len(codes)
            self.origin[group.key] = (tuple(codes), tuple(accumulate(weights)))

    def village(self) -> Village:
        cum = self.village_cum
        return self.region.villages[bisect(cum, self.rng.random() * cum[-1])]

    def home_district(self) -> str:
        cum = self.home_cum
        return self.home_districts[bisect(cum, self.rng.random() * cum[-1])]

    def origin_district(self, group: str) -> str:
        codes, cum = self.origin[group]
        return codes[bisect(cum, self.rng.random() * cum[-1])]

    def address(self, household: Household) -> None:
        """RT/RW and a street address; RTs are numbered within RWs, so the pair is consistent."""
        rng = self.rng
        code = household.village.code
        rts = self.rt_count[code]
        rt = 1 + int(rng.random() * rts)
        household.rt = f"{rt:03d}"
        rws = self.rw_count[code]
        household.rw = f"{1 + (rt - 1) * rws // rts:03d}" if rws else ""
        street = names.pick(rng, self.streets[code])
        number = 1 + int(rng.random() * 120)
        r = rng.random()
        if r < 0.6:
            household.address = f"Jl. {street} No. {number}"
        elif r < 0.8:
            gang = names.pick(rng, names.GANGS)
            suffix = names.pick(rng, ("", "", " II", " III", " 2", " 4"))
            household.address = f"Jl. {street} Gg. {gang}{suffix} No. {number}"
        elif r < 0.9:
            household.address = f"Gg. {names.pick(rng, names.GANGS)} No. {number}"
        else:
            block = "ABCDEFGHJK"[int(rng.random() * 10)]
            household.address = f"Perum {names.pick(rng, names.ESTATES)} Blok {block} No. {number}"
