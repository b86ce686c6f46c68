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
from collections.abc import Callable
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


def _django(args: argparse.Namespace) -> None:
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    elif getattr(args, "sqlite", ""):
        os.environ["TEPAT_SQLITE"] = args.sqlite
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.config.settings")
    import django

    django.setup()


def _time_pages(label: str, urls: list[tuple[str, str]], repeat: int, *, after_change: Callable[[], None]) -> None:
    """Median times of each page: warm (snapshot current) and right after the data changed (``after_change()``
    imports a small list: the page shows the last snapshot, queues the refresh — the first view — or finds it
    queued — the next ones); the refresh itself is timed as the worker would run it."""
    from django.db import connection
    from django.test import Client

    from tepat.accounts.models import User
    from tepat.memory import keep_freed_memory
    from tepat.programs.models import AnalysisSnapshot, SnapshotStatus
    from tepat.programs.snapshot import snapshot_compute

    def work() -> float:
        keep_freed_memory()  # as `tepat db_worker` does (tepat.cli): this process runs the refreshes
        start = time.perf_counter()
        for snapshot in AnalysisSnapshot.objects.filter(status=SnapshotStatus.QUEUED).order_by("pk"):
            snapshot_compute(snapshot=snapshot)
        return time.perf_counter() - start

    client = Client(HTTP_HOST="localhost")  # a host ALLOWED_HOSTS accepts
    client.force_login(User.objects.get(username="admin"))
    for _label, url in urls:
        client.get(url)  # queues the snapshot when there is none
    work()
    times: dict[str, dict[str, list[float]]] = {u: {"warm": [], "first": [], "stale": []} for _l, u in urls}
    refresh: list[float] = []

    def timed(url: str) -> float:
        start = time.perf_counter()
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        return time.perf_counter() - start

    for _ in range(repeat):
        for _label, url in urls:
            timed(url)
            times[url]["warm"].append(timed(url))
        after_change()
        for _label, url in urls:
            times[url]["first"].append(timed(url))  # the first view queues the refresh
            times[url]["stale"].append(timed(url))
        refresh.append(work())
    snapshot = AnalysisSnapshot.objects.filter(status=SnapshotStatus.DONE).order_by("-finished_at").first()
    assert snapshot is not None
    stages = ", ".join(f"{k} {v:.2f} s" for k, v in snapshot.summary.get("seconds", {}).items())
    listed, areas = snapshot.summary.get("listed", 0), snapshot.summary.get("areas", 0)
    visible, prune = snapshot.summary.get("seconds_total", 0), snapshot.summary.get("seconds_prune", 0)
    print(f"{label}: refresh task median {statistics.median(refresh):.2f} s; last one: visible after {visible:.2f} s "
          f"({stages}), then old snapshot removed in {prune:.2f} s")  # fmt: skip
    print(f"{listed:,} families on lists, {areas:,} areas")
    print("| backend | page | warm | first view after a change (queues) | while refreshing |")
    for page_label, url in urls:
        cells = [f"{statistics.median(times[url][k]) * 1000:.0f} ms" for k in ("warm", "first", "stale")]
        print(f"| {connection.vendor} | {page_label} | {' | '.join(cells)} |")


IMPORTS = [0]  # a different list each time: an unchanged file would be skipped


def _one_ledger_row_each_time() -> Callable[[], None]:
    """A ledger row written directly (the scale run's registry has no import history to build on)."""
    from tepat.intake.models import ImportBatch
    from tepat.programs.models import Benefit, Program

    batch = ImportBatch.objects.order_by("pk").first()
    assert batch is not None

    def change() -> None:
        Benefit.objects.create(program=Program.objects.get(code="PKH"), period="2026-12", amount=1000, nik="1" * 16,
                               batch=batch)  # fmt: skip

    return change


def _small_import_each_time() -> Callable[[], None]:
    """A one-row recipient list, different each call."""
    import tempfile

    from tepat.accounts.models import User
    from tepat.intake.services import import_file
    from tepat.registry.models import Person

    admin = User.objects.get(username="admin")
    person = Person.objects.exclude(nik=None).order_by("pk").first()
    assert person is not None

    def change() -> None:
        IMPORTS[0] += 1
        counter = IMPORTS
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"bench-{counter[0]}.csv"
            path.write_text(f"program,periode,nik,nama,nominal\nBENCH,2026-{counter[0] % 12 + 1:02d},{person.nik},"
                            f"{person.name},{1000 + counter[0]}\n", encoding="utf-8")  # fmt: skip
            import_file(actor=admin, path=path, kind="program", source_name="bench")

    return change


def pages(args: argparse.Namespace) -> None:
    _django(args)
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count

    from tepat.accounts.models import User
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
    print(f"{connection.vendor}: {families:,} families, {rows:,} ledger rows; village {village} ({busiest['n']:,}); "
          f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
    urls = [
        (f"region {settings.TEPAT_REGION}", "/program/analisis/"),
        (f"district {district}", f"/program/analisis/{district}/"),
        (f"village {village} ({busiest['n']:,} families)", f"/program/analisis/{village}/"),
    ]
    _time_pages("demo", urls, args.repeat, after_change=_small_import_each_time())
    evaluation = [("evaluation meeting 2026", "/program/evaluasi/?tahun=2026")]
    _time_pages("demo", evaluation, args.repeat, after_change=_small_import_each_time())


# -- a province-sized registry written with SQL, for the refresh at 1,000,000 families ------------------------------
# code, rule, share of eligible families listed, share of the others listed, rows per family
SCALE_PROGRAMS: list[tuple[str, str, float, float, int]] = [
    ("PKH", "desil <= 4", 0.62, 0.05, 4), ("SEMBAKO", "desil <= 5", 0.60, 0.05, 6),
    ("PBI-JK", "desil <= 5", 0.72, 0.04, 2), ("PIP", "desil <= 4 and school_age_children > 0", 0.60, 0.03, 1),
    ("BLT-DD", "desil <= 1", 0.55, 0.02, 3), ("RTLH", "desil <= 5", 0.18, 0.01, 1),
    ("KUBE", "desil <= 4", 0.30, 0.03, 1), ("CSR-A", "desil <= 5", 0.25, 0.05, 2),
    ("CSR-B", "desil <= 6", 0.20, 0.05, 1), ("BAZNAS", "desil <= 4", 0.15, 0.01, 1),
]  # fmt: skip


def scale(args: argparse.Namespace) -> None:
    """Families, two members each, exclusion findings and ledger rows written with INSERT … SELECT (PostgreSQL),
    then the refresh task and the pages timed on them."""
    os.environ["TEPAT_REGION"] = args.region
    _django(args)
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from tepat.accounts.models import Role
    from tepat.accounts.services import user_create
    from tepat.areas.models import Area, Level
    from tepat.areas.services import areas_load
    from tepat.intake.models import ImportBatch, Source
    from tepat.programs.models import Program
    from tepat.registry.models import Family

    assert connection.vendor == "postgresql", "the scale run writes with PostgreSQL's generate_series"
    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    if not Family.objects.exists():
        from django.conf import settings

        areas_load(data_dir=Path(settings.DATA_DIR), boundaries=False, within=args.region)
        admin = user_create(actor=None, username="admin", password="bench-only-password", role=Role.TKPK_ADMIN)
        source = Source.objects.create(name="bench", kind="program")
        batch = ImportBatch.objects.create(source=source, kind="program", file_name="bench.csv", sha256="0",
                                           columns=[], status="committed", created_by=admin)  # fmt: skip
        villages = list(Area.objects.filter(code__startswith=args.region + ".", level=Level.VILLAGE)
                        .order_by("code").values_list("code", flat=True))  # fmt: skip
        _write_registry(connection, villages, args.families, batch.pk)
        for code, rule, *_rest in SCALE_PROGRAMS:
            Program.objects.update_or_create(code=code, defaults={"name": code, "eligibility_rule": rule})
        ids = dict(Program.objects.filter(code__in=[p[0] for p in SCALE_PROGRAMS]).values_list("code", "pk"))
        _write_ledger(connection, ids, args.rows, batch.pk)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"registry written in {time.perf_counter() - start:.0f} s")
    from tepat.programs.models import Benefit

    families = Family.objects.count()
    rows = Benefit.objects.count()
    busiest = Family.objects.values("village_id").annotate(n=Count("id")).order_by("-n").first()
    assert busiest is not None
    village = busiest["village_id"]
    print(f"{connection.vendor}: {families:,} families, {rows:,} ledger rows, region {args.region}; "
          f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
    urls = [
        (f"region {args.region}", "/program/analisis/"),
        (f"regency {village[:5]}", f"/program/analisis/{village[:5]}/"),
        (f"district {village[:8]}", f"/program/analisis/{village[:8]}/"),
        (f"village {village} ({busiest['n']:,} families)", f"/program/analisis/{village}/"),
    ]
    _time_pages(f"{families:,} families", urls, args.repeat, after_change=_one_ledger_row_each_time())


def _write_registry(connection: object, villages: list[str], n: int, batch: int) -> None:
    """n families spread over the villages (more in the first ones, as towns are), desil 1–10 (1 % unknown), a head
    born 1980 and a child born 2005–2020 in each, and an exclusion finding on 4 % of the heads."""
    with connection.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute("CREATE TEMP TABLE bench_village AS SELECT row_number() OVER () - 1 AS i, code "
                       "FROM unnest(%s::text[]) AS code", [villages])  # fmt: skip
        cursor.execute(
            """INSERT INTO registry_family (kk, kk_raw, kk_valid, kk_problems, source_key, village_id, status,
                   desil_national, lineage, created_batch_id, created_at, updated_at)
               SELECT lpad(g::text, 16, '0'), lpad(g::text, 16, '0'), true, '[]', 'F' || g, v.code, 'active',
                   CASE WHEN g %% 100 = 0 THEN NULL ELSE 1 + (g * 7919) %% 10 END, '{}', %s, now(), now()
               FROM generate_series(1::bigint, %s::bigint) AS g
               JOIN bench_village v
                 ON v.i = ((g * 2654435761) %% (SELECT count(*) FROM bench_village)) * (g %% 3 + 1) / 3""",
            [batch, n],
        )
        for offset, relationship in ((0, "kepala"), (1, "anak")):
            born = "'1980-01-01'::date" if offset == 0 else "make_date(2005 + (f.id %% 16)::int, 1, 1)"
            cursor.execute(
                f"""INSERT INTO registry_person (nik, nik_raw, nik_valid, nik_problems, name, sex, birth_place,
                       birth_date, mother_name, marital_status, education, occupation, vital_status, lineage,
                       created_batch_id, created_at, updated_at)
                    SELECT '64' || lpad((f.id * 2 + {offset})::text, 14, '0'), '', true, '[]', 'Orang ' || f.id,
                       'L', '', {born}, '', '', '', '',
                       CASE WHEN f.id %% 300 = 0 AND {offset} = 0 THEN 'deceased' ELSE 'alive' END, '{{}}', %s,
                       now(), now()
                    FROM registry_family f ORDER BY f.id""",
                [batch],
            )
            cursor.execute(
                f"""INSERT INTO registry_membership (family_id, person_id, relationship, position, active, conflict,
                       lineage, created_batch_id, created_at, updated_at)
                    SELECT f.id, p.id, '{relationship}', {offset}, true, false, '{{}}', %s, now(), now()
                    FROM registry_family f
                    JOIN registry_person p ON p.nik = '64' || lpad((f.id * 2 + {offset})::text, 14, '0')""",
                [batch],
            )
        cursor.execute(
            """INSERT INTO registry_exclusion (nik, kind, issuer, note, person_id, batch_id, created_at)
               SELECT p.nik, 'asn', 'bench', '', p.id, %s, now() FROM registry_person p WHERE p.id %% 25 = 0""",
            [batch],
        )


def _write_ledger(connection: object, programs: dict[str, int], rows: int, batch: int) -> None:
    """Rows per program from its eligible families (by desil) plus inclusion errors, several periods per family,
    scaled to about ``rows``; 2 % of rows name a NIK the registry does not know."""
    per_family = sum(p[4] * (0.5 * p[2] + 0.05) for p in SCALE_PROGRAMS)
    with connection.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute("SELECT count(*) FROM registry_family")
        families = int(cursor.fetchone()[0])
        scale_by = rows / max(1.0, families * per_family)
        for k, (code, rule, coverage, inclusion, reps) in enumerate(SCALE_PROGRAMS):
            ceiling = int(rule.split("<=")[1].split()[0])
            repeat = max(1, round(reps * scale_by))
            cursor.execute(
                f"""INSERT INTO programs_benefit (program_id, period, amount, nik, nik_raw, name, village_id,
                       person_id, batch_id, status, created_at)
                    SELECT %s, '2026-' || lpad((r %% 12 + 1)::text, 2, '0'), 200000, p.nik, p.nik, p.name,
                       f.village_id, CASE WHEN (f.id + r + {k}) %% 50 = 0 THEN NULL ELSE p.id END, %s, 'delivered',
                       now()
                    FROM registry_family f
                    JOIN registry_person p ON p.nik = '64' || lpad((f.id * 2)::text, 14, '0')
                    CROSS JOIN generate_series(1, %s) AS r
                    WHERE ((f.id * {31 + k}) %% 1000) < CASE WHEN f.desil_national <= %s THEN %s ELSE %s END""",
                [programs[code], batch, repeat, ceiling, int(1000 * coverage), int(1000 * inclusion)],
            )  # fmt: skip


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
    s = sub.add_parser("scale")
    s.add_argument("--database-url", required=True, help="an empty PostgreSQL database (or one a previous run wrote)")
    s.add_argument("--region", default="64", help="a province: regencies, districts and villages below it")
    s.add_argument("--families", type=int, default=1_000_000)
    s.add_argument("--rows", type=int, default=5_000_000)
    s.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    {"engine": engine, "pages": pages, "scale": scale}[args.what](args)


if __name__ == "__main__":
    main()
