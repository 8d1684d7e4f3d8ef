"""Per-user decision signals: model scores from journey.user_scores, or documented profile fallbacks.

When journey.user_scores has a row for the user (latest snapshot on or before the campaign's
profile snapshot), its propensity, responsiveness and predicted_scene are used. Otherwise:
- propensity (chance of an order soon) = 0.02 + 0.58 × (r_score + f_score − 2) / 8: 0.02 for
  a user who never bought, up to 0.60 for the most recent and frequent buyers; +0.05 for a
  non-buyer with a cart in the look-back window;
- responsiveness (chance a coupon moves them) = coupon orders shrunk towards 0.2:
  (coupon_usage_rate × frequency + 0.2 × 2) / (frequency + 2);
- predicted_scene: promo_hunt if coupon_usage_rate ≥ 0.5, replenish if frequency ≥ 3 and
  brand_concentration ≥ 0.5, targeted if brand_concentration ≥ 0.5, compare if
  cart_abandonment_rate ≥ 0.5, else browse.
Each user row says which source it used (`signal_source`: model | fallback), and the step
summary counts them, so the run output and journey.campaigns.signals state what drove the
decisions.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

PRIOR_RESPONSIVENESS = 0.2
PRIOR_WEIGHT = 2.0
SIGNAL_COLUMNS = ("propensity", "responsiveness", "predicted_scene", "signal_source")


def fallback_propensity() -> F.Column:
    """Propensity from RFM scores (see module doc)."""
    base = F.lit(0.02) + F.lit(0.58) * (F.col("r_score") + F.col("f_score") - 2) / 8
    cart_bonus = F.when((F.col("frequency") == 0) & (F.col("carts") > 0), 0.05).otherwise(0.0)
    return F.least(base + cart_bonus, F.lit(0.95))


def fallback_responsiveness() -> F.Column:
    """Coupon responsiveness from coupon usage, shrunk towards the prior."""
    coupon_orders = F.coalesce(F.col("coupon_usage_rate"), F.lit(0.0)) * F.col("frequency")
    return (coupon_orders + PRIOR_RESPONSIVENESS * PRIOR_WEIGHT) / (F.col("frequency") + PRIOR_WEIGHT)


def fallback_scene() -> F.Column:
    """Shopping scene from behaviour ratios (see module doc)."""
    brand = F.coalesce(F.col("brand_concentration"), F.lit(0.0))
    return (F.when(F.coalesce(F.col("coupon_usage_rate"), F.lit(0.0)) >= 0.5, "promo_hunt")
            .when((F.col("frequency") >= 3) & (brand >= 0.5), "replenish")
            .when(brand >= 0.5, "targeted")
            .when(F.coalesce(F.col("cart_abandonment_rate"), F.lit(0.0)) >= 0.5, "compare")
            .otherwise("browse"))


def with_signals(users: DataFrame, scores: DataFrame | None) -> DataFrame:
    """Users plus propensity, responsiveness, predicted_scene and signal_source."""
    if scores is None:
        scored = users.withColumns({"m_propensity": F.lit(None).cast("double"),
                                    "m_responsiveness": F.lit(None).cast("double"),
                                    "m_scene": F.lit(None).cast("string")})
    else:
        scored = users.join(scores.select("user_id", F.col("propensity").alias("m_propensity"),
                                          F.col("responsiveness").alias("m_responsiveness"),
                                          F.col("predicted_scene").alias("m_scene")), "user_id", "left")
    has_model = F.col("m_propensity").isNotNull()
    return scored.withColumns({
        "propensity": F.coalesce(F.col("m_propensity"), fallback_propensity()),
        "responsiveness": F.coalesce(F.col("m_responsiveness"), fallback_responsiveness()),
        "predicted_scene": F.coalesce(F.col("m_scene"), fallback_scene()),
        "signal_source": F.when(has_model, "model").otherwise("fallback"),
    }).drop("m_propensity", "m_responsiveness", "m_scene")
