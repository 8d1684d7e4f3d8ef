"""The gates of the daily pipeline: events after ingest, profiles, segments."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from journey.config import Settings
from journey.ingest.events import IngestResult
from journey.quality import prepare, suites
from journey.quality.gate import Outcome, gate
from journey.quality.suites import QualityParams


def check_events(spark: SparkSession, settings: Settings, result: IngestResult, params: QualityParams,
                 now: datetime) -> list[Outcome]:
    """Curated events of the batch's dates, their daily volume, and the quarantined share."""
    batch_dates = [date.fromisoformat(d) for d in result.event_dates]
    frames = [("events_quarantine_share", prepare.quarantine_frame(spark, result.rows_read, result.quarantined),
               suites.quarantine_suite(params))]
    if batch_dates:
        curated = spark.read.parquet(result.curated_path)
        batch = curated.where(F.col("event_date").isin(*batch_dates))
        counts = prepare.daily_counts(curated, min(batch_dates) - timedelta(days=params.volume_history_days),
                                      max(batch_dates))
        ratios = prepare.volume_ratios(counts, batch_dates, params)
        frames += [("events_contract", batch, suites.events_suite(params, now)),
                   ("events_daily_volume", prepare.volume_frame(spark, ratios), suites.volume_suite(params))]
    return gate(settings, result.run_id, "events", frames)


def check_profiles(settings: Settings, profiles: DataFrame, run_id: str, params: QualityParams) -> list[Outcome]:
    """One snapshot of profiles."""
    return gate(settings, run_id, "profiles",
                [("profiles_contract", prepare.prepare_profiles(profiles), suites.profiles_suite(params))])


def check_segments(settings: Settings, segments: DataFrame, summary: DataFrame, profiled_users: int,
                   run_id: str, params: QualityParams) -> list[Outcome]:
    """User → segment rows against the profiles, and the segment summary."""
    ids = sorted(r["segment_id"] for r in summary.select("segment_id").collect())
    return gate(settings, run_id, "segments", [
        ("segments_contract", segments, suites.segments_suite(params, profiled_users, ids)),
        ("segment_summary_contract", summary, suites.segment_summary_suite(params, profiled_users)),
    ])
