"""Stable segment ids and readable names: pure functions, hand-made centroids."""

from __future__ import annotations

import math

from journey.profiles.segments import match_ids, name_segments, segment_name

FEATURES = ["log_orders", "log_monetary"]
STD = [1.0, 1.0]


def test_first_run_numbers_clusters_by_size():
    centroids = {0: [0.0, 0.0], 1: [2.0, 5.0], 2: [1.0, 2.0]}
    sizes = {0: 50, 1: 10, 2: 30}
    assert match_ids(centroids, sizes, {}, FEATURES, STD, max_distance=3.0) == {0: 1, 2: 2, 1: 3}


def test_clusters_keep_the_id_of_the_nearest_previous_centroid():
    previous = {7: {"log_orders": 2.1, "log_monetary": 5.1}, 3: {"log_orders": 0.1, "log_monetary": 0.0}}
    centroids = {0: [2.0, 5.0], 1: [0.0, 0.1]}
    sizes = {0: 10, 1: 90}
    assert match_ids(centroids, sizes, previous, FEATURES, STD, max_distance=3.0) == {0: 7, 1: 3}


def test_a_far_or_extra_cluster_gets_a_new_id_after_the_largest():
    previous = {4: {"log_orders": 0.0, "log_monetary": 0.0}}
    centroids = {0: [0.2, 0.1], 1: [9.0, 9.0]}
    sizes = {0: 60, 1: 40}
    assert match_ids(centroids, sizes, previous, FEATURES, STD, max_distance=3.0) == {0: 4, 1: 5}
    # the same cluster farther than max_distance from every previous centroid is new too
    assert match_ids({0: [5.0, 5.0]}, {0: 1}, previous, FEATURES, STD, max_distance=3.0) == {0: 5}


def centroid(orders: float, money: float, coupon: float = 0.0, days: float = 2.0, sessions: float = 3.0,
             conversion: float = 0.2, electronics: float = 0.5, apparel: float = 0.5) -> dict[str, float]:
    """A centroid in feature space from readable raw values."""
    return {
        "log_days_since_last_event": math.log1p(days), "log_orders": math.log1p(orders),
        "log_monetary": math.log1p(money), "log_sessions": math.log1p(sessions),
        "log_avg_order_value": math.log1p(money / orders if orders else 0.0),
        "conversion_rate": conversion, "cart_abandonment_rate": 0.3, "coupon_usage_rate": coupon,
        "aff_electronics": electronics, "aff_apparel": apparel,
    }


def test_names_describe_value_behaviour_and_category():
    centroids = {
        1: centroid(orders=6, money=3000, electronics=0.8, apparel=0.2, conversion=0.6),
        2: centroid(orders=2, money=120, coupon=0.9, electronics=0.1, apparel=0.9),
        3: centroid(orders=0, money=0, days=25, sessions=1, conversion=0.0),
    }
    features = list(centroids[1])
    mean = {f: sum(c[f] for c in centroids.values()) / 3 for f in features}
    std = {f: (sum((c[f] - mean[f]) ** 2 for c in centroids.values()) / 3) ** 0.5 or 1.0 for f in features}
    names = name_segments(centroids, mean, std)
    assert names[1].startswith("High-value") and names[1].endswith("· electronics")
    assert names[2] == "Mid-value deal seekers · apparel"
    assert names[3].startswith("Non-buying dormant visitors")


def test_duplicate_names_are_numbered():
    same = centroid(orders=1, money=50)
    centroids = {sid: dict(same) for sid in (1, 2, 3, 4)}  # four equal spenders: 1 and 2 are both low tier
    names = name_segments(centroids, dict(same), {f: 1.0 for f in same})
    assert names[1] == "Low-value shoppers · apparel"
    assert names[2] == "Low-value shoppers · apparel #2"
    assert len(set(names.values())) == 4


def population(centroids: dict[int, dict[str, float]]) -> tuple[dict[str, float], dict[str, float]]:
    """Mean and standard deviation of each feature over the centroids (1 where constant)."""
    features = list(next(iter(centroids.values())))
    n = len(centroids)
    mean = {f: sum(c[f] for c in centroids.values()) / n for f in features}
    std = {f: (sum((c[f] - mean[f]) ** 2 for c in centroids.values()) / n) ** 0.5 or 1.0 for f in features}
    return mean, std


BROWSE_WORDS = ("brows", "visit", "decisive")


def test_a_transaction_only_feed_is_named_by_value_frequency_and_recency():
    # Order lines: every session is an invoice (conversion 1, a few invoices are returns only), no categories.
    # The top cluster has a few more sessions than orders, which a click-stream reading calls "browsers".
    centroids = {
        1: centroid(orders=8.6, money=3000, days=30, sessions=9.5, conversion=1.0, electronics=0.0, apparel=0.0),
        2: centroid(orders=1, money=40, days=400, sessions=1, conversion=1.0, electronics=0.0, apparel=0.0),
        3: centroid(orders=2, money=150, days=100, sessions=2, conversion=1.0, electronics=0.0, apparel=0.0),
    }
    mean, std = population(centroids)

    as_clicks = name_segments(centroids, mean, std)
    names = name_segments(centroids, mean, std, absent=("view", "add_to_cart"))

    assert as_clicks[1] == "High-value browsers"
    # z of log orders: 1.37 / −0.99 / −0.37; of log days since the last event: −1.20 / 1.25 / −0.06
    assert names == {1: "High-value frequent buyers, recent", 2: "Low-value one-time buyers, lapsing",
                     3: "Mid-value repeat buyers"}
    assert not [n for n in names.values() if any(w in n.lower() for w in BROWSE_WORDS)]


def test_non_buyers_of_a_transaction_only_feed_are_customers_not_visitors():
    quiet = centroid(orders=0, money=0, days=300, sessions=1, conversion=0.0)
    z = {f: 0.0 for f in quiet} | {"log_days_since_last_event": 1.0}
    assert segment_name(quiet, z, "Low-value", visits=False) == "Non-buying customers, lapsing · apparel"
    assert segment_name(quiet, z, "Low-value") == "Non-buying dormant visitors · apparel"
