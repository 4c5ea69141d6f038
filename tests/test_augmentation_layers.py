"""Keras 3's image augmentation layers against Keras 3.15's recorded
outputs with fixed factors and its configs (JAX backend,
tests/fixtures/keras_ops/augmentation_keras315.npz and
augmentation_configs_keras315.json, made by
make_augmentation_fixtures.py); random layers by their defining
properties and independent NumPy references."""

import json
import os

import numpy as np
import pytest

import gkeras
from gkeras import layers as L

HERE = os.path.join(os.path.dirname(__file__), "fixtures", "keras_ops")
FIX = np.load(os.path.join(HERE, "augmentation_keras315.npz"))
with open(os.path.join(HERE, "augmentation_configs_keras315.json")) as f:
    CONFIGS = json.load(f)
IMG, UNIT = FIX["in_img"], FIX["in_unit"]

CFIMG = np.transpose(IMG, (0, 3, 1, 2))
CF = dict(data_format="channels_first")
CASES = {
    "cf_degen": (lambda: L.RandomColorDegeneration((0.4, 0.4), **CF),
                 CFIMG),
    "cf_sat": (lambda: L.RandomSaturation((0.7, 0.7), **CF), CFIMG),
    "cf_gray": (lambda: L.RandomGrayscale(1.0, **CF), CFIMG),
    "cf_equalize": (lambda: L.Equalization(**CF), np.round(CFIMG * 0.4)),
    "cf_blur": (lambda: L.RandomGaussianBlur((1.0, 1.0), sigma=(0.7, 0.7),
                                             **CF), CFIMG),
    "solarize": (lambda: L.Solarization(), IMG),
    "solarize_unit": (lambda: L.Solarization(value_range=(0, 1)), UNIT),
    "invert": (lambda: L.RandomInvert(factor=(1.0, 1.0)), IMG),
    "invert_unit": (lambda: L.RandomInvert(factor=(1.0, 1.0),
                                           value_range=(0, 1)), UNIT),
    "gray": (lambda: L.RandomGrayscale(factor=1.0), IMG),
    "degen": (lambda: L.RandomColorDegeneration((0.7, 0.7)), IMG),
    "sat_low": (lambda: L.RandomSaturation((0.3, 0.3)), IMG),
    "sat_high": (lambda: L.RandomSaturation((0.8, 0.8)), UNIT),
    "poster": (lambda: L.RandomPosterization((3, 3)), IMG),
    "poster_unit": (lambda: L.RandomPosterization((5, 5),
                                                  value_range=(0, 1)), UNIT),
    "sharp": (lambda: L.RandomSharpness((0.2, 0.2)), IMG),
    "sharp_cf": (lambda: L.RandomSharpness(
        (0.9, 0.9), data_format="channels_first"),
        np.transpose(IMG, (0, 3, 1, 2))),
    "autocontrast": (lambda: L.AutoContrast(), IMG * 0.5 + 20),
    "autocontrast_unit": (lambda: L.AutoContrast(value_range=(0, 1)),
                          UNIT * 0.3 + 0.2),
    "equalize": (lambda: L.Equalization(), np.round(IMG * 0.4)),
    "equalize_unit": (lambda: L.Equalization(value_range=(0, 1), bins=64),
                      UNIT),
    "blur": (lambda: L.RandomGaussianBlur(factor=(1.0, 1.0), kernel_size=3,
                                          sigma=(0.6, 0.6)), IMG),
    "blur_5": (lambda: L.RandomGaussianBlur(factor=(1.0, 1.0),
                                            kernel_size=5,
                                            sigma=(0.9, 0.9)), IMG),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_keras_with_fixed_factors(name):
    make, x = CASES[name]
    y = np.asarray(make()(x, training=True))
    ref = FIX["out_" + name]
    assert y.shape == ref.shape and y.dtype == ref.dtype
    tol = 1e-5 * max(1.0, float(np.abs(ref).max()))
    if name.startswith("equalize"):
        # A pixel at a bin edge may fall in the neighbouring bin when the
        # float32 scaling rounds differently: allow a few such pixels.
        bad = np.abs(y - ref) > tol
        assert bad.mean() < 0.02, bad.mean()
    else:
        np.testing.assert_allclose(y, ref, atol=max(tol, 2e-3), rtol=1e-5)


def test_random_hue_matches_keras_up_to_the_random_sign():
    layer = L.RandomHue((0.3, 0.3), seed=1)
    ref = FIX["out_hue"]
    shifted = {}
    for sign in (1, -1):
        t = {"factor": np.full(len(IMG), sign * 0.15)}
        shifted[sign] = np.asarray(layer.transform_images(
            gkeras.ops.convert_to_tensor(IMG), t))
    for i in range(len(IMG)):
        assert min(np.abs(shifted[s][i] - ref[i]).max() for s in (1, -1)) \
            < 2e-2
    y = np.asarray(layer(IMG[0], training=True))
    assert y.shape == FIX["out_hue_single"].shape


@pytest.mark.parametrize("cls", sorted(CONFIGS))
def test_configs_match_keras(cls):
    args = CONFIGS[cls]["args"]
    ref = CONFIGS[cls]["config"]
    if "kwargs" in CONFIGS[cls]:
        layer = getattr(L, cls)(**CONFIGS[cls]["kwargs"])
    elif cls in ("AutoContrast", "Equalization"):
        layer = getattr(L, cls)()
    else:
        layer = getattr(L, cls)(*args, seed=3)
    cfg = layer.get_config()
    cfg.pop("dtype")
    ref = {**ref, "name": cfg["name"]}
    assert json.loads(json.dumps(cfg)) == ref
    clone = getattr(L, cls).from_config(layer.get_config())
    assert json.loads(json.dumps(clone.get_config())) == json.loads(
        json.dumps(layer.get_config()))


def test_inference_leaves_images_alone():
    for layer in (L.RandomHue(0.5), L.RandomInvert(), L.Solarization(0.5),
                  L.MixUp(), L.CutMix(), L.RandomErasing(),
                  L.RandomGaussianBlur()):
        np.testing.assert_array_equal(
            np.asarray(layer(IMG, training=False)), IMG)
    # AutoContrast is not random: it applies at inference too.
    assert not np.allclose(np.asarray(L.AutoContrast()(IMG * 0.5,
                                                       training=False)),
                           IMG * 0.5)


def test_seeded_layers_repeat():
    for make in (lambda: L.RandomHue(0.4, seed=5),
                 lambda: L.RandomErasing(seed=5),
                 lambda: L.CutMix(seed=5), lambda: L.MixUp(seed=5)):
        a = np.asarray(make()(IMG, training=True))
        b = np.asarray(make()(IMG, training=True))
        np.testing.assert_array_equal(a, b)


def test_mixup_images_and_labels():
    layer = L.MixUp(alpha=0.4, seed=2)
    labels = np.eye(3, dtype="float32")
    t = layer.get_random_transformation(IMG.shape, np.random.default_rng(0))
    w, p = t["mix_weight"], t["permutation_order"]
    x = gkeras.ops.convert_to_tensor(IMG)
    y = np.asarray(layer.transform_images(x, t))
    ref = w[:, None, None, None] * IMG + (1 - w[:, None, None, None]) * \
        IMG[p]
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-3)
    lab = np.asarray(layer.transform_labels(
        gkeras.ops.convert_to_tensor(labels), t))
    np.testing.assert_allclose(lab, w[:, None] * labels +
                               (1 - w[:, None]) * labels[p], atol=1e-6)
    out = layer({"images": IMG, "labels": labels}, training=True)
    np.testing.assert_allclose(np.asarray(out["labels"]).sum(1), 1,
                               atol=1e-6)


def test_cutmix_boxes_and_label_weights():
    layer = L.CutMix(seed=4)
    x = np.stack([np.full((7, 9, 3), float(i)) for i in range(3)]).astype(
        "float32")
    labels = np.eye(3, dtype="float32")
    out = layer({"images": x, "labels": labels}, training=True)
    y, lab = np.asarray(out["images"]), np.asarray(out["labels"])
    for i in range(3):
        kept = (y[i] == i).mean()
        # The label keeps the area of the image left in place.
        if (y[i] != i).any():
            other = int(np.unique(y[i][y[i] != i])[0])
            assert abs(lab[i, i] - kept) < 0.12 and lab[i, other] > 0
        mask = y[i, :, :, 0] != i
        if mask.any():
            rows, cols = np.where(mask)
            # One rectangle.
            assert mask[rows.min():rows.max() + 1,
                        cols.min():cols.max() + 1].all()
    single = np.asarray(layer(x[0], training=True))
    np.testing.assert_array_equal(single, x[0])


def test_random_erasing_fills_one_box():
    # factor=1.0 means a probability drawn from [0, 1) (Keras); (1, 1) is
    # "always".
    layer = L.RandomErasing(factor=(1.0, 1.0), scale=(0.2, 0.3),
                            fill_value=7.0,
                            seed=1)
    x = np.full((4, 10, 10, 3), 100.0, "float32")
    y = np.asarray(layer(x, training=True))
    for i in range(4):
        mask = y[i, :, :, 0] == 7.0
        assert mask.any() and set(np.unique(y[i])) <= {7.0, 100.0}
        rows, cols = np.where(mask)
        assert mask[rows.min():rows.max() + 1,
                    cols.min():cols.max() + 1].all()
        assert 0.02 <= mask.mean() <= 0.4
    noisy = np.asarray(L.RandomErasing(seed=2)(x, training=True))
    assert noisy.min() >= 0 and noisy.max() <= 255


def test_dict_inputs_and_errors():
    out = L.RandomInvert(factor=(1.0, 1.0))({"images": IMG,
                                              "labels": np.ones(3)},
                                             training=True)
    np.testing.assert_allclose(np.asarray(out["images"]), 255 - IMG,
                               atol=1e-4)
    with pytest.raises(NotImplementedError, match="bounding_boxes"):
        L.RandomInvert()({"images": IMG, "bounding_boxes": {}})
    with pytest.raises(ValueError, match="factor"):
        L.RandomHue(1.5)
    with pytest.raises(ValueError, match="value_range"):
        L.AutoContrast(value_range=5)
    with pytest.raises(ValueError, match="rank 3 or 4"):
        L.RandomInvert()(np.ones((2, 3)))


def test_in_a_model_fit_runs_augmentation_only_in_training():
    model = gkeras.Sequential([
        gkeras.Input((7, 9, 3)), L.RandomSaturation(0.3, seed=1),
        L.RandomSharpness(0.3, seed=1), L.MixUp(seed=1),
        gkeras.layers.Flatten(), gkeras.layers.Dense(2)])
    model.compile("adam", "mse")
    model.fit(IMG, np.zeros((3, 2)), epochs=1, verbose=0)
    a = model.predict(IMG, verbose=0)
    b = model.predict(IMG, verbose=0)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name,kw", [
    ("shear_x", dict(x_factor=(0.3, 0.3), fill_mode="constant",
                     fill_value=9.0)),
    ("shear_y", dict(y_factor=(0.2, 0.2), interpolation="nearest")),
])
def test_random_shear_matches_keras_up_to_the_random_sign(name, kw):
    layer = L.RandomShear(**kw)
    ref = FIX["out_" + name]
    x = gkeras.ops.convert_to_tensor(IMG)
    fx = kw.get("x_factor", (0, 0))[0]
    fy = kw.get("y_factor", (0, 0))[0]
    outs = [np.asarray(layer.transform_images(x, {"shear_factor": np.tile(
        [[s * fx, s * fy]], (len(IMG), 1))})) for s in (1, -1)]
    for i in range(len(IMG)):
        assert min(np.abs(o[i] - ref[i]).max() for o in outs) < 1e-2


def test_random_perspective_and_elastic_properties():
    x = IMG
    same = L.RandomPerspective(scale=0.0, seed=1)(x, training=True)
    np.testing.assert_allclose(np.asarray(same), x, atol=1e-3)
    warped = np.asarray(L.RandomPerspective(factor=(1.0, 1.0), scale=0.5,
                                            seed=1)(x, training=True))
    assert warped.shape == x.shape and not np.allclose(warped, x)
    el = L.RandomElasticTransform(factor=(1.0, 1.0), scale=0.5, seed=1)
    y = np.asarray(el(x, training=True))
    assert y.shape == x.shape and not np.allclose(y, x)
    assert y.min() >= 0 and y.max() <= 255
    none = L.RandomElasticTransform(scale=0.0, seed=1)
    np.testing.assert_array_equal(np.asarray(none(x, training=True)), x)


def test_composite_layers_properties():
    x = IMG
    jitter = L.RandomColorJitter(brightness_factor=0.2, contrast_factor=0.3,
                                 saturation_factor=0.4, hue_factor=0.1,
                                 seed=1)
    y = np.asarray(jitter(x, training=True))
    assert y.shape == x.shape and 0 <= y.min() and y.max() <= 255
    assert not np.allclose(y, x)
    for layer in (L.RandAugment(seed=1), L.AugMix(seed=1),
                  L.AugMix(all_ops=False, chain_depth=1, seed=2)):
        y = np.asarray(layer(x, training=True))
        assert y.shape == x.shape and y.dtype == np.float32
        assert 0 <= y.min() and y.max() <= 255
        np.testing.assert_array_equal(np.asarray(layer(x, training=False)),
                                      x)
    # RandAugment applies exactly the drawn operations, in order.
    ra = L.RandAugment(num_ops=2, factor=0.5, seed=4)
    t = {"layer_idxes": np.array([9, 10])}  # auto_contrast, equalization
    got = np.asarray(ra.transform_images(gkeras.ops.convert_to_tensor(x),
                                         t))
    ref = np.asarray(L.Equalization()(L.AutoContrast()(x), training=True))
    np.testing.assert_allclose(got, ref, atol=1e-3)
    # AugMix with weight_sample 1 returns the original image.
    am = L.AugMix(seed=1)
    t = am.get_random_transformation(x.shape, np.random.default_rng(0))
    t["weight_sample"] = 1.0
    np.testing.assert_allclose(np.asarray(am.transform_images(
        gkeras.ops.convert_to_tensor(x), t)), x, atol=1e-3)


def test_max_num_bounding_boxes_matches_keras_semantics():
    layer = L.MaxNumBoundingBoxes(3, bounding_box_format="xyxy")
    out = layer({"images": IMG[:1], "bounding_boxes": {
        "boxes": np.ones((1, 1, 4), "float32"),
        "labels": np.ones((1, 1), "float32")}})
    np.testing.assert_array_equal(np.asarray(out["bounding_boxes"]["boxes"]),
                                  [[[1, 1, 1, 1], [-1] * 4, [-1] * 4]])
    np.testing.assert_array_equal(
        np.asarray(out["bounding_boxes"]["labels"]), [[1, -1, -1]])
    np.testing.assert_array_equal(np.asarray(out["images"]), IMG[:1])
    out = L.MaxNumBoundingBoxes(1, bounding_box_format="xyxy")(
        {"images": IMG[:1], "bounding_boxes": {
            "boxes": np.arange(8, dtype="float32").reshape(1, 2, 4),
            "labels": np.array([[5.0, 6.0]], "float32")}})
    np.testing.assert_array_equal(
        np.asarray(out["bounding_boxes"]["labels"]), [[5.0]])
    with pytest.raises(ValueError, match="bounding box format"):
        L.MaxNumBoundingBoxes(2)({"images": IMG, "bounding_boxes": {
            "boxes": np.ones((3, 1, 4)), "labels": np.ones((3, 1))}})


def test_clahe_matches_keras():
    clahe = L.ContrastLimitedAdaptiveHistogramEqualization
    cases = {
        "clahe": (clahe(tile_grid_size=(2, 3)), IMG),
        "clahe_unit": (clahe(value_range=(0, 1), clip_limit=2.0,
                             tile_grid_size=(4, 4)), UNIT),
        "clahe_noclip_cf": (clahe(clip_limit=0, tile_grid_size=(3, 3),
                                  data_format="channels_first"),
                            np.transpose(IMG, (0, 3, 1, 2))),
    }
    for name, (layer, x) in cases.items():
        y = np.asarray(layer(x))
        ref = FIX["out_" + name]
        assert y.shape == ref.shape and y.dtype == ref.dtype
        scale = 1.0 if name == "clahe_unit" else 255.0
        np.testing.assert_allclose(y, ref, atol=2e-3 * scale, err_msg=name)


def test_equalization_keeps_single_level_channels():
    x = np.full((2, 4, 4, 3), 77.0, "float32")
    np.testing.assert_array_equal(
        np.asarray(L.Equalization()(x, training=True)), x)


def test_autocontrast_channels_first_is_per_channel():
    # Keras 3.15 reduces over axes (1, 2) whatever the data_format, which
    # for channels_first mixes channels and rows (its recorded output,
    # out_cf_autocontrast, differs); gkeras stretches each channel over
    # its own spatial axes in both layouts.
    x = IMG * 0.5 + 20
    last = np.asarray(L.AutoContrast()(x))
    first = np.asarray(L.AutoContrast(data_format="channels_first")(
        np.transpose(x, (0, 3, 1, 2))))
    np.testing.assert_allclose(np.transpose(first, (0, 2, 3, 1)), last,
                               atol=1e-3)
    np.testing.assert_allclose(last, FIX["out_autocontrast"], atol=2e-3)


def test_autocontrast_keeps_constant_channels():
    x = np.full((1, 4, 4, 3), 7.0, "float32")
    x[..., 1] = np.arange(16).reshape(4, 4)
    y = np.asarray(L.AutoContrast()(x))
    np.testing.assert_array_equal(y[..., 0], 7.0)
    np.testing.assert_allclose(y[0, :, :, 1].ravel(),
                               np.arange(16) * 17.0, atol=1e-4)
