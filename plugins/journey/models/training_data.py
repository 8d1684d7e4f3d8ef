"""Training sets as pure Spark transforms: user × cut-off rows (behaviour, propensity) and sessions (scene).

User set, one row per (user, cut-off) for every user with an event in the look-back before
the cut-off (a date; the cut-off instant is its midnight UTC):
- features from events strictly before the cut-off only: the last N events as token
  sequences (event type, hashed category, price bucket, hour, channel, log time gap), event
  aggregates, the profile features of `journey.profiles.build` for the day before the cut-off,
  and the buy-till-you-die features of `journey.models.btyd_features` (all purchase history);
- labels from events on or after it: `label_purchase` (a purchase within `horizon_days`) and
  `label_coupon` (a coupon redeemed within `horizon_days`).
Cut-offs (`cutoff_plan`, drawn in docs/models.md): the latest is last day + 1 − horizon, so
every label window ends inside the data; up to `cutoffs` − 1 older ones every
`cutoff_step_days`, none before `min_history_days`. A horizon longer than the data allows
is cut to the longest that fits (`fitted_horizon`). Customers, by a hash of the user id,
separate train, validation and test (`customer_split`): training customers give a row per
cut-off, validation and test customers only the latest cut-off's row, so the model is
judged on customers it never saw, with the history length the scoring day will have.

Scene set, one row per session: its first M events as the same token sequences, session
aggregates, and its user context (price relative to the user's usual price, category novelty,
share of products the user met in other sessions). `label` comes from the ground truth when
given (`label_source = ground_truth`), else from the weak-labelling rules (`weak_rule`);
`rule_scene` always holds the rules' answer (the scene baseline). Split by customer, as above.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from journey.errors import DataError
from journey.models.btyd_features import BTYD_FEATURES, btyd_scores
from journey.models.hparams import CATEGORY_BUCKETS, PRICE_BUCKETS, SEQUENCE_COLUMNS, DataParams
from journey.profiles.build import UNKNOWN, ProfileParams, build_profiles
from journey.schemas import CHANNELS, EVENT_TYPES, SCENES

SPLITS = ("train", "validation", "test")
AGGREGATE_FEATURES = (
    "n_events", "n_sessions", "n_views", "n_searches", "n_carts", "n_removes", "n_purchases", "n_coupons",
    "n_events_3d", "n_carts_3d", "days_since_last_event", "days_since_last_cart", "days_since_last_purchase",
    "spend", "distinct_categories",
)
PROFILE_FEATURES = (
    "recency_days", "frequency", "monetary", "avg_order_value", "r_score", "f_score", "m_score", "sessions",
    "views", "searches", "carts", "purchases", "coupon_redemptions", "cart_abandonment_rate", "conversion_rate",
    "coupon_usage_rate", "brand_concentration", "preferred_hour", "tenure_days", "days_since_last_event",
)
SCENE_FEATURES = (
    "n_events", "n_views", "n_searches", "n_carts", "n_removes", "n_purchases", "n_coupons",
    "distinct_categories", "distinct_top_categories", "top_category_share", "mean_log_price",
    "duration_minutes", "relative_price", "category_novelty", "repeat_share",
)
SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class SceneRules:
    """Weak-labelling rules for sessions without a scene label; the first that matches wins."""

    promo_relative_price: float = -0.25  # promo_hunt: a coupon, or a search with prices this far below usual
    replenish_repeat_share: float = 0.5  # replenish: at least this share of products seen in other sessions
    gift_novelty: float = 0.7  # gift: category new to the user ...
    gift_relative_price: float = 0.1  # ... and pricier than usual
    compare_views: int = 4  # compare: this many views in one sub-category, nothing bought
    targeted_views: int = 3  # targeted: a cart after at most this many views


def fitted_horizon(first_day: date, last_day: date, params: DataParams) -> DataParams:
    """params with a label horizon that fits the data (unchanged when it fits after the minimum history).

    A supervised label window must lie inside the data: a 39-week question on 39 weeks of
    history cannot be labelled. It is then cut to half the span (the other half is the
    training customers' history), or to what the minimum history leaves when that is less;
    the BTYD scores still answer the full horizon at scoring time. DataError when not even
    one day is left.
    """
    span = (last_day - first_day).days + 1
    longest = span - params.min_history_days
    if longest < 1:
        raise DataError(f"events span {span} day(s) ({first_day} .. {last_day}): nothing is left for a label "
                        f"window after the minimum history of {params.min_history_days} day(s); lower "
                        "min_history_days or add history")
    if params.horizon_days <= longest:
        return params
    return replace(params, horizon_days=max(1, min(longest, span // 2)))


def cutoff_plan(first_day: date, last_day: date, params: DataParams) -> list[tuple[date, str]]:
    """(cut-off, role) pairs, oldest first: up to `params.cutoffs` training cut-offs.

    The latest cut-off (role `latest`) is last day + 1 − horizon, so its label window ends on
    the last day and every label is fully observed; the others step back `cutoff_step_days`
    at a time (role `train`), none earlier than `min_history_days` after the first day.
    Customers, not time, separate train, validation and test (`customer_split`): training
    customers contribute a row per cut-off, validation and test customers only the latest,
    the one most like the scoring day. DataError when the latest cut-off is too early.
    """
    latest = last_day + timedelta(days=1 - params.horizon_days)
    earliest = first_day + timedelta(days=params.min_history_days)
    if latest < earliest:
        days = (last_day - first_day).days + 1
        raise DataError(f"events span {days} day(s) ({first_day} .. {last_day}); a horizon of "
                        f"{params.horizon_days} day(s) after {params.min_history_days} day(s) of minimum history "
                        f"needs at least {params.horizon_days + params.min_history_days}")
    older = [latest - timedelta(days=k * params.cutoff_step_days) for k in range(1, params.cutoffs)]
    return [(c, "train") for c in sorted(c for c in older if c >= earliest)] + [(latest, "latest")]


def customer_split(user_id: F.Column, params: DataParams) -> F.Column:
    """train / validation / test per customer, from a stable hash of the user id (shares from params)."""
    bucket = F.pmod(F.xxhash64(user_id), F.lit(10_000)) / 10_000.0
    return (F.when(bucket < params.test_share, "test")
            .when(bucket < params.test_share + params.validation_share, "validation").otherwise("train"))


def known_categories(events: DataFrame) -> DataFrame:
    """Events with the curated placeholder category `unknown` (no category in the feed) made null."""
    return events.withColumn("category", F.when(F.col("category") != UNKNOWN, F.col("category")))


def token_columns(events: DataFrame) -> DataFrame:
    """Events with integer tokens (0 is padding) and the log gap to the user's previous event."""
    by_user = Window.partitionBy("user_id").orderBy("event_time", "event_id")
    gap = F.col("event_time").cast("double") - F.lag(F.col("event_time").cast("double")).over(by_user)
    price_bucket = F.least(F.floor(F.log2(F.col("price") + 1)).cast("int") + 1, F.lit(PRICE_BUCKETS - 1))
    return events.select(
        "*",
        (F.array_position(F.array(*map(F.lit, EVENT_TYPES)), F.col("event_type")) + 1).cast("int").alias("tok_event"),
        F.when(F.col("category").isNull(), 0)
        .otherwise(F.pmod(F.xxhash64("category"), F.lit(CATEGORY_BUCKETS - 1)) + 1).cast("int").alias("tok_category"),
        F.when(F.col("price").isNull() | (F.col("price") < 0), 0).otherwise(price_bucket).cast("int")
        .alias("tok_price"),
        (F.hour("event_time") + 1).cast("int").alias("tok_hour"),
        (F.array_position(F.array(*map(F.lit, CHANNELS)), F.col("channel")) + 1).cast("int").alias("tok_channel"),
        F.log1p(F.coalesce(F.greatest(gap, F.lit(0.0)), F.lit(0.0))).cast("float").alias("tok_gap"),
    )


def _padded(sequence: F.Column, field: str, length: int, pad: F.Column) -> F.Column:
    """One token field of an array of event structs, left-padded with `pad` to `length` elements."""
    values = F.transform(sequence, lambda event: event[field])
    return F.concat(F.array_repeat(pad, F.lit(length) - F.size(values)), values)


def sequence_columns(sequence: F.Column, length: int) -> list[F.Column]:
    """The SEQUENCE_COLUMNS of an array of token structs (at most `length` events, oldest first)."""
    fields = ("tok_event", "tok_category", "tok_price", "tok_hour", "tok_channel", "tok_gap")
    pads = [F.lit(0)] * 5 + [F.lit(0.0).cast("float")]
    return [_padded(sequence, f, length, p).alias(name) for f, p, name in zip(fields, pads, SEQUENCE_COLUMNS,
                                                                                      strict=True)]


def _token_struct() -> F.Column:
    """The per-event struct collected into sequences (time first, so sorting orders by time)."""
    return F.struct("event_time", "event_id", "tok_event", "tok_category", "tok_price", "tok_hour", "tok_channel",
                    "tok_gap")


def history(events: DataFrame, cutoffs: DataFrame, lookback_days: int) -> DataFrame:
    """Each cut-off's look-back events: strictly before the cut-off day, never on or after it."""
    inside = (F.col("event_date") < F.col("cutoff")) & (F.col("event_date") >= F.date_sub("cutoff", lookback_days))
    return events.join(F.broadcast(cutoffs.select("cutoff")), inside)


def _days_since(condition: F.Column, cutoff_seconds: F.Column, missing: float) -> F.Column:
    """Days from the last event matching `condition` to the cut-off (`missing` when none)."""
    last = F.max(F.when(condition, F.col("event_time").cast("double")))
    return F.coalesce((cutoff_seconds - last) / SECONDS_PER_DAY, F.lit(missing)).cast("double")


def _count(condition: F.Column) -> F.Column:
    """Number of rows matching a condition."""
    return F.count(F.when(condition, True)).cast("double")


COUNTED_EVENTS = {"n_views": "view", "n_searches": "search", "n_carts": "add_to_cart",
                  "n_removes": "remove_from_cart", "n_purchases": "purchase", "n_coupons": "coupon_redeem"}


def event_counts() -> list[F.Column]:
    """Aggregates: all events (n_events) and the events of each type (n_views, n_carts, …)."""
    return [F.count(F.lit(1)).cast("double").alias("n_events"),
            *[_count(F.col("event_type") == kind).alias(name) for name, kind in COUNTED_EVENTS.items()]]


def behaviour_features(tokens: DataFrame, cutoffs: DataFrame, params: DataParams) -> DataFrame:
    """Per (user, cut-off): the last N events as padded sequences and the event aggregates."""
    past = history(tokens, cutoffs, params.lookback_days)
    cutoff_seconds = F.unix_timestamp(F.col("cutoff").cast("timestamp")).cast("double")
    kind = F.col("event_type")
    recent = F.col("event_date") >= F.date_sub("cutoff", 3)
    missing = float(params.lookback_days + 1)
    grouped = past.groupBy("user_id", "cutoff").agg(
        F.slice(F.sort_array(F.collect_list(_token_struct()), asc=False), 1, params.behaviour_events).alias("_last"),
        F.countDistinct("session_id").cast("double").alias("n_sessions"),
        *event_counts(),
        _count(recent).alias("n_events_3d"),
        _count(recent & (kind == "add_to_cart")).alias("n_carts_3d"),
        _days_since(F.lit(True), cutoff_seconds, missing).alias("days_since_last_event"),
        _days_since(kind == "add_to_cart", cutoff_seconds, missing).alias("days_since_last_cart"),
        _days_since(kind == "purchase", cutoff_seconds, missing).alias("days_since_last_purchase"),
        F.coalesce(F.sum(F.when(kind == "purchase", F.col("price") * F.col("quantity"))), F.lit(0.0))
        .cast("double").alias("spend"),
        F.countDistinct("category").cast("double").alias("distinct_categories"),
        F.max("event_time").alias("last_event_time"),
    )
    oldest_first = F.reverse(F.col("_last"))
    return grouped.select("user_id", "cutoff", *sequence_columns(oldest_first, params.behaviour_events),
                          *AGGREGATE_FEATURES, "last_event_time")


def future_labels(events: DataFrame, cutoffs: DataFrame, horizon_days: int) -> DataFrame:
    """Per (user, cut-off) with events in [cut-off, cut-off + horizon): purchase and coupon flags."""
    ahead = (F.col("event_date") >= F.col("cutoff")) & (F.col("event_date") < F.date_add("cutoff", horizon_days))
    future = events.join(F.broadcast(cutoffs.select("cutoff")), ahead)
    return future.groupBy("user_id", "cutoff").agg(
        F.max((F.col("event_type") == "purchase").cast("int")).alias("label_purchase"),
        F.max((F.col("event_type") == "coupon_redeem").cast("int")).alias("label_coupon"),
    )


def profile_features(events: DataFrame, cutoff: date, lookback_days: int) -> DataFrame:
    """PROFILE_FEATURES of `journey.profiles.build` as of the day before the cut-off, as doubles."""
    params = ProfileParams(snapshot_date=cutoff - timedelta(days=1), lookback_days=lookback_days)
    profiles = build_profiles(events.where(F.col("event_date") < F.lit(cutoff)), None, params)
    return profiles.select("user_id", F.lit(cutoff).alias("cutoff"),
                           *[F.col(c).cast("double").alias(f"p_{c}") for c in PROFILE_FEATURES])


def cutoff_frame(spark, plan: list[tuple[date, str]]) -> DataFrame:
    """The cut-off plan as a small DataFrame (cutoff date, split)."""
    return spark.createDataFrame([(c, s) for c, s in plan], "cutoff date, split string")


def user_features(events: DataFrame, plan: list[tuple[date, str]], params: DataParams) -> DataFrame:
    """Features of every (user, cut-off) of the plan: sequences, aggregates, profile features, split."""
    cutoffs = cutoff_frame(events.sparkSession, plan)
    behaviour = behaviour_features(token_columns(known_categories(events)), cutoffs, params)
    profiles = None
    for cutoff, _split in plan:
        one = profile_features(events, cutoff, params.lookback_days)
        profiles = one if profiles is None else profiles.unionByName(one)
    btyd = btyd_scores(events, cutoffs, params.horizon_days).drop("btyd_note")
    return (behaviour.join(profiles, ["user_id", "cutoff"], "left").join(btyd, ["user_id", "cutoff"], "left")
            .join(F.broadcast(cutoffs), "cutoff"))


def user_training_set(events: DataFrame, plan: list[tuple[date, str]], params: DataParams) -> DataFrame:
    """The user set: features, labels (0 when no event ahead) and split, one row per (user, cut-off)."""
    cutoffs = cutoff_frame(events.sparkSession, plan)
    labels = future_labels(events, cutoffs, params.horizon_days)
    rows = (user_features(events, plan, params).join(labels, ["user_id", "cutoff"], "left")
            .withColumn("split", customer_split(F.col("user_id"), params))
            .where((F.col("split") == "train") | (F.col("cutoff") == F.lit(plan[-1][0]))))
    return rows.select(
        "user_id", "cutoff", "split", *SEQUENCE_COLUMNS, *AGGREGATE_FEATURES,
        *[f"p_{c}" for c in PROFILE_FEATURES], *BTYD_FEATURES, "btyd_expected_purchases",
        F.coalesce("label_purchase", F.lit(0)).cast("int").alias("label_purchase"),
        F.coalesce("label_coupon", F.lit(0)).cast("int").alias("label_coupon"),
    )


def _top(category: F.Column) -> F.Column:
    """Top-level category: the first part of the dotted path."""
    return F.split(category, r"\.").getItem(0)


def _user_context(events: DataFrame) -> tuple[DataFrame, DataFrame, DataFrame]:
    """Per user: mean log price; per (user, top category) and (user, product): event counts by session."""
    priced = events.where(F.col("price") > 0)
    price = priced.groupBy("user_id").agg(F.avg(F.log1p("price")).alias("user_log_price"))
    tops = (events.where(F.col("category").isNotNull())
            .groupBy("user_id", _top(F.col("category")).alias("top"), "session_id").count())
    products = events.where(F.col("product_id").isNotNull()).select("user_id", "product_id", "session_id").distinct()
    return price, tops, products


def session_context(events: DataFrame) -> DataFrame:
    """Per session: relative price, category novelty and repeat-product share against the user's other sessions."""
    price, tops, products = _user_context(events)
    user_tops = tops.groupBy("user_id", "top").agg(F.sum("count").alias("user_top"))
    user_total = tops.groupBy("user_id").agg(F.sum("count").alias("user_all"))
    main_top = tops.groupBy("user_id", "session_id").agg(
        F.max_by("top", F.struct("count", "top")).alias("top"), F.sum("count").alias("session_all"),
        F.max("count").alias("session_top"))
    novelty = (main_top.join(user_tops, ["user_id", "top"]).join(user_total, "user_id")
               .select("session_id", (1.0 - (F.col("user_top") - F.col("session_top"))
                                      / F.greatest(F.col("user_all") - F.col("session_all"), F.lit(1)))
                       .alias("category_novelty")))
    seen_in = products.groupBy("user_id", "product_id").agg(F.count(F.lit(1)).alias("sessions_with"))
    repeat = (products.join(seen_in, ["user_id", "product_id"]).groupBy("session_id")
              .agg(F.avg((F.col("sessions_with") > 1).cast("double")).alias("repeat_share")))
    session_price = (events.where(F.col("price") > 0).groupBy("user_id", "session_id")
                     .agg(F.avg(F.log1p("price")).alias("session_log_price"))
                     .join(price, "user_id")
                     .select("session_id", (F.col("session_log_price") - F.col("user_log_price"))
                             .alias("relative_price")))
    return novelty.join(repeat, "session_id", "full").join(session_price, "session_id", "full")


def rule_scene(rules: SceneRules) -> F.Column:
    """The weak-labelling rule set as one column expression (first match wins, browse otherwise)."""
    bought = F.col("n_purchases") > 0
    is_promo = (F.col("n_coupons") > 0) | ((F.col("n_searches") > 0)
                                          & (F.col("relative_price") <= rules.promo_relative_price))
    return (
        F.when(is_promo, "promo_hunt")
        .when(bought & (F.col("repeat_share") >= rules.replenish_repeat_share), "replenish")
        .when((F.col("category_novelty") >= rules.gift_novelty)
              & (F.col("relative_price") >= rules.gift_relative_price) & (F.col("n_carts") > 0), "gift")
        .when((F.col("n_views") >= rules.compare_views) & (F.col("distinct_categories") <= 1) & ~bought, "compare")
        .when((F.col("n_carts") > 0) & (F.col("n_views") <= rules.targeted_views), "targeted")
        .otherwise("browse")
    )


def scene_features(events: DataFrame, params: DataParams) -> DataFrame:
    """Per session: its first M events as padded sequences, aggregates, user context and rule scene."""
    events = known_categories(events)
    tokens = token_columns(events)
    sessions = tokens.groupBy("user_id", "session_id").agg(
        F.slice(F.sort_array(F.collect_list(_token_struct())), 1, params.scene_events).alias("_first"),
        F.min("event_time").alias("session_start"),
        *event_counts(),
        F.countDistinct("category").cast("double").alias("distinct_categories"),
        F.countDistinct(_top(F.col("category"))).cast("double").alias("distinct_top_categories"),
        F.coalesce(F.avg(F.when(F.col("price") > 0, F.log1p("price"))), F.lit(0.0)).alias("mean_log_price"),
        ((F.max("event_time").cast("double") - F.min("event_time").cast("double")) / 60.0).alias("duration_minutes"),
    )
    share = (tokens.where(F.col("category").isNotNull()).groupBy("session_id", _top(F.col("category")))
             .count().groupBy("session_id").agg((F.max("count") / F.sum("count")).alias("top_category_share")))
    rows = sessions.join(share, "session_id", "left").join(session_context(events), "session_id", "left")
    filled = rows.fillna(0.0, subset=["top_category_share", "relative_price", "category_novelty", "repeat_share"])
    return filled.select("session_id", "user_id", "session_start",
                         *sequence_columns(F.col("_first"), params.scene_events),
                         *[F.col(c).cast("double").alias(c) for c in SCENE_FEATURES],
                         rule_scene(SceneRules()).alias("rule_scene"))


def scene_training_set(events: DataFrame, truth: DataFrame | None, params: DataParams) -> DataFrame:
    """The scene set: features, label (ground truth when given, else the rules), label_source and split."""
    rows = scene_features(events, params)
    if truth is not None:
        rows = rows.join(truth.select("session_id", F.col("scene").alias("_truth")), "session_id", "left")
    else:
        rows = rows.withColumn("_truth", F.lit(None).cast("string"))
    known = F.col("_truth").isin(*SCENES)
    return rows.select(
        "session_id", "user_id", "session_start", customer_split(F.col("user_id"), params).alias("split"), *SEQUENCE_COLUMNS, *SCENE_FEATURES,
        "rule_scene",
        F.when(known, F.col("_truth")).otherwise(F.col("rule_scene")).alias("label"),
        F.when(known, "ground_truth").otherwise("weak_rule").alias("label_source"),
    )


@dataclass(frozen=True)
class TrainingSets:
    """Both training sets of a snapshot, the cut-off plan and the data parameters actually used."""

    users: DataFrame
    scenes: DataFrame
    plan: list[tuple[date, str]]
    params: DataParams  # horizon_days may be shorter than asked (fitted_horizon)
    first_day: date
    last_day: date


def training_sets(events: DataFrame, truth: DataFrame | None, params: DataParams) -> TrainingSets:
    """The user and scene sets of the events (first to last event day), horizon fitted to the data."""
    first, last = events.agg(F.min("event_date"), F.max("event_date")).first()
    if first is None:
        raise DataError("no curated events to build training sets from")
    fitted = fitted_horizon(first, last, params)
    plan = cutoff_plan(first, last, fitted)
    return TrainingSets(user_training_set(events, plan, fitted), scene_training_set(events, truth, fitted), plan,
                        fitted, first, last)
