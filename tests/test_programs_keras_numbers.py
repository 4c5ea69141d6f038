"""Training logs of fixed-weight models, compared with the numbers the real
Keras 3.15.1 (JAX backend, CPU) printed for the same program.

The program (below, in `_run`) was run once under Keras with `gkeras`
changed to `keras`; its History logs are stored here, rounded to 5
digits. It covers what the keras.io programs lean on: `validation_split`
with `sample_weight`, `class_weight` with `weighted_metrics`, `evaluate`
with sample weights, Adam/RMSprop(momentum) steps, and RMSE/Huber/MAE;
then EarlyStopping with restore_best_weights, ReduceLROnPlateau,
validation_freq with initial_epoch, and validation_split (in
`_run_callbacks`); and masks from `Embedding(mask_zero=True)` through
GRU/LSTM/SimpleRNN, Bidirectional, MultiHeadAttention and the global
poolings (in `_run_masks`).
"""
import numpy as np

import gkeras as keras
from gkeras import layers

KERAS_3_15_1 = {
    "a": {
        "accuracy": [0.36667, 0.36667],
        "loss": [0.61877, 0.60833],
        "val_accuracy": [0.4, 0.4],
        "val_loss": [0.58818, 0.57944],
    },
    "b": {
        "accuracy": [0.375, 0.375],
        "loss": [1.49266, 1.37502],
        "weighted_accuracy": [0.16854, 0.16854],
    },
    "b_eval": {
        "accuracy": [0.375],
        "loss": [0.58374],
        "weighted_accuracy": [0.39822],
    },
    "c": {
        "loss": [0.79906, 0.5648, 0.39311],
        "mae": [0.73126, 0.61746, 0.51539],
        "root_mean_squared_error": [0.8939, 0.75153, 0.62698],
    },
    "d": {
        "loss": [0.32384, 0.14659],
        "mse": [0.68677, 0.29404],
        "val_loss": [0.16229, 0.08579],
        "val_mse": [0.32643, 0.17157],
    },
}


def fixed(model):
    ws = []
    for i, w in enumerate(model.get_weights()):
        ws.append(np.linspace(-0.5, 0.5, w.size).reshape(w.shape)
                  .astype("float32") * (1 + 0.1 * i))
    model.set_weights(ws)


def cls_model():
    m = keras.Sequential([keras.Input((5,)),
                          layers.Dense(4, activation="relu"),
                          layers.Dense(3, activation="softmax")])
    fixed(m)
    return m


def _run():
    rng = np.random.default_rng(0)
    x = rng.random((40, 5)).astype("float32")
    yc = rng.integers(0, 3, 40)
    yr = rng.random((40, 2)).astype("float32")
    sw = rng.random(40).astype("float32")
    out = {}
    m = cls_model()
    m.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy",
              metrics=["accuracy"])
    out["a"] = m.fit(x, yc, batch_size=8, epochs=2, shuffle=False,
                     validation_split=0.25, sample_weight=sw,
                     verbose=0).history
    m = cls_model()
    m.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy",
              metrics=["accuracy"], weighted_metrics=["accuracy"])
    out["b"] = m.fit(x, yc, batch_size=16, epochs=2, shuffle=False,
                     class_weight={0: 1.0, 1: 2.0, 2: 0.5},
                     verbose=0).history
    out["b_eval"] = m.evaluate(x, yc, sample_weight=sw, verbose=0,
                               return_dict=True)
    m = keras.Sequential([keras.Input((5,)), layers.Dense(2)])
    fixed(m)
    m.compile(keras.optimizers.Adam(0.01), "mse",
              metrics=["mae", keras.metrics.RootMeanSquaredError()])
    out["c"] = m.fit(x, yr, batch_size=7, epochs=3, shuffle=False,
                     verbose=0).history
    m = keras.Sequential([keras.Input((5,)), layers.Dense(2)])
    fixed(m)
    m.compile(keras.optimizers.RMSprop(0.01, momentum=0.5),
              keras.losses.Huber(), metrics=["mse"])
    out["d"] = m.fit(x, yr, batch_size=10, epochs=2, shuffle=False,
                     verbose=0, validation_data=(x[:10], yr[:10])).history
    return out


def test_training_logs_match_keras():
    got = _run()
    assert sorted(got) == sorted(KERAS_3_15_1)
    for case, logs in KERAS_3_15_1.items():
        g = got[case]
        assert sorted(g) == sorted(logs), (case, sorted(g))
        for key, want in logs.items():
            values = g[key] if isinstance(g[key], list) else [g[key]]
            np.testing.assert_allclose(values, want, rtol=1e-4, atol=2e-5,
                                       err_msg=f"{case}/{key}")


KERAS_3_15_1_CALLBACKS = {
    "es": {
        "epochs": [0.0, 1.0],
        "loss": [0.1378, 0.0915],
        "mae": [0.31726, 0.25685],
        "pred": [0.78342, 0.7676, 0.77875],
        "val_loss": [11.30213, 11.31469],
        "val_mae": [3.35292, 3.35476],
    },
    "rlr": {
        "learning_rate": [0.2, 0.2, 0.1, 0.1, 0.05],
        "loss": [0.1378, 0.0915, 0.07626, 0.07456, 0.06912],
        "mae": [0.31726, 0.25685, 0.23241, 0.23334, 0.22331],
    },
    "vf": {
        "epochs": [1.0, 2.0, 3.0, 4.0],
        "loss": [0.1378, 0.0915, 0.09118, 0.09088],
        "mae": [0.31726, 0.25685, 0.25669, 0.25652],
        "val_loss": [11.30213, 11.32617],
        "val_mae": [3.35292, 3.35645],
    },
    "vs": {
        "loss": [0.14954, 0.08291, 0.07914],
        "mae": [0.31477, 0.24403, 0.2418],
        "val_loss": [0.07061, 0.05948, 0.05881],
        "val_mae": [0.23019, 0.2064, 0.20124],
    },
}


def _run_callbacks():
    rng = np.random.default_rng(1)
    x = rng.random((30, 4)).astype("float32")
    y = rng.random((30, 1)).astype("float32")
    xv = rng.random((10, 4)).astype("float32") + 2.0
    yv = rng.random((10, 1)).astype("float32") - 3.0

    def model(lr=0.2):
        m = keras.Sequential([keras.Input((4,)),
                              layers.Dense(3, activation="tanh"),
                              layers.Dense(1)])
        m.set_weights([np.linspace(-0.5, 0.5, w.size).reshape(w.shape)
                       .astype("float32") for w in m.get_weights()])
        m.compile(keras.optimizers.SGD(lr), "mse", metrics=["mae"])
        return m

    out = {}
    m = model()
    h = m.fit(x, y, epochs=8, batch_size=10, shuffle=False,
              validation_data=(xv, yv), verbose=0,
              callbacks=[keras.callbacks.EarlyStopping(
                  monitor="val_loss", patience=1,
                  restore_best_weights=True)])
    out["es"] = dict(h.history, epochs=h.epoch,
                     pred=m.predict(xv[:3], verbose=0).ravel().tolist())
    m = model()
    h = m.fit(x, y, epochs=5, batch_size=10, shuffle=False, verbose=0,
              callbacks=[keras.callbacks.ReduceLROnPlateau(
                  monitor="loss", factor=0.5, patience=0, min_delta=0.05)])
    out["rlr"] = dict(h.history)
    m = model()
    h = m.fit(x, y, epochs=5, batch_size=10, shuffle=False, verbose=0,
              validation_data=(xv, yv), validation_freq=2, initial_epoch=1)
    out["vf"] = dict(h.history, epochs=h.epoch)
    m = model(0.05)
    h = m.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0,
              validation_split=0.2)
    out["vs"] = dict(h.history)
    return out


def test_callback_driven_training_matches_keras():
    got = _run_callbacks()
    assert sorted(got) == sorted(KERAS_3_15_1_CALLBACKS)
    for case, logs in KERAS_3_15_1_CALLBACKS.items():
        assert sorted(got[case]) == sorted(logs), (case, sorted(got[case]))
        for key, want in logs.items():
            np.testing.assert_allclose(got[case][key], want, rtol=1e-4,
                                       atol=2e-5, err_msg=f"{case}/{key}")


KERAS_3_15_1_MASKS = {
    "a": [-0.21413, -0.22127, -0.19846, 0.44812, 0.41322, 0.32238, -0.48157, -0.49762, -0.44632],
    "c": [0.0, 0.0, 0.26005, 0.22177, 0.0, 0.0, 0.30533, 0.26327, -0.24628, -0.22222, 0.39369, 0.33287],
    "d": [0.09821, 0.00724, 0.1944, 0.1228, 0.12568, -0.02113],
    "q": [-0.5037, -0.53823, -0.49992, -0.82117, -0.95861, -0.96631, -0.36917, -0.35934, -0.30088],
    "s": [-0.12206, -0.26634, 0.765, 0.64099, -0.60881, -0.6565],
}


def _run_masks():
    x = np.array([[3, 5, 0, 0], [1, 2, 7, 0], [4, 4, 4, 4]])
    i = keras.Input((None,), dtype="int32")
    e = layers.Embedding(8, 3, mask_zero=True)(i)
    a = layers.GlobalAveragePooling1D()(e)
    b = layers.Bidirectional(layers.GRU(2, return_sequences=True))(e)
    c = layers.GlobalMaxPooling1D()(b)
    d = layers.LSTM(2)(e)
    s = layers.SimpleRNN(2, return_sequences=True)(e)
    s = layers.GlobalAveragePooling1D()(s)
    q = layers.MultiHeadAttention(1, 2)(e, e)
    q = layers.GlobalAveragePooling1D()(q)
    m = keras.Model(i, [a, c, d, s, q])
    m.set_weights([np.sin(np.arange(w.size) * 0.37 + n).reshape(w.shape)
                   .astype("float32") * 0.5
                   for n, w in enumerate(m.get_weights())])
    outs = m.predict(x, verbose=0)
    return {n: np.asarray(o).ravel() for n, o in zip("acdsq", outs)}


def test_masked_sequence_layers_match_keras():
    got = _run_masks()
    for key, want in KERAS_3_15_1_MASKS.items():
        np.testing.assert_allclose(got[key], want, rtol=1e-4, atol=2e-5,
                                   err_msg=key)
