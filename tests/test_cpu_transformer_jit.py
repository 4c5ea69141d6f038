"""The JIT-compiled CPU passes of the Transformer block, against float64
references, with the JIT on and off (`jit.disabled()`: the NumPy
reference path).

1. `backend.cpu.affine`: the Dense epilogue (bias add + ReLU forward in
   place; ReLU mask times gradient with the bias gradient), NaN/-0.0
   semantics, fallbacks (other dtypes, non-contiguous arrays), and the
   `ops.affine` node's gradients by finite differences;
2. `backend.cpu.layernorm`: LayerNormalization forward and backward
   (plain and `rms_scaling`, with and without gamma/beta, epsilon, one
   row, odd widths), the split over the pool equal to the inline run,
   and `ops.layer_normalization` over a non-last axis (the transposing
   route) by finite differences;
3. `backend.cpu.attention_blocks`: the compiled `exp` + row sum (+
   normalisation) of the forward and the softmax gradient of the
   backward, in training and inference, against the NumPy path, float64
   and finite differences.
"""

import contextlib
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_attention_layernorm_primitives import (  # noqa: E402
    numgrad, ref_layernorm)

from gkeras import ops  # noqa: E402
from gkeras.ops.affine import affine  # noqa: E402
from gkeras.backend.cpu import affine as cpu_affine  # noqa: E402
from gkeras.backend.cpu import jit  # noqa: E402
from gkeras.backend.cpu import layernorm as cpu_ln  # noqa: E402
from gkeras.ops.engine import GradientTape, Tensor  # noqa: E402

# Without numba both modes run the NumPy path (the fallback is tested);
# only the test calling a kernel directly needs numba itself.
HAS_NUMBA = jit._numba() is not None
MODES = ["jit", "numpy"]


@pytest.fixture(autouse=True)
def _kernels_on_small_arrays(monkeypatch):
    """The odd small shapes here go through the compiled epilogue too (by
    default arrays below `JIT_MIN_ELEMENTS` take the NumPy ufuncs)."""
    monkeypatch.setattr(cpu_affine, "JIT_MIN_ELEMENTS", 1)


def _mode(mode):
    return jit.disabled() if mode == "numpy" else contextlib.nullcontext()


# ------------------------------------------------------------ Dense epilogue

def ref_epilogue(y, bias, relu):
    y = np.asarray(y, np.float64)
    if bias is not None:
        y = y + bias
    return np.maximum(y, 0) if relu else y


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (5, 13), (3, 4, 33),
                                   (64, 512)])
@pytest.mark.parametrize("relu,has_bias", [(True, True), (True, False),
                                           (False, True)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bias_relu_forward_and_backward(mode, shape, relu, has_bias, dtype):
    rng = np.random.default_rng(1)
    y0 = rng.standard_normal(shape).astype(dtype)
    bias = rng.standard_normal(shape[-1]).astype(dtype) if has_bias else None
    gy = rng.standard_normal(shape).astype(dtype)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    with _mode(mode):
        y = y0.copy()
        out = cpu_affine.bias_relu_forward(y, bias, relu)
        assert out is y and y.dtype == dtype
        np.testing.assert_allclose(y, ref_epilogue(y0, bias, relu),
                                   rtol=tol, atol=tol)
        g, gb = cpu_affine.relu_bias_backward(gy, y, relu, has_bias)
    mask = (ref_epilogue(y0, bias, relu) > 0) if relu else 1.0
    g_ref = gy.astype(np.float64) * mask
    np.testing.assert_allclose(g, g_ref, rtol=tol, atol=tol)
    if has_bias:
        assert gb.shape == (shape[-1],) and gb.dtype == dtype
        np.testing.assert_allclose(
            gb, g_ref.reshape(-1, shape[-1]).sum(0), rtol=10 * tol,
            atol=10 * tol * np.sqrt(g_ref.size))
    else:
        assert gb is None


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.filterwarnings("ignore:invalid value")
def test_epilogue_nan_inf_and_negative_zero_as_numpy(mode):
    y0 = np.array([[np.nan, -0.0, 0.0, -np.inf, np.inf, -1.0, 2.0, 3.0,
                    -5.0]], np.float32)
    gy = np.array([[1.0, np.nan, np.inf, 2.0, np.nan, np.inf, 3.0, -1.0,
                    -np.inf]], np.float32)
    with jit.disabled():
        y_ref = np.maximum(y0.copy(), 0)
        g_ref = gy * (y_ref > 0)
    with _mode(mode):
        y = cpu_affine.bias_relu_forward(y0.copy(), None, True)
        g, gb = cpu_affine.relu_bias_backward(gy, y, True, True)
    np.testing.assert_array_equal(y, y_ref)
    assert not np.signbit(y[0, 1])          # -0.0 -> +0.0, as np.maximum
    np.testing.assert_array_equal(g, g_ref)  # NaN * 0 stays NaN
    np.testing.assert_array_equal(gb, g_ref[0])


def test_epilogue_fallbacks_match_the_reference():
    rng = np.random.default_rng(2)
    base = rng.standard_normal((6, 10)).astype(np.float32)
    bias = rng.standard_normal(5).astype(np.float32)
    # A strided view and float16 take the NumPy path; same results.
    for y0, b in ((base[:, ::2], bias), (base[:, :5].astype(np.float16),
                                         bias.astype(np.float16))):
        with jit.disabled():
            ref = cpu_affine.bias_relu_forward(y0.copy(), b, True)
            g_ref, gb_ref = cpu_affine.relu_bias_backward(y0, ref, True,
                                                          True)
        got = cpu_affine.bias_relu_forward(y0.copy(), b, True)
        g, gb = cpu_affine.relu_bias_backward(y0, got, True, True)
        np.testing.assert_array_equal(got, ref)
        np.testing.assert_array_equal(g, g_ref)
        np.testing.assert_allclose(gb, gb_ref, rtol=1e-3)


def test_epilogue_split_over_the_pool_equals_inline(monkeypatch):
    rng = np.random.default_rng(3)
    y0 = rng.standard_normal((37, 129)).astype(np.float32)
    bias = rng.standard_normal(129).astype(np.float32)
    gy = rng.standard_normal(y0.shape).astype(np.float32)
    y1 = cpu_affine.bias_relu_forward(y0.copy(), bias, True)
    g1, gb1 = cpu_affine.relu_bias_backward(gy, y1, True, True)
    monkeypatch.setattr(cpu_affine, "SPLIT_ELEMENTS", 1)
    from gkeras.backend.cpu import parallel
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    monkeypatch.setattr(parallel, "num_threads", lambda: 3)
    y2 = cpu_affine.bias_relu_forward(y0.copy(), bias, True)
    g2, gb2 = cpu_affine.relu_bias_backward(gy, y2, True, True)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(g1, g2)
    np.testing.assert_allclose(gb1, gb2, rtol=1e-5, atol=1e-5)


def test_affine_inference_without_tape_uses_the_epilogue():
    rng = np.random.default_rng(12)
    x = rng.standard_normal((40, 70)).astype(np.float32)
    k = rng.standard_normal((70, 60)).astype(np.float32)
    b = rng.standard_normal(60).astype(np.float32)
    got = np.asarray(affine(x, k, b, relu=True))
    with jit.disabled():
        ref = np.asarray(affine(x, k, b, relu=True))
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        got, np.maximum(x.astype(np.float64) @ k + b, 0), rtol=1e-4,
        atol=1e-4)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("relu,has_bias", [(True, True), (True, False),
                                           (False, True)])
def test_affine_op_gradients_float64(mode, relu, has_bias):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 5))
    k = rng.standard_normal((5, 7))
    b = rng.standard_normal(7) if has_bias else None
    w = rng.standard_normal((2, 3, 7))
    args = [x, k] + ([b] if has_bias else [])

    def loss():
        return float(np.sum(np.asarray(
            affine(x, k, b, relu=relu)) * w))

    with _mode(mode):
        ts = [Tensor(a, requires_grad=True) for a in args]
        with GradientTape() as tape:
            y = affine(ts[0], ts[1], ts[2] if has_bias else None,
                           relu=relu)
            total = ops.sum(ops.multiply(y, w))
        grads = tape.gradient(total, ts)
        np.testing.assert_allclose(
            np.asarray(y), ref_epilogue(x @ k, b, relu), rtol=1e-12)
        for a, g in zip(args, grads):
            np.testing.assert_allclose(np.asarray(g), numgrad(loss, a),
                                       rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- LayerNorm

LN_SHAPES = [(1, 1), (1, 7), (5, 13), (33, 128), (7, 257)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", LN_SHAPES)
@pytest.mark.parametrize("rms", [False, True])
@pytest.mark.parametrize("has_gamma,has_beta", [(True, True), (True, False),
                                                (False, True),
                                                (False, False)])
def test_layernorm_float32_matches_float64_reference(mode, shape, rms,
                                                     has_gamma, has_beta):
    rng = np.random.default_rng(5)
    M, C = shape
    x = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
    gamma = rng.standard_normal(C).astype(np.float32) if has_gamma else None
    beta = rng.standard_normal(C).astype(np.float32) if has_beta else None
    dy = rng.standard_normal(shape).astype(np.float32)
    eps = 1e-6 if C > 1 else 0.5   # one column: var is 0, eps decides
    with _mode(mode):
        y, mean, inv_std = cpu_ln.layernorm_forward(x, gamma, beta, eps, rms)
        dx, dgamma, dbeta = cpu_ln.layernorm_backward(dy, x, gamma, mean,
                                                      inv_std, rms)
    assert y.dtype == mean.dtype == inv_std.dtype == np.float32
    np.testing.assert_allclose(y, ref_layernorm(x, gamma, beta, eps, rms),
                               rtol=2e-5, atol=2e-5)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(mean, x64.mean(1), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(inv_std, 1 / np.sqrt(x64.var(1) + eps),
                               rtol=1e-5)
    # Float64 gradients of the same function, through the float64 path of
    # the same mode, then compared in float32 tolerance.
    g64 = None if gamma is None else gamma.astype(np.float64)
    b64 = None if beta is None else beta.astype(np.float64)
    _, m64, r64 = cpu_ln.layernorm_forward(x64, g64, b64, eps, rms)
    ref = cpu_ln.layernorm_backward(dy.astype(np.float64), x64, g64, m64,
                                    r64, rms)
    scale = float(np.abs(ref[0]).max()) + 1.0
    np.testing.assert_allclose(dx, ref[0], rtol=1e-4, atol=1e-5 * scale)
    if has_gamma:
        np.testing.assert_allclose(dgamma, ref[1], rtol=1e-4,
                                   atol=1e-4 * np.sqrt(M))
    else:
        assert dgamma is None
    np.testing.assert_allclose(dbeta, ref[2], rtol=1e-4,
                               atol=1e-4 * np.sqrt(M))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("rms", [False, True])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(1, 5), (3, 9)])
def test_layernorm_gradients_by_finite_differences(mode, rms, affine,
                                                   shape):
    rng = np.random.default_rng(6)
    x = rng.standard_normal(shape) * 2 + 0.5
    C = shape[1]
    gamma = rng.standard_normal(C) if affine else None
    beta = rng.standard_normal(C) if affine else None
    w = rng.standard_normal(shape)
    with _mode(mode):
        def loss():
            return np.sum(cpu_ln.layernorm_forward(
                x, gamma, beta, 1e-2, rms)[0] * w)

        y, mean, inv_std = cpu_ln.layernorm_forward(x, gamma, beta, 1e-2,
                                                    rms)
        np.testing.assert_allclose(y, ref_layernorm(x, gamma, beta, 1e-2,
                                                    rms), rtol=1e-12,
                                   atol=1e-12)
        dx, dgamma, dbeta = cpu_ln.layernorm_backward(w, x, gamma, mean,
                                                      inv_std, rms)
        np.testing.assert_allclose(dx, numgrad(loss, x), rtol=1e-5,
                                   atol=1e-7)
        if affine:
            np.testing.assert_allclose(dgamma, numgrad(loss, gamma),
                                       rtol=1e-5, atol=1e-7)
            np.testing.assert_allclose(dbeta, numgrad(loss, beta),
                                       rtol=1e-5, atol=1e-7)


def test_layernorm_nan_row_stays_in_its_row():
    x = np.ones((3, 8), np.float32)
    x[1, 2] = np.nan
    x[2] = np.arange(8)
    with jit.disabled():
        ref = cpu_ln.layernorm_forward(x, None, None, 1e-3)[0]
    got = cpu_ln.layernorm_forward(x, None, None, 1e-3)[0]
    assert np.isnan(got[1]).all() and np.isnan(ref[1]).all()
    np.testing.assert_allclose(got[[0, 2]], ref[[0, 2]], rtol=1e-5,
                               atol=1e-6)


def test_layernorm_fallbacks_and_split(monkeypatch):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((41, 24)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    gamma = rng.standard_normal(24).astype(np.float32)
    beta = rng.standard_normal(24).astype(np.float32)
    y1, m1, r1 = cpu_ln.layernorm_forward(x, gamma, beta, 1e-3)
    d1 = cpu_ln.layernorm_backward(dy, x, gamma, m1, r1)
    # Split over the pool: the same numbers as the inline run.
    from gkeras.backend.cpu import parallel
    monkeypatch.setattr(cpu_ln, "SPLIT_ELEMENTS", 1)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    monkeypatch.setattr(parallel, "num_threads", lambda: 3)
    y2, m2, r2 = cpu_ln.layernorm_forward(x, gamma, beta, 1e-3)
    d2 = cpu_ln.layernorm_backward(dy, x, gamma, m2, r2)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(d1[0], d2[0])
    for a, b in zip(d1[1:], d2[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    # A strided input and float16 take the NumPy path.
    xs = np.asfortranarray(x)
    with jit.disabled():
        ref = cpu_ln.layernorm_forward(xs, gamma, beta, 1e-3)
    got = cpu_ln.layernorm_forward(xs, gamma, beta, 1e-3)
    for a, b in zip(ref, got):
        np.testing.assert_array_equal(a, b)
    x16 = x.astype(np.float16)
    with jit.disabled():
        ref = cpu_ln.layernorm_forward(x16, None, None, 1e-3)[0]
    np.testing.assert_array_equal(
        cpu_ln.layernorm_forward(x16, None, None, 1e-3)[0], ref)


@pytest.mark.parametrize("mode", MODES)
def test_layer_normalization_op_other_axis(mode):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 5, 3))
    gamma, beta = rng.standard_normal(5), rng.standard_normal(5)
    w = rng.standard_normal(x.shape)

    def loss():
        return float(np.sum(np.asarray(ops.layer_normalization(
            x, gamma, beta, axis=1, epsilon=1e-3)) * w))

    with _mode(mode):
        ts = [Tensor(a, requires_grad=True) for a in (x, gamma, beta)]
        with GradientTape() as tape:
            y = ops.layer_normalization(ts[0], ts[1], ts[2], axis=1,
                                        epsilon=1e-3)
            total = ops.sum(ops.multiply(y, w))
        grads = tape.gradient(total, ts)
        xm = np.moveaxis(x, 1, -1)
        ref = np.moveaxis(ref_layernorm(xm, gamma, beta, 1e-3, False), -1, 1)
        np.testing.assert_allclose(np.asarray(y), ref, rtol=1e-12,
                                   atol=1e-12)
        for a, g in zip((x, gamma, beta), grads):
            np.testing.assert_allclose(np.asarray(g), numgrad(loss, a),
                                       rtol=1e-5, atol=1e-7)


# ------------------------------------------- attention softmax gradient

ATT_CASES = [dict(), dict(is_causal=True), dict(mask="key"),
             dict(dropout_rate=0.3, seed=5),
             dict(mask="key", fully_masked="zero")]


def _attention_args(rng, case, dtype, B=2, H=3, Tq=5, Tk=7, D=4):
    q, k, v = (rng.standard_normal((B, H, T, D)).astype(dtype)
               for T in (Tq, Tk, Tk))
    case = dict(case)
    if case.get("mask") == "key":
        m = rng.random((B, 1, 1, Tk)) > 0.3
        m[0, 0, 0, :] = False   # a fully masked sample
        case["mask"] = m
    return q, k, v, case


@pytest.mark.parametrize("case", ATT_CASES)
def test_attention_backward_jit_matches_numpy_and_float64(case):
    from gkeras.backend.cpu import attention as cpu_attn
    rng = np.random.default_rng(9)
    q, k, v, kw = _attention_args(rng, case, np.float32)
    out, cache = cpu_attn.attention_forward(q, k, v, **kw)
    w = rng.standard_normal(out.shape).astype(np.float32)
    got = cpu_attn.attention_backward(w, cache)
    with jit.disabled():
        out_ref, cache_ref = cpu_attn.attention_forward(q, k, v, **kw)
        ref = cpu_attn.attention_backward(w, cache_ref)
    np.testing.assert_allclose(out, out_ref, rtol=1e-5, atol=1e-6)
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # Float64 through the compiled pass, against finite differences.
    q, k, v = (a.astype(np.float64) for a in (q, k, v))
    w = w.astype(np.float64)

    def loss():
        return np.sum(cpu_attn.attention_forward(q, k, v, **kw)[0] * w)

    out, cache = cpu_attn.attention_forward(q, k, v, **kw)
    for a, g in zip((q, k, v), cpu_attn.attention_backward(w, cache)):
        np.testing.assert_allclose(g, numgrad(loss, a), rtol=1e-5,
                                   atol=1e-7)


@pytest.mark.skipif(not HAS_NUMBA, reason="needs numba (cpu-jit extra)")
def test_exp_sum_rows_accuracy_and_special_values():
    from gkeras.backend.cpu import attention_blocks as blk
    rng = np.random.default_rng(10)
    x = rng.uniform(-90, 80, (37, 101)).astype(np.float32)
    x[0, :6] = [np.nan, -np.inf, -87.0, -87.5, 0.0, 79.9]
    x[1] = -1e30                       # a masked row, shifted: exp(0) below
    x[1] -= x[1].max()
    for normalise in (False, True):
        s = x.copy()
        inv = np.empty(37, np.float32)
        blk._exp_sum_rows(s, inv, np.empty(101, np.int32), normalise)
        e = np.exp(x.astype(np.float64))
        with np.errstate(invalid="ignore"):
            ref = e / e.sum(1, keepdims=True) if normalise else e
        ok = np.isfinite(ref) & (x > -87.3)
        # ~1-2 ulp for exp (3 roundings more once normalised); values
        # below float32's normal range keep only absolute accuracy.
        np.testing.assert_allclose(s[ok], ref[ok],
                                   rtol=1e-6 if normalise else 3e-7,
                                   atol=1e-37)
        assert np.isnan(s[0, 0]) and np.isnan(inv[0])
        # A NaN row's sum is NaN, and so is the whole normalised row.
        assert np.isnan(s[0]).all() if normalise else \
            (s[0, 1], s[0, 3]) == (0, 0)
        assert (s[1:][x[1:] < -87.34] == 0).all()
        np.testing.assert_allclose(s[1], 1.0 / 101 if normalise else 1.0,
                                   rtol=1e-6)
        np.testing.assert_allclose(inv[2:], 1 / e[2:].sum(1), rtol=1e-6)


@pytest.mark.parametrize("shape", [(1, 1, 1, 1, 1), (2, 3, 5, 7, 4),
                                   (32, 8, 100, 100, 16)])
def test_attention_inference_and_training_forward_jit(shape):
    from gkeras.backend.cpu import attention as cpu_attn
    B, H, Tq, Tk, D = shape
    rng = np.random.default_rng(11)
    # MultiHeadAttention's layout: (B, H, T, D) views of (B, T, H, D).
    q, k, v = (rng.standard_normal((B, T, H, D)).astype(np.float32)
               .transpose(0, 2, 1, 3) for T in (Tq, Tk, Tk))
    ref = cpu_attn.attention_forward(*(a.astype(np.float64)
                                       for a in (q, k, v)))[0]
    for need_backward in (False, True):
        for mode in MODES:
            with _mode(mode):
                out = cpu_attn.attention_forward(
                    q, k, v, need_backward=need_backward)[0]
            np.testing.assert_allclose(out, ref, rtol=1e-5, atol=2e-6)
