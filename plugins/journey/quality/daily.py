"""The gates of the daily pipeline: events after ingest, profiles, segments."""

from __future__ import annotations

import dataclasses
import logging
from datetime import date, datetime, timedelta

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from journey.config import Settings
from journey.ingest.events import IngestResult
from journey.quality import prepare, suites
from journey.quality.gate import Outcome, gate
from journey.quality.suites import QualityParams, knob

log = logging.getLogger(__name__)


def quarantine_check(spark: SparkSession, result: IngestResult, params: QualityParams) -> tuple:
    """The quarantined-share suite; reasons expected of the feed are reported, not counted."""
    expected = params.expected_reasons(result.format)
    expected_rows = sum(n for reason, n in result.by_reason.items() if reason in expected)
    if expected_rows:
        print(f"quarantine: {expected_rows:,} of {result.rows_read:,} rows quarantined for expected reasons "
              f"({', '.join(expected)}; {knob('expected_quarantine_reasons')}): reported, not counted "
              f"against max_quarantine_share {params.max_quarantine_share}")
    frame = prepare.quarantine_frame(spark, result.rows_read, result.quarantined, expected_rows)
    return "events_quarantine_share", frame, suites.quarantine_suite(params, expected)


def volume_check(spark: SparkSession, curated: DataFrame, batch_dates: list[date], params: QualityParams) -> tuple:
    """The daily-volume suite: trailing-median rule, or the batch's own median for a backfill."""
    span = (max(batch_dates) - min(batch_dates)).days + 1
    backfill = params.is_backfill(span)
    counts = prepare.daily_counts(curated, min(batch_dates) - timedelta(days=params.volume_history_days),
                                  max(batch_dates))
    if backfill:
        log.warning("volume rule in backfill mode (%s, batch spans %d days): each day is compared with the batch's "
                    "own median day and only warns (%s)", params.backfill, span, knob("backfill"))
        ratios = prepare.batch_ratios(counts, batch_dates)
    else:
        ratios = prepare.volume_ratios(counts, batch_dates, params)
    return "events_daily_volume", prepare.volume_frame(spark, ratios), suites.volume_suite(params, backfill)


def check_events(spark: SparkSession, settings: Settings, result: IngestResult, params: QualityParams,
                 now: datetime) -> list[Outcome]:
    """Curated events of the batch's dates, their daily volume, and the quarantined share."""
    batch_dates = [date.fromisoformat(d) for d in result.event_dates]
    frames = [quarantine_check(spark, result, params)]
    if batch_dates:
        curated = spark.read.parquet(result.curated_path)
        batch = curated.where(F.col("event_date").isin(*batch_dates))
        floor = dataclasses.replace(params, time_floor=params.floor_for(result.time_floor))
        frames += [("events_contract", batch, suites.events_suite(floor, now)),
                   volume_check(spark, curated, batch_dates, params)]
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
