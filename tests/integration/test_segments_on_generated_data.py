"""Segments on generated data: they recover the latent personas and ignore input order."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from pyspark.sql import functions as F
from sklearn.metrics import adjusted_rand_score

from journey.datagen import generate
from journey.ingest.events import run_ingest
from journey.ingest.users import ingest_users
from journey.profiles.build import ProfileParams, build_profiles
from journey.profiles.segments import SegmentParams, segment_users

END = date(2026, 10, 31)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """5,000 users x 30 days, fixed seed."""
    out = tmp_path_factory.mktemp("gen5k")
    generate(out, users=5000, days=30, seed=5, end_date=END)
    return out


@pytest.fixture(scope="module")
def profiles(spark, generated, tmp_path_factory):
    """Profiles of the generated users, built through the real ingest."""
    from journey.config import get_settings

    settings = get_settings({"JOURNEY_HOME": str(tmp_path_factory.mktemp("seg-home"))})
    run_ingest(spark, settings, str(generated / "events"), "canonical", "seg-test")
    ingest_users(spark, settings, str(generated / "users.csv"), "seg-test")
    events = spark.read.parquet(f"{settings.lake}/curated/events")
    users = spark.read.parquet(f"{settings.lake}/curated/users")
    return build_profiles(events, users, ProfileParams(snapshot_date=END)).cache()


@pytest.fixture(scope="module")
def segmented(profiles):
    """Segments with the default parameters."""
    return segment_users(profiles, SegmentParams())


def test_segments_recover_the_latent_personas(segmented, generated):
    assigned = segmented.segments.toPandas()
    truth = pd.read_parquet(generated / "ground_truth" / "personas.parquet")
    joined = assigned.merge(truth, on="user_id")
    assert len(joined) == len(assigned)
    ari = adjusted_rand_score(joined["persona"], joined["segment_id"])
    print(f"k={segmented.clustering.k} silhouettes={segmented.clustering.silhouettes} ARI={ari:.3f}")
    assert ari >= 0.5


def test_shuffled_input_gives_the_same_segment_ids(profiles, segmented):
    shuffled = profiles.orderBy(F.rand(seed=99)).repartition(7)
    again = segment_users(shuffled, SegmentParams())
    first = segmented.segments.toPandas().set_index("user_id").sort_index()
    second = again.segments.toPandas().set_index("user_id").sort_index()
    pd.testing.assert_frame_equal(first, second)


def test_next_snapshot_adopts_the_previous_ids(profiles, segmented):
    # The previous snapshot numbered the same segments differently (id -> 100 - id); the new
    # run must match its centroids to those and reuse their ids, and everyone stays put.
    renumbered = [{**row, "segment_id": 100 - row["segment_id"]} for row in segmented.summary]
    previous = segmented.segments.withColumn("segment_id", 100 - F.col("segment_id"))
    again = segment_users(profiles, SegmentParams(), previous_summary=renumbered, previous_segments=previous)
    before = segmented.segments.toPandas().set_index("user_id")["segment_id"].sort_index()
    after = again.segments.toPandas().set_index("user_id")["segment_id"].sort_index()
    assert (after == 100 - before).all()
    moved = again.transitions.toPandas()
    assert len(moved) == segmented.clustering.k
    assert (moved["from_segment_id"] == moved["to_segment_id"]).all()
    assert moved["users"].sum() == len(before)
