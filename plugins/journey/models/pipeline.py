"""The weekly model run: train every model on a training snapshot, evaluate against baselines, promote.

    trained = train_all(settings, snapshot, config)             # artifacts under models/<name>/v<N>/
    reports = evaluate_all(settings, snapshot, trained, config) # test window, champion + baselines, same rows
    register_all(conn, trained, reports, run_id, snapshot); promote_all(conn, trained, config)

Models: `behaviour` (Keras, sequence + event aggregates + profile features → purchase within the horizon),
`scene` (Keras, session → scene), `propensity` and `responsiveness` (XGBoost on profile
features → purchase / coupon redemption within the horizon). The behaviour baseline XGBoost
on the event aggregates is trained alongside and kept in the behaviour artifact (baseline/).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from pathlib import Path

import numpy as np

from journey import lake
from journey.config import Settings
from journey.models import evaluate as ev
from journey.models import propensity as xgbm
from journey.models import registry
from journey.models.datasets import InputSpec, label_counts, predict_split
from journey.models.hparams import ModelConfig
from journey.models.registry import MODEL_NAMES, PRIMARY_METRICS
from journey.models.train import fit_keras, load_keras
from journey.models.training_data import AGGREGATE_FEATURES, PROFILE_FEATURES, SCENE_FEATURES

log = logging.getLogger(__name__)

PROFILE_INPUTS = tuple(f"p_{c}" for c in PROFILE_FEATURES)
XGB_LABELS = {"propensity": "label_purchase", "responsiveness": "label_coupon"}
BASELINE_DIR = "baseline"


def behaviour_spec(config: ModelConfig) -> InputSpec:
    """Inputs of the behaviour model: last events, event aggregates and profile features."""
    return InputSpec(config.data.behaviour_events, (*AGGREGATE_FEATURES, *PROFILE_INPUTS), "label_purchase")


def scene_spec(config: ModelConfig) -> InputSpec:
    """Inputs of the scene model."""
    return InputSpec(config.data.scene_events, SCENE_FEATURES, "label", config.scene.classes)


def training_paths(settings: Settings, snapshot: date) -> dict[str, str]:
    """Where the training sets of a snapshot are."""
    return {"users": lake.snapshot_path(settings, lake.TRAINING_USERS, snapshot),
            "scenes": lake.snapshot_path(settings, lake.TRAINING_SCENES, snapshot)}


def artifact_dir(settings: Settings, name: str, version: int) -> Path:
    """models/<name>/v<N>/ in the lake; Keras and XGBoost need it on a local or mounted file system."""
    target = lake.path(settings, lake.MODELS, name, f"v{version}")
    return Path(lake.local_path(target, needs_local="model artifacts (Keras, XGBoost)"))


def train_behaviour(paths: dict[str, str], out: Path, config: ModelConfig) -> dict:
    """Keras behaviour model plus the XGBoost-on-aggregates baseline in out/baseline."""
    from journey.models.behaviour import build_behaviour_model

    spec = behaviour_spec(config)
    result = fit_keras(lambda norm: build_behaviour_model(config.behaviour, spec.sequence_length, norm),
                       paths["users"], spec, config.train, out, {"model": "behaviour", "hparams": asdict(config)},
                       config.behaviour)
    train_xgb(paths["users"], AGGREGATE_FEATURES, "label_purchase", out / BASELINE_DIR, config, result.plan.xgb_device)
    return asdict(result)


def train_scene(paths: dict[str, str], out: Path, config: ModelConfig) -> dict:
    """Keras scene model."""
    from journey.models.scene import build_scene_model

    spec = scene_spec(config)
    result = fit_keras(lambda norm: build_scene_model(config.scene, spec.sequence_length, norm),
                       paths["scenes"], spec, config.train, out, {"model": "scene", "hparams": asdict(config)},
                       config.scene)
    return asdict(result)


def train_xgb(path: str, features: tuple[str, ...], label: str, out: Path, config: ModelConfig, device: str) -> dict:
    """An XGBoost classifier on one label of the user set, saved with its feature names."""
    import time

    train, validation = (xgbm.feature_table(path, s, features, label) for s in ("train", "validation"))
    started = time.perf_counter()
    model = xgbm.fit_xgb(train, validation, config.xgb, device)
    seconds = time.perf_counter() - started
    xgbm.save_xgb(model, out, {"features": list(features), "label": label, "device": device,
                               "best_iteration": int(model.best_iteration)})
    return {"artifact": str(out), "train_rows": int(len(train[1])), "seconds": seconds,
            "samples_per_second": len(train[1]) / max(seconds, 1e-9), "device": device}


def train_all(settings: Settings, snapshot: date, versions: dict[str, int], config: ModelConfig) -> dict[str, dict]:
    """Train every model of MODEL_NAMES at the given versions; returns per model its artifact and figures."""
    from journey.models.train import device_plan, visible_gpus

    paths = training_paths(settings, snapshot)
    device = device_plan(visible_gpus(), config.train).xgb_device
    trained = {}
    for name in MODEL_NAMES:
        out = artifact_dir(settings, name, versions[name])
        log.info("training %s v%d into %s", name, versions[name], out)
        if name == "behaviour":
            trained[name] = train_behaviour(paths, out, config)
        elif name == "scene":
            trained[name] = train_scene(paths, out, config)
        else:
            trained[name] = train_xgb(paths["users"], PROFILE_INPUTS, XGB_LABELS[name], out, config, device)
        trained[name]["version"] = versions[name]
    return trained


def _keras_probability(artifact: str) -> Callable[[dict], np.ndarray]:
    """predict(inputs) of a saved behaviour model: probabilities as a vector."""
    model, _ = load_keras(artifact)
    return lambda inputs: model.predict(inputs, verbose=0, batch_size=2048).reshape(-1)


def _test_window(path: str) -> str | None:
    """The test cut-off of a user set (ISO date), for the registry."""
    import pyarrow.compute as pc

    from journey.models.datasets import open_set

    table = open_set(path).to_table(columns=["cutoff"], filter=pc.field("split") == "test")
    return None if table.num_rows == 0 else str(pc.min(table.column("cutoff")).as_py())


def evaluate_behaviour(paths: dict[str, str], artifact: str, champion: str | None, config: ModelConfig) -> dict:
    """Behaviour model vs champion vs XGBoost on aggregates vs the recent add-to-cart rule, test rows."""
    spec = behaviour_spec(config)
    predicted, y, extra = predict_split(_keras_probability(artifact), paths["users"], "test", spec,
                                        AGGREGATE_FEATURES)
    booster, _ = xgbm.load_xgb(str(Path(artifact) / BASELINE_DIR))
    aggregates = xgbm.feature_matrix(extra, AGGREGATE_FEATURES)
    report = {
        "primary": PRIMARY_METRICS["behaviour"], "window": _test_window(paths["users"]),
        "challenger": ev.binary_metrics(y, predicted),
        "baselines": {
            "xgboost_aggregates": ev.binary_metrics(y, xgbm.predict_booster(booster, aggregates)),
            "recent_cart_rule": ev.binary_metrics(
                y, ev.recent_cart_rule(extra.column("days_since_last_cart").to_numpy(), config.data.lookback_days),
                probabilities=False),
        },
    }
    if champion:
        report["champion"] = ev.binary_metrics(y, predict_split(_keras_probability(champion), paths["users"], "test",
                                                                spec)[0])
    return report


def _scene_predictor(artifact: str) -> Callable[[dict], np.ndarray]:
    """predict(inputs) of a saved scene model: class probabilities."""
    model, _ = load_keras(artifact)
    return lambda inputs: model.predict(inputs, verbose=0, batch_size=2048)


def evaluate_scene(paths: dict[str, str], artifact: str, champion: str | None, config: ModelConfig) -> dict:
    """Scene model vs champion vs majority class vs the weak-labelling rules, test sessions."""
    spec = scene_spec(config)
    classes = spec.classes
    probabilities, y, extra = predict_split(_scene_predictor(artifact), paths["scenes"], "test", spec,
                                            ("rule_scene",))
    rules = np.array([classes.index(v) for v in extra.column("rule_scene").to_pylist()], dtype=np.int32)
    majority = int(np.argmax(label_counts(paths["scenes"], "train", spec)))
    report = {
        "primary": PRIMARY_METRICS["scene"], "window": _test_window(paths["users"]),
        "challenger": ev.scene_metrics(y, probabilities.argmax(axis=1), classes),
        "baselines": {"majority_class": ev.scene_metrics(y, np.full(len(y), majority), classes),
                      "rule_set": ev.scene_metrics(y, rules, classes)},
    }
    if champion:
        champion_probabilities = predict_split(_scene_predictor(champion), paths["scenes"], "test", spec)[0]
        report["champion"] = ev.scene_metrics(y, champion_probabilities.argmax(axis=1), classes)
    return report


def evaluate_xgb(name: str, paths: dict[str, str], artifact: str, champion: str | None) -> dict:
    """Propensity or responsiveness vs champion vs the recency/frequency rule, test rows."""
    label = XGB_LABELS[name]
    features, y = xgbm.feature_table(paths["users"], "test", PROFILE_INPUTS, label)
    booster, _ = xgbm.load_xgb(artifact)
    column = {c: features[:, i] for i, c in enumerate(PROFILE_INPUTS)}
    frequency = column["p_frequency"] if name == "propensity" else column["p_coupon_redemptions"]
    report = {
        "primary": PRIMARY_METRICS[name], "window": _test_window(paths["users"]),
        "challenger": ev.binary_metrics(y, xgbm.predict_booster(booster, features)),
        "baselines": {"recency_frequency_rule": ev.binary_metrics(
            y, ev.recency_frequency_rule(column["p_recency_days"], frequency), probabilities=False)},
    }
    if champion:
        report["champion"] = ev.binary_metrics(y, xgbm.predict_booster(xgbm.load_xgb(champion)[0], features))
    return report


def evaluate_all(settings: Settings, snapshot: date, trained: dict[str, dict], champions: dict[str, dict | None],
                 config: ModelConfig) -> dict[str, dict]:
    """Evaluation report per model (challenger, champion on the same rows when there is one, baselines)."""
    paths = training_paths(settings, snapshot)
    reports = {}
    for name, result in trained.items():
        champion = champions.get(name)
        champion_path = champion["artifact_path"] if champion else None
        if name == "behaviour":
            reports[name] = evaluate_behaviour(paths, result["artifact"], champion_path, config)
        elif name == "scene":
            reports[name] = evaluate_scene(paths, result["artifact"], champion_path, config)
        else:
            reports[name] = evaluate_xgb(name, paths, result["artifact"], champion_path)
        if champion:
            reports[name]["champion_version"] = champion["version"]
    return reports


def register_all(conn, trained: dict[str, dict], reports: dict[str, dict], run_id: str, snapshot: date) -> None:
    """Register every trained model as a challenger with its evaluation report."""
    for name, result in trained.items():
        registry.register(conn, name, result["version"], run_id, snapshot, result["artifact"], reports[name])


def promote_all(conn, trained: dict[str, dict], config: ModelConfig) -> dict[str, registry.Decision]:
    """Apply the promotion rule to every newly registered challenger."""
    return {name: registry.promote(conn, name, result["version"], config.promotion.margin)
            for name, result in trained.items()}


def next_versions(conn) -> dict[str, int]:
    """The version each model's next training gets."""
    return {name: registry.next_version(conn, name) for name in MODEL_NAMES}


def champions(conn) -> dict[str, dict | None]:
    """The current champion of every model (None where there is none)."""
    return {name: registry.champion(conn, name) for name in MODEL_NAMES}


def train_step(settings: Settings, snapshot: date, config: ModelConfig) -> dict[str, dict]:
    """Train every model at its next registry version (the DAG's `train` task)."""
    from journey import warehouse

    with warehouse.connect(settings) as conn:
        versions = next_versions(conn)
    return train_all(settings, snapshot, versions, config)


def evaluate_step(settings: Settings, snapshot: date, run_id: str, trained: dict[str, dict],
                  config: ModelConfig) -> dict[str, dict]:
    """Evaluate against the current champions and baselines, register the challengers (`evaluate` task)."""
    from journey import warehouse

    with warehouse.connect(settings) as conn:
        reports = evaluate_all(settings, snapshot, trained, champions(conn), config)
        register_all(conn, trained, reports, run_id, snapshot)
    return reports


def promote_step(settings: Settings, trained: dict[str, dict], config: ModelConfig) -> dict[str, str]:
    """Apply the promotion rule to the new challengers (`promote` task); returns the reason per model."""
    from journey import warehouse

    with warehouse.connect(settings) as conn:
        return {name: decision.reason for name, decision in promote_all(conn, trained, config).items()}
