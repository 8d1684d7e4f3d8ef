"""Purchase-intent model builder: last events (embeddings + GRU) beside the event aggregates → sigmoid."""

from __future__ import annotations

from journey.models.encoders import trunk
from journey.models.hparams import BehaviourHParams


def build_behaviour_model(hp: BehaviourHParams, sequence_length: int, normaliser):
    """Compiled binary classifier; `normaliser` is an adapted keras Normalization layer for the numeric inputs."""
    import keras
    from keras import layers

    inputs, hidden = trunk(sequence_length, normaliser, hp)
    output = layers.Dense(1, activation="sigmoid", dtype="float32", name="intent")(hidden)
    model = keras.Model(inputs, output, name="behaviour")
    model.compile(optimizer=keras.optimizers.Adam(hp.learning_rate), loss="binary_crossentropy",
                  metrics=[keras.metrics.AUC(name="auc")])
    return model
