"""AlphaDropout, ActivityRegularization and the layers' activity
regularizers (normalized by the batch size, as Keras 3 does)."""

import numpy as np
import pytest

import gkeras
from gkeras import layers, ops
from gkeras.ops.engine import GradientTape, Tensor

RNG = np.random.default_rng(11)
ALPHA_P = -1.6732632423543772848170429916717 * \
    1.0507009873554804934193349852946


def _affine(rate):
    a = ((1 - rate) * (1 + rate * ALPHA_P ** 2)) ** -0.5
    return a, -a * ALPHA_P * rate


def test_alpha_dropout_values_statistics_and_gradient():
    rate = 0.3
    a, b = _affine(rate)
    x = RNG.standard_normal((4000, 25)).astype("float32")
    layer = layers.AlphaDropout(rate, seed=3)
    t = Tensor(x)
    with GradientTape() as tape:
        tape.watch(t)
        y = layer(t, training=True)
        loss = ops.sum(y)
    y, g = np.asarray(y), np.asarray(tape.gradient(loss, t))
    kept = np.isclose(g, a)
    # Every entry is either kept (a x + b, gradient a) or dropped (the
    # constant a alpha' + b, gradient 0), about `rate` of them dropped.
    assert np.all(kept | (g == 0))
    np.testing.assert_allclose(y[kept], a * x[kept] + b, rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(y[~kept], a * ALPHA_P + b, rtol=1e-5)
    assert abs((~kept).mean() - rate) < 0.01
    # Zero mean, unit variance in: the same out (SELU's fixed point).
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    np.testing.assert_array_equal(np.asarray(layer(x)), x)


def test_alpha_dropout_noise_shape_and_config():
    layer = layers.AlphaDropout(0.5, noise_shape=(None, 1, 4), seed=0)
    y = np.asarray(layer(np.ones((3, 6, 4), "float32"), training=True))
    # One mask per (sample, feature), shared over the 6 steps.
    assert np.all(y.min(1) == y.max(1))
    cfg = layer.get_config()
    assert cfg["rate"] == 0.5 and cfg["noise_shape"] == [None, 1, 4]
    clone = layers.AlphaDropout.from_config(cfg)
    assert clone.rate == 0.5 and clone.seed == 0
    with pytest.raises(ValueError, match="rate"):
        layers.AlphaDropout(1.5)


def test_activity_regularization_adds_batch_normalized_penalty():
    x = RNG.standard_normal((4, 3)).astype("float32")
    layer = layers.ActivityRegularization(l1=0.1, l2=0.01)
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    want = (0.1 * np.abs(x).sum() + 0.01 * (x.astype(np.float64) ** 2)
            .sum()) / 4
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), want, rtol=1e-5)
    cfg = layer.get_config()
    assert cfg["l1"] == 0.1 and cfg["l2"] == 0.01
    assert "activity_regularizer" not in cfg
    clone = layers.ActivityRegularization.from_config(cfg)
    clone(x)
    np.testing.assert_allclose(float(clone.losses[0]), want, rtol=1e-5)


def test_activity_regularizer_enters_the_training_loss():
    x = RNG.standard_normal((8, 3)).astype("float32")
    y = RNG.standard_normal((8, 2)).astype("float32")
    model = gkeras.Sequential([
        gkeras.Input((3,)),
        layers.Dense(2, activity_regularizer="l2", kernel_initializer="ones",
                     bias_initializer="zeros")])
    model.compile(optimizer="sgd", loss="mse")
    h = x.astype(np.float64) @ np.ones((3, 2))
    want = np.mean((h - y) ** 2) + 0.01 * (h ** 2).sum() / 8
    got = model.evaluate(x, y, batch_size=8, verbose=0)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_losses_cleared_per_step_keep_the_layer_structure_version():
    # Clearing the per-call losses must not look like a structure change,
    # or every step after the first add_loss re-walks the layer tree.
    from gkeras.layers import layer as layer_module
    model = gkeras.Sequential([gkeras.Input((3,)),
                               layers.Dense(2, activity_regularizer="l1"),
                               layers.ActivityRegularization(l2=0.1)])
    model.compile(optimizer="sgd", loss="mse")
    x = RNG.standard_normal((8, 3)).astype("float32")
    y = RNG.standard_normal((8, 2)).astype("float32")
    model.train_on_batch(x, y)
    before = layer_module.STRUCTURE_VERSION[0]
    for _ in range(3):
        model.train_on_batch(x, y)
    model.evaluate(x, y, verbose=0)
    assert layer_module.STRUCTURE_VERSION[0] == before
