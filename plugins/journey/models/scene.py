"""Shopping-scene model builder: session encoder (embeddings + GRU) beside session aggregates → softmax."""

from __future__ import annotations

from journey.models.encoders import trunk
from journey.models.hparams import SceneHParams


def build_scene_model(hp: SceneHParams, sequence_length: int, normaliser):
    """Compiled multi-class classifier over hp.classes; `normaliser` is an adapted keras Normalization layer."""
    import keras
    from keras import layers

    inputs, hidden = trunk(sequence_length, normaliser, hp)
    output = layers.Dense(len(hp.classes), activation="softmax", dtype="float32", name="scene")(hidden)
    model = keras.Model(inputs, output, name="scene")
    model.compile(optimizer=keras.optimizers.Adam(hp.learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model
