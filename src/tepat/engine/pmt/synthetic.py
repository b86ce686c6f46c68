"""A Susenas-like synthetic survey with a known welfare model, for tests, benchmarks and demonstrations.

Real Susenas microdata are personal data and cannot ship. This generator writes what such a file looks like to a
PMT: one row per person with the dwelling repeated on every row, numeric codes next to text categories, empty
cells, a survey weight, junk columns a careless export carries (a constant year, names, a 16-digit NIK), and a
per-capita consumption that follows a stated model plus noise. ``oracle`` is the systematic part of that model, so
a test can tell how close a fitted PMT comes to the best any model could do on these data.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

EDUCATION = ("Tidak/belum sekolah", "SD", "SMP", "SMA", "D1-D3", "S1+")
FLOOR = ("Tanah", "Bambu", "Kayu/papan", "Semen", "Keramik")
LIGHT = ("Tanpa listrik", "450 VA", "900 VA", "1300 VA", "2200 VA")
SECTOR = ("Pertanian", "Perikanan", "Industri", "Perdagangan", "Jasa", "Pemerintahan")
RELATION = ("Kepala rumah tangga", "Istri/suami", "Anak", "Famili lain")
HEADER = (
    "id_rt",
    "no_art",
    "nama",
    "nik",
    "hubungan",
    "jenis_kelamin",
    "umur",
    "pendidikan",
    "bekerja",
    "lapangan_usaha",
    "kode_desa",
    "jenis_lantai",
    "luas_lantai",
    "penerangan",
    "sepeda_motor",
    "mobil",
    "tahun",
    "bobot",
    "kapita",
    "desil",
)


@dataclass(frozen=True)
class Survey:
    path: Path
    households: int
    persons: int
    oracle: np.ndarray  # systematic log per-capita consumption per household, in id order
    log_welfare: np.ndarray  # the observed log per-capita consumption (oracle + noise)
    ids: list[str]


def synthetic_survey(
    path: str | Path, *, households: int, seed: int = 0, noise: float = 0.35, missing: float = 0.02
) -> Survey:
    """Write a person-level survey CSV to ``path`` and return the truth about it."""
    rng = np.random.default_rng(seed)
    h = households
    size = np.clip(rng.poisson(3.0, h) + 1, 1, 10)
    villages = np.array([f"64.74.0{1 + k % 3}.{1001 + k % 5}" for k in range(15)])
    village = rng.integers(0, len(villages), h)
    village_effect = rng.normal(0, 0.15, len(villages))
    wealth = rng.normal(0, 1, h)  # unobserved: drives the observed assets, as in real life
    head_education = np.clip(np.round(1.6 + 1.1 * wealth + rng.normal(0, 0.9, h)), 0, 5).astype(int)
    floor = np.clip(np.round(2.5 + 0.9 * wealth + rng.normal(0, 0.9, h)), 0, 4).astype(int)
    light = np.clip(np.round(1.8 + 0.8 * wealth + rng.normal(0, 0.8, h)), 0, 4).astype(int)
    motorbikes = np.clip(np.round(0.9 + 0.6 * wealth + rng.normal(0, 0.7, h)), 0, 4).astype(int)
    car = rng.random(h) < 1 / (1 + np.exp(-(1.6 * wealth - 2.2)))
    area = np.round(np.exp(np.log(40) + 0.25 * wealth + 0.08 * size + rng.normal(0, 0.3, h)))
    head_sector = rng.integers(0, len(SECTOR), h)
    oracle = (
        13.2
        + 0.12 * head_education
        + 0.08 * floor
        + 0.07 * light
        + 0.10 * motorbikes
        + 0.35 * car
        + 0.002 * area
        - 0.10 * (size - 4)
        + 0.06 * (head_sector >= 4)
        + village_effect[village]
    )
    log_welfare = oracle + rng.normal(0, noise, h)
    per_capita = np.round(np.exp(log_welfare), -2)
    weight = np.round(rng.uniform(20, 200, h), 2)
    order = np.argsort(per_capita, kind="stable")
    decile = np.empty(h, dtype=int)
    decile[order] = 1 + (np.arange(h) * 10) // h
    ids = [f"RT{k:06d}" for k in range(h)]
    persons = int(size.sum())
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        person = 0
        for k in range(h):
            for member in range(int(size[k])):
                person += 1
                relation = 0 if member == 0 else (1 if member == 1 else (2 if member < 6 else 3))
                age = int(rng.integers(25, 70)) if relation < 2 else int(rng.integers(0, 25))
                if relation == 3:
                    age = int(rng.integers(10, 80))
                education = (
                    head_education[k] if relation == 0 else int(np.clip(head_education[k] + rng.integers(-1, 2), 0, 5))
                )
                if age < 7:
                    education = 0
                works = int(relation == 0 or (age >= 18 and rng.random() < 0.4))
                sector = SECTOR[head_sector[k]] if relation == 0 else (SECTOR[rng.integers(0, 6)] if works else "")
                row = [
                    ids[k],
                    member + 1,
                    f"Nama {person}",
                    f"64740{rng.integers(10**10, 10**11 - 1)}",
                    RELATION[relation],
                    1 + (relation == 1) if member < 2 else 1 + int(rng.random() < 0.5),
                    age,
                    EDUCATION[education],
                    works,
                    sector,
                    villages[village[k]],
                    FLOOR[floor[k]],
                    int(area[k]),
                    LIGHT[light[k]],
                    motorbikes[k],
                    int(car[k]),
                    2024,
                    weight[k],
                    int(per_capita[k]),
                    decile[k],
                ]
                if missing and rng.random() < missing:
                    row[rng.choice([7, 12, 9])] = ""  # schooling, floor area or sector not recorded
                out.writerow(row)
    return Survey(path=Path(path), households=h, persons=persons, oracle=oracle, log_welfare=log_welfare, ids=ids)
