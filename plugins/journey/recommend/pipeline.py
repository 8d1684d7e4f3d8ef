"""Recommendations for a campaign audience, and their offline evaluation against popularity."""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, timedelta

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from journey.recommend.evaluate import Metrics, metrics
from journey.recommend.hybrid import recommend, recommend_popular
from journey.recommend.interactions import interactions, products, purchased, split, weighted_events
from journey.recommend.models import RecommendParams
from journey.runtime.spark import fixed_shuffle_partitions

LOOKBACK_DAYS = 180
EVAL_DAYS = 7
# Users per shuffle partition while recommending: each user brings up to basket_size × neighbours
# (30 × 20) co-occurrence candidate rows before the per-user top-N, so ~6M rows per task at most.
USERS_PER_PARTITION = 10_000


@dataclass(frozen=True)
class Evaluation:
    """Hybrid and popularity metrics on one time split."""

    split_date: date
    hybrid: Metrics
    popularity: Metrics


def window(events: DataFrame, snapshot_date: date) -> DataFrame:
    """Weighted events of the look-back window ending on the snapshot date."""
    start = snapshot_date - timedelta(days=LOOKBACK_DAYS - 1)
    return weighted_events(events.where(F.col("event_date").between(F.lit(start), F.lit(snapshot_date))))


def audience_partitions(configured: int, users: int) -> int:
    """Shuffle partitions for recommending to `users` users: the configured count, or one per
    USERS_PER_PARTITION users when that is more."""
    return max(configured, math.ceil(users / USERS_PER_PARTITION))


def sized_for_audience(spark, users: int):
    """Context for the recommendation actions: above configured × USERS_PER_PARTITION users, fixed
    shuffle partitions scaled to the audience; below, adaptive execution as everywhere else.

    Adaptive execution sizes partitions by shuffled bytes, before the candidate joins multiply the
    rows: at 1M users it put every user's candidates in one task, which ran out of heap.
    """
    configured = int(spark.conf.get("spark.sql.shuffle.partitions"))
    partitions = audience_partitions(configured, users)
    return fixed_shuffle_partitions(spark, partitions) if partitions > configured else nullcontext()


def recommend_for(events: DataFrame, snapshot_date: date, users: DataFrame, params: RecommendParams,
                  title_neighbours: DataFrame | None = None) -> DataFrame:
    """Top-K products for each user of `users`, trained on the look-back window; nothing ever bought."""
    weighted = window(events, snapshot_date).cache()
    ever_bought = purchased(weighted_events(events.where(F.col("event_date") <= F.lit(snapshot_date))))
    return recommend(weighted, interactions(weighted), products(weighted), users, ever_bought, params,
                     title_neighbours)


def evaluate(events: DataFrame, snapshot_date: date, params: RecommendParams, eval_days: int = EVAL_DAYS,
             title_neighbours: DataFrame | None = None) -> Evaluation:
    """Train before the last `eval_days` days, test on them: hybrid (with titles when given) vs popularity."""
    split_date = snapshot_date - timedelta(days=eval_days - 1)
    train_events, test = split(window(events, snapshot_date), split_date)
    train_events, test = train_events.cache(), test.cache()
    train, catalog = interactions(train_events).cache(), products(train_events).cache()
    bought = purchased(train_events).cache()
    test_users = test.select("user_id").distinct()
    size = catalog.count()
    hybrid = recommend(train_events, train, catalog, test_users, bought, params, title_neighbours).cache()
    popular = recommend_popular(train, catalog, test_users, bought, params).cache()
    result = Evaluation(split_date, metrics("hybrid", hybrid, test, size, params.k),
                        metrics("popularity", popular, test, size, params.k))
    for frame in (hybrid, popular, train_events, test, train, catalog, bought):
        frame.unpersist()
    return result
