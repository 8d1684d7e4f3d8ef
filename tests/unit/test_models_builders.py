"""Model builders on three rows (output shapes), the streaming reader, and XGBoost explanations."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from journey.models.datasets import InputSpec, label_counts, model_inputs, tf_dataset
from journey.models.hparams import SEQUENCE_COLUMNS, BehaviourHParams, SceneHParams, XGBParams
from journey.schemas import SCENES

LENGTH = 5


def rows(count: int, label_values: list) -> pa.Table:
    """A tiny training set: token sequences, two numeric columns, a split and a label."""
    rng = np.random.default_rng(0)
    columns = {name: [list(rng.integers(0, 5, LENGTH).astype(float if name == "seq_gap" else int))
                      for _ in range(count)] for name in SEQUENCE_COLUMNS}
    columns.update({"a": rng.random(count) * 10, "b": -rng.random(count), "split": ["train"] * count,
                    "label": label_values})
    return pa.table(columns)


def normaliser(width: int):
    """A Normalization layer adapted on random rows."""
    from keras import layers

    layer = layers.Normalization()
    layer.adapt(np.random.default_rng(1).random((8, width)).astype(np.float32))
    return layer


def test_builders_give_one_probability_per_row_and_a_distribution_over_scenes():
    from journey.models.behaviour import build_behaviour_model
    from journey.models.scene import build_scene_model

    table = rows(3, ["browse", "gift", "compare"])
    inputs = model_inputs(table, InputSpec(LENGTH, ("a", "b"), "label", SCENES))

    intent = build_behaviour_model(BehaviourHParams(), LENGTH, normaliser(2)).predict(inputs, verbose=0)
    scenes = build_scene_model(SceneHParams(), LENGTH, normaliser(2)).predict(inputs, verbose=0)

    assert intent.shape == (3, 1) and ((intent > 0) & (intent < 1)).all()
    assert scenes.shape == (3, len(SCENES)) and np.allclose(scenes.sum(axis=1), 1.0, atol=1e-5)


def test_streaming_reader_batches_every_row_once(tmp_path):
    pq.write_table(rows(10, [0, 1] * 5), tmp_path / "part-0.parquet")
    spec = InputSpec(LENGTH, ("a", "b"), "label")

    batches = list(tf_dataset(str(tmp_path), "train", spec, batch_size=4).as_numpy_iterator())

    assert [len(labels) for _, labels in batches] == [4, 4, 2]
    assert sorted(np.concatenate([labels for _, labels in batches]).tolist()) == [0.0] * 5 + [1.0] * 5
    assert batches[0][0]["seq_event"].shape == (4, LENGTH) and batches[0][0]["numeric"].shape == (4, 2)
    assert label_counts(str(tmp_path), "train", spec).tolist() == [5, 5]


def test_unknown_scene_label_is_named():
    table = rows(2, ["browse", "teleport"])
    from journey.models.datasets import labels

    with pytest.raises(ValueError, match="label column 'label' holds teleport, not one of browse"):
        labels(table, InputSpec(LENGTH, ("a",), "label", SCENES))


def test_top_contributions_name_the_feature_that_drives_the_label():
    from journey.models.propensity import fit_xgb, top_contributions

    rng = np.random.default_rng(2)
    features = rng.random((400, 4)).astype(np.float32)
    label = (features[:, 2] > 0.5).astype(np.int32)  # only feature 2 matters
    model = fit_xgb((features[:300], label[:300]), (features[300:], label[300:]), XGBParams(n_estimators=30))

    explained = top_contributions(model.get_booster(), features[:5], ("w", "x", "y", "z"))

    assert all(len(row) == 3 and row[0]["feature"] == "y" for row in explained)
    assert all((row[0]["contribution"] > 0) == bool(label[i]) for i, row in enumerate(explained))
