"""Keras-2 backend functions (`import gkeras.backend as K`) vs NumPy."""

import numpy as np
import pytest

import gkeras
import gkeras.backend as K
from gkeras import layers

RNG = np.random.default_rng(0)


def _np(x):
    return np.asarray(K.eval(x), dtype=np.float64)


@pytest.mark.parametrize("name,ref", [
    ("square", np.square), ("sqrt", np.sqrt), ("exp", np.exp),
    ("log", np.log), ("abs", np.abs), ("tanh", np.tanh),
    ("sign", np.sign), ("sigmoid", lambda a: 1 / (1 + np.exp(-a))),
    ("softplus", lambda a: np.log1p(np.exp(a))),
])
def test_unary(name, ref):
    x = RNG.uniform(0.1, 2.0, (3, 4))
    if name in ("abs", "tanh", "sign", "sigmoid", "softplus"):
        x = x - 1.0
    got = _np(getattr(K, name)(x.astype("float32")))
    np.testing.assert_allclose(got, ref(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,ref", [
    ("mean", np.mean), ("sum", np.sum), ("max", np.max), ("min", np.min),
    ("prod", np.prod), ("std", np.std), ("var", np.var),
])
@pytest.mark.parametrize("axis,keepdims", [(None, False), (1, True),
                                           ([0, 2], False)])
def test_reductions(name, ref, axis, keepdims):
    x = RNG.uniform(0.5, 1.5, (2, 3, 4))
    ax = tuple(axis) if isinstance(axis, list) else axis
    got = _np(getattr(K, name)(x.astype("float32"), axis=axis,
                               keepdims=keepdims))
    np.testing.assert_allclose(got, ref(x, axis=ax, keepdims=keepdims),
                               rtol=1e-5)


def test_clip_keras2_rules():
    x = np.linspace(-3, 3, 13).astype("float32")
    np.testing.assert_allclose(_np(K.clip(x, -1, 2)), np.clip(x, -1, 2))
    # max below min is raised to min (Keras 2 behaviour).
    np.testing.assert_allclose(_np(K.clip(x, 1, 0)), np.full_like(x, 1))
    np.testing.assert_allclose(_np(K.clip(x, None, 0)), np.minimum(x, 0))


@pytest.mark.parametrize("xs,ys", [((2, 3), (3, 4)), ((2, 3), (4, 3, 5)),
                                   ((2, 5, 3), (3, 4)), ((3,), (3, 2))])
def test_dot_numpy_semantics(xs, ys):
    x, y = RNG.normal(size=xs), RNG.normal(size=ys)
    got = _np(K.dot(x.astype("float32"), y.astype("float32")))
    np.testing.assert_allclose(got, np.dot(x, y), rtol=1e-4, atol=1e-5)


def _batch_dot_ref(x, y, ax, ay):
    out = []
    for i in range(x.shape[0]):
        out.append(np.tensordot(x[i], y[i], axes=([ax - 1], [ay - 1])))
    out = np.stack(out)
    return out.reshape(-1, 1) if out.ndim == 1 else out


@pytest.mark.parametrize("xs,ys,axes,expected", [
    ((32, 20), (32, 20), 1, (32, 1)),
    ((4, 3, 5), (4, 5, 2), None, (4, 3, 2)),
    ((4, 3, 5), (4, 5), None, (4, 3)),
    ((4, 3, 5), (4, 3, 2), (1, 1), (4, 5, 2)),
    ((2, 3, 4, 5), (2, 5, 6), (3, 1), (2, 3, 4, 6)),
])
def test_batch_dot(xs, ys, axes, expected):
    x, y = RNG.normal(size=xs), RNG.normal(size=ys)
    r = K.batch_dot(x.astype("float32"), y.astype("float32"), axes=axes)
    assert K.int_shape(r) == expected
    if axes is None:
        ax, ay = len(xs) - 1, len(ys) - 1 if len(ys) == 2 else len(ys) - 2
    elif isinstance(axes, int):
        ax = ay = axes
    else:
        ax, ay = axes
    np.testing.assert_allclose(_np(r), _batch_dot_ref(x, y, ax, ay),
                               rtol=1e-4, atol=1e-5)


def test_batch_dot_errors():
    with pytest.raises(ValueError, match="contracted dimensions differ"):
        K.batch_dot(np.ones((2, 3), "float32"), np.ones((2, 4), "float32"),
                    axes=1)
    with pytest.raises(ValueError, match="rank >= 2"):
        K.batch_dot(np.ones(3, "float32"), np.ones((3, 3), "float32"))


def test_shape_functions():
    x = RNG.normal(size=(2, 3, 4)).astype("float32")
    assert K.int_shape(x) == (2, 3, 4)
    assert K.ndim(x) == 3 and K.dtype(x) == "float32"
    assert K.int_shape(gkeras.Input((5,))) == (None, 5)
    np.testing.assert_array_equal(_np(K.reshape(x, (6, 4))), x.reshape(6, 4))
    np.testing.assert_array_equal(_np(K.transpose(x)), x.T)
    np.testing.assert_array_equal(_np(K.permute_dimensions(x, (1, 0, 2))),
                                  x.transpose(1, 0, 2))
    np.testing.assert_array_equal(_np(K.expand_dims(x, 1)),
                                  x[:, None])
    np.testing.assert_array_equal(_np(K.concatenate([x, x], axis=1)),
                                  np.concatenate([x, x], axis=1))
    np.testing.assert_array_equal(_np(K.batch_flatten(x)), x.reshape(2, 12))
    assert K.dtype(K.cast(x, "float16")) == "float16"
    np.testing.assert_array_equal(_np(K.repeat(x[:, 0], 3)),
                                  np.repeat(x[:, None, 0], 3, axis=1))


def test_variables_and_values():
    v = K.variable(np.arange(6).reshape(2, 3))
    assert K.dtype(v) == "float32"
    K.set_value(v, np.ones((2, 3)))
    np.testing.assert_array_equal(K.get_value(v), np.ones((2, 3)))
    K.update_add(v, 2.0)
    np.testing.assert_array_equal(K.eval(v), np.full((2, 3), 3.0))
    assert K.get_value(K.zeros((2, 2))).sum() == 0
    np.testing.assert_array_equal(K.eval(K.eye(3)), np.eye(3))
    c = K.constant(2.0, shape=(2, 2))
    np.testing.assert_array_equal(K.eval(c), np.full((2, 2), 2.0))
    assert K.count_params(v) == 6
    with pytest.raises(TypeError, match="expects a variable"):
        K.set_value(np.ones(3), 1.0)
    with pytest.raises(ValueError, match="shape"):
        K.set_value(v, np.ones(4))
    assert K.epsilon() == 1e-7 and K.floatx() == "float32"
    assert K.image_data_format() == "channels_last"


def test_set_value_learning_rate_changes_training():
    m = gkeras.Sequential([gkeras.Input((2,)), layers.Dense(1)])
    m.compile(gkeras.optimizers.SGD(learning_rate=0.1), "mse")
    K.set_value(m.optimizer.learning_rate, 0.0)
    assert float(K.get_value(m.optimizer.learning_rate)) == 0.0
    w0 = [w.copy() for w in m.get_weights()]
    x = np.ones((4, 2), "float32")
    m.fit(x, np.ones((4, 1), "float32"), epochs=1, verbose=0)
    for a, b in zip(w0, m.get_weights()):
        np.testing.assert_array_equal(a, b)  # lr 0: nothing moved


def test_activations_and_losses():
    x = RNG.normal(size=(4, 5))
    xf = x.astype("float32")
    np.testing.assert_allclose(_np(K.relu(xf)), np.maximum(x, 0), atol=1e-6)
    ref = np.where(x >= 0.5, np.minimum(x, 1.0), 0.1 * (x - 0.5))
    np.testing.assert_allclose(
        _np(K.relu(xf, alpha=0.1, max_value=1.0, threshold=0.5)), ref,
        atol=1e-6)
    sm = np.exp(x) / np.exp(x).sum(-1, keepdims=True)
    np.testing.assert_allclose(_np(K.softmax(xf)), sm, rtol=1e-5)
    t = np.eye(5)[[0, 2, 4, 1]]
    np.testing.assert_allclose(
        _np(K.categorical_crossentropy(t, sm.astype("float32"))),
        -(t * np.log(sm)).sum(-1), rtol=1e-4)
    np.testing.assert_allclose(
        _np(K.categorical_crossentropy(t, xf, from_logits=True)),
        -(t * np.log(sm)).sum(-1), rtol=1e-4)
    p = 1 / (1 + np.exp(-x))
    tb = (RNG.uniform(size=x.shape) > 0.5).astype("float64")
    np.testing.assert_allclose(
        _np(K.binary_crossentropy(tb, p.astype("float32"))),
        -(tb * np.log(p) + (1 - tb) * np.log(1 - p)), rtol=1e-3, atol=1e-5)
    labels = np.array([0, 2, 4, 1])
    np.testing.assert_allclose(
        _np(K.sparse_categorical_crossentropy(labels, sm.astype("float32"))),
        -np.log(sm[np.arange(4), labels]), rtol=1e-4)


def _mlp():
    inp = gkeras.Input((4,))
    h = layers.Dense(3, activation="relu", name="hidden")(inp)
    d = layers.Dropout(0.5)(h)
    out = layers.Dense(2, name="out")(d)
    return gkeras.Model(inp, out)


def test_function_intermediate_output_matches_numpy():
    m = _mlp()
    x = RNG.normal(size=(5, 4)).astype("float32")
    f = K.function([m.layers[0].input], [m.get_layer("hidden").output])
    (h,) = f([x])
    w, b = m.get_layer("hidden").get_weights()
    np.testing.assert_allclose(h, np.maximum(x @ w + b, 0), rtol=1e-5,
                               atol=1e-6)
    # From an intermediate tensor to the output.
    g = K.function([m.get_layer("hidden").output], m.output)
    w2, b2 = m.get_layer("out").get_weights()
    np.testing.assert_allclose(g([h]), h @ w2 + b2, rtol=1e-5, atol=1e-6)


def test_function_learning_phase():
    m = _mlp()
    x = RNG.normal(size=(64, 4)).astype("float32")
    f = K.function([m.input, K.learning_phase()], [m.output])
    test_out = f([x, 0])[0]
    np.testing.assert_allclose(test_out, m.predict(x, verbose=0), rtol=1e-5)
    assert not np.allclose(f([x, 1])[0], test_out)  # dropout active
    K.set_learning_phase(1)
    try:
        assert K.learning_phase() == 1
    finally:
        K.clear_session()
    assert K.learning_phase() != 1


def test_function_errors():
    m = _mlp()
    f = K.function([m.input], [m.output])
    with pytest.raises(ValueError, match="expects 1 input"):
        f([np.ones((2, 4)), np.ones((2, 4))])
    with pytest.raises(ValueError, match="expects shape"):
        f([np.ones((2, 5))])
    other = gkeras.Input((4,))
    with pytest.raises(ValueError, match="not among the function's inputs"):
        K.function([other], [m.output])
    with pytest.raises(NotImplementedError, match="updates"):
        K.function([m.input], [m.output], updates=[(1, 2)])


def test_gradients_through_function():
    inp = gkeras.Input((3,))
    dense = layers.Dense(2, activation="tanh")
    out = dense(inp)
    loss = K.sum(K.square(out))
    f = K.function([inp], K.gradients(loss, [inp]) + [loss])
    x = RNG.normal(size=(4, 3)).astype("float32")
    gx, lv = f([x])
    w, b = dense.get_weights()
    y = np.tanh(x.astype(np.float64) @ w + b)
    np.testing.assert_allclose(lv, (y ** 2).sum(), rtol=1e-5)
    ref = (2 * y * (1 - y ** 2)) @ w.T
    np.testing.assert_allclose(gx, ref, rtol=1e-4, atol=1e-6)
    # w.r.t. a weight variable
    gw = K.function([inp], K.gradients(loss, dense.kernel))([x])[0]
    np.testing.assert_allclose(gw, x.T @ (2 * y * (1 - y ** 2)), rtol=1e-4,
                               atol=1e-5)


def test_symbolic_k_ops_in_model():
    inp = gkeras.Input((3,))
    out = K.mean(K.square(inp), axis=-1, keepdims=True)
    m = gkeras.Model(inp, out)
    x = RNG.normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(m.predict(x, verbose=0),
                               (x ** 2).mean(-1, keepdims=True), rtol=1e-5)


def test_python_lists_and_scalars_accepted():
    np.testing.assert_allclose(_np(K.square([2.0, 3.0])), [4.0, 9.0])
    np.testing.assert_allclose(_np(K.maximum([1.0, 5.0], 2.0)), [2.0, 5.0])
    np.testing.assert_allclose(_np(K.sum([[1.0, 2.0], [3.0, 4.0]], axis=0)),
                               [4.0, 6.0])
