"""Benchmark: deduplicating a million synthetic persons with Tepat's layered engine, and with plain Splink.

    .venv/bin/python bench/dedupe.py [--persons 1000000] [--repeat 3] [--splink-repeat 1] [--work DIR]

The data are `tepat synth` for Kota Bontang (the registry extract plus every program list, with their realistic
defects: damaged NIKs, name variants, wrong birth dates, duplicates within and across lists), unioned into one
person list, and its ground truth. They are generated once into --work and reused. Each repeat runs in its own
process, so that the peak memory (max RSS, the input table included) belongs to that run alone; the time is the
`dedupe` call, imports and reading the input excluded. Prints Markdown rows for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))


def prepare(persons: int, seed: int, work: Path) -> Path:
    """The union of lists as Parquet (with a `truth` column), generated once per size and seed."""
    data = work / f"lists-{persons}-{seed}.parquet"
    if data.exists():
        return data
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tepat.engine.linkage.evaluate import synth_lists
    from tepat.engine.synth import SynthConfig, generate

    folder = work / f"synth-{persons}-{seed}"
    started = time.perf_counter()
    generate(SynthConfig(region="64.74", persons=persons, seed=seed), reference_dir=REPO / "data" / "reference",
             out_dir=folder)  # fmt: skip
    table, truth = synth_lists(folder)
    pq.write_table(table.append_column("truth", pa.array(truth, pa.string())), data)
    print(f"generated {table.num_rows:,} records in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return data


def worker(engine: str, data: Path) -> None:
    """One run in this process; prints a JSON line."""
    import pyarrow.parquet as pq

    from tepat.engine.identity import RegionCodes
    from tepat.engine.linkage import LinkageConfig, dedupe, pairwise_scores

    table = pq.read_table(data)
    truth = table.column("truth").to_pylist()
    table = table.drop(["truth", "sumber"])
    started, cpu = time.perf_counter(), time.process_time()
    stats: dict[str, object] = {}
    if engine == "tepat":
        result = dedupe(table, LinkageConfig(regions=RegionCodes.from_reference_dir(REPO / "data" / "reference")))
        clusters = result.cluster_ids
        stats = {
            "seconds_by_stage": result.stats["seconds"],
            "review": result.review.num_rows,
            "conflicts": result.conflicts.num_rows,
            "candidate_pairs": result.stats["candidate_pairs"],
        }
    else:
        from bench.dedupe_splink import plain_splink

        clusters = plain_splink(table)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    scores = pairwise_scores(clusters, truth)
    print(json.dumps({
        "engine": engine, "records": table.num_rows, "persons": len(set(truth)), "seconds": seconds, "cpu": cpu,
        "load": os.getloadavg()[0],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "precision": scores.precision, "recall": scores.recall, "f1": scores.f1,
        "pairs_predicted": scores.predicted, "pairs_true": scores.actual, **stats,
    }))  # fmt: skip


def run(engine: str, data: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", engine, "--data", str(data)], capture_output=True, text=True, check=False
    )
    if out.returncode:
        raise SystemExit(f"{engine} run failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--splink-repeat", type=int, default=1, help="plain Splink runs (0 to skip)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "tepat-bench-dedupe")
    parser.add_argument("--worker", choices=["tepat", "splink"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.data)
        return
    args.work.mkdir(parents=True, exist_ok=True)
    data = prepare(args.persons, args.seed, args.work)
    results = {"tepat": [run("tepat", data) for _ in range(args.repeat)]}
    if args.splink_repeat:
        results["splink"] = [run("splink", data) for _ in range(args.splink_repeat)]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    first = results["tepat"][0]
    print(f"machine: {machine}; load average at the end: {load}")
    print(f"data: {first['records']:,} records of {first['persons']:,} persons ({args.persons:,} generated)")
    print("| engine | runs | median time | CPU time | peak memory | precision | recall | F1 |")
    print("|---|---|---|---|---|---|---|---|")
    for engine, runs in results.items():
        label = "Tepat (layers 1-3)" if engine == "tepat" else "plain Splink"
        seconds = statistics.median(float(r["seconds"]) for r in runs)  # type: ignore[arg-type]
        cpu = statistics.median(float(r["cpu"]) for r in runs)  # type: ignore[arg-type]
        memory = max(float(r["peak_rss_mb"]) for r in runs)  # type: ignore[arg-type]
        best = runs[0]
        quality = f"{best['precision']:.5f} | {best['recall']:.5f} | {best['f1']:.5f}"
        print(f"| {label} | {len(runs)} | {seconds:.1f} s | {cpu:.0f} s | {memory / 1024:.2f} GB | {quality} |")
    for engine_runs in results.values():
        for r in engine_runs:
            print(json.dumps(r), file=sys.stderr)


if __name__ == "__main__":
    main()
