"""ImageDataGenerator, its transforms and the image utilities."""

import numpy as np
import pytest

pytest.importorskip("scipy")
PIL = pytest.importorskip("PIL")
from PIL import Image  # noqa: E402,F401  (PIL.Image below)

import gkeras  # noqa: E402
from gkeras import layers  # noqa: E402
from gkeras.preprocessing.image import (  # noqa: E402
    ImageDataGenerator, apply_affine_transform, apply_brightness_shift,
)
from gkeras.utils import (  # noqa: E402
    array_to_img, image_dataset_from_directory, img_to_array, load_img,
    save_img,
)

A = np.arange(16, dtype="float32").reshape(4, 4, 1)  # channels_last


def _apply(params, x=A, **kw):
    return ImageDataGenerator(**kw).apply_transform(x.copy(), params)


def test_rotation_90_matches_keras_geometry():
    # Keras rotates about (size/2 + 0.5) and reads the matrix in (col, row)
    # order: a 90-degree turn sends out[i, j] <- in[j, 5 - i] (clipped to
    # the border by fill_mode='nearest') on a 4x4 image.
    a = A[:, :, 0]
    expected = np.array([[a[j, min(5 - i, 3)] for j in range(4)]
                         for i in range(4)])
    got = _apply({"theta": 90})[:, :, 0]
    np.testing.assert_allclose(got, expected, atol=1e-4)
    # The rotated core equals numpy's rot90 shifted by the centre offset.
    np.testing.assert_allclose(got[2:], np.rot90(a)[:2], atol=1e-4)


def test_flips():
    np.testing.assert_array_equal(_apply({"flip_horizontal": True}),
                                  A[:, ::-1])
    np.testing.assert_array_equal(_apply({"flip_vertical": True}), A[::-1])
    x = A.transpose(2, 0, 1)
    got = ImageDataGenerator(data_format="channels_first").apply_transform(
        x, {"flip_horizontal": True})
    np.testing.assert_array_equal(got, x[:, :, ::-1])


def test_shifts_on_non_square_image():
    x = np.arange(15, dtype="float32").reshape(3, 5, 1)
    # tx moves along the columns and ty along the rows (Keras's convention).
    got = _apply({"tx": 1}, x)[:, :, 0]
    exp = x[:, np.minimum(np.arange(5) + 1, 4), 0]
    np.testing.assert_allclose(got, exp, atol=1e-4)
    got = _apply({"ty": 1}, x, fill_mode="constant", cval=-1)[:, :, 0]
    exp = np.vstack([x[1:, :, 0], np.full((1, 5), -1.0)])
    np.testing.assert_allclose(got, exp, atol=1e-4)


def _bilinear_sample(img, rows, cols):
    # Separable linear interpolation, clamped at the border.
    tmp = np.stack([np.interp(rows, np.arange(img.shape[0]), img[:, c])
                    for c in range(img.shape[1])], axis=1)
    return np.stack([np.interp(cols, np.arange(img.shape[1]), tmp[r])
                     for r in range(len(rows))])


def test_zoom_in_bilinear():
    a = np.random.default_rng(0).uniform(size=(4, 4)).astype("float32")
    got = _apply({"zx": 0.5, "zy": 0.5}, a[:, :, None])[:, :, 0]
    pos = 2.5 + 0.5 * (np.arange(4) - 2.5)  # centre (size/2 + 0.5)
    np.testing.assert_allclose(got, _bilinear_sample(a, pos, pos),
                               atol=1e-5)


def test_brightness_and_channel_shift():
    x = np.random.default_rng(1).uniform(0, 255, (4, 4, 3)).astype("float32")
    np.testing.assert_allclose(_apply({"brightness": 0.5}, x), x * 0.5,
                               rtol=1e-6)
    np.testing.assert_allclose(_apply({"brightness": 2.0}, x),
                               np.clip(2 * x, 0, 255), rtol=1e-6)
    np.testing.assert_allclose(
        _apply({"channel_shift_intensity": 30.0}, x),
        np.clip(x + 30, x.min(), x.max()), rtol=1e-6)
    # Outside 0-255: scaled to 0-255, multiplied, clipped, mapped back.
    y = np.linspace(-1, 1, 12, dtype="float32").reshape(2, 2, 3)
    ref = np.clip((y + 1) / 2 * 255 * 1.5, 0, 255) / 255 * 2 - 1
    np.testing.assert_allclose(apply_brightness_shift(y, 1.5, scale=False),
                               ref, atol=1e-5)


def test_apply_affine_transform_identity_and_bad_mode():
    assert apply_affine_transform(A, row_axis=0, col_axis=1,
                                  channel_axis=2) is A
    with pytest.raises(ValueError, match="fill_mode"):
        ImageDataGenerator(fill_mode="mirror")


def test_random_parameter_distributions():
    from scipy import stats
    gen = ImageDataGenerator(rotation_range=30, width_shift_range=0.2,
                             height_shift_range=3, zoom_range=0.2,
                             shear_range=10, horizontal_flip=True,
                             brightness_range=(0.5, 1.5),
                             channel_shift_range=5.0)
    np.random.seed(0)
    ps = [gen.get_random_transform((10, 20, 3)) for _ in range(3000)]

    def col(k):
        return np.array([p[k] for p in ps], dtype=float)

    for key, lo, hi in [("theta", -30, 30), ("ty", -4, 4), ("zx", 0.8, 1.2),
                        ("zy", 0.8, 1.2), ("shear", -10, 10),
                        ("brightness", 0.5, 1.5),
                        ("channel_shift_intensity", -5, 5)]:
        v = col(key)
        assert stats.kstest(v, "uniform", args=(lo, hi - lo)).pvalue > 1e-3, \
            key
    # int height_shift_range n: pixel values from range(n), random sign.
    tx = col("tx")
    assert set(np.unique(tx)) <= {-2, -1, 0, 1, 2}
    assert abs(tx.mean()) < 0.15
    assert abs(np.corrcoef(col("zx"), col("zy"))[0, 1]) < 0.1
    assert 0.45 < col("flip_horizontal").mean() < 0.55
    assert col("flip_vertical").sum() == 0


def test_seeded_transforms_are_reproducible():
    gen = ImageDataGenerator(rotation_range=40, zoom_range=0.3)
    x = np.random.default_rng(2).uniform(size=(8, 8, 3)).astype("float32")
    np.testing.assert_array_equal(gen.random_transform(x, seed=5),
                                  gen.random_transform(x, seed=5))
    X = np.random.default_rng(3).uniform(size=(10, 6, 6, 1)).astype(
        "float32")
    b1 = gen.flow(X, batch_size=4, seed=7)[1]
    b2 = gen.flow(X, batch_size=4, seed=7)[1]
    np.testing.assert_array_equal(b1, b2)


def test_featurewise_and_samplewise_standardize():
    X = np.random.default_rng(4).normal(3, 2, (50, 5, 5, 3)).astype(
        "float32")
    gen = ImageDataGenerator(featurewise_center=True,
                             featurewise_std_normalization=True, rescale=0.5)
    gen.fit(X)
    Xd = X.astype(np.float64) * 0.5
    mean = Xd.mean(axis=(0, 1, 2))
    std = Xd.std(axis=(0, 1, 2))
    np.testing.assert_allclose(gen.mean.ravel(), mean, rtol=1e-5)
    np.testing.assert_allclose(gen.standardize(X[0].copy()),
                               (Xd[0] - mean) / (std + 1e-6), rtol=1e-4,
                               atol=1e-5)
    with pytest.warns(UserWarning, match="samplewise_center"):
        gs = ImageDataGenerator(samplewise_std_normalization=True)
    x = X[1].astype(np.float64)
    np.testing.assert_allclose(gs.standardize(X[1].copy()),
                               (x - x.mean()) / (x.std() + 1e-6), rtol=1e-4,
                               atol=1e-5)
    pre = ImageDataGenerator(preprocessing_function=lambda im: im * 0 + 1,
                             rescale=3.0)
    np.testing.assert_array_equal(pre.standardize(X[0].copy()),
                                  np.full(X[0].shape, 3.0))


def test_zca_whitening_decorrelates():
    rng = np.random.default_rng(5)
    base = rng.normal(size=(400, 2, 2, 1))
    X = (base.reshape(400, 4) @ rng.normal(size=(4, 4))).reshape(
        400, 2, 2, 1).astype("float32")
    with pytest.warns(UserWarning, match="featurewise_center"):
        gen = ImageDataGenerator(zca_whitening=True, zca_epsilon=1e-9)
    gen.fit(X)
    white = np.stack([gen.standardize(x.copy()) for x in X]).reshape(400, 4)
    # float32 data and components: identity to ~1e-2.
    np.testing.assert_allclose(np.cov(white.T, bias=True), np.eye(4),
                               atol=1e-2)


def test_flow_errors_and_validation_split():
    gen = ImageDataGenerator(validation_split=0.25)
    with pytest.raises(ValueError, match="rank 4"):
        gen.flow(np.zeros((10, 8, 8), "float32"))
    with pytest.raises(ValueError, match="same length"):
        gen.flow(np.zeros((10, 8, 8, 1)), np.zeros(9))
    with pytest.raises(ValueError, match="rank 4"):
        gen.fit(np.zeros((10, 8, 8)))
    X = np.arange(20, dtype="float32").reshape(20, 1, 1, 1)
    y = np.tile([0, 1], 10)
    val = gen.flow(X, y, batch_size=100, shuffle=False, subset="validation")
    tr = gen.flow(X, y, batch_size=100, shuffle=False, subset="training")
    np.testing.assert_array_equal(val[0][0].ravel(), np.arange(5))
    np.testing.assert_array_equal(tr[0][0].ravel(), np.arange(5, 20))
    with pytest.raises(ValueError, match="different number of classes"):
        gen.flow(X, np.repeat([0, 1], 10), subset="training")
    with pytest.raises(ValueError, match="validation_split"):
        ImageDataGenerator(validation_split=1.5)


def test_flow_outputs_and_fit():
    rng = np.random.default_rng(6)
    X = rng.uniform(size=(64, 8, 8, 3)).astype("float32")
    y = np.eye(2, dtype="float32")[rng.integers(0, 2, 64)]
    sw = np.ones(64, "float32")
    gen = ImageDataGenerator(rotation_range=20, horizontal_flip=True,
                             width_shift_range=0.1)
    it = gen.flow(X, y, batch_size=32, sample_weight=sw)
    assert len(it) == 2
    bx, by, bw = it[0]
    assert bx.shape == (32, 8, 8, 3) and by.shape == (32, 2) and \
        bw.shape == (32,)
    assert next(gen.flow(X, batch_size=16)).shape == (16, 8, 8, 3)
    model = gkeras.Sequential([gkeras.Input((8, 8, 3)), layers.Flatten(),
                               layers.Dense(2, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    hist = model.fit(gen.flow(X, y, batch_size=32), epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2
    assert model.predict(gen.flow(X, batch_size=32, shuffle=False),
                         verbose=0).shape == (64, 2)


def _write_images(root, classes=("cat", "dog"), n=3, size=(6, 5)):
    rng = np.random.default_rng(7)
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(n):
            arr = rng.integers(0, 255, size + (3,), dtype=np.uint8)
            PIL.Image.fromarray(arr).save(root / c / f"{i}.png")


def test_flow_from_directory(tmp_path):
    _write_images(tmp_path)
    gen = ImageDataGenerator(rescale=1 / 255.0, validation_split=1 / 3)
    it = gen.flow_from_directory(str(tmp_path), target_size=(4, 4),
                                 batch_size=8, shuffle=False,
                                 subset="training")
    assert it.class_indices == {"cat": 0, "dog": 1}
    assert it.samples == 4
    x, y = it[0]
    assert x.shape == (4, 4, 4, 3) and y.shape == (4, 2)
    assert x.max() <= 1.0
    np.testing.assert_array_equal(y.argmax(1), [0, 0, 1, 1])
    it = gen.flow_from_directory(str(tmp_path), target_size=(4, 4),
                                 class_mode="sparse", subset="validation")
    assert it.samples == 2 and it[0][1].shape == (2,)


def test_image_utils_round_trip(tmp_path):
    arr = np.random.default_rng(8).integers(0, 255, (5, 7, 3)).astype(
        "float32")
    path = tmp_path / "a.png"
    save_img(str(path), arr, scale=False)
    img = load_img(str(path))
    assert img.size == (7, 5)
    np.testing.assert_array_equal(img_to_array(img), arr)
    assert img_to_array(img, data_format="channels_first").shape == (3, 5, 7)
    g = img_to_array(load_img(path, color_mode="grayscale",
                              target_size=(2, 3)))
    assert g.shape == (2, 3, 1)
    assert array_to_img(arr).mode == "RGB"
    with pytest.raises(ValueError, match="rank 3"):
        array_to_img(arr[None])
    with pytest.raises(FileNotFoundError):
        load_img(str(tmp_path / "missing.png"))


def test_image_dataset_from_directory(tmp_path):
    _write_images(tmp_path, n=4)
    tr, va = image_dataset_from_directory(
        str(tmp_path), image_size=(3, 3), batch_size=2,
        label_mode="categorical", validation_split=0.25, subset="both",
        seed=1, verbose=False)
    assert tr.class_names == ["cat", "dog"]
    assert len(tr.file_paths) == 6 and len(va.file_paths) == 2
    assert not set(tr.file_paths) & set(va.file_paths)
    x, y = tr[0]
    assert x.shape == (2, 3, 3, 3) and y.shape == (2, 2)
    with pytest.raises(ValueError, match="seed"):
        image_dataset_from_directory(str(tmp_path), validation_split=0.2,
                                     subset="training", verbose=False)
    with pytest.raises(ValueError, match="label_mode"):
        image_dataset_from_directory(str(tmp_path), label_mode="onehot")
    model = gkeras.Sequential([gkeras.Input((3, 3, 3)), layers.Flatten(),
                               layers.Dense(2, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    model.fit(tr, epochs=1, verbose=0)
