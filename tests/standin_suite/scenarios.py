"""Scenarios: each builds, trains, evaluates, predicts (and saves) a small
model with fixed seeds and returns what must match between backends.

Keys starting with `stat_` hold values that depend on the device RNG
(dropout masks, augmentation draws): compared as statistics only.
`Context.counter()` gives a callback recording the stand-in's events per
training step (empty on NumPy).
"""

import os
import tempfile

import numpy as np

import gkeras as keras

try:  # only on the CuPy stand-in
    import standin_counters as sc
except ImportError:
    sc = None


class StepCounter(keras.callbacks.Callback):
    """Stand-in events per training step. A step's events run from the end
    of the previous step (or the epoch's start) to its own end, so the
    batch's transfer is included and epoch-end work (metric reads,
    deferred checks, validation) is not. The fit's first step (build,
    kernel compiles) is left out."""

    def __init__(self, ctx, label):
        super().__init__()
        self.ctx, self.label = ctx, label
        self.first, self.last = True, None
        ctx.counts[label] = []

    def _snap(self):
        return sc.snapshot(), {**{("sync",) + k: v for k, v in
                                  sc.where("sync").items()},
                               **{("h2d",) + k: v for k, v in
                                  sc.where("h2d").items()}}

    def on_epoch_begin(self, epoch, logs=None):
        if sc is not None:
            self.last = self._snap()

    def on_train_batch_end(self, batch, logs=None):
        if sc is None:
            return
        now = self._snap()
        if not self.first:
            (a, wa), (b, wb) = self.last, now
            d = {k: b[k] - a[k] for k in a}
            changed = [k for k in wb if wb[k] != wa.get(k, 0)]
            d["sync_where"] = sorted(k[1:] for k in changed
                                     if k[0] == "sync")
            d["h2d_where"] = sorted(k[1:] for k in changed if k[0] == "h2d")
            self.ctx.counts[self.label].append(d)
        self.first, self.last = False, now


class Context:
    def __init__(self):
        self.counts = {}

    def counter(self, label="fit"):
        return StepCounter(self, label)


def _seed(s=0):
    keras.utils.set_random_seed(s)
    keras.backend.clear_session()


def _data(n=48, shape=(8,), classes=3, seed=0, kind="float"):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n,) + shape).astype("float32")
    y = rng.integers(0, classes, n)
    return x, y


def _fit_eval_predict(ctx, model, x, y, epochs=2, batch_size=16, **fit_kw):
    h = model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0,
                  shuffle=False, callbacks=[ctx.counter()], **fit_kw)
    ev = model.evaluate(x, y, batch_size=batch_size, verbose=0,
                        return_dict=True)
    pred = model.predict(x[:8], verbose=0)
    return {"history": h.history, "evaluate": ev, "predict": pred,
            "weights": [w for w in model.get_weights()]}


def _save_load(model, x, fmt):
    d = tempfile.mkdtemp()
    path = os.path.join(d, "m" + fmt)
    if fmt == ".weights.h5":
        model.save_weights(path)
        clone = keras.models.clone_model(model)
        clone.load_weights(path)
    else:
        model.save(path)
        clone = keras.models.load_model(path)
    return clone.predict(x[:8], verbose=0)


# -- the tutorial models ------------------------------------------------------

def mlp(ctx):
    _seed()
    x, y = _data(64, (20,), 4)
    m = keras.Sequential([keras.Input((20,)),
                          keras.layers.Dense(32, activation="relu"),
                          keras.layers.Dense(16, activation="relu"),
                          keras.layers.Dense(4, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy",
              metrics=["accuracy"])
    out = _fit_eval_predict(ctx, m, x, y, epochs=3)
    for fmt in (".keras", ".h5", ".weights.h5"):
        out["reload" + fmt] = _save_load(m, x, fmt)
    return out


def cnn(ctx):
    _seed()
    x, y = _data(24, (8, 8, 3), 3)
    L = keras.layers
    m = keras.Sequential([
        keras.Input((8, 8, 3)), L.Conv2D(4, 3, padding="same"),
        L.BatchNormalization(), L.Activation("relu"), L.MaxPooling2D(2),
        L.Conv2D(6, 3, padding="same"), L.BatchNormalization(),
        L.Activation("relu"), L.GlobalMaxPooling2D(),
        L.Dense(3, activation="softmax")])
    m.compile(keras.optimizers.SGD(0.05, momentum=0.9),
              "sparse_categorical_crossentropy", metrics=["accuracy"])
    out = _fit_eval_predict(ctx, m, x, y, epochs=2, batch_size=8)
    out["reload.keras"] = _save_load(m, x, ".keras")
    return out


def lstm(ctx):
    _seed()
    rng = np.random.default_rng(1)
    x = rng.integers(1, 50, (32, 7)).astype("int32")
    y = rng.integers(0, 2, (32, 1)).astype("float32")
    L = keras.layers
    m = keras.Sequential([keras.Input((7,), dtype="int32"),
                          L.Embedding(50, 8), L.LSTM(6),
                          L.Dense(1, activation="sigmoid")])
    m.compile("rmsprop", "binary_crossentropy", metrics=["accuracy"])
    out = _fit_eval_predict(ctx, m, x, y, epochs=2, batch_size=8)
    out["reload.keras"] = _save_load(m, x, ".keras")
    return out


def gru(ctx):
    _seed()
    rng = np.random.default_rng(2)
    x = rng.normal(size=(32, 5, 3)).astype("float32")
    y = rng.normal(size=(32, 2)).astype("float32")
    L = keras.layers
    m = keras.Sequential([keras.Input((5, 3)), L.GRU(6),
                          L.Dense(2)])
    m.compile(keras.optimizers.AdamW(0.01), "mse", metrics=["mae"])
    out = _fit_eval_predict(ctx, m, x, y, epochs=2, batch_size=8)
    out["reload.h5"] = _save_load(m, x, ".h5")
    return out


def transformer(ctx):
    _seed()
    rng = np.random.default_rng(3)
    x = rng.normal(size=(24, 6, 8)).astype("float32")
    y = rng.integers(0, 2, 24)
    L = keras.layers
    inputs = keras.Input((6, 8))
    h = inputs
    att = L.MultiHeadAttention(num_heads=2, key_dim=4)(h, h)
    h = L.LayerNormalization(epsilon=1e-6)(L.Add()([h, att]))
    ff = L.Dense(16, activation="relu")(h)
    ff = L.Dense(8)(ff)
    h = L.LayerNormalization(epsilon=1e-6)(L.Add()([h, ff]))
    h = L.GlobalAveragePooling1D()(h)
    outputs = L.Dense(2, activation="softmax")(h)
    m = keras.Model(inputs, outputs)
    m.compile("adam", "sparse_categorical_crossentropy",
              metrics=["accuracy"])
    out = _fit_eval_predict(ctx, m, x, y, epochs=2, batch_size=8)
    out["reload.keras"] = _save_load(m, x, ".keras")
    return out


def mlp_progbar(ctx):
    """verbose=1: the progress bar reads loss and both metrics every step;
    on the GPU that must be one batched transfer, not one per value."""
    import contextlib
    import io
    _seed()
    x, y = _data(64, (20,), 4)
    m = keras.Sequential([keras.Input((20,)),
                          keras.layers.Dense(16, activation="relu"),
                          keras.layers.Dense(4, activation="softmax")])
    m.compile("sgd", "sparse_categorical_crossentropy",
              metrics=["accuracy", "sparse_top_k_categorical_accuracy"])
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        h = m.fit(x, y, batch_size=8, epochs=1, verbose=1, shuffle=False,
                  callbacks=[ctx.counter()])
    return {"history": h.history, "printed_steps": buf.getvalue().count(
        "8/8")}


SCENARIOS = {"mlp": mlp, "cnn": cnn, "lstm": lstm, "gru": gru,
             "transformer": transformer, "mlp_progbar": mlp_progbar}
