"""`make bench`: time the generator and the daily Spark steps at ~1M events.

Prints one line per step (wall seconds, rows, rows/s) and the machine; the figures are
copied into docs/benchmarks.md by hand with the command that produced them.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from datetime import date
from pathlib import Path

from journey.config import get_settings

END = date(2026, 10, 31)


def machine() -> str:
    """One line describing this machine."""
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.node()}: {os.cpu_count()} cores, {mem_gib:.0f} GiB, Python {platform.python_version()}"


def timed(label: str, rows_of, fn):
    """Run fn, print its wall time and throughput, return its result."""
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    rows = rows_of(result)
    print(f"{label:<28} {seconds:8.1f} s  {rows:>12,} rows  {rows / seconds:>12,.0f} rows/s", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", default="bench-data", help="folder for data and lake (kept between runs)")
    args = parser.parse_args(argv)

    from journey.datagen import generate
    from journey.ingest import run_ingest
    from journey.profiles import ProfileParams, build_profiles
    from journey.segmentation import SegmentParams, segment_users
    from journey.spark import get_spark

    work = Path(args.work).resolve()
    data = work / f"gen-{args.users}u-{args.days}d-{args.seed}"
    print(machine())
    gen = timed("generate", lambda s: s.events, lambda: generate(
        data, users=args.users, days=args.days, seed=args.seed, end_date=END))
    home = work / "home"
    shutil.rmtree(home, ignore_errors=True)
    settings = get_settings({**os.environ, "JOURNEY_HOME": str(home)})
    spark = get_spark("journey-bench", settings)
    timed("spark start-up (first job)", lambda _: 0, lambda: spark.range(10).count())
    ingest = timed("ingest (Spark)", lambda r: r.rows_read,
                   lambda: run_ingest(spark, settings, str(data / "events"), "canonical", "bench"))
    events = spark.read.parquet(ingest.curated_path)
    profiles_path = str(home / "profiles")
    timed("profiles (Spark)", lambda n: n, lambda: _write_count(
        build_profiles(events, None, ProfileParams(snapshot_date=END)), profiles_path))
    profiles = spark.read.parquet(profiles_path).cache()
    profiles.count()
    result = timed("segments k=3..8 (Spark)", lambda r: len(r), lambda: segment_users(
        profiles, SegmentParams()).segments.toPandas())
    print(f"events generated: {gen.events:,}; users segmented: {len(result):,}")
    spark.stop()
    return 0


def _write_count(df, path: str) -> int:
    """Write a DataFrame as Parquet and return its row count."""
    df.write.mode("overwrite").parquet(path)
    return df.sparkSession.read.parquet(path).count()


if __name__ == "__main__":
    sys.exit(main())
