"""backend.gpu recurrent primitives vs backend.cpu, on CuPy arrays.

Marked `gpu`: skipped cleanly where CuPy or a CUDA device is missing.
"""

import numpy as np
import pytest

pytestmark = pytest.mark.gpu


def _cupy():
    try:
        import cupy
        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise RuntimeError("no CUDA device")
    except Exception as e:  # ImportError, CUDA driver errors
        pytest.skip(f"needs CuPy and a CUDA GPU ({type(e).__name__}: {e})")
    return cupy


@pytest.fixture(scope="module")
def cp():
    return _cupy()


def _problem(rng, N, T, U, G):
    f = np.float32
    xw = rng.standard_normal((N, T, G * U)).astype(f)
    h0 = (rng.standard_normal((N, U)) * 0.5).astype(f)
    c0 = (rng.standard_normal((N, U)) * 0.5).astype(f)
    R = (rng.standard_normal((U, G * U)) / np.sqrt(U)).astype(f)
    return xw, h0, c0, R


def _mask(rng, N, T):
    m = rng.random((N, T)) > 0.3
    m[0] = True
    return m


def _drop(rng, kind, G, N, U):
    if kind is None:
        return None
    shape = (N, U) if kind == "shared" else (G, N, U)
    return ((rng.random(shape) > 0.3) / 0.7).astype(np.float32)


def _close(cp, got, want, tol=1e-4):
    if want is None:
        assert got is None
        return
    np.testing.assert_allclose(cp.asnumpy(got), want, rtol=tol, atol=tol)


CASES = [(False, None, False, False), (True, "shared", True, True),
         (True, "per_gate", False, False), (True, None, True, False)]
SIZES = [(3, 5, 7), (33, 12, 129)]


@pytest.mark.parametrize("N,T,U", SIZES)
@pytest.mark.parametrize("use_mask,drop,gb,zo", CASES)
def test_lstm_gpu_matches_cpu(cp, N, T, U, use_mask, drop, gb, zo):
    from gkeras.backend import cpu, gpu
    rng = np.random.default_rng(0)
    xw, h0, c0, R = _problem(rng, N, T, U, 4)
    mask = _mask(rng, N, T) if use_mask else None
    dm = _drop(rng, drop, 4, N, U)
    kw = dict(mask=mask, recurrent_dropout_mask=dm, go_backwards=gb,
              zero_output_for_mask=zo)
    ref = cpu.lstm_forward(xw, h0, c0, R, **kw)
    g = lambda a: None if a is None else cp.asarray(a)  # noqa: E731
    gkw = dict(kw, mask=g(mask), recurrent_dropout_mask=g(dm))
    got = gpu.lstm_forward(g(xw), g(h0), g(c0), g(R), **gkw)
    for a, b in zip(got[:3], ref[:3]):
        _close(cp, a, b)
    W = rng.standard_normal((N, T, U)).astype(np.float32)
    wh = rng.standard_normal((N, U)).astype(np.float32)
    gref = cpu.lstm_backward(W, wh, wh, ref[3])
    ggot = gpu.lstm_backward(g(W), g(wh), g(wh), got[3])
    for a, b in zip(ggot, gref):
        _close(cp, a, b, 5e-4)


@pytest.mark.parametrize("N,T,U", SIZES)
@pytest.mark.parametrize("use_mask,drop,gb,zo", CASES)
@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_gpu_matches_cpu(cp, N, T, U, use_mask, drop, gb, zo,
                             reset_after):
    from gkeras.backend import cpu, gpu
    rng = np.random.default_rng(1)
    xw, h0, _, R = _problem(rng, N, T, U, 3)
    rb = rng.standard_normal(3 * U).astype(np.float32) \
        if reset_after else None
    mask = _mask(rng, N, T) if use_mask else None
    dm = _drop(rng, drop, 3, N, U)
    kw = dict(mask=mask, recurrent_dropout_mask=dm, go_backwards=gb,
              reset_after=reset_after, zero_output_for_mask=zo)
    ref = cpu.gru_forward(xw, h0, R, rb, **kw)
    g = lambda a: None if a is None else cp.asarray(a)  # noqa: E731
    gkw = dict(kw, mask=g(mask), recurrent_dropout_mask=g(dm))
    got = gpu.gru_forward(g(xw), g(h0), g(R), g(rb), **gkw)
    for a, b in zip(got[:2], ref[:2]):
        _close(cp, a, b)
    W = rng.standard_normal((N, T, U)).astype(np.float32)
    wh = rng.standard_normal((N, U)).astype(np.float32)
    gref = cpu.gru_backward(W, wh, ref[2])
    ggot = gpu.gru_backward(g(W), g(wh), got[2])
    for a, b in zip(ggot, gref):
        _close(cp, a, b, 5e-4)


@pytest.mark.parametrize("use_mask,drop,gb,zo",
                         [c for c in CASES if c[1] != "per_gate"])
def test_simple_rnn_gpu_matches_cpu(cp, use_mask, drop, gb, zo):
    from gkeras.backend import cpu, gpu
    rng = np.random.default_rng(2)
    N, T, U = 9, 7, 33
    xw, h0, _, R = _problem(rng, N, T, U, 1)
    mask = _mask(rng, N, T) if use_mask else None
    dm = _drop(rng, drop, 1, N, U)
    kw = dict(mask=mask, recurrent_dropout_mask=dm, go_backwards=gb,
              zero_output_for_mask=zo)
    ref = cpu.simple_rnn_forward(xw, h0, R, **kw)
    g = lambda a: None if a is None else cp.asarray(a)  # noqa: E731
    got = gpu.simple_rnn_forward(g(xw), g(h0), g(R),
                                 **dict(kw, mask=g(mask),
                                        recurrent_dropout_mask=g(dm)))
    for a, b in zip(got[:2], ref[:2]):
        _close(cp, a, b)
    W = rng.standard_normal((N, T, U)).astype(np.float32)
    gref = cpu.simple_rnn_backward(W, None, ref[2])
    ggot = gpu.simple_rnn_backward(g(W), None, got[2])
    for a, b in zip(ggot, gref):
        _close(cp, a, b, 5e-4)


def test_gpu_rejects_float64(cp):
    from gkeras.backend import gpu
    xw = cp.zeros((2, 3, 8))
    with pytest.raises(TypeError, match="float32"):
        gpu.lstm_forward(xw, None, None, cp.zeros((2, 8)))
