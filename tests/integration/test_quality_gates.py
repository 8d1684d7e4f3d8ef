"""Quality gates with GX on Spark DataFrames: pass on good data, stop on bad, record everything."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pyspark.sql import functions as F

from journey import warehouse
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
def settings(warehouse_settings):
    """A Journey home with a running embedded PostgreSQL (tests/integration/conftest.py)."""
    return warehouse_settings


@pytest.fixture(scope="module")
def clean_batch(spark, settings, tmp_path_factory):
    """300 users x 12 days, ingested."""
    out = tmp_path_factory.mktemp("dq-data")
    generate(out, users=300, days=12, seed=21, end_date=END)
    return out, run_ingest(spark, settings, str(out / "events"), "canonical", "dq-clean", now=NOW)


CANONICAL_HEADER = "event_id,event_time,user_id,session_id,event_type,product_id,category,brand,price,quantity,channel"
BACKFILL_START = date(2025, 5, 1)  # 40 days: 20 views a day, a 3-day lull of 4 (days 16-18), 3 on the last day
BACKFILL_DAYS = {BACKFILL_START + timedelta(days=i): 4 if 15 <= i <= 17 else 3 if i == 39 else 20 for i in range(40)}


def write_views(path, tag: str, per_day: dict[date, int], guest_every: int = 0) -> str:
    """A canonical CSV of `per_day` views per date; every `guest_every`-th row has no user_id."""
    lines = [CANONICAL_HEADER]
    for day, rows in per_day.items():
        for i in range(rows):
            user = "" if guest_every and i % guest_every == 0 else f"u{i % 7}"
            lines.append(f"{tag}-{day:%Y%m%d}-{i},{day}T{i % 24:02d}:{i // 24 % 60:02d}:00Z,{user},s{i},view,"
                         f"p{i % 5},books,acme,10.0,1,web")
    path.mkdir(parents=True, exist_ok=True)
    (path / "events.csv").write_text("\n".join(lines) + "\n")
    return str(path)


def dq_rows(settings, run_id: str, dataset: str) -> list[tuple]:
    """(expectation, column, severity, success) recorded for a run."""
    with warehouse.connect(settings) as conn, conn.cursor() as cur:
        cur.execute("SELECT expectation, column_name, severity, success FROM journey.dq_results "
                    "WHERE run_id = %s AND dataset = %s ORDER BY expectation, column_name", (run_id, dataset))
        return cur.fetchall()


def test_clean_events_pass_and_are_recorded_with_data_docs(spark, settings, clean_batch):
    _, result = clean_batch
    outcomes = check_events(spark, settings, result, QualityParams(backfill="off"), NOW)
    assert all(o.success for o in outcomes if o.severity == "error")
    recorded = dq_rows(settings, "dq-clean", "events")
    assert len(recorded) == len(outcomes) > 20
    assert ("expect_column_values_to_be_unique", "event_id", "error", True) in recorded
    volume = [o for o in outcomes if o.suite == "events_daily_volume"]
    assert volume and volume[0].element_count == 12 - 3  # days with >= 3 earlier days of data
    assert volume[0].severity == "error"
    assert docs_index(settings).exists()


def test_too_much_quarantine_stops_the_run(spark, settings, tmp_path):
    generate(tmp_path, users=100, days=3, seed=5, dirty=0.2, end_date=END)
    result = run_ingest(spark, settings, str(tmp_path / "events"), "canonical", "dq-dirty", now=NOW)
    assert result.quarantined / result.rows_read > 0.05
    with pytest.raises(QualityGateError, match="quarantined_share"):
        check_events(spark, settings, result, QualityParams(), NOW)
    failed = [r for r in dq_rows(settings, "dq-dirty", "events") if not r[3]]
    assert ("expect_column_max_to_be_between", "quarantined_share", "error", False) in failed


def test_a_half_empty_day_fails_the_volume_check(spark):
    counts = {date(2026, 10, d): 1000 for d in range(20, 31)}
    counts[date(2026, 10, 31)] = 400
    ratios = prepare.volume_ratios(counts, [date(2026, 10, 31)], QualityParams())
    assert ratios == [{"event_date": date(2026, 10, 31), "rows": 400, "median": 1000.0, "ratio_to_median": 0.4}]
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


def test_a_quarter_of_guest_rows_fails_by_default_and_passes_when_expected(spark, settings, tmp_path):
    source = write_views(tmp_path, "guest", {date(2025, 3, 3): 100}, guest_every=4)
    result = run_ingest(spark, settings, source, "canonical", "dq-guests", now=NOW)
    assert result.by_reason == {"missing_user_id": 25}
    with pytest.raises(QualityGateError) as failure:
        check_events(spark, settings, result, QualityParams(), NOW)
    assert ("expect_column_max_to_be_between on quarantined_share (observed 0.25) exceeds max_quarantine_share 0.05 "
            "(DAG Param max_quarantine_share, --max-quarantine-share)") in str(failure.value)
    outcomes = check_events(spark, settings, result, QualityParams(expected_quarantine_reasons=("missing_user_id",)),
                            NOW)
    shares = {o.column_name: (o.success, o.observed_value) for o in outcomes if o.suite == "events_quarantine_share"}
    assert shares == {"quarantined_share": (True, "0.0"), "expected_share": (True, "0.25")}


def test_guest_order_lines_of_the_transactions_format_pass_by_default(spark, settings, tmp_path):
    lines = ["InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"]
    lines += [f"5000{i},2212{i % 3},MUG,2,2/1/2011 10:{i:02d},3.5,{'' if i % 4 == 0 else 12340 + i},United Kingdom"
              for i in range(8)]
    (tmp_path / "lines.csv").write_text("\n".join(lines) + "\n")
    result = run_ingest(spark, settings, str(tmp_path), "transactions", "dq-retail", now=NOW)
    assert (result.rows_read, result.by_reason) == (8, {"missing_user_id": 2})
    outcomes = check_events(spark, settings, result, QualityParams(), NOW)
    shares = {o.column_name: (o.success, o.observed_value) for o in outcomes if o.suite == "events_quarantine_share"}
    assert shares == {"quarantined_share": (True, "0.0"), "expected_share": (True, "0.25")}
    assert all(o.success for o in outcomes if o.severity == "error")


@pytest.fixture(scope="module")
def backfill_batch(spark, settings, tmp_path_factory):
    """40 days of history in one batch (a lull, a partial last day), ingested."""
    source = write_views(tmp_path_factory.mktemp("backfill"), "bf", BACKFILL_DAYS)
    return run_ingest(spark, settings, source, "canonical", "dq-backfill", now=NOW)


@pytest.mark.parametrize("mode", ["auto", "on"])
def test_a_backfill_with_a_lull_and_a_partial_last_day_passes(spark, settings, backfill_batch, mode):
    outcomes = check_events(spark, settings, backfill_batch, QualityParams(backfill=mode), NOW)
    volume = [o for o in outcomes if o.suite == "events_daily_volume"]
    # each day against the batch's median day (20): the lull (0.2) and the last day (0.15) warn
    assert [(o.severity, o.success, o.element_count, o.unexpected_count) for o in volume] == [("warn", False, 40, 4)]
    assert volume[0].observed_value.startswith("4 unexpected of 40 (10.00 %)")
    assert all(o.success for o in outcomes if o.severity == "error")


def test_the_same_backfill_fails_with_backfill_off_naming_the_params(spark, settings, backfill_batch):
    with pytest.raises(QualityGateError) as failure:
        check_events(spark, settings, backfill_batch, QualityParams(backfill="off"), NOW)
    assert ("expect_column_values_to_be_between on ratio_to_median (4 unexpected) outside volume band 0.5–2.0 × the "
            "trailing 7-day median (DAG Params volume_band_low, volume_band_high, volume_history_days, backfill, "
            "--volume-band-low, --volume-band-high, --volume-history-days, --backfill)") in str(failure.value)


def test_a_single_day_at_ten_times_the_trailing_median_still_fails(spark, settings, backfill_batch, tmp_path):
    source = write_views(tmp_path, "spike", {date(2025, 6, 10): 200})  # the 7 days before: 20 x 6 and 3
    result = run_ingest(spark, settings, source, "canonical", "dq-spike", now=NOW)
    with pytest.raises(QualityGateError, match=r"on ratio_to_median \(1 unexpected\) outside volume band"):
        check_events(spark, settings, result, QualityParams(), NOW)
    with warehouse.connect(settings) as conn, conn.cursor() as cur:
        cur.execute("SELECT observed_value FROM journey.dq_results WHERE run_id = 'dq-spike' "
                    "AND suite = 'events_daily_volume'")
        assert cur.fetchall() == [("1 unexpected of 1 (100.00 %): [10.0]",)]


def test_old_history_passes_the_time_floor(spark, settings, tmp_path):
    source = write_views(tmp_path, "cdnow", {date(1997, 1, 1): 10})  # the CDNOW log starts here
    result = run_ingest(spark, settings, source, "canonical", "dq-1997", now=NOW)
    assert (result.curated, result.quarantined) == (10, 0)
    outcomes = check_events(spark, settings, result, QualityParams(), NOW)
    floor = [o for o in outcomes if o.column_name == "event_time" and o.expectation.endswith("between")]
    assert [(o.success, o.observed_value) for o in floor] == [(True, "0 unexpected of 10 (0.00 %)")]


def test_every_recorded_check_has_an_observed_value(settings):
    with warehouse.connect(settings) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*), count(*) FILTER (WHERE coalesce(observed_value, '') = '') "
                    "FROM journey.dq_results")
        total, empty = cur.fetchone()
        cur.execute("SELECT observed_value FROM journey.dq_results WHERE run_id = 'dq-seg' "
                    "AND expectation = 'expect_column_values_to_be_unique' AND column_name = 'user_id'")
        (unique_users,) = cur.fetchone()
    assert total > 100 and empty == 0
    assert unique_users == "0 unexpected of 2 (0.00 %)"


def test_a_second_campaign_passes_the_same_suite_in_the_same_home(spark, settings):
    """Each campaign is its own GX asset under one suite name: the second campaign's gate must find the first's
    validation definition's asset still there (it failed with "Could not find asset named 'campaign:…'")."""
    consents = spark.createDataFrame([("u1", "email"), ("u2", "push")], "user_id string, channel string")
    holdout = spark.createDataFrame([("u9",)], "user_id string")
    for campaign in ("spring-gx", "summer-gx"):
        coupons = spark.createDataFrame([(campaign, "u1", "email", 5.0), (campaign, "u2", "push", 4.0)],
                                        "campaign_id string, user_id string, channel string, expected_cost double")
        frame = prepare.prepare_assignments(coupons, holdout, consents)
        outcomes = gate(settings, f"dq-{campaign}", f"campaign:{campaign}",
                        [("assignments", frame, suites.assignments_suite(budget=100.0))])
        assert outcomes and all(o.success for o in outcomes), campaign
        assert dq_rows(settings, f"dq-{campaign}", f"campaign:{campaign}")
