"""Convolution, pooling and batch-norm primitives.

1. `backend.cpu` against obviously-right float64 loop references, on odd
   sizes and stride/padding/dilation/group combinations;
2. float64 finite-difference checks of every cpu backward;
3. the GPU wrappers of `backend.gpu` run whole on the CPU through the CUDA
   emulator (tests/cuda_emu) -- same launch configuration, same argument
   tuples as on the GPU -- against `backend.cpu`, covering every kernel
   entry point of conv.cu, pool.cu and batchnorm.cu.
"""

import itertools
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from cuda_emu import emu  # noqa: E402

import gkeras.backend.cpu as cpu  # noqa: E402
from gkeras.backend.gpu import batchnorm as gbn  # noqa: E402
from gkeras.backend.gpu import conv as gconv  # noqa: E402
from gkeras.backend.gpu import pool as gpool  # noqa: E402

needs_cxx = pytest.mark.skipif(not emu.have_compiler(),
                               reason="no C++ compiler for the CUDA emulator")


def rng(seed=0):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------- references
def ref_conv(x, w, strides, padding, dil, groups):
    """Direct loops over output cells, float64."""
    x, w = x.astype(np.float64), w.astype(np.float64)
    rank = x.ndim - 2
    ks = w.shape[:rank]
    cg, f = w.shape[-2], w.shape[-1]
    fg = f // groups
    out = [(x.shape[1 + i] + sum(padding[i]) - dil[i] * (ks[i] - 1) - 1)
           // strides[i] + 1 for i in range(rank)]
    y = np.zeros((x.shape[0], *out, f))
    for o in np.ndindex(*out):
        for t in np.ndindex(*ks):
            pos = [o[i] * strides[i] - padding[i][0] + t[i] * dil[i]
                   for i in range(rank)]
            if any(p < 0 or p >= x.shape[1 + i] for i, p in enumerate(pos)):
                continue
            xv = x[(slice(None), *pos)]                  # (N, C)
            for g in range(groups):
                y[(slice(None), *o, slice(g * fg, (g + 1) * fg))] += (
                    xv[:, g * cg:(g + 1) * cg] @ w[t][:, g * fg:(g + 1) * fg])
    return y


def ref_pool(x, pool, strides, padding, kind):
    x = x.astype(np.float64)
    rank = x.ndim - 2
    out = [(x.shape[1 + i] + sum(padding[i]) - pool[i]) // strides[i] + 1
           for i in range(rank)]
    y = np.zeros((x.shape[0], *out, x.shape[-1]))
    for o in np.ndindex(*out):
        cells = []
        for t in np.ndindex(*pool):
            pos = [o[i] * strides[i] - padding[i][0] + t[i]
                   for i in range(rank)]
            if all(0 <= p < x.shape[1 + i] for i, p in enumerate(pos)):
                cells.append(x[(slice(None), *pos)])
        cells = np.stack(cells)
        y[(slice(None), *o)] = cells.max(0) if kind == "max" else cells.mean(0)
    return y


def ref_bn(x, gamma, beta, eps):
    x = x.astype(np.float64)
    mean = x.mean(0)
    var = ((x - mean) ** 2).mean(0)
    y = (x - mean) / np.sqrt(var + eps)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y, mean, var


def numgrad(f, a, eps=1e-6):
    """Central differences of scalar f with respect to every entry of a."""
    g = np.zeros_like(a)
    flat, gf = a.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        fp = f()
        flat[i] = old - eps
        fm = f()
        flat[i] = old
        gf[i] = (fp - fm) / (2 * eps)
    return g


# ------------------------------------------------------------------ configs
# (x_shape, kernel_size, strides, padding, dilation, groups, filters)
CONV_CASES = [
    ((2, 7, 3), (3,), (1,), ((1, 1),), (1,), 1, 4),
    ((2, 9, 4), (2,), (2,), ((0, 1),), (2,), 2, 6),
    ((1, 8, 2), (3,), (1,), ((4, 0),), (2,), 1, 3),          # causal
    ((2, 5, 6, 3), (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1, 5),
    ((1, 7, 5, 4), (3, 2), (2, 1), ((1, 1), (0, 1)), (1, 2), 2, 4),
    ((2, 6, 7, 3), (2, 3), (2, 3), ((0, 0), (2, 1)), (1, 1), 1, 2),
    ((1, 9, 8, 6), (3, 3), (1, 2), ((2, 2), (1, 1)), (2, 1), 3, 6),
    ((2, 5, 5, 4), (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 4, 8),  # depthwise
    ((2, 6, 5, 3), (3, 3), (2, 1), ((1, 1), (1, 0)), (1, 2), 3, 3),  # depthwise
    ((1, 9, 2), (3,), (1,), ((2, 2),), (3,), 2, 2),                  # depthwise
    ((1, 7, 6, 2), (2, 3), (1, 1), ((1, 0), (0, 2)), (2, 1), 1, 3),
    ((1, 4, 5, 3, 2), (2, 3, 2), (1, 2, 1), ((0, 1), (1, 1), (1, 0)),
     (1, 1, 2), 1, 3),
]


def _conv_args(case, dtype=np.float32, seed=0):
    xs, ks, st, pad, dil, g, f = case
    r = rng(seed)
    x = r.standard_normal(xs).astype(dtype)
    w = r.standard_normal((*ks, xs[-1] // g, f)).astype(dtype)
    return x, w, st, pad, dil, g


@pytest.mark.parametrize("case", CONV_CASES, ids=range(len(CONV_CASES)))
def test_conv_forward_matches_reference(case):
    x, w, st, pad, dil, g = _conv_args(case)
    y = cpu.conv_forward(x, w, st, pad, dil, g)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, ref_conv(x, w, st, pad, dil, g),
                               rtol=1e-4, atol=1e-4)
    assert y.shape == cpu.conv_output_shape(x.shape, w.shape, st, pad, dil, g)


@pytest.mark.parametrize("case", CONV_CASES, ids=range(len(CONV_CASES)))
def test_conv_gradients_finite_difference(case):
    x, w, st, pad, dil, g = _conv_args(case, np.float64, seed=1)
    xs = x.shape
    if x.size > 150:  # keep the numeric gradient cheap
        x = x[:1]
    r = rng(2)
    y = cpu.conv_forward(x, w, st, pad, dil, g)
    proj = r.standard_normal(y.shape)

    def loss():
        return float((cpu.conv_forward(x, w, st, pad, dil, g) * proj).sum())

    dx = cpu.conv_backward_input(proj, w, x.shape, st, pad, dil, g)
    dw = cpu.conv_backward_kernel(proj, x, w.shape, st, pad, dil, g)
    assert dx.shape == x.shape and dw.shape == w.shape
    np.testing.assert_allclose(dx, numgrad(loss, x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dw, numgrad(loss, w), rtol=1e-6, atol=1e-7)
    del xs


def test_conv_transpose_output_padding():
    """backward_input with an x_shape that strides leave partly uncovered
    (Conv2DTranspose with output_padding): uncovered rows get zeros."""
    r = rng(3)
    w = r.standard_normal((3, 3, 2, 4))
    dy = r.standard_normal((1, 3, 3, 4))
    dx = cpu.conv_backward_input(dy, w, (1, 8, 8, 2), (2, 2),
                                 ((0, 0), (0, 0)), (1, 1), 1)
    assert dx.shape == (1, 8, 8, 2)
    assert np.all(dx[:, 7] == 0) and np.all(dx[:, :, 7] == 0)
    x = r.standard_normal((1, 8, 8, 2))
    # adjoint identity: <conv(x), dy> == <x, conv_T(dy)>
    y = cpu.conv_forward(x, w, (2, 2), ((0, 0), (0, 0)), (1, 1), 1)
    np.testing.assert_allclose((y * dy).sum(), (x * dx).sum(), rtol=1e-10)


@pytest.mark.parametrize("call,match", [
    (lambda: cpu.conv_forward(np.zeros((1, 5, 5, 3)), np.zeros((3, 3, 2, 4)),
                              (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
     "kernel.shape"),
    (lambda: cpu.conv_forward(np.zeros((1, 5, 5, 4)), np.zeros((3, 3, 2, 3)),
                              (1, 1), ((0, 0), (0, 0)), (1, 1), 2), "groups"),
    (lambda: cpu.conv_forward(np.zeros((1, 5, 5, 3)), np.zeros((3, 3, 3, 4)),
                              (1,), ((0, 0), (0, 0)), (1, 1), 1), "strides"),
    (lambda: cpu.conv_forward(np.zeros((1, 2, 2, 3)), np.zeros((3, 3, 3, 4)),
                              (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
     "smaller than the dilated kernel"),
    (lambda: cpu.conv_backward_input(np.zeros((1, 4, 4, 4)),
                                     np.zeros((3, 3, 3, 4)), (1, 5, 5, 3),
                                     (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
     r"`dy` must have shape \(1, 3, 3, 4\)"),
    (lambda: cpu.max_pool_forward(np.zeros((1, 5, 5, 3)), (2, 2), (2, 2),
                                  ((2, 0), (0, 0))), "padding"),
    (lambda: cpu.batchnorm_forward_train(np.zeros((4, 3)), np.ones(4), None,
                                         1e-3), "gamma"),
    (lambda: cpu.batchnorm_forward_train(np.zeros((4, 3, 2)), None, None,
                                         1e-3), "2-D"),
])
def test_errors_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# (x_shape, pool, strides, padding)
POOL_CASES = [
    ((2, 9, 3), (3,), (2,), ((1, 1),)),
    ((1, 8, 2), (2,), (3,), ((0, 0),)),
    ((2, 7, 5, 3), (2, 2), (2, 2), ((0, 1), (0, 1))),      # 'same', odd
    ((1, 6, 7, 2), (3, 3), (1, 1), ((1, 1), (1, 1))),      # overlapping
    ((2, 5, 6, 1), (3, 2), (2, 1), ((1, 1), (0, 1))),
    ((1, 4, 5, 3, 2), (2, 3, 2), (2, 1, 2), ((0, 1), (1, 1), (0, 1))),
]


@pytest.mark.parametrize("case", POOL_CASES, ids=range(len(POOL_CASES)))
def test_pool_forward_matches_reference(case):
    xs, p, s, pad = case
    x = rng(4).standard_normal(xs).astype(np.float32)
    y, arg = cpu.max_pool_forward(x, p, s, pad)
    np.testing.assert_allclose(y, ref_pool(x, p, s, pad, "max"), rtol=1e-6)
    assert arg.dtype == np.int32 and arg.shape == y.shape
    # argmax points at the winner
    flat = x.reshape(xs[0], -1, xs[-1])
    won = np.take_along_axis(flat, arg.reshape(xs[0], -1, xs[-1]), axis=1)
    np.testing.assert_array_equal(won.reshape(y.shape), y)
    np.testing.assert_allclose(cpu.avg_pool_forward(x, p, s, pad),
                               ref_pool(x, p, s, pad, "avg"), rtol=1e-5,
                               atol=1e-6)
    assert cpu.pool_output_shape(xs, p, s, pad) == y.shape


@pytest.mark.parametrize("case", POOL_CASES, ids=range(len(POOL_CASES)))
def test_pool_gradients_finite_difference(case):
    xs, p, s, pad = case
    r = rng(5)
    # distinct values far apart: no ties to flip under the perturbation
    x = r.permutation(int(np.prod(xs))).reshape(xs).astype(np.float64) * 0.1
    y, arg = cpu.max_pool_forward(x, p, s, pad)
    proj = r.standard_normal(y.shape)
    dx = cpu.max_pool_backward(proj, x, arg, p, s, pad)
    np.testing.assert_allclose(
        dx, numgrad(lambda: float((cpu.max_pool_forward(x, p, s, pad)[0]
                                   * proj).sum()), x), rtol=1e-6, atol=1e-8)
    dx = cpu.avg_pool_backward(proj, xs, p, s, pad)
    np.testing.assert_allclose(
        dx, numgrad(lambda: float((cpu.avg_pool_forward(x, p, s, pad)
                                   * proj).sum()), x), rtol=1e-6, atol=1e-8)


def ref_max_pool_winners(x, pool, strides, padding):
    """Loop reference: flat index of each window's first maximal real cell
    (row-major window order), and the gradient it routes."""
    rank = x.ndim - 2
    sp = x.shape[1:-1]
    out = [(sp[i] + sum(padding[i]) - pool[i]) // strides[i] + 1
           for i in range(rank)]
    arg = np.zeros((x.shape[0], *out, x.shape[-1]), np.int64)
    for n in range(x.shape[0]):
        for ch in range(x.shape[-1]):
            for o in np.ndindex(*out):
                best = None
                for t in np.ndindex(*pool):
                    pos = [o[i] * strides[i] - padding[i][0] + t[i]
                           for i in range(rank)]
                    if not all(0 <= q < sp[i] for i, q in enumerate(pos)):
                        continue
                    v = x[(n, *pos, ch)]
                    if best is None or v > best[0]:
                        best = (v, np.ravel_multi_index(pos, sp))
                arg[(n, *o, ch)] = best[1]
    return arg


# pool/stride pairs of each backward path: tiled windows, windows with gaps,
# overlapping, 'same' padding, 9 taps (16-bit codes), 25 taps (> 16)
TIE_CASES = [
    ((2, 6, 8, 3), (2, 2), (2, 2), ((0, 0), (0, 0))),
    ((2, 7, 9, 3), (2, 2), (2, 2), ((0, 0), (0, 0))),
    ((2, 9, 9, 2), (2, 3), (3, 4), ((0, 0), (0, 0))),
    ((1, 7, 6, 2), (3, 3), (1, 2), ((1, 1), (1, 1))),
    ((2, 7, 5, 3), (2, 2), (2, 2), ((0, 1), (0, 1))),
    ((1, 9, 9, 2), (3, 3), (3, 3), ((0, 0), (0, 0))),
    ((1, 10, 10, 2), (5, 5), (5, 5), ((0, 0), (0, 0))),
    ((2, 11, 3), (2,), (2,), ((0, 0),)),
]


@pytest.mark.parametrize("case", TIE_CASES, ids=range(len(TIE_CASES)))
def test_max_pool_ties_go_to_the_first_cell(case):
    xs, p, s, pad = case
    # few distinct values: most windows hold ties
    x = rng(8).integers(0, 3, xs).astype(np.float32)
    y, arg = cpu.max_pool_forward(x, p, s, pad)
    ref = ref_max_pool_winners(x, p, s, pad)
    np.testing.assert_array_equal(arg, ref)
    np.testing.assert_array_equal(y, ref_pool(x, p, s, pad, "max"))
    dy = rng(9).standard_normal(y.shape).astype(np.float32)
    expect = np.zeros(x.size)
    n_idx = np.arange(xs[0]).reshape((-1,) + (1,) * (len(xs) - 1))
    np.add.at(expect, ((n_idx * int(np.prod(xs[1:-1])) + ref) * xs[-1]
                       + np.arange(xs[-1])).ravel(), dy.ravel())
    np.testing.assert_allclose(cpu.max_pool_backward(dy, x, arg, p, s, pad),
                               expect.reshape(xs), rtol=1e-6)


def test_global_pools():
    r = rng(6)
    x = r.standard_normal((2, 5, 3, 4))
    np.testing.assert_allclose(cpu.global_avg_pool(x), x.mean(axis=(1, 2)))
    y, arg = cpu.global_max_pool(x)
    np.testing.assert_allclose(y, x.max(axis=(1, 2)))
    dy = r.standard_normal((2, 4))
    dx = cpu.max_pool_backward(dy.reshape(2, 1, 1, 4), x,
                               arg.reshape(2, 1, 1, 4), (5, 3), (5, 3),
                               ((0, 0), (0, 0)))
    np.testing.assert_allclose(
        dx, numgrad(lambda: float((cpu.global_max_pool(x)[0] * dy).sum()),
                    x), atol=1e-8)
    np.testing.assert_allclose(
        cpu.global_avg_pool_backward(dy, x.shape),
        numgrad(lambda: float((cpu.global_avg_pool(x) * dy).sum()), x),
        atol=1e-8)


@pytest.mark.parametrize("affine", [(True, True), (True, False),
                                    (False, True), (False, False)])
def test_batchnorm_reference_and_gradients(affine):
    r = rng(7)
    x = r.standard_normal((13, 5)) * 3 + 1
    gamma = r.standard_normal(5) if affine[0] else None
    beta = r.standard_normal(5) if affine[1] else None
    eps = 1e-3
    y, mean, var, inv_std = cpu.batchnorm_forward_train(x, gamma, beta, eps)
    ry, rmean, rvar = ref_bn(x, gamma, beta, eps)
    np.testing.assert_allclose(y, ry, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mean, rmean, rtol=1e-12)
    np.testing.assert_allclose(var, rvar, rtol=1e-12)
    np.testing.assert_allclose(inv_std, 1 / np.sqrt(rvar + eps), rtol=1e-12)
    proj = r.standard_normal(x.shape)
    dx, dgamma, dbeta = cpu.batchnorm_backward(proj, x, gamma, mean, inv_std)

    def loss():
        return float((cpu.batchnorm_forward_train(x, gamma, beta, eps)[0]
                      * proj).sum())

    np.testing.assert_allclose(dx, numgrad(loss, x), rtol=1e-6, atol=1e-8)
    if gamma is None:
        assert dgamma is None
    else:
        np.testing.assert_allclose(dgamma, numgrad(loss, gamma), rtol=1e-6,
                                   atol=1e-8)
    if beta is not None:
        np.testing.assert_allclose(dbeta, numgrad(loss, beta), rtol=1e-6,
                                   atol=1e-8)
    # float32 stays float32
    out = cpu.batchnorm_forward_train(x.astype(np.float32), None, None, eps)
    assert all(a.dtype == np.float32 for a in out)


def test_cpu_and_gpu_export_the_same_names():
    import gkeras.backend.gpu as gpu
    for fam in ("conv", "pool", "batchnorm"):
        assert (sorted(getattr(cpu, fam).__all__)
                == sorted(getattr(gpu, fam).__all__)), fam


# ---------------------------------------------- CUDA kernels, emulated on CPU
@pytest.fixture
def rt():
    return emu.EmuRuntime()


def _close32(a, b, tol=2e-5):
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(1.0, float(
        np.abs(b).max(initial=0))))


@needs_cxx
@pytest.mark.parametrize("case", CONV_CASES, ids=range(len(CONV_CASES)))
def test_emulated_conv_kernels(rt, case):
    x, w, st, pad, dil, g = _conv_args(case, seed=8)
    y = gconv._conv_forward(rt, x, w, st, pad, dil, g)
    _close32(y, cpu.conv_forward(x, w, st, pad, dil, g))
    dy = rng(9).standard_normal(y.shape).astype(np.float32)
    _close32(gconv._conv_backward_input(rt, dy, w, x.shape, st, pad, dil, g),
             cpu.conv_backward_input(dy, w, x.shape, st, pad, dil, g))
    _close32(gconv._conv_backward_kernel(rt, dy, x, w.shape, st, pad, dil, g),
             cpu.conv_backward_kernel(dy, x, w.shape, st, pad, dil, g))


@needs_cxx
def test_emulated_conv_chunks_and_grid_stride(rt, monkeypatch):
    """Batch chunking and the grid-stride loop (grid capped at 3 blocks)."""
    case = CONV_CASES[6]
    x, w, st, pad, dil, g = _conv_args(case, seed=10)
    x = np.concatenate([x, x[:, ::-1].copy(), x * 2])      # N = 3
    monkeypatch.setattr(gconv, "MAX_COL_BYTES", 1)         # one sample a chunk
    real = gconv.grid_stride_1d
    monkeypatch.setattr(gconv, "grid_stride_1d",
                        lambda total, block: real(total, block, max_blocks=3))
    y = gconv._conv_forward(rt, x, w, st, pad, dil, g)
    _close32(y, cpu.conv_forward(x, w, st, pad, dil, g))
    dy = rng(11).standard_normal(y.shape).astype(np.float32)
    _close32(gconv._conv_backward_input(rt, dy, w, x.shape, st, pad, dil, g),
             cpu.conv_backward_input(dy, w, x.shape, st, pad, dil, g))
    _close32(gconv._conv_backward_kernel(rt, dy, x, w.shape, st, pad, dil, g),
             cpu.conv_backward_kernel(dy, x, w.shape, st, pad, dil, g))
    assert sum(1 for L in rt.launches if L[1] == "im2col_f32") == 6
    assert all(L[2][0] <= 3 for L in rt.launches)
    assert any(L[2][0] * 256 < 1000 for L in rt.launches if L[1] == "im2col_f32")


@needs_cxx
@pytest.mark.parametrize("case", POOL_CASES, ids=range(len(POOL_CASES)))
def test_emulated_pool_kernels(rt, case):
    xs, p, s, pad = case
    r = rng(12)
    x = r.standard_normal(xs).astype(np.float32)
    x[0, 0] = x[0, 1]          # ties: first in window order must win on both
    y, arg = gpool._max_pool_forward(rt, x, p, s, pad)
    cy, carg = cpu.max_pool_forward(x, p, s, pad)
    np.testing.assert_array_equal(y, cy)
    np.testing.assert_array_equal(arg, carg)
    dy = r.standard_normal(y.shape).astype(np.float32)
    _close32(gpool._max_pool_backward(rt, dy, x, arg, p, s, pad),
             cpu.max_pool_backward(dy, x, carg, p, s, pad))
    _close32(gpool._avg_pool_forward(rt, x, p, s, pad),
             cpu.avg_pool_forward(x, p, s, pad))
    _close32(gpool._avg_pool_backward(rt, dy, xs, p, s, pad),
             cpu.avg_pool_backward(dy, xs, p, s, pad))


@needs_cxx
@pytest.mark.parametrize("m,c,affine", [(200, 37, True), (7, 3, False),
                                        (64, 32, True), (1, 5, True)])
def test_emulated_batchnorm_kernels(rt, m, c, affine):
    r = rng(13)
    x = (r.standard_normal((m, c)) * 2 + 3).astype(np.float32)
    gamma = r.standard_normal(c).astype(np.float32) if affine else None
    beta = r.standard_normal(c).astype(np.float32) if affine else None
    got = gbn._batchnorm_forward_train(rt, x, gamma, beta, 1e-3)
    want = cpu.batchnorm_forward_train(x, gamma, beta, 1e-3)
    for a, b in zip(got, want):
        _close32(a, b, 1e-4)
    dy = r.standard_normal((m, c)).astype(np.float32)
    got = gbn._batchnorm_backward(rt, dy, x, gamma, want[1], want[3])
    want = cpu.batchnorm_backward(dy, x, gamma, want[1], want[3])
    for a, b in zip(got, want):
        if b is None:
            assert a is None
        else:
            _close32(a, b, 1e-4)
    s, rows = gbn.bn_splits(m, c)
    assert (s - 1) * rows < m <= s * rows


@needs_cxx
@pytest.mark.parametrize("order", ["reverse", "random"])
def test_emulated_kernels_thread_order_independent(order):
    """Races between a block's threads would show up in another order."""
    rt = emu.EmuRuntime(order=order)
    r = rng(14)
    x = r.standard_normal((100, 40)).astype(np.float32)
    got = gbn._batchnorm_forward_train(rt, x, None, None, 1e-3)
    _close32(got[0], cpu.batchnorm_forward_train(x, None, None, 1e-3)[0],
             1e-4)
    dy = r.standard_normal(x.shape).astype(np.float32)
    g = gbn._batchnorm_backward(rt, dy, x, None, got[1], got[3])
    _close32(g[0], cpu.batchnorm_backward(dy, x, None, got[1], got[3])[0],
             1e-4)


@needs_cxx
def test_every_entry_point_is_emulated():
    """Runs one small case of every wrapper; checks every float32
    `extern "C" __global__` of conv.cu, pool.cu and batchnorm.cu was
    launched (the _f16/_bf16 twins: tests/test_half_kernels_emulated.py)."""
    from gkeras.backend.kernel_source import read_kernel
    rt = emu.EmuRuntime()
    x, w, st, pad, dil, g = _conv_args(CONV_CASES[4], seed=15)
    y = gconv._conv_forward(rt, x, w, st, pad, dil, g)
    gconv._conv_backward_input(rt, y, w, x.shape, st, pad, dil, g)
    gconv._conv_backward_kernel(rt, y, x, w.shape, st, pad, dil, g)
    xs, p, s, pad = POOL_CASES[2]
    xp = rng(16).standard_normal(xs).astype(np.float32)
    yp, arg = gpool._max_pool_forward(rt, xp, p, s, pad)
    gpool._max_pool_backward(rt, yp, xp, arg, p, s, pad)
    gpool._avg_pool_backward(rt, gpool._avg_pool_forward(rt, xp, p, s, pad),
                             xs, p, s, pad)
    xb = xp.reshape(-1, xs[-1])
    out = gbn._batchnorm_forward_train(rt, xb, None, None, 1e-3)
    gbn._batchnorm_backward(rt, xb, xb, None, out[1], out[3])
    launched = {(f, n) for f, n, *_ in rt.launches}
    for f in ("conv.cu", "pool.cu", "batchnorm.cu"):
        for name, _ in emu.entry_points(read_kernel(f)):
            if name.endswith(("_f16", "_bf16")):
                continue
            assert (f, name) in launched, f"{f}:{name} never emulated"


def test_gpu_launch_helpers_import_without_cupy():
    import gkeras.backend.gpu.launch as launch
    assert launch.grid_stride_1d(1000, 256) == ((4,), (256,))
    assert launch.grid_stride_1d(0, 256) == ((1,), (256,))
    assert launch.grid_stride_1d(10 ** 9, 256) == ((65535,), (256,))
    with pytest.raises(ValueError, match="32-bit"):
        launch.i32(2 ** 31)
    assert gconv.batch_chunks(5, 10, limit=25) == [(0, 2), (2, 4), (4, 5)]
    assert gconv.batch_chunks(3, 100, limit=10) == [(0, 1), (1, 2), (2, 3)]
    assert list(itertools.chain(*gconv.batch_chunks(4, 1, limit=100))) == [
        0, 4]
