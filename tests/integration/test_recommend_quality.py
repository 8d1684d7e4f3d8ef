"""Recommendations: exclusions, diversity cap and fill, metrics by hand, the per-user temporal split,
the tuned blend against its single sources (the two-tower retriever among them when on), and full
lists on a feed without categories."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date

import pandas as pd
import pytest
from pyspark.sql import functions as F

from journey.datagen import generate
from journey.recommend.evaluate import metrics
from journey.recommend.hybrid import active_weights, finalize, unused_sources
from journey.recommend.interactions import products, temporal_split, weighted_events
from journey.recommend.models import RecommendParams, _pair_sample, als_blocks, dense_index
from journey.recommend.pipeline import audience_partitions, evaluate, recommend_for, sized_for_audience
from journey.recommend.titles import title_neighbours, title_vectors
from journey.recommend.tuning import Scorer, search_weights
from journey.recommend.two_tower_source import training_frame

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


def test_capped_lists_are_filled_with_the_next_best_and_uncategorised_products_are_not_capped(spark):
    candidates = spark.createDataFrame(
        [("u1", f"h{i}", 1.0 - i / 10, "hybrid") for i in range(4)]  # 4 home products, best first
        + [("u1", "t0", 0.5, "hybrid"), ("u2", "x0", 0.9, "hybrid"), ("u2", "x1", 0.8, "hybrid"),
           ("u2", "x2", 0.7, "hybrid")],
        "user_id string, product_id string, score double, source string")
    catalog = spark.createDataFrame([(f"h{i}", "home") for i in range(4)] + [("t0", "toys")]
                                    + [(f"x{i}", None) for i in range(3)], "product_id string, top_category string")
    nothing = spark.createDataFrame([], "user_id string, product_id string")
    rows = finalize(candidates, nothing, catalog, k=4, per_category=2).orderBy("user_id", "rank").collect()
    assert [(r.user_id, r.product_id) for r in rows] == [
        ("u1", "h0"), ("u1", "h1"), ("u1", "t0"), ("u1", "h2"),  # capped at 2 homes, then filled with the next
        ("u2", "x0"), ("u2", "x1"), ("u2", "x2"),  # no category: never capped (3 of 4: only 3 candidates)
    ]


def test_temporal_split_holds_out_each_users_latest_fifth_of_new_products(spark):
    rows = ([("a", f"p{i}", "view", f"2026-10-{i + 1:02d} 10:00:00") for i in range(10)]
            + [("a", "p0", "view", "2026-10-20 10:00:00"),  # re-seen in the test part: not a positive
               ("b", "q1", "view", "2026-10-01 10:00:00"), ("b", "q2", "purchase", "2026-10-02 10:00:00"),
               ("c", "r1", "view", "2026-10-05 10:00:00")])  # one event: training only
    events = spark.createDataFrame(rows, "user_id string, product_id string, event_type string, event_time string")
    events = (events.withColumn("event_time", F.to_timestamp("event_time")).withColumn("event_date",
                                                                                       F.to_date("event_time"))
              .withColumn("category", F.lit(None).cast("string")).withColumn("brand", F.lit(None).cast("string")))
    train, test = temporal_split(weighted_events(events), 0.2)
    # a: 11 events → the latest ceil(2.2) = 3 held out (p8, p9, p0 again); b: 2 events → 1; c: none
    assert sorted((r.user_id, r.product_id) for r in test.collect()) == [("a", "p8"), ("a", "p9"), ("b", "q2")]
    assert train.groupBy("user_id").count().orderBy("user_id").collect() == [("a", 8), ("b", 1), ("c", 1)]


def test_weight_search_never_scores_below_the_best_single_source_and_blends_when_it_helps():
    # each source is sure and right for one user, unsure and wrong for the other: only a blend gets both
    table = pd.DataFrame({"user_id": ["u1", "u1", "u2", "u2"], "product_id": ["a", "b", "c", "d"],
                          "s1": [1.0, 0.0, 0.9, 1.0], "s2": [0.9, 1.0, 1.0, 0.0]})
    positives = pd.DataFrame({"user_id": ["u1", "u2"], "product_id": ["a", "c"]})
    scorer = Scorer(table, positives, users=2, k=1)
    assert scorer.ndcg(table["s1"].to_numpy()) == pytest.approx(0.5)  # u1 right, u2 wrong
    assert scorer.ndcg(table["s2"].to_numpy()) == pytest.approx(0.5)  # u2 right, u1 wrong
    weights, best, fallback = search_weights(scorer, table[["s1", "s2"]].to_numpy(), ["s1", "s2"])
    assert best == pytest.approx(1.0) and not fallback  # e.g. s1 + s2: a 1.9 > b 1, c 1.9 > d 1
    assert weights["s1"] > 0 and weights["s2"] > 0 and sum(weights.values()) == pytest.approx(1.0)
    alone, score, fell_back = search_weights(scorer, table[["s1"]].to_numpy(), ["s1"])
    assert alone == {"s1": 1.0} and score == pytest.approx(0.5) and fell_back


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


@pytest.fixture(scope="module")
def evaluated(spark, generated):
    """The evaluation of the tuned hybrid (with titles, and the two-tower source on: TensorFlow trains
    for real, once on the tuning's fit events, once on the evaluation's training events) on the generated data."""
    events, titles = generated
    neighbours = title_neighbours(spark, titles, RecommendParams().neighbours)
    params = RecommendParams(k=10, tune_users=300, als_grid=((16, 0.05, 20.0),), half_life_grid=(0.0,),  # quick
                             two_tower=True, two_tower_epochs=4)
    return evaluate(events, date(2026, 10, 31), params, title_neighbours=neighbours)


def test_evaluation_reports_hybrid_als_and_popularity_on_the_same_users(evaluated):
    hybrid, als, popular, _ = evaluated.models
    print(f"{hybrid}\n{als}\n{popular}\n{evaluated.tuning.settings()}")
    assert [m.model for m in evaluated.models] == ["hybrid", "als", "popularity", "two_tower"]
    assert hybrid.users == als.users == popular.users > 200
    assert hybrid.ndcg_at_k > 1.5 * popular.ndcg_at_k
    assert hybrid.ndcg_at_k >= 0.9 * als.ndcg_at_k  # tuned on validation, scored on test: close to or above ALS
    assert hybrid.mean_list_length == 10.0 and hybrid.short_lists == 0
    assert hybrid.coverage > popular.coverage


def test_tuned_blend_is_never_worse_on_validation_than_the_best_single_source(evaluated):
    tuning = evaluated.tuning
    singles = {name: v for name, v in tuning.validation.items() if name != "blend"}
    assert set(singles) == {"als_score", "cooc_score", "seq_score", "content_score", "title_score", "pop_score",
                            "two_tower_score"}
    assert tuning.validation["blend"] >= max(singles.values()) > 0
    used = dict(tuning.params.weights)
    assert sum(used.values()) == pytest.approx(1.0) and tuning.unused == {}
    assert tuning.settings()["validation_users"] == tuning.users > 100


def test_two_tower_source_is_tuned_and_the_blend_never_scores_below_any_single_source(evaluated):
    tuning = evaluated.tuning
    singles = {name: v for name, v in tuning.validation.items() if name != "blend"}
    print(f"{tuning.settings()}")
    assert tuning.unused == {}
    assert singles["two_tower_score"] > singles["pop_score"]  # a trained retriever, not noise
    assert tuning.validation["blend"] >= max(singles.values())
    if tuning.fallback:  # the best single source alone, whichever it is (the two-tower included)
        assert dict(tuning.params.weights)[max(singles, key=singles.get)] == 1.0
    assert json.loads(json.dumps(tuning.settings()))["validation_ndcg"]["two_tower_score"] > 0


def test_evaluation_reports_the_two_tower_alone_on_the_same_users(evaluated):
    rows = {m.model: m for m in evaluated.models}
    for m in rows.values():
        print(m)
    assert list(rows) == ["hybrid", "als", "popularity", "two_tower"]
    assert rows["two_tower"] is evaluated.two_tower
    assert rows["two_tower"].users == rows["hybrid"].users > 200
    assert rows["two_tower"].ndcg_at_k > rows["popularity"].ndcg_at_k
    assert rows["two_tower"].mean_list_length == 10.0  # 50 candidates per user, the history excluded
    assert rows["hybrid"].ndcg_at_k >= 0.9 * rows["als"].ndcg_at_k


def _tiny_feed(spark):
    """6 users × 4 viewed products over 4 days (18 two-tower training examples)."""
    rows = [(f"u{u}", f"p{(u + i) % 7}", "view", f"2026-10-0{i + 1} 10:00:00") for u in range(6) for i in range(4)]
    events = spark.createDataFrame(rows, "user_id string, product_id string, event_type string, event_time string")
    return (events.withColumn("event_time", F.to_timestamp("event_time")).withColumn("event_date", F.to_date("event_time"))
            .withColumn("category", F.lit(None).cast("string")).withColumn("brand", F.lit(None).cast("string")))


def test_two_tower_is_absent_when_off_and_unused_with_the_reason_on_too_little_data(spark, evaluated):
    tuned = evaluated.tuning.params
    assert dict(tuned.weights)["two_tower_score"] > 0  # the run's blend uses it ...
    assert "two_tower_score" not in active_weights(replace(tuned, two_tower=False), {})  # ... not with the Param off
    events = weighted_events(_tiny_feed(spark))
    catalog = products(events)
    on = RecommendParams(two_tower=True, weights=(("als_score", 0.5), ("two_tower_score", 0.5)))
    reasons = unused_sources(catalog, None, on, events)
    # 24 (user, product) pairs of 6 users: 18 examples follow an earlier product of the same user
    assert reasons["two_tower_score"] == ("too little data to train the two-tower model: 18 training examples "
                                          "(a product after another of the same user), at least 200 needed")
    assert active_weights(on, reasons) == {"als_score": 0.5}
    off = RecommendParams(weights=on.weights)
    assert "two_tower_score" not in unused_sources(catalog, None, off, events)  # off: not a source at all
    assert active_weights(off, {}) == {"als_score": 0.5}


def test_two_tower_training_rows_are_capped_by_a_hash_sample_of_whole_users(spark):
    events = weighted_events(_tiny_feed(spark))
    everything = training_frame(events, max_pairs=1000)
    sample = training_frame(events, max_pairs=12)
    assert len(everything) == 24 and everything.groupby("user_id").size().eq(4).all()
    assert 0 < len(sample) < 24 and sample.groupby("user_id").size().eq(4).all()  # whole users, fewer of them
    assert sample.equals(training_frame(events, max_pairs=12))  # the same sample each time
    assert (everything.set_index(["user_id", "product_id"])["weight"] == 1.0).all()  # one view per pair


def test_lists_are_k_long_on_a_transaction_feed_without_categories(spark, generated):
    events, _ = generated
    purchases = (events.where(F.col("event_type") == "purchase")
                 .withColumn("category", F.lit("unknown")).withColumn("brand", F.lit(None).cast("string")))
    catalog = products(weighted_events(purchases))
    assert unused_sources(catalog, None) == {
        "content_score": "no product categories in the feed (category/brand affinity is empty)",
        "title_score": "no product titles"}
    params = RecommendParams(k=10, per_category=4, tune=False)  # a cap must not cut uncategorised lists
    users = purchases.select("user_id").distinct().orderBy("user_id").limit(60)
    recs = recommend_for(purchases, date(2026, 10, 31), users, params).toPandas()
    assert recs["user_id"].nunique() == 60 and recs.groupby("user_id").size().eq(10).all()
    assert set(recs["source"]) <= {"hybrid", "popular"} and (recs["source"] == "hybrid").any()
    assert recs["category"].isna().all()  # `unknown` is no category
    bought = purchases.select("user_id", "product_id").toPandas()
    assert recs.merge(bought, on=["user_id", "product_id"]).empty  # nothing bought comes back


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
