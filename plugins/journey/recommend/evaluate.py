"""Offline metrics of recommendation lists: precision@K, recall@K, NDCG@K, coverage, list lengths.

Binary relevance against held-out positives (user_id, product_id); NDCG = DCG / ideal DCG with
DCG = Σ 1/log2(rank + 1). Coverage = distinct products recommended / products in training.
Averages are over the test users (a user without a list counts 0); `mean_list_length` and
`short_lists` (lists under K) are over the same users.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


@dataclass(frozen=True)
class Metrics:
    """Averages over the test users."""

    model: str
    k: int
    precision_at_k: float
    recall_at_k: float
    ndcg_at_k: float
    coverage: float
    users: int
    mean_list_length: float = 0.0
    short_lists: int = 0  # test users with fewer than K recommendations


def metrics(model: str, recs: DataFrame, test: DataFrame, catalog_size: int, k: int) -> Metrics:
    """Metrics of recommendations (user_id, product_id, rank) against test positives (user_id, product_id)."""
    relevant = test.groupBy("user_id").agg(F.count("*").alias("n_relevant"))
    hits = (recs.join(test, ["user_id", "product_id"])
            .groupBy("user_id").agg(F.count("*").alias("hits"),
                                    F.sum(F.lit(1.0) / F.log2(F.col("rank") + 1)).alias("dcg")))
    lengths = recs.groupBy("user_id").agg(F.count("*").alias("length"))
    ideal = F.aggregate(F.sequence(F.lit(1), F.least(F.col("n_relevant"), F.lit(k))), F.lit(0.0),
                        lambda acc, i: acc + F.lit(1.0) / F.log2(i + 1))
    per_user = (relevant.join(hits, "user_id", "left").join(lengths, "user_id", "left")
                .fillna({"hits": 0, "dcg": 0.0, "length": 0}).select(
        (F.col("hits") / k).alias("p"), (F.col("hits") / F.col("n_relevant")).alias("r"),
        (F.col("dcg") / ideal).alias("ndcg"), "length"))
    row = per_user.agg(F.avg("p"), F.avg("r"), F.avg("ndcg"), F.count("*"), F.avg("length"),
                       F.sum((F.col("length") < k).cast("int"))).first()
    covered = recs.select("product_id").distinct().count()
    return Metrics(model, k, float(row[0] or 0.0), float(row[1] or 0.0), float(row[2] or 0.0),
                   covered / catalog_size if catalog_size else 0.0, int(row[3]), float(row[4] or 0.0),
                   int(row[5] or 0))
