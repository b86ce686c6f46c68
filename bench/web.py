"""Benchmark: the pages people open every day, with a registry of a large regency on PostgreSQL (issue 7).

    .venv/bin/python bench/web.py --pg-dir /tmp/tepat/webperf-pg --port 54361 [--persons 1000000] [--requests 30]

Starts (or reuses) a PostgreSQL cluster kept in ``--pg-dir`` (fsync off, like scripts/pg-cluster.sh, but in a
folder that survives the run so the registry is built once), builds the registry the way bench/maps.py does (the
synthetic DTSEN extract and program lists imported through `tepat import`'s code path; skipped when the database
already holds families), then requests each page through Django's test client, logged in as the TKPK admin, a
district (kecamatan) user and a village operator: the region dashboard, a district's, the largest village's; the
family list of that village (first page; unserved poor; flagged); a family page; /peta/data.geojson at village level
for each indicator. Each URL once cold (the first request of a fresh process for that URL) and ``--requests``
times warm; prints median and p95 per URL and the database time of a warm request (the sum of the queries'
execution as Django measured it), so a loaded machine's noise can be told from the work.

Issue 7's targets: dashboard and village pages p95 under 300 ms; the map's GeoJSON for every village of the regency
under 500 ms, with 1,000,000 persons on PostgreSQL.

``--indexes`` first creates (by SQL, in the bench database only) the indexes proposed for the registry models.
``--stop`` stops the cluster at the end (it is kept otherwise).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from extract_parts import SPLIT  # bench/, the script's folder

from maps import run

# The indexes proposed for the registry models (see docs/benchmarks.md), created here by SQL so their effect can be
# measured before the models change; ``--drop-indexes`` removes them again to measure without.
INDEXES = {
    # Family.Meta.indexes: models.Index(fields=["village", "id"], condition=Q(status="active"), name=…): a village's
    # family list is an index range in list order (without it PostgreSQL walks the primary key until 50 rows of
    # the village turn up: 80–300 ms for a village whose ids come late).
    "family_active_village_id": "ON registry_family (village_id, id) WHERE status = 'active'",
    # Person.Meta.indexes: models.Index(fields=["id"], condition=Q(vital_status="deceased"), name=…): the dead
    # members of the flagged count without a scan of every person.
    "person_deceased": "ON registry_person (id) WHERE vital_status = 'deceased'",
}
INDEX = """
import django, json
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    for sql in STATEMENTS:
        cursor.execute(sql)
    cursor.execute("ANALYZE registry_family")
    cursor.execute("ANALYZE registry_person")
print(json.dumps({}))
"""

# The registry, built the way bench/maps.py builds it (the synthetic extract in parts, every program list, the
# exclusion list) plus the death and move lists, so that "flagged" includes members recorded dead as in a real
# registry. Each file is imported once: a build that stopped half-way (a list failing while other sessions edit
# the code) resumes with the files not yet committed. Then VACUUM ANALYZE, so the planner may answer from indexes
# alone (the visibility map) as on a database autovacuum has visited.
BUILD = """
import csv, json, time, resource, django
django.setup()
from pathlib import Path
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from tepat.areas.models import Area
from tepat.areas.services import areas_load
from tepat.engine.synth import SynthConfig, generate
from tepat.intake.models import ImportBatch
from tepat.intake.services import import_file
call_command("migrate", verbosity=0)
marks = {}
region = settings.TEPAT_REGION
if not Area.objects.filter(code=region).exists():
    t = time.perf_counter()
    areas_load(data_dir=Path(settings.DATA_DIR), boundaries=True, within=region)
    marks["areas"] = time.perf_counter() - t
out = Path(FOLDER) / "synth"
if not (out / "dtsen_extract.csv").exists():
    t = time.perf_counter()
    generate(SynthConfig(region=region, persons=PERSONS, seed=7),
             reference_dir=Path(settings.DATA_DIR) / "reference", out_dir=out)
    marks["synth"] = time.perf_counter() - t
SPLIT_EXTRACT
parts = sorted(out.glob("dtsen_extract_*.csv")) or split(out / "dtsen_extract.csv")  # uploads are capped at 250 MB
files = [(part, "dtsen") for part in parts] + [(path, "program") for path in sorted(out.glob("program_*.csv"))] + [
    (out / "exclusion_list.csv", "exclusion"), (out / "death_list.csv", "death"), (out / "moved_list.csv", "moved")]
done = set(ImportBatch.objects.filter(status="committed").values_list("file_name", flat=True))
for path, kind in files:
    if path.name in done:
        continue
    t = time.perf_counter()
    import_file(actor=None, path=path, kind=kind, source_name=path.stem)
    marks[f"import {path.name}"] = time.perf_counter() - t
if marks:
    t = time.perf_counter()
    connection.cursor().execute("VACUUM ANALYZE")
    marks["vacuum_analyze"] = time.perf_counter() - t
marks["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(marks))
""".replace("SPLIT_EXTRACT", SPLIT)

TIME = """
import json, os, statistics, time, django
django.setup()
from django.db import connection
from django.conf import settings
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from tepat.accounts.models import Role, User
from tepat.areas.models import Area, Level
from tepat.programs.models import Benefit
from tepat.registry.selectors import figures as selectors
from tepat.registry.models import Exclusion, Family, FamilyStatus, Membership, Person, VitalStatus
region = settings.TEPAT_REGION
facts = {"persons": Person.objects.count(), "families": Family.objects.filter(status=FamilyStatus.ACTIVE).count(),
         "memberships": Membership.objects.filter(active=True).count(), "benefits": Benefit.objects.count(),
         "exclusions": Exclusion.objects.count(),
         "deceased": Person.objects.filter(vital_status=VitalStatus.DECEASED).count(),
         "villages": Area.objects.filter(parent__parent_id=region).count()}
village, village_families = (Family.objects.filter(status=FamilyStatus.ACTIVE).values_list("village_id")
                             .annotate(n=Count("*")).order_by("-n").first())
district = village[:8]
district_families = Family.objects.filter(village__parent_id=district, status=FamilyStatus.ACTIVE).count()
family = Family.objects.filter(village_id=village, status=FamilyStatus.ACTIVE).order_by("pk")[100]
nik = Membership.objects.filter(family=family, active=True, person__nik__isnull=False).values_list(
    "person__nik", flat=True).first()
facts.update(village=village, village_families=village_families, district=district,
             district_families=district_families, family=family.pk)

def user(name, role, area=None):
    found = User.objects.filter(username=name).first()
    return found or User.objects.create_user(username=name, password="bench-password", role=role, area_id=area)

users = {"admin": user("bench-admin", Role.TKPK_ADMIN), "district": user("bench-district", Role.TKPK_ANALYST, district),
         "village": user("bench-village", Role.VILLAGE_OPERATOR, village)}
PAGES = [
    ("admin", "dashboard: regency", "/wilayah/"),
    ("admin", "dashboard: district", f"/wilayah/{district}/"),
    ("admin", "dashboard: village", f"/wilayah/{village}/"),
    ("admin", "families: village, page 1", f"/keluarga/?wilayah={village}"),
    ("admin", "families: village, page 5", f"/keluarga/?wilayah={village}&page=5"),
    ("admin", "families: village, unserved", f"/keluarga/?wilayah={village}&belum_terlayani=1"),
    ("admin", "families: village, flagged", f"/keluarga/?wilayah={village}&temuan=1"),
    ("admin", "families: regency, page 1", "/keluarga/"),
    ("admin", "families: regency, flagged", "/keluarga/?temuan=1"),
    ("admin", "family page", f"/keluarga/{family.pk}/"),
    ("admin", "search: regency, name", "/keluarga/?q=wahyuni"),
    ("admin", "search: regency, NIK", f"/keluarga/?q={nik}"),
    ("district", "dashboard: district", "/wilayah/"),
    ("district", "dashboard: village", f"/wilayah/{village}/"),
    ("district", "families: district, page 1", "/keluarga/"),
    ("district", "families: village, unserved", f"/keluarga/?wilayah={village}&belum_terlayani=1"),
    ("district", "family page", f"/keluarga/{family.pk}/"),
    ("village", "dashboard: village", "/wilayah/"),
    ("village", "families: village, page 1", "/keluarga/"),
    ("village", "families: village, unserved", "/keluarga/?belum_terlayani=1"),
    ("village", "families: village, flagged", "/keluarga/?temuan=1"),
    ("village", "family page", f"/keluarga/{family.pk}/"),
    ("village", "search: village, name", "/keluarga/?q=wahyuni"),
] + [("admin", f"map: villages, {i}", f"/peta/data.geojson?level=village&indicator={i}")
     for i in ("rate", "poor", "extreme", "flagged", "gap")] + [
    ("admin", "map: districts, rate", "/peta/data.geojson?level=district&indicator=rate"),
    ("district", "map: villages, gap", "/peta/data.geojson?level=village&indicator=gap"),
    ("village", "map: village, gap", "/peta/data.geojson?level=village&indicator=gap"),
]
ONLY = ONLY_PAGES
clients = {}
for name, u in users.items():
    clients[name] = Client(SERVER_NAME="127.0.0.1")
    clients[name].force_login(u)

def get(who, url):
    with CaptureQueriesContext(connection) as queries:
        t, cpu = time.perf_counter(), time.process_time()
        response = clients[who].get(url)
        elapsed, cpu = time.perf_counter() - t, time.process_time() - cpu
    assert response.status_code == 200, (url, response.status_code)
    db = sum(float(q["time"]) for q in queries.captured_queries)
    return elapsed, db, cpu, len(queries.captured_queries), len(response.content)

def p95(values):
    values = sorted(values)
    return values[max(0, round(0.95 * len(values)) - 1)]

results = {"facts": facts, "pages": []}
# The first request of the process counts the village figures (as the first page after an import would).
first = get("admin", "/wilayah/")
results["first"] = {"seconds": first[0], "db": first[1]}
print(json.dumps(results["first"]), flush=True)
for who, label, url in PAGES:
    if ONLY and not any(o in label for o in ONLY):
        continue
    cold = get(who, url)  # this URL's first request: templates, outlines and pockets not yet built for it
    warm = [get(who, url) for _ in range(REQUESTS)]
    results["pages"].append({"user": who, "label": label, "url": url, "cold": cold[0],
                             "median": statistics.median(w[0] for w in warm), "p95": p95([w[0] for w in warm]),
                             "db_median": statistics.median(w[1] for w in warm),
                             "cpu_median": statistics.median(w[2] for w in warm),
                             "queries": warm[-1][3], "bytes": warm[-1][4]})
    print(json.dumps(results["pages"][-1]), flush=True)
# After a change of the data: the figures are counted again by the first page that needs them.
refresh = []
for _ in range(3):
    selectors.forget_figures()
    refresh.append(get("admin", "/wilayah/"))
results["refresh"] = {"median": statistics.median(r[0] for r in refresh),
                      "db_median": statistics.median(r[1] for r in refresh)}
t = time.perf_counter()
selectors._count_villages(region)
results["refresh"]["count_villages"] = time.perf_counter() - t
results["load"] = os.getloadavg()
print(json.dumps(results))
"""


def cluster(pg_dir: Path, port: int) -> str:
    """Start the kept cluster (creating it the first time); PostgreSQL refuses root, so as root `postgres` owns it."""
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))[-1]
    as_owner = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    data = pg_dir / "data"
    if not data.exists():
        pg_dir.mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:
            subprocess.run(["chown", "postgres", str(pg_dir)], check=True)
        subprocess.run([*as_owner, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                        "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)  # fmt: skip
    status = subprocess.run([*as_owner, str(bindir / "pg_ctl"), "-D", str(data), "status"], capture_output=True)
    if status.returncode:
        options = f"-h 127.0.0.1 -p {port} -k {pg_dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        subprocess.run([*as_owner, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(pg_dir / "log"), "-w",
                        "-o", options, "start"], check=True, capture_output=True)  # fmt: skip
        psql = [str(bindir / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"]
        exists = subprocess.run([*psql, "-tAc", "SELECT 1 FROM pg_database WHERE datname = 'tepat'"],
                                capture_output=True, text=True)  # fmt: skip
        if exists.stdout.strip() != "1":
            subprocess.run([*psql, "-qc", "CREATE DATABASE tepat"], check=True)
    return f"postgres://postgres@127.0.0.1:{port}/tepat"


def stop(pg_dir: Path) -> None:
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))[-1]
    as_owner = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    subprocess.run([*as_owner, str(bindir / "pg_ctl"), "-D", str(pg_dir / "data"), "-m", "fast", "stop"], check=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--region", default="61.05", help="a regency with boundaries (61.05: 406 villages)")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--pg-dir", default="/tmp/tepat-bench-web-pg", help="where the kept cluster lives")
    parser.add_argument("--port", type=int, default=54361)
    parser.add_argument("--files", default=None, help="folder for the synthetic files (default: PG_DIR/files)")
    parser.add_argument("--indexes", action="store_true", help="create the proposed indexes first (by SQL)")
    parser.add_argument("--drop-indexes", action="store_true", help="drop the proposed indexes first")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated parts of page labels to time (default: all)")
    parser.add_argument("--stop", action="store_true", help="stop the cluster at the end")
    args = parser.parse_args()
    pg_dir = Path(args.pg_dir)
    url = cluster(pg_dir, args.port)
    folder = Path(args.files or pg_dir / "files")
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TEPAT_VAR_DIR": str(folder), "TEPAT_REGION": args.region, "DATABASE_URL": url,
           "DJANGO_SETTINGS_MODULE": "tepat.config.settings"}  # fmt: skip
    started = time.perf_counter()
    build = run(BUILD.replace("FOLDER", repr(str(folder))).replace("PERSONS", str(args.persons)), env)
    print(f"build: {json.dumps(build)} ({time.perf_counter() - started:.0f} s)", flush=True)
    if args.build_only:
        return
    if args.indexes or args.drop_indexes:
        statements = [f"CREATE INDEX IF NOT EXISTS bench_{name} {sql}" if args.indexes else
                      f"DROP INDEX IF EXISTS bench_{name}" for name, sql in INDEXES.items()]  # fmt: skip
        run(INDEX.replace("STATEMENTS", repr(statements)), env)
    only = [part.strip() for part in args.only.split(",") if part.strip()]
    timing = run(TIME.replace("REQUESTS", str(args.requests)).replace("ONLY_PAGES", repr(only)), env)
    if args.stop:
        stop(pg_dir)
    facts = timing["facts"]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {machine}; load average after the run (1, 5, 15 min): {load}")
    print(f"registry: {json.dumps(facts)}")
    first, refresh = timing["first"], timing["refresh"]
    print(
        f"first request of the process (village figures counted): {first['seconds'] * 1000:.0f} ms "
        f"({first['db'] * 1000:.0f} ms in the database); after a data change: {refresh['median'] * 1000:.0f} ms "
        f"(database {refresh['db_median'] * 1000:.0f} ms; counting alone {refresh['count_villages'] * 1000:.0f} ms)"
    )
    print("| user | page | first | median | p95 | database (median) | CPU (median) | queries |")
    print("|---|---|---|---|---|---|---|---|")
    for p in timing["pages"]:
        print(f"| {p['user']} | {p['label']} | {p['cold'] * 1000:.0f} ms | {p['median'] * 1000:.0f} ms | "
              f"{p['p95'] * 1000:.0f} ms | {p['db_median'] * 1000:.0f} ms | {p['cpu_median'] * 1000:.0f} ms | "
              f"{p['queries']} |")  # fmt: skip


if __name__ == "__main__":
    main()
