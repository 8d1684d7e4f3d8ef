"""Implicit feedback from curated events: weights, per-user strengths, exclusions and the per-user time split."""

from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from journey.errors import ConfigError

# view < add_to_cart < purchase; other event types carry no product preference.
EVENT_WEIGHTS = {"view": 1.0, "add_to_cart": 3.0, "purchase": 5.0}
EXCLUSION_RULES = ("purchased", "interacted")  # what a user is never recommended again
UNCATEGORISED = ("unknown", "")  # placeholder categories: not a real category (no diversity cap)


def weighted_events(events: DataFrame) -> DataFrame:
    """Events with a product and a preference weight
    (user_id, product_id, top_category, brand, event_type, weight, event_date, event_time)."""
    weight = F.element_at(F.create_map(*[F.lit(x) for kv in EVENT_WEIGHTS.items() for x in kv]), F.col("event_type"))
    moment = F.col("event_time") if "event_time" in events.columns else F.col("event_date").cast("timestamp")
    top = F.split(F.col("category"), r"\.").getItem(0)
    return (events.where(F.col("product_id").isNotNull() & F.col("event_type").isin(*EVENT_WEIGHTS))
            .select("user_id", "product_id", F.when(~top.isin(*UNCATEGORISED), top).alias("top_category"),
                    "brand", "event_type", weight.alias("weight"), "event_date", moment.alias("event_time")))


def interactions(weighted: DataFrame, half_life_days: float = 0.0) -> DataFrame:
    """(user_id, product_id, strength): summed weights, the ALS implicit ratings. With a half-life, each
    event counts 0.5^(days before the latest event / half_life_days) (recency decay)."""
    if half_life_days <= 0:
        return weighted.groupBy("user_id", "product_id").agg(F.sum("weight").alias("strength"))
    latest = weighted.agg(F.max("event_date")).first()[0]
    age = F.datediff(F.lit(latest), F.col("event_date"))
    decayed = F.col("weight") * F.pow(F.lit(0.5), age / F.lit(float(half_life_days)))
    return weighted.groupBy("user_id", "product_id").agg(F.sum(decayed).alias("strength"))


def products(weighted: DataFrame) -> DataFrame:
    """Products seen in the events with their top-level category and brand (null where unknown)."""
    return weighted.groupBy("product_id").agg(F.first("top_category", ignorenulls=True).alias("top_category"),
                                              F.first("brand", ignorenulls=True).alias("brand"))


def purchased(weighted: DataFrame) -> DataFrame:
    """(user_id, product_id) bought."""
    return weighted.where(F.col("event_type") == "purchase").select("user_id", "product_id").distinct()


def excluded(weighted: DataFrame, rule: str) -> DataFrame:
    """(user_id, product_id) never recommended again under `rule`: purchased, or every product interacted with."""
    if rule not in EXCLUSION_RULES:
        raise ConfigError(f"recommendation exclusion rule must be one of {', '.join(EXCLUSION_RULES)}, got {rule!r}")
    return purchased(weighted) if rule == "purchased" else weighted.select("user_id", "product_id").distinct()


def in_window(events: DataFrame, end: date, lookback_days: int) -> DataFrame:
    """Events up to `end` (inclusive), the last `lookback_days` days of them (0 = all history)."""
    upto = events.where(F.col("event_date") <= F.lit(end))
    if lookback_days <= 0:
        return upto
    return upto.where(F.col("event_date") > F.date_sub(F.lit(end), lookback_days))


def temporal_split(weighted: DataFrame, fraction: float) -> tuple[DataFrame, DataFrame]:
    """Per-user time split: each user's latest `fraction` of events (at least one, at most all but one;
    users with at least 2 events) is held out. Returns (train events, held-out positives): the
    distinct held-out (user_id, product_id) the user did not interact with in training."""
    mine = Window.partitionBy("user_id")
    ordered = (weighted.withColumn("_n", F.count("*").over(mine))
               .withColumn("_i", F.row_number().over(mine.orderBy("event_time", "product_id", "event_type"))))
    held_out = F.least(F.col("_n") - 1, F.greatest(F.lit(1), F.ceil(F.col("_n") * F.lit(fraction))))
    is_test = (F.col("_n") >= 2) & (F.col("_i") > F.col("_n") - held_out)
    tagged = ordered.withColumn("_test", is_test)
    train = tagged.where(~F.col("_test")).drop("_n", "_i", "_test")
    later = tagged.where(F.col("_test")).select("user_id", "product_id").distinct()
    test = later.join(train.select("user_id", "product_id").distinct(), ["user_id", "product_id"], "left_anti")
    return train, test
