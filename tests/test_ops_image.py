"""`gkeras.ops.image` against Keras 3.15's recorded outputs (JAX backend,
tests/fixtures/keras_ops/image_ops_keras315.npz, made by
make_image_fixtures.py beside it), NumPy float64 references and
finite-difference gradients."""

import os

import numpy as np
import pytest

from gkeras import ops
from gkeras.ops import image as I

FIX = np.load(os.path.join(os.path.dirname(__file__), "fixtures",
                           "keras_ops", "image_ops_keras315.npz"))
IMG = FIX["in_img"]


def close(name, y, atol=2e-5):
    ref = FIX["out_" + name]
    y = np.asarray(y)
    assert y.shape == ref.shape, (name, y.shape, ref.shape)
    assert y.dtype == ref.dtype, (name, y.dtype, ref.dtype)
    np.testing.assert_allclose(y.astype(np.float64), ref.astype(np.float64),
                               atol=atol, rtol=1e-5, err_msg=name)


def test_names_match_keras():
    assert sorted(I.__all__) == sorted([
        "affine_transform", "crop_images", "elastic_transform",
        "extract_patches", "extract_patches_3d", "gaussian_blur",
        "hsv_to_rgb", "map_coordinates", "pad_images",
        "perspective_transform", "resize", "rgb_to_grayscale", "rgb_to_hsv",
        "scale_and_translate", "sobel_edges", "ssim"])
    assert ops.image is I


@pytest.mark.parametrize("interp", ["bilinear", "nearest", "bicubic",
                                    "lanczos3", "lanczos5"])
@pytest.mark.parametrize("aa", [False, True])
@pytest.mark.parametrize("size", [(5, 6), (14, 17)])
def test_resize_matches_keras(interp, aa, size):
    close(f"resize_{interp}_{int(aa)}_{size[0]}x{size[1]}",
          I.resize(IMG, size, interpolation=interp, antialias=aa))


def test_resize_options_match_keras():
    # Float32 sums round differently at .5 ties: one grey level.
    close("resize_u8_bilinear", I.resize(FIX["in_img_u8"], (6, 13)), 1)
    close("resize_crop", I.resize(IMG, (4, 4), crop_to_aspect_ratio=True))
    close("resize_pad", I.resize(IMG, (4, 4), pad_to_aspect_ratio=True,
                                 fill_value=0.5))
    close("resize_cf", I.resize(np.transpose(IMG, (0, 3, 1, 2)), (5, 4),
                                data_format="channels_first"))
    close("resize_unbatched", I.resize(IMG[0], (7, 5),
                                       interpolation="bicubic"))


@pytest.mark.parametrize("m", ["linear", "cubic", "lanczos3"])
def test_scale_and_translate_matches_keras(m):
    close(f"sat_{m}", I.scale_and_translate(
        IMG, (2, 12, 8, 3), scale=[1.3, 0.7], translation=[0.5, -1.0],
        spatial_dims=(1, 2), method=m, antialias=True))


def test_color_matches_keras():
    close("gray", I.rgb_to_grayscale(IMG))
    close("hsv", I.rgb_to_hsv(IMG))
    close("rgb", I.hsv_to_rgb(IMG))
    np.testing.assert_allclose(
        np.asarray(I.hsv_to_rgb(I.rgb_to_hsv(IMG))), IMG, atol=1e-5)


@pytest.mark.parametrize("interp", ["bilinear", "nearest"])
@pytest.mark.parametrize("mode", ["constant", "nearest", "wrap", "mirror",
                                  "reflect"])
def test_affine_transform_matches_keras(interp, mode):
    close(f"affine_{interp}_{mode}", I.affine_transform(
        IMG, FIX["in_transforms"], interpolation=interp, fill_mode=mode,
        fill_value=0.25), 1e-4)


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("mode", ["constant", "nearest", "wrap", "mirror",
                                  "reflect"])
def test_map_coordinates_matches_keras(order, mode):
    close(f"mapc_{order}_{mode}", I.map_coordinates(
        IMG[0, :, :, 0], FIX["in_coords"], order, fill_mode=mode,
        fill_value=-1.0))


@pytest.mark.parametrize("interp", ["bilinear", "nearest"])
def test_perspective_transform_matches_keras(interp):
    close(f"persp_{interp}", I.perspective_transform(
        IMG, FIX["in_sp"], FIX["in_ep"], interpolation=interp,
        fill_value=0.5), 1e-4)


def test_filters_match_keras():
    close("blur_3", I.gaussian_blur(IMG, (3, 3), (1.0, 1.0)))
    close("blur_54", I.gaussian_blur(IMG, (5, 4), (1.5, 0.7)))
    close("sobel", I.sobel_edges(IMG))
    close("ssim", I.ssim(FIX["in_big"], FIX["in_big2"]))


def test_patches_crop_pad_match_keras():
    close("patches_2", I.extract_patches(IMG, 2))
    close("patches_same", I.extract_patches(IMG, (3, 2), strides=(2, 3),
                                            padding="same"))
    close("patches_dil", I.extract_patches(IMG, 2, strides=1,
                                           dilation_rate=2))
    close("patches_3d", I.extract_patches_3d(FIX["in_vol"], (2, 2, 3)))
    close("pad", I.pad_images(IMG, 1, 2, target_height=12, target_width=15))
    close("crop", I.crop_images(IMG, 1, 2, bottom_cropping=3,
                                right_cropping=1))


# -- gradients (float64 finite differences) ---------------------------------
from harness import check_grad  # noqa: E402

SMALL = np.random.default_rng(3).random((1, 5, 6, 2))
# Values that put no sample exactly on a pixel (a kink of bilinear).
T = np.array([0.913, 0.147, 0.731, -0.117, 1.093, 0.419, 0, 0])


@pytest.mark.parametrize("fn", [
    lambda x: I.resize(x, (7, 4), interpolation="bicubic", antialias=True),
    lambda x: I.resize(x, (3, 9), interpolation="nearest"),
    lambda x: I.rgb_to_grayscale(ops.concatenate([x, x[..., :1]], -1)),
    lambda x: I.hsv_to_rgb(ops.concatenate([x, x[..., :1]], -1)),
    lambda x: I.gaussian_blur(x, (3, 3), (1.0, 0.8)),
    lambda x: I.sobel_edges(x),
    lambda x: I.extract_patches(x, 2, strides=1),
    lambda x: I.crop_images(x, 1, 1, target_height=3, target_width=3),
    lambda x: I.pad_images(x, 1, 0, 1, 2),
    lambda x: I.scale_and_translate(x, (1, 4, 8, 2), [0.8, 1.4],
                                    [0.2, -0.3], (1, 2), "lanczos3"),
])
def test_image_op_gradients(fn):
    check_grad(fn, SMALL)


@pytest.mark.parametrize("mode", ["constant", "reflect", "wrap"])
def test_affine_transform_gradient_wrt_image_and_transform(mode):
    check_grad(lambda x, t: I.affine_transform(x, t, fill_mode=mode,
                                               fill_value=0.3),
               SMALL, T, atol=1e-5)


def test_map_coordinates_gradient_wrt_input_and_coordinates():
    # Coordinates away from integers: the linear weights are smooth there.
    c = np.array([[0.3, 2.6, 4.2], [1.4, 0.7, 5.5]])
    check_grad(lambda x, k: I.map_coordinates(x, k, 1, "mirror"),
               SMALL[0, :, :, 0], c)


def test_rgb_to_hsv_gradient():
    x = np.random.default_rng(4).uniform(0.1, 0.9, (4, 4, 3))
    check_grad(lambda a: I.rgb_to_hsv(a), x, atol=1e-5)


def test_ssim_gradient_and_identity():
    a = np.random.default_rng(5).random((1, 12, 12, 1))
    b = np.clip(a + 0.05, 0, 1)
    check_grad(lambda u, v: I.ssim(u, v, filter_size=5), a, b, atol=1e-5)
    np.testing.assert_allclose(np.asarray(I.ssim(a, a)), [1.0], atol=1e-6)


# -- elastic_transform: random, so checked by its defining properties ------
def test_elastic_transform_properties():
    x = FIX["in_big"]
    assert np.array_equal(np.asarray(I.elastic_transform(x, alpha=0.0,
                                                         seed=1)), x)
    y1 = np.asarray(I.elastic_transform(x, alpha=5.0, sigma=2.0, seed=7))
    y2 = np.asarray(I.elastic_transform(x, alpha=5.0, sigma=2.0, seed=7))
    y3 = np.asarray(I.elastic_transform(x, alpha=5.0, sigma=2.0, seed=8))
    assert y1.shape == x.shape and y1.dtype == x.dtype
    assert np.array_equal(y1, y2) and not np.array_equal(y1, y3)
    # "reflect" keeps the values inside the image's range.
    assert x.min() - 1e-6 <= y1.min() and y1.max() <= x.max() + 1e-6
    assert 0 < np.abs(y1 - x).mean() < 0.5


# -- symbolic use, bad input ------------------------------------------------
def test_symbolic_shapes():
    import gkeras
    inp = gkeras.Input((9, 11, 3))
    assert I.resize(inp, (4, 5)).shape == (None, 4, 5, 3)
    assert I.extract_patches(inp, 3).shape == (None, 3, 3, 27)
    assert I.rgb_to_grayscale(inp).shape == (None, 9, 11, 1)
    assert I.sobel_edges(inp).shape == (None, 9, 11, 3, 2)


def test_bad_input_errors():
    with pytest.raises(ValueError, match="interpolation"):
        I.resize(IMG, (4, 4), interpolation="area")
    with pytest.raises(ValueError, match="rank"):
        I.resize(IMG[0, :, :, 0], (4, 4))
    with pytest.raises(ValueError, match="fill_mode"):
        I.affine_transform(IMG, T, fill_mode="edge")
    with pytest.raises(ValueError, match="exactly two"):
        I.pad_images(IMG, 1, 1)
    with pytest.raises(ValueError, match="First dim of `coordinates`"):
        I.map_coordinates(IMG, FIX["in_coords"], 1)
    with pytest.raises(ValueError, match="start_points"):
        I.perspective_transform(IMG, np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="float dtype"):
        I.rgb_to_hsv(FIX["in_img_u8"])


def test_resizing_layer_goes_through_ops_image_resize():
    import gkeras
    for interp in ("bicubic", "lanczos3"):
        layer = gkeras.layers.Resizing(5, 6, interpolation=interp,
                                       antialias=True)
        close(f"resize_{interp}_1_5x6", layer(IMG))
        assert layer.get_config()["antialias"] is True
    with pytest.raises(NotImplementedError, match="area"):
        gkeras.layers.Resizing(5, 6, interpolation="area")


def test_channels_first_matches_keras():
    cf = FIX["in_img_cf"]
    kw = dict(data_format="channels_first")
    close("cf_affine", I.affine_transform(cf, FIX["in_transforms"],
                                          fill_mode="wrap", **kw), 1e-4)
    close("cf_persp", I.perspective_transform(cf, FIX["in_sp"], FIX["in_ep"],
                                              **kw), 1e-4)
    close("cf_blur", I.gaussian_blur(cf, (3, 5), (1.2, 0.8), **kw))
    close("cf_sobel", I.sobel_edges(cf, **kw))
    close("cf_patches", I.extract_patches(cf, (2, 3), strides=(3, 2), **kw))
    close("cf_hsv", I.rgb_to_hsv(cf, **kw))
    close("cf_gray", I.rgb_to_grayscale(cf, **kw))
    close("cf_pad", I.pad_images(cf, 1, 2, 0, 1, **kw))
    close("cf_crop", I.crop_images(cf, 1, 2, target_height=5, target_width=6,
                                   **kw))
    close("cf_ssim", I.ssim(np.transpose(FIX["in_big"], (0, 3, 1, 2)),
                            np.transpose(FIX["in_big2"], (0, 3, 1, 2)),
                            **kw))


def test_perspective_transform_gradient_wrt_image_and_points():
    sp = np.array([[[0.1, 0.2], [5.3, 0.1], [0.2, 4.1], [5.2, 4.3]]])
    ep = np.array([[[0.4, 0.1], [5.1, 0.3], [0.1, 4.2], [4.9, 4.05]]])
    check_grad(lambda x, a, b: I.perspective_transform(x, a, b), SMALL,
               sp, ep, atol=1e-5)
    # The homography maps each end corner onto its start corner.
    m = np.asarray(I.warp.compute_homography_matrix(sp, ep))[0]
    for (sx, sy), (ex, ey) in zip(sp[0], ep[0]):
        k = m[6] * ex + m[7] * ey + 1
        np.testing.assert_allclose([(m[0] * ex + m[1] * ey + m[2]) / k,
                                    (m[3] * ex + m[4] * ey + m[5]) / k],
                                   [sx, sy], atol=1e-9)
