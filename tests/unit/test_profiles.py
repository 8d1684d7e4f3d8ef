"""Profile transforms on hand-made events; every expected value is worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pyspark.sql import Row
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    MapType,
    ShortType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)
from pyspark.testing import assertDataFrameEqual, assertSchemaEqual

from journey.errors import InputError
from journey.profiles.build import (
    PROFILE_COLUMNS,
    Cadence,
    LifecycleRules,
    ProfileParams,
    build_profiles,
    build_profiles_with_cadence,
    estimate_cadence,
    left_out,
    lifecycle_stage,
    purchase_gap,
    rfm_label,
    score,
    user_aggregates,
)
from journey.runtime.spark import shared_exchanges
from journey.schemas import CURATED_EVENT_COLUMNS, ddl

SNAPSHOT = date(2026, 10, 10)


def ts(day: int, hour: int, minute: int = 0, month: int = 10) -> datetime:
    """A UTC timestamp in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def event(eid, when, user, session, etype, product=None, category=None, brand=None, price=None, qty=1):
    """One curated event row."""
    return (eid, when, user, session, etype, product, category, brand, price, qty, "web", None, when.date())


# u1: three sessions, two orders (one with a coupon, quantity 2), one abandoned cart.
# u2: one view five weeks before the snapshot.
# u3: three single-purchase sessions, long-time customer.
EVENTS = [
    event("e1", ts(1, 10, 0), "u1", "s1", "view", "p1", "electronics.audio", "acme", 100.0),
    event("e2", ts(1, 10, 2), "u1", "s1", "add_to_cart", "p1", "electronics.audio", "acme", 100.0),
    event("e3", ts(1, 10, 5), "u1", "s1", "purchase", "p1", "electronics.audio", "acme", 100.0),
    event("e4", ts(5, 20, 0), "u1", "s2", "view", "p2", "apparel.shoes", "zed", 50.0),
    event("e5", ts(5, 20, 1), "u1", "s2", "add_to_cart", "p2", "apparel.shoes", "zed", 50.0),
    event("e6", ts(8, 20, 30), "u1", "s3", "view", "p3", "electronics.tv", "acme", 300.0),
    event("e7", ts(8, 20, 31), "u1", "s3", "add_to_cart", "p3", "electronics.tv", "acme", 300.0),
    event("e8", ts(8, 20, 32), "u1", "s3", "coupon_redeem", None, "unknown", None, None),
    event("e9", ts(8, 20, 33), "u1", "s3", "purchase", "p3", "electronics.tv", "acme", 300.0, qty=2),
    event("e10", ts(1, 9, 0, month=9), "u2", "s4", "view", "p1", "electronics.audio", "acme", 100.0),
    event("e11", ts(9, 8, 0), "u3", "s5", "purchase", "p9", "grocery.tea", "leaf", 10.0),
    event("e12", ts(9, 18, 0), "u3", "s6", "purchase", "p9", "grocery.tea", "leaf", 10.0),
    event("e13", ts(10, 8, 0), "u3", "s7", "purchase", "p9", "grocery.tea", "leaf", 10.0),
    # u4: no category (null or "unknown") and no brand; one event at 9h, one at 7h (a tie)
    event("e15", ts(9, 9, 0), "u4", "s9", "view", "p7", None, None, 5.0),
    event("e16", ts(9, 7, 0), "u4", "s9", "search", None, "unknown", None, None),
    # u5: five views over four categories (toys twice), all brand b1
    event("e17", ts(7, 12, 0), "u5", "s10", "view", "t1", "toys.blocks", "b1", 9.0),
    event("e18", ts(7, 12, 1), "u5", "s10", "view", "t2", "toys.dolls", "b1", 9.0),
    event("e19", ts(7, 12, 2), "u5", "s10", "view", "g1", "garden.tools", "b1", 9.0),
    event("e20", ts(7, 12, 3), "u5", "s10", "view", "k1", "books.novels", "b1", 9.0),
    event("e21", ts(7, 12, 4), "u5", "s10", "view", "a1", "art.paint", "b1", 9.0),
    # outside the window (after the snapshot): must be ignored
    event("e14", ts(11, 8, 0), "u3", "s8", "purchase", "p9", "grocery.tea", "leaf", 999.0),
]
USERS = [("u1", date(2026, 1, 1)), ("u2", date(2025, 6, 1)), ("u3", date(2026, 2, 1))]
# The contract of a profile row (the warehouse's user_profiles without run_id), typed by hand.
PROFILE_SCHEMA = StructType([StructField(name, kind) for name, kind in [
    ("user_id", StringType()), ("snapshot_date", DateType()), ("first_seen", TimestampType()),
    ("last_seen", TimestampType()), ("tenure_days", IntegerType()), ("days_since_last_event", IntegerType()),
    ("recency_days", IntegerType()), ("frequency", LongType()), ("monetary", DoubleType()),
    ("avg_order_value", DoubleType()), ("r_score", ShortType()), ("f_score", ShortType()), ("m_score", ShortType()),
    ("rfm_segment", StringType()), ("sessions", LongType()), ("views", LongType()), ("searches", LongType()),
    ("carts", LongType()), ("purchases", LongType()), ("coupon_redemptions", LongType()),
    ("cart_abandonment_rate", DoubleType()), ("conversion_rate", DoubleType()), ("coupon_usage_rate", DoubleType()),
    ("category_affinity", MapType(StringType(), DoubleType())), ("top_categories", ArrayType(StringType())),
    ("brand_concentration", DoubleType()), ("preferred_hour", ShortType()), ("lifecycle_stage", StringType()),
]])


@pytest.fixture(scope="module")
def profile_frame(spark):
    """build_profiles over the hand-made events and users."""
    events = spark.createDataFrame(EVENTS, ddl(CURATED_EVENT_COLUMNS))
    users = spark.createDataFrame(USERS, "user_id string, signup_date date")
    return build_profiles(events, users, ProfileParams(snapshot_date=SNAPSHOT))


@pytest.fixture(scope="module")
def profiles(profile_frame):
    """The profiles as dicts, keyed by user_id."""
    return {r["user_id"]: r.asDict() for r in profile_frame.collect()}


def test_profiles_have_the_contract_schema(profile_frame):
    assertSchemaEqual(profile_frame.schema, PROFILE_SCHEMA)
    assert tuple(profile_frame.columns) == PROFILE_COLUMNS


def test_one_row_per_user_seen(profile_frame):
    assertDataFrameEqual(profile_frame.select("user_id"), [Row(user_id=u) for u in ("u1", "u2", "u3", "u4", "u5")])


def test_rfm_inputs_and_rates(profiles):
    u1 = profiles["u1"]
    assert (u1["frequency"], u1["monetary"], u1["avg_order_value"]) == (2, 700.0, 350.0)
    assert (u1["recency_days"], u1["days_since_last_event"], u1["tenure_days"]) == (2, 2, 282)
    assert (u1["sessions"], u1["views"], u1["carts"], u1["purchases"], u1["coupon_redemptions"]) == (3, 3, 3, 2, 1)
    assert u1["conversion_rate"] == pytest.approx(2 / 3)
    assert u1["cart_abandonment_rate"] == pytest.approx(1 / 3)
    assert u1["coupon_usage_rate"] == pytest.approx(0.5)


def test_affinity_brand_and_hour(profiles):
    u1 = profiles["u1"]
    # electronics: (view 1 + cart 3 + purchase 5) x 2 sessions = 18; apparel: view 1 + cart 3 = 4
    assert u1["category_affinity"] == pytest.approx({"electronics": 18 / 22, "apparel": 4 / 22})
    assert u1["top_categories"] == ["electronics", "apparel"]
    # acme 6 events, zed 2 → 0.75² + 0.25²
    assert u1["brand_concentration"] == pytest.approx(0.625)
    # hour 20 has 6 events, hour 10 has 3
    assert u1["preferred_hour"] == 20


def test_users_without_categories_or_brands_and_hour_ties(profiles):
    u4, u5 = profiles["u4"], profiles["u5"]
    assert u4["category_affinity"] == {"unknown": 1.0} and u4["top_categories"] == ["unknown"]
    assert u4["brand_concentration"] is None
    assert u4["preferred_hour"] == 7  # one event at 7h and one at 9h: the earlier hour wins
    assert u5["category_affinity"] == pytest.approx({"toys": 0.4, "garden": 0.2, "books": 0.2, "art": 0.2})
    assert u5["top_categories"] == ["toys", "art", "books"]  # three at 0.2: by name
    assert u5["brand_concentration"] == pytest.approx(1.0)
    assert (u5["sessions"], u5["views"], u5["frequency"], u5["monetary"]) == (1, 5, 0, 0.0)


def test_non_buyer_is_a_prospect_and_churned(profiles):
    u2 = profiles["u2"]
    assert (u2["frequency"], u2["monetary"], u2["recency_days"], u2["avg_order_value"]) == (0, 0.0, None, None)
    assert (u2["r_score"], u2["f_score"], u2["m_score"], u2["rfm_segment"]) == (1, 1, 1, "prospect")
    assert u2["days_since_last_event"] == 39
    assert u2["lifecycle_stage"] == "churned"
    assert u2["cart_abandonment_rate"] is None and u2["coupon_usage_rate"] is None


def test_events_after_snapshot_are_ignored(profiles):
    u3 = profiles["u3"]
    assert (u3["frequency"], u3["monetary"], u3["recency_days"]) == (3, 30.0, 0)


def test_lifecycle_stages(profile_frame):
    # u1: 2 orders, bought 2 days ago, customer since January → active; u2: last event 39 days ago → churned;
    # u3: 3 orders, the last today → loyal; u4 and u5: no signup date, first seen 1 and 3 days ago → new
    assertDataFrameEqual(profile_frame.select("user_id", "lifecycle_stage"), [
        Row(user_id="u1", lifecycle_stage="active"), Row(user_id="u2", lifecycle_stage="churned"),
        Row(user_id="u3", lifecycle_stage="loyal"), Row(user_id="u4", lifecycle_stage="new"),
        Row(user_id="u5", lifecycle_stage="new"),
    ])


def test_a_given_cadence_sets_the_stages(spark):
    # T = 1 day. u1: gap (Oct 8 − Oct 1) / 1 = 7 → g = 7, bought 2 days ago, 2 orders → active; u2: non-buyer
    # quiet 39 days > 3 → churned; u3: 3 orders over 1 day → g = max(1, 0.5) = 1, bought today → loyal;
    # u4: first seen 1 day ago ≤ T → new; u5: quiet 3 days (not > 3), first seen 3 days ago, no orders → active.
    events = spark.createDataFrame(EVENTS, ddl(CURATED_EVENT_COLUMNS))
    users = spark.createDataFrame(USERS, "user_id string, signup_date date")
    profiles, cadence = build_profiles_with_cadence(events, users, ProfileParams(snapshot_date=SNAPSHOT, cadence_days=1))
    assert cadence == Cadence(1.0)
    assertDataFrameEqual(profiles.select("user_id", "lifecycle_stage"), [
        Row(user_id="u1", lifecycle_stage="active"), Row(user_id="u2", lifecycle_stage="churned"),
        Row(user_id="u3", lifecycle_stage="loyal"), Row(user_id="u4", lifecycle_stage="new"),
        Row(user_id="u5", lifecycle_stage="active"),
    ])


BUYERS = [  # user, orders, first and last purchase day (January 2026)
    ("a", 3, 1, 21),  # 20 days over 2 gaps → 10
    ("b", 2, 1, 31),  # → 30
    ("c", 5, 1, 21),  # 20 days over 4 gaps → 5
    ("d", 1, 5, 5),  # one order: no gap
    ("e", 0, None, None),  # never bought
]


def buyer_frame(spark):
    """BUYERS with their purchase_gap_days."""
    rows = [(u, n, f and datetime(2026, 1, f, 9, tzinfo=UTC), la and datetime(2026, 1, la, 17, tzinfo=UTC))
            for u, n, f, la in BUYERS]
    frame = spark.createDataFrame(rows, "user_id string, frequency long, first_purchase timestamp, last_purchase timestamp")
    return frame.withColumn("purchase_gap_days", purchase_gap())


def test_cadence_is_the_median_gap_of_repeat_buyers(spark):
    buyers = buyer_frame(spark)
    gaps = {r["user_id"]: r["purchase_gap_days"] for r in buyers.collect()}
    assert gaps == {"a": 10.0, "b": 30.0, "c": 5.0, "d": None, "e": None}
    assert estimate_cadence(buyers, LifecycleRules(min_repeat_buyers=3)) == Cadence(10.0, 3)


def test_too_few_repeat_buyers_fall_back_to_fixed_days(spark):
    cadence = estimate_cadence(buyer_frame(spark), LifecycleRules(min_repeat_buyers=4))
    assert cadence == Cadence(None, 3)
    assert cadence.describe() == "fixed day thresholds (only 3 repeat buyers, too few to estimate a cadence)"
    assert Cadence(None).describe() == "fixed day thresholds (as asked)"
    assert Cadence(42.0, 812).describe() == "cadence T = 42 days (median gap of 812 repeat buyers)"


STAGE_COLUMNS = "user_id string, days_since_last_event int, tenure_days int, frequency long, recency_days int, " \
                "purchase_gap_days double"


@pytest.mark.parametrize(("cadence", "rows"), [
    (Cadence(10.0, 50), [  # T = 10, g = max(T, own gap): new ≤ T, at_risk recency > 1.5·g, churned quiet > 3·g
        ("quiet_3T", 30, 100, 1, 30, None, "at_risk"), ("quiet_past_3T", 31, 100, 1, 31, None, "churned"),
        ("tenure_T", 0, 10, 1, 0, None, "new"), ("tenure_past_T", 0, 11, 1, 0, None, "active"),
        ("loyal_1.5T", 15, 200, 3, 15, 5.0, "loyal"), ("late_past_1.5T", 16, 200, 3, 16, 5.0, "at_risk"),
        ("slow_own_gap", 30, 200, 4, 30, 20.0, "loyal"), ("slow_past_3g", 61, 200, 4, 61, 20.0, "churned"),
        ("browser_3T", 30, 50, 0, None, None, "active"), ("browser_past_3T", 31, 50, 0, None, None, "churned"),
        ("bought_long_ago_browses", 2, 100, 1, 20, None, "at_risk"),
    ]),
    (Cadence(None, 3), [  # fixed: churned quiet > 21 days, new ≤ 14, at_risk recency > 14
        ("quiet_21", 21, 100, 1, 21, None, "at_risk"), ("quiet_22", 22, 100, 1, 22, None, "churned"),
        ("tenure_14", 0, 14, 1, 0, None, "new"), ("loyal_14", 14, 100, 3, 14, 40.0, "loyal"),
        ("recent_15", 15, 100, 3, 15, 40.0, "at_risk"), ("two_orders", 3, 100, 2, 3, 40.0, "active"),
    ]),
])
def test_lifecycle_stage_boundaries(spark, cadence, rows):
    frame = spark.createDataFrame([r[:-1] for r in rows], STAGE_COLUMNS)
    staged = frame.select("user_id", lifecycle_stage(LifecycleRules(), cadence).alias("stage"))
    assertDataFrameEqual(staged, [Row(user_id=r[0], stage=r[-1]) for r in rows])


def test_lookback_zero_keeps_all_history(spark):
    old = event("e30", datetime(2024, 1, 1, 12, tzinfo=UTC), "u6", "s30", "purchase", "p9", "grocery.tea", "leaf", 20.0)
    events = spark.createDataFrame([*EVENTS, old], ddl(CURATED_EVENT_COLUMNS))
    everything, month = ProfileParams(snapshot_date=SNAPSHOT), ProfileParams(snapshot_date=SNAPSHOT, lookback_days=30)

    all_history = {r["user_id"]: r["frequency"] for r in build_profiles(events, None, everything).collect()}
    last_month = {r["user_id"] for r in build_profiles(events, None, month).collect()}

    assert everything.lookback_days == 0
    assert all_history == {"u1": 2, "u2": 0, "u3": 3, "u4": 0, "u5": 0, "u6": 1}  # e14 after the snapshot: out
    assert last_month == {"u1", "u3", "u4", "u5"}  # the window is Sep 11..Oct 10
    assert left_out(events, everything) == (0, 0)
    assert left_out(events, month) == (2, 2)  # e10 of u2 (Sep 1) and e30 of u6


def test_negative_lookback_or_cadence_is_rejected():
    with pytest.raises(InputError, match="lookback_days"):
        ProfileParams(snapshot_date=SNAPSHOT, lookback_days=-1)
    with pytest.raises(InputError, match="cadence_days"):
        ProfileParams(snapshot_date=SNAPSHOT, cadence_days=-3)


def test_rfm_scores_among_buyers(profiles):
    # Two buyers: u3 more recent (0 vs 2 days), more frequent (3 vs 2), lower spend (30 vs 700).
    u1, u3 = profiles["u1"], profiles["u3"]
    assert u3["r_score"] > u1["r_score"]
    assert u3["f_score"] > u1["f_score"]
    assert u1["m_score"] > u3["m_score"]


def test_score_thresholds(spark):
    df = spark.createDataFrame([(0.0,), (5.0,), (10.0,), (25.0,), (90.0,)], "x double")
    thresholds = [1.0, 6.0, 20.0, 50.0]
    scored = df.select("x", score("x", thresholds).alias("score"), score("x", thresholds, invert=True).alias("inv"))
    assertDataFrameEqual(scored, [Row(x=0.0, score=1, inv=5), Row(x=5.0, score=2, inv=4), Row(x=10.0, score=3, inv=3),
                                  Row(x=25.0, score=4, inv=2), Row(x=90.0, score=5, inv=1)])


@pytest.mark.parametrize(
    ("r", "f", "label"),
    [(5, 5, "champions"), (5, 1, "new_customers"), (4, 1, "promising"), (3, 3, "need_attention"),
     (1, 5, "cant_lose"), (2, 3, "at_risk"), (1, 1, "hibernating"), (3, 4, "loyal"), (3, 2, "about_to_sleep"),
     (4, 2, "potential_loyalist")],
)
def test_rfm_label_grid(spark, r, f, label):
    df = spark.createDataFrame([(r, f)], "r int, f int")
    assert df.select(rfm_label(F.col("r"), F.col("f"))).first()[0] == label


def _aggregations_of_events(spark):
    """The per-user aggregations of build_profiles over the hand-made events (not yet run)."""
    events = spark.createDataFrame(EVENTS, ddl(CURATED_EVENT_COLUMNS))
    return user_aggregates(events, ProfileParams(snapshot_date=SNAPSHOT))


def test_shared_exchanges_keep_the_rows_and_restore_the_excluded_rules(spark):
    # How many times the events are shuffled is a plan property, checked by `python -m journey.perf.plans`.
    excluded, already = "spark.sql.optimizer.excludedRules", "org.apache.spark.sql.catalyst.optimizer.CollapseRepartition"
    spark.conf.set(excluded, already)
    try:
        shared = _aggregations_of_events(spark)
        with shared_exchanges(spark):
            inside = spark.conf.get(excluded)
            shared_rows = shared.collect()
        after = spark.conf.get(excluded)
    finally:
        spark.conf.unset(excluded)
    separate_rows = _aggregations_of_events(spark).collect()

    assert inside == f"{already},org.apache.spark.sql.catalyst.optimizer.ColumnPruning"
    assert after == already
    assertDataFrameEqual(shared_rows, separate_rows)
    assert len(shared_rows) == 5
