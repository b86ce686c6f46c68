"""Benchmark: a person list (the DESIGN template) from file to committed registry.

    .venv/bin/python bench/intake.py --rows 1000000 --format csv [--database-url postgres://…]

Builds a synthetic Bontang population of the requested size, writes it as a person list (CSV or XLSX), then
imports it with `tepat import`'s code path (stage, read + keep raw rows, parse + validate, commit) into a fresh
database that holds only the area codes. Prints seconds and rows/s per stage and the peak memory (RSS).
Issue 3's target: 1,000,000 rows in under 60 s on SQLite and 45 s on PostgreSQL, under 2 GB.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = ["record_id", "nik", "no_kk", "nama", "jenis_kelamin", "tempat_lahir", "tanggal_lahir",
            "hubungan_keluarga", "nama_ibu_kandung", "alamat", "rt", "rw", "kode_desa"]  # fmt: skip
FROM_EXTRACT = {"record_id": None, "no_kk": "no_kk"}


def make_list(rows: int, fmt: str, folder: Path) -> Path:
    from tepat.engine.synth import SynthConfig, generate

    generate(SynthConfig(region="64.74", persons=rows, seed=5), reference_dir=Path("data/reference"),
             out_dir=folder / "synth")  # fmt: skip
    source = folder / "synth" / "dtsen_extract.csv"
    target = folder / f"persons.{fmt}"
    with source.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        records = ([str(i)] + [row[c] for c in TEMPLATE[1:]] for i, row in enumerate(reader, start=1))
        if fmt == "csv":
            with target.open("w", encoding="utf-8", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(TEMPLATE)
                writer.writerows(records)
        else:
            import xlsxwriter

            book = xlsxwriter.Workbook(str(target), {"constant_memory": True})
            sheet = book.add_worksheet("Data")
            sheet.write_row(0, 0, TEMPLATE)
            for r, record in enumerate(records, start=1):
                sheet.write_row(r, 0, record)
            book.close()
    return target


IMPORT = """
import json, time, resource, django
django.setup()
from pathlib import Path
from django.conf import settings
from django.core.management import call_command
from tepat.areas.services import areas_load
from tepat.intake.services import import_file
call_command("migrate", verbosity=0)
areas_load(data_dir=Path(settings.DATA_DIR), boundaries=False)
marks = {}
def progress(stage, done, total):
    marks.setdefault(stage, time.perf_counter())
t0 = time.perf_counter()
outcome = import_file(actor=None, path=Path(PATH), kind="person", source_name="bench", progress=progress)
end = time.perf_counter()
print(json.dumps({"total": end - t0, "read": marks.get("parse", end) - t0,
                  "parse": marks.get("commit", end) - marks.get("parse", end), "commit": end - marks.get("commit", end),
                  "rows": outcome.batch.counts["rows"], "persons_new": outcome.batch.counts.get("persons_new"),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tepat-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        path = make_list(args.rows, args.format, folder)
        made = time.perf_counter() - started
        size_mb = path.stat().st_size / 1e6
        env = {**os.environ, "TEPAT_VAR_DIR": tmp, "TEPAT_SQLITE": f"{tmp}/bench.sqlite3",
               "DJANGO_SETTINGS_MODULE": "tepat.config.settings"}  # fmt: skip
        env.pop("DATABASE_URL", None)
        if args.database_url:
            env["DATABASE_URL"] = args.database_url
        out = subprocess.run([sys.executable, "-c", IMPORT.replace("PATH", repr(str(path)))], env=env,
                             capture_output=True, text=True)  # fmt: skip
        if out.returncode:
            sys.exit(out.stderr[-3000:])
        result = json.loads(out.stdout.strip().splitlines()[-1])
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{backend}, {args.format}, {result['rows']:,} rows (file made in {made:.0f} s, "
          f"{size_mb:.0f} MB): peak RSS {result['peak_rss_mb']:.0f} MB")  # fmt: skip
    for stage in ("read", "parse", "commit", "total"):
        print(f"| {backend} | {args.format} | {result['rows']:,} | {stage} | {result[stage]:.1f} s | "
              f"{result['rows'] / max(result[stage], 1e-9):,.0f} rows/s |")  # fmt: skip


if __name__ == "__main__":
    main()
