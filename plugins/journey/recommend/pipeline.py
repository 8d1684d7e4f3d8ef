"""Recommendations for a campaign audience, and their offline evaluation against plain ALS and popularity.

Offline evaluation (standard protocol): within the look-back window, each user's latest
`holdout_fraction` of events (users with at least 2) is the test set, scored on the products the
user had not interacted with in training; the hybrid is tuned on the training part only
(journey.recommend.tuning), and plain ALS (the ALS source alone, tuned settings) and popularity
are scored on the same users with the same exclusions; so is the two-tower alone when
`params.two_tower` is on and it could train (tuning.unused says why not otherwise).
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import date

from pyspark.sql import DataFrame

from journey.recommend.evaluate import Metrics, metrics
from journey.recommend.hybrid import (
    active_weights,
    candidate_sources,
    popular_fill,
    ranked,
    recommend,
    single,
    unused_sources,
)
from journey.recommend.interactions import excluded, in_window, interactions, products, temporal_split, weighted_events
from journey.recommend.models import TWO_TOWER, RecommendParams, sources_for
from journey.recommend.tuning import Tuning, tune
from journey.runtime.spark import fixed_shuffle_partitions

# Users per shuffle partition while recommending: each user brings up to basket_size × neighbours
# (30 × 20) co-occurrence candidate rows before the per-user top-N, so ~6M rows per task at most.
USERS_PER_PARTITION = 10_000
SHORT_LIST_REASON = "fewer than K products left after the exclusions (the user has seen most candidates)"


@dataclass(frozen=True)
class Evaluation:
    """Hybrid, plain ALS and popularity metrics on the same per-user time split, and the tuning used;
    with the two-tower source on (and able to train), the two-tower alone too."""

    hybrid: Metrics
    als: Metrics
    popularity: Metrics
    tuning: Tuning
    two_tower: Metrics | None = None

    @property
    def models(self) -> tuple[Metrics, ...]:
        """The rows, hybrid first (two_tower last, when evaluated)."""
        rows = (self.hybrid, self.als, self.popularity)
        return rows if self.two_tower is None else (*rows, self.two_tower)


def window(events: DataFrame, snapshot_date: date, lookback_days: int) -> DataFrame:
    """Weighted events of the look-back window ending on the snapshot date (0 days = all history)."""
    return weighted_events(in_window(events, snapshot_date, lookback_days))


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


def tuned(weighted: DataFrame, params: RecommendParams, title_neighbours: DataFrame | None) -> Tuning:
    """The tuning on these training events (or the params as given when tuning is off)."""
    return tune(weighted, params, title_neighbours) if params.tune else Tuning(params)


def tune_for(events: DataFrame, snapshot_date: date, params: RecommendParams,
             title_neighbours: DataFrame | None = None) -> Tuning:
    """Tune on the look-back window ending on the snapshot date (validation: each user's latest events)."""
    return tuned(window(events, snapshot_date, params.lookback_days).cache(), params, title_neighbours)


def recommend_for(events: DataFrame, snapshot_date: date, users: DataFrame, params: RecommendParams,
                  title_neighbours: DataFrame | None = None) -> DataFrame:
    """Top-K products for each user of `users`, trained on the look-back window with `params` as given
    (pass `tune_for(...).params` or `evaluate(...).tuning.params` for tuned settings); excluded products
    (params.exclude) of the whole history up to the snapshot never come back."""
    weighted = window(events, snapshot_date, params.lookback_days).cache()
    never_again = excluded(window(events, snapshot_date, 0), params.exclude)
    return recommend(weighted, interactions(weighted, params.half_life_days), products(weighted), users,
                     never_again, params, title_neighbours)


def evaluate(events: DataFrame, snapshot_date: date, params: RecommendParams,
             title_neighbours: DataFrame | None = None) -> Evaluation:
    """Per-user temporal split: hybrid (tuned on the training part) vs plain ALS vs popularity."""
    train_events, test = temporal_split(window(events, snapshot_date, params.lookback_days), params.holdout_fraction)
    train_events, test = train_events.cache(), test.cache()
    tuning = tuned(train_events, params, title_neighbours)
    chosen = tuning.params
    train, catalog = interactions(train_events, chosen.half_life_days).cache(), products(train_events).cache()
    seen = excluded(train_events, params.exclude).cache()
    users = test.select("user_id").distinct()
    size = catalog.count()
    unused = unused_sources(catalog, title_neighbours, chosen, train_events)
    weights = active_weights(chosen, unused)
    alone = {"als": "als_score", "popularity": "pop_score"} | (
        {"two_tower": TWO_TOWER} if TWO_TOWER in sources_for(chosen) and TWO_TOWER not in unused else {})
    wanted = tuple(dict.fromkeys([*weights, *alone.values()]))
    sources = {name: frame.cache() for name, frame in
               candidate_sources(train_events, train, catalog, users, chosen, title_neighbours, wanted).items()}
    lists = {"hybrid": ranked(sources, weights, popular_fill(train, users, chosen), seen, catalog, chosen)} | {
        model: single(sources[name], name, seen, catalog, chosen) for model, name in alone.items()}
    scored = {name: metrics(name, frame, test, size, params.k) for name, frame in lists.items()}
    for frame in (train_events, test, train, catalog, seen, *sources.values()):
        frame.unpersist()
    recorded = replace(tuning, unused={**unused, **tuning.unused})  # also with the tuning off
    return Evaluation(scored["hybrid"], scored["als"], scored["popularity"], recorded, scored.get("two_tower"))

