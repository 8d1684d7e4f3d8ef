"""Keras building blocks shared by the two sequence models: the inputs and the event-sequence encoder."""

from __future__ import annotations

from journey.models.hparams import (
    CATEGORY_BUCKETS,
    CHANNEL_VOCAB,
    EVENT_VOCAB,
    HOUR_VOCAB,
    PRICE_BUCKETS,
    SEQUENCE_COLUMNS,
)

VOCABULARIES = {"seq_event": EVENT_VOCAB, "seq_category": CATEGORY_BUCKETS, "seq_price": PRICE_BUCKETS,
                "seq_hour": HOUR_VOCAB, "seq_channel": CHANNEL_VOCAB}


def model_inputs(sequence_length: int, numeric_features: int) -> dict:
    """keras.Input per sequence column plus the numeric feature vector."""
    import keras

    inputs = {name: keras.Input((sequence_length,), dtype="float32" if name == "seq_gap" else "int32", name=name)
              for name in SEQUENCE_COLUMNS}
    inputs["numeric"] = keras.Input((numeric_features,), dtype="float32", name="numeric")
    return inputs


def encode_sequence(inputs: dict, embedding_dim: int, gru_units: int, dropout: float):
    """Embeddings of every token feature plus the time gap, concatenated, through a GRU: one vector per row."""
    from keras import layers

    parts = [layers.Embedding(size, embedding_dim, name=f"embed_{name}")(inputs[name])
             for name, size in VOCABULARIES.items()]
    parts.append(layers.Reshape((-1, 1), name="gap_channel")(inputs["seq_gap"]))
    tokens = layers.Concatenate(name="event_vectors")(parts)
    return layers.GRU(gru_units, dropout=dropout, name="sequence_gru")(tokens)


def trunk(sequence_length: int, normaliser, hp) -> tuple[dict, object]:
    """Inputs and the shared hidden layer: sequence encoding + normalised numeric features → Dense → Dropout.

    `hp` is a BehaviourHParams or SceneHParams (embedding_dim, gru_units, dense_units, dropout).
    """
    from keras import layers

    inputs = model_inputs(sequence_length, normaliser.mean.shape[-1])
    joined = layers.Concatenate(name="joined")([
        encode_sequence(inputs, hp.embedding_dim, hp.gru_units, hp.dropout), normaliser(inputs["numeric"])])
    hidden = layers.Dense(hp.dense_units, activation="relu", name="hidden")(joined)
    return inputs, layers.Dropout(hp.dropout, name="hidden_dropout")(hidden)
