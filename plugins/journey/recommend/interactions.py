"""Implicit feedback from curated events: one weight per (user, product), and the time split."""

from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

# view < add_to_cart < purchase; other event types carry no product preference.
EVENT_WEIGHTS = {"view": 1.0, "add_to_cart": 3.0, "purchase": 5.0}
POSITIVE_EVENTS = ("add_to_cart", "purchase")  # what counts as a hit in the offline evaluation


def weighted_events(events: DataFrame) -> DataFrame:
    """Events with a product and a preference weight (user_id, product_id, category, brand, weight, event_date)."""
    weight = F.element_at(F.create_map(*[F.lit(x) for kv in EVENT_WEIGHTS.items() for x in kv]), F.col("event_type"))
    return (events.where(F.col("product_id").isNotNull() & F.col("event_type").isin(*EVENT_WEIGHTS))
            .select("user_id", "product_id", F.split(F.col("category"), r"\.").getItem(0).alias("top_category"),
                    "brand", "event_type", weight.alias("weight"), "event_date"))


def interactions(weighted: DataFrame) -> DataFrame:
    """(user_id, product_id, strength): summed weights, the ALS implicit ratings."""
    return weighted.groupBy("user_id", "product_id").agg(F.sum("weight").alias("strength"))


def products(weighted: DataFrame) -> DataFrame:
    """Products seen in the events with their top-level category and brand."""
    return weighted.groupBy("product_id").agg(F.first("top_category", ignorenulls=True).alias("top_category"),
                                              F.first("brand", ignorenulls=True).alias("brand"))


def purchased(weighted: DataFrame) -> DataFrame:
    """(user_id, product_id) already bought: never recommended again."""
    return weighted.where(F.col("event_type") == "purchase").select("user_id", "product_id").distinct()


def split(weighted: DataFrame, split_date: date) -> tuple[DataFrame, DataFrame]:
    """Train (before split_date) and test positives (cart/purchase on or after it, not bought before)."""
    train = weighted.where(F.col("event_date") < F.lit(split_date))
    later = weighted.where((F.col("event_date") >= F.lit(split_date)) & F.col("event_type").isin(*POSITIVE_EVENTS))
    test = later.select("user_id", "product_id").distinct().join(purchased(train), ["user_id", "product_id"], "left_anti")
    return train, test
