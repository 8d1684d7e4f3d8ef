"""Every hyper-parameter and threshold of the models, in one place.

Training-set shape (sequence lengths, horizon, cut-offs), Keras model sizes, training loop
settings, XGBoost settings and the promotion margin. Plain dataclasses so DAGs and jobs can
import them without TensorFlow; tests and the benchmark override fields with `replace()`.
`RUN_PARAMS` names the few a run may set (the train DAG's Params, the train job's arguments);
`model_config(params)` applies them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from journey.errors import InputError
from journey.schemas import CHANNELS, EVENT_TYPES, SCENES

CATEGORY_BUCKETS = 64  # hashed category vocabulary (0 = padding / no category)
PRICE_BUCKETS = 16  # log2(price + 1) buckets (0 = padding / no price)
EVENT_VOCAB = len(EVENT_TYPES) + 2  # 0 = padding, 1 = unknown, then EVENT_TYPES in order
CHANNEL_VOCAB = len(CHANNELS) + 2  # 0 = padding, 1 = unknown, then CHANNELS in order
HOUR_VOCAB = 25  # 0 = padding, hour + 1
TOKEN_FEATURES = ("event", "category", "price", "hour", "channel")  # integer token columns of a sequence
SEQUENCE_COLUMNS = (*(f"seq_{name}" for name in TOKEN_FEATURES), "seq_gap")  # seq_gap: log1p(seconds), float


@dataclass(frozen=True)
class DataParams:
    """Shape of the training sets: sequence lengths, label horizon and cut-off plan."""

    behaviour_events: int = 30  # last N events before the cut-off
    scene_events: int = 24  # first M events of a session
    horizon_days: int = 5  # labels: a purchase (coupon redemption) within this many days from the cut-off
    cutoff_step_days: int = 2  # spacing of the training cut-offs
    min_history_days: int = 3  # no cut-off earlier than this many days after the first event day
    cutoffs: int = 6  # training cut-offs at most (the latest fully observed one and older ones)
    lookback_days: int = 28  # features use events this many days before the cut-off
    validation_share: float = 0.15  # customers held out for validation (early stopping) ...
    test_share: float = 0.15  # ... and for the test (promotion), by a hash of the user id


@dataclass(frozen=True)
class SequenceHParams:
    """Sizes shared by the two sequence models: embeddings → GRU, beside the numeric features → Dense."""

    embedding_dim: int = 8
    gru_units: int = 32
    dense_units: int = 32
    dropout: float = 0.1
    learning_rate: float = 3e-3
    class_weighted: bool = True  # balanced class weights in the loss
    monitor: str = "val_loss"  # early stopping watches this (lower is better unless it ends in "auc")


@dataclass(frozen=True)
class BehaviourHParams(SequenceHParams):
    """Purchase-intent model (last events + event aggregates → sigmoid).

    Ranked by ROC-AUC, so early stopping watches the validation AUC; no class weights, so the
    probabilities stay calibrated (weights shift them up and leave the ranking as it is).
    """

    class_weighted: bool = False
    monitor: str = "val_auc"


@dataclass(frozen=True)
class SceneHParams(SequenceHParams):
    """Shopping-scene model (session events + session aggregates → softmax over the scenes)."""

    dense_units: int = 48
    classes: tuple[str, ...] = SCENES


@dataclass(frozen=True)
class TrainParams:
    """The training loop: epochs, batches, early stopping, seed."""

    epochs: int = 12
    batch_size: int = 256  # per replica on CPU
    gpu_batch_multiplier: int = 4  # larger batches when a GPU is there
    patience: int = 2  # epochs without improvement of the model's monitor before stopping
    shuffle_buffer: int = 8192  # rows shuffled in the streaming reader
    seed: int = 42
    deterministic_ops: bool = True  # tf.config.experimental.enable_op_determinism


@dataclass(frozen=True)
class XGBParams:
    """XGBoost for propensity, responsiveness and the behaviour baseline."""

    n_estimators: int = 400
    max_depth: int = 3
    learning_rate: float = 0.03
    subsample: float = 0.9
    colsample_bytree: float = 0.9
    min_child_weight: float = 10.0
    early_stopping_rounds: int = 40
    tree_method: str = "hist"
    balance: bool = False  # True: scale_pos_weight = negatives / positives (off: probabilities stay calibrated)
    seed: int = 42


@dataclass(frozen=True)
class PromotionParams:
    """A challenger must beat the champion (or, with none, the best baseline) by this margin."""

    margin: float = 0.005


@dataclass(frozen=True)
class ModelConfig:
    """All of the above, passed around as one object."""

    data: DataParams = field(default_factory=DataParams)
    behaviour: BehaviourHParams = field(default_factory=BehaviourHParams)
    scene: SceneHParams = field(default_factory=SceneHParams)
    train: TrainParams = field(default_factory=TrainParams)
    xgb: XGBParams = field(default_factory=XGBParams)
    promotion: PromotionParams = field(default_factory=PromotionParams)


@dataclass(frozen=True)
class RunParam:
    """A field of ModelConfig a run may set: where it lives, its Param type, bounds and title."""

    section: str  # the ModelConfig field holding it (data, train, promotion)
    name: str  # its field in that section
    kind: str  # Airflow Param type: "integer" or "number"
    minimum: int | float
    maximum: int | float
    title: str


RUN_PARAMS = {
    "horizon_days": RunParam("data", "horizon_days", "integer", 1, 365, "Label horizon (days)"),
    "lookback_days": RunParam("data", "lookback_days", "integer", 1, 3650, "Feature look-back (days)"),
    "cutoff_step_days": RunParam("data", "cutoff_step_days", "integer", 1, 365, "Days between training cut-offs"),
    "min_history_days": RunParam("data", "min_history_days", "integer", 0, 3650,
                                 "Minimum history before a cut-off (days)"),
    "cutoffs": RunParam("data", "cutoffs", "integer", 1, 52, "Training cut-offs (at most)"),
    "epochs": RunParam("train", "epochs", "integer", 1, 200, "Keras epochs (early stopping)"),
    "margin": RunParam("promotion", "margin", "number", 0, 1, "Promotion margin"),
}


def data_run_params() -> tuple[str, ...]:
    """The RUN_PARAMS that shape the training sets (arguments of the build_training_data job)."""
    return tuple(key for key, spec in RUN_PARAMS.items() if spec.section == "data")


def run_param_defaults(config: ModelConfig | None = None) -> dict[str, int | float]:
    """The value of each run parameter in config (default: ModelConfig())."""
    config = config or ModelConfig()
    return {key: getattr(getattr(config, spec.section), spec.name) for key, spec in RUN_PARAMS.items()}


def model_config(params: Mapping[str, Any]) -> ModelConfig:
    """ModelConfig with the RUN_PARAMS found in params (DAG Params, job arguments) applied; other keys are ignored."""
    config = ModelConfig()
    for key, spec in RUN_PARAMS.items():
        value = params.get(key)
        if value is None:
            continue
        if not spec.minimum <= value <= spec.maximum:
            raise InputError(f"{key} must be between {spec.minimum} and {spec.maximum}, got {value}")
        section = replace(getattr(config, spec.section), **{spec.name: value})
        config = replace(config, **{spec.section: section})
    return config
