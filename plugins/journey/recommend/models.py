"""Candidate generators: ALS (implicit), item-to-item co-occurrence, content affinity, title neighbours, popularity.

(The two-tower retriever's source is journey.recommend.two_tower_source.)

Each returns (user_id, product_id, <source>_score) with the score scaled to [0, 1] per user
(divided by the user's best candidate), so the hybrid blend can weigh them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

TWO_TOWER = "two_tower_score"  # the TensorFlow two-tower source: only with RecommendParams.two_tower
SOURCES = ("als_score", "cooc_score", "seq_score", "content_score", "title_score", "pop_score", TWO_TOWER)
ALS_GRID = ((16, 0.05, 20.0), (32, 0.1, 5.0), (64, 0.1, 1.0))  # (rank, regParam, alpha) tried by the tuning
HALF_LIFE_GRID = (0.0, 14.0)  # recency half-lives (days; 0 = no decay) tried by the tuning


@dataclass(frozen=True)
class RecommendParams:
    """Hyper-parameters (one place). `tune` replaces weights, ALS settings and half-life per run."""

    k: int = 10
    candidates: int = 50  # per source and user
    rank: int = 16
    max_iter: int = 6
    reg_param: float = 0.05
    alpha: float = 20.0
    seed: int = 7
    neighbours: int = 20  # co-occurrence neighbours kept per item
    basket_size: int = 30  # most-weighted products per user used for co-occurrence
    pair_basket: int = 20  # products per user counted in co-occurrence pairs (pairs grow with its square)
    pair_users: int = 50_000  # at most about this many users (a hash sample) estimate product similarity
    recent_items: int = 3  # the user's latest products the sequence source continues from
    lookback_days: int = 0  # days of history learned from; 0 = all
    exclude: str = "interacted"  # purchased | interacted: never recommended again
    per_category: int = 0  # diversity cap: at most M products of one real top-level category; 0 = off
    half_life_days: float = 0.0  # recency decay of the interaction strengths; 0 = none
    tune: bool = True  # tune weights, ALS settings and half-life on a validation split each run
    holdout_fraction: float = 0.2  # each user's latest share of events held out (evaluation, validation)
    tune_users: int = 3000  # validation users (a hash sample) the tuning scores
    als_grid: tuple[tuple[int, float, float], ...] = ALS_GRID  # (rank, regParam, alpha) tried by the tuning
    half_life_grid: tuple[float, ...] = HALF_LIFE_GRID  # recency half-lives tried by the tuning
    two_tower: bool = False  # the two-tower retriever is a candidate source (TensorFlow training on the driver)
    two_tower_epochs: int = 8
    two_tower_max_pairs: int = 100_000  # (user, product) pairs it trains on at most (a hash sample of users above)
    # hybrid weight per candidate source, used as is when tune is off (an absent source adds 0)
    weights: tuple[tuple[str, float], ...] = (("als_score", 0.45), ("cooc_score", 0.25), ("content_score", 0.15),
                                              ("title_score", 0.15))


def sources_for(params: RecommendParams) -> tuple[str, ...]:
    """The candidate sources this run may use: SOURCES, without the two-tower unless params.two_tower."""
    return tuple(name for name in SOURCES if name != TWO_TOWER or params.two_tower)


def _scaled(frame: DataFrame, column: str) -> DataFrame:
    """Score divided by the user's best score (per-user [0, 1])."""
    best = F.max(column).over(Window.partitionBy("user_id"))
    return frame.withColumn(column, F.col(column) / F.when(best > 0, best).otherwise(F.lit(1.0)))


def _top_per_user(frame: DataFrame, column: str, n: int) -> DataFrame:
    """The n best rows per user by column (ties by product id)."""
    order = Window.partitionBy("user_id").orderBy(F.col(column).desc(), F.col("product_id"))
    return frame.withColumn("_r", F.row_number().over(order)).where(F.col("_r") <= n).drop("_r")


def dense_index(frame: DataFrame, column: str, index: str) -> DataFrame:
    """(column, index): each distinct value of `column` numbered 0, 1, … in ascending order.

    A DataFrame, not a StringIndexer model: the model's label map is captured in the closure of
    every task that uses it (32 MiB at 1M users, deserialised per task: ALS ran for hours).
    """
    ordered = Window.partitionBy(F.lit(0)).orderBy(column)  # one partition: ids only, a few MB
    values = frame.select(column).distinct()
    return values.select(column, (F.row_number().over(ordered) - 1).cast("int").alias(index))


def als_blocks(spark) -> int:
    """ALS user and item blocks: the shuffle partitions, at most 4 per core (ALS's default, 10, is
    for clusters). Top-N scoring crosses every user block with every item block and reads each
    block again per pair: 100 blocks (a 1M-user audience's partitions) made 10,000 slow tasks."""
    return min(int(spark.conf.get("spark.sql.shuffle.partitions")), 4 * spark.sparkContext.defaultParallelism)


def als_candidates(train: DataFrame, users: DataFrame, params: RecommendParams) -> DataFrame:
    """ALS on implicit strengths; top candidates for the given users (those seen in training).
    The plain-ALS baseline of the evaluation is this source alone."""
    from pyspark.ml.recommendation import ALS

    user_index = dense_index(train, "user_id", "u")
    item_index = dense_index(train, "product_id", "i")
    ratings = train.join(user_index, "user_id").join(F.broadcast(item_index), "product_id").select(
        "u", "i", "strength")
    blocks = als_blocks(train.sparkSession)
    model = ALS(userCol="u", itemCol="i", ratingCol="strength", implicitPrefs=True, rank=params.rank,
                maxIter=params.max_iter, regParam=params.reg_param, alpha=params.alpha, seed=params.seed,
                nonnegative=True, coldStartStrategy="drop", numUserBlocks=blocks,
                numItemBlocks=blocks).fit(ratings)
    known = users.select("user_id").join(user_index, "user_id")
    recs = model.recommendForUserSubset(known.select("u"), params.candidates)
    flat = (recs.select("u", F.explode("recommendations").alias("rec"))
            .select("u", F.col("rec.i").alias("i"), F.col("rec.rating").alias("als_score"))
            .join(F.broadcast(item_index), "i").drop("i"))
    return _scaled(flat.join(known, "u").select("user_id", "product_id", "als_score"), "als_score")


def _basket(train: DataFrame, params: RecommendParams) -> DataFrame:
    """Each user's most-weighted products (user_id, product_id, strength)."""
    return _top_per_user(train, "strength", params.basket_size).select("user_id", "product_id", "strength")


def neighbour_candidates(basket: DataFrame, neighbours: DataFrame, users: DataFrame, column: str,
                         params: RecommendParams) -> DataFrame:
    """Item-to-item scores: per user and product, the sum over the user's basket of strength × similarity."""
    mine = basket.join(users.select("user_id"), "user_id").select("user_id", F.col("product_id").alias("item"),
                                                                   "strength")
    scored = (mine.join(neighbours.select("item", "product_id", "sim"), "item")
              .groupBy("user_id", "product_id").agg(F.sum(F.col("strength") * F.col("sim")).alias(column)))
    return _scaled(_top_per_user(scored, column, params.candidates), column)


def _pair_sample(train: DataFrame, params: RecommendParams) -> DataFrame:
    """The baskets similarity is estimated from: each user's pair_basket strongest products, for a
    deterministic hash sample of about pair_users users (every user when there are fewer).

    Bounds the self-join at pair_users × pair_basket² rows whatever the number of users: at
    200k users the full 30-product baskets made ~10⁸ pairs and ran a 4g driver out of memory.
    """
    users = train.select("user_id").distinct()
    total = users.count()
    if total > params.pair_users:
        keep = F.pmod(F.xxhash64(F.lit("pairs"), "user_id"), F.lit(total)) < F.lit(params.pair_users)
        users = users.where(keep)
    top = _top_per_user(train.join(users, "user_id"), "strength", params.pair_basket)
    return top.select("user_id", "product_id")


def cooccurrence_candidates(train: DataFrame, users: DataFrame, params: RecommendParams) -> DataFrame:
    """Item-to-item: cosine of co-interaction counts between products (from _pair_sample), summed over
    the user's basket_size strongest products."""
    basket = _basket(train, params)
    sample = _pair_sample(train, params)
    counts = sample.groupBy("product_id").agg(F.count("*").alias("n"))
    a, b = sample.alias("a"), sample.alias("b")
    pairs = (a.join(b, (F.col("a.user_id") == F.col("b.user_id")) & (F.col("a.product_id") != F.col("b.product_id")))
             .groupBy(F.col("a.product_id").alias("item"), F.col("b.product_id").alias("product_id"))
             .agg(F.count("*").alias("both")))
    sims = (pairs.join(counts.select(F.col("product_id").alias("item"), F.col("n").alias("n_item")), "item")
            .join(counts.select("product_id", F.col("n").alias("n_other")), "product_id")
            .withColumn("sim", F.col("both") / F.sqrt(F.col("n_item") * F.col("n_other"))))
    near = Window.partitionBy("item").orderBy(F.col("sim").desc(), F.col("product_id"))
    sims = sims.withColumn("_r", F.row_number().over(near)).where(F.col("_r") <= params.neighbours)
    return neighbour_candidates(basket, sims, users, "cooc_score", params)


def _transitions(train_events: DataFrame, params: RecommendParams) -> DataFrame:
    """(item, product_id, sim): how often product_id came next after item in users' time-ordered
    histories (consecutive distinct products), divided by item's outgoing transitions; top neighbours."""
    order = Window.partitionBy("user_id").orderBy("event_time", "product_id")
    steps = (train_events.select("user_id", "product_id", "event_time")
             .withColumn("item", F.lag("product_id").over(order))
             .where(F.col("item").isNotNull() & (F.col("item") != F.col("product_id"))))
    counts = steps.groupBy("item", "product_id").agg(F.count("*").alias("n"))
    share = counts.withColumn("sim", F.col("n") / F.sum("n").over(Window.partitionBy("item")))
    near = Window.partitionBy("item").orderBy(F.col("sim").desc(), F.col("product_id"))
    return share.withColumn("_r", F.row_number().over(near)).where(F.col("_r") <= params.neighbours)


def sequence_candidates(train_events: DataFrame, users: DataFrame, params: RecommendParams) -> DataFrame:
    """Session/sequence-aware: products that followed the user's `recent_items` latest products in
    others' histories; the latest product counts 1, the one before 1/2, then 1/3."""
    latest = (train_events.join(users.select("user_id"), "user_id").groupBy("user_id", "product_id")
              .agg(F.max("event_time").alias("t")))
    recent = Window.partitionBy("user_id").orderBy(F.col("t").desc(), F.col("product_id"))
    basket = (latest.withColumn("_r", F.row_number().over(recent)).where(F.col("_r") <= params.recent_items)
              .select("user_id", "product_id", (F.lit(1.0) / F.col("_r")).alias("strength")))
    return neighbour_candidates(basket, _transitions(train_events, params), users, "seq_score", params)


def popularity_scores(train: DataFrame, users: DataFrame, params: RecommendParams) -> DataFrame:
    """Every user × the `candidates` most popular products, scored distinct users / the top product's."""
    ranked = train.groupBy("product_id").agg(F.countDistinct("user_id").alias("pop"))
    top = ranked.orderBy(F.col("pop").desc(), F.col("product_id")).limit(params.candidates)
    best = top.agg(F.max("pop")).first()[0] or 1
    return users.select("user_id").crossJoin(F.broadcast(top)).select(
        "user_id", "product_id", (F.col("pop") / F.lit(float(best))).alias("pop_score"))


def title_candidates(train: DataFrame, users: DataFrame, neighbours: DataFrame, params: RecommendParams) -> DataFrame:
    """Products whose titles are near the titles of the user's products (journey.recommend.titles)."""
    return neighbour_candidates(_basket(train, params), neighbours, users, "title_score", params)


def content_candidates(train_events: DataFrame, users: DataFrame, catalog: DataFrame, train: DataFrame,
                       params: RecommendParams) -> DataFrame:
    """Content affinity: the user's share of weight on the product's category (×0.7) and brand (×0.3).

    Candidates are the most popular products of each user's categories.
    """
    mine = train_events.join(users.select("user_id"), "user_id").where(F.col("top_category").isNotNull())
    by_user = Window.partitionBy("user_id")
    cat = (mine.groupBy("user_id", "top_category").agg(F.sum("weight").alias("w"))
           .withColumn("cat_share", F.col("w") / F.sum("w").over(by_user)).drop("w"))
    brand = (mine.where(F.col("brand").isNotNull()).groupBy("user_id", "brand").agg(F.sum("weight").alias("w"))
             .withColumn("brand_share", F.col("w") / F.sum("w").over(by_user)).drop("w"))
    pop = train.groupBy("product_id").agg(F.countDistinct("user_id").alias("pop")).join(catalog, "product_id")
    per_cat = Window.partitionBy("top_category").orderBy(F.col("pop").desc(), F.col("product_id"))
    top_items = pop.withColumn("_r", F.row_number().over(per_cat)).where(F.col("_r") <= params.candidates).drop("_r")
    scored = (cat.join(top_items, "top_category").join(brand, ["user_id", "brand"], "left")
              .withColumn("content_score", F.lit(0.7) * F.col("cat_share")
                          + F.lit(0.3) * F.coalesce(F.col("brand_share"), F.lit(0.0))))
    return _scaled(_top_per_user(scored.select("user_id", "product_id", "content_score"), "content_score",
                                 params.candidates), "content_score")
