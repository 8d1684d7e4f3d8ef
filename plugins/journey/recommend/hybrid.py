"""The hybrid recommender: candidate sources, their weighted blend, exclusions, category cap, K per user.

hybrid score = Σ weight × source score (each source scaled to [0, 1] per user; a source with no
candidate for a product counts 0). The weights come from the per-run tuning
(journey.recommend.tuning) or `RecommendParams.weights`. Sources that are empty on the feed (no
real categories, no titles) are not computed and get weight 0 (`unused_sources` says why).
Every user also gets the most popular products with score 0 (source `popular`): cold-start
users, and the slots the hybrid cannot fill. Products excluded for the user (purchased, or every
product interacted with) are removed; with `per_category` > 0 at most that many products of one
real top-level category lead the list, and a capped list is filled with the next-best products
(uncategorised products are never capped), so lists are K long whenever K candidates remain.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from journey.recommend import two_tower_source
from journey.recommend.models import (
    TWO_TOWER,
    RecommendParams,
    als_candidates,
    content_candidates,
    cooccurrence_candidates,
    popularity_scores,
    sequence_candidates,
    sources_for,
    title_candidates,
)

RECOMMENDATION_COLUMNS = ("user_id", "rank", "product_id", "category", "score", "source")


def unused_sources(catalog: DataFrame, title_neighbours: DataFrame | None, params: RecommendParams | None = None,
                   train_events: DataFrame | None = None) -> dict[str, str]:
    """Sources that are empty on this feed, with the reason (they get weight 0). With params and the
    training events, also the two-tower when it is on but cannot train (no TensorFlow, too little data)."""
    reasons = {}
    if catalog.where(F.col("top_category").isNotNull()).limit(1).count() == 0:
        reasons["content_score"] = "no product categories in the feed (category/brand affinity is empty)"
    if title_neighbours is None:
        reasons["title_score"] = "no product titles"
    if params is not None and train_events is not None:
        reasons |= two_tower_source.unavailable(train_events, params)
    return reasons


def candidate_sources(train_events: DataFrame, train: DataFrame, catalog: DataFrame, users: DataFrame,
                      params: RecommendParams, title_neighbours: DataFrame | None,
                      wanted: tuple[str, ...]) -> dict[str, DataFrame]:
    """The `wanted` candidate sources for `users`: {source column: (user_id, product_id, column)}.

    A new source is one more builder here plus its column in models.SOURCES (per-user scores in
    [0, 1]): the tuning then weighs it like the others. The two-tower retriever
    (journey.recommend.two_tower_source) trains when it is built, on the driver.
    """
    builders: dict[str, Callable[[], DataFrame]] = {
        "als_score": lambda: als_candidates(train, users, params),
        "cooc_score": lambda: cooccurrence_candidates(train, users, params),
        "seq_score": lambda: sequence_candidates(train_events, users, params),
        "content_score": lambda: content_candidates(train_events, users, catalog, train, params),
        "title_score": lambda: title_candidates(train, users, title_neighbours, params),
        "pop_score": lambda: popularity_scores(train, users, params),
        TWO_TOWER: lambda: two_tower_source.two_tower_candidates(train_events, catalog, users, params),
    }
    return {name: builders[name]() for name in wanted}


def blend(sources: dict[str, DataFrame], weights: dict[str, float]) -> DataFrame:
    """Outer-join the sources with a positive weight and compute the weighted score (absent counts 0)."""
    used = [name for name in sources if weights.get(name, 0.0) > 0]
    merged = sources[used[0]]
    for name in used[1:]:
        merged = merged.join(sources[name], ["user_id", "product_id"], "full")
    score = sum(F.lit(weights[n]) * F.coalesce(F.col(n), F.lit(0.0)) for n in used)
    return merged.select("user_id", "product_id", score.alias("score"), F.lit("hybrid").alias("source"))


def finalize(candidates: DataFrame, excluded: DataFrame, catalog: DataFrame, k: int, per_category: int) -> DataFrame:
    """Drop excluded pairs, keep each product once, rank the best k (RECOMMENDATION_COLUMNS).

    With per_category > 0, products beyond the first per_category of one real category rank after
    all the others (they fill the list only when nothing else is left); null categories are not capped.
    """
    kept = (candidates.join(excluded, ["user_id", "product_id"], "left_anti")
            .join(catalog.select("product_id", F.col("top_category").alias("category")), "product_id", "left"))
    best_first = [F.col("score").desc(), F.col("source"), F.col("product_id")]
    dedup = kept.withColumn("_d", F.row_number().over(Window.partitionBy("user_id", "product_id").orderBy(*best_first)))
    unique = dedup.where(F.col("_d") == 1)
    if per_category > 0:
        nth = F.row_number().over(Window.partitionBy("user_id", "category").orderBy(*best_first))
        unique = unique.withColumn("_over", (F.col("category").isNotNull() & (nth > per_category)).cast("int"))
    else:
        unique = unique.withColumn("_over", F.lit(0))
    order = Window.partitionBy("user_id").orderBy(F.col("_over"), *best_first)
    ranked = unique.withColumn("rank", F.row_number().over(order))
    return ranked.where(F.col("rank") <= k).select(
        "user_id", F.col("rank").cast("short").alias("rank"), "product_id", "category", "score", "source")


def popular_fill(train: DataFrame, users: DataFrame, params: RecommendParams) -> DataFrame:
    """Every user × the most popular products with score 0, source `popular` (ranks after hybrid picks)."""
    return popularity_scores(train, users, params).select("user_id", "product_id", F.lit(0.0).alias("score"),
                                                          F.lit("popular").alias("source"))


def active_weights(params: RecommendParams, unused: dict[str, str]) -> dict[str, float]:
    """The positive weights of the sources that are on and not `unused` (unused_sources) on this feed."""
    on = sources_for(params)
    return {name: w for name, w in params.weights if w > 0 and name in on and name not in unused}


def ranked(sources: dict[str, DataFrame], weights: dict[str, float], fill: DataFrame, excluded: DataFrame,
           catalog: DataFrame, params: RecommendParams) -> DataFrame:
    """The hybrid lists from computed sources: the blend (when any weight), then the popularity fill."""
    candidates = blend(sources, weights).unionByName(fill) if weights else fill
    return finalize(candidates, excluded, catalog, params.k, params.per_category)


def single(source: DataFrame, name: str, excluded: DataFrame, catalog: DataFrame, params: RecommendParams) -> DataFrame:
    """The lists of one source alone (the plain ALS and popularity baselines): same exclusions and cap, no fill."""
    scored = source.select("user_id", "product_id", F.col(name).alias("score"), F.lit(name).alias("source"))
    return finalize(scored, excluded, catalog, params.k, params.per_category)


def recommend(train_events: DataFrame, train: DataFrame, catalog: DataFrame, users: DataFrame, excluded: DataFrame,
              params: RecommendParams, title_neighbours: DataFrame | None = None) -> DataFrame:
    """Top-K recommendations for `users` (user_id column): the weighted blend, then popularity."""
    weights = active_weights(params, unused_sources(catalog, title_neighbours, params, train_events))
    sources = candidate_sources(train_events, train, catalog, users, params, title_neighbours, tuple(weights))
    return ranked(sources, weights, popular_fill(train, users, params), excluded, catalog, params)
