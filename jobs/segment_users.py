"""Spark job: K-means customer segments for one snapshot, with stable ids and transitions."""

from __future__ import annotations

import argparse
import sys

from pyspark.sql import functions as F

from journey import lake
from journey.config import get_settings
from journey.profiles.segments import SegmentParams, segment_users
from journey.quality.daily import check_segments
from journey.quality.suites import QualityParams
from journey.runtime.runner import iso_date, run_main
from journey.runtime.spark import get_spark

SUMMARY_DDL = (
    "segment_id int, segment_name string, users long, user_share double, revenue double, "
    "revenue_share double, avg_recency_days double, avg_frequency double, avg_monetary double, "
    "avg_conversion_rate double, top_category string, centroid string, k int, silhouette double"
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--snapshot-date", required=True, type=iso_date)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--k-min", type=int, default=SegmentParams.k_min)
    parser.add_argument("--k-max", type=int, default=SegmentParams.k_max)
    parser.add_argument("--seed", type=int, default=SegmentParams.seed)
    return parser.parse_args(argv)


def previous_snapshot(spark, settings, snapshot_date) -> str | None:
    """The latest segment snapshot date before this one, if any."""
    dates = lake.list_partitions(spark, lake.path(settings, lake.SEGMENT_SUMMARY), "snapshot_date")
    earlier = [d for d in dates if d < snapshot_date.isoformat()]
    return earlier[-1] if earlier else None


def main(argv: list[str] | None = None) -> int:
    """Segment the profiles snapshot and write segments, summary and transitions."""
    args = parse_args(argv)
    settings = get_settings()
    spark = get_spark("journey-segment-users", settings)
    params = SegmentParams(k_min=args.k_min, k_max=args.k_max, seed=args.seed)
    profiles_path = lake.snapshot_path(settings, lake.PROFILES, args.snapshot_date)
    if not lake.exists(spark, profiles_path):
        raise FileNotFoundError(f"no profiles at {profiles_path}: run the profiles job first")
    previous = previous_snapshot(spark, settings, args.snapshot_date)
    prev_summary = prev_segments = None
    if previous:
        prev_summary = [r.asDict() for r in spark.read.parquet(
            lake.path(settings, lake.SEGMENT_SUMMARY, f"snapshot_date={previous}")).collect()]
        prev_segments = spark.read.parquet(lake.path(settings, lake.SEGMENTS, f"snapshot_date={previous}"))
    result = segment_users(spark.read.parquet(profiles_path), params, prev_summary, prev_segments)
    date = args.snapshot_date
    lake.write_parquet_atomic(result.segments, lake.snapshot_path(settings, lake.SEGMENTS, date))
    summary = spark.createDataFrame(result.summary, SUMMARY_DDL)
    lake.write_parquet_atomic(summary.coalesce(1), lake.snapshot_path(settings, lake.SEGMENT_SUMMARY, date))
    moves = result.transitions.withColumn("previous_snapshot_date", F.lit(previous).cast("date"))
    lake.write_parquet_atomic(moves.coalesce(1), lake.snapshot_path(settings, lake.SEGMENT_TRANSITIONS, date))
    silhouettes = ", ".join(f"k={k}: {s:.3f}" for k, s in result.clustering.silhouettes.items())
    print(f"segments {date}: k={result.clustering.k} chosen by silhouette ({silhouettes})")
    for row in result.summary:
        print(f"  #{row['segment_id']} {row['segment_name']}: {row['users']:,} users, "
              f"{row['revenue_share']:.0%} of revenue")
    print(f"  previous snapshot: {previous or 'none (first run)'}")
    if "view" in result.absent:
        print("  note: no page views in the feed (sessions are orders): names use value, frequency and recency only")
    if result.clustering.constant:
        print(f"  note: feature(s) without variation, so without a say in the segments (e.g. no carts or coupons "
              f"in a transaction-only feed): {', '.join(result.clustering.constant)}")
    check_segments(
        settings, spark.read.parquet(lake.snapshot_path(settings, lake.SEGMENTS, date)),
        spark.read.parquet(lake.snapshot_path(settings, lake.SEGMENT_SUMMARY, date)),
        spark.read.parquet(profiles_path).count(), args.run_id,
        QualityParams(k_min=args.k_min, k_max=args.k_max),
    )
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
