"""ZeroPadding, Cropping, UpSampling and the noise/spatial-dropout layers."""

import numpy as np
import pytest

from gkeras import layers
from harness import check_grad, run_layer_test
from gkeras.layers.reshaping.up_sampling import _Resize2D

RNG = np.random.default_rng(5)


def test_zero_padding():
    x = RNG.standard_normal((2, 3, 4, 2)).astype(np.float32)
    y = np.asarray(layers.ZeroPadding2D(((1, 2), (0, 1)))(x))
    np.testing.assert_array_equal(
        y, np.pad(x, ((0, 0), (1, 2), (0, 1), (0, 0))))
    y = np.asarray(layers.ZeroPadding2D(1, data_format="channels_first")(x))
    np.testing.assert_array_equal(y, np.pad(x, ((0, 0), (0, 0), (1, 1),
                                                (1, 1))))
    x1 = x[..., 0]
    np.testing.assert_array_equal(np.asarray(layers.ZeroPadding1D((2, 1))(x1)),
                                  np.pad(x1, ((0, 0), (2, 1), (0, 0))))
    # Keras 3.15: ZeroPadding1D takes data_format too (and saves it).
    first = layers.ZeroPadding1D((2, 1), data_format="channels_first")
    np.testing.assert_array_equal(np.asarray(first(x1)),
                                  np.pad(x1, ((0, 0), (0, 0), (2, 1))))
    assert first.get_config()["data_format"] == "channels_first"
    x3 = x[:, None]
    np.testing.assert_array_equal(
        np.asarray(layers.ZeroPadding3D((1, 0, 2))(x3)),
        np.pad(x3, ((0, 0), (1, 1), (0, 0), (2, 2), (0, 0))))
    with pytest.raises(ValueError, match="padding"):
        layers.ZeroPadding2D((1, 2, 3))


def test_cropping():
    x = RNG.standard_normal((2, 6, 5, 3)).astype(np.float32)
    np.testing.assert_array_equal(
        np.asarray(layers.Cropping2D(((1, 2), (0, 1)))(x)), x[:, 1:4, 0:4])
    np.testing.assert_array_equal(
        np.asarray(layers.Cropping2D(1, data_format="channels_first")(x)),
        x[:, :, 1:4, 1:2])
    np.testing.assert_array_equal(np.asarray(layers.Cropping1D((1, 2))(
        x[..., 0])), x[:, 1:4, :, 0])
    x3 = RNG.standard_normal((2, 4, 5, 6, 2)).astype(np.float32)
    np.testing.assert_array_equal(
        np.asarray(layers.Cropping3D(((1, 0), (0, 2), (1, 1)))(x3)),
        x3[:, 1:, :3, 1:5])
    with pytest.raises(ValueError, match=r"crop_a.*leaves nothing"):
        layers.Cropping1D((3, 3), name="crop_a")(x[..., 0])


def test_upsampling_nearest():
    x = RNG.standard_normal((2, 3, 2, 4)).astype(np.float32)
    np.testing.assert_array_equal(
        np.asarray(layers.UpSampling2D((2, 3))(x)),
        x.repeat(2, axis=1).repeat(3, axis=2))
    np.testing.assert_array_equal(np.asarray(layers.UpSampling1D(3)(x[:, 0])),
                                  x[:, 0].repeat(3, axis=1))
    x3 = x[:, None]
    np.testing.assert_array_equal(
        np.asarray(layers.UpSampling3D((1, 2, 2))(x3)),
        x3.repeat(2, axis=2).repeat(2, axis=3))


def _ref_bilinear_1d(v, f):
    """Half-pixel centres, edge clamped, one axis (independent loop)."""
    n = len(v)
    out = []
    for i in range(n * f):
        p = min(max((i + 0.5) / f - 0.5, 0.0), n - 1.0)
        lo = int(np.floor(p))
        hi = min(lo + 1, n - 1)
        out.append(v[lo] * (1 - (p - lo)) + v[hi] * (p - lo))
    return np.array(out)


def test_upsampling_bilinear():
    x = RNG.standard_normal((1, 3, 4, 2))
    want = np.apply_along_axis(_ref_bilinear_1d, 1, x, 2)
    want = np.apply_along_axis(_ref_bilinear_1d, 2, want, 3)
    got = layers.UpSampling2D((2, 3), interpolation="bilinear")(
        x.astype(np.float32))
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-6)
    # Known values: [0, 1] upsampled by 2 -> [0, .25, .75, 1].
    y = layers.UpSampling2D((2, 1), interpolation="bilinear")(
        np.array([0.0, 1.0], np.float32).reshape(1, 2, 1, 1))
    np.testing.assert_allclose(np.asarray(y).ravel(), [0, .25, .75, 1])
    from gkeras.layers.reshaping.up_sampling import linear_resize_matrix
    wh, ww = linear_resize_matrix(3, 2, "float64"), linear_resize_matrix(
        2, 3, "float64")
    check_grad(lambda a: _Resize2D(wh, ww)(a), RNG.standard_normal(
        (2, 3, 2, 2)))
    # bicubic/lanczos go through ops.image.resize (checked against Keras
    # in test_ops_image.py), as Keras's UpSampling2D does.
    from gkeras.ops import image as image_ops
    x = RNG.standard_normal((2, 3, 4, 2)).astype("float32")
    for interp in ("bicubic", "lanczos3"):
        y = layers.UpSampling2D((2, 3), interpolation=interp)(x)
        np.testing.assert_array_equal(np.asarray(y), np.asarray(
            image_ops.resize(x, (6, 12), interpolation=interp)))
    with pytest.raises(NotImplementedError, match="area"):
        layers.UpSampling2D(interpolation="area")


def test_spatial_dropout_drops_whole_channels():
    x = np.ones((4, 6, 5, 8), np.float32)
    y = np.asarray(layers.SpatialDropout2D(0.5, seed=1)(x, training=True))
    per_channel = y.reshape(4, 30, 8)
    assert np.all(per_channel.min(1) == per_channel.max(1))
    assert set(np.unique(y)) <= {0.0, 2.0} and 0 < (y == 0).mean() < 1
    np.testing.assert_array_equal(
        np.asarray(layers.SpatialDropout1D(0.5)(x[:, 0])), x[:, 0])
    y = np.asarray(layers.SpatialDropout2D(
        0.5, data_format="channels_first", seed=2)(x, training=True))
    assert np.all(y.reshape(4, 6, 40).min(2) == y.reshape(4, 6, 40).max(2))
    y3 = np.asarray(layers.SpatialDropout3D(0.5, seed=3)(
        x[:, :2, :2, :2, None].repeat(8, -1), training=True))
    r = y3.reshape(4, 8, 8)
    assert np.all(r.min(1) == r.max(1))


def test_gaussian_layers_statistics():
    x = np.ones((200, 100), np.float32)
    y = np.asarray(layers.GaussianNoise(0.5, seed=0)(x, training=True))
    assert abs(y.mean() - 1) < 0.02 and abs(y.std() - 0.5) < 0.02
    y = np.asarray(layers.GaussianDropout(0.2, seed=0)(x, training=True))
    assert abs(y.mean() - 1) < 0.02 and abs(y.std() - 0.5) < 0.02
    np.testing.assert_array_equal(
        np.asarray(layers.GaussianNoise(0.5)(x[:2])), x[:2])


@pytest.mark.parametrize("cls,kwargs,shape,out", [
    (layers.ZeroPadding1D, {"padding": (1, 2)}, (2, 4, 3), (2, 7, 3)),
    (layers.ZeroPadding2D, {"padding": ((1, 2), (0, 1))}, (2, 3, 4, 2),
     (2, 6, 5, 2)),
    (layers.ZeroPadding3D, {"padding": 1}, (1, 2, 2, 2, 1), (1, 4, 4, 4, 1)),
    (layers.Cropping1D, {"cropping": (1, 2)}, (2, 6, 3), (2, 3, 3)),
    (layers.Cropping2D, {"cropping": ((1, 0), (2, 1))}, (2, 5, 6, 2),
     (2, 4, 3, 2)),
    (layers.Cropping3D, {"cropping": 1}, (1, 4, 4, 4, 2), (1, 2, 2, 2, 2)),
    (layers.UpSampling1D, {"size": 2}, (2, 3, 4), (2, 6, 4)),
    (layers.UpSampling2D, {"size": (2, 3), "interpolation": "bilinear"},
     (2, 3, 2, 4), (2, 6, 6, 4)),
    (layers.UpSampling3D, {"size": 2}, (1, 2, 2, 2, 1), (1, 4, 4, 4, 1)),
    (layers.SpatialDropout1D, {"rate": 0.3}, (2, 5, 3), (2, 5, 3)),
    (layers.SpatialDropout2D, {"rate": 0.3, "data_format": "channels_first"},
     (2, 3, 4, 4), (2, 3, 4, 4)),
    (layers.GaussianNoise, {"stddev": 0.1}, (2, 5), (2, 5)),
    (layers.GaussianDropout, {"rate": 0.1}, (2, 5), (2, 5)),
])
def test_layer_contract(cls, kwargs, shape, out):
    run_layer_test(cls, kwargs, input_shape=shape, expected_output_shape=out,
                   expected_num_trainable_weights=0)
