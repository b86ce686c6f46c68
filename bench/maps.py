"""Benchmark: the poverty map's GeoJSON for every village of a large regency with a large registry.

    .venv/bin/python bench/maps.py --persons 1000000 --region 61.05 [--database-url postgres://…] [--keep DIR]

Builds a registry the way a regency gets one (the synthetic DTSEN extract, every program's recipient list and the
exclusion matches, imported through `tepat import`'s code path into a database holding the area codes and the
region's boundaries), then requests /peta/data.geojson through Django's test client as the TKPK admin: once cold
(fresh process: outlines built, PySAL imported, pockets computed) and ``--requests`` times warm per indicator, and
a few times with the pockets recomputed (values changed) and with the village figures counted again (as after an
import: `registry.selectors.village_figures` keeps them per data stamp). Prints median and p95 as Markdown rows for
docs/benchmarks.md. Issue 7's target: under 500 ms with 1,000,000 persons on PostgreSQL. bench/web.py times the
map together with the dashboard and family pages, for three roles, on a kept PostgreSQL cluster.

``--keep DIR`` keeps (or reuses) the SQLite database and synthetic files in DIR, so timings can be repeated without
importing again; with ``--database-url`` the database is reused when it already holds families.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from extract_parts import SPLIT  # bench/, the script's folder

BUILD = """
import json, time, resource, django
django.setup()
from pathlib import Path
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from tepat.areas.services import areas_load
from tepat.engine.synth import SynthConfig, generate
from tepat.intake.services import import_file
from tepat.registry.models import Family
call_command("migrate", verbosity=0)
marks = {}
SPLIT_EXTRACT
if not Family.objects.exists():
    region = settings.TEPAT_REGION
    t = time.perf_counter()
    areas_load(data_dir=Path(settings.DATA_DIR), boundaries=True, within=region)
    marks["areas"] = time.perf_counter() - t
    out = Path(FOLDER) / "synth"
    t = time.perf_counter()
    if not (out / "dtsen_extract.csv").exists():
        generate(SynthConfig(region=region, persons=PERSONS, seed=7),
                 reference_dir=Path(settings.DATA_DIR) / "reference", out_dir=out)
    marks["synth"] = time.perf_counter() - t
    t = time.perf_counter()
    for part in split(out / "dtsen_extract.csv"):  # uploads are capped at 250 MB: a regency sends parts
        import_file(actor=None, path=part, kind="dtsen", source_name="DTSEN (sintetis)")
    marks["import_dtsen"] = time.perf_counter() - t
    t = time.perf_counter()
    for path in sorted(out.glob("program_*.csv")):
        import_file(actor=None, path=path, kind="program", source_name=path.stem)
    import_file(actor=None, path=out / "exclusion_list.csv", kind="exclusion", source_name="pengecualian")
    marks["import_lists"] = time.perf_counter() - t
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
marks["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(marks))
""".replace("SPLIT_EXTRACT", SPLIT)

TIME = """
import json, statistics, time, django
django.setup()
from django.conf import settings
from django.test import Client
from tepat.accounts.models import Role, User
from tepat.areas.models import Area, Level
from tepat.maps import selectors
from tepat.registry.selectors import forget_figures
from tepat.programs.models import Benefit
from tepat.registry.models import Exclusion, Family, Membership, Person
user = User.objects.filter(username="bench-admin").first() or User.objects.create_user(
    username="bench-admin", password="bench-admin-password", role=Role.TKPK_ADMIN)
client = Client(SERVER_NAME="127.0.0.1")
client.force_login(user)
region = settings.TEPAT_REGION
facts = {"persons": Person.objects.count(), "families": Family.objects.count(),
         "memberships": Membership.objects.count(), "benefits": Benefit.objects.count(),
         "exclusions": Exclusion.objects.count(),
         "villages": Area.objects.filter(code__startswith=region + ".", level=Level.VILLAGE).count()}
def get(indicator):
    t = time.perf_counter()
    response = client.get("/peta/data.geojson", {"level": "village", "indicator": indicator})
    elapsed = time.perf_counter() - t
    assert response.status_code == 200, response.status_code
    return elapsed, len(response.content), len(json.loads(response.content)["features"])
results = {"facts": facts, "indicators": {}}
cold, size, features = get("rate")
results["cold"] = {"seconds": cold, "bytes": size, "features": features}
for indicator in ("rate", "poor", "extreme", "flagged", "gap"):
    get(indicator)
    times = sorted(get(indicator)[0] for _ in range(REQUESTS))
    fresh, counted = [], []
    for _ in range(3):
        selectors._pockets.clear()
        fresh.append(get(indicator)[0])
    for _ in range(3):
        forget_figures()  # as after an import: the village figures are counted again
        counted.append(get(indicator)[0])
    results["indicators"][indicator] = {
        "median": statistics.median(times), "p95": times[max(0, round(0.95 * len(times)) - 1)],
        "pockets_recomputed_median": statistics.median(fresh), "figures_counted_median": statistics.median(counted)}
t = time.perf_counter()
page = client.get("/peta/", {"level": "village", "indicator": "rate"})
results["page_seconds"] = time.perf_counter() - t
assert page.status_code == 200
print(json.dumps(results))
"""


def run(script: str, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    if out.returncode:
        sys.exit(out.stderr[-4000:])
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--region", default="61.05", help="a regency with boundaries (61.05: 406 villages)")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--keep", default=None, help="folder to keep and reuse the SQLite database and files")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tepat-bench-maps-") as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "TEPAT_VAR_DIR": str(folder), "TEPAT_SQLITE": str(folder / "bench.sqlite3"),
               "TEPAT_REGION": args.region, "DJANGO_SETTINGS_MODULE": "tepat.config.settings"}  # fmt: skip
        env.pop("DATABASE_URL", None)
        if args.database_url:
            env["DATABASE_URL"] = args.database_url
        build = run(BUILD.replace("FOLDER", repr(str(folder))).replace("PERSONS", str(args.persons)), env)
        timing = run(TIME.replace("REQUESTS", str(args.requests)), env)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    facts, cold = timing["facts"], timing["cold"]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {machine}; load average after the run (1, 5, 15 min): {load}; backend: {backend}")
    print(f"build: {json.dumps(build)}")
    print(f"registry: {json.dumps(facts)}")
    print(f"cold request (fresh process): {cold['seconds'] * 1000:.0f} ms, {cold['bytes'] / 1e3:.0f} kB, "
          f"{cold['features']} features; page /peta/ {timing['page_seconds'] * 1000:.0f} ms")  # fmt: skip
    print("| backend | persons | villages | indicator | median | p95 | pockets recomputed | figures counted again |")
    for indicator, t in timing["indicators"].items():
        print(f"| {backend} | {facts['persons']:,} | {facts['villages']} | {indicator} | {t['median'] * 1000:.0f} ms | "
              f"{t['p95'] * 1000:.0f} ms | {t['pockets_recomputed_median'] * 1000:.0f} ms | "
              f"{t['figures_counted_median'] * 1000:.0f} ms |")  # fmt: skip


if __name__ == "__main__":
    main()
