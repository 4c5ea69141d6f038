"""GPU conv / pooling / batch-norm primitives against `backend.cpu`, on CuPy.

Marked `gpu`; skipped cleanly without CuPy or a visible CUDA device. The
same cases as the emulated tests, plus sizes large enough for many blocks
and several batch chunks, and bit-for-bit determinism of repeated runs.
"""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
import gkeras.backend.cpu as cpu  # noqa: E402

pytestmark = pytest.mark.gpu


def _cupy_or_skip():
    try:
        import cupy
        if cupy.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA device visible")
    except Exception as e:  # ImportError, or a broken CUDA install
        pytest.skip(f"CuPy/GPU unavailable: {type(e).__name__}: {e}")
    return cupy


@pytest.fixture(scope="module")
def cp():
    return _cupy_or_skip()


@pytest.fixture(scope="module")
def gpu():
    _cupy_or_skip()
    import gkeras.backend.gpu as gpu
    return gpu


def _close(a, b, tol=1e-4):
    a = a.get() if hasattr(a, "get") else a
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(
        1.0, float(np.abs(b).max(initial=0))))


from test_conv_pool_bn_primitives import CONV_CASES, POOL_CASES  # noqa: E402

BIG_CONV = [((16, 32, 32, 32), (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1,
             64),
            ((4, 33, 31, 12), (5, 5), (2, 2), ((2, 2), (2, 2)), (1, 1), 3, 24),
            ((8, 64, 16), (7,), (1,), ((12, 0),), (2,), 1, 32)]


@pytest.mark.parametrize("case", CONV_CASES + BIG_CONV,
                         ids=range(len(CONV_CASES) + len(BIG_CONV)))
def test_conv(cp, gpu, case):
    xs, ks, st, pad, dil, g, f = case
    r = np.random.default_rng(0)
    x = r.standard_normal(xs).astype(np.float32)
    w = r.standard_normal((*ks, xs[-1] // g, f)).astype(np.float32)
    y = cpu.conv_forward(x, w, st, pad, dil, g)
    dy = r.standard_normal(y.shape).astype(np.float32)
    gx, gw, gdy = cp.asarray(x), cp.asarray(w), cp.asarray(dy)
    _close(gpu.conv_forward(gx, gw, st, pad, dil, g), y)
    _close(gpu.conv_backward_input(gdy, gw, xs, st, pad, dil, g),
           cpu.conv_backward_input(dy, w, xs, st, pad, dil, g))
    _close(gpu.conv_backward_kernel(gdy, gx, w.shape, st, pad, dil, g),
           cpu.conv_backward_kernel(dy, x, w.shape, st, pad, dil, g), 3e-4)


def test_conv_chunked(cp, gpu, monkeypatch):
    from gkeras.backend.gpu import conv as gconv
    monkeypatch.setattr(gconv, "MAX_COL_BYTES", 1 << 20)
    test_conv(cp, gpu, BIG_CONV[0])


@pytest.mark.parametrize("case", POOL_CASES + [
    ((32, 57, 43, 24), (3, 3), (2, 2), ((1, 1), (1, 1)))],
    ids=range(len(POOL_CASES) + 1))
def test_pool(cp, gpu, case):
    xs, p, s, pad = case
    r = np.random.default_rng(1)
    x = r.standard_normal(xs).astype(np.float32)
    y, arg = cpu.max_pool_forward(x, p, s, pad)
    dy = r.standard_normal(y.shape).astype(np.float32)
    gx, gdy = cp.asarray(x), cp.asarray(dy)
    gy, garg = gpu.max_pool_forward(gx, p, s, pad)
    _close(gy, y, 0)
    np.testing.assert_array_equal(garg.get(), arg)
    _close(gpu.max_pool_backward(gdy, gx, garg, p, s, pad),
           cpu.max_pool_backward(dy, x, arg, p, s, pad))
    _close(gpu.avg_pool_forward(gx, p, s, pad),
           cpu.avg_pool_forward(x, p, s, pad))
    _close(gpu.avg_pool_backward(gdy, xs, p, s, pad),
           cpu.avg_pool_backward(dy, xs, p, s, pad))


def test_global_pools(cp, gpu):
    x = np.random.default_rng(2).standard_normal((4, 7, 5, 6)).astype(
        np.float32)
    gx = cp.asarray(x)
    _close(gpu.global_avg_pool(gx), cpu.global_avg_pool(x))
    y, arg = gpu.global_max_pool(gx)
    cy, carg = cpu.global_max_pool(x)
    _close(y, cy)
    np.testing.assert_array_equal(arg.get(), carg)
    dy = np.ones((4, 6), np.float32)
    _close(gpu.global_avg_pool_backward(cp.asarray(dy), x.shape),
           cpu.global_avg_pool_backward(dy, x.shape))


@pytest.mark.parametrize("m,c,affine", [(200, 37, True), (7, 3, False),
                                        (65536, 64, True), (1000003, 3, True)])
def test_batchnorm(cp, gpu, m, c, affine):
    r = np.random.default_rng(3)
    x = (r.standard_normal((m, c)) * 2 + 3).astype(np.float32)
    gamma = r.standard_normal(c).astype(np.float32) if affine else None
    beta = r.standard_normal(c).astype(np.float32) if affine else None
    want = cpu.batchnorm_forward_train(x.astype(np.float64), gamma, beta,
                                       1e-3)
    g = (lambda a: None if a is None else cp.asarray(a))
    got = gpu.batchnorm_forward_train(cp.asarray(x), g(gamma), g(beta), 1e-3)
    for a, b in zip(got, want):
        _close(a, b, 2e-4)
    dy = r.standard_normal((m, c)).astype(np.float32)
    want_b = cpu.batchnorm_backward(dy.astype(np.float64), x.astype(
        np.float64), gamma, want[1], want[3])
    got_b = gpu.batchnorm_backward(cp.asarray(dy), cp.asarray(x), g(gamma),
                                   got[1], got[3])
    for a, b in zip(got_b, want_b):
        if b is None:
            assert a is None
        else:
            _close(a, b, 2e-3)


def test_deterministic(cp, gpu):
    r = np.random.default_rng(4)
    x = cp.asarray(r.standard_normal((8, 31, 29, 16)).astype(np.float32))
    w = cp.asarray(r.standard_normal((3, 3, 16, 32)).astype(np.float32))
    args = ((2, 2), ((1, 1), (1, 1)), (1, 1), 1)
    y = gpu.conv_forward(x, w, *args)
    outs = [(gpu.conv_backward_input(y, w, x.shape, *args).get(),
             gpu.conv_backward_kernel(y, x, w.shape, *args).get(),
             gpu.max_pool_backward(x, x, gpu.max_pool_forward(
                 x, (3, 3), (1, 1), ((1, 1), (1, 1)))[1], (3, 3), (1, 1),
                 ((1, 1), (1, 1))).get(),
             [a.get() for a in gpu.batchnorm_backward(
                 x.reshape(-1, 16), x.reshape(-1, 16), None,
                 *gpu.batchnorm_forward_train(x.reshape(-1, 16), None, None,
                                              1e-3)[1::2])[::2]])
            for _ in range(2)]
    for a, b in zip(outs[0][:3], outs[1][:3]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(outs[0][3], outs[1][3]):
        np.testing.assert_array_equal(a, b)
