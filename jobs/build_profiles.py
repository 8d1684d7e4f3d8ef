"""Spark job: build the user profiles snapshot for one date from curated events."""

from __future__ import annotations

import argparse
import sys

from pyspark.sql import functions as F

from journey import lake
from journey.config import get_settings
from journey.profiles.build import ProfileParams, absent_behaviour, build_profiles_with_cadence, left_out
from journey.quality.daily import check_profiles
from journey.quality.suites import QualityParams
from journey.runtime.runner import iso_date, run_main
from journey.runtime.spark import get_spark


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--snapshot-date", required=True, type=iso_date)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--lookback-days", type=int, default=ProfileParams.lookback_days,
                        help="days of history to profile; 0 (default) = all history up to the snapshot")
    return parser.parse_args(argv)


def warn_left_out(events, params: ProfileParams) -> None:
    """Say loudly how many events (and users) fall before a positive look-back window."""
    if not params.lookback_days:
        return
    rows, users = left_out(events, params)
    if rows:
        print(f"  warning: {rows:,} events of {users:,} users before the {params.lookback_days}-day look-back were "
              "left out; --lookback-days 0 profiles all history", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Read curated events (and users), build profiles, write the snapshot."""
    args = parse_args(argv)
    settings = get_settings()
    spark = get_spark("journey-build-profiles", settings)
    events_path = lake.path(settings, lake.CURATED_EVENTS)
    if not lake.exists(spark, events_path):
        raise FileNotFoundError(f"no curated events at {events_path}: run the ingest job first")
    events = spark.read.parquet(events_path)
    users_path = lake.path(settings, lake.CURATED_USERS)
    users = spark.read.parquet(users_path) if lake.exists(spark, users_path) else None
    params = ProfileParams(snapshot_date=args.snapshot_date, lookback_days=args.lookback_days)
    warn_left_out(events, params)
    profiles, cadence = build_profiles_with_cadence(events, users, params)
    profiles = profiles.drop("snapshot_date")
    target = lake.snapshot_path(settings, lake.PROFILES, args.snapshot_date)
    lake.write_parquet_atomic(profiles, target)
    written = spark.read.parquet(target)
    stages = {r[0]: r[1] for r in written.groupBy("lifecycle_stage").count().collect()}
    print(f"profiles {args.snapshot_date}: {written.count():,} users written to {target}")
    print(f"  lifecycle: {cadence.describe()}; " + ", ".join(f"{k} {v:,}" for k, v in sorted(stages.items())))
    if not stages:
        print("  warning: no events in the look-back window", file=sys.stderr)
    buyers = written.where(F.col("frequency") > 0).count()
    print(f"  buyers: {buyers:,}")
    absent = absent_behaviour(written) if stages else []
    if absent:
        print(f"  note: no {', '.join(absent)} events in the window (a transaction-only feed has no views or carts): "
              "those counts are 0, cart_abandonment_rate is empty, conversion_rate = orders / sessions")
    check_profiles(settings, written, args.run_id, QualityParams())
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
