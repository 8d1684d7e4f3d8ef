"""Quality gates with GX on Spark DataFrames: pass on good data, stop on bad, record everything."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pyspark.sql import functions as F

from journey import warehouse
from journey.config import get_settings
from journey.datagen import generate
from journey.ingest.events import run_ingest
from journey.profiles.build import ProfileParams, build_profiles
from journey.quality import prepare, suites
from journey.quality.daily import check_events, check_profiles, check_segments
from journey.quality.gate import QualityGateError, docs_index, gate
from journey.quality.suites import QualityParams

END = date(2026, 10, 31)
NOW = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    """A Journey home with its own embedded PostgreSQL."""
    home = tmp_path_factory.mktemp("dq") / "home"
    current = get_settings({"JOURNEY_HOME": str(home)})
    warehouse.start_server(current)
    yield current
    warehouse.stop_server(current)


@pytest.fixture(scope="module")
def clean_batch(spark, settings, tmp_path_factory):
    """300 users x 12 days, ingested."""
    out = tmp_path_factory.mktemp("dq-data")
    generate(out, users=300, days=12, seed=21, end_date=END)
    return out, run_ingest(spark, settings, str(out / "events"), "canonical", "dq-clean", now=NOW)


def dq_rows(settings, run_id: str, dataset: str) -> list[tuple]:
    """(expectation, column, severity, success) recorded for a run."""
    with warehouse.connect(settings) as conn, conn.cursor() as cur:
        cur.execute("SELECT expectation, column_name, severity, success FROM journey.dq_results "
                    "WHERE run_id = %s AND dataset = %s ORDER BY expectation, column_name", (run_id, dataset))
        return cur.fetchall()


def test_clean_events_pass_and_are_recorded_with_data_docs(spark, settings, clean_batch):
    _, result = clean_batch
    outcomes = check_events(spark, settings, result, QualityParams(), NOW)
    assert all(o.success for o in outcomes if o.severity == "error")
    recorded = dq_rows(settings, "dq-clean", "events")
    assert len(recorded) == len(outcomes) > 20
    assert ("expect_column_values_to_be_unique", "event_id", "error", True) in recorded
    volume = [o for o in outcomes if o.suite == "events_daily_volume"]
    assert volume and volume[0].element_count == 12 - 3  # days with >= 3 earlier days of data
    assert docs_index(settings).exists()


def test_too_much_quarantine_stops_the_run(spark, settings, tmp_path):
    generate(tmp_path, users=100, days=3, seed=5, dirty=0.2, end_date=END)
    result = run_ingest(spark, settings, str(tmp_path / "events"), "canonical", "dq-dirty", now=NOW)
    assert result.quarantined / result.rows_read > 0.05
    with pytest.raises(QualityGateError, match="quarantined_share"):
        check_events(spark, settings, result, QualityParams(), NOW)
    failed = [r for r in dq_rows(settings, "dq-dirty", "events") if not r[3]]
    assert ("expect_column_values_to_be_between", "quarantined_share", "error", False) in failed


def test_a_half_empty_day_fails_the_volume_check(spark):
    counts = {date(2026, 10, d): 1000 for d in range(20, 31)}
    counts[date(2026, 10, 31)] = 400
    ratios = prepare.volume_ratios(counts, [date(2026, 10, 31)], QualityParams())
    assert ratios == [{"event_date": date(2026, 10, 31), "rows": 400, "trailing_median": 1000.0,
                       "ratio_to_median": 0.4}]
    # too little history: nothing to compare with
    assert prepare.volume_ratios({date(2026, 10, 30): 5, date(2026, 10, 31): 1}, [date(2026, 10, 31)],
                                 QualityParams()) == []


def test_profiles_gate_passes_real_profiles_and_stops_broken_ones(spark, settings, clean_batch):
    _, result = clean_batch
    events = spark.read.parquet(result.curated_path)
    profiles = build_profiles(events, None, ProfileParams(snapshot_date=END)).cache()
    check_profiles(settings, profiles, "dq-profiles", QualityParams())
    broken = profiles.unionByName(profiles.limit(1)).withColumn(
        "monetary", F.when(F.col("frequency") > 0, -F.col("monetary")).otherwise(F.col("monetary")))
    with pytest.raises(QualityGateError) as failure:
        check_profiles(settings, broken, "dq-profiles-broken", QualityParams())
    assert "expect_column_values_to_be_unique on user_id" in str(failure.value)
    assert "expect_column_values_to_be_between on monetary" in str(failure.value)


def test_segments_gate_needs_every_profiled_user(spark, settings):
    segments = spark.createDataFrame([("u1", 1, "A"), ("u2", 2, "B")], "user_id string, segment_id int, segment_name string")
    summary = spark.createDataFrame([(1, "A", 1, 3), (2, "B", 1, 3), (3, "C", 0, 3)],
                                    "segment_id int, segment_name string, users long, k int")
    with pytest.raises(QualityGateError) as failure:
        check_segments(settings, segments, summary, 3, "dq-seg", QualityParams())
    message = str(failure.value)
    assert "expect_table_row_count_to_equal (observed 2)" in message
    assert "expect_column_values_to_be_between on users (1 unexpected)" in message  # empty segment 3


def test_assignment_suite_catches_caps_budget_holdout_and_consent(spark, settings):
    coupons = spark.createDataFrame(
        [("c1", "u1", "email", 5.0), ("c1", "u1", "email", 5.0), ("c1", "u2", "sms", 5.0), ("c1", "u3", "push", 95.0)],
        "campaign_id string, user_id string, channel string, expected_cost double")
    holdout = spark.createDataFrame([("u3",)], "user_id string")
    consents = spark.createDataFrame([("u1", "email"), ("u3", "push")], "user_id string, channel string")
    frame = prepare.prepare_assignments(coupons, holdout, consents)
    with pytest.raises(QualityGateError) as failure:
        gate(settings, "dq-assign", "assignments", [("assignments", frame, suites.assignments_suite(budget=100.0))])
    message = str(failure.value)
    assert "on coupons_for_user (2 unexpected)" in message
    assert "expect_column_sum_to_be_between on expected_cost (observed 110.0)" in message
    assert "on in_holdout (1 unexpected)" in message
    assert "on has_consent (1 unexpected)" in message


def test_recommendation_suite_catches_repeats_and_purchased_items(spark, settings):
    recs = spark.createDataFrame([("u1", "p1"), ("u1", "p1"), ("u1", "p2"), ("u2", "p3")], "user_id string, product_id string")
    bought = spark.createDataFrame([("u2", "p3")], "user_id string, product_id string")
    with pytest.raises(QualityGateError) as failure:
        gate(settings, "dq-recs", "recommendations",
             [("recommendations", prepare.prepare_recommendations(recs, bought), suites.recommendations_suite())])
    assert "on times_recommended (2 unexpected)" in str(failure.value)
    assert "on already_purchased (1 unexpected)" in str(failure.value)
