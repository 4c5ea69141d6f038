"""LayerNormalization, GroupNormalization, UnitNormalization and the
layer-norm op against NumPy float64 references and finite differences."""

import numpy as np
import pytest
from harness import assert_save_load_roundtrip, check_grad, run_layer_test

import gkeras
from gkeras import layers, ops

RNG = np.random.default_rng(1)


def _ln_ref(x, axes, gamma=None, beta=None, eps=1e-3, rms=False):
    x = np.asarray(x, np.float64)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    y = (x if rms else x - mean) / np.sqrt(var + eps)
    shape = [x.shape[i] if i in axes else 1 for i in range(x.ndim)]
    if gamma is not None:
        y = y * np.reshape(gamma, shape)
    if beta is not None and not rms:
        y = y + np.reshape(beta, shape)
    return y


@pytest.mark.parametrize("axis,shape", [(-1, (3, 4, 6)), ([1, 2], (3, 4, 6)),
                                        ([1], (2, 5, 3)), (1, (2, 5, 3, 2))])
@pytest.mark.parametrize("rms", [False, True])
def test_layer_normalization_matches_numpy(axis, shape, rms):
    # Keras 3.15: rms_scaling (deprecated, warns) has gamma and no beta.
    layer = run_layer_test(
        layers.LayerNormalization, {"axis": axis, "rms_scaling": rms,
                                    "epsilon": 1e-3},
        input_shape=shape, expected_output_shape=shape,
        expected_num_trainable_weights=1 if rms else 2)
    axes = sorted(a % len(shape) for a in (axis if isinstance(axis, list)
                                           else [axis]))
    for w in layer.weights:
        w.assign(RNG.standard_normal(w.shape).astype("float32"))
    x = RNG.standard_normal(shape).astype("float32") * 3 + 1
    want = _ln_ref(x, tuple(axes), layer.gamma.numpy(),
                   None if rms else layer.beta.numpy(), rms=rms)
    np.testing.assert_allclose(np.asarray(layer(x)), want, atol=1e-5)
    assert tuple(layer.gamma.shape) == tuple(shape[a] for a in axes)


def test_layer_normalization_options_and_config():
    layer = layers.LayerNormalization(center=False, scale=False, epsilon=1e-6)
    x = RNG.standard_normal((4, 7)).astype("float32")
    np.testing.assert_allclose(np.asarray(layer(x)),
                               _ln_ref(x, (1,), eps=1e-6), atol=1e-5)
    assert layer.weights == []
    # As Keras: the axis as given until built, then a sorted list.
    unbuilt = layers.LayerNormalization(axis=-1)
    cfg = unbuilt.get_config()
    assert cfg["axis"] == -1 and cfg["epsilon"] == 1e-3
    unbuilt(x)
    assert unbuilt.get_config()["axis"] == [-1]
    built = layers.LayerNormalization(axis=[2, 1])
    built.build((2, 3, 4))
    assert built.get_config()["axis"] == [1, 2]
    with pytest.warns(UserWarning, match="rms_scaling=True"):
        layers.LayerNormalization(rms_scaling=True)
    with pytest.raises(ValueError, match="invalid axis 3"):
        layers.LayerNormalization(axis=3)(x)


@pytest.mark.parametrize("rms", [False, True])
@pytest.mark.parametrize("axis", [-1, [0, 2], 1])
def test_layer_norm_op_gradient(rms, axis):
    x = RNG.standard_normal((2, 3, 4))
    axes = [a % 3 for a in (axis if isinstance(axis, list) else [axis])]
    pshape = tuple(x.shape[a] for a in sorted(axes))
    g, b = RNG.standard_normal(pshape), RNG.standard_normal(pshape)
    check_grad(lambda x, g, b: ops.layer_normalization(
        x, g, None if rms else b, axis=axis, epsilon=1e-3, rms_scaling=rms),
        x, g, b, atol=1e-5)


@pytest.mark.parametrize("groups,shape", [(2, (3, 5, 4)), (-1, (2, 3, 3, 6)),
                                          (1, (4, 6))])
def test_group_normalization_matches_numpy(groups, shape):
    layer = run_layer_test(layers.GroupNormalization, {"groups": groups},
                           input_shape=shape, expected_output_shape=shape,
                           expected_num_trainable_weights=2)
    for w in layer.weights:
        w.assign(RNG.standard_normal(w.shape).astype("float32"))
    x = RNG.standard_normal(shape)
    C = shape[-1]
    g = C if groups == -1 else groups
    xg = x.reshape(shape[:-1] + (g, C // g))
    red = tuple(range(1, xg.ndim - 2)) + (xg.ndim - 1,)
    y = (xg - xg.mean(red, keepdims=True)) / np.sqrt(
        xg.var(red, keepdims=True) + 1e-3)
    want = y.reshape(shape) * layer.gamma.numpy() + layer.beta.numpy()
    np.testing.assert_allclose(np.asarray(layer(x.astype("float32"))), want,
                               atol=1e-5)


def test_group_normalization_gradient_and_errors():
    layer = layers.GroupNormalization(groups=2, dtype="float64")
    x = RNG.standard_normal((2, 3, 4))
    layer(x)
    check_grad(lambda x: layer(x), x, atol=1e-5)
    with pytest.raises(ValueError, match="multiple"):
        layers.GroupNormalization(groups=3)(np.ones((2, 4), "float32"))
    with pytest.raises(ValueError, match="cannot be more"):
        layers.GroupNormalization(groups=8)(np.ones((2, 4), "float32"))


def test_unit_normalization():
    run_layer_test(layers.UnitNormalization, {"axis": -1},
                   input_shape=(3, 5), expected_output_shape=(3, 5),
                   expected_num_trainable_weights=0)
    x = RNG.standard_normal((2, 3, 4))
    for axis in (-1, [1, 2]):
        ax = tuple(axis) if isinstance(axis, list) else axis
        want = x / np.sqrt((x ** 2).sum(ax, keepdims=True))
        got = layers.UnitNormalization(axis=axis)(x.astype("float32"))
        np.testing.assert_allclose(np.asarray(got), want, atol=1e-6)
    np.testing.assert_array_equal(
        np.asarray(layers.UnitNormalization()(np.zeros((1, 3), "float32"))),
        0)
    check_grad(lambda x: layers.UnitNormalization(dtype="float64")(x), x)


def test_layer_norm_in_a_trained_model():
    x = gkeras.Input((5, 6))
    y = layers.LayerNormalization()(layers.Dense(6)(x))
    model = gkeras.Model(x, y)
    model.compile(optimizer=gkeras.optimizers.SGD(0.1), loss="mse")
    xv = RNG.standard_normal((16, 5, 6)).astype("float32")
    yv = np.tanh(xv)
    before = model.evaluate(xv, yv, verbose=0)
    model.fit(xv, yv, epochs=10, verbose=0)
    assert model.evaluate(xv, yv, verbose=0) < before


def _rms_ref(x, axes, scale=None, eps=1e-6):
    x = np.asarray(x, np.float64)
    y = x / np.sqrt(np.mean(x * x, axis=axes, keepdims=True) + eps)
    if scale is not None:
        shape = [x.shape[i] if i in axes else 1 for i in range(x.ndim)]
        y = y * np.reshape(scale, shape)
    return y


@pytest.mark.parametrize("axis,shape", [(-1, (3, 4, 6)), ([1, 2], (3, 4, 6)),
                                        ([1], (2, 5, 3))])
def test_rms_normalization_matches_numpy(axis, shape):
    layer = run_layer_test(layers.RMSNormalization, {"axis": axis},
                           input_shape=shape, expected_output_shape=shape,
                           expected_num_trainable_weights=1)
    axes = tuple(sorted(a % len(shape) for a in (
        axis if isinstance(axis, list) else [axis])))
    assert layer.weights[0].path.endswith("/scale")
    assert tuple(layer.scale.shape) == tuple(shape[a] for a in axes)
    layer.scale.assign(RNG.standard_normal(layer.scale.shape)
                       .astype("float32"))
    x = RNG.standard_normal(shape).astype("float32") * 3 + 1
    np.testing.assert_allclose(np.asarray(layer(x)),
                               _rms_ref(x, axes, layer.scale.numpy()),
                               rtol=1e-5, atol=1e-5)
    layer64 = layers.RMSNormalization(axis=axis, dtype="float64")
    x64 = RNG.standard_normal(shape)
    layer64(x64)
    layer64.scale.assign(RNG.standard_normal(layer64.scale.shape))
    check_grad(lambda x: layer64(x), x64, atol=1e-5)


def test_rms_normalization_op_dtype_gradient_and_errors():
    x = RNG.standard_normal((3, 5))
    s = RNG.standard_normal((5,))
    np.testing.assert_allclose(
        np.asarray(ops.rms_normalization(x, s, epsilon=1e-3)),
        _rms_ref(x, (1,), s, eps=1e-3), rtol=1e-10)
    check_grad(lambda x, s: ops.rms_normalization(x, s, epsilon=1e-3), x, s,
               atol=1e-6)
    half = ops.rms_normalization(x.astype("float16"))
    assert half.dtype == "float16"
    np.testing.assert_allclose(np.asarray(half, np.float64),
                               _rms_ref(x, (1,), eps=1e-7), rtol=2e-3)
    cfg = layers.RMSNormalization(epsilon=1e-5).get_config()
    assert cfg["axis"] == -1 and cfg["epsilon"] == 1e-5
    assert layers.RMSNormalization.from_config(cfg).epsilon == 1e-5
    with pytest.raises(ValueError, match="axis 3 is out of bounds"):
        layers.RMSNormalization(axis=3)(np.zeros((2, 3), "float32"))


def test_spectral_normalization_power_iteration_and_training():
    rng = np.random.default_rng(14)
    sn = layers.SpectralNormalization(layers.Dense(4), power_iterations=1)
    x = rng.standard_normal((5, 6)).astype("float32")
    sn(x)
    w0 = rng.standard_normal((6, 4)).astype("float32")
    sn.layer.kernel.assign(w0)
    # Inference leaves the kernel alone.
    np.testing.assert_array_equal(np.asarray(sn(x)), x @ w0 + 0)
    np.testing.assert_array_equal(sn.layer.kernel.numpy(), w0)
    # One training call: one power step from vector_u, then kernel/sigma.
    u = sn.vector_u.numpy().astype(np.float64)
    v = u @ w0.T
    v /= np.linalg.norm(v)
    u = v @ w0
    u /= np.linalg.norm(u)
    sigma = float((v @ w0 @ u.T)[0, 0])
    y = np.asarray(sn(x, training=True))
    np.testing.assert_allclose(sn.layer.kernel.numpy(), w0 / sigma,
                               rtol=1e-5)
    np.testing.assert_allclose(sn.vector_u.numpy(), u, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(y, x @ (w0 / sigma), rtol=1e-4, atol=1e-5)
    # Repeated training calls converge to spectral norm 1.
    for _ in range(30):
        sn(x, training=True)
    top = np.linalg.svd(sn.layer.kernel.numpy(), compute_uv=False)[0]
    np.testing.assert_allclose(top, 1.0, rtol=1e-3)
    assert [w.path.split("/")[-1] for w in sn.weights] == [
        "kernel", "vector_u", "bias"]
    assert [w.path.split("/")[-1] for w in sn.non_trainable_weights] == [
        "vector_u"]
    # An all-zero kernel is left alone (and so is the estimate).
    zero = layers.SpectralNormalization(
        layers.Dense(2, kernel_initializer="zeros"))
    zero(x[:, :3])
    u_before = zero.vector_u.numpy().copy()
    zero(x[:, :3], training=True)
    assert not zero.layer.kernel.numpy().any()
    np.testing.assert_array_equal(zero.vector_u.numpy(), u_before)


def test_spectral_normalization_fits_saves_and_checks_arguments(tmp_path):
    rng = np.random.default_rng(15)
    x = rng.standard_normal((16, 6, 6, 1)).astype("float32")
    y = x.mean(axis=(1, 2, 3))[:, None]
    model = gkeras.Sequential([
        gkeras.Input((6, 6, 1)),
        layers.SpectralNormalization(layers.Conv2D(3, 3)),
        layers.Flatten(), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    hist = model.fit(x, y, epochs=10, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    top = np.linalg.svd(model.layers[0].layer.kernel.numpy().reshape(-1, 3),
                        compute_uv=False)[0]
    assert top < 1.5
    assert_save_load_roundtrip(model, x, tmp_path)
    cfg = model.layers[0].get_config()
    assert cfg["power_iterations"] == 1 and cfg["layer"]["class_name"] == \
        "Conv2D"
    with pytest.raises(ValueError, match="power_iterations"):
        layers.SpectralNormalization(layers.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="nor 'embeddings'"):
        layers.SpectralNormalization(layers.Flatten())(np.ones((2, 3)))
    with pytest.raises(ValueError, match="Layer` instance"):
        layers.SpectralNormalization("dense")
