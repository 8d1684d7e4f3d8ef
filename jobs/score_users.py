"""Spark job: score every user with the champion models and publish journey.user_scores."""

from __future__ import annotations

import argparse
import sys

from pyspark.sql import functions as F

from journey import lake, warehouse
from journey.config import get_settings
from journey.models.hparams import DataParams
from journey.models.pipeline import champions
from journey.models.propensity import load_xgb
from journey.models.registry import MODEL_NAMES
from journey.models.scoring import propensity_cannot_answer, publish_scores, score_users, scoring_rows
from journey.runtime.runner import iso_date, run_main
from journey.runtime.spark import get_spark


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--snapshot-date", required=True, type=iso_date, help="score as of the end of this day")
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--lookback-days", type=int, default=DataParams.lookback_days)
    parser.add_argument("--horizon-days", type=int, default=DataParams.horizon_days,
                        help="horizon of the expected purchases and predicted value")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Load the champions from the registry, score in Spark, write to the lake, publish."""
    args = parse_args(argv)
    settings = get_settings()
    with warehouse.connect(settings) as conn:
        found = {name: champion for name, champion in champions(conn).items() if champion}
    if "propensity" in found:
        reason = propensity_cannot_answer(load_xgb(found["propensity"]["artifact_path"])[1], args.horizon_days)
        if reason:
            print(reason)
            del found["propensity"]
    missing = sorted(set(MODEL_NAMES) - set(found))
    print("scoring with " + (", ".join(f"{n} v{c['version']}" for n, c in sorted(found.items())) or "no champion")
          + (f"; no champion for {', '.join(missing)} (their columns stay empty"
             + (", BG/NBD answers for propensity)" if "propensity" in missing else ")") if missing else ""))
    spark = get_spark("journey-score-users", settings)
    events_path = lake.path(settings, lake.CURATED_EVENTS)
    if not lake.exists(spark, events_path):
        raise FileNotFoundError(f"no curated events at {events_path}: run the ingest job first")
    events = spark.read.parquet(events_path)
    rows = scoring_rows(events, args.snapshot_date, DataParams(lookback_days=args.lookback_days,
                                                               horizon_days=args.horizon_days))
    target = lake.snapshot_path(settings, lake.USER_SCORES, args.snapshot_date)
    lake.write_parquet_atomic(score_users(rows, found, args.snapshot_date, args.run_id, args.horizon_days), target)
    written = spark.read.parquet(target)
    scenes = dict(written.groupBy("predicted_scene").count().collect())
    print(f"scored {written.count():,} users as of {args.snapshot_date}, written to {target}")
    print("  predicted scenes: " + ", ".join(f"{k} {v:,}" for k, v in sorted(scenes.items(), key=str)))
    means = written.agg(F.avg("intent_probability"), F.avg("p_alive"), F.sum("expected_purchases")).first()
    print(f"  mean intent probability: {means[0]}; mean P(alive) {means[1]}; expected purchases in "
          f"{args.horizon_days} days: {means[2]}")
    with warehouse.connect(settings) as conn:
        loaded = publish_scores(conn, target)
    print(f"published {loaded:,} rows to journey.user_scores")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
