"""The two-tower retriever (journey.recommend.two_tower) as the blend's `two_tower_score` source.

Only with `RecommendParams.two_tower`. The model trains on the driver in pandas, so what leaves
Spark is bounded: the training events become one row per (user, product) (summed weight, first
time); above `two_tower_max_pairs` such rows a deterministic hash sample of users keeps about that
many (logged). The item tower sees the product id, top-level category and brand of the run's
catalog. Candidates are scored for the wanted users from their last `max_history` products
(users × 20 rows collected), `candidates` per user, back into Spark.

The source is empty with weight 0 and a recorded reason (`unused`) when TensorFlow cannot be
imported or when the feed has fewer than MIN_EXAMPLES training examples (a (user, product) that
follows another product of the same user).
"""

from __future__ import annotations

import importlib.util
import logging

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from journey.recommend.models import TWO_TOWER, RecommendParams

log = logging.getLogger(__name__)

MIN_EXAMPLES = 200  # fewer training examples than this: too little data to train, the source stays empty
SAMPLE_SALT = "two_tower"


def unavailable(train_events: DataFrame, params: RecommendParams) -> dict[str, str]:
    """{TWO_TOWER: why} when the source is on but cannot train on these events; {} when it can or is off."""
    if not params.two_tower:
        return {}
    if importlib.util.find_spec("tensorflow") is None:
        return {TWO_TOWER: "TensorFlow is not installed (the two-tower model cannot train)"}
    pairs, users = train_events.agg(F.count_distinct("user_id", "product_id"), F.count_distinct("user_id")).first()
    examples = pairs - users  # one Spark action: every pair but each user's first
    if examples < MIN_EXAMPLES:
        return {TWO_TOWER: f"too little data to train the two-tower model: {examples} training examples "
                           f"(a product after another of the same user), at least {MIN_EXAMPLES} needed"}
    return {}


def _pairs(events: DataFrame) -> DataFrame:
    """(user_id, product_id, weight, event_time): one row per pair, summed weight, first time."""
    return events.groupBy("user_id", "product_id").agg(F.sum("weight").alias("weight"),
                                                       F.min("event_time").alias("event_time"))


def training_frame(train_events: DataFrame, max_pairs: int):
    """The training pairs as pandas: all of them, or a hash sample of users keeping about max_pairs."""
    pairs = _pairs(train_events)
    total = pairs.count()
    if total <= max_pairs:
        return pairs.toPandas()
    share = max_pairs / total
    kept = F.pmod(F.xxhash64(F.lit(SAMPLE_SALT), "user_id"), F.lit(1_000_000)) < F.lit(int(share * 1_000_000))
    log.warning("two-tower: %d (user, product) pairs is more than two_tower_max_pairs %d; training on a hash "
                "sample of %.1f %% of the users", total, max_pairs, 100 * share)
    return pairs.where(kept).toPandas()


def recent_history(train_events: DataFrame, users: DataFrame, length: int):
    """The users' last `length` products (by first time) as pandas: the user tower's input."""
    latest = Window.partitionBy("user_id").orderBy(F.col("event_time").desc(), F.col("product_id"))
    mine = _pairs(train_events.join(users.select("user_id"), "user_id"))
    return mine.withColumn("_r", F.row_number().over(latest)).where(F.col("_r") <= length).drop("_r").toPandas()


def two_tower_candidates(train_events: DataFrame, catalog: DataFrame, users: DataFrame,
                         params: RecommendParams) -> DataFrame:
    """(user_id, product_id, two_tower_score): the two-tower model trained on these events, top
    `candidates` per user in [0, 1]. With exclude `interacted` the user's history never comes back."""
    import pandas as pd

    from journey.recommend.two_tower import TwoTowerParams, fit_two_tower

    spark = train_events.sparkSession
    tower = TwoTowerParams(epochs=params.two_tower_epochs, seed=params.seed)
    model = fit_two_tower(training_frame(train_events, params.two_tower_max_pairs),
                          catalog.select("product_id", "top_category", "brand").toPandas(), tower)
    history = recent_history(train_events, users, tower.max_history)
    keep_history = params.exclude != "interacted"
    nothing = pd.DataFrame({"user_id": pd.Series(dtype=str), "product_id": pd.Series(dtype=str)})
    found = model.candidates(history, params.candidates, exclude=nothing if keep_history else None)
    rows = found.rename(columns={"two_tower": TWO_TOWER}).astype({"user_id": str, "product_id": str})
    return spark.createDataFrame(rows, f"user_id string, product_id string, {TWO_TOWER} double")
