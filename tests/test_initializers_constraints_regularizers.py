"""Initializers (statistics, fans, seeds), constraints and regularizers."""

import math

import numpy as np
import pytest

from gkeras import constraints, initializers, regularizers
from gkeras.initializers import compute_fans
from gkeras.ops.variable import Variable
from gkeras.utils import set_random_seed


def test_compute_fans():
    assert compute_fans(()) == (1, 1)
    assert compute_fans((7,)) == (7, 7)
    assert compute_fans((784, 128)) == (784, 128)
    assert compute_fans((3, 3, 16, 32)) == (3 * 3 * 16, 3 * 3 * 32)


@pytest.mark.parametrize("name,shape,kind,param", [
    ("glorot_uniform", (400, 600), "uniform", math.sqrt(6 / 1000)),
    ("he_uniform", (400, 600), "uniform", math.sqrt(6 / 400)),
    ("lecun_uniform", (400, 600), "uniform", math.sqrt(3 / 400)),
    ("glorot_normal", (400, 600), "normal", math.sqrt(2 / 1000)),
    ("he_normal", (3, 3, 40, 60), "normal", math.sqrt(2 / 360)),
    ("lecun_normal", (400, 600), "normal", math.sqrt(1 / 400)),
])
def test_variance_scaling_statistics(name, shape, kind, param):
    x = initializers.get(name)(shape)
    assert x.dtype == np.float32 and x.shape == shape
    assert abs(x.mean()) < 0.02 * param * 10
    if kind == "uniform":
        assert np.abs(x).max() <= param + 1e-6
        np.testing.assert_allclose(x.std(), param / math.sqrt(3), rtol=0.02)
    else:  # truncated normal with the target stddev, cut at 2 stddev
        np.testing.assert_allclose(x.std(), param, rtol=0.02)
        assert np.abs(x).max() <= 2 * param / 0.8796256610342398 + 1e-6


def test_random_normal_uniform_truncated():
    x = initializers.RandomNormal(mean=1.0, stddev=2.0, seed=1)((200, 500))
    np.testing.assert_allclose([x.mean(), x.std()], [1.0, 2.0], atol=0.02)
    u = initializers.RandomUniform(-1.0, 3.0, seed=1)((200, 500))
    assert u.min() >= -1.0 and u.max() < 3.0
    np.testing.assert_allclose(u.mean(), 1.0, atol=0.02)
    t = initializers.TruncatedNormal(stddev=1.0, seed=1)((200, 500))
    assert np.abs(t).max() <= 2.0
    np.testing.assert_allclose(t.std(), 0.8796, atol=0.01)
    vs = initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal",
                                      seed=3)((300, 400))
    np.testing.assert_allclose(vs.std(), math.sqrt(2 / 400), rtol=0.02)


def test_seed_determinism():
    a = initializers.GlorotUniform(seed=42)
    np.testing.assert_array_equal(a((5, 5)), a((5, 5)))  # as Keras 3
    np.testing.assert_array_equal(a((5, 5)),
                                  initializers.GlorotUniform(seed=42)((5, 5)))
    assert not np.array_equal(a((5, 5)),
                              initializers.GlorotUniform(seed=43)((5, 5)))
    set_random_seed(7)
    x = initializers.HeNormal()((6, 6))
    y = initializers.HeNormal()((6, 6))
    set_random_seed(7)
    np.testing.assert_array_equal(x, initializers.HeNormal()((6, 6)))
    assert not np.array_equal(x, y)
    # Keras 3.15 writes the fan axes too (see the shared fixtures).
    assert initializers.GlorotUniform().get_config() == {
        "seed": None, "input_axes": None, "output_axes": None}


def test_constant_and_identity_orthogonal():
    np.testing.assert_array_equal(initializers.get("zeros")((2, 3)),
                                  np.zeros((2, 3)))
    np.testing.assert_array_equal(initializers.get("ones")((2,)), [1, 1])
    np.testing.assert_array_equal(initializers.Constant(3.0)((2,)), [3, 3])
    np.testing.assert_array_equal(initializers.get("identity")((2, 3)),
                                  np.eye(2, 3))
    with pytest.raises(ValueError, match="2D"):
        initializers.Identity()((2, 2, 2))
    for shape in ((6, 4), (4, 6), (3, 3, 2, 8)):
        q = initializers.get("orthogonal")(shape).reshape(-1, shape[-1])
        if q.shape[0] >= q.shape[1]:
            np.testing.assert_allclose(q.T @ q, np.eye(q.shape[1]),
                                       atol=1e-5)
        else:
            np.testing.assert_allclose(q @ q.T, np.eye(q.shape[0]),
                                       atol=1e-5)
    g = initializers.Orthogonal(gain=2.0, seed=1)((5, 5))
    np.testing.assert_allclose(g.T @ g, 4 * np.eye(5), atol=1e-4)
    # Keras 3 writes the class as "Orthogonal"; the long name still loads.
    assert initializers.serialize(initializers.OrthogonalInitializer())[
        "class_name"] == "Orthogonal"
    for name in ("Orthogonal", "OrthogonalInitializer", "orthogonal"):
        assert isinstance(initializers.get(name), initializers.Orthogonal)


def test_initializer_get_and_config():
    for name in ("glorot_uniform", "GlorotUniform", "he_normal", "uniform",
                 "normal", "zeros", "Zeros", "orthogonal", "identity",
                 "truncated_normal", "variance_scaling", "lecun_uniform"):
        assert callable(initializers.get(name))
    with pytest.raises(ValueError, match="glorot_uniform"):
        initializers.get("glorot")
    init = initializers.VarianceScaling(scale=2.0, mode="fan_out",
                                        distribution="uniform", seed=5)
    cfg = initializers.serialize(init)
    assert cfg["class_name"] == "VarianceScaling"
    init2 = initializers.get(cfg)
    np.testing.assert_array_equal(init((3, 4)), init2((3, 4)))
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan")
    v = Variable("he_uniform", shape=(3, 2), name="k")
    assert v.shape == (3, 2)


def test_constraints():
    w = np.array([[3.0, 0.1], [4.0, -0.2]], np.float32)  # column norms 5, .22
    np.testing.assert_allclose(constraints.MaxNorm(2.0)(w),
                               w * np.array([2 / 5, 1.0]), rtol=1e-5)
    np.testing.assert_allclose(constraints.NonNeg()(w),
                               [[3.0, 0.1], [4.0, 0.0]], rtol=1e-6)
    n = np.linalg.norm(w, axis=0)
    np.testing.assert_allclose(constraints.UnitNorm()(w), w / n, rtol=1e-5)
    mm = constraints.MinMaxNorm(1.0, 2.0, rate=0.5)(w)
    desired = 0.5 * np.clip(n, 1, 2) + 0.5 * n
    np.testing.assert_allclose(mm, w * desired / n, rtol=1e-5)
    assert isinstance(constraints.get("max_norm"), constraints.MaxNorm)
    assert isinstance(constraints.get("non_neg"), constraints.NonNeg)
    assert isinstance(constraints.get("unit_norm"), constraints.UnitNorm)
    assert isinstance(constraints.get("min_max_norm"),
                      constraints.MinMaxNorm)
    c = constraints.get(constraints.serialize(constraints.MaxNorm(3, axis=1)))
    assert c.get_config() == {"max_value": 3, "axis": 1}
    with pytest.raises(ValueError, match="max_norm"):
        constraints.get("maxnormm")
    v = Variable(w, name="w")
    assert constraints.NonNeg()(v).shape == (2, 2)


def test_regularizers():
    x = np.array([[1.0, -2.0], [3.0, -4.0]], np.float32)
    assert float(regularizers.L1(0.1)(x)) == pytest.approx(1.0)
    assert float(regularizers.L2(0.1)(x)) == pytest.approx(3.0)
    assert float(regularizers.l2(0.01)(x)) == pytest.approx(0.3)
    assert float(regularizers.L2(l=0.5)(x)) == pytest.approx(15.0)
    assert float(regularizers.L1L2(l1=0.1, l2=0.1)(x)) == pytest.approx(4.0)
    assert float(regularizers.l1_l2()(x)) == 0.0  # Keras 3 defaults: 0, 0
    rows = x / np.linalg.norm(x, axis=1, keepdims=True)
    off = abs((rows @ rows.T)[0, 1])
    assert float(regularizers.OrthogonalRegularizer(0.1)(x)) == \
        pytest.approx(0.1 * 0.5 * 2 * off / 1.0, rel=1e-5)
    assert isinstance(regularizers.get("l2"), regularizers.L2)
    assert regularizers.get("l1").l1 == 0.01
    r = regularizers.get(regularizers.serialize(regularizers.L1L2(0.2, 0.3)))
    assert r.get_config() == {"l1": 0.2, "l2": 0.3}
    with pytest.raises(ValueError, match="l1"):
        regularizers.L1(-1.0)
    with pytest.raises(ValueError, match="l1_l2"):
        regularizers.get("l3")


def test_regularizer_is_differentiable():
    from gkeras.ops import GradientTape
    v = Variable(np.array([1.0, -2.0]), name="w")
    with GradientTape() as tape:
        p = regularizers.L1L2(l1=0.1, l2=0.5)(v)
    g = tape.gradient(p, [v])[0]
    np.testing.assert_allclose(g, 0.1 * np.sign([1, -2]) + 2 * 0.5 *
                               np.array([1.0, -2.0]), rtol=1e-6)
