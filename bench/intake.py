"""Benchmark: a person list (the DESIGN template) from file to committed registry.

    .venv/bin/python bench/intake.py --rows 1000000 --format csv [--database-url postgres://…] [--list FILE]
        [--again | --web]

Builds a synthetic Bontang population of the requested size, writes it as a person list (CSV or XLSX), then imports
it with `tepat import`'s code path (stage; read, keep the raw rows, parse, validate and write the registry rows in
one pass; finish the commit) into a fresh database that holds only the area codes; `--again` then imports the same
rows once more, where every person is matched and nothing is new; `--web` validates (with the preview) and then
commits, as the web application's worker does, instead of `tepat import`'s one call. Prints per stage the wall time,
the CPU seconds of the importing process (all its threads: on PostgreSQL the bulk writer thread works beside the
parser) and of its main thread, rows/s, the peak memory (RSS) and the load average; and the CPU seconds and peak
memory of the process that reads and parses a large list beside the importing one (``intake.parsing.ChildReader``),
and the CPU seconds of the PostgreSQL server process. The machine may be shared: wall times under load say little.
`--database-url` must name an empty database (it is refused when it holds persons).
`--list FILE` imports an existing list instead of making one (`--keep DIR` keeps the one made). `--repeat N` imports
it N times, each into a fresh database (on PostgreSQL with `--recreate`, which drops and creates the database the
URL names), and ends with the median of each stage: the machine's speed moves between identical runs. Each run
starts and ends with a calibration (a fixed single-threaded Python workload, median of 5, in ms): this virtual
machine's CPU speed moved by a third between sessions, and the calibration says which speed a figure was taken at.
Issue 3's target: 1,000,000 rows in under 60 s on SQLite and 45 s on PostgreSQL, under 2 GB.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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
import json, os, time, resource, django
django.setup()
from pathlib import Path
from django.conf import settings
from django.core.management import call_command
from tepat.areas.services import areas_load
from tepat.intake.services import import_file
from tepat.memory import keep_freed_memory
keep_freed_memory()  # as `tepat import` and the worker do (tepat.cli)
call_command("migrate", verbosity=0)
from tepat.registry.models import Person
if Person.objects.exists():
    raise SystemExit("the database holds persons already: give the benchmark an empty one")
areas_load(data_dir=Path(settings.DATA_DIR), boundaries=False)
marks = {}
peaks = {}
together = [0.0]
ticks = [0]
def pss(pid):  # proportional set size (MB): pages shared by the two processes after the fork counted once in all
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            return sum(int(line.split()[1]) for line in fh if line.startswith("Pss:")) / 1024
    except OSError:
        return 0.0
def sample():  # the peak RSS of each stage, and of this process and its reading process together, from /proc (Linux)
    page = os.sysconf("SC_PAGE_SIZE")
    while True:
        with open("/proc/self/statm") as fh:
            rss = int(fh.read().split()[1]) * page / 2**20
        stage = max(marks, key=lambda name: marks[name][0]) if marks else "read"
        peaks[stage] = max(peaks.get(stage, 0), rss)
        ticks[0] += 1
        if ticks[0] % 8 == 0:  # every 2 s: reading smaps of a 2 GB process costs CPU
            with open(f"/proc/self/task/{os.getpid()}/children") as fh:
                children = fh.read().split()
            together[0] = max(together[0], pss(os.getpid()) + sum(pss(child) for child in children))
        time.sleep(0.25)
import threading
threading.Thread(target=sample, daemon=True).start()
def clock():
    return (time.perf_counter(), time.process_time(), time.thread_time())
def progress(stage, done, total):
    marks.setdefault(stage, clock())
from django.db import connection
def server_cpu():  # the PostgreSQL backend's CPU seconds (same machine), from /proc
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
server_before = server_cpu()
start = clock()
load = os.getloadavg()[0]
web = None
if WEB:  # the web application's flow, as the worker runs it: validate (with the preview), then commit
    from tepat.intake.services import import_commit, import_stage, import_validate
    batch = import_stage(actor=None, path=Path(PATH), kind="person", source_name="bench")
    import_validate(batch=batch, progress=progress)
    validated = clock()
    batch.refresh_from_db()
    import_commit(actor=None, batch=batch, valid_only=True)
    end = clock()
    batch.refresh_from_db()
    outcome = type("Outcome", (), {"batch": batch})
    web = [[validated[i] - start[i] for i in range(3)], [end[i] - validated[i] for i in range(3)]]
else:
    outcome = import_file(actor=None, path=Path(PATH), kind="person", source_name="bench", progress=progress)
    end = clock()
children = resource.getrusage(resource.RUSAGE_CHILDREN)
reader_cpu = children.ru_utime + children.ru_stime  # the reading process (intake.parsing.ChildReader)
server = server_cpu() - server_before
again = None
if AGAIN:  # the same rows once more (one more byte, so not the same file): every person is matched
    copy = Path(os.environ["TEPAT_VAR_DIR"]) / ("again" + Path(PATH).suffix)
    copy.write_bytes(Path(PATH).read_bytes() + b"\\n")
    first = clock()
    second = import_file(actor=None, path=copy, kind="person", source_name="bench (again)")
    again = [clock()[i] - first[i] for i in range(3)] + [second.batch.counts.get("persons_unchanged", 0)]
stages = {"read": (start, marks.get("parse", end)), "parse": (marks.get("parse", end), marks.get("commit", end)),
          "commit": (marks.get("commit", end), end), "total": (start, end)}
print(json.dumps({name: [b[i] - a[i] for i in range(3)] for name, (a, b) in stages.items()} | {
    "rows": outcome.batch.counts["rows"], "persons_new": outcome.batch.counts.get("persons_new"),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "reader_rss_mb": children.ru_maxrss / 1024, "reader_cpu": reader_cpu, "server_cpu": server,
    "pss_mb": together[0],
    "load": [load, os.getloadavg()[0]], "peaks": peaks, "again": again, "web": web}))
"""


def calibrate() -> float:
    """The median wall time (ms) of 5 runs of a fixed single-threaded workload of the kind the import does (str,
    dict, list): lower is a faster machine. Runs measured with different calibrations are not comparable."""

    def work() -> int:
        seen: dict[str, int] = {}
        for i in range(200_000):
            text = str(i * 7919)
            seen[text[::-1] + "-"] = len(text.split("9"))
        return len(seen)

    times = []
    for _ in range(5):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return median(times)


def _recreate(url: str) -> None:
    """Drop and create the database ``url`` names (``--recreate``: each run of a series starts from empty)."""
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    maintenance = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _run(args: argparse.Namespace, path: Path, tmp: str, run: int) -> dict[str, Any]:
    """One import in a fresh process (and a fresh database); its measurements."""
    sqlite = Path(tmp) / f"bench-{run}.sqlite3"
    env = {**os.environ, "TEPAT_VAR_DIR": tmp, "TEPAT_SQLITE": str(sqlite),
           "DJANGO_SETTINGS_MODULE": "tepat.config.settings"}  # fmt: skip
    env.pop("DATABASE_URL", None)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
        if args.recreate:
            _recreate(args.database_url)
    before = calibrate()
    script = IMPORT.replace("PATH", repr(str(path))).replace("AGAIN", repr(args.again))
    script = script.replace("WEB", repr(args.web))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    for leftover in Path(tmp).glob(f"{sqlite.name}*"):  # the database and its WAL: a million rows take ~1 GB
        leftover.unlink()
    if out.returncode:
        sys.exit(out.stderr[-3000:])
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "calibration": (before, calibrate())}


LABELS = {"read": "stage the file, open it, first rows",
          "parse": "read + keep raw rows + parse + validate + write the registry rows",
          "commit": "finish: changes, flags, report, transaction commit", "total": "total"}  # fmt: skip


def _report(result: dict[str, Any], backend: str, fmt: str, made: float, size_mb: float) -> None:
    print(f"{backend}, {fmt}, {result['rows']:,} rows (file made in {made:.0f} s, {size_mb:.0f} MB): peak RSS "
          f"{result['peak_rss_mb']:.0f} MB, load average {result['load'][0]:.1f} at the start, "
          f"{result['load'][1]:.1f} at the end; peak RSS by stage (MB): "
          f"{', '.join(f'{k} {v:.0f}' for k, v in result['peaks'].items())}; calibration "
          f"{result['calibration'][0]:.0f} ms before, {result['calibration'][1]:.0f} ms after")  # fmt: skip
    print(f"reading process: {result['reader_cpu']:.1f} s CPU, peak RSS {result['reader_rss_mb']:.0f} MB (0: read in "
          f"the importing process); both processes together at most {result['pss_mb']:.0f} MB (PSS: shared pages "
          f"once); PostgreSQL server process: {result['server_cpu']:.1f} s CPU (its parallel index workers not "
          "counted)")  # fmt: skip
    print("| backend | format | rows | stage | wall | CPU (process) | CPU (main thread) | rows/s (wall) |")
    print("|---|---|---|---|---|---|---|---|")
    if result["web"]:
        for (wall, cpu, main_cpu), label in zip(result["web"], ("validate (with the preview)", "commit"), strict=True):
            print(f"| {backend} | {fmt} | {result['rows']:,} | web flow: {label} | {wall:.1f} s | {cpu:.1f} s | "
                  f"{main_cpu:.1f} s | {result['rows'] / max(wall, 1e-9):,.0f} |")  # fmt: skip
        wall, cpu, main_cpu = result["total"]
        print(f"| {backend} | {fmt} | {result['rows']:,} | web flow: total | {wall:.1f} s | {cpu:.1f} s | "
              f"{main_cpu:.1f} s | {result['rows'] / max(wall, 1e-9):,.0f} |")  # fmt: skip
        return
    for stage, label in LABELS.items():
        wall, cpu, main_cpu = result[stage]
        print(f"| {backend} | {fmt} | {result['rows']:,} | {label} | {wall:.1f} s | {cpu:.1f} s | {main_cpu:.1f} s | "
              f"{result['rows'] / max(wall, 1e-9):,.0f} |")  # fmt: skip
    if result["again"]:
        wall, cpu, main_cpu, unchanged = result["again"]
        print(
            f"| {backend} | {fmt} | {result['rows']:,} | the same rows again ({unchanged:,} persons matched, "
            f"unchanged) | {wall:.1f} s | {cpu:.1f} s | {main_cpu:.1f} s | {result['rows'] / max(wall, 1e-9):,.0f} |"
        )


def _medians(results: list[dict[str, Any]], backend: str, fmt: str) -> None:
    """The median of each figure over the runs, and the spread of the total."""
    rows = results[0]["rows"]
    totals = sorted(r["total"][0] for r in results)
    server = f"server {median(r['server_cpu'] for r in results):.1f} s CPU, " if backend == "PostgreSQL" else ""
    print(f"\nmedian of {len(results)} runs ({backend}, {fmt}, {rows:,} rows; total wall {totals[0]:.1f}–"
          f"{totals[-1]:.1f} s): reading process {median(r['reader_cpu'] for r in results):.1f} s CPU, {server}"
          f"both processes at most {max(r['pss_mb'] for r in results):.0f} MB; calibration "
          f"{median(c for r in results for c in r['calibration']):.0f} ms")  # fmt: skip
    print("| backend | format | rows | stage | wall (median) | CPU (process, median) | rows/s (median wall) |")
    print("|---|---|---|---|---|---|---|")
    for stage, label in LABELS.items():
        wall, cpu = median(r[stage][0] for r in results), median(r[stage][1] for r in results)
        speed = rows / max(wall, 1e-9)
        print(f"| {backend} | {fmt} | {rows:,} | {label} | {wall:.1f} s | {cpu:.1f} s | {speed:,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--list", type=Path, default=None, help="import this list instead of making one")
    parser.add_argument("--keep", type=Path, default=None, help="keep the list made in this folder")
    parser.add_argument(
        "--again", action="store_true", help="then import the same rows again (every person matched, nothing new)"
    )
    parser.add_argument("--web", action="store_true", help="validate, then commit, as the web application does")
    parser.add_argument("--repeat", type=int, default=1, help="import the list this many times; report the medians")
    parser.add_argument(
        "--recreate", action="store_true", help="PostgreSQL: drop and create the database before each run"
    )
    args = parser.parse_args()
    if args.again and (args.format != "csv" or (args.list and args.list.suffix != ".csv")):
        parser.error("--again needs a CSV list")
    if args.again and args.web:
        parser.error("--again and --web: one or the other")
    if args.repeat < 1:
        parser.error("--repeat must be 1 or more")
    if args.database_url and args.repeat > 1 and not args.recreate:
        parser.error("--repeat on PostgreSQL needs --recreate (each run needs an empty database)")
    backend = "PostgreSQL" if args.database_url else "SQLite"
    with tempfile.TemporaryDirectory(prefix="tepat-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        path = args.list or make_list(args.rows, args.format, folder)
        made = time.perf_counter() - started
        if args.keep and not args.list:
            args.keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, args.keep / path.name)
        size_mb = path.stat().st_size / 1e6
        fmt = path.suffix.lstrip(".")
        results = []
        for run in range(args.repeat):
            results.append(_run(args, path, tmp, run))
            if args.repeat > 1:
                print(f"\nrun {run + 1} of {args.repeat}")
            _report(results[-1], backend, fmt, made, size_mb)
            sys.stdout.flush()
    if args.repeat > 1 and not args.web:
        _medians(results, backend, fmt)


if __name__ == "__main__":
    main()
