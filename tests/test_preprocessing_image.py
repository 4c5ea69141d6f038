"""Image preprocessing and augmentation layers: NumPy float64 references,
Keras config round trips, saving, shapes/dtypes, training-only randomness
and error messages."""

import numpy as np
import pytest

import gkeras
from gkeras import layers
from harness import run_layer_test

RNG = np.random.default_rng(0)
X = RNG.uniform(0, 255, (2, 7, 9, 3)).astype("float32")


# -- float64 references (independent of the code under test) -------------

def ref_resize(img, oh, ow, method):
    """Half-pixel-centre resize of an (h, w, c) image, per output pixel."""
    img = img.astype(np.float64)
    h, w = img.shape[:2]
    out = np.zeros((oh, ow, img.shape[2]))
    for i in range(oh):
        for j in range(ow):
            y, x = (i + 0.5) * h / oh, (j + 0.5) * w / ow
            if method == "nearest":
                out[i, j] = img[min(int(np.floor(y)), h - 1),
                                min(int(np.floor(x)), w - 1)]
                continue
            y = min(max(y - 0.5, 0), h - 1)
            x = min(max(x - 0.5, 0), w - 1)
            y0, x0 = int(np.floor(y)), int(np.floor(x))
            y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
            fy, fx = y - y0, x - x0
            out[i, j] = ((1 - fy) * (1 - fx) * img[y0, x0]
                         + (1 - fy) * fx * img[y0, x1]
                         + fy * (1 - fx) * img[y1, x0]
                         + fy * fx * img[y1, x1])
    return out


def _fill_index(k, n, mode):
    if 0 <= k < n:
        return k
    if mode == "nearest":
        return min(max(k, 0), n - 1)
    if mode == "wrap":
        return k % n
    if mode == "reflect":
        k = k % (2 * n)
        return k if k < n else 2 * n - 1 - k
    return None  # constant


def ref_affine(img, fn, mode, cval=0.0, order=1):
    """Output pixel (i, j) samples input at fn(i, j) = (row, col)."""
    img = img.astype(np.float64)
    h, w, c = img.shape
    out = np.zeros_like(img)

    def px(r, q):
        r, q = _fill_index(r, h, mode), _fill_index(q, w, mode)
        return np.full(c, cval) if r is None or q is None else img[r, q]
    for i in range(h):
        for j in range(w):
            y, x = fn(i, j)
            if order == 0:
                out[i, j] = px(int(np.floor(y + 0.5)), int(np.floor(x + 0.5)))
                continue
            y0, x0 = int(np.floor(y)), int(np.floor(x))
            fy, fx = y - y0, x - x0
            out[i, j] = ((1 - fy) * (1 - fx) * px(y0, x0)
                         + (1 - fy) * fx * px(y0, x0 + 1)
                         + fy * (1 - fx) * px(y0 + 1, x0)
                         + fy * fx * px(y0 + 1, x0 + 1))
    return out


def np_(t):
    return np.asarray(t)


def _lists(v):
    if isinstance(v, dict):
        return {k: _lists(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_lists(x) for x in v]
    return v


# -- Rescaling ------------------------------------------------------------

def test_rescaling_values_and_contract():
    out = run_layer_test(layers.Rescaling, {"scale": 1 / 127.5,
                                            "offset": -1.0},
                         input_data=X, expected_output_shape=X.shape,
                         expected_output=X / 127.5 - 1.0, atol=1e-5)
    assert out.get_config()["scale"] == 1 / 127.5
    y = layers.Rescaling(0.5)(X.astype("uint8"))
    assert y.dtype == "float32"
    np.testing.assert_allclose(np_(y), X.astype("uint8") * 0.5)
    y = layers.Rescaling([1.0, 2.0, 3.0])(X)
    np.testing.assert_allclose(np_(y), X * np.array([1.0, 2.0, 3.0]),
                               rtol=1e-6)
    with pytest.raises(ValueError, match="Rescaling.*scale"):
        layers.Rescaling("big")


def test_rescaling_config_keys():
    cfg = layers.Rescaling(2.0, 1.0).get_config()
    assert {"scale", "offset", "name", "dtype", "trainable"} <= set(cfg)


# -- Resizing ------------------------------------------------------------

@pytest.mark.parametrize("size", [(4, 5), (13, 4), (7, 9), (1, 1)])
@pytest.mark.parametrize("method", ["bilinear", "nearest"])
def test_resizing_matches_reference(size, method):
    y = np_(layers.Resizing(*size, interpolation=method)(X))
    assert y.shape == (2,) + size + (3,) and y.dtype == np.float32
    for b in range(2):
        np.testing.assert_allclose(y[b], ref_resize(X[b], *size, method),
                                   atol=1e-3)


def test_resizing_layouts_and_dtypes():
    ref = ref_resize(X[0], 4, 5, "bilinear")
    y3 = np_(layers.Resizing(4, 5)(X[0]))
    np.testing.assert_allclose(y3, ref, atol=1e-3)
    cf = np_(layers.Resizing(4, 5, data_format="channels_first")(
        X.transpose(0, 3, 1, 2)))
    assert cf.shape == (2, 3, 4, 5)
    np.testing.assert_allclose(cf[0].transpose(1, 2, 0), ref, atol=1e-3)
    xi = X.astype("uint8")
    yi = np_(layers.Resizing(4, 5)(xi))
    assert yi.dtype == np.uint8
    np.testing.assert_allclose(yi[0], np.round(ref_resize(xi[0], 4, 5,
                                                          "bilinear")),
                               atol=1)


def test_resizing_crop_and_pad_to_aspect_ratio():
    y = np_(layers.Resizing(5, 5, crop_to_aspect_ratio=True)(X))
    # 7x9 -> centred 7x7 window starting at column 1.
    np.testing.assert_allclose(y[0], ref_resize(X[0, :, 1:8], 5, 5,
                                                "bilinear"), atol=1e-3)
    y = np_(layers.Resizing(5, 5, pad_to_aspect_ratio=True,
                            fill_value=3.0)(X))
    padded = np.full((9, 9, 3), 3.0)
    padded[1:8] = X[0]
    np.testing.assert_allclose(y[0], ref_resize(padded, 5, 5, "bilinear"),
                               atol=1e-3)


def test_resizing_contract_and_config():
    run_layer_test(layers.Resizing, {"height": 4, "width": 6},
                   input_data=X, expected_output_shape=(2, 4, 6, 3))
    cfg = layers.Resizing(4, 6).get_config()
    for k, v in {"height": 4, "width": 6, "interpolation": "bilinear",
                 "crop_to_aspect_ratio": False, "pad_to_aspect_ratio": False,
                 "fill_mode": "constant", "fill_value": 0.0,
                 "antialias": False, "data_format": "channels_last"}.items():
        assert cfg[k] == v


def test_resizing_errors():
    # bicubic/lanczos3/lanczos5 go through ops.image.resize (compared with
    # Keras in test_ops_image.py); "area" is not a Keras 3 resize method.
    with pytest.raises(NotImplementedError, match="area"):
        layers.Resizing(4, 4, interpolation="area")
    with pytest.raises(ValueError, match="Resizing.*interpolation"):
        layers.Resizing(4, 4, interpolation="cubic-ish")
    with pytest.raises(ValueError, match="Resizing.*height"):
        layers.Resizing(0, 4)
    with pytest.raises(ValueError, match="only one of"):
        layers.Resizing(4, 4, crop_to_aspect_ratio=True,
                        pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="fill_mode"):
        layers.Resizing(4, 4, fill_mode="reflect")
    with pytest.raises(ValueError, match="rank"):
        layers.Resizing(4, 4)(np.zeros((4, 4)))


def test_resizing_gradient_flows():
    inp = gkeras.Input((7, 9, 3))
    y = layers.Dense(1)(layers.Flatten()(layers.Resizing(3, 3)(inp)))
    model = gkeras.Model(inp, y)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(X / 255.0, np.zeros((2, 1)), epochs=1, verbose=0)


# -- CenterCrop ----------------------------------------------------------

def test_center_crop():
    y = np_(layers.CenterCrop(3, 4)(X))
    np.testing.assert_array_equal(y, X[:, 2:5, 2:6])
    y = np_(layers.CenterCrop(3, 4)(X[0].astype("uint8")))
    assert y.dtype == np.float32 and y.shape == (3, 4, 3)
    cf = np_(layers.CenterCrop(3, 4, data_format="channels_first")(
        X.transpose(0, 3, 1, 2)))
    np.testing.assert_array_equal(cf, X[:, 2:5, 2:6].transpose(0, 3, 1, 2))
    # Smaller than the target: crop to aspect ratio, then resize.
    y = np_(layers.CenterCrop(10, 4)(X))
    np.testing.assert_allclose(y[1], ref_resize(X[1, :, 3:5], 10, 4,
                                                "bilinear"), atol=1e-3)
    run_layer_test(layers.CenterCrop, {"height": 3, "width": 4},
                   input_data=X, expected_output_shape=(2, 3, 4, 3))
    assert layers.CenterCrop(3, 4).compute_output_shape((None, 7, 9, 3)) \
        == (None, 3, 4, 3)
    with pytest.raises(ValueError, match="CenterCrop.*width"):
        layers.CenterCrop(3, -1)


# -- random layers: shared contract -------------------------------------

RANDOM_LAYERS = [
    (layers.RandomFlip, {"mode": "horizontal", "seed": 1}),
    (layers.RandomRotation, {"factor": 0.2, "seed": 1}),
    (layers.RandomZoom, {"height_factor": 0.3, "width_factor": (-0.2, 0.1),
                         "seed": 1}),
    (layers.RandomTranslation, {"height_factor": 0.2, "width_factor": 0.3,
                                "seed": 1, "fill_mode": "constant"}),
    (layers.RandomContrast, {"factor": 0.5, "seed": 1}),
    (layers.RandomBrightness, {"factor": 0.3, "seed": 1}),
    (layers.RandomCrop, {"height": 5, "width": 6, "seed": 1}),
]


@pytest.mark.parametrize("cls,kw", RANDOM_LAYERS,
                         ids=[c.__name__ for c, _ in RANDOM_LAYERS])
def test_random_layer_inference_identity_and_seeding(cls, kw):
    layer = cls(**kw)
    np.testing.assert_array_equal(np_(layer(X)), X)
    np.testing.assert_array_equal(np_(layer(X, training=False)), X)
    a = np_(cls(**kw)(X, training=True))
    b = np_(cls(**kw)(X, training=True))
    np.testing.assert_array_equal(a, b)  # same seed, same draw
    layer = cls(**kw)
    big = RNG.uniform(0, 255, (16, 7, 9, 3)).astype("float32")
    first, second = np_(layer(big, training=True)), \
        np_(layer(big, training=True))
    assert not np.array_equal(first, second)  # the stream advances
    assert first.dtype == np.float32
    # Config round trip: equal config, and the clone draws the same.
    cfg = cls(**kw).get_config()
    clone = cls.from_config(cfg)
    assert clone.get_config() == cfg
    np.testing.assert_array_equal(np_(clone(X, training=True)), a)


@pytest.mark.parametrize("cls,kw", RANDOM_LAYERS,
                         ids=[c.__name__ for c, _ in RANDOM_LAYERS])
def test_random_layer_shapes(cls, kw):
    cf = dict(kw, data_format="channels_first")
    crop = cls is layers.RandomCrop
    y = np_(cls(**kw)(X[0], training=True))
    assert y.shape == ((5, 6, 3) if crop else X[0].shape)
    y = np_(cls(**cf)(X.transpose(0, 3, 1, 2), training=True))
    assert y.shape == ((2, 3, 5, 6) if crop else (2, 3, 7, 9))
    sym = cls(**kw)(gkeras.Input((7, 9, 3)))
    assert tuple(sym.shape) == ((None, 5, 6, 3) if crop else (None, 7, 9, 3))


@pytest.mark.parametrize("ext", [".keras", ".h5"])
def test_saving_model_with_preprocessing(tmp_path, ext):
    pytest.importorskip("h5py")
    model = gkeras.Sequential([
        gkeras.Input((7, 9, 3)),
        layers.Rescaling(1 / 255.0),
        layers.RandomFlip(seed=3),
        layers.RandomRotation((-0.1, 0.2), fill_mode="nearest", seed=3),
        layers.RandomZoom(0.1, seed=3),
        layers.RandomTranslation(0.1, 0.1, seed=3),
        layers.RandomContrast(0.2, value_range=(0, 1), seed=3),
        layers.RandomBrightness(0.1, value_range=(0, 1), seed=3),
        layers.RandomCrop(6, 8, seed=3),
        layers.Resizing(5, 6, interpolation="nearest"),
        layers.CenterCrop(4, 4),
        layers.Flatten(), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, np.zeros((2, 2)), epochs=1, verbose=0)
    path = str(tmp_path / ("m" + ext))
    model.save(path)
    loaded = gkeras.models.load_model(path)
    np.testing.assert_allclose(np_(loaded.predict(X, verbose=0)),
                               np_(model.predict(X, verbose=0)), atol=1e-5)
    for a, b in zip(model.layers, loaded.layers):
        # JSON turns tuples into lists (as in Keras).
        assert type(a) is type(b)
        assert _lists(a.get_config()) == _lists(b.get_config())

    inp = gkeras.Input((7, 9, 3))
    out = layers.Resizing(3, 3, crop_to_aspect_ratio=True)(
        layers.CenterCrop(6, 8)(inp))
    func = gkeras.Model(inp, out)
    fpath = str(tmp_path / ("f" + ext))
    func.save(fpath)
    np.testing.assert_allclose(
        np_(gkeras.models.load_model(fpath).predict(X, verbose=0)),
        np_(func.predict(X, verbose=0)), atol=1e-5)


# -- per-layer behaviour ---------------------------------------------------

def test_random_flip_modes():
    x = np.arange(2 * 3 * 4).reshape(1, 3, 4, 2).astype("float32")
    x = np.repeat(x, 32, axis=0)
    for mode, axes in (("horizontal", (2,)), ("vertical", (1,)),
                       ("horizontal_and_vertical", (1, 2))):
        y = np_(layers.RandomFlip(mode, seed=4)(x, training=True))
        flipped = np.flip(x[0], axis=tuple(a - 1 for a in axes))
        kinds = [np.array_equal(yi, flipped) for yi in y]
        assert all(k or np.array_equal(yi, x[0]) for k, yi in zip(kinds, y))
        assert 0 < sum(kinds) < len(kinds)
    with pytest.raises(ValueError, match="RandomFlip.*mode"):
        layers.RandomFlip("diagonal")
    assert layers.RandomFlip().get_config()["mode"] == \
        "horizontal_and_vertical"


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant",
                                       "nearest"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_random_rotation_matches_reference(fill_mode, interpolation):
    turn = 0.1
    layer = layers.RandomRotation((turn, turn), fill_mode=fill_mode,
                                  interpolation=interpolation,
                                  fill_value=7.0)
    y = np_(layer(X[0], training=True))
    h, w = X.shape[1:3]
    t = 2 * np.pi * turn
    cy, cx = (h - 1) / 2, (w - 1) / 2

    def fn(i, j):
        return (np.cos(t) * (i - cy) + np.sin(t) * (j - cx) + cy,
                -np.sin(t) * (i - cy) + np.cos(t) * (j - cx) + cx)
    order = 0 if interpolation == "nearest" else 1
    np.testing.assert_allclose(y, ref_affine(X[0], fn, fill_mode, 7.0,
                                             order), atol=2e-3)


def test_random_zoom_and_translation_match_reference():
    h, w = X.shape[1:3]
    y = np_(layers.RandomZoom((0.3, 0.3), (-0.2, -0.2),
                              fill_mode="constant")(X, training=True))

    def zoom(i, j):
        return (1.3 * (i - (h - 1) / 2) + (h - 1) / 2,
                0.8 * (j - (w - 1) / 2) + (w - 1) / 2)
    np.testing.assert_allclose(y[1], ref_affine(X[1], zoom, "constant"),
                               atol=2e-3)
    y = np_(layers.RandomTranslation((0.2, 0.2), (-0.3, -0.3),
                                     fill_mode="wrap")(X, training=True))
    np.testing.assert_allclose(
        y[0], ref_affine(X[0], lambda i, j: (i - 0.2 * h, j + 0.3 * w),
                         "wrap"), atol=2e-3)
    cfg = layers.RandomZoom(0.2).get_config()
    assert cfg["width_factor"] is None and cfg["fill_mode"] == "reflect"


def test_geometric_errors():
    with pytest.raises(NotImplementedError, match="mirror"):
        layers.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(NotImplementedError, match="bicubic"):
        layers.RandomZoom(0.1, interpolation="bicubic")
    with pytest.raises(ValueError, match="RandomRotation.*factor"):
        layers.RandomRotation(1.5)
    with pytest.raises(ValueError, match="RandomZoom.*height_factor"):
        layers.RandomZoom(-1.0)
    with pytest.raises(ValueError, match="RandomTranslation.*width_factor"):
        layers.RandomTranslation(0.1, (0.1, 0.2, 0.3))
    assert layers.RandomRotation(0.1).get_config()["factor"] == (-0.1, 0.1)


def test_random_contrast_formula_and_range():
    layer = layers.RandomContrast((0.2, 0.4), seed=5)
    assert layer.get_config()["factor"] == (0.2, 0.4)
    x = RNG.uniform(0, 255, (8, 5, 6, 3)).astype("float64")
    y = np_(layer(x, training=True)).astype(np.float64)
    mean = x.mean(axis=(1, 2), keepdims=True)
    for b in range(len(x)):
        # Recover the per-image factor, then check every pixel with it.
        dev = x[b] - mean[b]
        inside = (y[b] > 1e-3) & (y[b] < 255 - 1e-3) & (np.abs(dev) > 1)
        c = np.median((y[b] - mean[b])[inside] / dev[inside])
        assert 0.8 - 1e-4 <= c <= 1.4 + 1e-4
        np.testing.assert_allclose(y[b], np.clip(dev * c + mean[b], 0, 255),
                                   atol=1e-2)
    assert y.min() >= 0 and y.max() <= 255
    # Keras 3 stores a scalar factor f as (0, f).
    assert layers.RandomContrast(0.3).get_config()["factor"] == (0, 0.3)
    with pytest.raises(ValueError, match="RandomContrast.*factor"):
        layers.RandomContrast(1.5)
    xi = X.astype("uint8")
    assert np_(layers.RandomContrast(0.3)(xi)).dtype == np.uint8


def test_random_brightness_formula_and_range():
    layer = layers.RandomBrightness((-0.2, 0.4), value_range=(0, 1),
                                    seed=5)
    x = RNG.uniform(0, 1, (8, 5, 6, 3)).astype("float32")
    y = np_(layer(x, training=True)).astype(np.float64)
    for b in range(len(x)):
        inside = (y[b] > 1e-6) & (y[b] < 1 - 1e-6)
        deltas = (y[b] - x[b])[inside]
        assert np.ptp(deltas) < 1e-5  # one shift per image
        assert -0.2 - 1e-5 <= deltas[0] <= 0.4 + 1e-5
    assert y.min() >= 0 and y.max() <= 1
    cfg = layers.RandomBrightness(0.1, value_range=(255, 0)).get_config()
    assert cfg["value_range"] == [0, 255] and cfg["factor"] == (-0.1, 0.1)
    yi = np_(layers.RandomBrightness(0.5, seed=2)(X.astype("uint8"),
                                                  training=True))
    assert yi.dtype == np.uint8
    with pytest.raises(ValueError, match="RandomBrightness.*value_range"):
        layers.RandomBrightness(0.1, value_range=(0, 1, 2))
    with pytest.raises(ValueError, match="RandomBrightness.*factor"):
        layers.RandomBrightness("x")


def test_random_crop_windows():
    layer = layers.RandomCrop(5, 6, seed=7)
    y = np_(layer(X, training=True))
    found = [(t, l) for t in range(3) for l in range(4)
             if np.array_equal(y, X[:, t:t + 5, l:l + 6])]
    assert len(found) == 1
    # Not larger than the target: deterministic window + resize.
    y = np_(layers.RandomCrop(7, 5)(X, training=True))
    np.testing.assert_array_equal(y, X[:, :, 2:7])
    y = np_(layers.RandomCrop(8, 8)(X, training=True))
    np.testing.assert_allclose(y[0], ref_resize(X[0, 0:8, 1:9], 8, 8,
                                                "bilinear"), atol=1e-3)
    # seed=None draws one and records it, so the config reproduces it.
    assert isinstance(layers.RandomCrop(3, 3).get_config()["seed"], int)
    with pytest.raises(ValueError, match="RandomCrop.*height"):
        layers.RandomCrop(2.5, 3)
