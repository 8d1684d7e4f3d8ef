"""Customer segments: K-means on scaled profile features, k chosen by silhouette.

- Features: log-transformed activity and money, behaviour rates and top-level category
  shares (base_features() + `aff_<category>`), standardised.
- k: every k in [k_min, k_max] is fitted; the best silhouette wins (ties: smaller k).
- Determinism: rows are hash-partitioned by user_id and sorted inside partitions before
  fitting, and the seed is fixed, so shuffled input gives the same clusters.
- Stable ids: new centroids are matched to the previous snapshot's (Hungarian assignment
  on standardised distance); a match farther than `match_distance` starts a new id.
- Names: read from the centroid (value tier, dominant behaviour, favourite category), with only
  the traits the feed can show: without views, sessions are orders, so a transaction-only feed
  is named by value, frequency and recency, never by browsing, visits or conversion.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from journey.errors import InputError
from journey.profiles.build import absent_behaviour


def base_features() -> dict[str, F.Column]:
    """Behaviour features: log-transformed counts and money, rates with 0 for 'not applicable'."""
    return {
        "log_days_since_last_event": F.log1p(F.col("days_since_last_event")),
        "log_orders": F.log1p(F.col("frequency")),
        "log_monetary": F.log1p(F.col("monetary")),
        "log_sessions": F.log1p(F.col("sessions")),
        "log_avg_order_value": F.log1p(F.coalesce(F.col("avg_order_value"), F.lit(0.0))),
        "conversion_rate": F.coalesce(F.col("conversion_rate"), F.lit(0.0)),
        "cart_abandonment_rate": F.coalesce(F.col("cart_abandonment_rate"), F.lit(0.0)),
        "coupon_usage_rate": F.coalesce(F.col("coupon_usage_rate"), F.lit(0.0)),
    }

AFFINITY_PREFIX = "aff_"
TRAIT_THRESHOLD = 0.75  # z-score a trait needs to name a segment
CATEGORY_THRESHOLD = 0.40  # share a category needs to name a segment


@dataclass(frozen=True)
class SegmentParams:
    """Settings of one segmentation run."""

    k_min: int = 3
    k_max: int = 8
    seed: int = 42
    max_categories: int = 8
    max_iter: int = 40
    match_distance: float = 3.0
    partitions: int = 8

    def __post_init__(self) -> None:
        """Reject ranges K-means cannot use."""
        if not 2 <= self.k_min <= self.k_max:
            raise InputError(f"k range must satisfy 2 <= k_min <= k_max, got {self.k_min}..{self.k_max}")


@dataclass(frozen=True)
class Clustering:
    """Result of choosing k and fitting: per-user clusters and what describes them."""

    assignments: DataFrame  # user_id, cluster
    k: int
    silhouette: float
    silhouettes: dict[int, float]
    feature_names: list[str]
    mean: list[float]
    std: list[float]
    constant: tuple[str, ...] = ()  # features with no variation: they have no say in the clusters


def top_categories(profiles: DataFrame, limit: int) -> list[str]:
    """The `limit` top-level categories with the largest total affinity, sorted by name."""
    totals = (
        profiles.select(F.explode("category_affinity").alias("cat", "share"))
        .groupBy("cat").agg(F.sum("share").alias("total"))
        .orderBy(F.desc("total"), "cat").limit(limit).collect()
    )
    return sorted(row["cat"] for row in totals)


def feature_frame(profiles: DataFrame, categories: list[str]) -> DataFrame:
    """user_id plus one rounded numeric column per feature (rounding makes sums order-proof)."""
    affinity = {
        f"{AFFINITY_PREFIX}{cat}": F.coalesce(F.element_at("category_affinity", F.lit(cat)), F.lit(0.0))
        for cat in categories
    }
    columns = {**base_features(), **affinity}
    return profiles.select(
        "user_id", *[F.round(expr.cast("double"), 6).alias(name) for name, expr in columns.items()]
    )


def _canonical_order(features: DataFrame, partitions: int) -> DataFrame:
    """Same rows in the same partitions and order whatever order the input came in."""
    return features.repartition(partitions, "user_id").sortWithinPartitions("user_id")


def fit_clusters(features: DataFrame, params: SegmentParams) -> Clustering:
    """Standardise, fit K-means for every k in range, keep the best silhouette."""
    from pyspark.ml.clustering import KMeans
    from pyspark.ml.evaluation import ClusteringEvaluator
    from pyspark.ml.feature import StandardScaler, VectorAssembler

    names = [c for c in features.columns if c != "user_id"]
    assembled = VectorAssembler(inputCols=names, outputCol="raw").transform(
        _canonical_order(features, params.partitions)
    )
    scaler = StandardScaler(inputCol="raw", outputCol="features", withMean=True, withStd=True).fit(assembled)
    scaled = scaler.transform(assembled).select("user_id", "features").cache()
    evaluator = ClusteringEvaluator(featuresCol="features", predictionCol="cluster")
    silhouettes, models = {}, {}
    for k in range(params.k_min, params.k_max + 1):
        model = KMeans(featuresCol="features", predictionCol="cluster", k=k, seed=params.seed,
                       maxIter=params.max_iter).fit(scaled)
        silhouettes[k] = float(evaluator.evaluate(model.transform(scaled)))
        models[k] = model
    best = max(silhouettes, key=lambda k: (round(silhouettes[k], 6), -k))
    assignments = models[best].transform(scaled).select("user_id", "cluster")
    raw_std = [float(s) for s in scaler.std.toArray()]
    std = [s if s > 0 else 1.0 for s in raw_std]
    constant = tuple(n for n, s in zip(names, raw_std, strict=True) if not s > 0)
    return Clustering(assignments, best, silhouettes[best], silhouettes, names,
                      [float(m) for m in scaler.mean.toArray()], std, constant)


def match_ids(
    centroids: dict[int, list[float]],
    sizes: dict[int, int],
    previous: dict[int, dict[str, float]],
    feature_names: list[str],
    std: list[float],
    max_distance: float,
) -> dict[int, int]:
    """Map cluster numbers to stable segment ids.

    Previous segments are matched by minimum total standardised distance over the features
    both snapshots share; unmatched (or too distant) clusters get new ids after the largest
    id used so far, biggest cluster first.
    """
    from scipy.optimize import linear_sum_assignment

    order = sorted(centroids, key=lambda c: (-sizes[c], centroids[c]))
    mapping: dict[int, int] = {}
    if previous:
        prev_ids = sorted(previous)
        shared = [i for i, n in enumerate(feature_names) if all(n in previous[p] for p in prev_ids)]
        scale = np.array([std[i] for i in shared])
        cur = np.array([[centroids[c][i] for i in shared] for c in order]) / scale
        old = np.array([[previous[p][feature_names[i]] for i in shared] for p in prev_ids]) / scale
        cost = np.sqrt(((cur[:, None, :] - old[None, :, :]) ** 2).sum(axis=2))
        for row, col in zip(*linear_sum_assignment(cost), strict=False):
            if cost[row, col] <= max_distance:
                mapping[order[row]] = prev_ids[col]
    next_id = max(previous, default=0) + 1
    for cluster in order:
        if cluster not in mapping:
            mapping[cluster] = next_id
            next_id += 1
    return mapping


def _click_stream_head(orders: float, z: dict[str, float], value_tier: str) -> str:
    """Value tier and dominant behaviour of a feed with page views (sessions are visits)."""
    traits = {
        "deal seekers": z["coupon_usage_rate"],
        "lapsing": z["log_days_since_last_event"],
        "frequent buyers": z["log_orders"],
        "decisive buyers": z["conversion_rate"],
        "browsers": z["log_sessions"],
    }
    if orders < 0.3:
        trait = "dormant visitors" if traits["lapsing"] > TRAIT_THRESHOLD else (
            "frequent browsers" if traits["browsers"] > TRAIT_THRESHOLD else "occasional browsers")
        return f"Non-buying {trait}"
    trait, strength = max(traits.items(), key=lambda kv: kv[1])
    trait = trait if strength > TRAIT_THRESHOLD else "shoppers"
    return f"{value_tier} {'buyers, lapsing' if trait == 'lapsing' else trait}"


def _transaction_head(orders: float, z: dict[str, float], value_tier: str) -> str:
    """Value tier, frequency and recency of a feed without page views (sessions are orders)."""
    lapsing, recent = z["log_days_since_last_event"] > TRAIT_THRESHOLD, z["log_days_since_last_event"] < -TRAIT_THRESHOLD
    recency = ", lapsing" if lapsing else ", recent" if recent else ""
    if orders < 0.3:
        return f"Non-buying customers{recency}"
    if z["coupon_usage_rate"] > max(TRAIT_THRESHOLD, z["log_orders"]):
        return f"{value_tier} deal seekers{recency}"
    frequency = "frequent" if z["log_orders"] > TRAIT_THRESHOLD else "one-time" if orders < 1.5 else "repeat"
    return f"{value_tier} {frequency} buyers{recency}"


def segment_name(centroid: dict[str, float], z: dict[str, float], value_tier: str, visits: bool = True) -> str:
    """Readable name from a centroid: value tier, dominant behaviour and favourite category; without
    visits (no page views in the feed) only value, frequency, recency and coupons."""
    orders = math.expm1(centroid["log_orders"])
    head = (_click_stream_head if visits else _transaction_head)(orders, z, value_tier)
    shares = {k[len(AFFINITY_PREFIX):]: v for k, v in centroid.items() if k.startswith(AFFINITY_PREFIX)}
    if shares:
        category, share = max(sorted(shares.items()), key=lambda kv: kv[1])
        if share >= CATEGORY_THRESHOLD and category != "unknown":
            head = f"{head} · {category}"
    return head


def name_segments(centroids: dict[int, dict[str, float]], mean: dict[str, float], std: dict[str, float],
                  absent: Collection[str] = ()) -> dict[int, str]:
    """Unique names for every segment id (value tier ranked by average spend); `absent`: event types the
    feed lacks (absent_behaviour), "view" among them meaning sessions are orders, not visits."""
    by_value = sorted(centroids, key=lambda s: centroids[s]["log_monetary"])
    tiers = {}
    for rank, sid in enumerate(by_value):
        tiers[sid] = "Low-value" if rank < len(by_value) / 3 else (
            "High-value" if rank >= 2 * len(by_value) / 3 else "Mid-value")
    names, used = {}, {}
    for sid in sorted(centroids):
        z = {f: (centroids[sid][f] - mean[f]) / std[f] for f in centroids[sid]}
        base = segment_name(centroids[sid], z, tiers[sid], visits="view" not in absent)
        used[base] = used.get(base, 0) + 1
        names[sid] = base if used[base] == 1 else f"{base} #{used[base]}"
    return names


def cluster_statistics(profiles: DataFrame, features: DataFrame, assignments: DataFrame, names: list[str]) -> list[dict]:
    """Per cluster: size, revenue, averages of key profile fields and centroid feature means."""
    fields = ("monetary", "frequency", "recency_days", "conversion_rate")
    joined = assignments.join(features, "user_id").join(
        profiles.select("user_id", *[F.col(f).alias(f"p_{f}") for f in fields]), "user_id"
    )
    rows = joined.groupBy("cluster").agg(
        F.count("*").alias("users"),
        F.sum("p_monetary").alias("revenue"),
        F.avg("p_recency_days").alias("avg_recency_days"),
        F.avg("p_frequency").alias("avg_frequency"),
        F.avg("p_monetary").alias("avg_monetary"),
        F.avg("p_conversion_rate").alias("avg_conversion_rate"),
        *[F.avg(n).alias(n) for n in names],
    ).collect()
    return [row.asDict() for row in rows]


def summarise(stats: list[dict], ids: dict[int, int], names: dict[int, str], clustering: Clustering) -> list[dict]:
    """segment_summary rows (without snapshot_date/run_id), ordered by segment id."""
    total_users = sum(s["users"] for s in stats) or 1
    total_revenue = sum(s["revenue"] or 0.0 for s in stats) or 1.0
    out = []
    for s in stats:
        sid = ids[s["cluster"]]
        centroid = {n: round(float(s[n]), 6) for n in clustering.feature_names}
        shares = {k[len(AFFINITY_PREFIX):]: v for k, v in centroid.items() if k.startswith(AFFINITY_PREFIX)}
        out.append({
            "segment_id": sid,
            "segment_name": names[sid],
            "users": int(s["users"]),
            "user_share": s["users"] / total_users,
            "revenue": float(s["revenue"] or 0.0),
            "revenue_share": float(s["revenue"] or 0.0) / total_revenue,
            "avg_recency_days": s["avg_recency_days"],
            "avg_frequency": s["avg_frequency"],
            "avg_monetary": s["avg_monetary"],
            "avg_conversion_rate": s["avg_conversion_rate"],
            "top_category": max(sorted(shares.items()), key=lambda kv: kv[1])[0] if shares else None,
            "centroid": json.dumps(centroid, sort_keys=True),
            "k": clustering.k,
            "silhouette": clustering.silhouette,
        })
    return sorted(out, key=lambda r: r["segment_id"])


def transitions(current: DataFrame, previous: DataFrame | None) -> DataFrame:
    """Users moving between segments: (from_segment_id, to_segment_id, users); null = none."""
    cur = current.select("user_id", F.col("segment_id").alias("to_segment_id"))
    if previous is None:
        moved = cur.withColumn("from_segment_id", F.lit(None).cast("int"))
    else:
        prev = previous.select("user_id", F.col("segment_id").alias("from_segment_id"))
        moved = prev.join(cur, "user_id", "full_outer")
    return moved.groupBy("from_segment_id", "to_segment_id").agg(F.count("*").alias("users"))


@dataclass(frozen=True)
class SegmentationResult:
    """Everything a segmentation run produces."""

    segments: DataFrame  # user_id, segment_id, segment_name
    summary: list[dict]
    transitions: DataFrame
    clustering: Clustering
    absent: tuple[str, ...] = ()  # event types the feed lacks (absent_behaviour): the names leave out those traits


def previous_centroids(summary_rows: list[dict]) -> dict[int, dict[str, float]]:
    """segment_id → centroid features from an earlier snapshot's summary rows."""
    return {int(r["segment_id"]): json.loads(r["centroid"]) for r in summary_rows}


def segment_users(
    profiles: DataFrame,
    params: SegmentParams,
    previous_summary: list[dict] | None = None,
    previous_segments: DataFrame | None = None,
) -> SegmentationResult:
    """Cluster profiled users, give clusters stable ids and names, summarise and diff."""
    categories = top_categories(profiles, params.max_categories)
    features = feature_frame(profiles, categories).cache()
    clustering = fit_clusters(features, params)
    stats = cluster_statistics(profiles, features, clustering.assignments, clustering.feature_names)
    centroids = {s["cluster"]: [float(s[n]) for n in clustering.feature_names] for s in stats}
    ids = match_ids(
        centroids, {s["cluster"]: s["users"] for s in stats},
        previous_centroids(previous_summary or []), clustering.feature_names,
        clustering.std, params.match_distance,
    )
    by_id = {ids[c]: dict(zip(clustering.feature_names, v, strict=False)) for c, v in centroids.items()}
    absent = tuple(absent_behaviour(profiles))
    names = name_segments(
        by_id, dict(zip(clustering.feature_names, clustering.mean, strict=False)),
        dict(zip(clustering.feature_names, clustering.std, strict=False)), absent,
    )
    lookup = profiles.sparkSession.createDataFrame(
        [(c, ids[c], names[ids[c]]) for c in sorted(ids)], "cluster int, segment_id int, segment_name string"
    )
    segments = clustering.assignments.join(F.broadcast(lookup), "cluster").select(
        "user_id", "segment_id", "segment_name"
    )
    return SegmentationResult(
        segments=segments,
        summary=summarise(stats, ids, names, clustering),
        transitions=transitions(segments, previous_segments),
        clustering=clustering,
        absent=absent,
    )
