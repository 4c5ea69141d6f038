"""Optional: gkeras's mixed precision files load in the real Keras 3.

Set GKERAS_REFERENCE_KERAS_PYTHON to a Python that has keras 3.15 and jax
(e.g. `/work/kref/bin/python`); the Keras side runs in that interpreter
(with KERAS_BACKEND=jax), so this test needs nothing extra here. Keras
must find the same layer policies, return the same output dtype and
predict the same values within the README's mixed precision tolerances.
"""

import json
import os
import subprocess

import numpy as np
import pytest

import gkeras
from gkeras import layers

KERAS_PYTHON = os.environ.get("GKERAS_REFERENCE_KERAS_PYTHON")
if not KERAS_PYTHON:
    pytest.skip("set GKERAS_REFERENCE_KERAS_PYTHON to a Python with keras "
                "3.15 and jax to check gkeras's mixed precision files in "
                "the real Keras", allow_module_level=True)

KERAS_SIDE = r"""
import json, sys, numpy as np, keras
for base in sys.argv[1:]:
    model = keras.models.load_model(base)
    y = model.predict(np.load(base + ".x.npy"), verbose=0)
    np.save(base + ".y.npy", np.asarray(y, dtype=np.float32))
    opt = model.optimizer
    json.dump({
        "policies": [l.dtype_policy.name for l in model.layers],
        "variable_dtypes": sorted({str(w.dtype) for w in model.weights}),
        "out_dtype": str(y.dtype),
        "optimizer": type(opt).__name__ if opt is not None else None,
    }, open(base + ".json", "w"))
"""

TOL = {"mixed_float16": (1e-2, 1e-3), "mixed_bfloat16": (3e-2, 1e-2)}


def _models():
    rng = np.random.default_rng(0)
    out = []
    for policy in ("mixed_float16", "mixed_bfloat16"):
        gkeras.mixed_precision.set_global_policy(policy)
        mlp = gkeras.Sequential([
            gkeras.Input((10,)), layers.Dense(16, activation="relu"),
            layers.Dense(4), layers.Activation("softmax", dtype="float32")])
        cnn = gkeras.Sequential([
            gkeras.Input((8, 8, 3)), layers.Conv2D(4, 3, use_bias=False),
            layers.BatchNormalization(), layers.Activation("relu"),
            layers.MaxPooling2D(2), layers.Flatten(),
            layers.Dense(3, activation="softmax")])
        lstm = gkeras.Sequential([
            gkeras.Input((6,), dtype="int32"), layers.Embedding(20, 5),
            layers.LSTM(4), layers.Dense(3),
            layers.Activation("softmax", dtype="float32")])
        gkeras.mixed_precision.set_global_policy("float32")
        out += [(policy, "mlp", mlp, rng.random((5, 10)).astype("float32"),
                 np.eye(4)[rng.integers(0, 4, 5)].astype("float32"),
                 "categorical_crossentropy"),
                (policy, "cnn", cnn,
                 rng.random((4, 8, 8, 3)).astype("float32"),
                 np.eye(3)[rng.integers(0, 3, 4)].astype("float32"),
                 "categorical_crossentropy"),
                (policy, "lstm", lstm,
                 rng.integers(0, 20, (5, 6)).astype("int32"),
                 rng.integers(0, 3, 5).astype("int32"),
                 "sparse_categorical_crossentropy")]
    return out


@pytest.mark.parametrize("fmt", [".keras", ".h5"])
def test_keras_loads_gkeras_mixed_precision_files(tmp_path, fmt):
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    cases = []
    for policy, name, model, x, y, loss in _models():
        model.compile(optimizer=gkeras.optimizers.SGD(0.05), loss=loss)
        model.train_on_batch(x, y)
        path = str(tmp_path / f"{policy}_{name}{fmt}")
        model.save(path)
        np.save(path + ".x.npy", x)
        cases.append((policy, name, model, x, path))
    # One Keras process for all the files (its start-up dominates).
    proc = subprocess.run([KERAS_PYTHON, "-c", KERAS_SIDE] +
                          [c[-1] for c in cases], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for policy, name, model, x, path in cases:
        info = json.load(open(path + ".json"))
        assert info["policies"] == [l.dtype_policy.name
                                    for l in model.layers], name
        assert info["variable_dtypes"] == ["float32"]
        want = model.predict(x, verbose=0)
        assert info["out_dtype"] == str(want.dtype)
        got = np.load(path + ".y.npy")
        rtol, atol = TOL[policy]
        want = np.asarray(want, np.float32)
        assert np.abs(got - want).max() <= atol + rtol * np.abs(want).max()
        if fmt == ".h5" and policy == "mixed_float16":
            assert info["optimizer"] == "LossScaleOptimizer"
