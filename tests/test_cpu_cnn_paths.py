"""NumPy fast paths of the BatchNorm CNN step, against float64 references.

1. `conv_backward_input`'s col2im straight into the unpadded input
   gradient: taps cut to the cells they reach (paddings larger than the
   kernel span, taps that reach no cell, strides that leave cells
   uncovered), against float64 finite differences;
2. max pooling that keeps each window's winning tap (windows side by
   side): ties, NaN and -inf windows, 1-3 spatial dims, strides above the
   pool size, against the float64 reference and the flat-index path; the
   op falls back to the flat-index path for padded or overlapping windows;
3. `ops.batch_normalization` on arrays when no tape records (inference):
   the graph path's exact values, float64 reference, any axis, with and
   without scale/offset, and the fallbacks (mixed dtypes, lists);
4. patches of narrow inputs (C <= 4) built channel-first: every
   stride/padding/dilation/rank, forward and kernel gradient against the
   float64 references, and the channels-last layout from 5 channels on;
5. the threaded splits (`backend.cpu.parallel.split_rows`): every split kernel equal
   to its inline run, parts, errors, and the thread-count setting.
"""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_conv_pool_bn_primitives import (  # noqa: E402
    numgrad, ref_conv, ref_max_pool_winners, ref_pool)

import gkeras.backend.cpu as cpu  # noqa: E402
from gkeras import ops  # noqa: E402
from gkeras.backend.cpu import conv as cpu_conv  # noqa: E402
from gkeras.backend.cpu import pool as cpu_pool  # noqa: E402
from gkeras.ops.conv import compute_conv_padding  # noqa: E402
from gkeras.ops.engine import GradientTape, Tensor  # noqa: E402


# (x_shape, kernel_size, strides, padding, dilation, groups, filters)
COL2IM_CASES = [
    ((1, 1, 1, 2), (5, 5), (1, 1), ((2, 2), (2, 2)), (1, 1), 1, 3),
    ((2, 3, 4, 2), (3, 3), (1, 1), ((4, 3), (0, 5)), (1, 1), 1, 2),
    ((1, 7, 6, 2), (2, 2), (3, 3), ((0, 0), (1, 0)), (1, 1), 1, 2),
    ((1, 6, 5, 4), (3, 2), (1, 2), ((2, 1), (1, 1)), (2, 1), 2, 4),
    ((3, 5, 3), (3,), (1,), ((1, 1),), (1,), 1, 4),
    ((1, 3, 4, 3, 2), (2, 3, 2), (2, 1, 1), ((1, 1), (2, 0), (1, 1)),
     (1, 1, 1), 1, 2),
]


@pytest.mark.parametrize("case", COL2IM_CASES, ids=range(len(COL2IM_CASES)))
def test_backward_input_cut_taps(case):
    xs, ks, st, pad, dil, g, f = case
    r = np.random.default_rng(5)
    x = r.standard_normal(xs)
    w = r.standard_normal((*ks, xs[-1] // g, f))
    proj = r.standard_normal(ref_conv(x, w, st, pad, dil, g).shape)

    def loss():
        return float((ref_conv(x, w, st, pad, dil, g) * proj).sum())

    dx = cpu_conv.conv_backward_input(proj, w, x.shape, st, pad, dil, g)
    assert dx.shape == x.shape and dx.dtype == np.float64
    np.testing.assert_allclose(dx, numgrad(loss, x), rtol=1e-6, atol=1e-7)
    dx32 = cpu_conv.conv_backward_input(proj.astype(np.float32),
                                        w.astype(np.float32), x.shape, st,
                                        pad, dil, g)
    assert dx32.dtype == np.float32
    np.testing.assert_allclose(dx32, dx, rtol=1e-4, atol=1e-4)


# (x_shape, pool, strides): windows that neither pad nor overlap
TAP_CASES = [
    ((2, 8, 6, 3), (2, 2), (2, 2)),
    ((1, 7, 5, 2), (2, 2), (2, 2)),           # odd sizes: cells left out
    ((3, 9, 4), (3,), (4,)),                  # stride above the pool
    ((2, 4, 6, 4, 2), (2, 3, 2), (2, 3, 2)),
    ((1, 5, 6, 1), (1, 3), (2, 3)),
    ((2, 4, 4, 2), (1, 1), (1, 1)),
]


def _pool_input(xs, seed):
    r = np.random.default_rng(seed)
    x = np.maximum(r.standard_normal(xs), 0)   # ReLU'd: many tied zeros
    x.reshape(-1)[::7] = 1.0                   # more ties
    return x


@pytest.mark.parametrize("case", TAP_CASES, ids=range(len(TAP_CASES)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_taps_match_flat_winners(case, dtype):
    xs, pool, st = case
    pad = ((0, 0),) * len(pool)
    x = _pool_input(xs, 1).astype(dtype)
    x.reshape(-1)[-1] = -np.inf
    x.reshape(-1)[-2] = -np.inf
    y, tap = cpu_pool.max_pool_forward_taps(x, pool, st, pad)
    assert tap.dtype == np.uint8 and tap.shape == y.shape
    y_ref, flat = cpu.max_pool_forward(x, pool, st, pad)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(
        flat, ref_max_pool_winners(x, pool, st, pad))
    dy = np.random.default_rng(2).standard_normal(y.shape).astype(dtype)
    dx = cpu_pool.max_pool_backward_taps(dy, x.shape, tap, pool, st)
    assert dx.dtype == dtype
    np.testing.assert_array_equal(
        dx, cpu.max_pool_backward(dy, x, flat, pool, st, pad))


def test_max_pool_taps_nan_windows_go_to_tap_zero():
    x = np.ones((1, 4, 4, 2), np.float32)
    x[0, 1, 1, 0] = np.nan                      # last tap of window (0, 0)
    x[0, 0, 2, 1] = np.nan                      # first tap of window (0, 1)
    x[0, 1, 3, 1] = 5.0
    x[0, 2, 2, 0] = np.inf                      # inf: no false fix-up
    x[0, 3, 3, 0] = -np.inf
    y, tap = cpu_pool.max_pool_forward_taps(x, (2, 2), (2, 2),
                                            ((0, 0), (0, 0)))
    y_ref, flat = cpu.max_pool_forward(x, (2, 2), (2, 2), ((0, 0), (0, 0)))
    np.testing.assert_array_equal(y, y_ref)
    assert np.isnan(y[0, 0, 0, 0]) and np.isnan(y[0, 0, 1, 1])
    assert tap[0, 0, 0, 0] == 0 and tap[0, 0, 1, 1] == 0
    assert flat[0, 0, 0, 0] == 0 and flat[0, 0, 1, 1] == 2
    assert tap[0, 1, 1, 0] == 0 and tap[0, 1, 0, 1] == 0
    dy = np.arange(y.size, dtype=np.float32).reshape(y.shape) + 1
    np.testing.assert_array_equal(
        cpu_pool.max_pool_backward_taps(dy, x.shape, tap, (2, 2), (2, 2)),
        cpu.max_pool_backward(dy, x, flat, (2, 2), (2, 2), ((0, 0), (0, 0))))


@pytest.mark.parametrize("case", TAP_CASES[:4], ids=range(4))
def test_max_pool_taps_gradient_against_reference(case):
    xs, pool, st = case
    pad = ((0, 0),) * len(pool)
    x = np.random.default_rng(3).standard_normal(xs)   # no ties
    y, tap = cpu_pool.max_pool_forward_taps(x, pool, st, pad)
    np.testing.assert_array_equal(y, ref_pool(x, pool, st, pad, "max"))
    proj = np.random.default_rng(4).standard_normal(y.shape)

    def loss():
        return float((ref_pool(x, pool, st, pad, "max") * proj).sum())

    dx = cpu_pool.max_pool_backward_taps(proj, x.shape, tap, pool, st)
    np.testing.assert_allclose(dx, numgrad(loss, x), rtol=1e-6, atol=1e-7)


def test_max_pool_taps_reject_padded_or_overlapping_windows():
    x = np.zeros((1, 6, 6, 1))
    assert cpu_pool.taps_cover((2, 2), (2, 3), ((0, 0), (0, 0)))
    for st, pad in [((1, 2), ((0, 0), (0, 0))),
                    ((2, 2), ((0, 1), (0, 0)))]:
        assert not cpu_pool.taps_cover((2, 2), st, pad)
        with pytest.raises(ValueError, match="max_pool_forward"):
            cpu_pool.max_pool_forward_taps(x, (2, 2), st, pad)
    with pytest.raises(ValueError, match="shape"):
        cpu_pool.max_pool_backward_taps(np.zeros((1, 3, 3, 1)), x.shape,
                                        np.zeros((1, 2, 3, 1), np.uint8),
                                        (2, 2), (2, 2))


@pytest.mark.parametrize("strides,padding,path", [
    (2, "valid", "tap"), (3, "valid", "tap"), (1, "valid", "argmax"),
    (2, "same", "argmax")])
def test_max_pool_op_paths(strides, padding, path):
    x = _pool_input((2, 7, 5, 3), 6)
    xt = Tensor(x)
    with GradientTape() as tape:
        tape.watch(xt)
        y = ops.max_pool(xt, 2, strides=strides, padding=padding)
        w = np.arange(y.size, dtype=np.float64).reshape(y.shape)
        loss = ops.sum(ops.multiply(y, w))
    node = y.creator
    assert (node.tap is not None) == (path == "tap")
    assert (node.argmax is not None) == (path == "argmax")
    (gx,) = tape.gradient(loss, [xt])
    st = (strides,) * 2
    pads = compute_conv_padding((7, 5), (2, 2), st, padding, (1, 1))
    flat = ref_max_pool_winners(x, (2, 2), st, pads)
    want = cpu.max_pool_backward(w, x, flat, (2, 2), st, pads)
    np.testing.assert_array_equal(np.asarray(gx), want)


# --------------------------------------------- batch_normalization inference
def _bn_ref(x, mean, var, offset, scale, axis, eps):
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    f = [None if v is None else np.asarray(v, np.float64).reshape(shape)
         for v in (mean, var, offset, scale)]
    y = (x.astype(np.float64) - f[0]) / np.sqrt(f[1] + eps)
    if f[3] is not None:
        y = y * f[3]
    if f[2] is not None:
        y = y + f[2]
    return y


@pytest.mark.parametrize("shape,axis", [((2, 5, 3, 4), -1), ((3, 4, 2, 5), 1),
                                        ((1, 7), -1), ((2, 3, 1), 0)])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_normalization_inference_path(shape, axis, affine, dtype):
    r = np.random.default_rng(7)
    x = (r.standard_normal(shape) * 3 + 1).astype(dtype)
    c = shape[axis]
    mean = r.standard_normal(c).astype(dtype)
    var = r.random(c).astype(dtype)
    off = r.standard_normal(c).astype(dtype) if affine else None
    sc = r.standard_normal(c).astype(dtype) if affine else None
    y = ops.batch_normalization(x, mean, var, axis=axis, offset=off,
                                scale=sc, epsilon=1e-3)
    assert y.creator is None and y.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(np.asarray(y), _bn_ref(x, mean, var, off, sc,
                                                      axis, 1e-3),
                               rtol=tol, atol=tol)
    xt = Tensor(x)
    with GradientTape() as tape:            # recording: the graph path
        tape.watch(xt)
        y2 = ops.batch_normalization(xt, mean, var, axis=axis, offset=off,
                                     scale=sc, epsilon=1e-3)
        loss = ops.sum(y2)
    assert y2.creator is not None
    np.testing.assert_array_equal(np.asarray(y2), np.asarray(y))
    (gx,) = tape.gradient(loss, [xt])
    want = 1.0 / np.sqrt(var.astype(np.float64) + 1e-3)
    if sc is not None:
        want = want * sc
    shp = [1] * x.ndim
    shp[axis] = c
    np.testing.assert_allclose(np.asarray(gx),
                               np.broadcast_to(want.reshape(shp), x.shape),
                               rtol=tol)


def test_batch_normalization_inference_fallbacks():
    x = np.ones((2, 3), np.float32)
    m64 = np.zeros(3)                          # float64 statistics
    y = ops.batch_normalization(x, m64, np.ones(3), axis=-1)
    np.testing.assert_allclose(np.asarray(y), np.full((2, 3), 1 / np.sqrt(
        1 + 1e-3)), rtol=1e-6)
    y16 = ops.batch_normalization(x.astype(np.float16), [0.0] * 3,
                                  [1.0] * 3, axis=-1)
    assert np.asarray(y16).shape == (2, 3)
    with pytest.raises(ValueError, match="variance"):
        ops.batch_normalization(x, np.zeros(3, np.float32),
                                np.ones(4, np.float32), axis=-1)


# ------------------------------------------------- narrow-input im2col
NARROW_CASES = [
    ((2, 7, 6, 3), (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 32),
    ((1, 9, 8, 1), (3, 2), (2, 3), ((0, 1), (2, 0)), (2, 1), 4),
    ((3, 5, 5, 4), (3, 3), (1, 1), ((0, 0), (0, 0)), (1, 1), 2),
    ((2, 11, 2), (4,), (3,), ((2, 1),), (2,), 3),
    ((1, 4, 5, 3, 2), (2, 3, 2), (1, 2, 1), ((0, 1), (1, 1), (1, 0)),
     (1, 1, 2), 3),
    ((2, 6, 5, 5), (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 3),   # C = 5
]


@pytest.mark.parametrize("case", NARROW_CASES, ids=range(len(NARROW_CASES)))
def test_narrow_input_patches(case):
    xs, ks, st, pad, dil, f = case
    r = np.random.default_rng(9)
    x = r.standard_normal(xs)
    w = r.standard_normal((*ks, xs[-1], f))
    y, cols = cpu_conv.conv_forward_keep_cols(x, w, st, pad, dil, 1)
    np.testing.assert_allclose(y, ref_conv(x, w, st, pad, dil, 1),
                               rtol=1e-10, atol=1e-10)
    narrow = xs[-1] <= cpu_conv.NARROW_CHANNELS
    assert cols[0].T.flags.c_contiguous == narrow
    assert cols.flags.c_contiguous == (not narrow)
    proj = r.standard_normal(y.shape)

    def loss():
        return float((ref_conv(x, w, st, pad, dil, 1) * proj).sum())

    dw = cpu_conv.conv_backward_kernel_from_cols(proj, cols, w.shape, 1)
    np.testing.assert_allclose(dw, numgrad(loss, w), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(
        cpu_conv.conv_backward_kernel(proj, x, w.shape, st, pad, dil, 1), dw,
        rtol=1e-10, atol=1e-10)
    y32 = cpu_conv.conv_forward(x.astype(np.float32), w.astype(np.float32),
                                st, pad, dil, 1)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, y, rtol=1e-4, atol=1e-4)


# ------------------------------------------------------ threaded splits
@pytest.fixture
def split_everything(monkeypatch):
    from gkeras.backend.cpu import parallel
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 0)
    monkeypatch.setitem(parallel._STATE, "n", 3)
    return parallel


def test_threaded_parts_equal_inline(split_everything):
    r = np.random.default_rng(13)
    x = _pool_input((5, 8, 6, 3), 14)
    x.reshape(-1)[5] = np.nan
    args = ((2, 2), (2, 2), ((0, 0), (0, 0)))
    y, tap = cpu_pool.max_pool_forward_taps(x, *args)
    np.testing.assert_array_equal(
        cpu_pool.max_pool_values(x, *args), y)
    dy = r.standard_normal(y.shape)
    dx = cpu_pool.max_pool_backward_taps(dy, x.shape, tap, (2, 2), (2, 2))
    w = r.standard_normal((3, 3, 3, 4))
    dyc = r.standard_normal((5, 8, 6, 4))
    dxc = cpu_conv.conv_backward_input(dyc, w, x.shape, (1, 1),
                                       ((1, 1), (1, 1)), (1, 1), 1)
    xt = Tensor(r.standard_normal((5, 4, 3)))
    with GradientTape() as tape:
        tape.watch(xt)
        loss = ops.sum(ops.multiply(ops.relu(xt), np.arange(60.0).reshape(
            5, 4, 3)))
    (gr,) = tape.gradient(loss, [xt])
    split_everything._STATE["n"] = 1           # inline reference
    y1, tap1 = cpu_pool.max_pool_forward_taps(x, *args)
    np.testing.assert_array_equal(y, y1)
    np.testing.assert_array_equal(tap, tap1)
    np.testing.assert_array_equal(
        dx, cpu_pool.max_pool_backward_taps(dy, x.shape, tap1, (2, 2),
                                            (2, 2)))
    np.testing.assert_allclose(dxc, ref_conv_input_grad(dyc, w, x.shape),
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(
        np.asarray(gr), (np.asarray(xt) > 0) * np.arange(60.0).reshape(5, 4,
                                                                      3))


def ref_conv_input_grad(dy, w, x_shape):
    """float64 input gradient of a 3x3 'same' convolution, by loops."""
    dx = np.zeros(x_shape)
    n, h, wd, _ = x_shape
    for i in range(3):
        for j in range(3):
            for a in range(h):
                for b in range(wd):
                    p, q = a + 1 - i, b + 1 - j   # output cell using x[a, b]
                    if 0 <= p < h and 0 <= q < wd:
                        dx[:, a, b] += dy[:, p, q] @ w[i, j].T
    return dx


def test_split_rows_parts_and_errors(split_everything):
    seen = []
    split_everything.split_rows(7, 100, lambda a, b: seen.append((a, b)))
    assert sorted(seen) == [(0, 2), (2, 4), (4, 7)]

    def boom(a, b):
        if a:
            raise RuntimeError("part failed")
    with pytest.raises(RuntimeError, match="part failed"):
        split_everything.split_rows(4, 100, boom)
    seen.clear()
    split_everything.split_rows(1, 100, lambda a, b: seen.append((a, b)))
    assert seen == [(0, 1)]


@pytest.mark.parametrize("env, expected", [
    ({"GKERAS_CPU_THREADS": "3", "OMP_NUM_THREADS": "1"}, 3),
    ({"OMP_NUM_THREADS": "2"}, 2),
    ({"GKERAS_CPU_THREADS": "x", "OMP_NUM_THREADS": "1"}, 1),
    ({"GKERAS_CPU_THREADS": "0"}, 1),
    ({}, None),                     # the CPUs this process may run on
])
def test_cpu_threads_setting(monkeypatch, env, expected):
    import os
    from gkeras.backend.cpu import parallel
    for var in ("GKERAS_CPU_THREADS", "OMP_NUM_THREADS",
                "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    monkeypatch.setitem(parallel._STATE, "n", None)
    if expected is None:
        expected = len(os.sched_getaffinity(0))
    assert parallel.num_threads() == expected


def test_threaded_batchnorm_against_reference(split_everything):
    from test_conv_pool_bn_primitives import ref_bn
    r = np.random.default_rng(15)
    x = r.standard_normal((4100, 3)) * 2 + 3     # wide view: 2 rows
    g, b = r.standard_normal(3), r.standard_normal(3)
    y, mean, var, inv = cpu.batchnorm_forward_train(x, g, b, 1e-3)
    y_ref, m_ref, v_ref = ref_bn(x, g, b, 1e-3)
    np.testing.assert_allclose(y, y_ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(var, v_ref, rtol=1e-10)
    proj = r.standard_normal(x.shape)
    dx, dg, db = cpu.batchnorm_backward(proj, x, g, mean, inv)
    xhat = (x - m_ref) / np.sqrt(v_ref + 1e-3)
    n = x.shape[0]
    want = g / np.sqrt(v_ref + 1e-3) / n * (
        n * proj - proj.sum(0) - xhat * (proj * xhat).sum(0))
    np.testing.assert_allclose(dx, want, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(db, proj.sum(0), rtol=1e-10)
    np.testing.assert_allclose(dg, (proj * (x - m_ref) / np.sqrt(
        v_ref + 1e-3)).sum(0), rtol=1e-9)
