"""User profiles from curated events: RFM, behaviour, category affinity and lifecycle stage.

All as pure Spark transforms, `build_profiles(events, users, params) -> DataFrame`, one row
per user seen in the look-back window ending on the snapshot date.

Definitions (documented in docs/profiles.md):
- order: a session with at least one purchase event; frequency = orders; monetary = sum of
  price × quantity over purchase events minus the same over return events (cancelled
  order lines), never below 0; average order value = monetary / orders.
- recency_days: whole days from the last purchase to the snapshot date (null: never bought);
  days_since_last_event: the same for any event.
- conversion_rate = orders / sessions; cart_abandonment_rate = share of sessions with an
  add_to_cart that have no purchase; coupon_usage_rate = share of orders whose session has
  a coupon_redeem event.
- category affinity: each event with a category weighs 1, add_to_cart 3, purchase 5; shares
  of the top-level category (first part of the dotted path) sum to 1 per user.
- brand_concentration: Herfindahl index of the user's events over brands (1 = one brand).
- preferred_hour: the UTC hour with most events (earliest hour on ties).
- RFM scores 1–5: quintile thresholds over buyers (exact quantiles); recency inverted;
  non-buyers score 1/1/1 and get the RFM label `prospect`.
- lifecycle stage, measured against the feed's purchase cadence T (the median over repeat buyers
  of their mean gap between purchases, `estimate_cadence`) and each buyer's own gap g = max(T, the
  user's mean gap); first rule that matches: churned (no event for more than 3·g) → new (tenure
  ≤ T) → loyal (≥ loyal_orders orders and last purchase within 1.5·g) → at_risk (bought, last
  purchase more than 1.5·g ago) → active (everyone else). With fewer than 30 repeat buyers T
  cannot be estimated and the fixed day thresholds of LifecycleRules apply instead.
- look-back 0 (the default): all history up to the snapshot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from functools import reduce

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from journey.errors import InputError
from journey.runtime.spark import shared_exchanges

log = logging.getLogger(__name__)

EVENT_WEIGHTS = {"add_to_cart": 3.0, "purchase": 5.0}
UNKNOWN = "unknown"
QUINTILES = (0.2, 0.4, 0.6, 0.8)

# Classic RFM map over (recency score, frequency score): first match wins.
RFM_SEGMENTS: tuple[tuple[str, tuple[int, int], tuple[int, int]], ...] = (
    ("champions", (5, 5), (4, 5)),
    ("loyal", (3, 4), (4, 5)),
    ("potential_loyalist", (4, 5), (2, 3)),
    ("new_customers", (5, 5), (1, 1)),
    ("promising", (4, 4), (1, 1)),
    ("need_attention", (3, 3), (3, 3)),
    ("about_to_sleep", (3, 3), (1, 2)),
    ("cant_lose", (1, 2), (5, 5)),
    ("at_risk", (1, 2), (3, 4)),
    ("hibernating", (1, 2), (1, 2)),
)


@dataclass(frozen=True)
class LifecycleRules:
    """Thresholds of the lifecycle stages: in purchase gaps (cadence rule) and fixed days (fallback)."""

    loyal_orders: int = 3
    late_gaps: float = 1.5  # at_risk: last purchase more than this many gaps ago
    churn_gaps: float = 3.0  # churned: no event for more than this many gaps
    min_repeat_buyers: int = 30  # fewer: the cadence is not estimated, the fixed days below apply
    new_days: int = 14
    churn_days: int = 21
    at_risk_days: int = 14


@dataclass(frozen=True)
class ProfileParams:
    """Inputs of a profile build besides the data."""

    snapshot_date: date
    lookback_days: int = 0  # 0: all history up to the snapshot
    lifecycle: LifecycleRules = field(default_factory=LifecycleRules)
    cadence_days: float | None = None  # None: estimated from the feed; 0: the fixed day thresholds

    def __post_init__(self) -> None:
        """Reject a negative look-back or cadence."""
        if self.lookback_days is not None and self.lookback_days < 0:
            raise InputError(f"lookback_days must be 0 (all history) or more, got {self.lookback_days}")
        if self.cadence_days is not None and self.cadence_days < 0:
            raise InputError(f"cadence_days must be positive, 0 (fixed thresholds) or None, got {self.cadence_days}")


@dataclass(frozen=True)
class Cadence:
    """The purchase cadence T the lifecycle stages are measured in (days None: the fixed day thresholds)."""

    days: float | None
    repeat_buyers: int | None = None  # buyers with 2+ orders it was estimated from; None: given

    def describe(self) -> str:
        """One line saying which lifecycle rule applies and why."""
        if self.days is None and self.repeat_buyers is None:
            return "fixed day thresholds (as asked)"
        if self.days is None:
            return f"fixed day thresholds (only {self.repeat_buyers:,} repeat buyers, too few to estimate a cadence)"
        source = "given" if self.repeat_buyers is None else f"median gap of {self.repeat_buyers:,} repeat buyers"
        return f"cadence T = {self.days:g} days ({source})"


PROFILE_COLUMNS = (
    "user_id", "snapshot_date", "first_seen", "last_seen", "tenure_days", "days_since_last_event",
    "recency_days", "frequency", "monetary", "avg_order_value", "r_score", "f_score", "m_score",
    "rfm_segment", "sessions", "views", "searches", "carts", "purchases", "coupon_redemptions",
    "cart_abandonment_rate", "conversion_rate", "coupon_usage_rate", "category_affinity",
    "top_categories", "brand_concentration", "preferred_hour", "lifecycle_stage",
)


EVENT_COUNTS = {"views": "view", "searches": "search", "carts": "add_to_cart", "purchases": "purchase",
                "coupon_redemptions": "coupon_redeem"}
BEHAVIOUR_COUNTS = {column: EVENT_COUNTS[column] for column in ("views", "carts", "purchases")}


def absent_behaviour(profiles: DataFrame) -> list[str]:
    """Event types of BEHAVIOUR_COUNTS that no profiled user has (a transaction-only feed has no views or carts);
    a count column the frame lacks says nothing."""
    counted = [c for c in BEHAVIOUR_COUNTS if c in profiles.columns]
    if not counted:
        return []
    totals = profiles.agg(*[F.sum(c).alias(c) for c in counted]).first()
    return [BEHAVIOUR_COUNTS[c] for c in counted if not totals[c]]


def _before_window(params: ProfileParams) -> F.Column:
    """Events before the look-back window (never any with look-back 0)."""
    if not params.lookback_days:
        return F.lit(False)
    return F.col("event_date") <= F.date_sub(F.lit(params.snapshot_date), params.lookback_days)


def window_events(events: DataFrame, params: ProfileParams) -> DataFrame:
    """Events inside the look-back window that ends on (and includes) the snapshot date (0: all history)."""
    return events.where((F.col("event_date") <= F.lit(params.snapshot_date)) & ~_before_window(params))


def left_out(events: DataFrame, params: ProfileParams) -> tuple[int, int]:
    """Event rows and distinct users before the look-back window, which the profiles leave out."""
    row = events.where(_before_window(params)).agg(
        F.count("*").alias("rows"), F.countDistinct("user_id").alias("users")).first()
    return int(row["rows"]), int(row["users"])


PROFILED_COLUMNS = ("user_id", "session_id", "event_type", "event_time", "price", "quantity", "category", "brand")


def by_user(events: DataFrame) -> DataFrame:
    """The columns profiles read, hash-partitioned by user.

    Every aggregation of a profile groups by user (and more), so on rows already partitioned by user
    none needs a partial aggregation (an event rarely shares its keys with another in the same input
    split) or a second shuffle for the per-user roll-ups and their join. On the 10M snapshot,
    alternating with the previous code in one session: first build 58–61 → 40–42 s, later ones
    33–42 → 27–35 s (docs/benchmarks.md, item 8). The four aggregations share this one exchange
    when planned under `spark.shared_exchanges` and filter nothing below it (item 10).
    """
    return events.select(*PROFILED_COLUMNS).repartition("user_id")


def _count(event_type: str) -> F.Column:
    """Number of events of one type."""
    return F.sum(F.when(F.col("event_type") == event_type, 1).otherwise(0))


def sessions_of(events: DataFrame) -> DataFrame:
    """Per user and session: first/last event, event counts, net spend, last purchase and whether the
    session had a cart, a purchase (an order) and a coupon."""
    is_purchase = F.col("event_type") == "purchase"
    value = F.col("price") * F.col("quantity")
    return events.groupBy("user_id", "session_id").agg(
        F.min("event_time").alias("first_seen"),
        F.max("event_time").alias("last_seen"),
        *[_count(event_type).alias(column) for column, event_type in EVENT_COUNTS.items()],
        F.sum(F.when(is_purchase, value).when(F.col("event_type") == "return", -value).otherwise(0.0)).alias("spend"),
        F.min(F.when(is_purchase, F.col("event_time"))).alias("first_purchase"),
        F.max(F.when(is_purchase, F.col("event_time"))).alias("last_purchase"),
        F.max(F.col("event_type") == "add_to_cart").alias("has_cart"),
        F.max(is_purchase).alias("has_purchase"),
        F.max(F.col("event_type") == "coupon_redeem").alias("has_coupon"),
    )


def activity(sessions: DataFrame) -> DataFrame:
    """Per user, from sessions_of: first/last seen, sessions, event counts, money, first/last purchase,
    orders (frequency), sessions with a cart, carted sessions that bought, orders with a coupon."""
    return sessions.groupBy("user_id").agg(
        F.min("first_seen").alias("first_seen"),
        F.max("last_seen").alias("last_seen"),
        F.count("*").alias("sessions"),
        *[F.sum(column).alias(column) for column in EVENT_COUNTS],
        F.greatest(F.sum("spend"), F.lit(0.0)).alias("monetary"),  # a return of an earlier order cannot go below 0
        F.min("first_purchase").alias("first_purchase"),
        F.max("last_purchase").alias("last_purchase"),
        F.count_if(F.col("has_purchase")).alias("frequency"),
        F.count_if(F.col("has_cart")).alias("cart_sessions"),
        F.count_if(F.col("has_cart") & F.col("has_purchase")).alias("carted_and_bought"),
        F.count_if(F.col("has_purchase") & F.col("has_coupon")).alias("coupon_orders"),
    )


def preference_weights(events: DataFrame) -> DataFrame:
    """Per user (user_id, kind, key, w): kind `cat` weighs events by top-level category (EVENT_WEIGHTS),
    `brand` counts events per brand and `hour` per UTC hour. Events without a category or brand add
    to a null key, which `preferences` leaves out (a filter here would differ per kind and keep the
    three from sharing the events' exchange).

    Three narrow aggregations in one union: cheaper than one aggregation over the events exploded
    three times (docs/benchmarks.md, issue #7, item 7 of "What stopped them").
    """
    weight = F.coalesce(
        F.element_at(F.create_map(*[F.lit(x) for kv in EVENT_WEIGHTS.items() for x in kv]),
                     F.col("event_type")),
        F.lit(1.0),
    )
    has_category = F.col("category").isNotNull() & (F.col("category") != UNKNOWN)
    by_key = {
        "cat": events.groupBy("user_id", F.when(has_category, F.substring_index("category", ".", 1)).alias("key"))
        .agg(F.sum(weight).alias("w")),
        "brand": events.groupBy("user_id", F.col("brand").alias("key")).agg(F.count("*").cast("double").alias("w")),
        "hour": events.groupBy("user_id", F.hour("event_time").cast("string").alias("key"))
        .agg(F.count("*").cast("double").alias("w")),
    }
    frames = [frame.select("user_id", F.lit(kind).alias("kind"), "key", "w") for kind, frame in by_key.items()]
    return reduce(DataFrame.unionByName, frames)


def preferences(weights: DataFrame) -> DataFrame:
    """Per user, from preference_weights: category affinity (map of top-level category → share of
    weighted events, null without categories) and the top 3, brand concentration (Herfindahl index
    over brands, null without brands) and preferred hour (most events, earliest on ties). Rows with
    a null key (events without a category or brand) count for nothing."""
    def of(kind: str, value: F.Column) -> F.Column:
        return F.when((F.col("kind") == kind) & F.col("key").isNotNull(), value)

    hour = F.col("key").cast("int")
    rolled = weights.groupBy("user_id").agg(
        F.sum(of("cat", F.col("w"))).alias("cat_total"),
        F.array_sort(F.collect_list(of("cat", F.struct(F.col("key").alias("cat"), F.col("w"))))).alias("by_cat"),
        F.array_sort(F.collect_list(of("cat", F.struct((-F.col("w")).alias("neg"), F.col("key").alias("cat")))))
        .alias("ranked"),
        (F.sum(of("brand", F.col("w") * F.col("w"))) / F.pow(F.sum(of("brand", F.col("w"))), 2))
        .alias("brand_concentration"),
        F.max_by(of("hour", hour), of("hour", F.struct(F.col("w"), -hour))).alias("preferred_hour"),
    )
    shares = F.transform("by_cat", lambda s: F.struct(s["cat"].alias("cat"), (s["w"] / F.col("cat_total")).alias("share")))
    has_categories = F.col("cat_total") > 0
    return rolled.select(
        "user_id",
        F.when(has_categories, F.map_from_entries(shares)).alias("category_affinity"),
        F.when(has_categories, F.slice(F.transform("ranked", lambda s: s["cat"]), 1, 3)).alias("top_categories"),
        "brand_concentration",
        "preferred_hour",
    )


def _ratio(numerator: str, denominator: str) -> F.Column:
    """numerator / denominator, null when the denominator is zero."""
    return F.when(F.col(denominator) > 0, F.col(numerator) / F.col(denominator))


def quintile_thresholds(buyers: DataFrame, columns: list[str]) -> list[list[float]]:
    """Exact 20/40/60/80% quantiles of each column over buyers, in one pass (empty lists: no buyers)."""
    return buyers.approxQuantile(columns, list(QUINTILES), 0.0)


def score(column: str, thresholds: list[float], invert: bool = False) -> F.Column:
    """1–5 score: 1 + number of thresholds the value exceeds (6 − that for recency)."""
    above = sum((F.col(column) > t).cast("int") for t in thresholds) if thresholds else F.lit(0)
    value = F.lit(1) + above
    return (F.lit(6) - value if invert else value).cast("smallint")


def rfm_label(r: F.Column, f: F.Column) -> F.Column:
    """Classic RFM segment name from the recency and frequency scores."""
    label = F.lit(None).cast("string")
    for name, (r_lo, r_hi), (f_lo, f_hi) in reversed(RFM_SEGMENTS):
        label = F.when(r.between(r_lo, r_hi) & f.between(f_lo, f_hi), F.lit(name)).otherwise(label)
    return label


def add_rfm(profiles: DataFrame) -> DataFrame:
    """Add r/f/m scores and the RFM segment; non-buyers get 1/1/1 and `prospect`."""
    buyers = profiles.where(F.col("frequency") > 0)
    r_t, f_t, m_t = quintile_thresholds(buyers, ["recency_days", "frequency", "monetary"])
    is_buyer = F.col("frequency") > 0
    scored = profiles.withColumns(
        {
            "r_score": F.when(is_buyer, score("recency_days", r_t, invert=True)).otherwise(F.lit(1).cast("smallint")),
            "f_score": F.when(is_buyer, score("frequency", f_t)).otherwise(F.lit(1).cast("smallint")),
            "m_score": F.when(is_buyer, score("monetary", m_t)).otherwise(F.lit(1).cast("smallint")),
        }
    )
    return scored.withColumn(
        "rfm_segment",
        F.when(is_buyer, rfm_label(F.col("r_score"), F.col("f_score"))).otherwise(F.lit("prospect")),
    )


def purchase_gap() -> F.Column:
    """A repeat buyer's mean days between orders: (last − first purchase day) / (orders − 1); null below 2 orders."""
    span = F.datediff(F.to_date("last_purchase"), F.to_date("first_purchase"))
    return F.when(F.col("frequency") >= 2, span / (F.col("frequency") - 1))


def estimate_cadence(profiles: DataFrame, rules: LifecycleRules) -> Cadence:
    """The feed's cadence T: median `purchase_gap_days` over repeat buyers (at least 1 day), in one aggregate row;
    days None when fewer than rules.min_repeat_buyers buyers have 2+ orders."""
    row = profiles.agg(
        F.count_if(F.col("frequency") >= 2).alias("repeat_buyers"),
        F.percentile_approx("purchase_gap_days", 0.5).alias("median_gap"),
    ).first()
    repeat = int(row["repeat_buyers"] or 0)
    if repeat < rules.min_repeat_buyers:
        return Cadence(None, repeat)
    return Cadence(max(1.0, round(float(row["median_gap"]), 1)), repeat)


def lifecycle_stage(rules: LifecycleRules, cadence: Cadence) -> F.Column:
    """Lifecycle stage from tenure, activity recency, purchase recency, orders and `purchase_gap_days`."""
    if cadence.days is None:
        new, churn, late = F.lit(rules.new_days), F.lit(rules.churn_days), F.lit(rules.at_risk_days)
    else:
        gap = F.greatest(F.lit(cadence.days), F.coalesce(F.col("purchase_gap_days"), F.lit(cadence.days)))
        new, churn, late = F.lit(cadence.days), gap * rules.churn_gaps, gap * rules.late_gaps
    return (
        F.when(F.col("days_since_last_event") > churn, "churned")
        .when(F.col("tenure_days") <= new, "new")
        .when((F.col("frequency") >= rules.loyal_orders) & (F.col("recency_days") <= late), "loyal")
        .when((F.col("frequency") >= 1) & (F.col("recency_days") > late), "at_risk")
        .otherwise("active")
    )


def user_aggregates(events: DataFrame, params: ProfileParams) -> DataFrame:
    """Per user in the window: activity and session outcomes joined with the preferences, from the
    events partitioned by user (run it under `spark.shared_exchanges` to shuffle them once)."""
    scoped = by_user(window_events(events, params))
    return activity(sessions_of(scoped)).join(preferences(preference_weights(scoped)), "user_id")


def build_profiles(events: DataFrame, users: DataFrame | None, params: ProfileParams) -> DataFrame:
    """One profile row per user active in the window (PROFILE_COLUMNS, in that order)."""
    return build_profiles_with_cadence(events, users, params)[0]


def cadence_for(profiles: DataFrame, params: ProfileParams) -> Cadence:
    """The cadence of the params (0: fixed thresholds) or, when None, the one estimated from the profiles."""
    if params.cadence_days is None:
        cadence = estimate_cadence(profiles, params.lifecycle)
    else:
        cadence = Cadence(params.cadence_days or None)
    log.info("lifecycle: %s", cadence.describe())
    return cadence


def build_profiles_with_cadence(
    events: DataFrame, users: DataFrame | None, params: ProfileParams
) -> tuple[DataFrame, Cadence]:
    """build_profiles, and the purchase cadence its lifecycle stages were measured in."""
    snapshot = F.lit(params.snapshot_date)
    joined = user_aggregates(events, params)
    if users is not None:
        joined = joined.join(users.select("user_id", "signup_date"), "user_id", "left")
    else:
        joined = joined.withColumn("signup_date", F.lit(None).cast("date"))
    first_day = F.least(F.coalesce(F.col("signup_date"), F.to_date("first_seen")), F.to_date("first_seen"))
    derived = joined.withColumns(
        {
            "snapshot_date": snapshot,
            "category_affinity": F.coalesce(
                F.col("category_affinity"), F.create_map(F.lit(UNKNOWN), F.lit(1.0))
            ),
            "top_categories": F.coalesce(F.col("top_categories"), F.array(F.lit(UNKNOWN))),
            "tenure_days": F.datediff(snapshot, first_day),
            "days_since_last_event": F.datediff(snapshot, F.to_date("last_seen")),
            "recency_days": F.datediff(snapshot, F.to_date("last_purchase")),
            "purchase_gap_days": purchase_gap(),
            "avg_order_value": _ratio("monetary", "frequency"),
            "conversion_rate": _ratio("frequency", "sessions"),
            "cart_abandonment_rate": F.when(
                F.col("cart_sessions") > 0, 1 - F.col("carted_and_bought") / F.col("cart_sessions")
            ),
            "coupon_usage_rate": _ratio("coupon_orders", "frequency"),
        }
    )
    # The RFM quantiles and the caller's write both read these rows (one per user): computed once
    # and kept by the executors until the DataFrame is dropped, instead of aggregating the events twice.
    with shared_exchanges(events.sparkSession):
        derived = derived.localCheckpoint(eager=True)
    cadence = cadence_for(derived, params)
    staged = add_rfm(derived).withColumn("lifecycle_stage", lifecycle_stage(params.lifecycle, cadence))
    return staged.withColumn("preferred_hour", F.col("preferred_hour").cast("smallint")).select(
        *PROFILE_COLUMNS
    ), cadence
