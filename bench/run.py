"""Benchmarks: synthetic data generation and the DTSEN extract import into a fresh database.

    .venv/bin/python bench/run.py [--persons 190000] [--repeat 3] [--database-url postgres://…]

Each repeat builds a fresh database (SQLite file in a temp folder, or the given PostgreSQL database after
dropping its tables), loads the area code list, generates the synthetic registry and imports it, timing each
stage. Prints the median of the repeats per stage as a Markdown table row set for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEPAT = str(Path(sys.executable).with_name("tepat"))


def one_run(persons: int, database_url: str | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="tepat-bench-") as tmp:
        env = {**os.environ, "TEPAT_VAR_DIR": tmp, "TEPAT_SQLITE": f"{tmp}/bench.sqlite3"}
        env.pop("DATABASE_URL", None)
        if database_url:
            env["DATABASE_URL"] = database_url
            subprocess.run([TEPAT, "flush", "--no-input"], env=env, capture_output=True)
        script = f"""
import time, json, django
django.setup()
from pathlib import Path
from django.conf import settings
from django.core.management import call_command
from tepat.areas.services import areas_load
from tepat.engine.synth import SynthConfig, generate
from tepat.intake.services import import_file
marks = {{}}
t0 = time.perf_counter()
call_command("migrate", verbosity=0)
marks["migrate"] = time.perf_counter() - t0
t = time.perf_counter(); areas_load(data_dir=Path(settings.DATA_DIR), boundaries=False)
marks["areas_load"] = time.perf_counter() - t
t = time.perf_counter()
generate(SynthConfig(region="64.74", persons={persons}, seed=11), reference_dir=Path(settings.DATA_DIR) / "reference",
         out_dir=Path("{tmp}") / "synth")
marks["synth"] = time.perf_counter() - t
stages = {{}}
def progress(stage, done, total):
    stages.setdefault(stage, time.perf_counter())
t = time.perf_counter()
result = import_file(actor=None, path=Path("{tmp}") / "synth" / "dtsen_extract.csv", kind="dtsen",
                     source_name="bench", progress=progress)
end = time.perf_counter()
marks["import_total"] = end - t
marks["import_read_parse"] = stages.get("commit", end) - t  # read, keep, parse and write, a part at a time
marks["import_commit"] = end - stages.get("commit", end)  # indexes, changes, flags, report, transaction commit
marks["rows"] = result.counts["rows"]
print(json.dumps(marks))
"""
        env["DJANGO_SETTINGS_MODULE"] = "tepat.config.settings"
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=190_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    runs = [one_run(args.persons, args.database_url) for _ in range(args.repeat)]
    backend = "PostgreSQL" if args.database_url else "SQLite"
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"machine: {machine}; backend: {backend}; persons: {args.persons:,}; repeats: {args.repeat}")
    rows = runs[0]["rows"]
    for stage in ("migrate", "areas_load", "synth", "import_read_parse", "import_commit", "import_total"):
        median = statistics.median(r[stage] for r in runs)
        rate = f"{rows / median:,.0f} rows/s" if stage.startswith("import") else ""
        print(f"| {backend} | {args.persons:,} | {stage} | {median:.1f} s | {rate} |")


if __name__ == "__main__":
    main()
