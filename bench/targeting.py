"""Benchmarks for targeting: scoring, desil within region and eligibility over a million families; PMT fit/score.

    .venv/bin/python bench/targeting.py [--families 1000000] [--repeat 3] [--survey-households 75000] [--skip-pmt]
    .venv/bin/python bench/targeting.py --web --sqlite demo.sqlite3 [--repeat 3]     (or --database-url postgres://…)

Issue 5's target: scoring, desil within region and eligibility for 1,000,000 families in under 10 s on 2 cores.
The family table is generated column-wise as the registry would hand it to the engine (dictionary-encoded text
columns, nulls where DTSEN has gaps) for a province of 14 regencies and ~2,000 villages. Each repeat scores with
the multidimensional scorecard (the largest shipped), ranks desil within each regency, evaluates three program
rules with the clause that decided each family (what a dry run shows), and computes the MPI per village; the
figure is the median of the repeats after one warm-up on a small table. The PMT part writes a Susenas-like
survey (persons, ~4 per household), fits it (5-fold CV of ridge and gradient boosting, then the final model) and
scores it, once. Prints Markdown rows for docs/benchmarks.md.

``--web`` times the Django side on an existing instance (e.g. `tepat demo --no-serve --persons 190000 --seed 7`):
the data stamp, the family table from the registry, a dry run as the TKPK admin with the table cache emptied
first (what every dry run cost before the cache) and with the table cached (later dry runs, until the data
change), a cached dry run as a village operator (the region's table cut to one village), and one region-wide
scores run. CPU time of the process and wall time, median of the repeats after a warm-up call.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from tepat.engine.allocation import Families, Program, allocate
from tepat.engine.rules import compile_rule
from tepat.engine.scorecard import (
    FAMILY_SCHEMA,
    desil_within,
    load_scorecard,
    multidimensional_poverty,
    score_families,
)

RULES = {
    "PKH": "desil <= 4 and (school_age_children > 0 or children_under_5 > 0 or elderly > 0 or disabled_members > 0)"
    " and not flag.civil_servant and not flag.car_owner",
    "BPNT": "desil <= 5 and not (flag.civil_servant or flag.military_police or flag.pln_900va or flag.car_owner)",
    "RTLH": 'local_desil <= 3 and floor in ["Tanah", "Bambu"] and tenure == "Milik sendiri"',
}


def family_table(n: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    regencies = [f"61.{k:02d}" for k in range(1, 15)]
    villages = np.array([f"{regencies[k % 14]}.{(k // 14) % 20 + 1:02d}.{2001 + k // 280:04d}" for k in range(2000)])
    village = rng.integers(0, len(villages), n)
    wealth = rng.normal(0, 1, n)

    def pick(labels: tuple[str, ...], cuts: tuple[float, ...], missing: float = 0.02) -> pa.Array:
        index = np.searchsorted(np.asarray(cuts), wealth + rng.normal(0, 0.7, n))
        mask = rng.random(n) < missing
        return pa.DictionaryArray.from_arrays(pa.array(index.astype(np.int32), mask=mask), pa.array(labels))

    def count(mean: float) -> np.ndarray:
        return rng.poisson(mean, n).astype(np.int64)

    desil = np.clip(np.searchsorted(np.linspace(-1.3, 1.3, 9), wealth + rng.normal(0, 0.4, n)) + 1, 1, 10)
    members = np.clip(count(3.0) + 1, 1, 12)
    area = np.exp(np.log(40) + 0.25 * wealth + rng.normal(0, 0.35, n))
    codes = pa.DictionaryArray.from_arrays(pa.array(village.astype(np.int32)), pa.array(villages))
    flag = rng.random
    return pa.table(
        {
            "family_id": pa.array(np.arange(n)),
            "kode_desa": codes,
            "kode_kabupaten": pa.DictionaryArray.from_arrays(
                pa.array((village % 14).astype(np.int32)), pa.array(regencies)
            ),
            "desil": pa.array(desil, mask=rng.random(n) < 0.01),
            "members": members,
            "children_under_5": count(0.4),
            "school_age_children": count(1.0),
            "children_out_of_school": (rng.random(n) < 0.05 - 0.03 * np.tanh(wealth)).astype(np.int64),
            "elderly": count(0.3),
            "disabled_members": (rng.random(n) < 0.03).astype(np.int64),
            "working_members": np.clip(count(1.2), 0, 6),
            "max_education_level": pa.array(np.clip(np.round(2 + wealth + rng.normal(0, 1, n)), 0, 5)),
            "head_not_working": pa.array(rng.random(n) < 0.12, mask=rng.random(n) < 0.02),
            "floor_area_per_person": area / members,
            "tenure": pick(("Milik sendiri", "Kontrak", "Sewa", "Bebas sewa"), (1.2, 1.6, 2.0), 0.01),
            "floor": pick(("Tanah", "Bambu", "Kayu/papan", "Semen", "Keramik"), (-2.0, -1.7, -0.6, 0.2)),
            "wall": pick(("Bambu", "Kayu/papan", "Tembok tanpa plester", "Tembok"), (-2.0, -0.3, 0.2)),
            "roof": pick(("Daun/rumbia", "Seng", "Asbes", "Genteng", "Beton"), (-2.3, 0.8, 1.5, 2.4)),
            "drinking_water": pick(
                ("Air hujan", "Sumur tak terlindung", "Sumur terlindung", "Ledeng", "Air isi ulang"),
                (-2.2, -1.6, -0.5, 0.4),
            ),
            "sanitation": pick(("Tidak ada", "Umum", "Bersama", "Sendiri"), (-2.3, -1.7, -1.0)),
            "electricity": pick(("Tanpa listrik", "450 VA", "900 VA", "1300 VA", "2200 VA"), (-2.4, -0.6, 0.9, 1.7)),
            "cooking_fuel": pick(("Kayu bakar", "Minyak tanah", "Gas 3 kg", "Listrik"), (-2.0, -1.7, 2.0)),
            "owns_car": flag(n) < 1 / (1 + np.exp(-2 * (wealth - 1.9))),
            "motorcycles": pa.array(np.clip(np.round(0.9 + 0.5 * wealth + rng.normal(0, 0.7, n)), 0, 5)),
            "flag.civil_servant": flag(n) < 0.04,
            "flag.military_police": flag(n) < 0.01,
            "flag.pln_900va": flag(n) < 0.08,
            "flag.car_owner": flag(n) < 0.06,
        }
    )


def pipeline(table: pa.Table) -> dict[str, float]:
    marks: dict[str, float] = {}
    start = time.perf_counter()
    card = load_scorecard("multidimensi")
    result = score_families(card, table)
    marks["score (16 indicators, 13 available)"] = time.perf_counter() - start
    t = time.perf_counter()
    local = desil_within(
        result.score, table.column("kode_kabupaten"), tiebreak=table.column("desil").to_numpy(zero_copy_only=False)
    )
    marks["desil within regency"] = time.perf_counter() - t
    t = time.perf_counter()
    with_local = table.append_column("local_desil", pa.array(local.astype(np.int64)))
    eligible = {}
    for name, text in RULES.items():
        rule = compile_rule(text, FAMILY_SCHEMA)
        eligible[name] = rule.blame(with_local)
    marks["eligibility: 3 rules + deciding clause"] = time.perf_counter() - t
    marks["total (issue target < 10 s)"] = time.perf_counter() - start
    t = time.perf_counter()
    multidimensional_poverty(result, table.column("kode_desa"), persons=table.column("members").to_numpy())
    marks["MPI per village (H, A, M0, contributions)"] = time.perf_counter() - t
    return marks


def timed(label: str, function: Callable[[], Any]) -> tuple[str, float, Any]:
    start = time.perf_counter()
    value = function()
    return label, time.perf_counter() - start, value


WEB_RULE = "desil <= 4 and (school_age_children > 0 or children_under_5 > 0 or elderly > 0) and not flag.any"


def web(args: argparse.Namespace) -> None:
    """The targeting pages' work on a real instance: see the module docstring."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.config.settings")
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    elif args.sqlite:
        os.environ.pop("DATABASE_URL", None)
        os.environ["TEPAT_SQLITE"] = str(Path(args.sqlite).resolve())
    import django

    django.setup()
    from django.db import connection

    from tepat.accounts.models import Role, User
    from tepat.registry.models import Family, FamilyStatus, Membership, Person
    from tepat.targeting.cache import CACHE, data_stamp
    from tepat.targeting.models import ScoringRun
    from tepat.targeting.selectors import rule_dry_run
    from tepat.targeting.services import scores_run_execute
    from tepat.targeting.table import family_table_from_registry

    def user(name: str, role: str, area: str | None) -> User:
        found = User.objects.filter(username=name).first()
        return found or User.objects.create(username=name, role=role, area_id=area)

    admin = user("bench-admin", Role.TKPK_ADMIN, None)
    village = Family.objects.filter(status=FamilyStatus.ACTIVE).values_list("village_id", flat=True).first()
    operator = user("bench-desa", Role.VILLAGE_OPERATOR, village)
    families = Family.objects.filter(status=FamilyStatus.ACTIVE).count()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(
        f"machine: {machine}; backend: {connection.vendor}; persons: {Person.objects.count():,}; active families: "
        f"{families:,}; memberships: {Membership.objects.count():,}; repeats: {args.repeat}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    family_table_from_registry(families=Family.objects.filter(pk__lte=10))  # warm-up: imports (pyarrow → pandas)

    def measure(label: str, function: Callable[[], Any], repeat: int, before: Callable[[], Any] | None = None) -> None:
        walls, cpus = [], []
        for _ in range(repeat):
            if before is not None:
                before()
            wall, cpu = time.perf_counter(), time.process_time()
            function()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        print(
            f"| {connection.vendor} | {label} | {statistics.median(cpus) * 1000:,.0f} ms | "
            f"{statistics.median(walls) * 1000:,.0f} ms |"
        )

    measure("data stamp (the cache key)", data_stamp, 20)
    measure("family table from the registry (no cache)", family_table_from_registry, args.repeat)
    dry = lambda: rule_dry_run(actor=admin, expression=WEB_RULE)  # noqa: E731
    measure("dry run, whole region, cache emptied first (as before the cache)", dry, args.repeat, CACHE.clear)
    dry()
    builds = CACHE.builds
    measure("dry run, whole region, table cached", dry, max(args.repeat, 10))
    measure(
        "dry run, one village (village operator), table cached",
        lambda: rule_dry_run(actor=operator, expression=WEB_RULE),
        max(args.repeat, 10),
    )
    print(f"tables built during the cached runs: {CACHE.builds - builds} (expected 0)")
    kept = next(iter(CACHE.items.values()))
    print(f"cached region table: {len(kept):,} families, {kept.table.nbytes / 1e6:.1f} MB")

    def score() -> None:
        run = ScoringRun.objects.create(method="scorecard:multidimensi", scorecard="multidimensi", version="bench")
        scores_run_execute(run=run)

    CACHE.clear()
    measure("scores run (multidimensional), table not cached", score, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--families", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--survey-households", type=int, default=75_000)
    parser.add_argument("--skip-pmt", action="store_true")
    parser.add_argument("--web", action="store_true", help="time the Django side on an existing instance")
    parser.add_argument("--sqlite", default="", help="--web: the instance's SQLite file")
    parser.add_argument("--database-url", default="", help="--web: a PostgreSQL instance")
    args = parser.parse_args()
    if args.web:
        web(args)
        return
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"machine: {machine}; families: {args.families:,}; repeats: {args.repeat}")
    pipeline(family_table(20_000, seed=99))  # warm-up: lazy imports, kernel dispatch tables
    table = family_table(args.families)
    runs = [pipeline(table) for _ in range(args.repeat)]
    for stage in runs[0]:
        median = statistics.median(r[stage] for r in runs)
        print(f"| {args.families:,} families | {stage} | {median:.2f} s | {args.families / median:,.0f} families/s |")

    rng = np.random.default_rng(1)
    n = args.families
    families = Families(
        welfare=rng.lognormal(np.log(1_100_000), 0.6, n),
        size=table.column("members").to_numpy().astype(float),
        line=800_000,
        desil=table.column("desil").to_numpy(zero_copy_only=False),
    )
    programs = [
        Program("PKH", cost=3_000_000, budget=n * 600_000, value=250_000),
        Program("BPNT", cost=2_400_000, budget=n * 500_000, value=200_000),
        Program("RTLH", cost=20_000_000, budget=n * 800_000, value=600_000),
        Program("PIP", cost=1_000_000, budget=n * 100_000, value=80_000),
    ]
    desil = np.nan_to_num(families.desil, nan=99)
    eligibility = {"PKH": desil <= 4, "BPNT": desil <= 5, "RTLH": rng.random(n) < 0.3, "PIP": rng.random(n) < 0.4}
    label, seconds, allocation = timed(
        "allocate 4 programs (grouped MILP)", lambda: allocate(families, programs, eligibility)
    )
    served = f"{allocation.status}, {allocation.outcome.families:,} families served"
    print(f"| {n:,} families | {label}: {served} | {seconds:.2f} s | |")

    if args.skip_pmt:
        return
    from tepat.engine.pmt import FitOptions, fit_pmt, score_pmt
    from tepat.engine.pmt.synthetic import synthetic_survey

    with tempfile.TemporaryDirectory(prefix="tepat-bench-pmt-") as tmp:
        label, seconds, survey = timed(
            "write survey",
            lambda: synthetic_survey(Path(tmp) / "survey.csv", households=args.survey_households, seed=7),
        )
        size = f"{survey.persons:,} persons / {survey.households:,} households"
        print(f"| {size} | {label} | {seconds:.1f} s | |")
        options = FitOptions(household_id="id_rt", welfare="kapita", weight="bobot", exclude=("desil",))
        label, seconds, model = timed(
            "pmt fit (5-fold CV ridge + boosting, final fit)", lambda: fit_pmt(survey.path, options)
        )
        chosen = model["cv"]["candidates"][model["cv"]["chosen"]]
        figures = f"chosen {model['cv']['chosen']}, Spearman {chosen['spearman']:.3f}"
        print(f"| {size} | {label}; {figures} | {seconds:.1f} s | |")
        label, seconds, _ = timed("pmt score", lambda: score_pmt(model, survey.path))
        print(f"| {size} | {label} | {seconds:.1f} s | {survey.persons / seconds:,.0f} rows/s |")


if __name__ == "__main__":
    main()
