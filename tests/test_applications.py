"""gkeras.applications: architectures, parameter counts, preprocessing."""

import numpy as np
import pytest

import gkeras
from gkeras import layers

_NEEDED = ("Conv2D", "MaxPooling2D", "GlobalAveragePooling2D",
           "GlobalMaxPooling2D", "ZeroPadding2D", "DepthwiseConv2D",
           "BatchNormalization", "Add", "Activation")
_MISSING = [n for n in _NEEDED if not hasattr(layers, n)]
needs_layers = pytest.mark.skipif(
    bool(_MISSING), reason=f"layers not available yet: {_MISSING}")

from gkeras import applications as apps  # noqa: E402


@needs_layers
@pytest.mark.parametrize("fn,kwargs,expected", [
    # Keras's published counts.
    # VGG16 with the top at 224x224 is 138,357,544: the same model at
    # 32x32 differs only in fc1's input (512 instead of 7*7*512 = 25088);
    # building it that way keeps the test fast (no 100M-weight fc1).
    ("VGG16", {"input_shape": (32, 32, 3)}, 138_357_544 - 24_576 * 4096),
    ("VGG16", {"include_top": False}, 14_714_688),
    ("VGG19", {"include_top": False}, 20_024_384),
    ("ResNet50", {}, 25_636_712),
    ("ResNet50", {"include_top": False}, 23_587_712),
    ("MobileNetV2", {}, 3_538_984),
    ("MobileNetV2", {"include_top": False}, 2_257_984),
])
def test_parameter_counts_equal_keras(fn, kwargs, expected):
    gkeras.backend.clear_session()
    model = getattr(apps, fn)(weights=None, **kwargs)
    assert model.count_params() == expected


@needs_layers
def test_layer_names_and_shapes():
    m = apps.ResNet50(weights=None, include_top=False,
                      input_shape=(64, 64, 3), pooling="avg")
    names = [l.name for l in m.layers]
    assert names[1:6] == ["conv1_pad", "conv1_conv", "conv1_bn",
                          "conv1_relu", "pool1_pad"]
    assert "conv5_block3_out" in names and names[-1] == "avg_pool"
    assert m.output_shape == (None, 2048)
    w = [v.path for v in m.get_layer("conv2_block1_0_bn").weights]
    assert [p.split("/")[-1] for p in w] == ["gamma", "beta", "moving_mean",
                                             "moving_variance"]
    v = apps.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    assert v.output_shape == (None, 1, 1, 512)
    assert v.layers[-1].name == "block5_pool"


@needs_layers
def test_tiny_forward_and_weights_round_trip(tmp_path):
    m = apps.MobileNetV2(weights=None, include_top=True, classes=3,
                         input_shape=(32, 32, 3))
    assert m.name == "mobilenetv2_1.00_32"
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype(
        "float32")
    p = m.predict(apps.mobilenet_v2.preprocess_input(x), verbose=0)
    assert p.shape == (2, 3)
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-5)
    path = str(tmp_path / "mnv2.weights.h5")
    m.save_weights(path)
    m2 = apps.MobileNetV2(weights=path, include_top=True, classes=3,
                          input_shape=(32, 32, 3))
    np.testing.assert_allclose(m2.predict(apps.mobilenet_v2.preprocess_input(
        x), verbose=0), p, rtol=1e-5, atol=1e-6)


@needs_layers
def test_imagenet_weights_missing_gives_url_and_path(tmp_path, monkeypatch):
    monkeypatch.setenv("GKERAS_HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    # A closed local port: the download fails at once, without network.
    monkeypatch.setenv("GKERAS_APPLICATIONS_BASE_URL", _closed_url())
    with pytest.raises(FileNotFoundError) as e:
        apps.VGG16(weights="imagenet", include_top=False,
                   input_shape=(32, 32, 3))
    msg = str(e.value)
    assert "https://storage.googleapis.com/tensorflow/keras-applications/" \
        "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in msg
    assert str(tmp_path) in msg


def _closed_url():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def test_argument_errors():
    with pytest.raises(ValueError, match="classes"):
        apps.VGG16(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="weights"):
        apps.ResNet50(weights="no_such_file.h5")
    with pytest.raises(ValueError, match="at least 32"):
        apps.VGG16(weights=None, include_top=False, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="224, 224, 3"):
        apps.ResNet50(weights="imagenet", input_shape=(64, 64, 3))


def test_preprocess_input_modes():
    x = np.random.default_rng(1).uniform(0, 255, (2, 4, 4, 3))
    got = apps.vgg16.preprocess_input(x.copy())
    ref = x[..., ::-1] - np.array([103.939, 116.779, 123.68])
    np.testing.assert_allclose(got, ref, rtol=1e-6)
    np.testing.assert_allclose(apps.resnet50.preprocess_input(x.copy()), ref,
                               rtol=1e-6)
    np.testing.assert_allclose(apps.mobilenet_v2.preprocess_input(x.copy()),
                               x / 127.5 - 1, rtol=1e-6)
    xc = x.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(
        apps.vgg16.preprocess_input(xc.copy(), data_format="channels_first"),
        ref.transpose(0, 3, 1, 2), rtol=1e-6)


def test_decode_predictions(tmp_path, monkeypatch):
    import json
    from gkeras.applications import imagenet_utils as iu
    with pytest.raises(ValueError, match="shape"):
        iu.decode_predictions(np.zeros((2, 10)))
    monkeypatch.setenv("GKERAS_HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(iu, "CLASS_INDEX", None)
    monkeypatch.setattr(iu, "CLASS_INDEX_PATH",
                        _closed_url() + iu.CLASS_INDEX_FILE)
    shipped = __import__("os").path.exists(__import__("os").path.join(
        __import__("os").path.dirname(iu.__file__), "data",
        iu.CLASS_INDEX_FILE))
    if not shipped:
        with pytest.raises(FileNotFoundError, match="imagenet_class_index"):
            iu.decode_predictions(np.zeros((1, 1000)))
        (tmp_path / "models").mkdir(exist_ok=True)
        index = tmp_path / "models" / iu.CLASS_INDEX_FILE
        index.write_text(json.dumps(
            {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}))
        # A stand-in index: the hash check must accept it.
        from gkeras.utils.file_utils import hash_file
        monkeypatch.setattr(iu, "CLASS_INDEX_HASH",
                            hash_file(str(index), "md5"))
    preds = np.zeros((1, 1000))
    preds[0, [7, 3]] = [0.9, 0.05]
    out = apps.vgg16.decode_predictions(preds, top=2)
    assert [float(r[2]) for r in out[0]] == [0.9, 0.05]
    assert out[0][0][0] == ("n00000007" if not shipped else out[0][0][0])
