"""The hybrid recommender: blend the candidate scores, exclude purchases, cap per category, top K.

hybrid score = 0.45 × ALS + 0.25 × co-occurrence + 0.15 × content affinity (category/brand)
+ 0.15 × title similarity (each scaled to [0, 1] per user; a source with no candidate for a
product counts 0, and without product titles the title source is empty). Users with no training
interaction (cold start), and slots the hybrid cannot fill, get the most popular products
(source `popular`, score = 0 so they always rank after hybrid picks). Products the user
already bought are removed, and at most `per_category` products of one top-level category are
kept (diversity), then the best K are ranked 1..K.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from journey.recommend.models import (
    RecommendParams,
    als_candidates,
    content_candidates,
    cooccurrence_candidates,
    popularity,
    title_candidates,
)

RECOMMENDATION_COLUMNS = ("user_id", "rank", "product_id", "category", "score", "source")


def blend(sources: list[DataFrame], weights: tuple[tuple[str, float], ...]) -> DataFrame:
    """Outer-join the candidate sources and compute the weighted hybrid score (absent sources count 0)."""
    merged = sources[0]
    for other in sources[1:]:
        merged = merged.join(other, ["user_id", "product_id"], "full")
    score = sum(F.lit(w) * F.coalesce(F.col(n), F.lit(0.0)) for n, w in weights if n in merged.columns)
    return merged.select("user_id", "product_id", score.alias("score"), F.lit("hybrid").alias("source"))


def finalize(candidates: DataFrame, bought: DataFrame, catalog: DataFrame, k: int, per_category: int) -> DataFrame:
    """Exclude purchases, keep per_category per category, rank the best k (RECOMMENDATION_COLUMNS)."""
    kept = (candidates.join(bought, ["user_id", "product_id"], "left_anti")
            .join(catalog.select("product_id", F.col("top_category").alias("category")), "product_id", "left"))
    best_first = [F.col("score").desc(), F.col("source"), F.col("product_id")]
    dedup = kept.withColumn("_d", F.row_number().over(Window.partitionBy("user_id", "product_id").orderBy(*best_first)))
    per_cat = Window.partitionBy("user_id", "category").orderBy(*best_first)
    diverse = dedup.where(F.col("_d") == 1).withColumn("_c", F.row_number().over(per_cat)).where(
        F.col("_c") <= per_category)
    ranked = diverse.withColumn("rank", F.row_number().over(Window.partitionBy("user_id").orderBy(*best_first)))
    return ranked.where(F.col("rank") <= k).select(
        "user_id", F.col("rank").cast("short").alias("rank"), "product_id", "category", "score", "source")


def recommend(train_events: DataFrame, train: DataFrame, catalog: DataFrame, users: DataFrame, bought: DataFrame,
              params: RecommendParams, title_neighbours: DataFrame | None = None) -> DataFrame:
    """Top-K recommendations for `users` (user_id column) from the training interactions.

    `title_neighbours` (journey.recommend.titles) adds the title-similarity source when titles exist.
    """
    sources = [als_candidates(train, users, params), cooccurrence_candidates(train, users, params),
               content_candidates(train_events, users, catalog, train, params)]
    if title_neighbours is not None:
        sources.append(title_candidates(train, users, title_neighbours, params))
    hybrid = blend(sources, params.weights)
    fallback = popularity_candidates(train, catalog, users, params)
    return finalize(hybrid.unionByName(fallback), bought, catalog, params.k, params.per_category)


def popularity_candidates(train: DataFrame, catalog: DataFrame, users: DataFrame, params: RecommendParams) -> DataFrame:
    """Every user × the most popular products, score 0 (fills what the hybrid leaves empty)."""
    top = popularity(train, catalog, params.candidates).select("product_id")
    return users.select("user_id").crossJoin(F.broadcast(top)).select(
        "user_id", "product_id", F.lit(0.0).alias("score"), F.lit("popular").alias("source"))


def recommend_popular(train: DataFrame, catalog: DataFrame, users: DataFrame, bought: DataFrame,
                      params: RecommendParams) -> DataFrame:
    """The popularity baseline alone (same exclusions and diversity cap)."""
    return finalize(popularity_candidates(train, catalog, users, params), bought, catalog, params.k,
                    params.per_category)
