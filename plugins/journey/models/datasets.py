"""Streaming model inputs from the Parquet training sets with `tf.data` (never the whole set in memory).

Rows are read with pyarrow, one record batch at a time, turned into the model's input dict
(token sequences as int32 matrices, the numeric features as one float32 matrix after a
signed log1p), then un-batched, shuffled in a bounded buffer and re-batched by tf.data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from journey import lake
from journey.errors import DataError, MissingInputError
from journey.models.hparams import SEQUENCE_COLUMNS

READ_ROWS = 4096  # rows per pyarrow read


@dataclass(frozen=True)
class InputSpec:
    """What a model reads: sequence length, numeric feature columns, and the label."""

    sequence_length: int
    numeric: tuple[str, ...]
    label: str
    classes: tuple[str, ...] = ()  # multi-class: label values in output order; empty = binary 0/1 label


def open_set(path: str) -> ds.Dataset:
    """A Parquet training set (folder or file) as a pyarrow dataset, with a clear error when absent."""
    try:
        dataset = ds.dataset(lake.local_path(path), format="parquet")
    except (FileNotFoundError, pa.ArrowInvalid) as exc:
        raise MissingInputError(f"no training set at {path}: run jobs/build_training_data.py first ({exc})") from exc
    if not dataset.files:
        raise MissingInputError(f"no Parquet files in the training set at {path}")
    return dataset


def signed_log1p(values: np.ndarray) -> np.ndarray:
    """sign(x)·log1p(|x|) with NaN as 0: counts, days and money on one scale."""
    clean = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    return (np.sign(clean) * np.log1p(np.abs(clean))).astype(np.float32)


def _matrix(column: pa.ChunkedArray | pa.Array, length: int, dtype) -> np.ndarray:
    """A fixed-length list column as a (rows, length) array."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    return pc.list_flatten(column).to_numpy(zero_copy_only=False).astype(dtype).reshape(-1, length)


def numeric_matrix(batch: pa.RecordBatch | pa.Table, columns: tuple[str, ...]) -> np.ndarray:
    """The numeric feature columns as one float32 matrix (signed log1p, NaN as 0)."""
    stacked = np.stack([batch.column(c).to_numpy(zero_copy_only=False).astype(np.float64) for c in columns], axis=1)
    return signed_log1p(stacked)


def model_inputs(batch: pa.RecordBatch | pa.Table, spec: InputSpec) -> dict[str, np.ndarray]:
    """The input dict of a model for a batch of rows."""
    inputs = {name: _matrix(batch.column(name), spec.sequence_length, np.float32 if name == "seq_gap" else np.int32)
              for name in SEQUENCE_COLUMNS}
    inputs["numeric"] = numeric_matrix(batch, spec.numeric)
    return inputs


def labels(batch: pa.RecordBatch | pa.Table, spec: InputSpec) -> np.ndarray:
    """Label vector: 0/1 floats (binary) or class numbers (multi-class); ValueError on an unknown class."""
    values = batch.column(spec.label).to_numpy(zero_copy_only=False)
    if not spec.classes:
        return values.astype(np.float32)
    index = {name: i for i, name in enumerate(spec.classes)}
    unknown = sorted({str(v) for v in values if v not in index})
    if unknown:
        raise DataError(f"label column {spec.label!r} holds {', '.join(unknown)}, not one of {', '.join(spec.classes)}")
    return np.array([index[v] for v in values], dtype=np.int32)


def read_columns(spec: InputSpec, extra: tuple[str, ...] = ()) -> list[str]:
    """Columns a reader needs for a spec."""
    return list(dict.fromkeys([*SEQUENCE_COLUMNS, *spec.numeric, spec.label, *extra]))


def split_batches(path: str, split: str, columns: list[str], rows: int = READ_ROWS) -> Iterator[pa.RecordBatch]:
    """Record batches of one split of a training set, streamed."""
    dataset = open_set(path)
    for batch in dataset.to_batches(columns=columns, filter=pc.field("split") == split, batch_size=rows):
        if batch.num_rows:
            yield batch


def label_counts(path: str, split: str, spec: InputSpec) -> np.ndarray:
    """Rows per class (binary: [negatives, positives]) of a split, reading only the label column."""
    size = len(spec.classes) or 2
    counts = np.zeros(size, dtype=np.int64)
    for batch in split_batches(path, split, [spec.label]):
        counts += np.bincount(labels(batch, spec).astype(np.int64), minlength=size)
    return counts


def numeric_sample(path: str, split: str, spec: InputSpec, max_rows: int) -> np.ndarray:
    """Up to max_rows numeric rows of a split (to adapt the normalisation layer)."""
    parts, seen = [], 0
    for batch in split_batches(path, split, list(spec.numeric)):
        parts.append(numeric_matrix(batch, spec.numeric))
        seen += batch.num_rows
        if seen >= max_rows:
            break
    if not parts:
        raise DataError(f"split {split!r} of {path} has no rows")
    return np.concatenate(parts)[:max_rows]


def _signature(spec: InputSpec):
    """tf.TensorSpec structure of (inputs, label)."""
    import tensorflow as tf

    inputs = {name: tf.TensorSpec((None, spec.sequence_length), tf.float32 if name == "seq_gap" else tf.int32)
              for name in SEQUENCE_COLUMNS}
    inputs["numeric"] = tf.TensorSpec((None, len(spec.numeric)), tf.float32)
    label = tf.TensorSpec((None,), tf.int32 if spec.classes else tf.float32)
    return inputs, label


def tf_dataset(path: str, split: str, spec: InputSpec, batch_size: int, shuffle_buffer: int = 0, seed: int = 0):
    """A tf.data.Dataset of (inputs, label) batches streamed from one split (shuffled when buffer > 0)."""
    import math

    import tensorflow as tf

    columns = read_columns(spec)

    def generate() -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
        for batch in split_batches(path, split, columns):
            yield model_inputs(batch, spec), labels(batch, spec)

    data = tf.data.Dataset.from_generator(generate, output_signature=_signature(spec)).unbatch()
    if shuffle_buffer:
        data = data.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    batches = math.ceil(int(label_counts(path, split, spec).sum()) / batch_size)  # known length: no end-of-data warning
    return data.batch(batch_size).apply(tf.data.experimental.assert_cardinality(batches)).prefetch(tf.data.AUTOTUNE)


def predict_split(predict: Callable[[dict[str, np.ndarray]], np.ndarray], path: str, split: str, spec: InputSpec,
                  extra: tuple[str, ...] = ()) -> tuple[np.ndarray, np.ndarray, pa.Table]:
    """Predictions, labels and the `extra` columns of a split, batch by batch."""
    predictions, truth, kept = [], [], []
    for batch in split_batches(path, split, read_columns(spec, extra)):
        predictions.append(predict(model_inputs(batch, spec)))
        truth.append(labels(batch, spec))
        kept.append(pa.Table.from_batches([batch]).select(list(extra)))
    if not predictions:
        raise DataError(f"split {split!r} of {path} has no rows")
    return np.concatenate(predictions), np.concatenate(truth), pa.concat_tables(kept)
