"""The CNN's fused JIT passes (backend/cpu/cnn_jit.py, batchnorm.py's
kernels) against the NumPy path (`jit.disabled()`) and float64 references.

1. BatchNorm training forward and backward: odd shapes (one row, odd
   channel counts), with and without scale/offset, float32 and float64,
   a large mean (the shifted one-pass variance), constant channels, NaN
   and inf, and the fallbacks (non-contiguous, float16);
2. BatchNorm inference (`affine_channels_last`): NumPy's exact values;
3. im2col (forward, kernel gradient) and col2im (`conv_backward_input`):
   strides, dilation, asymmetric and oversized padding, 1-D, batch 1,
   against float64 loop references, and the fallbacks (3-D, groups);
4. max pooling with taps, values only, and the tap-routed backward: ties,
   NaN, +-inf, strides above the pool, odd sizes, 1-D; NumPy's exact values;
5. ReLU with its mask and its backward: NumPy's exact values (NaN, inf,
   signed zeros), inference without a mask;
6. a Conv-BN-ReLU-pool training step through the layers, both paths;
7. the conv layers' bias added in the Conv node: fused vs separate add vs
   NumPy, both data formats, float64 reference, `add_bias_` fallbacks;
8. convolutions in blocks of samples (`conv_blocks`) on 3 pool threads,
   one sample a block, against the whole batch and the references; what
   they decline; an empty batch through every path.
"""

import os
import sys

import numpy as np
import pytest

pytest.importorskip("numba")
pytestmark = pytest.mark.usefixtures("jit_on")

sys.path.insert(0, os.path.dirname(__file__))
from test_conv_pool_bn_primitives import (  # noqa: E402
    ref_bn, ref_conv, ref_pool)

import gkeras  # noqa: E402
from gkeras import ops  # noqa: E402
from gkeras.backend.cpu import batchnorm as cpu_bn  # noqa: E402
from gkeras.backend.cpu import cnn_jit  # noqa: E402
from gkeras.backend.cpu import conv as cpu_conv  # noqa: E402
from gkeras.backend.cpu import jit  # noqa: E402
from gkeras.backend.cpu import pool as cpu_pool  # noqa: E402
from gkeras.ops.engine import GradientTape, Tensor  # noqa: E402


def both(fn, *args):
    """`fn(*args)` with the JIT, then with the NumPy path."""
    assert jit.enabled()
    fused = fn(*args)
    with jit.disabled():
        plain = fn(*args)
    return fused, plain


def same_bits(a, b):
    """Equal values, NaN where NaN, and the same sign on zeros."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.signbit(a), np.signbit(b))


# ------------------------------------------------------------- batchnorm
def ref_bn_backward(dy, x, gamma, eps):
    x, dy = x.astype(np.float64), dy.astype(np.float64)
    mean = x.mean(0)
    inv = 1.0 / np.sqrt(((x - mean) ** 2).mean(0) + eps)
    xhat = (x - mean) * inv
    dbeta, dgamma = dy.sum(0), (dy * xhat).sum(0)
    g = 1.0 if gamma is None else gamma.astype(np.float64)
    m = x.shape[0]
    return g * inv * (dy - dbeta / m - xhat * dgamma / m), dgamma, dbeta


BN_SHAPES = [(1, 3), (2, 1), (7, 5), (130, 33), (4096, 32)]


@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_train_matches_numpy_and_reference(shape, dtype, affine):
    r = np.random.default_rng(0)
    x = (r.standard_normal(shape) * 2 + 3).astype(dtype)
    dy = r.standard_normal(shape).astype(dtype)
    gamma = r.standard_normal(shape[1]).astype(dtype) if affine else None
    beta = r.standard_normal(shape[1]).astype(dtype) if affine else None
    fwd, fwd0 = both(cpu_bn.batchnorm_forward_train, x, gamma, beta, 1e-3)
    y_ref, mean_ref, var_ref = ref_bn(x, gamma, beta, 1e-3)
    tol = 2e-5 if dtype == np.float32 else 1e-10
    for got, plain, ref in zip(fwd, fwd0, (y_ref, mean_ref, var_ref)):
        assert got.dtype == dtype and got.shape == plain.shape
        np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * 10)
        np.testing.assert_allclose(got, plain, rtol=tol, atol=tol * 10)
    np.testing.assert_allclose(fwd[3], 1 / np.sqrt(var_ref + 1e-3),
                               rtol=tol)
    _, mean, _, inv = fwd
    bwd, bwd0 = both(cpu_bn.batchnorm_backward, dy, x, gamma, mean, inv)
    refs = ref_bn_backward(dy, x, gamma, 1e-3)
    for i, (got, plain, ref) in enumerate(zip(bwd, bwd0, refs)):
        if i == 1 and not affine:
            assert got is None and plain is None
            continue
        assert got.dtype == dtype
        scale = max(1.0, np.abs(ref).max())
        np.testing.assert_allclose(got, ref, rtol=tol * 10,
                                   atol=tol * 10 * scale)
        np.testing.assert_allclose(got, plain, rtol=tol * 10,
                                   atol=tol * 10 * scale)


def test_batchnorm_large_mean_and_constant_channel():
    r = np.random.default_rng(1)
    x = (r.standard_normal((513, 4)) + 1e4).astype(np.float32)
    x[:, 2] = 7.0                         # variance exactly 0
    x[0, 3] = 1e4 + 40                    # shift far from the mean
    y, mean, var, inv = cpu_bn.batchnorm_forward_train(x, None, None, 1e-3)
    y_ref, mean_ref, var_ref = ref_bn(x, None, None, 1e-3)
    np.testing.assert_allclose(mean, mean_ref, rtol=1e-7)
    np.testing.assert_allclose(var, var_ref, rtol=1e-4, atol=1e-6)
    assert var[2] == 0 and np.all(y[:, 2] == 0)
    np.testing.assert_allclose(y, y_ref, atol=2e-3)


def test_batchnorm_nan_and_inf_spread_as_in_numpy():
    x = np.random.default_rng(2).standard_normal((9, 4)).astype(np.float32)
    x[3, 0], x[5, 1], x[0, 2] = np.nan, np.inf, -np.inf
    fwd, fwd0 = both(cpu_bn.batchnorm_forward_train, x, None, None, 1e-3)
    for got, plain in zip(fwd, fwd0):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(plain))
    assert np.isnan(fwd[0][:, :3]).all() and np.isfinite(fwd[0][:, 3]).all()
    dy = np.ones_like(x)
    dy[2, 3] = np.nan
    bwd, bwd0 = both(cpu_bn.batchnorm_backward, dy, x, None, fwd[1],
                     fwd[3])
    for got, plain in ((bwd[0], bwd0[0]), (bwd[2], bwd0[2])):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(plain))


def test_batchnorm_fallbacks_run_numpy():
    r = np.random.default_rng(3)
    x = r.standard_normal((10, 6)).astype(np.float32)
    strided = x[:, ::2]                      # not C-contiguous
    y, mean, var, inv = cpu_bn.batchnorm_forward_train(strided, None, None,
                                                       1e-3)
    np.testing.assert_allclose(y, ref_bn(strided, None, None, 1e-3)[0],
                               atol=1e-5)
    h = x.astype(np.float16)                 # no kernel for float16
    y16, *_ = cpu_bn.batchnorm_forward_train(h, None, None, 1e-3)
    assert y16.dtype == np.float16
    with jit.disabled():
        y16b, *_ = cpu_bn.batchnorm_forward_train(h, None, None, 1e-3)
    np.testing.assert_array_equal(y16, y16b)


@pytest.mark.parametrize("shape", [(1, 1, 1, 3), (5, 7), (2, 3, 5, 33)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batchnorm_inference_is_numpys_exact_values(shape, dtype):
    r = np.random.default_rng(4)
    x = r.standard_normal(shape).astype(dtype)
    x.reshape(-1)[0] = np.nan
    c = shape[-1]
    mean, var = r.standard_normal(c).astype(dtype), r.random(c).astype(dtype)
    off, sc = r.standard_normal(c).astype(dtype), r.random(c).astype(dtype)
    y, y0 = both(lambda: np.asarray(ops.batch_normalization(
        x, mean, var, axis=-1, offset=off, scale=sc, epsilon=1e-3)))
    same_bits(y, y0)
    ref = (x.astype(np.float64) - mean) / np.sqrt(var + 1e-3) * sc + off
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)
    fused = cpu_bn.affine_channels_last(x, sc, off)
    same_bits(fused, x * sc + off)


# ---------------------------------------------------------------- col2im
def ref_conv_input(dy, w, x_shape, strides, padding, dil):
    """The input gradient by loops over output cells, float64."""
    dy, w = dy.astype(np.float64), w.astype(np.float64)
    rank = len(x_shape) - 2
    dx = np.zeros(x_shape)
    for o in np.ndindex(*dy.shape[1:-1]):
        for t in np.ndindex(*w.shape[:rank]):
            pos = [o[i] * strides[i] - padding[i][0] + t[i] * dil[i]
                   for i in range(rank)]
            if all(0 <= p < x_shape[1 + i] for i, p in enumerate(pos)):
                dx[(slice(None), *pos)] += dy[(slice(None), *o)] @ w[t].T
    return dx


# (x_shape, kernel_size, strides, padding, dilation)
COL2IM_CASES = [
    ((2, 9, 8, 5), (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1)),
    ((1, 7, 6, 3), (3, 2), (2, 3), ((0, 2), (1, 0)), (1, 1)),
    ((2, 8, 7, 2), (3, 3), (1, 2), ((2, 2), (0, 1)), (2, 1)),
    ((1, 1, 1, 2), (5, 5), (1, 1), ((2, 2), (2, 2)), (1, 1)),
    ((2, 3, 4, 2), (3, 3), (1, 1), ((4, 3), (0, 5)), (1, 1)),
    ((3, 11, 4), (3,), (2,), ((1, 1),), (1,)),
    ((1, 6, 3), (2,), (1,), ((0, 0),), (3,)),
]


@pytest.mark.parametrize("case", COL2IM_CASES, ids=range(len(COL2IM_CASES)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_col2im_matches_numpy_and_reference(case, dtype):
    xs, ks, st, pad, dil = case
    r = np.random.default_rng(5)
    w = r.standard_normal((*ks, xs[-1], 4)).astype(dtype)
    out = cpu_conv.conv_output_shape(xs, w.shape, st, pad, dil)
    dy = r.standard_normal(out).astype(dtype)
    dx, dx0 = both(cpu_conv.conv_backward_input, dy, w, xs, st, pad, dil, 1)
    assert dx.shape == xs and dx.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    ref = ref_conv_input(dy, w, xs, st, pad, dil)
    np.testing.assert_allclose(dx, ref, rtol=tol, atol=tol)
    np.testing.assert_allclose(dx, dx0, rtol=tol, atol=tol)
    # the whole-batch col2im (taken when `dy` is not contiguous)
    dcol = dy.reshape(-1, dy.shape[-1]) @ w.reshape(-1, w.shape[-1]).T
    whole = cnn_jit.col2im(dcol, xs, ks, dy.shape[1:-1], st, pad, dil)
    np.testing.assert_allclose(whole, ref, rtol=tol, atol=tol)
    strided = np.concatenate([dy, dy], axis=-1)[..., :dy.shape[-1]]
    np.testing.assert_allclose(cpu_conv.conv_backward_input(
        strided, w, xs, st, pad, dil, 1), ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("case", COL2IM_CASES, ids=range(len(COL2IM_CASES)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_im2col_forward_and_kernel_gradient(case, dtype):
    xs, ks, st, pad, dil = case
    xs = (*xs[:-1], 6)          # from 5 channels on: channels-last patches
    r = np.random.default_rng(13)
    x = r.standard_normal(xs).astype(dtype)
    w = r.standard_normal((*ks, 6, 3)).astype(dtype)
    (y, cols), (y0, cols0) = both(cpu_conv.conv_forward_keep_cols, x, w, st,
                                  pad, dil, 1)
    np.testing.assert_array_equal(cols, cols0)
    assert cols.flags.c_contiguous and cols.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    ref = ref_conv(x, w, st, pad, dil, 1)
    np.testing.assert_allclose(y, ref, rtol=tol, atol=tol)
    np.testing.assert_allclose(y, y0, rtol=tol, atol=tol)
    dy = r.standard_normal(y.shape).astype(dtype)
    dw = cpu_conv.conv_backward_kernel_from_cols(dy, cols, w.shape, 1)
    dw_ref = np.zeros(w.shape)
    x64, dy64 = x.astype(np.float64), dy.astype(np.float64)
    rank = len(ks)
    for o in np.ndindex(*y.shape[1:-1]):
        for t in np.ndindex(*ks):
            pos = [o[i] * st[i] - pad[i][0] + t[i] * dil[i]
                   for i in range(rank)]
            if all(0 <= p < xs[1 + i] for i, p in enumerate(pos)):
                dw_ref[t] += x64[(slice(None), *pos)].T @ dy64[
                    (slice(None), *o)]
    np.testing.assert_allclose(dw, dw_ref, rtol=tol * 10, atol=tol * 10)
    dw2, dw20 = both(cpu_conv.conv_backward_kernel, dy, x, w.shape, st, pad,
                     dil, 1)
    np.testing.assert_allclose(dw2, dw_ref, rtol=tol * 10, atol=tol * 10)
    np.testing.assert_allclose(dw20, dw_ref, rtol=tol * 10, atol=tol * 10)


def test_col2im_fallbacks_return_none_and_conv_still_works():
    r = np.random.default_rng(6)
    dcol = r.standard_normal((2 * 3 * 3 * 3, 8)).astype(np.float32)
    assert cnn_jit.col2im(dcol, (2, 3, 3, 3, 1), (2, 2, 2), (3, 3, 3),
                          (1, 1, 1), ((1, 0),) * 3, (1, 1, 1)) is None
    assert cnn_jit.col2im(dcol.astype(np.float16), (2, 3, 3, 4), (2, 2),
                          (3, 3), (1, 1), ((1, 0),) * 2, (1, 1)) is None
    x3 = r.standard_normal((1, 3, 3, 3, 6)).astype(np.float32)
    assert cnn_jit.im2col(x3, (2, 2, 2), (2, 2, 2), (1, 1, 1), ((0, 0),) * 3,
                          (1, 1, 1)) is None
    assert cnn_jit.im2col(x3[0, ..., ::2], (2, 2), (2, 2), (1, 1),
                          ((0, 0),) * 2, (1, 1)) is None
    # grouped and 3-D convolutions take the NumPy col2im
    for xs, ks, g in (((1, 5, 4, 4), (3, 3), 2), ((1, 3, 4, 3, 2),
                                                   (2, 2, 2), 1)):
        rank = len(ks)
        w = r.standard_normal((*ks, xs[-1] // g, 4)).astype(np.float32)
        args = ((1,) * rank, ((1, 0),) * rank, (1,) * rank, g)
        out = cpu_conv.conv_output_shape(xs, w.shape, *args)
        dy = r.standard_normal(out).astype(np.float32)
        dx, dx0 = both(cpu_conv.conv_backward_input, dy, w, xs, *args)
        np.testing.assert_array_equal(dx, dx0)


# --------------------------------------------------------------- pooling
# (x_shape, pool, strides): unpadded windows side by side or apart
POOL_CASES = [
    ((2, 8, 6, 3), (2, 2), (2, 2)),
    ((1, 7, 5, 2), (2, 2), (2, 2)),           # odd sizes: cells left out
    ((3, 9, 4), (3,), (4,)),                  # 1-D, stride above the pool
    ((1, 5, 6, 1), (1, 3), (2, 3)),
    ((2, 4, 4, 33), (1, 1), (1, 1)),
    ((1, 9, 9, 2), (3, 3), (3, 3)),
]


def _pool_input(xs, dtype):
    r = np.random.default_rng(7)
    x = np.maximum(r.standard_normal(xs), 0).astype(dtype)   # ties at 0
    flat = x.reshape(-1)
    flat[::7] = 1.0
    flat[3::11] = np.nan
    flat[5::13] = np.inf
    flat[6::17] = -np.inf
    flat[8::19] = -0.0
    return x


@pytest.mark.parametrize("case", POOL_CASES, ids=range(len(POOL_CASES)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_taps_values_and_backward_are_numpys(case, dtype):
    xs, pool, st = case
    pad = ((0, 0),) * len(pool)
    x = _pool_input(xs, dtype)
    (y, tap), (y0, tap0) = both(cpu_pool.max_pool_forward_taps, x, pool, st,
                                pad)
    same_bits(y, y0)
    np.testing.assert_array_equal(tap, tap0)
    v, v0 = both(cpu_pool.max_pool_values, x, pool, st, pad)
    same_bits(v, y0)
    same_bits(v0, y0)
    dy = np.random.default_rng(8).standard_normal(y.shape).astype(dtype)
    dy.reshape(-1)[::5] = -dy.reshape(-1)[::5]
    dy.reshape(-1)[4] = np.nan
    dx, dx0 = both(cpu_pool.max_pool_backward_taps, dy, xs, tap, pool, st)
    same_bits(dx, dx0)


@pytest.mark.parametrize("case", POOL_CASES[:4], ids=range(4))
def test_max_pool_jit_against_float64_reference(case):
    xs, pool, st = case
    pad = ((0, 0),) * len(pool)
    x = np.random.default_rng(9).standard_normal(xs).astype(np.float32)
    y, tap = cpu_pool.max_pool_forward_taps(x, pool, st, pad)
    np.testing.assert_array_equal(y, ref_pool(x, pool, st, pad, "max"))
    # The gradient lands on each window's winner, nowhere else.
    dy = np.random.default_rng(10).standard_normal(y.shape).astype(
        np.float32)
    dx = cpu_pool.max_pool_backward_taps(dy, xs, tap, pool, st)
    np.testing.assert_allclose(dx.sum(), dy.astype(np.float64).sum(),
                               rtol=1e-5)
    hit = dx != 0
    assert hit.sum() == dy.size
    np.testing.assert_array_equal(np.sort(dx[hit]), np.sort(dy.ravel()))


def test_max_pool_values_with_overlap_and_fallbacks():
    x = _pool_input((2, 9, 8, 3), np.float32)
    # overlapping windows: values are fused, taps are not
    v, v0 = both(cpu_pool.max_pool_values, x, (3, 3), (2, 2),
                 ((0, 0), (0, 0)))
    same_bits(v, v0)
    assert cnn_jit.max_pool_values(x[:, ::2], (2, 2), (2, 2),
                                   (4, 4)) is None          # strided
    x3 = _pool_input((1, 4, 4, 4, 2), np.float32)           # 3-D: NumPy
    assert cnn_jit.max_pool_taps(x3, (2, 2, 2), (2, 2, 2),
                                 (2, 2, 2)) is None
    (y, tap), (y0, tap0) = both(cpu_pool.max_pool_forward_taps, x3,
                                (2, 2, 2), (2, 2, 2), ((0, 0),) * 3)
    same_bits(y, y0)
    # padded windows keep the NumPy path
    p, p0 = both(cpu_pool.max_pool_values, x, (2, 2), (2, 2),
                 ((1, 0), (0, 1)))
    same_bits(p, p0)


# ------------------------------------------------------------------ ReLU
@pytest.mark.parametrize("shape", [(1,), (3, 5), (2, 7, 3, 33), (64, 1000)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_and_mask_are_numpys(shape, dtype, monkeypatch):
    monkeypatch.setattr(cnn_jit, "RELU_MIN_ELEMENTS", 0)   # every size
    r = np.random.default_rng(11)
    x = r.standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    flat[::3] = -0.0
    flat[1::7] = np.nan
    flat[2::11] = -np.inf
    xt = Tensor(x, requires_grad=True)

    def run():
        with GradientTape() as tape:
            tape.watch(xt)
            y = ops.relu(xt)
            loss = ops.sum(y * np.asarray(2.5, dtype))
        return np.asarray(y), np.asarray(tape.gradient(loss, xt))

    (y, g), (y0, g0) = both(run)
    same_bits(y, y0)
    same_bits(y, np.maximum(x, 0))
    same_bits(g, g0)
    np.testing.assert_array_equal(g, np.where(x > 0, 2.5, 0.0))
    inf, inf0 = both(lambda: np.asarray(ops.relu(x)))        # no mask
    same_bits(inf, inf0)


def test_relu_with_mask_fallbacks(monkeypatch):
    small = np.ones((32, 128), np.float32)         # NumPy is faster there
    assert cnn_jit.relu_with_mask(small, True) is None
    assert cnn_jit.relu_grad(small, small > 0) is None
    assert cnn_jit.relu_with_mask(np.ones((2, 1 << 13), np.float32),
                                  True) is not None
    monkeypatch.setattr(cnn_jit, "RELU_MIN_ELEMENTS", 0)
    x = np.arange(12, dtype=np.float32).reshape(3, 4) - 5
    assert cnn_jit.relu_with_mask(x[:, ::2], True) is None
    assert cnn_jit.relu_with_mask(x.astype(np.int32), True) is None
    assert cnn_jit.relu_with_mask(np.float32(2.0) * np.ones(()),
                                  True) is None
    y, m = cnn_jit.relu_with_mask(x, True)
    np.testing.assert_array_equal(m, x > 0)
    assert cnn_jit.relu_with_mask(x, False)[1] is None
    assert cnn_jit.relu_grad(x[:, ::2], m[:, ::2]) is None
    assert cnn_jit.relu_grad(x, m.astype(np.uint8)) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_grad_is_numpys_multiply_by_the_mask(dtype, monkeypatch):
    monkeypatch.setattr(cnn_jit, "RELU_MIN_ELEMENTS", 0)
    r = np.random.default_rng(14)
    gy = r.standard_normal((3, 5, 7)).astype(dtype)
    gy.reshape(-1)[:6] = [np.nan, np.inf, -np.inf, -1.0, -0.0, 2.0]
    mask = r.random(gy.shape) > 0.5
    mask.reshape(-1)[:6] = False
    with np.errstate(invalid="ignore"):
        same_bits(cnn_jit.relu_grad(gy, mask), gy * mask)


# ------------------------------------------------------------- the layers
def test_conv_bn_relu_pool_training_step_both_paths():
    L = gkeras.layers

    def build():
        gkeras.utils.set_random_seed(0)
        return gkeras.Sequential([
            gkeras.Input((9, 10, 3)),
            L.Conv2D(8, 3, padding="same"), L.BatchNormalization(),
            L.Activation("relu"), L.MaxPooling2D(2),
            L.Conv2D(6, 3, padding="same"), L.BatchNormalization(),
            L.Activation("relu"), L.MaxPooling2D(2),
            L.Flatten(), L.Dense(4)])

    r = np.random.default_rng(12)
    x = r.standard_normal((5, 9, 10, 3)).astype(np.float32)
    proj = r.standard_normal((5, 4)).astype(np.float32)

    def step():
        model = build()
        with GradientTape() as tape:
            loss = ops.sum(model(x, training=True) * proj)
        grads = tape.gradient(loss, model.trainable_weights)
        return ([np.asarray(g) for g in grads]
                + [np.asarray(model(x, training=False))])

    got, plain = both(step)
    for a, b in zip(got, plain):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


# -------------------------------------------------------- conv fused bias
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv_layer_adds_its_bias_in_the_conv_node(data_format, dtype):
    r = np.random.default_rng(15)
    shape = (3, 7, 6, 5) if data_format == "channels_last" else (3, 5, 7, 6)
    x = r.standard_normal(shape).astype(dtype)
    layer = gkeras.layers.Conv2D(4, 3, strides=(2, 1), padding="same",
                                 data_format=data_format, dtype=dtype)
    layer.build(shape)
    layer.bias.assign(r.standard_normal(4).astype(dtype))
    xt = Tensor(x, requires_grad=True)

    def grads(fn):
        with GradientTape() as tape:
            tape.watch(xt)
            y = fn()
            loss = ops.sum(y * ops.sin(y))
        g = tape.gradient(loss, [xt, layer.kernel, layer.bias])
        return [np.asarray(y)] + [np.asarray(a) for a in g]

    fused = grads(lambda: layer(xt))
    unfused = grads(lambda: ops.add(ops.conv(
        xt, layer.kernel, (2, 1), "same", data_format), ops.reshape(
        layer.bias, (4,) if data_format == "channels_last" else (4, 1, 1))))
    with jit.disabled():
        plain = grads(lambda: layer(xt))
    tol = 1e-5 if dtype == "float32" else 1e-12
    for a, b, c in zip(fused, unfused, plain):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
        np.testing.assert_allclose(a, c, rtol=tol, atol=tol)
    # float64 reference of the output and of the bias gradient
    w = np.asarray(layer.kernel).astype(np.float64)
    x_last = x if data_format == "channels_last" else np.moveaxis(x, 1, -1)
    ref = ref_conv(x_last, w, (2, 1), ((1, 1), (1, 1)), (1, 1), 1) \
        + np.asarray(layer.bias, np.float64)
    ref = ref if data_format == "channels_last" else np.moveaxis(ref, -1, 1)
    np.testing.assert_allclose(fused[0], ref, rtol=tol * 10, atol=tol * 10)
    axes = (0, 1, 2) if data_format == "channels_last" else (0, 2, 3)
    np.testing.assert_allclose(
        fused[3], (np.sin(ref) + ref * np.cos(ref)).sum(axes),
        rtol=tol * 10, atol=tol * 10)


def test_add_bias_fallbacks():
    y = np.zeros((4, 6), np.float32)
    b = np.arange(6, dtype=np.float32)
    assert not cnn_jit.add_bias_(y[:, ::2], b[:3])           # strided
    assert not cnn_jit.add_bias_(y, b.astype(np.float64))    # dtypes
    assert not cnn_jit.add_bias_(y, b[:5])                   # shapes
    assert not y.any()
    assert cnn_jit.add_bias_(y, b)
    np.testing.assert_array_equal(y, np.broadcast_to(b, y.shape))
    y16 = np.zeros((2, 6), np.float16)
    cpu_conv.add_bias_(y16, b.astype(np.float16))
    np.testing.assert_array_equal(y16, np.broadcast_to(b, y16.shape))


# ------------------------------------------------------- conv in blocks
@pytest.fixture
def threads_and_blocks(monkeypatch):
    """Three pool threads, every split taken, one sample a block."""
    from gkeras.backend.cpu import conv_blocks, parallel
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 0)
    monkeypatch.setitem(parallel._STATE, "n", 3)
    monkeypatch.setattr(conv_blocks, "BLOCK_BYTES", 1)


@pytest.mark.parametrize("case", COL2IM_CASES, ids=range(len(COL2IM_CASES)))
@pytest.mark.parametrize("keep", [True, False])
def test_blocked_conv_matches_whole_batch_and_reference(case, keep,
                                                        threads_and_blocks):
    xs, ks, st, pad, dil = case
    xs = (5, *xs[1:-1], 7)
    r = np.random.default_rng(16)
    x = r.standard_normal(xs).astype(np.float32)
    w = r.standard_normal((*ks, 7, 3)).astype(np.float32)
    bias = r.standard_normal(3).astype(np.float32)
    (y, cols), (y0, cols0) = both(
        lambda: cpu_conv.conv_forward_keep_cols(x, w, st, pad, dil, 1,
                                                keep=keep, bias=bias))
    ref = ref_conv(x, w, st, pad, dil, 1) + bias
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(y, y0, rtol=1e-5, atol=1e-5)
    if keep:
        np.testing.assert_array_equal(cols, cols0)
    else:
        assert cols is None and cols0 is None
    dy = r.standard_normal(y.shape).astype(np.float32)
    dx, dx0 = both(cpu_conv.conv_backward_input, dy, w, xs, st, pad, dil, 1)
    dref = ref_conv_input(dy, w, xs, st, pad, dil)
    np.testing.assert_allclose(dx, dref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dx, dx0, rtol=1e-5, atol=1e-5)


def test_blocked_conv_declines_what_it_does_not_handle():
    from gkeras.backend.cpu import conv_blocks
    r = np.random.default_rng(17)
    x = r.standard_normal((2, 5, 5, 3)).astype(np.float32)
    w = r.standard_normal((3, 3, 3, 4)).astype(np.float32)
    args = ((2, 3, 3, 4), (1, 1), ((0, 0), (0, 0)), (1, 1))
    assert conv_blocks.forward(x, w, *args, None, True, 4) is None  # narrow
    assert conv_blocks.forward(x, w, *args, np.zeros(4), True, 0) is None
    with jit.disabled():
        assert conv_blocks.forward(x, w, *args, None, True, 0) is None
    assert conv_blocks.forward(x, w, *args, None, True, 0) is not None
    dy = r.standard_normal((2, 3, 3, 4)).astype(np.float32)
    assert conv_blocks.backward_input(dy.astype(np.float16), w, x.shape,
                                      *args[1:], 0) is None
    assert conv_blocks.backward_input(dy, w.astype(np.float64), x.shape,
                                      *args[1:], 0) is None


def test_empty_batch_takes_every_path():
    x = np.zeros((0, 5, 5, 6), np.float32)
    w = np.ones((3, 3, 6, 4), np.float32)
    same = ((1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    (y, cols), _ = both(lambda: cpu_conv.conv_forward_keep_cols(
        x, w, *same, keep=True, bias=np.ones(4, np.float32)))
    assert y.shape == (0, 5, 5, 4) and cols.shape == (1, 0, 54)
    dx, _ = both(cpu_conv.conv_backward_input, y, w, x.shape, *same)
    assert dx.shape == x.shape
    (p, tap), _ = both(cpu_pool.max_pool_forward_taps, x, (2, 2), (2, 2),
                       ((0, 0), (0, 0)))
    assert p.shape == tap.shape == (0, 2, 2, 6)
    r, _ = both(lambda: np.asarray(ops.relu(x)))
    assert r.shape == x.shape
