"""Training loop of the Keras models: device plan (GPU/CPU), seeds, class weights, early stopping, artifacts.

The same code runs on CPU and GPU. `device_plan(gpu_count)` is the pure decision: with one
GPU or more, mixed precision (`mixed_float16`) and batches `gpu_batch_multiplier` times larger;
with more than one, a `MirroredStrategy` across them; XGBoost uses `device=cuda` when any GPU
is there. Otherwise the default (CPU) strategy, float32 and the configured batch size.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from journey.errors import DataError
from journey.models.datasets import InputSpec, label_counts, numeric_sample, tf_dataset
from journey.models.hparams import SequenceHParams, TrainParams

log = logging.getLogger(__name__)

NORMALISER_SAMPLE_ROWS = 50_000
MODEL_FILE = "model.keras"
META_FILE = "meta.json"


@dataclass(frozen=True)
class DevicePlan:
    """Where and how training runs."""

    strategy: str  # "default" (CPU or one GPU) or "mirrored" (several GPUs)
    mixed_precision: bool
    batch_size: int
    xgb_device: str  # "cpu" or "cuda"
    gpus: int


def device_plan(gpu_count: int, params: TrainParams) -> DevicePlan:
    """The training set-up for a number of visible GPUs (pure: no TensorFlow needed)."""
    if gpu_count <= 0:
        return DevicePlan("default", False, params.batch_size, "cpu", 0)
    batch = params.batch_size * params.gpu_batch_multiplier * gpu_count
    return DevicePlan("mirrored" if gpu_count > 1 else "default", True, batch, "cuda", gpu_count)


def visible_gpus() -> int:
    """Number of GPUs TensorFlow sees."""
    import tensorflow as tf

    return len(tf.config.list_physical_devices("GPU"))


def set_seeds(params: TrainParams) -> None:
    """Seed Python, NumPy and TensorFlow; make TF ops deterministic when asked."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(params.seed)
    if params.deterministic_ops:
        tf.config.experimental.enable_op_determinism()


def strategy_for(plan: DevicePlan):
    """tf.distribute strategy of a plan; sets the global mixed-precision policy."""
    import keras
    import tensorflow as tf

    keras.mixed_precision.set_global_policy("mixed_float16" if plan.mixed_precision else "float32")
    return tf.distribute.MirroredStrategy() if plan.strategy == "mirrored" else tf.distribute.get_strategy()


def class_weights(counts: np.ndarray) -> dict[int, float]:
    """Balanced class weights n / (classes × count); classes with no rows get weight 0."""
    total, present = counts.sum(), np.count_nonzero(counts)
    return {i: float(total / (present * c)) if c else 0.0 for i, c in enumerate(counts)}


def adapted_normaliser(path: str, spec: InputSpec):
    """keras Normalization layer adapted on (a sample of) the training rows' numeric features."""
    from keras import layers

    normaliser = layers.Normalization(name="numeric_normaliser")
    normaliser.adapt(numeric_sample(path, "train", spec, NORMALISER_SAMPLE_ROWS))
    return normaliser


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced."""

    artifact: str
    epochs: int
    train_rows: int
    seconds: float
    samples_per_second: float
    plan: DevicePlan


def early_stopping(monitor: str, patience: int):
    """EarlyStopping on `monitor` (maximised when it is an AUC, minimised otherwise), best weights restored."""
    import keras

    mode = "max" if monitor.endswith("auc") else "min"
    return keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=patience, restore_best_weights=True)


def fit_keras(build, path: str, spec: InputSpec, params: TrainParams, out_dir: Path, meta: dict,
              hp: SequenceHParams) -> TrainResult:
    """Train `build(normaliser)` on the train split with early stopping on validation; save model + meta.

    `hp` says what early stopping watches and whether the loss uses balanced class weights.
    """
    import keras

    set_seeds(params)
    plan = device_plan(visible_gpus(), params)
    counts = label_counts(path, "train", spec)
    if counts.sum() == 0 or np.count_nonzero(counts) < 2:
        raise DataError(f"the train split of {path} needs rows of at least two classes of {spec.label}, "
                         f"has {counts.tolist()}")
    with strategy_for(plan).scope():
        model = build(adapted_normaliser(path, spec))
    train = tf_dataset(path, "train", spec, plan.batch_size, params.shuffle_buffer, params.seed)
    validation = tf_dataset(path, "validation", spec, plan.batch_size)
    weights = class_weights(counts) if hp.class_weighted else None
    started = time.perf_counter()
    history = model.fit(train, validation_data=validation, epochs=params.epochs,
                        callbacks=[early_stopping(hp.monitor, params.patience)], class_weight=weights, shuffle=False, verbose=0)  # tf.data shuffles
    seconds = time.perf_counter() - started
    epochs = len(history.history["loss"])
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(out_dir / MODEL_FILE)
    rows = int(counts.sum())
    result = TrainResult(str(out_dir), epochs, rows, seconds, rows * epochs / seconds, plan)
    (out_dir / META_FILE).write_text(json.dumps({**meta, "spec": asdict(spec), "training": asdict(result),
                                                 "history": history.history}, indent=2, default=float))
    log.info("trained %s: %d epochs, %d rows, %.0f samples/s", out_dir, epochs, rows, result.samples_per_second)
    keras.mixed_precision.set_global_policy("float32")
    return result


def load_keras(artifact: str):
    """A saved Keras model and its meta (spec as an InputSpec)."""
    import keras

    folder = Path(artifact)
    meta = json.loads((folder / META_FILE).read_text())
    spec = meta["spec"]
    meta["spec"] = InputSpec(spec["sequence_length"], tuple(spec["numeric"]), spec["label"], tuple(spec["classes"]))
    return keras.models.load_model(folder / MODEL_FILE), meta
