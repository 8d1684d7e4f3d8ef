"""Training sets on hand-made events: tokens, padding, aggregates, labels, no leakage, weak scene rules."""

from __future__ import annotations

import math
from datetime import date, datetime

import pytest

from journey.models.btyd_features import BTYD_FEATURES, purchase_days, summaries
from journey.models.hparams import DataParams
from journey.models.training_data import (
    AGGREGATE_FEATURES,
    PROFILE_FEATURES,
    SceneRules,
    rule_scene,
    user_training_set,
)
from journey.schemas import CURATED_EVENT_COLUMNS, spark_schema

pytestmark = pytest.mark.spark

CUTOFF = date(2026, 10, 22)
PLAN = [(CUTOFF, "test")]
PARAMS = DataParams(behaviour_events=4, horizon_days=3, lookback_days=7)
FEATURES = ("seq_event", "seq_category", "seq_price", "seq_hour", "seq_channel", "seq_gap", *AGGREGATE_FEATURES,
            *[f"p_{c}" for c in PROFILE_FEATURES], *BTYD_FEATURES)


def event(n: int, when: str, kind: str, price: float | None, session: str, user: str = "u1", channel: str = "web"):
    """One curated event row."""
    moment = datetime.fromisoformat(when)
    category = "unknown" if kind == "search" else "home.kitchen"  # curated: no category -> unknown
    return (f"e{n}", moment, user, session, kind, None if price is None else f"p{n}", category, "Acme", price, 1,
            channel, None, moment.date())


BEFORE = [
    event(1, "2026-10-20 10:00:00", "view", 7.0, "s1"),
    event(2, "2026-10-20 10:00:30", "add_to_cart", 7.0, "s1"),
    event(3, "2026-10-21 09:00:00", "search", None, "s2", channel="app"),
    event(4, "2026-10-10 08:00:00", "view", 7.0, "s0"),  # outside the 7-day look-back
]
AFTER = [  # on and after the cut-off: pricey (bucket 15), must never reach the features
    event(5, "2026-10-22 00:00:00", "view", 90000.0, "s3"),
    event(6, "2026-10-23 12:00:00", "purchase", 90000.0, "s3"),
    event(7, "2026-10-26 12:00:00", "coupon_redeem", None, "s4"),  # after the 3-day horizon
]


@pytest.fixture(scope="module")
def events(spark):
    """The hand-made events as a curated-events DataFrame."""
    return spark.createDataFrame(BEFORE + AFTER, spark_schema(CURATED_EVENT_COLUMNS))


@pytest.fixture(scope="module")
def user_row(events):
    """The one user-set row of the hand-made events (computed once)."""
    rows = user_training_set(events, PLAN, PARAMS).collect()
    assert len(rows) == 1
    return rows[0]


def test_sequences_are_the_last_events_left_padded_with_tokens(user_row):
    row = user_row

    # view = EVENT_TYPES[0] -> token 2, add_to_cart -> 4, search -> 3; 0 pads the left
    assert row["seq_event"] == [0, 2, 4, 3]
    assert row["seq_price"] == [0, 4, 4, 0]  # floor(log2(7 + 1)) + 1 = 4; search has no price
    assert row["seq_hour"] == [0, 11, 11, 10]
    assert row["seq_channel"] == [0, 2, 2, 3]  # web -> 2, app -> 3
    assert row["seq_category"][:2] == [0, row["seq_category"][2]] and row["seq_category"][3] == 0
    assert row["seq_gap"][2] == pytest.approx(math.log1p(30.0))
    assert row["seq_gap"][3] == pytest.approx(math.log1p(22 * 3600 + 59 * 60 + 30))


def test_aggregates_and_labels(user_row):
    row = user_row

    assert (row["n_events"], row["n_sessions"], row["n_views"], row["n_carts"], row["n_searches"]) == (3, 2, 1, 1, 1)
    assert row["days_since_last_event"] == pytest.approx(15 / 24)  # Oct 21 09:00 -> Oct 22 00:00
    assert row["days_since_last_cart"] == pytest.approx(1 + (13 * 3600 + 59 * 60 + 30) / 86400)  # Oct 20 10:00:30
    assert row["days_since_last_purchase"] == 8.0  # none: look-back + 1
    assert row["label_purchase"] == 1  # purchase on Oct 23, inside [Oct 22, Oct 25)
    assert row["label_coupon"] == 0  # coupon on Oct 26, after the horizon
    assert row["p_views"] == 1 and row["p_frequency"] == 0


def test_no_event_on_or_after_the_cutoff_leaks_into_features(user_row, spark):
    only_before = spark.createDataFrame(BEFORE, spark_schema(CURATED_EVENT_COLUMNS))

    without_future = user_training_set(only_before, PLAN, PARAMS).select(*FEATURES).collect()

    assert [tuple(user_row[c] for c in FEATURES)] == [tuple(r) for r in without_future]
    assert 15 not in user_row["seq_price"]


def test_user_without_history_gets_no_row_and_labels_default_to_zero(spark):
    rows = [event(1, "2026-10-21 10:00:00", "view", 5.0, "s1", user="quiet"),
            event(2, "2026-10-23 10:00:00", "purchase", 5.0, "s2", user="newcomer")]
    frame = spark.createDataFrame(rows, spark_schema(CURATED_EVENT_COLUMNS))

    found = {r["user_id"]: r["label_purchase"] for r in user_training_set(frame, PLAN, PARAMS).collect()}

    assert found == {"quiet": 0}


RULE_CASES = [
    ({"n_coupons": 1.0}, "promo_hunt"),
    ({"n_searches": 1.0, "relative_price": -0.4}, "promo_hunt"),
    ({"n_purchases": 1.0, "n_carts": 1.0, "repeat_share": 0.8}, "replenish"),
    ({"n_carts": 1.0, "category_novelty": 0.9, "relative_price": 0.3}, "gift"),
    ({"n_views": 6.0, "distinct_categories": 1.0}, "compare"),
    ({"n_views": 2.0, "n_carts": 1.0, "distinct_categories": 1.0}, "targeted"),
    ({"n_views": 9.0, "distinct_categories": 5.0}, "browse"),
]


def test_weak_labelling_rules(spark):
    base = dict.fromkeys(("n_coupons", "n_searches", "relative_price", "n_purchases", "repeat_share",
                          "category_novelty", "n_carts", "n_views", "distinct_categories"), 0.0)
    frame = spark.createDataFrame([{**base, **features, "case": i} for i, (features, _) in enumerate(RULE_CASES)])

    found = frame.select("case", rule_scene(SceneRules()).alias("scene")).orderBy("case").collect()

    assert [r["scene"] for r in found] == [scene for _, scene in RULE_CASES]


def test_scene_features_cover_every_session(spark, events):
    from journey.models.training_data import scene_training_set

    truth = spark.createDataFrame([("s1", "targeted"), ("s2", "not-a-scene")], "session_id string, scene string")

    rows = {r["session_id"]: r for r in scene_training_set(events, truth, PARAMS).collect()}

    assert sorted(rows) == ["s0", "s1", "s2", "s3", "s4"]
    assert (rows["s1"]["label"], rows["s1"]["label_source"]) == ("targeted", "ground_truth")
    assert rows["s2"]["label_source"] == "weak_rule" and rows["s2"]["label"] == rows["s2"]["rule_scene"]
    # split by customer: one user's sessions are all on the same side
    assert len({r["split"] for r in rows.values()}) == 1 and rows["s0"]["split"] in ("train", "validation", "test")
    assert rows["s1"]["n_views"] == 1 and rows["s1"]["n_carts"] == 1 and rows["s1"]["seq_event"][-2:] == [2, 4]


def test_btyd_summary_counts_purchase_days_before_the_cutoff(spark):
    rows = [event(1, "2026-10-01 09:00:00", "purchase", 10.0, "a", user="buyer"),
            event(2, "2026-10-01 17:00:00", "purchase", 5.0, "b", user="buyer"),  # same day: one purchase of 15
            event(3, "2026-10-05 12:00:00", "purchase", 20.0, "c", user="buyer"),
            event(4, "2026-10-09 12:00:00", "purchase", 40.0, "d", user="buyer"),
            event(5, "2026-10-09 12:30:00", "view", 99.0, "d", user="buyer"),
            event(6, "2026-10-22 08:00:00", "purchase", 500.0, "e", user="buyer"),  # on the cut-off: after it
            event(7, "2026-10-12 08:00:00", "purchase", 8.0, "f", user="once")]
    frame = spark.createDataFrame(rows, spark_schema(CURATED_EVENT_COLUMNS))
    cutoffs = spark.createDataFrame([(CUTOFF,)], "cutoff date")

    found = {r["user_id"]: r for r in summaries(purchase_days(frame), cutoffs).collect()}

    # buyer: purchase days Oct 1, 5, 9 -> 2 repeat purchases, 8 days first-to-last, 20 days from Oct 1 to
    # Oct 21 (the day before the cut-off), mean repeat spend (20 + 40) / 2; once: no repeat purchase, 9 days
    buyer = found["buyer"]
    assert (buyer["btyd_repeat_purchases"], buyer["btyd_recency_days"], buyer["btyd_age_days"],
            buyer["btyd_mean_spend"]) == (2.0, 8.0, 20.0, 30.0)
    once = found["once"]
    assert (once["btyd_repeat_purchases"], once["btyd_recency_days"], once["btyd_age_days"],
            once["btyd_mean_spend"]) == (0.0, 0.0, 9.0, 0.0)
