"""Offline evaluation on a time split: precision@K, recall@K, NDCG@K and catalog coverage.

Train on events before the split date, recommend K products per test user (users with at
least one add_to_cart/purchase on or after it of a product they had not bought before), and
score against those products. Binary relevance; NDCG = DCG / ideal DCG with
DCG = Σ 1/log2(rank + 1). Coverage = distinct products recommended / products in training.
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


def metrics(model: str, recs: DataFrame, test: DataFrame, catalog_size: int, k: int) -> Metrics:
    """Metrics of recommendations (user_id, product_id, rank) against test positives (user_id, product_id)."""
    relevant = test.groupBy("user_id").agg(F.count("*").alias("n_relevant"))
    hits = (recs.join(test, ["user_id", "product_id"])
            .groupBy("user_id").agg(F.count("*").alias("hits"),
                                    F.sum(F.lit(1.0) / F.log2(F.col("rank") + 1)).alias("dcg")))
    ideal = F.aggregate(F.sequence(F.lit(1), F.least(F.col("n_relevant"), F.lit(k))), F.lit(0.0),
                        lambda acc, i: acc + F.lit(1.0) / F.log2(i + 1))
    per_user = relevant.join(hits, "user_id", "left").fillna({"hits": 0, "dcg": 0.0}).select(
        (F.col("hits") / k).alias("p"), (F.col("hits") / F.col("n_relevant")).alias("r"),
        (F.col("dcg") / ideal).alias("ndcg"))
    row = per_user.agg(F.avg("p"), F.avg("r"), F.avg("ndcg"), F.count("*")).first()
    covered = recs.select("product_id").distinct().count()
    return Metrics(model, k, float(row[0] or 0.0), float(row[1] or 0.0), float(row[2] or 0.0),
                   covered / catalog_size if catalog_size else 0.0, int(row[3]))
