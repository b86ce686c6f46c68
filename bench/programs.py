"""Benchmarks for the programs analyses: the engine over a province-sized ledger, and the analysis pages on a demo.

    .venv/bin/python bench/programs.py engine [--families 1000000] [--rows 5000000] [--programs 10] [--repeat 3]
    .venv/bin/python bench/programs.py pages [--database-url postgres://…] [--repeat 5]

Issue 6's targets: analyses for 1,000,000 families and 5,000,000 ledger rows refreshed in under 10 s; a village's
analysis page renders in under 300 ms (PostgreSQL).

``engine`` generates the arrays the registry hands to the engine for a province (~5,000 villages in 14 regencies):
families with desil (1 % unknown), school-age children and custodians' exclusion flags; ten programs of every
funder with rules over those columns; ledger rows drawn per program from its eligible families with coverage
30–75 % and 8–30 % inclusion errors, persons listed several times per family (PBI-JK per member, monthly lists),
2 % of rows with NIKs the registry does not know. A "refresh" is what the analyses page needs from scratch:
evaluate every program's rule (tepat.engine.rules), run tepat.engine.coverage.analyse, roll up to districts and
regencies, and order the exclusion and many-programs lists. Median of the repeats after a small warm-up.

``pages`` times the analysis page (selector + template) of the region, one district and one village with the
most families, computed from the database (cold: analyses cache emptied) and again from the cache (warm: data
unchanged), on an existing demo database (`tepat demo --no-serve`) or one built first with ``--build PERSONS``
(the demo builder on any database, PostgreSQL included), with `tepat.programs.demo.demo_programs` applied when
the demo builder does not call it yet, through Django's test client as the TKPK admin.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tepat.engine.coverage import Families, Ledger, Programs, analyse
from tepat.engine.rules import compile_rule
from tepat.engine.scorecard import FAMILY_SCHEMA

#        code        rule                                                 coverage inclusion rows/family
PROGRAMS = [
    ("PKH", "desil <= 4 and school_age_children > 0", 0.62, 0.10, 1, ("inpres.beban", "pmdn.beban")),
    ("SEMBAKO", "desil <= 5", 0.60, 0.10, 3, ("inpres.beban", "pmdn.beban")),
    ("PBI-JK", "desil <= 5", 0.72, 0.08, 4, ("inpres.beban", "pmdn.beban")),
    ("PIP", "desil <= 4 and school_age_children > 0", 0.60, 0.12, 1, ("inpres.beban",)),
    ("BLT-DD", "desil <= 1", 0.55, 0.15, 3, ("inpres.beban",)),
    ("RTLH", "desil <= 5 and not flag.any", 0.18, 0.08, 1, ("inpres.kantong",)),
    ("KUBE", "desil <= 4", 0.30, 0.20, 1, ("inpres.pendapatan", "pmdn.umk")),
    ("CSR-A", "desil <= 5", 0.25, 0.30, 2, ("pmdn.sinergi",)),
    ("CSR-B", "desil <= 6", 0.20, 0.25, 1, ("pmdn.sinergi",)),
    ("BAZNAS", "desil <= 4", 0.15, 0.10, 1, ("inpres.beban",)),
]


def province(n: int, seed: int = 0) -> tuple[pa.Table, np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    villages = [f"61.{r:02d}.{d:02d}.{2001 + v:04d}" for r in range(1, 15) for d in range(1, 19) for v in range(20)]
    village = rng.integers(0, len(villages), n)
    desil = rng.integers(1, 11, n)
    flags = rng.random(n) < 0.04
    table = pa.table(
        {
            "desil": pa.array(desil, mask=rng.random(n) < 0.01),
            "school_age_children": rng.poisson(1.0, n).astype(np.int64),
            "flag.any": flags,
        }
    )
    return table, village, villages


def ledger_for(eligible: np.ndarray, rows: int, seed: int = 1) -> Ledger:
    """Rows per program from its eligible families (coverage) plus inclusion errors, scaled to ``rows``."""
    rng = np.random.default_rng(seed)
    n = eligible.shape[1]
    families_per_program = []
    for p, (_code, _rule, coverage, inclusion, per_family, _tags) in enumerate(PROGRAMS):
        chosen = np.flatnonzero(eligible[p] & (rng.random(n) < coverage))
        wrong = np.flatnonzero(~eligible[p])
        extra = rng.choice(wrong, size=min(len(wrong), int(len(chosen) * inclusion / (1 - inclusion))), replace=False)
        families_per_program.append((np.concatenate([chosen, extra]), per_family))
    base = sum(len(f) * k for f, k in families_per_program)
    scale = rows / base
    program, family = [], []
    for p, (fams, per_family) in enumerate(families_per_program):
        repeat = max(1, round(per_family * scale))
        program.append(np.full(len(fams) * repeat, p, dtype=np.int64))
        family.append(np.repeat(fams, repeat))
    prog = np.concatenate(program)[:rows]
    fam = np.concatenate(family)[:rows].astype(np.int64)
    if len(prog) < rows:  # rounding of the repeats: top up with further periods of listed families
        extra = rng.integers(0, len(prog), rows - len(prog))
        prog, fam = np.concatenate([prog, prog[extra]]), np.concatenate([fam, fam[extra]])
    unknown = rng.random(len(fam)) < 0.02
    fam[unknown] = -1
    return Ledger(
        program=prog,
        family=fam,
        village=np.where(unknown, rng.integers(0, 5040, len(fam)), -1),
        amount=rng.choice([42_000.0, 200_000.0, 300_000.0, 750_000.0, np.nan], len(fam)),
        deceased=rng.random(len(fam)) < 0.003,
    )


def refresh(table: pa.Table, village: np.ndarray, villages: list[str], ledger: Ledger) -> dict[str, float]:
    marks: dict[str, float] = {}
    start = time.perf_counter()
    eligible = np.zeros((len(PROGRAMS), table.num_rows), dtype=bool)
    for p, (_code, rule, *_rest) in enumerate(PROGRAMS):
        eligible[p] = compile_rule(rule, FAMILY_SCHEMA).evaluate(table)
    marks["eligibility: 10 rules"] = time.perf_counter() - start
    t = time.perf_counter()
    desil = np.nan_to_num(table.column("desil").to_numpy(zero_copy_only=False).astype(float), nan=0).astype(np.int8)
    families = Families(village=village, desil=desil, flagged=table.column("flag.any").to_numpy(), villages=villages)
    programs = Programs(codes=[p[0] for p in PROGRAMS], eligible=eligible, strategies=[p[5] for p in PROGRAMS])
    result = analyse(families, ledger, programs)
    marks["analyse: coverage, leakage, exclusion, overlaps, per village"] = time.perf_counter() - t
    t = time.perf_counter()
    for length in (5, 8):
        codes, mapping = result.groups(length)
        for table_ in (*result.by_program.values(), *result.by_area.values(), result.amount):
            result.rollup(table_, mapping, len(codes))
    for p in range(len(PROGRAMS)):
        result.excluded_families(p)
    result.excluded_families(None)
    result.many_program_families()
    marks["roll-ups (districts, regencies) and ordered lists"] = time.perf_counter() - t
    marks["total refresh (issue target < 10 s)"] = time.perf_counter() - start
    return marks


def engine(args: argparse.Namespace) -> None:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"machine: {machine}; families: {args.families:,}; ledger rows: {args.rows:,}; repeats: {args.repeat}")
    small, small_village, small_villages = province(20_000, seed=9)
    small_eligible = np.stack([compile_rule(p[1], FAMILY_SCHEMA).evaluate(small) for p in PROGRAMS])
    refresh(small, small_village, small_villages, ledger_for(small_eligible, 100_000))  # warm-up
    t = time.perf_counter()
    table, village, villages = province(args.families)
    eligible = np.stack([compile_rule(p[1], FAMILY_SCHEMA).evaluate(table) for p in PROGRAMS])
    ledger = ledger_for(eligible, args.rows)
    print(f"generated in {time.perf_counter() - t:.1f} s: {len(ledger):,} ledger rows, {len(villages):,} villages")
    runs = [refresh(table, village, villages, ledger) for _ in range(args.repeat)]
    size = f"{args.families:,} families, {len(ledger):,} rows"
    for stage in runs[0]:
        median = statistics.median(r[stage] for r in runs)
        print(f"| {size} | {stage} | {median:.2f} s |")


def pages(args: argparse.Namespace) -> None:
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    elif args.sqlite:
        os.environ["TEPAT_SQLITE"] = args.sqlite
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from tepat.accounts.models import User
    from tepat.programs.analysis import CACHE
    from tepat.programs.demo import demo_programs
    from tepat.programs.models import Benefit, Program
    from tepat.registry.models import Family

    if args.build:
        from tepat.web.demo import demo_build

        start = time.perf_counter()
        demo_build(persons=args.build, seed=2024, progress=lambda *_: None)
        print(f"demo registry of {args.build:,} persons built in {time.perf_counter() - start:.0f} s")
    admin = User.objects.get(username="admin")
    if not Program.objects.filter(code="CSR-SKN").exists():
        demo_programs(admin=admin)
    families = Family.objects.count()
    rows = Benefit.objects.count()
    busiest = Family.objects.values("village_id").annotate(n=Count("id")).order_by("-n").first()
    assert busiest is not None
    village = busiest["village_id"]
    district = village[:8]
    client = Client(HTTP_HOST="localhost")  # a host ALLOWED_HOSTS accepts
    client.force_login(admin)
    print(f"{connection.vendor}: {families:,} families, {rows:,} ledger rows; village {village} ({busiest['n']:,})")
    for label, url in (
        (f"region {settings.TEPAT_REGION}", "/program/analisis/"),
        (f"district {district}", f"/program/analisis/{district}/"),
        (f"village {village} ({busiest['n']:,} families)", f"/program/analisis/{village}/"),
    ):
        client.get(url)  # warm-up
        cold, warm = [], []
        for _ in range(args.repeat):
            CACHE.clear()
            for times in (cold, warm):  # computed from the database, then from the analyses cache
                start = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - start)
                assert response.status_code == 200, response.status_code
        cold_ms, warm_ms = statistics.median(cold) * 1000, statistics.median(warm) * 1000
        print(f"| {connection.vendor} | {label} | {cold_ms:.0f} ms | {warm_ms:.0f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="what", required=True)
    e = sub.add_parser("engine")
    e.add_argument("--families", type=int, default=1_000_000)
    e.add_argument("--rows", type=int, default=5_000_000)
    e.add_argument("--repeat", type=int, default=3)
    p = sub.add_parser("pages")
    p.add_argument("--database-url", default="")
    p.add_argument("--sqlite", default="", help="path of the demo's SQLite file (default: the settings' one)")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--build", type=int, default=0, help="first build the demo with this many persons (any database)")
    args = parser.parse_args()
    engine(args) if args.what == "engine" else pages(args)


if __name__ == "__main__":
    main()
