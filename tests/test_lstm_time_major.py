"""The CPU LSTM's time-major fast path (`backend.cpu.lstm_time_major`) and
its fused-projection entry points, against an independent float64 NumPy
LSTM and central differences; the layer's fast path against its general
path (mask, dropout and activations that fall back)."""

import numpy as np
import pytest

import gkeras
from gkeras.backend.cpu import rnn as cpu_rnn
from gkeras.ops.shape import _scatter_add_rows


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def ref_lstm(x, W, b, h0, c0, R, go_backwards=False):
    """Plain float64 Keras LSTM (gate order i, f, c, o); outputs in
    processing order."""
    N, T, _ = x.shape
    U = R.shape[0]
    h, c = h0.astype(np.float64), c0.astype(np.float64)
    outs = []
    for s in (range(T - 1, -1, -1) if go_backwards else range(T)):
        z = x[:, s] @ W + h @ R + (0 if b is None else b)
        i, f = _sig(z[:, :U]), _sig(z[:, U:2 * U])
        g, o = np.tanh(z[:, 2 * U:3 * U]), _sig(z[:, 3 * U:])
        c = f * c + i * g
        h = o * np.tanh(c)
        outs.append(h)
    return np.stack(outs, 1), h, c


def _problem(rng, N, T, F, U, dtype=np.float64):
    x = rng.standard_normal((N, T, F))
    W = rng.standard_normal((F, 4 * U)) * 0.6
    b = rng.standard_normal(4 * U) * 0.5
    R = rng.standard_normal((U, 4 * U)) * 0.6
    h0 = rng.standard_normal((N, U)) * 0.5
    c0 = rng.standard_normal((N, U)) * 0.5
    return [a.astype(dtype) for a in (x, W, b, h0, c0, R)]


SHAPES = [(1, 1, 2, 1), (1, 5, 3, 3), (4, 7, 5, 5), (3, 6, 2, 4)]


@pytest.mark.parametrize("N,T,F,U", SHAPES)
@pytest.mark.parametrize("gb", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_projected_forward_matches_reference(N, T, F, U, gb, bias):
    rng = np.random.default_rng(N * 100 + T * 10 + U)
    x, W, b, h0, c0, R = _problem(rng, N, T, F, U)
    b = b if bias else None
    want = ref_lstm(x, W, b, h0, c0, R, gb)
    for keep in (True, False):
        hs, h, c, cache = cpu_rnn.lstm_projected_forward(
            x, W, b, h0, c0, R, go_backwards=gb, return_cache=keep)
        assert (cache is None) == (not keep)
        np.testing.assert_allclose(hs, want[0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(h, want[1], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(c, want[2], rtol=1e-12, atol=1e-12)
    # Inference without the sequence keeps only the final states.
    hs, h, c, _ = cpu_rnn.lstm_projected_forward(
        x, W, b, h0, c0, R, go_backwards=gb, return_cache=False,
        return_sequences=False)
    assert hs is None
    np.testing.assert_allclose(h, want[1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("gb", [False, True])
def test_inference_in_blocks_of_steps(gb):
    """Inference projects a few steps at a time (N=40: blocks of 7 steps,
    T=17: a partial last block); same values as the reference."""
    rng = np.random.default_rng(12)
    x, W, b, h0, c0, R = _problem(rng, 40, 17, 2, 3)
    want = ref_lstm(x, W, b, h0, c0, R, gb)
    for seq in (True, False):
        hs, h, c, _ = cpu_rnn.lstm_projected_forward(
            x, W, b, h0, c0, R, go_backwards=gb, return_cache=False,
            return_sequences=seq)
        if seq:
            np.testing.assert_allclose(hs, want[0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(h, want[1], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(c, want[2], rtol=1e-12, atol=1e-12)


def _fd(loss, arrays, grads, rng, n_probe=8, eps=1e-6, tol=1e-6):
    for k, (a, g) in enumerate(zip(arrays, grads)):
        assert g is not None and g.shape == a.shape, (k, a.shape)
        flat = a.reshape(-1)
        for j in rng.choice(flat.size, min(n_probe, flat.size),
                            replace=False):
            old = flat[j]
            flat[j] = old + eps
            fp = loss()
            flat[j] = old - eps
            fm = loss()
            flat[j] = old
            num = (fp - fm) / (2 * eps)
            assert abs(num - g.reshape(-1)[j]) <= tol * (1 + abs(num)), (
                k, j, num, g.reshape(-1)[j])


@pytest.mark.parametrize("N,T,F,U", SHAPES)
@pytest.mark.parametrize("gb", [False, True])
@pytest.mark.parametrize("seq", [True, False])
def test_projected_gradients_finite_differences(N, T, F, U, gb, seq):
    rng = np.random.default_rng(7 + N + T + U)
    arrays = _problem(rng, N, T, F, U)
    x, W, b, h0, c0, R = arrays
    A = rng.standard_normal((N, T, U)) if seq else None
    B, C = rng.standard_normal((N, U)), rng.standard_normal((N, U))

    def loss():
        hs, h, c = ref_lstm(x, W, b, h0, c0, R, gb)
        return (0 if A is None else (hs * A).sum()) + (h * B).sum() + \
            (c * C).sum()

    _, _, _, cache = cpu_rnn.lstm_projected_forward(
        x, W, b, h0, c0, R, go_backwards=gb, return_sequences=seq)
    dx, dW, db, dh0, dc0, dR = cpu_rnn.lstm_projected_backward(
        A, B, C, cache)
    _fd(loss, [x, W, b, h0, c0, R], [dx, dW, db, dh0, dc0, dR], rng)


def test_projected_backward_without_dx_and_missing_grads():
    rng = np.random.default_rng(3)
    x, W, b, h0, c0, R = _problem(rng, 2, 4, 3, 3)
    _, _, _, cache = cpu_rnn.lstm_projected_forward(x, W, None, h0, c0, R)
    B = rng.standard_normal((2, 3))
    dx, dW, db, dh0, dc0, dR = cpu_rnn.lstm_projected_backward(
        None, B, None, cache, need_dx=False)
    assert dx is None and db is None
    _, _, _, cache = cpu_rnn.lstm_projected_forward(x, W, None, h0, c0, R)
    full = cpu_rnn.lstm_projected_backward(None, B, None, cache)
    np.testing.assert_allclose(dW, full[1], rtol=1e-12)
    np.testing.assert_allclose(dR, full[5], rtol=1e-12)


@pytest.mark.parametrize("gb", [False, True])
def test_xw_entry_point_matches_reference(gb):
    """`lstm_forward(xw)` (the time-major path without the projection)."""
    rng = np.random.default_rng(11)
    x, W, b, h0, c0, R = _problem(rng, 3, 5, 4, 3)
    xw = x @ W + b
    want = ref_lstm(x, W, b, h0, c0, R, gb)
    for keep in (True, False):
        hs, h, c, _ = cpu_rnn.lstm_forward(xw, h0, c0, R, go_backwards=gb,
                                           return_cache=keep)
        np.testing.assert_allclose(hs, want[0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(c, want[2], rtol=1e-12, atol=1e-12)


def test_float32_close_to_float64():
    rng = np.random.default_rng(5)
    arrays = _problem(rng, 4, 30, 6, 7)
    want = ref_lstm(*arrays)
    hs, h, c, cache = cpu_rnn.lstm_projected_forward(
        *[a.astype(np.float32) for a in arrays])
    assert hs.dtype == np.float32
    np.testing.assert_allclose(hs, want[0], atol=2e-5)
    np.testing.assert_allclose(c, want[2], atol=2e-5)
    # Saturated gates (large pre-activations) stay finite and exact-ish.
    x, W, b, h0, c0, R = arrays
    big = [x * 30, W, b * 30, h0, c0, R * 10]
    want = ref_lstm(*big)
    hs, h, c, cache = cpu_rnn.lstm_projected_forward(
        *[a.astype(np.float32) for a in big])
    np.testing.assert_allclose(hs, want[0], atol=1e-5)
    g = cpu_rnn.lstm_projected_backward(None, np.ones_like(h), None, cache)
    assert all(np.isfinite(a).all() for a in g if a is not None)


def _lstm_model(seed, **kw):
    gkeras.utils.set_random_seed(seed)
    return gkeras.layers.LSTM(5, **kw)


@pytest.mark.parametrize("kw", [{}, {"return_sequences": True},
                                {"go_backwards": True},
                                {"return_sequences": True,
                                 "go_backwards": True, "use_bias": False}])
def test_layer_fast_path_equals_general_path(kw):
    """The layer's fast path (no mask) against the general driver (an
    all-True mask), values and gradients of every weight."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 6, 4)).astype("float32")
    layer = _lstm_model(0, **kw)
    layer(x)
    mask = np.ones((3, 6), bool)
    res = []
    for m in (None, mask):
        with gkeras.GradientTape() as tape:
            xt = gkeras.ops.convert_to_tensor(x)
            tape.watch(xt)
            y = layer(xt, mask=m)
            loss = gkeras.ops.sum(y * y)
        grads = tape.gradient(loss, [xt] + layer.trainable_weights)
        res.append([np.asarray(y)] + [np.asarray(g) for g in grads])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("kw", [{"activation": "relu"},
                                {"recurrent_activation": "hard_sigmoid"},
                                {"activation": "gelu"}])
def test_other_activations_fall_back(kw):
    """Non-default activations take the general path (or the cell loop)
    and still train: values match a float64 reference of the layer."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    layer = _lstm_model(1, **kw)
    y = np.asarray(layer(x))
    act = {"relu": lambda v: np.maximum(v, 0), "gelu": None}.get(
        kw.get("activation"), np.tanh)
    ract = (lambda v: np.clip(v / 6 + 0.5, 0, 1)) if \
        kw.get("recurrent_activation") == "hard_sigmoid" else _sig
    if act is None:
        assert np.isfinite(y).all()
        return
    W, R, b = [np.asarray(w, np.float64) for w in layer.get_weights()]
    h = c = np.zeros((2, 5))
    for s in range(5):
        z = x[:, s] @ W + h @ R + b
        i, f, g, o = (ract(z[:, :5]), ract(z[:, 5:10]), act(z[:, 10:15]),
                      ract(z[:, 15:]))
        c = f * c + i * g
        h = o * act(c)
    np.testing.assert_allclose(y, h, rtol=1e-4, atol=1e-5)


def test_inference_equals_training_forward():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 9, 3)).astype("float32")
    layer = _lstm_model(2, return_sequences=True)
    inf = np.asarray(layer(x))
    with gkeras.GradientTape() as tape:
        xt = gkeras.ops.convert_to_tensor(x)
        tape.watch(xt)
        tr = layer(xt)
    np.testing.assert_array_equal(inf, np.asarray(tr))


@pytest.mark.parametrize("n_rows", [1, 50, 300])
def test_scatter_add_rows_distinct_and_repeated(n_rows):
    rng = np.random.default_rng(n_rows)
    for rows in (rng.permutation(1000)[:n_rows],          # all distinct
                 rng.integers(0, 40, n_rows)):             # repeats
        vals = rng.standard_normal((n_rows, 3))
        want = rng.standard_normal((1000, 3))
        got = want.copy()
        np.add.at(want, rows, vals)
        _scatter_add_rows(got, rows, vals)
        np.testing.assert_allclose(got, want, atol=1e-12)
