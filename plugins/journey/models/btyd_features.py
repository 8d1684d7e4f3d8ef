"""Buy-till-you-die scores per (user, cut-off) in Spark: the BG/NBD and Gamma-Gamma models of `btyd`.

For each cut-off, from the purchases strictly before it (all history, not the feature
look-back): repeat purchase days x, days from the first to the last purchase day t_x, days
from the first purchase day to the cut-off T, and the mean value of the repeat purchase
days. One BG/NBD and one Gamma-Gamma model are fitted per cut-off on every customer with a
purchase (a grouped pandas UDF, one task per cut-off) and give P(alive), the expected
purchases in a horizon and the predicted value (expected purchases × expected spend).
Users without a purchase before the cut-off get nulls. When a fit is impossible (no repeat
buyers, too few customers) the scores are null for that cut-off and `btyd_note` says why.

The model inputs (BTYD_FEATURES) use a fixed 30-day horizon so a model trained on one label
window can be applied with another; the published scores use the horizon asked for.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from journey.errors import JourneyError

UNIT_DAYS = 7.0  # the models are fitted in weeks (the literature's unit; better conditioned than days)
FEATURE_HORIZON_DAYS = 30
SUMMARY_COLUMNS = ("btyd_repeat_purchases", "btyd_recency_days", "btyd_age_days", "btyd_mean_spend")
BTYD_FEATURES = (*SUMMARY_COLUMNS, "btyd_p_alive", "btyd_expected_purchases_30d")
SCORE_COLUMNS = ("btyd_p_alive", "btyd_expected_purchases_30d", "btyd_expected_purchases", "btyd_predicted_value")
SCORE_SCHEMA = ", ".join(["user_id string", "cutoff date", *(f"{c} double" for c in (*SUMMARY_COLUMNS, *SCORE_COLUMNS)),
                          "btyd_note string"])


def purchase_days(events: DataFrame) -> DataFrame:
    """One row per (user, day with a purchase): the day's purchase value (price × quantity, missing = 0)."""
    value = F.coalesce(F.col("price") * F.coalesce(F.col("quantity"), F.lit(1)), F.lit(0.0))
    return (events.where(F.col("event_type") == "purchase").groupBy("user_id", "event_date")
            .agg(F.sum(value).cast("double").alias("value")))


def summaries(days: DataFrame, cutoffs: DataFrame) -> DataFrame:
    """Per (user, cut-off) with a purchase before it: SUMMARY_COLUMNS in days (the cut-off day excluded).

    The age T runs from the first purchase day to the last day before the cut-off (the
    convention of the published CDNOW fit: calibration end − first purchase day)."""
    before = days.join(F.broadcast(cutoffs.select("cutoff")), F.col("event_date") < F.col("cutoff"))
    first_value = F.min_by("value", "event_date")
    grouped = before.groupBy("user_id", "cutoff").agg(
        (F.count(F.lit(1)) - 1).cast("double").alias("btyd_repeat_purchases"),
        F.min("event_date").alias("_first"), F.max("event_date").alias("_last"),
        (F.sum("value") - first_value).alias("_repeat_value"))
    return grouped.select(
        "user_id", "cutoff", "btyd_repeat_purchases",
        F.datediff("_last", "_first").cast("double").alias("btyd_recency_days"),
        F.datediff(F.date_sub("cutoff", 1), "_first").cast("double").alias("btyd_age_days"),
        F.when(F.col("btyd_repeat_purchases") > 0, F.col("_repeat_value") / F.col("btyd_repeat_purchases"))
        .otherwise(F.lit(0.0)).alias("btyd_mean_spend"))


def score_cutoff(summary: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """BTYD scores of one cut-off's customers (fits both models on them); nulls and a note when a fit fails."""
    from journey.models import btyd

    x = summary["btyd_repeat_purchases"].to_numpy(float)
    t_x = summary["btyd_recency_days"].to_numpy(float) / UNIT_DAYS
    age = summary["btyd_age_days"].to_numpy(float) / UNIT_DAYS
    spend = summary["btyd_mean_spend"].to_numpy(float)
    out = summary.copy()
    for column in SCORE_COLUMNS:
        out[column] = np.nan
    out["btyd_note"] = None
    try:
        counts = btyd.fit_bgnbd(x, t_x, age)
        out["btyd_p_alive"] = btyd.p_alive(counts, x, t_x, age)
        out["btyd_expected_purchases_30d"] = btyd.expected_purchases(counts, FEATURE_HORIZON_DAYS / UNIT_DAYS, x,
                                                                     t_x, age)
        out["btyd_expected_purchases"] = btyd.expected_purchases(counts, horizon_days / UNIT_DAYS, x, t_x, age)
    except JourneyError as error:
        out[list(SCORE_COLUMNS)] = np.nan
        out["btyd_note"] = f"BG/NBD not fitted: {error}"
        return out
    try:
        out["btyd_predicted_value"] = (out["btyd_expected_purchases"]
                                       * btyd.expected_spend(btyd.fit_gamma_gamma(x, spend), x, spend))
    except JourneyError as error:
        out["btyd_note"] = f"Gamma-Gamma not fitted: {error}"
    return out


def btyd_scores(events: DataFrame, cutoffs: DataFrame, horizon_days: int) -> DataFrame:
    """Per (user, cut-off): the columns of SCORE_SCHEMA, the expected purchases and value over
    `horizon_days` (users without a purchase before the cut-off are absent)."""
    summary = summaries(purchase_days(events), cutoffs)
    return summary.groupBy("cutoff").applyInPandas(lambda frame: score_cutoff(frame, horizon_days), SCORE_SCHEMA)
