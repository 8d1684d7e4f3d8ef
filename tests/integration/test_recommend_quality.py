"""Recommendations: exclusions, diversity cap, metrics by hand, and the hybrid beating popularity."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest
from pyspark.sql import functions as F

from journey.datagen import generate
from journey.recommend.evaluate import metrics
from journey.recommend.hybrid import finalize
from journey.recommend.models import RecommendParams, _pair_sample, als_blocks, dense_index
from journey.recommend.pipeline import audience_partitions, evaluate, sized_for_audience
from journey.recommend.titles import title_neighbours, title_vectors

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


TITLES = ["Trail running shoe", "Road running shoe", "Running shoe for kids", "Ceramic coffee mug",
          "Travel coffee mug", "Espresso coffee cup", "Wool winter scarf"]


def test_title_vectors_put_similar_titles_together():
    vectors = title_vectors(TITLES, dimensions=4)
    cosine = vectors @ vectors.T
    assert cosine.shape == (7, 7)
    assert cosine[0, 1] > 0.8  # two running shoes
    assert cosine[3, 4] > 0.8  # two coffee mugs
    assert cosine[0, 3] < 0.2 and cosine[1, 4] < 0.2  # shoe vs mug


def test_title_neighbours_rank_the_same_kind_of_product_first(spark):
    titles = pd.DataFrame({"product_id": [f"p{i}" for i in range(len(TITLES))], "title": TITLES})
    rows = title_neighbours(spark, titles, neighbours=2).collect()
    best = {}
    for row in sorted(rows, key=lambda r: -r.sim):
        best.setdefault(row.item, row.product_id)
    assert best["p0"] in {"p1", "p2"} and best["p3"] in {"p4", "p5"}
    assert all(r.item != r.product_id and 0 < r.sim <= 1.0 + 1e-9 for r in rows)
    assert title_neighbours(spark, titles.head(2), neighbours=2) is None  # too few titles to compare


@pytest.fixture(scope="module")
def generated(spark, tmp_path_factory):
    """500 users × 21 days of generated events, and the generator's product titles."""
    out = tmp_path_factory.mktemp("rec") / "gen"
    generate(out, users=500, days=21, seed=3)
    events = spark.read.parquet(str(out / "events")).withColumn("event_date", F.to_date("event_time"))
    return events, pd.read_csv(out / "products.csv", dtype=str)[["product_id", "title"]]


def test_hybrid_beats_popularity_on_generated_data(spark, generated):
    events, titles = generated
    result = evaluate(events, date(2026, 10, 31), RecommendParams(k=10),
                      title_neighbours=title_neighbours(spark, titles, RecommendParams().neighbours))
    print(f"hybrid (with titles) {result.hybrid}\npopularity {result.popularity}")
    assert result.hybrid.users == result.popularity.users > 100
    assert result.hybrid.ndcg_at_k > 1.5 * result.popularity.ndcg_at_k
    assert result.hybrid.coverage > result.popularity.coverage


def test_similarity_sample_bounds_users_and_products_per_user(spark):
    rows = [(f"u{u:04d}", f"p{(u + i) % 60:02d}", float(i)) for u in range(1000) for i in range(20)]
    train = spark.createDataFrame(rows, "user_id string, product_id string, strength double")

    sample = _pair_sample(train, RecommendParams(pair_users=200, pair_basket=5)).toPandas()
    everyone = _pair_sample(train, RecommendParams(pair_users=5000, pair_basket=5)).toPandas()

    assert 150 <= sample["user_id"].nunique() <= 250
    assert sample.groupby("user_id").size().max() == 5
    top = sample[sample["user_id"] == sample["user_id"].iloc[0]]  # strongest products: strengths 19..15
    u = int(top["user_id"].iloc[0][1:])
    assert set(top["product_id"]) == {f"p{(u + i) % 60:02d}" for i in range(15, 20)}
    assert everyone["user_id"].nunique() == 1000
    again = _pair_sample(train, RecommendParams(pair_users=200, pair_basket=5)).toPandas()
    assert sorted(map(tuple, again.to_numpy())) == sorted(map(tuple, sample.to_numpy()))


def _partitions_used(frame) -> int:
    """Number of non-empty partitions of the frame once computed."""
    return frame.select(F.spark_partition_id().alias("p")).distinct().count()


def test_recommendation_shuffles_keep_partitions_scaled_to_the_audience(spark):
    assert audience_partitions(8, 20_000) == 8 and audience_partitions(8, 1_000_000) == 100
    per_user = spark.range(5000).withColumn("user_id", F.col("id") % 1000).groupBy("user_id").count()
    before = spark.conf.get("spark.sql.shuffle.partitions")

    assert _partitions_used(per_user) <= 2  # adaptive execution coalesces a small shuffle
    with sized_for_audience(spark, 40_000):  # up to 4 (configured) × 10,000 users: left to adaptive execution
        assert _partitions_used(per_user) <= 2
    with sized_for_audience(spark, 240_000):
        assert _partitions_used(per_user) == 24  # one per 10,000 users, whatever the shuffled bytes
        assert als_blocks(spark) == 8  # local[2]: at most 4 blocks per core
    assert spark.conf.get("spark.sql.shuffle.partitions") == before
    assert als_blocks(spark) == int(before)
    assert spark.conf.get("spark.sql.adaptive.coalescePartitions.enabled") == "true"


def test_dense_index_numbers_distinct_values_in_order(spark):
    frame = spark.createDataFrame([("u10",), ("u2",), ("u10",), ("a",), ("u2",)], "user_id string").repartition(3)
    rows = dense_index(frame, "user_id", "u").orderBy("u").collect()
    assert [(r.user_id, r.u) for r in rows] == [("a", 0), ("u10", 1), ("u2", 2)]  # text order, from 0
