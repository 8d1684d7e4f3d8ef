"""Frames the suites validate: derived columns so that every rule is a plain column check."""

from __future__ import annotations

import statistics
from datetime import date, timedelta

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from journey.quality.suites import QualityParams


def prepare_profiles(profiles: DataFrame) -> DataFrame:
    """Profiles plus `affinity_sum` (sum of the category shares)."""
    total = F.aggregate(F.map_values("category_affinity"), F.lit(0.0), lambda acc, x: acc + x)
    return profiles.withColumn("affinity_sum", total)


def daily_counts(curated: DataFrame, first: date, last: date) -> dict[date, int]:
    """Curated rows per event_date in [first, last] (partition-pruned; a few dozen rows)."""
    rows = (curated.where(F.col("event_date").between(F.lit(first), F.lit(last)))
            .groupBy("event_date").count().collect())
    return {r["event_date"]: r["count"] for r in rows}


def volume_ratios(counts: dict[date, int], batch_dates: list[date], params: QualityParams) -> list[dict]:
    """Per batch date: rows, median of the trailing days with data, and their ratio.

    Dates with fewer than `volume_min_history` earlier days of data are left out (nothing
    to compare with yet).
    """
    out = []
    for day in sorted(batch_dates):
        history = [counts[d] for d in (day - timedelta(days=i) for i in range(1, params.volume_history_days + 1))
                   if counts.get(d)]
        if len(history) >= params.volume_min_history:
            median = statistics.median(history)
            out.append({"event_date": day, "rows": counts.get(day, 0), "median": float(median),
                        "ratio_to_median": counts.get(day, 0) / median})
    return out


def batch_ratios(counts: dict[date, int], batch_dates: list[date]) -> list[dict]:
    """Per batch date: rows, the median of the batch's own days, and their ratio (the backfill rule)."""
    rows = {day: counts.get(day, 0) for day in sorted(batch_dates)}
    median = statistics.median(rows.values()) if rows else 0
    return [{"event_date": day, "rows": n, "median": float(median), "ratio_to_median": n / median}
            for day, n in rows.items() if median]


def volume_frame(spark: SparkSession, ratios: list[dict]) -> DataFrame:
    """The volume ratios as a DataFrame (possibly empty)."""
    return spark.createDataFrame(ratios, "event_date date, rows long, median double, ratio_to_median double")


def quarantine_frame(spark: SparkSession, rows_read: int, quarantined: int, expected: int = 0) -> DataFrame:
    """One row: the share of a batch quarantined for unexpected reasons, and the expected share."""
    def share(rows: int) -> float:
        return rows / rows_read if rows_read else 0.0

    return spark.createDataFrame(
        [(rows_read, quarantined, expected, share(quarantined - expected), share(expected))],
        "rows_read long, quarantined long, expected_quarantined long, quarantined_share double, expected_share double")


def prepare_assignments(coupons: DataFrame, holdout: DataFrame, consents: DataFrame) -> DataFrame:
    """Coupon rows with coupons_for_user, in_holdout and has_consent for their channel.

    coupons: campaign_id, user_id, channel, expected_cost; holdout: user_id;
    consents: user_id, channel (one row per channel the user agreed to).
    """
    per_user = Window.partitionBy("campaign_id", "user_id")
    flagged_holdout = holdout.select("user_id", F.lit(True).alias("in_holdout")).distinct()
    flagged_consent = consents.select("user_id", "channel", F.lit(True).alias("has_consent")).distinct()
    return (
        coupons.withColumn("coupons_for_user", F.count("*").over(per_user))
        .join(flagged_holdout, "user_id", "left")
        .join(flagged_consent, ["user_id", "channel"], "left")
        .fillna({"in_holdout": False, "has_consent": False})
    )


def prepare_recommendations(recommendations: DataFrame, purchases: DataFrame) -> DataFrame:
    """Recommendation rows with times_recommended (per user and product) and already_purchased."""
    bought = purchases.select("user_id", "product_id", F.lit(True).alias("already_purchased")).distinct()
    per_pair = Window.partitionBy("user_id", "product_id")
    return (
        recommendations.withColumn("times_recommended", F.count("*").over(per_pair))
        .join(bought, ["user_id", "product_id"], "left")
        .fillna({"already_purchased": False})
    )
