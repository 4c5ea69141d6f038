"""Every `gkeras.applications` constructor against what the real Keras 3
builds (recorded as data by `tests/data/record_keras_applications.py`
into `tests/data/keras_applications.json`): model name, parameter counts,
every layer's name, class and weight shapes, weight paths, output shapes
with the top and for each pooling mode without it. Also: weight files
round-trip, `get_config`/`from_config` and `.keras` save/load (safe mode)
for one member of each family, `preprocess_input` of each module against
Keras's outputs, and the `weights="imagenet"` download path against a
local HTTP server.
"""

import contextlib
import functools
import http.server
import json
import os
import socket
import threading

import numpy as np
import pytest

import gkeras
from gkeras import applications as A
from gkeras.ops.symbolic import SymbolicOp

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                    "keras_applications.json")
with open(DATA) as _f:
    RECORDED = json.load(_f)
CASES = sorted(k for k in RECORDED if not k.startswith("_"))

# One member per family, at its small input size: the headless pooling
# modes and the file round trips are checked on these (the other members
# of a family share that code and differ only in their base).
FAMILY_CASES = ["VGG16", "ResNet50", "ResNet50V2", "MobileNet",
                "MobileNetV2", "MobileNetV3Small", "DenseNet121",
                "InceptionV3", "InceptionResNetV2", "Xception",
                "EfficientNetB0", "EfficientNetV2B0", "ConvNeXtTiny",
                "NASNetMobile"]


def _counts(model):
    tr = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    ntr = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return {"total": tr + ntr, "trainable": tr, "non_trainable": ntr}


def _build(case, **kwargs):
    entry = RECORDED[case]
    gkeras.backend.clear_session()
    kwargs = {"weights": None, "input_shape": tuple(entry["input_shape"]),
              **entry["kwargs"], **kwargs}
    return getattr(A, entry["constructor"])(**kwargs)


def _layer_rows(model):
    # Keras's `model.layers` lists layers only; the op nodes (`x + 3.0`)
    # of a Functional graph are not layers there.
    return [[l.name, l.__class__.__name__, [list(w.shape) for w in
                                            l.weights]]
            for l in model.layers if not isinstance(l, SymbolicOp)]


def test_recording_covers_every_keras_constructor():
    exported = {e["constructor"] for k, e in RECORDED.items()
                if not k.startswith("_")}
    assert exported == {n for n in A.__all__ if n[0].isupper()}
    assert len(exported) == 40


@contextlib.contextmanager
def zero_init():
    """Zero-filled kernels while building: the architecture checks look at
    names, shapes and counts only, and drawing hundreds of millions of
    random numbers (ConvNeXtXLarge) would dominate the tests' run time."""
    from gkeras.initializers import initializers as inits

    def zeros(self, shape, dtype=None):
        return np.zeros(inits._shape(shape), inits._dtype(dtype))
    classes = (inits.VarianceScaling, inits.TruncatedNormal,
               inits.RandomNormal, inits.RandomUniform)
    saved = [c.__dict__["__call__"] for c in classes]
    for c in classes:
        c.__call__ = zeros
    try:
        yield
    finally:
        for c, f in zip(classes, saved):
            c.__call__ = f


@pytest.fixture
def cheap_init():
    with zero_init():
        yield


@pytest.mark.parametrize("case", CASES)
def test_architecture_matches_keras(case, cheap_init):
    entry = RECORDED[case]
    model = _build(case)
    assert model.name == entry["name"]
    assert _counts(model) == entry["params"]
    rows = _layer_rows(model)
    assert [r[0] for r in rows] == [r[0] for r in entry["layers"]]
    assert rows == entry["layers"]
    assert [w.path for w in model.weights] == entry["weight_paths"]
    assert list(model.output.shape) == entry["output_shape"]
    del model
    poolings = [None, "avg", "max"] if case in FAMILY_CASES else []
    for pooling in poolings:
        model = _build(case, include_top=False, pooling=pooling)
        want = entry["notop"][str(pooling)]
        assert list(model.output.shape) == want["output_shape"], pooling
        assert _counts(model) == want["params"], pooling
        assert len(model.layers) - sum(isinstance(l, SymbolicOp)
                                       for l in model.layers) == \
            want["n_layers"], pooling
        assert model.layers[-1].name == want["last_layer"], pooling


def _images(case, n=2, seed=0):
    shape = tuple(RECORDED[case]["input_shape"])
    return np.random.default_rng(seed).uniform(
        0, 255, (n,) + shape).astype("float32")


def _randomize(model, seed=1):
    """Random values in every vector weight (biases, batch-norm gammas,
    betas and statistics, LayerScale, Normalization): the kernels are
    random already, so a round trip that dropped or permuted any weight
    shows in the predictions."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        name = w.path.split("/")[-1]
        if len(w.shape) != 1 or name == "count":
            continue
        if name in ("moving_variance", "variance"):
            v = rng.uniform(0.5, 1.5, w.shape)
        else:
            v = rng.normal(0, 0.05, w.shape) + (
                1.0 if name == "gamma" else 0.0)
        w.assign(v.astype("float32"))


@pytest.mark.parametrize("case", FAMILY_CASES)
def test_weights_file_round_trip(case, tmp_path):
    # VGG's 4096-wide top would only add 100 MB of file traffic.
    kwargs = {"include_top": False, "pooling": "max"} if case == "VGG16" \
        else {"classes": 7}
    model = _build(case, **kwargs)
    _randomize(model)
    x = _images(case)
    want = model.predict(x, verbose=0)
    assert want.shape == ((2, 512) if case == "VGG16" else (2, 7))
    path = str(tmp_path / f"{case}.weights.h5")
    model.save_weights(path)
    # A weights path is accepted by the constructor, as in Keras. (Zero
    # kernels before loading: any weight the file failed to fill shows.)
    with zero_init():
        again = _build(case, weights=path, **kwargs)
    np.testing.assert_allclose(again.predict(x, verbose=0), want,
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", ["MobileNetV3Small", "EfficientNetV2B0",
                                  "NASNetMobile"])
def test_config_round_trip(case):
    model = _build(case, classes=5)
    config = model.get_config()
    # Plain JSON, as written into a `.keras` file.
    config = json.loads(json.dumps(config))
    clone = gkeras.Model.from_config(config)
    assert [l.name for l in clone.layers] == [l.name for l in model.layers]
    assert _counts(clone) == _counts(model)
    clone.set_weights(model.get_weights())
    x = _images(case)
    np.testing.assert_allclose(clone.predict(x, verbose=0),
                               model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def _keras_save_round_trip(model, x, tmp_path):
    want = model.predict(x, verbose=0)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = gkeras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), want,
                               rtol=1e-5, atol=1e-6)
    return loaded


def test_keras_file_round_trip_convnext(tmp_path):
    """ConvNeXt: LayerScale, StochasticDepth (defined in the convnext
    module, written under Keras's module name) and `inputs + x` op nodes,
    loaded under safe mode."""
    gkeras.backend.clear_session()
    # ConvNeXtTiny's architecture with stochastic depth (the public
    # constructors build it with drop_path_rate=0, as Keras's do).
    model = A.convnext.ConvNeXt(
        depths=[3, 3, 9, 3], projection_dims=[96, 192, 384, 768],
        drop_path_rate=0.1, name="convnext_tiny", include_top=False,
        pooling="avg", input_shape=(32, 32, 3))
    _randomize(model)
    cfg = {l["name"]: l for l in model.get_config()["layers"]}
    scale = cfg["convnext_tiny_stage_0_block_0_layer_scale"]
    assert scale["module"] == "keras.src.applications.convnext"
    assert scale["class_name"] == "LayerScale"
    assert scale["registered_name"] == "LayerScale"
    assert scale["config"]["projection_dim"] == 96
    depth = cfg["convnext_tiny_stage_3_block_2_stochastic_depth"]
    assert depth["class_name"] == "StochasticDepth"
    assert 0 < depth["config"]["drop_path_rate"] <= 0.1
    adds = [l for l in cfg.values() if l["class_name"] == "Add" and
            l["module"] == "keras.src.ops.numpy"]
    assert len(adds) == 18  # one residual per block: 3 + 3 + 9 + 3
    loaded = _keras_save_round_trip(model, _images("ConvNeXtTiny"),
                                    tmp_path)
    layer = loaded.get_layer("convnext_tiny_stage_0_block_0_layer_scale")
    assert type(layer) is A.convnext.LayerScale


def test_keras_file_round_trip_mobilenet_v3_and_efficientnet(tmp_path):
    """MobileNetV3's hard-sigmoid (`x + 3.0`, `* (1/6)` op nodes) and
    EfficientNet's Rescaling/Normalization preprocessing."""
    for case in ("MobileNetV3Small", "EfficientNetB0"):
        model = _build(case, classes=4)
        _randomize(model)
        loaded = _keras_save_round_trip(model, _images(case), tmp_path)
        assert [l.name for l in loaded.layers] == \
            [l.name for l in model.layers]
        # The loaded model saves again: same config, op nodes included.
        assert json.dumps(loaded.get_config()) == \
            json.dumps(model.get_config())


def test_stochastic_depth_and_layer_scale_layers():
    from gkeras.applications.convnext import LayerScale, StochasticDepth
    x = np.random.default_rng(0).normal(size=(64, 3, 3, 4)).astype(
        "float32")
    layer = StochasticDepth(0.25)
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    out = np.asarray(layer(x, training=True))
    kept = np.array([np.allclose(o, xi / 0.75, rtol=1e-6) for o, xi in
                     zip(out, x)])
    dropped = np.array([not o.any() for o in out])
    assert (kept | dropped).all() and kept.any() and dropped.any()
    assert StochasticDepth.from_config(layer.get_config()).drop_path_rate \
        == 0.25
    scale = LayerScale(0.5, 4)
    np.testing.assert_allclose(np.asarray(scale(x)), x * 0.5, rtol=1e-6)
    assert [tuple(w.shape) for w in scale.weights] == [(4,)]
    cfg = scale.get_config()
    assert cfg["init_values"] == 0.5 and cfg["projection_dim"] == 4


@pytest.mark.parametrize("module", sorted(RECORDED["_preprocess"]))
def test_preprocess_input_matches_keras(module):
    rec = RECORDED["_preprocess"][module]
    x = (np.arange(2 * 2 * 3 * 3, dtype="float64").reshape(2, 2, 3, 3)
         * 7.0 % 256.0).astype("float32")
    mod = getattr(A, module)
    np.testing.assert_allclose(mod.preprocess_input(x.copy()),
                               np.array(rec["channels_last"]), rtol=1e-6,
                               atol=1e-5)
    np.testing.assert_allclose(
        mod.preprocess_input(x.transpose(0, 3, 1, 2).copy(),
                             data_format="channels_first"),
        np.array(rec["channels_first"]), rtol=1e-6, atol=1e-5)
    # Tensors (as a model's input pipeline passes them) give the same.
    t = gkeras.ops.convert_to_tensor(x.copy())
    np.testing.assert_allclose(
        gkeras.ops.convert_to_numpy(mod.preprocess_input(t)),
        np.array(rec["channels_last"]), rtol=1e-6, atol=1e-5)


def test_keras2_module_paths():
    import importlib
    for name in ("resnet50", "vgg16", "vgg19", "resnet", "resnet_v2",
                 "mobilenet", "mobilenet_v2", "mobilenet_v3", "densenet",
                 "inception_v3", "inception_resnet_v2", "xception",
                 "efficientnet", "efficientnet_v2", "convnext", "nasnet",
                 "imagenet_utils"):
        mod = importlib.import_module(f"gkeras.applications.{name}")
        assert callable(mod.preprocess_input) and \
            callable(mod.decode_predictions), name
    assert A.resnet50.ResNet50 is A.ResNet50
    assert A.efficientnet.EfficientNetB3 is A.EfficientNetB3
    assert A.vgg19.VGG19 is A.VGG19


# -- weights="imagenet": the download path --------------------------------

class _Server:
    """http.server on 127.0.0.1 serving `root`, counting requests."""

    def __init__(self, root):
        self.requests = []
        outer = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.requests.append(self.path)
                super().do_GET()

        handler = functools.partial(Handler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _closed_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _legacy_weights_file(model, path):
    """A weights file in the Keras-2 HDF5 layout the published ImageNet
    files use."""
    import h5py
    from gkeras.saving import legacy_h5
    with h5py.File(path, "w") as f:
        legacy_h5.write_weights_group(f, model)


def test_imagenet_weights_download_from_mirror(tmp_path, monkeypatch):
    from gkeras.applications import efficientnet, imagenet_utils
    from gkeras.utils.file_utils import hash_file
    monkeypatch.setenv("GKERAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    gkeras.backend.clear_session()
    source = A.EfficientNetB0(weights=None, include_top=False,
                              input_shape=(32, 32, 3))
    _randomize(source)
    served = tmp_path / "mirror"
    served.mkdir()
    fname = "efficientnetb0_notop.h5"
    _legacy_weights_file(source, str(served / fname))
    # The mirror stands in for storage.googleapis.com/keras-applications:
    # Keras's published hash does not match our stand-in file, so the
    # download is refused and nothing lands in the cache.
    server = _Server(served)
    try:
        monkeypatch.setenv(imagenet_utils.BASE_URL_ENV, server.url)
        with pytest.raises(ValueError, match="hash"):
            A.EfficientNetB0(weights="imagenet", include_top=False,
                             input_shape=(32, 32, 3))
        cached = tmp_path / "home" / "models" / fname
        assert not cached.exists()
        assert server.requests == ["/" + fname]
        # With the stand-in's own hash the download is checked and used.
        top_hash, _ = efficientnet.WEIGHTS_HASHES["b0"]
        monkeypatch.setitem(efficientnet.WEIGHTS_HASHES, "b0",
                            (top_hash, hash_file(str(served / fname))))
        gkeras.backend.clear_session()
        model = A.EfficientNetB0(weights="imagenet", include_top=False,
                                 input_shape=(32, 32, 3))
        # As in Keras, the ImageNet variant rescales by the ImageNet
        # channel stddevs after the Normalization: one more (weightless)
        # layer, the same weights in the same order.
        assert len(model.layers) == len(source.layers) + 1
        got = model.get_weights()
        assert len(got) == len(source.weights)
        for a, b in zip(got, source.get_weights()):
            np.testing.assert_array_equal(a, b)
        assert cached.exists()
        # The cached copy is used without touching the network.
        gkeras.backend.clear_session()
        A.EfficientNetB0(weights="imagenet", include_top=False,
                         input_shape=(32, 32, 3))
        assert len(server.requests) == 2
    finally:
        server.close()


def test_imagenet_weights_offline_error_says_what_to_do(tmp_path,
                                                        monkeypatch):
    from gkeras.applications import imagenet_utils
    monkeypatch.setenv("GKERAS_HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv(imagenet_utils.BASE_URL_ENV, _closed_url())
    with pytest.raises(FileNotFoundError) as err:
        A.ConvNeXtTiny(weights="imagenet", include_top=False,
                       input_shape=(32, 32, 3))
    msg = str(err.value)
    fname = "convnext_tiny_notop.h5"
    assert os.path.join(str(tmp_path), "models", fname) in msg
    assert "https://storage.googleapis.com/tensorflow/keras-applications/" \
        f"convnext/{fname}" in msg
    assert f"weights='/path/to/{fname}'" in msg
    assert imagenet_utils.BASE_URL_ENV in msg


def test_keras_cache_copy_is_used(tmp_path, monkeypatch):
    """A weights file already in Keras's own cache (`~/.keras/models`)
    is used as is."""
    from gkeras.applications import imagenet_utils
    monkeypatch.setenv("GKERAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv(imagenet_utils.BASE_URL_ENV, _closed_url())
    gkeras.backend.clear_session()
    source = A.MobileNetV2(weights=None, include_top=False, alpha=0.35,
                           input_shape=(96, 96, 3))
    _randomize(source)
    folder = tmp_path / "keras_home" / "models"
    folder.mkdir(parents=True)
    _legacy_weights_file(
        source, str(folder / "mobilenet_v2_weights_tf_dim_ordering_tf_"
                    "kernels_0.35_96_no_top.h5"))
    gkeras.backend.clear_session()
    model = A.MobileNetV2(weights="imagenet", include_top=False,
                          alpha=0.35, input_shape=(96, 96, 3))
    x = np.random.default_rng(3).uniform(-1, 1, (1, 96, 96, 3)).astype(
        "float32")
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               source.predict(x, verbose=0), rtol=1e-5,
                               atol=1e-6)


def test_argument_errors():
    with pytest.raises(ValueError, match="weights"):
        A.DenseNet121(weights="/no/such/file.h5")
    with pytest.raises(ValueError, match="classes"):
        A.EfficientNetV2B0(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="at least 75x75"):
        A.InceptionV3(weights=None, input_shape=(64, 64, 3),
                      include_top=False)
    with pytest.raises(ValueError, match="alpha"):
        A.MobileNet(weights="imagenet", alpha=0.3)
    with pytest.raises(ValueError, match="classifier_activation"):
        A.ConvNeXtTiny(weights="imagenet", classifier_activation="relu")


def test_input_tensor_and_transfer_learning():
    """The issue's workflow: a frozen headless base on an existing tensor,
    a new head, one epoch of `fit`: only the head's weights move."""
    from gkeras import layers
    gkeras.backend.clear_session()
    inp = layers.Input((32, 32, 3))
    x = layers.Rescaling(1.0 / 255)(inp)
    base = A.EfficientNetB0(input_tensor=x, weights=None,
                            include_top=False, pooling="avg")
    assert base.inputs[0] is inp
    assert base.layers[1].name == "rescaling"
    base.trainable = False
    out = layers.Dense(3, activation="softmax")(base.output)
    model = gkeras.Model(inp, out)
    assert len(model.trainable_weights) == 2
    before = [w.numpy().copy() for w in base.weights]
    head = model.layers[-1].kernel.numpy().copy()
    rng = np.random.default_rng(0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(rng.uniform(0, 255, (8, 32, 32, 3)).astype("float32"),
              rng.integers(0, 3, 8), epochs=1, batch_size=4, verbose=0)
    for a, w in zip(before, base.weights):
        np.testing.assert_array_equal(a, w.numpy())
    assert not np.allclose(head, model.layers[-1].kernel.numpy())
