"""`make bench`: the daily pipeline at 1M and 10M events, DuckDB beside it, COPY vs INSERT.

    python -m journey.perf.daily [--sizes 1m,10m] [--publish-rows 1m] [--insert-rows 100k] [--work bench-data]

Per size: generated events (cached under --work), then ingest → profiles → segments in one
local Spark session (wall time, events/s, peak memory of Python + the driver JVM), and the
same profile aggregates computed by DuckDB on the same curated Parquet. Then profile rows
published to the embedded PostgreSQL with COPY and with executemany INSERT. Prints every
figure, the targets met or missed, and writes them as JSON to the work folder. The figures
are copied into docs/benchmarks.md with the command and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict
from pathlib import Path

from journey.config import get_settings

TARGET_MINUTES = 10.0  # 10M events through ingest → profiles → segments
TARGET_PEAK_GIB = 8.0
TARGET_DUCKDB_RATIO = 3.0
TARGET_PUBLISH_ROWS_PER_S = 200_000
PIPELINE_STEPS = ("ingest (Spark)", "profiles (Spark)", "segments k=3..8 (Spark)")


def machine() -> str:
    """One line describing this machine."""
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.node()}: {os.cpu_count()} cores, {mem_gib:.0f} GiB, Python {platform.python_version()}"


def parse_size(text: str) -> int:
    """'1m' → 1,000,000; '500k' → 500,000; '2500' → 2,500."""
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:].lower(), 1)
    try:
        return int(float(text[:-1] if scale > 1 else text) * scale)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"size '{text}' is not a number like 1m or 500k") from exc


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1m,10m", help="event counts to run, e.g. 1m,10m")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", default="bench-data", help="folder for data and lakes (kept between runs)")
    parser.add_argument("--publish-rows", type=parse_size, default=1_000_000, help="profile rows to publish (0: skip)")
    parser.add_argument("--publish-from", default="10m",
                        help="size whose Spark profiles are published when --sizes is empty")
    parser.add_argument("--insert-rows", type=parse_size, default=100_000,
                        help="rows for executemany INSERT (0: as many as --publish-rows; at ~1k rows/s "
                             "a full 1M takes a quarter of an hour)")
    parser.add_argument("--copy-runs", type=int, default=3,
                        help="COPY runs, each on a new connection; the median is the figure")
    args = parser.parse_args(argv)
    args.sizes = [(s.strip().lower(), parse_size(s.strip())) for s in args.sizes.split(",") if s.strip()]
    return args


def pipeline_figures(report) -> tuple[float, float]:
    """(seconds, peak GiB) of ingest + profiles + segments."""
    steps = [report.step(name) for name in PIPELINE_STEPS]
    return sum(s.seconds for s in steps), max(s.peak_gib for s in steps)


def print_size_summary(report) -> list[str]:
    """Closing lines of one size; returns target lines."""
    seconds, peak = pipeline_figures(report)
    spark_s = report.step("profiles (Spark)").seconds
    duck = next(s for s in report.steps if s.step.startswith("profiles (DuckDB"))
    ratio = spark_s / duck.seconds
    print(f"  pipeline {report.label}: {seconds:,.0f} s for {report.events:,} events = "
          f"{report.events / seconds:,.0f} events/s, peak {peak:.2f} GiB; "
          f"Spark/DuckDB profiles = {ratio:.1f}x; totals agree: {report.checks['same_totals']}")
    print(f"  load average before {_load(report.load_before)}, after {_load(report.load_after)}")
    lines = [f"{report.label}: Spark profiles within {TARGET_DUCKDB_RATIO:.0f}x of DuckDB: "
             f"{_verdict(ratio <= TARGET_DUCKDB_RATIO)} ({ratio:.1f}x)"]
    if report.events >= 9_000_000:
        lines.append(f"{report.label}: under {TARGET_MINUTES:.0f} min: {_verdict(seconds < TARGET_MINUTES * 60)} "
                     f"({seconds / 60:.1f} min); peak under {TARGET_PEAK_GIB:.0f} GiB: "
                     f"{_verdict(peak < TARGET_PEAK_GIB)} ({peak:.2f} GiB)")
    return lines


def _verdict(ok: bool) -> str:
    """met / MISSED."""
    return "met" if ok else "MISSED"


def _load(load: tuple[float, float, float]) -> str:
    """Load averages as text."""
    return " ".join(f"{x:.2f}" for x in load)


def run_publish(args: argparse.Namespace, work: Path, profiles_path: str) -> tuple[list[str], dict]:
    """COPY vs executemany INSERT of profile rows into the embedded PostgreSQL."""
    from journey import warehouse
    from journey.perf.publish_bench import profile_rows, time_copy, time_executemany

    settings = get_settings({**os.environ, "JOURNEY_HOME": str(work / "pg-home")})
    warehouse.start_server(settings)
    table = profile_rows(profiles_path, args.publish_rows)
    insert_rows = args.insert_rows or args.publish_rows
    runs = []
    for _ in range(max(1, args.copy_runs)):
        with warehouse.connect(settings) as conn:
            runs.append(time_copy(conn, table))
    copy = sorted(runs, key=lambda f: f.seconds)[(len(runs) - 1) // 2]  # the median (lower one of an even count)
    with warehouse.connect(settings) as conn:
        insert = time_executemany(conn, table.slice(0, insert_rows))
    ratio = copy.rows_per_second / insert.rows_per_second
    print(f"  COPY runs: {', '.join(f'{run.seconds:.1f} s' for run in runs)} (median below)")
    for timing in (copy, insert):
        print(f"  {timing.step:<20} {timing.rows:>10,} rows {timing.seconds:8.1f} s "
              f"{timing.rows_per_second:>10,.0f} rows/s")
    print(f"  COPY is {ratio:.1f}x executemany INSERT")
    verdict = f"publish at >= {TARGET_PUBLISH_ROWS_PER_S:,} rows/s: " \
              f"{_verdict(copy.rows_per_second >= TARGET_PUBLISH_ROWS_PER_S)} ({copy.rows_per_second:,.0f} rows/s)"
    figures = {"copy": asdict(copy), "copy_runs_s": [run.seconds for run in runs], "executemany": asdict(insert),
               "ratio": ratio}
    return [verdict], figures


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print every figure."""
    args = parse_args(argv)
    from journey.perf.pipeline import run_size
    from journey.runtime.spark import get_spark

    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    print(machine())
    print(f"load average at start: {_load(os.getloadavg())}")
    settings = get_settings({**os.environ, "JOURNEY_HOME": str(work / "spark-home")})
    reports, targets, results = [], [], {"machine": machine(), "sizes": []}
    if args.sizes:
        spark = get_spark("journey-bench", settings)
        print(f"Spark {spark.version} {spark.sparkContext.master}, driver {settings.driver_memory}, "
              f"shuffle partitions {settings.shuffle_partitions}")
        spark.range(10).count()  # JVM start-up is not part of any step
    for label, events in args.sizes:
        print(f"== {label} events ==", flush=True)
        report = run_size(spark, label, events, work, args.seed)
        reports.append(report)
        targets += print_size_summary(report)
        results["sizes"].append(report.as_dict())
    if args.sizes:
        spark.stop()
    if args.publish_rows:
        label = reports[-1].label if reports else args.publish_from
        print(f"== publish {args.publish_rows:,} profile rows (from the {label} profiles) to PostgreSQL ==", flush=True)
        lines, results["publish"] = run_publish(args, work, str(work / f"home-{label}" / "profiles"))
        targets += lines
    print("targets:")
    for line in targets:
        print(f"  {line}")
    out = work / f"results-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"figures written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
