"""Optional: `.weights.h5` files the real Keras writes for each
application family load into gkeras's model of the same constructor, and
the predictions match on random inputs; `.keras` files of the families
that hold op nodes and application-module layers (ConvNeXt,
MobileNetV3) load both ways.

Runs only where a Python with Keras 3 (JAX backend) is named by
`GKERAS_REFERENCE_KERAS_PYTHON` (e.g. `/work/kref/bin/python`); the Keras
side runs in that interpreter, in a subprocess.
"""

import json
import os
import subprocess

import numpy as np
import pytest

import gkeras
from gkeras import applications as A

KERAS_PYTHON = os.environ.get("GKERAS_REFERENCE_KERAS_PYTHON")
pytestmark = pytest.mark.skipif(
    not KERAS_PYTHON,
    reason="set GKERAS_REFERENCE_KERAS_PYTHON to a Python with Keras 3 "
           "and JAX to compare with the real Keras")

# (constructor, input size, extra kwargs): one member per family.
FAMILIES = [
    ("VGG16", 32, {"include_top": False, "pooling": "max"}),
    ("ResNet50", 32, {}), ("ResNet50V2", 32, {}), ("MobileNet", 32, {}),
    ("MobileNetV2", 32, {}), ("MobileNetV3Small", 32, {}),
    ("DenseNet121", 32, {}), ("InceptionV3", 75, {}),
    ("InceptionResNetV2", 75, {}), ("Xception", 71, {}),
    ("EfficientNetB0", 32, {}), ("EfficientNetV2B0", 32, {}),
    ("ConvNeXtTiny", 32, {}), ("NASNetMobile", 32, {}),
]

KERAS_SIDE = r"""
import json, sys
import numpy as np
import keras
from keras import applications as A

out, families = sys.argv[1], json.loads(sys.argv[2])
rng = np.random.default_rng(0)
for fn, size, kwargs in families:
    keras.backend.clear_session()
    kw = {"classes": 7, "classifier_activation": None}
    kw.update(kwargs)
    model = getattr(A, fn)(weights=None, input_shape=(size, size, 3), **kw)
    # Random vector weights (batch-norm statistics, biases, ...) too.
    values = []
    for w in model.weights:
        v = np.asarray(w.numpy())
        leaf = w.path.split("/")[-1]
        if v.ndim == 1 and leaf != "count":
            v = (rng.uniform(0.5, 1.5, v.shape) if "variance" in leaf
                 else rng.normal(0, 0.05, v.shape) + (leaf == "gamma"))
        values.append(v.astype("float32"))
    model.set_weights(values)
    x = rng.uniform(0, 255, (2, size, size, 3)).astype("float32")
    np.save(f"{out}/{fn}_x.npy", x)
    np.save(f"{out}/{fn}_y.npy", np.asarray(model.predict(x, verbose=0)))
    model.save_weights(f"{out}/{fn}.weights.h5")
    if fn in ("ConvNeXtTiny", "MobileNetV3Small"):
        model.save(f"{out}/{fn}.keras")
print("ok")
"""

KERAS_LOADS = r"""
import sys
import numpy as np
import keras
model = keras.models.load_model(sys.argv[1], safe_mode=True)
np.save(sys.argv[3], np.asarray(model.predict(np.load(sys.argv[2]),
                                              verbose=0)))
print("ok")
"""


def _run(code, *args):
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    res = subprocess.run([KERAS_PYTHON, "-c", code, *args],
                         capture_output=True, text=True, env=env,
                         timeout=1200)
    assert res.returncode == 0, res.stderr[-3000:]


@pytest.fixture(scope="module")
def keras_files(tmp_path_factory):
    out = tmp_path_factory.mktemp("keras_apps")
    _run(KERAS_SIDE, str(out), json.dumps(FAMILIES))
    return out


def _close(got, want):
    scale = float(np.abs(want).max())
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * scale)


@pytest.mark.parametrize("fn,size,kwargs", FAMILIES,
                         ids=[f[0] for f in FAMILIES])
def test_keras_weights_file_loads_and_predicts_the_same(keras_files, fn,
                                                        size, kwargs):
    gkeras.backend.clear_session()
    model = getattr(A, fn)(
        weights=str(keras_files / f"{fn}.weights.h5"),
        input_shape=(size, size, 3),
        **{"classes": 7, "classifier_activation": None, **kwargs})
    x = np.load(keras_files / f"{fn}_x.npy")
    _close(model.predict(x, verbose=0), np.load(keras_files / f"{fn}_y.npy"))


@pytest.mark.parametrize("fn", ["ConvNeXtTiny", "MobileNetV3Small"])
def test_keras_files_load_both_ways(keras_files, fn, tmp_path):
    x = np.load(keras_files / f"{fn}_x.npy")
    want = np.load(keras_files / f"{fn}_y.npy")
    # Keras's .keras file (op nodes, LayerScale) in gkeras, safe mode.
    model = gkeras.models.load_model(str(keras_files / f"{fn}.keras"),
                                     safe_mode=True)
    _close(model.predict(x, verbose=0), want)
    # gkeras's .keras file in Keras.
    path = str(tmp_path / f"{fn}.keras")
    model.save(path)
    out = str(tmp_path / "y.npy")
    _run(KERAS_LOADS, path, str(keras_files / f"{fn}_x.npy"), out)
    _close(np.load(out), want)
