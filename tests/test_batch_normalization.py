"""BatchNormalization: training/inference maths against a float64 NumPy
reference, moving statistics, frozen layers, masks, gradients."""

import numpy as np
import pytest

import gkeras
from gkeras import layers, ops
from gkeras.ops.normalization import batch_norm_train
from harness import check_grad, run_layer_test

RNG = np.random.default_rng(3)


def ref_bn(x, gamma, beta, mean, var, axis, eps):
    shape = [1] * x.ndim
    shape[axis] = -1
    x = np.asarray(x, np.float64)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if gamma is not None:
        y = y * gamma.reshape(shape)
    if beta is not None:
        y = y + beta.reshape(shape)
    return y


@pytest.mark.parametrize("axis,shape", [(-1, (6, 4)), (-1, (3, 5, 4, 2)),
                                        (1, (3, 4, 5, 2)), (2, (2, 3, 4))])
def test_training_and_inference_match_reference(axis, shape):
    x = (RNG.standard_normal(shape) * 3 + 1).astype(np.float32)
    layer = layers.BatchNormalization(axis=axis, momentum=0.9, epsilon=0.01)
    layer.build(x.shape)
    c = shape[axis]
    g, b = RNG.standard_normal(c), RNG.standard_normal(c)
    mm, mv = RNG.standard_normal(c), RNG.random(c) + 0.5
    layer.set_weights([a.astype(np.float32) for a in (g, b, mm, mv)])
    np.testing.assert_allclose(np.asarray(layer(x)),
                               ref_bn(x, g, b, mm, mv, axis, 0.01),
                               rtol=1e-5, atol=1e-5)
    red = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    bm = x.astype(np.float64).mean(red)
    bv = x.astype(np.float64).var(red)         # biased, as Keras
    y = np.asarray(layer(x, training=True))
    np.testing.assert_allclose(y, ref_bn(x, g, b, bm, bv, axis, 0.01),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.moving_mean.numpy(),
                               0.9 * mm + 0.1 * bm, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(),
                               0.9 * mv + 0.1 * bv, rtol=1e-5, atol=1e-6)


def test_weights_order_and_frozen_layer_runs_in_inference_mode():
    layer = layers.BatchNormalization()
    x = RNG.standard_normal((8, 3)).astype(np.float32) * 4
    layer(x)
    assert [w.name for w in layer.weights] == [
        "gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.name for w in layer.trainable_weights] == ["gamma", "beta"]
    layer.trainable = False
    before = [w.copy() for w in layer.get_weights()]
    y = np.asarray(layer(x, training=True))
    np.testing.assert_allclose(y, x / np.sqrt(1 + 1e-3), rtol=1e-6)
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert layer.non_trainable_weights == layer.weights


def test_center_scale_off():
    layer = layers.BatchNormalization(center=False, scale=False)
    x = RNG.standard_normal((5, 3)).astype(np.float32)
    y = np.asarray(layer(x, training=True))
    assert [w.name for w in layer.weights] == ["moving_mean",
                                               "moving_variance"]
    np.testing.assert_allclose(y, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3),
                               rtol=1e-4, atol=1e-5)


def test_mask_excludes_positions_from_statistics():
    x = RNG.standard_normal((2, 4, 3)).astype(np.float32)
    mask = np.array([[1, 1, 1, 0], [1, 0, 0, 0]], bool)
    layer = layers.BatchNormalization(momentum=0.0)
    y = np.asarray(layer(x, training=True, mask=mask))
    sel = x[mask].astype(np.float64)           # (4, 3) unmasked rows
    m, v = sel.mean(0), sel.var(0)
    np.testing.assert_allclose(layer.moving_mean.numpy(), m, rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), v, rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(y, (x - m) / np.sqrt(v + 1e-3), rtol=1e-3,
                               atol=1e-4)
    with pytest.raises(ValueError, match="one dimension less"):
        layer(x, training=True, mask=mask[..., None])


def test_gradients():
    x = RNG.standard_normal((4, 3, 5))
    g, b = RNG.standard_normal(5), RNG.standard_normal(5)
    check_grad(lambda a, c, d: batch_norm_train(a, c, d, -1, 1e-3)[0],
               x, g, b)
    check_grad(lambda a, c: batch_norm_train(a, c, None, 1, 1e-3)[0],
               x, RNG.standard_normal(3))
    check_grad(lambda a, m, v, o, s: ops.batch_normalization(
        a, m, v, axis=-1, offset=o, scale=s), x, RNG.standard_normal(5),
        RNG.random(5) + 0.5, b, g)


def test_layer_contract_and_config():
    run_layer_test(layers.BatchNormalization, {"momentum": 0.8},
                   input_shape=(4, 3, 2), expected_output_shape=(4, 3, 2),
                   expected_num_trainable_weights=2,
                   expected_num_non_trainable_weights=2)
    cfg = layers.BatchNormalization(axis=1, synchronized=True).get_config()
    assert cfg["axis"] == 1 and cfg["synchronized"] is True
    assert cfg["renorm"] is False
    with pytest.raises(NotImplementedError, match="renorm"):
        layers.BatchNormalization(renorm=True)


def test_fit_updates_moving_statistics_only_in_training():
    model = gkeras.Sequential([gkeras.Input((3,)),
                               layers.BatchNormalization(), layers.Dense(1)])
    model.compile("sgd", "mse")
    bn = model.layers[0]
    x = (RNG.standard_normal((16, 3)) + 5).astype(np.float32)
    model.predict(x, verbose=0)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), 0)
    model.fit(x, np.zeros((16, 1)), epochs=1, batch_size=16, verbose=0)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.01 * x.mean(0),
                               rtol=1e-4)
