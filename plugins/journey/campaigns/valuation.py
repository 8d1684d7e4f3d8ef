"""Expected incremental value of giving an offer to a user (the allocation's objective).

For user u and offer o:
    discount_share = percent: value / 100; fixed: value / order_value;
                     free_shipping: SHIPPING_FEE / order_value (each capped at 1)
    strength       = 1 − exp(−4 × discount_share)            (diminishing returns)
    reach          = min(1, order_value / min_spend)          (1 when there is no minimum)
    uplift         = responsiveness × (1 − propensity) × strength × reach
    value          = uplift × order_value × margin_rate − expected_cost
order_value is the user's average order value (DEFAULT_ORDER_VALUE for non-buyers);
margin_rate is the mean margin of the products file when given (DEFAULT_MARGIN_RATE
otherwise); expected_cost is the catalog's expected cost of the offer, charged to the budget.
Only offers with value > 0 are candidates of the optimiser (coupons.worth_offering); the
randomised test picks (randomised_test.py) may give any.

When the `uplift` model has a champion (see campaigns/learned_uplift.py), the users carry
`learned_effect` (its pessimistic predicted effect of being treated by a campaign, divided by the
mean pull of the offers it was trained on) and `learned_redeem` (its P(redeem | treated)), and
    uplift = learned_effect × strength × reach
    value  = uplift × order_value × margin_rate − learned_redeem × face_cost
replaces the hand formula: every treated buyer may redeem, not only the persuaded ones, so the
coupon's cost is its face cost (percent: value % of the order; fixed: value; free shipping:
SHIPPING_FEE) times the chance the user redeems it (the budget is still charged the
catalogue's expected_cost); `uplift_source` says which was used ("uplift model vN" or
"hand formula") and goes into each assignment's reason.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from journey.campaigns.params import Offer

SHIPPING_FEE = 5.0
DEFAULT_ORDER_VALUE = 40.0
DEFAULT_MARGIN_RATE = 0.30
STRENGTH_RATE = 4.0
CANDIDATE_COLUMNS = ("user_id", "segment_id", "offer_index", "offer_name", "expected_cost", "expected_value",
                     "uplift", "order_value", "propensity", "responsiveness", "signal_source", "uplift_source", "offer_pull")
HAND_FORMULA = "hand formula"


def offers_frame(spark: SparkSession, offers: tuple[Offer, ...]) -> DataFrame:
    """The catalog as a small DataFrame with its index."""
    rows = [(i, o.name, o.kind, o.value, o.min_spend, o.expected_cost) for i, o in enumerate(offers)]
    return spark.createDataFrame(rows, "offer_index int, offer_name string, kind string, offer_value double, "
                                       "min_spend double, expected_cost double")


def discount_share() -> F.Column:
    """Share of the order the offer gives away."""
    share = (F.when(F.col("kind") == "percent", F.col("offer_value") / 100)
             .when(F.col("kind") == "fixed", F.col("offer_value") / F.col("order_value"))
             .otherwise(F.lit(SHIPPING_FEE) / F.col("order_value")))
    return F.least(share, F.lit(1.0))


def face_cost() -> F.Column:
    """What one redemption gives away: percent of the order, the fixed amount, or the shipping fee."""
    return (F.when(F.col("kind") == "percent", F.col("offer_value") / 100 * F.col("order_value"))
            .when(F.col("kind") == "fixed", F.col("offer_value")).otherwise(F.lit(SHIPPING_FEE)))


def offer_pull(reach: F.Column) -> F.Column:
    """strength × reach of an offer for a user (the part of the uplift the offer decides)."""
    return (F.lit(1.0) - F.exp(-F.lit(STRENGTH_RATE) * discount_share())) * reach


def offer_pairs(users: DataFrame, offers: DataFrame) -> DataFrame:
    """Every (user, offer) pair with the user's order value and the offer's pull (strength × reach)."""
    order_value = F.coalesce(F.col("avg_order_value"), F.lit(DEFAULT_ORDER_VALUE))
    reach = F.when(F.col("min_spend") > 0, F.least(F.lit(1.0), F.col("order_value") / F.col("min_spend"))).otherwise(1.0)
    return (users.withColumn("order_value", order_value).crossJoin(F.broadcast(offers))
            .withColumn("offer_pull", offer_pull(reach)))


def candidates(users: DataFrame, offers: DataFrame, margin_rate: float, uplift_source: str = HAND_FORMULA,
               positive_only: bool = True) -> DataFrame:
    """(user, offer) pairs with positive expected value (CANDIDATE_COLUMNS); every pair when not positive_only
    (the coupon step: randomised test picks may give an offer the valuation does not favour).

    uplift_source other than HAND_FORMULA: the users' `learned_effect` column × the offer's pull.
    """
    if uplift_source == HAND_FORMULA:
        uplift = F.col("responsiveness") * (F.lit(1.0) - F.col("propensity")) * F.col("offer_pull")
        cost = F.col("expected_cost")
    else:
        uplift = F.col("learned_effect") * F.col("offer_pull")
        cost = F.col("learned_redeem") * face_cost()
    pairs = (offer_pairs(users, offers).withColumn("uplift_source", F.lit(uplift_source))
             .withColumn("uplift", uplift)
             .withColumn("expected_value", F.col("uplift") * F.col("order_value") * F.lit(margin_rate) - cost))
    if positive_only:
        pairs = pairs.where(F.col("expected_value") > 0)
    return pairs.select(*CANDIDATE_COLUMNS)
