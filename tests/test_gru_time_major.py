"""The CPU GRU's time-major fast path (`backend.cpu.gru_time_major`, taken
by `backend.cpu.rnn.gru_forward` for reset_after=True, tanh/sigmoid, no
mask, no recurrent dropout) against an independent float64 GRU and
central differences, and the SimpleRNN's vectorised tanh; the general
path keeps the other cases (tests/test_rnn_primitives.py)."""

import numpy as np
import pytest

import gkeras
from gkeras.backend.cpu import rnn as cpu_rnn


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def ref_gru(xw, h0, R, rb, go_backwards=False):
    """Keras 3 GRU, reset_after=True, outputs in processing order."""
    N, T, _ = xw.shape
    U = R.shape[0]
    h = h0
    outs = []
    for s in (range(T - 1, -1, -1) if go_backwards else range(T)):
        q = h @ R + (0 if rb is None else rb)
        x = xw[:, s]
        z = _sig(x[:, :U] + q[:, :U])
        r = _sig(x[:, U:2 * U] + q[:, U:2 * U])
        hh = np.tanh(x[:, 2 * U:] + r * q[:, 2 * U:])
        h = z * h + (1 - z) * hh
        outs.append(h)
    return np.stack(outs, 1), h


def _problem(rng, N, T, U, scale=0.7):
    xw = rng.standard_normal((N, T, 3 * U)) * scale
    h0 = rng.standard_normal((N, U)) * 0.5
    R = rng.standard_normal((U, 3 * U)) * scale
    rb = rng.standard_normal(3 * U) * 0.3
    return xw, h0, R, rb


SHAPES = [(1, 1, 1), (1, 4, 3), (3, 6, 5), (4, 5, 2)]


@pytest.mark.parametrize("N,T,U", SHAPES)
@pytest.mark.parametrize("gb", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_forward_matches_reference(N, T, U, gb, bias):
    rng = np.random.default_rng(N * 31 + T * 7 + U)
    xw, h0, R, rb = _problem(rng, N, T, U)
    rb = rb if bias else None
    want_hs, want_h = ref_gru(xw, h0, R, rb, gb)
    for keep in (True, False):
        hs, h, cache = cpu_rnn.gru_forward(xw, h0, R, rb, go_backwards=gb,
                                           return_cache=keep)
        assert (cache is None) == (not keep)
        if keep:
            assert cache.get("time_major")
        np.testing.assert_allclose(hs, want_hs, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(h, want_h, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("N,T,U", SHAPES)
@pytest.mark.parametrize("gb", [False, True])
@pytest.mark.parametrize("seq,bias", [(True, True), (False, True),
                                      (True, False)])
def test_gradients_finite_differences(N, T, U, gb, seq, bias):
    rng = np.random.default_rng(5 + N + T + U)
    xw, h0, R, rb = _problem(rng, N, T, U)
    rb = rb if bias else None
    A = rng.standard_normal((N, T, U)) if seq else None
    B = rng.standard_normal((N, U))
    arrays = [xw, h0, R] + ([rb] if bias else [])

    def loss():
        hs, h = ref_gru(xw, h0, R, rb, gb)
        return (0 if A is None else (hs * A).sum()) + (h * B).sum()

    _, _, cache = cpu_rnn.gru_forward(xw, h0, R, rb, go_backwards=gb)
    dxw, dh0, dR, drb = cpu_rnn.gru_backward(A, B, cache)
    assert (drb is None) == (not bias)
    grads = [dxw, dh0, dR] + ([drb] if bias else [])
    for k, (a, g) in enumerate(zip(arrays, grads)):
        assert g.shape == a.shape
        flat = a.reshape(-1)
        for j in rng.choice(flat.size, min(8, flat.size), replace=False):
            old = flat[j]
            flat[j] = old + 1e-6
            fp = loss()
            flat[j] = old - 1e-6
            fm = loss()
            flat[j] = old
            num = (fp - fm) / 2e-6
            assert abs(num - g.reshape(-1)[j]) <= 1e-6 * (1 + abs(num)), (
                k, j, num, g.reshape(-1)[j])


def test_float32_and_saturation():
    rng = np.random.default_rng(9)
    # Saturated gates over a few steps (longer strongly driven sequences
    # are chaotic: float32 rounding grows whatever the path).
    xw, h0, R, rb = _problem(rng, 4, 5, 7, scale=6.0)
    want_hs, _ = ref_gru(xw, h0, R, rb)
    hs, h, cache = cpu_rnn.gru_forward(
        *[a.astype(np.float32) for a in (xw, h0, R, rb)])
    assert hs.dtype == np.float32
    np.testing.assert_allclose(hs, want_hs, atol=3e-5)
    xw, h0, R, rb = _problem(rng, 4, 40, 7, scale=0.5)
    want_hs, _ = ref_gru(xw, h0, R, rb)
    got = cpu_rnn.gru_forward(
        *[a.astype(np.float32) for a in (xw, h0, R, rb)],
        return_cache=False)[0]
    np.testing.assert_allclose(got, want_hs, atol=3e-5)
    g = cpu_rnn.gru_backward(None, np.ones_like(h), cache)
    assert all(np.isfinite(a).all() for a in g)


@pytest.mark.parametrize("kw", [{}, {"return_sequences": True,
                                     "go_backwards": True},
                                {"use_bias": False}])
def test_gru_layer_fast_path_equals_general_path(kw):
    """No mask (time-major path) vs an all-True mask (general path)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 6, 4)).astype("float32")
    gkeras.utils.set_random_seed(0)
    layer = gkeras.layers.GRU(5, **kw)
    layer(x)
    res = []
    for m in (None, np.ones((3, 6), bool)):
        with gkeras.GradientTape() as tape:
            xt = gkeras.ops.convert_to_tensor(x)
            tape.watch(xt)
            y = layer(xt, mask=m)
            loss = gkeras.ops.sum(y * y)
        grads = tape.gradient(loss, [xt] + layer.trainable_weights)
        res.append([np.asarray(y)] + [np.asarray(g) for g in grads])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)


def test_simple_rnn_vector_tanh_matches_reference():
    rng = np.random.default_rng(2)
    xw = rng.standard_normal((3, 7, 5)).astype("float32") * 3
    R = rng.standard_normal((5, 5)).astype("float32")
    h0 = np.zeros((3, 5), "float32")
    hs, h, _ = cpu_rnn.simple_rnn_forward(xw, h0, R)
    hr = h0.astype(np.float64)
    for s in range(7):
        hr = np.tanh(xw[:, s] + hr @ R)
    np.testing.assert_allclose(h, hr, atol=2e-6)
