"""The weekly model run: train every model on a training snapshot, evaluate against baselines, promote.

    trained = train_all(settings, snapshot, config)             # artifacts under models/<name>/v<N>/
    reports = evaluate_all(settings, snapshot, trained, config) # test window, champion + baselines, same rows
    register_all(conn, trained, reports, run_id, snapshot); promote_all(conn, trained, config)

Models: `behaviour` (Keras, sequence + event aggregates + profile features → purchase within the horizon),
`scene` (Keras, session → scene), `propensity` and `responsiveness` (XGBoost on profile
features → purchase / coupon redemption within the horizon), `uplift` (X-learner on the closed
campaign runs' treated vs held-out outcomes, models/uplift_training.py; "not applicable" until
a campaign run has been measured after its window closed). The behaviour baseline XGBoost
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
from journey.models.btyd_features import BTYD_FEATURES
from journey.models.datasets import InputSpec, label_counts, open_set, predict_split
from journey.models.hparams import ModelConfig
from journey.models.registry import MODEL_NAMES, PRIMARY_METRICS
from journey.models.train import fit_keras, load_keras
from journey.models.training_data import AGGREGATE_FEATURES, PROFILE_FEATURES, SCENE_FEATURES

log = logging.getLogger(__name__)

PROFILE_INPUTS = tuple(f"p_{c}" for c in PROFILE_FEATURES)
XGB_INPUTS = (*PROFILE_INPUTS, *BTYD_FEATURES)  # propensity and responsiveness: RFM, behaviour and BTYD features
XGB_LABELS = {"propensity": "label_purchase", "responsiveness": "label_coupon"}
LABELS = {"behaviour": "label_purchase", "scene": "label", **XGB_LABELS}
LABEL_MEANINGS = {"label_purchase": "purchases", "label_coupon": "coupon redemptions",
                  "label": "sessions of more than one scene"}
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


def train_xgb(path: str, features: tuple[str, ...], label: str, out: Path, config: ModelConfig, device: str,
              label_horizon_days: int | None = None) -> dict:
    """An XGBoost classifier on one label of the user set, saved with its feature names and label window."""
    import time

    train, validation = (xgbm.feature_table(path, s, features, label) for s in ("train", "validation"))
    started = time.perf_counter()
    model = xgbm.fit_xgb(train, validation, config.xgb, device)
    seconds = time.perf_counter() - started
    xgbm.save_xgb(model, out, {"features": list(features), "label": label, "device": device,
                               "best_iteration": int(model.best_iteration), "label_horizon_days": label_horizon_days})
    return {"artifact": str(out), "train_rows": int(len(train[1])), "seconds": seconds,
            "samples_per_second": len(train[1]) / max(seconds, 1e-9), "device": device}


def label_horizon(settings: Settings, snapshot: date, config: ModelConfig) -> int:
    """The label window the training sets of a snapshot were built with (their plan; else the configured one)."""
    target = lake.training_plan_path(settings, snapshot)
    try:
        return int(lake.read_json(target)["used"]["horizon_days"])
    except FileNotFoundError:
        return config.data.horizon_days


def train_uplift_model(settings: Settings, out: Path, config: ModelConfig, champion: dict | None) -> dict:
    """The `uplift` model on the lake's campaign outcomes (campaigns/outcomes.py); {"skipped": …} without any.

    Its evaluation report (held-out users: Qini and uplift at 10 / 30 % vs the response model, the
    hand formula and the champion) is made here and kept in the result for evaluate_all.
    """
    import time

    from journey.campaigns.outcomes import training_inputs
    from journey.models import uplift_training as ut

    rows = ut.uplift_rows(*training_inputs(settings))
    reason = ut.not_enough(rows)
    if reason:
        return {"skipped": reason}
    started = time.perf_counter()
    held = ut.load_fitted(champion["artifact_path"])[0] if champion else None
    fitted = ut.train_uplift(rows, champion=held, margin=config.promotion.margin)
    seconds = time.perf_counter() - started
    return {"artifact": ut.save_fitted(fitted, out), "train_rows": fitted.report["train_rows"], "seconds": seconds,
            "samples_per_second": fitted.report["train_rows"] / max(seconds, 1e-9), "report": fitted.report}


def train_all(settings: Settings, snapshot: date, versions: dict[str, int], config: ModelConfig,
              champions: dict[str, dict | None] | None = None) -> dict[str, dict]:
    """Train every model of MODEL_NAMES at the given versions; returns per model its artifact and figures."""
    from journey.models.train import device_plan, visible_gpus

    paths = training_paths(settings, snapshot)
    device = device_plan(visible_gpus(), config.train).xgb_device
    trained = {}
    for name in MODEL_NAMES:
        if name == "uplift":
            trained[name] = train_uplift_model(settings, artifact_dir(settings, name, versions[name]), config,
                                               (champions or {}).get(name))
            if "skipped" in trained[name]:
                log.warning("uplift skipped: %s", trained[name]["skipped"])
            else:
                trained[name]["version"] = versions[name]
            continue
        reason = not_applicable(paths, name)
        if reason:
            log.warning("%s skipped: %s", name, reason)
            trained[name] = {"skipped": reason}
            continue
        out = artifact_dir(settings, name, versions[name])
        log.info("training %s v%d into %s", name, versions[name], out)
        if name == "behaviour":
            trained[name] = train_behaviour(paths, out, config)
        elif name == "scene":
            trained[name] = train_scene(paths, out, config)
        else:
            trained[name] = train_xgb(paths["users"], XGB_INPUTS, XGB_LABELS[name], out, config, device,
                                      label_horizon(settings, snapshot, config))
        trained[name]["version"] = versions[name]
    return trained


def not_applicable(paths: dict[str, str], name: str) -> str | None:
    """Why a model cannot learn on this feed ("not applicable to this feed: …"), or None when it can.

    A label with one value in the train, validation or test rows (no coupon redemptions, no
    purchases, sessions all of one scene) cannot be learned or judged.
    """
    import pyarrow.compute as pc

    label = LABELS[name]
    table = open_set(paths["scenes" if name == "scene" else "users"]).to_table(columns=["split", label])
    for split in ("train", "validation", "test"):
        values = pc.unique(table.filter(pc.equal(table.column("split"), split)).column(label)).to_pylist()
        if len(values) < 2:
            found = "no rows" if not values else f"{label} is {values[0]!r} in every row"
            return (f"not applicable to this feed: {found} of the {split} split (the feed has no "
                    f"{LABEL_MEANINGS[label]} to learn from)")
    return None


def training_lines(trained: dict[str, dict]) -> list[str]:
    """One line per model of a training run: what was trained, or why it was skipped."""
    return [f"{name}: {result['skipped']}" if "skipped" in result else
            f"trained {name} v{result['version']}: {result['train_rows']:,} rows, "
            f"{result['samples_per_second']:,.0f} samples/s -> {result['artifact']}" for name, result in trained.items()]


def decision_lines(trained: dict[str, dict], decisions: dict[str, str]) -> list[str]:
    """One line per model: the promotion decision (or the reason it was skipped)."""
    return [f"{name} v{trained[name]['version']}: {reason}" if "version" in trained[name] else f"{name}: {reason}"
            for name, reason in decisions.items()]


def trained_only(trained: dict[str, dict]) -> dict[str, dict]:
    """The models of a training run that were trained (not skipped as not applicable)."""
    return {name: result for name, result in trained.items() if "skipped" not in result}


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


def xgb_baselines(name: str, columns: dict[str, np.ndarray]) -> dict[str, dict]:
    """Baselines of propensity / responsiveness on the test rows: the rules and, for propensity, BG/NBD."""
    y = columns["y"]
    if name == "responsiveness":
        return {"recency_frequency_rule": ev.binary_metrics(
            y, ev.recency_frequency_rule(columns["p_recency_days"], columns["p_coupon_redemptions"]),
            probabilities=False)}
    baselines = {
        "recency_frequency_rule": ev.binary_metrics(
            y, ev.recency_frequency_rule(columns["p_recency_days"], columns["p_frequency"]), probabilities=False),
        "past_purchases_rule": ev.binary_metrics(y, np.nan_to_num(columns["btyd_repeat_purchases"], nan=-1.0),
                                                 probabilities=False),
        "recency_rule": ev.binary_metrics(
            y, -np.nan_to_num(columns["btyd_age_days"] - columns["btyd_recency_days"], nan=1e9), probabilities=False),
    }
    expected = columns["btyd_expected_purchases"]
    if np.isfinite(expected).any():
        baselines["bgnbd_expected_purchases"] = ev.binary_metrics(y, np.nan_to_num(expected, nan=0.0),
                                                                  probabilities=False)
    return baselines


def evaluate_xgb(name: str, paths: dict[str, str], artifact: str, champion: str | None) -> dict:
    """Propensity or responsiveness vs champion vs the rules and BG/NBD, test rows."""
    label = XGB_LABELS[name]
    booster, meta = xgbm.load_xgb(artifact)
    features = tuple(meta["features"])
    extra = ("p_recency_days", "p_frequency", "p_coupon_redemptions", "btyd_repeat_purchases", "btyd_recency_days",
             "btyd_age_days", "btyd_expected_purchases")
    table = open_set(paths["users"]).to_table(columns=sorted({*features, *extra, label}),
                                              filter=ds_split("test"))
    columns = {c: xgbm.feature_matrix(table, (c,))[:, 0].astype(np.float64) for c in extra}
    columns["y"] = table.column(label).to_numpy().astype(np.int32)
    report = {
        "primary": PRIMARY_METRICS[name], "window": _test_window(paths["users"]),
        "challenger": ev.binary_metrics(columns["y"], xgbm.predict_booster(booster,
                                                                           xgbm.feature_matrix(table, features))),
        "baselines": xgb_baselines(name, columns),
    }
    if champion:
        champion_booster, champion_meta = xgbm.load_xgb(champion)
        report["champion"] = ev.binary_metrics(columns["y"], xgbm.predict_booster(
            champion_booster, _champion_features(paths["users"], champion_meta["features"])))
    return report


def _champion_features(path: str, features: list[str]) -> np.ndarray:
    """The test rows' features a champion was trained on (it may predate a feature of today's challenger)."""
    table = open_set(path).to_table(columns=features, filter=ds_split("test"))
    return xgbm.feature_matrix(table, tuple(features))


def ds_split(split: str):
    """Arrow filter for the rows of one split."""
    import pyarrow.compute as pc

    return pc.field("split") == split


def evaluate_all(settings: Settings, snapshot: date, trained: dict[str, dict], champions: dict[str, dict | None],
                 config: ModelConfig) -> dict[str, dict]:
    """Evaluation report per model (challenger, champion on the same rows when there is one, baselines)."""
    paths = training_paths(settings, snapshot)
    reports = {}
    for name, result in trained_only(trained).items():
        champion = champions.get(name)
        champion_path = champion["artifact_path"] if champion else None
        if name == "uplift":
            reports[name] = dict(result["report"], window=None)
        elif name == "behaviour":
            reports[name] = evaluate_behaviour(paths, result["artifact"], champion_path, config)
        elif name == "scene":
            reports[name] = evaluate_scene(paths, result["artifact"], champion_path, config)
        else:
            reports[name] = evaluate_xgb(name, paths, result["artifact"], champion_path)
        if champion:
            reports[name]["champion_version"] = champion["version"]
        reports[name]["margin"] = config.promotion.margin
    return reports


def register_all(conn, trained: dict[str, dict], reports: dict[str, dict], run_id: str, snapshot: date) -> None:
    """Register every trained model as a challenger with its evaluation report."""
    for name, result in trained_only(trained).items():
        registry.register(conn, name, result["version"], run_id, snapshot, result["artifact"], reports[name])


def promote_all(conn, trained: dict[str, dict], config: ModelConfig) -> dict[str, registry.Decision]:
    """Apply the promotion rule to every newly registered challenger."""
    return {name: registry.promote(conn, name, result["version"], config.promotion.margin)
            for name, result in trained_only(trained).items()}


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
        versions, held = next_versions(conn), champions(conn)
    return train_all(settings, snapshot, versions, config, held)


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
        decisions = {name: decision.reason for name, decision in promote_all(conn, trained, config).items()}
    return {name: decisions.get(name) or result["skipped"] for name, result in trained.items()}
