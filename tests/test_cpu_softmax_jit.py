"""The compiled small-array softmax (gkeras/backend/cpu/softmax.py)
against the NumPy path (`jit.disabled()`) and float64 references,
including NaN/inf rows, odd shapes and the cases left to NumPy."""

import numpy as np
import pytest

import gkeras
from gkeras.backend.cpu import jit
from gkeras.backend.cpu import softmax as cpu_softmax
from gkeras.ops.nn import softmax_forward


def _ref(x, axis=-1):
    x = x.astype(np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("shape", [(1, 1), (1, 10), (7, 3), (32, 10),
                                   (2, 3, 5), (256, 10), (4, 250), (33,)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_numpy_and_float64(jit_on, shape, dtype):
    x = (np.random.default_rng(len(shape)).standard_normal(shape) * 20
         ).astype(dtype)
    assert cpu_softmax.softmax_last_axis(x) is not None
    y = softmax_forward(x)
    with jit.disabled():
        y_np = softmax_forward(x)
    assert y.dtype == x.dtype and y.shape == x.shape
    tol = 2e-6 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(y, y_np, rtol=tol, atol=tol * 1e-3)
    np.testing.assert_allclose(y, _ref(x), rtol=tol, atol=tol * 1e-3)


def test_nan_and_inf_rows_as_numpy(jit_on):
    nan, inf = np.nan, np.inf
    x = np.array([[1.0, nan, 2.0], [nan, 1.0, 2.0], [1.0, 2.0, nan],
                  [inf, 1.0, 2.0], [-inf, 0.0, 1.0], [-inf, -inf, -inf],
                  [inf, inf, 0.0], [1e30, -1e30, 0.0],
                  [-0.0, 0.0, 0.0]], "float32")
    y = softmax_forward(x)
    with jit.disabled(), np.errstate(invalid="ignore"):
        y_np = softmax_forward(x)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(y_np))
    np.testing.assert_allclose(y, y_np, rtol=1e-6, atol=1e-7)


def test_left_to_numpy(jit_on):
    rng = np.random.default_rng(1)
    big = rng.standard_normal((8, 200)).astype("float32")
    long_short = rng.standard_normal((1000, 10)).astype("float32")
    strided = rng.standard_normal((10, 12)).astype("float32")[:, ::2]
    for x in (big, long_short, strided, np.zeros((0, 3), "float32"),
              rng.standard_normal((3, 4)).astype("float16"),
              np.float32(1.0) + np.zeros((), "float32")):
        assert cpu_softmax.softmax_last_axis(x) is None
    for x in (big, long_short, strided):
        np.testing.assert_allclose(softmax_forward(x), _ref(x), rtol=2e-6,
                                   atol=1e-9)
    # Another axis: NumPy's passes.
    x = rng.standard_normal((4, 5)).astype("float32")
    np.testing.assert_allclose(softmax_forward(x, 0), _ref(x, 0),
                               rtol=2e-6)
    with jit.disabled():
        assert cpu_softmax.softmax_last_axis(x) is None


def test_op_and_activation_use_it_with_gradients(jit_on):
    x = np.random.default_rng(2).standard_normal((5, 7)).astype("float32")
    y = gkeras.ops.softmax(x)
    np.testing.assert_allclose(np.asarray(y), _ref(x), rtol=2e-6)
    t = gkeras.Variable(x)
    with gkeras.ops.GradientTape() as tape:
        loss = gkeras.ops.sum(gkeras.ops.softmax(t) * np.arange(
            7, dtype="float32"))
    g = np.asarray(tape.gradient(loss, t))
    p = _ref(x)
    w = np.arange(7.0)
    np.testing.assert_allclose(g, p * (w - (p * w).sum(-1, keepdims=True)),
                               rtol=1e-5, atol=1e-6)
