"""Spark job: build the model training sets (user × cut-off rows and sessions) from curated events."""

from __future__ import annotations

import argparse
import sys

from pyspark.sql import functions as F

from journey import lake
from journey.config import get_settings
from journey.models.hparams import DataParams
from journey.models.training_data import cutoff_plan, scene_training_set, user_training_set
from journey.runtime.runner import iso_date, run_main
from journey.runtime.spark import get_spark


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--snapshot-date", required=True, type=iso_date, help="last event day used")
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--horizon-days", type=int, default=DataParams.horizon_days)
    parser.add_argument("--lookback-days", type=int, default=DataParams.lookback_days)
    parser.add_argument("--scenes", default="", help="ground-truth scenes Parquet (session_id, scene); "
                                                     "empty: weak-labelling rules")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Read curated events up to the snapshot date, write both training sets for that date."""
    args = parse_args(argv)
    if args.horizon_days < 1 or args.lookback_days < 1:
        raise ValueError(f"--horizon-days and --lookback-days must be at least 1, got {args.horizon_days} "
                         f"and {args.lookback_days}")
    settings = get_settings()
    spark = get_spark("journey-build-training-data", settings)
    events_path = lake.path(settings, lake.CURATED_EVENTS)
    if not lake.exists(spark, events_path):
        raise FileNotFoundError(f"no curated events at {events_path}: run the ingest job first")
    # cached: both sets and the profile build of every cut-off read it again
    events = spark.read.parquet(events_path).where(F.col("event_date") <= F.lit(args.snapshot_date)).cache()
    first, last = events.agg(F.min("event_date"), F.max("event_date")).first()
    if first is None:
        raise ValueError(f"no curated events on or before {args.snapshot_date} in {events_path}")
    params = DataParams(horizon_days=args.horizon_days, lookback_days=args.lookback_days)
    plan = cutoff_plan(first, last, params)
    print(f"events {first} .. {last}; cut-offs: " + ", ".join(f"{c} ({s})" for c, s in plan))
    truth = None
    if args.scenes:
        if not lake.exists(spark, args.scenes):
            raise FileNotFoundError(f"--scenes {args.scenes} does not exist")
        truth = spark.read.parquet(args.scenes)
        missing = {"session_id", "scene"} - set(truth.columns)
        if missing:
            raise ValueError(f"--scenes {args.scenes} lacks column(s) {', '.join(sorted(missing))}")
    write_sets(spark, settings, args.snapshot_date, user_training_set(events, plan, params),
               scene_training_set(events, truth, plan, params))
    return 0


def write_sets(spark, settings, snapshot, users, scenes) -> None:
    """Write both sets atomically and print their row counts per split."""
    for name, dataset, frame in (("users", lake.TRAINING_USERS, users), ("scenes", lake.TRAINING_SCENES, scenes)):
        target = lake.snapshot_path(settings, dataset, snapshot)
        lake.write_parquet_atomic(frame, target)
        counts = dict(spark.read.parquet(target).groupBy("split").count().collect())
        print(f"{name} set {snapshot}: " + ", ".join(f"{s} {counts.get(s, 0):,}" for s in ("train", "validation",
                                                                                          "test"))
              + f" rows, written to {target}")
        if name == "scenes":
            sources = dict(spark.read.parquet(target).groupBy("label_source").count().collect())
            print("  scene labels: " + ", ".join(f"{k} {v:,}" for k, v in sorted(sources.items())))


if __name__ == "__main__":
    sys.exit(run_main(main))
