"""Optional: files gkeras writes load in the real Keras 3 and predict the
same values. Runs only where Keras (and JAX) are installed; the Keras side
runs in a subprocess so its backend choice stays its own."""

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

import gkeras as keras
from gkeras import layers

# Checked without importing: Keras picks its backend at import time.
if importlib.util.find_spec("keras") is None or \
        importlib.util.find_spec("jax") is None:
    pytest.skip("real Keras with its JAX backend is not installed",
                allow_module_level=True)

KERAS_SIDE = r"""
import sys, numpy as np, keras
path, xpath, out = sys.argv[1], sys.argv[2], sys.argv[3]
x = np.load(xpath)
if path.endswith(".weights.h5"):
    model = keras.models.model_from_json(open(path + ".json").read())
    model.load_weights(path)
else:
    model = keras.models.load_model(path, compile=False)
np.save(out, np.asarray(model.predict(x, verbose=0)))
"""


def _models():
    rng = np.random.default_rng(0)
    dense = keras.Sequential([keras.Input((6,)), layers.Dense(8, activation="relu"),
                              layers.Dense(3, activation="softmax")])
    cnn = keras.Sequential([keras.Input((8, 8, 2)),
                            layers.Conv2D(4, 3, padding="same"),
                            layers.BatchNormalization(), layers.Activation("relu"),
                            layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(2)])
    rnn = keras.Sequential([keras.Input((5, 3)), layers.LSTM(4, return_sequences=True),
                            layers.GRU(3), layers.Dense(2)])
    inp = keras.Input((4, 8))
    att = layers.MultiHeadAttention(num_heads=2, key_dim=3)(inp, inp)
    mha = keras.Model(inp, layers.LayerNormalization()(layers.Add()([inp, att])))
    convlstm = keras.Sequential([keras.Input((3, 5, 5, 1)),
                                 layers.ConvLSTM2D(2, 3, padding="same"),
                                 layers.Flatten(), layers.Dense(2)])
    ginp = keras.Input((5, 8))
    gqa = keras.Model(ginp, layers.GroupQueryAttention(4, 4, 2, use_gate=True)(
        ginp, ginp))
    return [("gqa", gqa, rng.random((2, 5, 8))),
            ("dense", dense, rng.random((4, 6))), ("cnn", cnn, rng.random((3, 8, 8, 2))),
            ("rnn", rnn, rng.random((3, 5, 3))), ("mha", mha, rng.random((2, 4, 8))),
            ("convlstm", convlstm, rng.random((2, 3, 5, 5, 1)))]


@pytest.mark.parametrize("fmt", [".keras", ".h5", ".weights.h5"])
def test_real_keras_loads_gkeras_files(tmp_path, fmt):
    for name, model, x in _models():
        x = x.astype("float32")
        # Non-trivial BatchNormalization statistics.
        model.compile(optimizer="sgd", loss="mse")
        model.fit(x, model.predict(x, verbose=0) + 0.1, epochs=1, verbose=0)
        want = model.predict(x, verbose=0)
        path = str(tmp_path / (name + fmt))
        if fmt == ".weights.h5":
            model.save_weights(path)
            with open(path + ".json", "w") as f:
                f.write(model.to_json())
        else:
            model.save(path)
        np.save(tmp_path / "x.npy", x)
        out = str(tmp_path / (name + "_out.npy"))
        env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
        res = subprocess.run([sys.executable, "-c", KERAS_SIDE, path,
                              str(tmp_path / "x.npy"), out],
                             capture_output=True, text=True, env=env,
                             timeout=300)
        assert res.returncode == 0, f"{name}{fmt}: {res.stderr[-2000:]}"
        np.testing.assert_allclose(np.load(out), want, rtol=1e-4, atol=1e-5,
                                   err_msg=f"{name}{fmt}")
