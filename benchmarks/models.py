"""The tutorial models, written once against a Keras-like module.

Each builder takes the module (`gkeras`, or `keras` on the JAX/PyTorch
backends) and returns `(model, x, y, loss)` for a given batch size, so the
very same model code runs on every framework.
"""

import numpy as np


def mlp(k, batch):
    """784-128-64-10 MLP with Adam (the issue-2 benchmark)."""
    model = k.Sequential([
        k.Input((784,)),
        k.layers.Dense(128, activation="relu"),
        k.layers.Dense(64, activation="relu"),
        k.layers.Dense(10, activation="softmax")])
    rng = np.random.default_rng(0)
    x = rng.random((batch * 8, 784), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch * 8)]
    return model, x, y, "categorical_crossentropy"


def cnn(k, batch):
    """The BatchNorm CNN of issue 3 (32x32x3, 10 classes)."""
    L = k.layers
    model = k.Sequential([
        k.Input((32, 32, 3)),
        L.Conv2D(32, (3, 3), padding="same"), L.BatchNormalization(),
        L.Activation("relu"), L.MaxPooling2D((2, 2)),
        L.Conv2D(64, (3, 3), padding="same"), L.BatchNormalization(),
        L.Activation("relu"), L.MaxPooling2D((2, 2)),
        L.Conv2D(128, (3, 3), padding="same"), L.BatchNormalization(),
        L.Activation("relu"), L.MaxPooling2D((2, 2)),
        L.Flatten(), L.Dense(128, activation="relu"),
        L.Dense(10, activation="softmax")])
    rng = np.random.default_rng(0)
    x = rng.random((batch * 4, 32, 32, 3), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch * 4)]
    return model, x, y, "categorical_crossentropy"


def lstm(k, batch, seq=100):
    """Embedding(20000,128) -> LSTM(128) -> Dense(1) over `seq` tokens.

    Args:
        k: the Keras-like module.
        batch: batch size.
        seq: sequence length (100: the tutorial model).
    """
    L = k.layers
    model = k.Sequential([
        k.Input((seq,), dtype="int32"), L.Embedding(20000, 128),
        L.LSTM(128), L.Dense(1, activation="sigmoid")])
    rng = np.random.default_rng(0)
    x = rng.integers(1, 20000, (batch * 4, seq)).astype("int32")
    y = rng.integers(0, 2, (batch * 4, 1)).astype("float32")
    return model, x, y, "binary_crossentropy"


def transformer(k, batch, seq=100):
    """2-block Transformer encoder: embed 128, 8 heads, ff 512.

    Args:
        k: the Keras-like module.
        batch: batch size.
        seq: sequence length (100: the tutorial model).
    """
    L = k.layers
    inputs = k.Input((seq, 128))
    x = inputs
    for _ in range(2):
        att = L.MultiHeadAttention(num_heads=8, key_dim=16)(x, x)
        x = L.LayerNormalization(epsilon=1e-6)(L.Add()([x, att]))
        ff = L.Dense(512, activation="relu")(x)
        ff = L.Dense(128)(ff)
        x = L.LayerNormalization(epsilon=1e-6)(L.Add()([x, ff]))
    x = L.GlobalAveragePooling1D()(x)
    outputs = L.Dense(2, activation="softmax")(x)
    model = k.Model(inputs, outputs)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch * 4, seq, 128)).astype("float32")
    y = np.eye(2, dtype=np.float32)[rng.integers(0, 2, batch * 4)]
    return model, x, y, "categorical_crossentropy"


MODELS = {"mlp": mlp, "cnn": cnn, "lstm": lstm, "transformer": transformer}
# The builders that take a `seq` keyword (sequence length).
SEQ_MODELS = ("lstm", "transformer")
