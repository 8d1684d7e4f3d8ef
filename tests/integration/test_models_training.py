"""Every model trained for real on small generated data (CPU), evaluated, registered, promoted and scored.

One generated world (800 users × 14 days, seed 5) goes through the real ingest, the
training-set transforms and the training of all four models once (module scope); the tests
then check metrics against the baselines on held-out (test cut-off) rows, the promotion rule
with a shuffled-label challenger, rollback, and batch scoring into journey.user_scores.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from journey import lake, warehouse
from journey.config import get_settings
from journey.datagen import generate
from journey.ingest.events import run_ingest
from journey.models import pipeline, registry
from journey.models.hparams import DataParams, ModelConfig, PromotionParams, TrainParams
from journey.models.training_data import training_sets
from journey.schemas import SCENES

pytestmark = [pytest.mark.spark, pytest.mark.postgres]

SNAPSHOT = date(2026, 10, 31)
DAYS = 14
CONFIG = replace(ModelConfig(), data=DataParams(behaviour_events=20, scene_events=16, horizon_days=3, lookback_days=14),
                 train=TrainParams(epochs=10, batch_size=128, patience=2), promotion=PromotionParams(margin=0.0))
MARGIN = 0.01  # for the shuffled-label challenger
VERSIONS = dict.fromkeys(registry.MODEL_NAMES, 1)
FEED_MODELS = tuple(n for n in registry.MODEL_NAMES if n != "uplift")  # uplift needs measured campaigns


@pytest.fixture(scope="module")
def world(spark, tmp_path_factory):
    """Generated data ingested, both training sets written, all four models trained and evaluated."""
    home = tmp_path_factory.mktemp("models") / "home"
    settings = get_settings({"JOURNEY_HOME": str(home), "JOURNEY_SHUFFLE_PARTITIONS": "4"})
    generate(home / "gen", users=800, days=DAYS, seed=5, end_date=SNAPSHOT)
    run_ingest(spark, settings, str(home / "gen" / "events"), "canonical", "ingest-1")
    events = spark.read.parquet(lake.path(settings, lake.CURATED_EVENTS)).cache()
    truth = spark.read.parquet(str(home / "gen" / "ground_truth" / "scenes.parquet"))
    sets = training_sets(events, truth, CONFIG.data)
    paths = pipeline.training_paths(settings, SNAPSHOT)
    lake.write_parquet_atomic(sets.users, paths["users"])
    lake.write_parquet_atomic(sets.scenes, paths["scenes"])
    trained = pipeline.train_all(settings, SNAPSHOT, VERSIONS, CONFIG)
    reports = pipeline.evaluate_all(settings, SNAPSHOT, trained, {}, CONFIG)
    warehouse.start_server(settings)
    yield {"settings": settings, "trained": trained, "reports": reports, "events": events, "home": home}
    warehouse.stop_server(settings)


def test_every_artifact_is_saved_with_its_meta(world):
    for name, result in pipeline.trained_only(world["trained"]).items():
        assert result["artifact"] == str(Path(world["settings"].lake) / "models" / name / "v1")
        assert (Path(result["artifact"]) / "meta.json").exists()
    assert (Path(world["trained"]["behaviour"]["artifact"]) / "baseline" / "model.json").exists()
    assert world["trained"]["behaviour"]["plan"] == {"strategy": "default", "mixed_precision": False,
                                                     "batch_size": 128, "xgb_device": "cpu", "gpus": 0}


def test_behaviour_beats_both_baselines_on_the_test_cutoff(world):
    report = world["reports"]["behaviour"]
    assert report["window"] == "2026-10-29"
    assert report["challenger"]["rows"] == report["baselines"]["xgboost_aggregates"]["rows"] > 100
    assert report["challenger"]["roc_auc"] > report["baselines"]["xgboost_aggregates"]["roc_auc"]
    assert report["challenger"]["roc_auc"] > report["baselines"]["recent_cart_rule"]["roc_auc"]
    assert 0.0 <= report["challenger"]["calibration_error"] <= 1.0 and report["challenger"]["log_loss"] > 0


def test_scene_beats_majority_and_rules_on_test_sessions(world):
    report = world["reports"]["scene"]
    assert report["challenger"]["macro_f1"] > report["baselines"]["rule_set"]["macro_f1"]
    assert report["challenger"]["macro_f1"] > report["baselines"]["majority_class"]["macro_f1"]
    confusion = np.array(report["challenger"]["confusion"]["matrix"])
    assert confusion.shape == (len(SCENES), len(SCENES)) and confusion.sum() == report["challenger"]["rows"]


@pytest.mark.parametrize("name", ["propensity", "responsiveness"])
def test_xgboost_models_beat_the_recency_frequency_rule(world, name):
    report = world["reports"][name]
    assert report["challenger"]["roc_auc"] > report["baselines"]["recency_frequency_rule"]["roc_auc"]


def test_models_cli_lists_and_rejects_bad_requests(registered, world, monkeypatch, capsys):
    from journey.cli import main

    monkeypatch.setenv("JOURNEY_HOME", str(world["settings"].home))
    monkeypatch.setenv("JOURNEY_LAKE", world["settings"].lake)

    assert main(["models", "list", "--name", "scene"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split()[:4] == ["scene", "v1", "champion", "macro_f1"] and listed[-1] == "1 registered version(s)"
    assert main(["models", "promote", "--name", "scene"]) == 2
    assert capsys.readouterr().err.strip() == "error: models promote needs --version (see `journey models list`)"
    assert main(["models", "promote", "--name", "scene", "--version", "7"]) == 2
    assert "scene v7 is not in journey.model_registry" in capsys.readouterr().err


def shuffled_copy(source: str, target: Path, column: str, seed: int) -> None:
    """The training set with `column` shuffled on the train and validation rows (test rows untouched)."""
    table = ds.dataset(source, format="parquet").to_table()
    frame = table.to_pandas()
    fit = frame["split"] != "test"
    frame.loc[fit, column] = np.random.default_rng(seed).permutation(frame.loc[fit, column].to_numpy())
    target.mkdir(parents=True)
    pq.write_table(table.set_column(table.schema.get_field_index(column), column,
                                    [frame[column].to_numpy()]), target / "part-0.parquet")


@pytest.fixture(scope="module")
def registered(world):
    """v1 of every model registered and put through the promotion rule."""
    with warehouse.connect(world["settings"]) as conn:
        pipeline.register_all(conn, world["trained"], world["reports"], "train-1", SNAPSHOT)
        decisions = pipeline.promote_all(conn, world["trained"], CONFIG)
    return decisions


def test_first_models_are_promoted_over_their_baselines(registered, world):
    assert {name: d.promote for name, d in registered.items()} == dict.fromkeys(FEED_MODELS, True)
    assert world["trained"]["uplift"]["skipped"].startswith("not applicable: no campaign run has closed outcomes")
    with warehouse.connect(world["settings"]) as conn:
        listed = registry.list_models(conn)
        conn.rollback()
    assert [(r["name"], r["version"], r["status"]) for r in listed] == [
        (name, 1, "champion") for name in sorted(FEED_MODELS)]


def test_shuffled_label_challenger_is_not_promoted_and_rollback_restores(registered, world):
    settings = world["settings"]
    shuffled_root = world["home"] / "shuffled"
    paths = pipeline.training_paths(settings, SNAPSHOT)
    shuffled_copy(paths["users"], shuffled_root / "users", "label_purchase", seed=3)
    out = pipeline.artifact_dir(settings, "behaviour", 2)
    fake_paths = {"users": str(shuffled_root / "users"), "scenes": paths["scenes"]}
    pipeline.train_behaviour(fake_paths, out, CONFIG)
    with warehouse.connect(settings) as conn:
        champion = registry.champion(conn, "behaviour")
        report = pipeline.evaluate_behaviour(paths, str(out), champion["artifact_path"], CONFIG)
        registry.register(conn, "behaviour", 2, "train-2", SNAPSHOT, str(out), report)

        decision = registry.promote(conn, "behaviour", 2, MARGIN)

        assert not decision.promote, decision.reason
        assert decision.reason.startswith("kept as challenger")
        no_champion = registry.promotion_decision(report["challenger"]["roc_auc"], None,
                                                  max(m["roc_auc"] for m in report["baselines"].values()),
                                                  MARGIN, "roc_auc")
        assert not no_champion.promote, no_champion.reason
        assert registry.champion(conn, "behaviour")["version"] == 1

        forced = registry.promote(conn, "behaviour", 2, MARGIN, force=True)
        assert forced.promote and registry.champion(conn, "behaviour")["version"] == 2
        assert registry.rollback(conn, "behaviour") == (2, 1)
        assert registry.champion(conn, "behaviour")["version"] == 1
        with pytest.raises(registry.RegistryError, match="nothing to roll back to"):
            registry.rollback(conn, "behaviour")


def users_in_lookback(home: Path) -> set[str]:
    """Users with an event in the look-back window ending on the snapshot, from the generated files."""
    frames = [pd.read_parquet(p, columns=["user_id", "event_time"]) for p in sorted((home / "gen" / "events").glob("*"))]
    events = pd.concat(frames)
    days = pd.to_datetime(events["event_time"]).dt.date
    start = date.fromordinal(SNAPSHOT.toordinal() - CONFIG.data.lookback_days + 1)
    return set(events.loc[(days >= start) & (days <= SNAPSHOT), "user_id"])


def test_batch_scoring_publishes_every_user_once(registered, world, spark):
    from journey.models.scoring import publish_scores, score_users, scoring_rows

    settings = world["settings"]
    with warehouse.connect(settings) as conn:
        champions = pipeline.champions(conn)
        conn.rollback()
    target = lake.snapshot_path(settings, lake.USER_SCORES, SNAPSHOT)
    rows = scoring_rows(world["events"], SNAPSHOT, CONFIG.data)
    for run_id in ("score-1", "score-2"):  # the second run replaces the first
        lake.write_parquet_atomic(score_users(rows, champions, SNAPSHOT, run_id, CONFIG.data.horizon_days), target)
        with warehouse.connect(settings) as conn:
            publish_scores(conn, target)

    with warehouse.connect(settings) as conn:
        found = warehouse.fetch_all(conn, "SELECT user_id, snapshot_date, run_id, intent_probability, predicted_scene, "
                                          "scene_confidence, propensity, responsiveness, explanation, model_versions "
                                          "FROM journey.user_scores")
        conn.rollback()
    assert {r[0] for r in found} == users_in_lookback(world["home"]) and len(found) == len({r[0] for r in found})
    assert {(r[1], r[2]) for r in found} == {(SNAPSHOT, "score-2")}
    assert all(0.0 <= r[3] <= 1.0 and 0.0 <= r[6] <= 1.0 and 0.0 <= r[7] <= 1.0 for r in found)
    assert {r[4] for r in found} <= set(SCENES) and all(0.0 < r[5] <= 1.0 for r in found)
    assert {json.dumps(r[9], sort_keys=True) for r in found} == {json.dumps(dict.fromkeys(
        sorted(FEED_MODELS), 1), sort_keys=True)}
    first = found[0][8]
    assert sorted(first) == ["propensity", "responsiveness"] and len(first["propensity"]) == 3
    assert set(first["propensity"][0]) == {"feature", "contribution"}
    shutil.rmtree(target)
