"""Recommendations: exclusions, diversity cap, metrics by hand, and the hybrid beating popularity."""

from __future__ import annotations

import math
from datetime import date

import pytest
from pyspark.sql import functions as F

from journey.datagen import generate
from journey.recommend.evaluate import metrics
from journey.recommend.hybrid import finalize
from journey.recommend.models import RecommendParams
from journey.recommend.pipeline import evaluate

pytestmark = pytest.mark.spark


def test_finalize_excludes_purchases_caps_categories_and_ranks(spark):
    candidates = spark.createDataFrame(
        [("u1", "p1", 0.9, "hybrid"), ("u1", "p2", 0.8, "hybrid"), ("u1", "p3", 0.7, "hybrid"),
         ("u1", "p4", 0.0, "popular"), ("u1", "p2", 0.0, "popular"), ("u2", "p1", 0.0, "popular")],
        "user_id string, product_id string, score double, source string")
    catalog = spark.createDataFrame([("p1", "home"), ("p2", "home"), ("p3", "toys"), ("p4", "food")],
                                    "product_id string, top_category string")
    bought = spark.createDataFrame([("u1", "p1")], "user_id string, product_id string")
    rows = finalize(candidates, bought, catalog, k=2, per_category=1).orderBy("user_id", "rank").collect()
    assert [(r.user_id, r.rank, r.product_id, r.source) for r in rows] == [
        ("u1", 1, "p2", "hybrid"),  # p1 bought; p2 keeps its hybrid score over the popular duplicate
        ("u1", 2, "p3", "hybrid"),  # k = 2 cuts p4
        ("u2", 1, "p1", "popular"),  # cold start: popularity
    ]


def test_metrics_match_a_hand_computation(spark):
    recs = spark.createDataFrame([("u1", "a", 1), ("u1", "b", 2), ("u2", "c", 1), ("u2", "d", 2)],
                                 "user_id string, product_id string, rank int")
    test = spark.createDataFrame([("u1", "b"), ("u1", "z"), ("u2", "x")], "user_id string, product_id string")
    result = metrics("m", recs, test, catalog_size=8, k=2)
    # u1: 1 hit at rank 2 of 2 relevant: P 0.5, R 0.5, NDCG (1/log2 3) / (1 + 1/log2 3); u2: no hit.
    assert result.precision_at_k == pytest.approx(0.25)
    assert result.recall_at_k == pytest.approx(0.25)
    assert result.ndcg_at_k == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)) / 2)
    assert result.coverage == pytest.approx(4 / 8)
    assert result.users == 2


def test_hybrid_beats_popularity_on_generated_data(spark, tmp_path):
    generate(tmp_path / "gen", users=500, days=21, seed=3)
    events = spark.read.parquet(str(tmp_path / "gen" / "events")).withColumn("event_date", F.to_date("event_time"))
    result = evaluate(events, date(2026, 10, 31), RecommendParams(k=10))
    print(f"hybrid {result.hybrid}\npopularity {result.popularity}")
    assert result.hybrid.users == result.popularity.users > 100
    assert result.hybrid.ndcg_at_k > 1.5 * result.popularity.ndcg_at_k
    assert result.hybrid.coverage > result.popularity.coverage
