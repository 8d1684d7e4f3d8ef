"""Spark job: build the model training sets (user × cut-off rows and sessions) from curated events."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from pyspark.sql import functions as F

from journey import lake
from journey.config import get_settings
from journey.errors import InputError, MissingInputError
from journey.models.hparams import RUN_PARAMS, DataParams, data_run_params, model_config
from journey.models.training_data import training_sets
from journey.runtime.runner import iso_date, run_main
from journey.runtime.spark import get_spark


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line arguments: the snapshot, the run and the data RUN_PARAMS (--horizon-days, …)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--snapshot-date", required=True, type=iso_date, help="last event day used")
    parser.add_argument("--run-id", required=True)
    defaults = asdict(DataParams())
    for key in data_run_params():
        parser.add_argument("--" + key.replace("_", "-"), type=int, default=defaults[key], help=RUN_PARAMS[key].title)
    parser.add_argument("--scenes", default="", help="ground-truth scenes Parquet (session_id, scene); "
                                                     "empty: weak-labelling rules")
    return parser.parse_args(argv)


def data_params(args: argparse.Namespace) -> DataParams:
    """DataParams from the arguments, bounds checked like the DAG's Params (InputError naming the argument)."""
    return model_config({key: getattr(args, key) for key in data_run_params()}).data


def read_truth(spark, path: str):
    """The ground-truth scenes (session_id, scene), or None for the weak-labelling rules."""
    if not path:
        return None
    if not lake.exists(spark, path):
        raise MissingInputError(f"--scenes {path} does not exist")
    truth = spark.read.parquet(path)
    missing = {"session_id", "scene"} - set(truth.columns)
    if missing:
        raise InputError(f"--scenes {path} lacks column(s) {', '.join(sorted(missing))}")
    return truth


def main(argv: list[str] | None = None) -> int:
    """Read curated events up to the snapshot date, write both training sets and the plan for that date."""
    args = parse_args(argv)
    params = data_params(args)
    settings = get_settings()
    spark = get_spark("journey-build-training-data", settings)
    events_path = lake.path(settings, lake.CURATED_EVENTS)
    if not lake.exists(spark, events_path):
        raise MissingInputError(f"no curated events at {events_path}: run the ingest job first")
    # cached: both sets and the profile build of every cut-off read it again
    events = spark.read.parquet(events_path).where(F.col("event_date") <= F.lit(args.snapshot_date)).cache()
    sets = training_sets(events, read_truth(spark, args.scenes), params)
    print(f"events {sets.first_day} .. {sets.last_day}; cut-offs: "
          + ", ".join(f"{c} ({s})" for c, s in sets.plan))
    if sets.params.horizon_days < params.horizon_days:
        span = (sets.last_day - sets.first_day).days + 1
        print(f"label window shortened from {params.horizon_days} to {sets.params.horizon_days} day(s) to fit "
              f"{span} day(s) of events (a label window must end inside them); the BTYD scores (p_alive, expected "
              f"purchases) answer the full {params.horizon_days}-day question at scoring time")
    write_sets(spark, settings, args.snapshot_date, sets.users, sets.scenes)
    lake.write_json(lake.training_plan_path(settings, args.snapshot_date), {
        "cutoffs": [{"cutoff": c, "role": r} for c, r in sets.plan], "first_day": sets.first_day,
        "last_day": sets.last_day, "requested": asdict(params), "used": asdict(sets.params)})
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
