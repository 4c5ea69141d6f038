"""The float32 LSTM's feature-major JIT path (`backend.cpu.lstm_jit`):
its rational tanh against float64 over the whole range (+-inf, NaN, large
and tiny inputs), the recurrence against the NumPy path
(`jit.disabled()`), a float64 LSTM and central differences of it, odd
shapes, and the fallbacks (float64, `GKERAS_CPU_JIT=0`)."""

import contextlib
import os
import sys

import numpy as np
import pytest

pytest.importorskip("numba")
pytestmark = pytest.mark.usefixtures("jit_on")

sys.path.insert(0, os.path.dirname(__file__))
from test_lstm_time_major import _problem, ref_lstm  # noqa: E402

import gkeras  # noqa: E402
from gkeras.backend.cpu import jit  # noqa: E402
from gkeras.backend.cpu import lstm_jit  # noqa: E402
from gkeras.backend.cpu import rnn as cpu_rnn  # noqa: E402


def _f32(arrays):
    return [None if a is None else a.astype(np.float32) for a in arrays]


def test_fast_tanh_against_float64():
    x = np.concatenate([
        np.linspace(-20, 20, 400001),
        np.geomspace(1e-30, 1e-2, 2001), -np.geomspace(1e-30, 1e-2, 2001),
        [0.0, -0.0, 7.9, 7.91, -7.91, 88.0, -88.0, 1e30, -1e30,
         3.4e38, -3.4e38]]).astype(np.float32)
    out = lstm_jit.fast_tanh_into(x, np.empty_like(x))
    want = np.tanh(x.astype(np.float64))
    err = np.abs(out - want)
    assert err.max() <= 3e-7
    # Relative accuracy where tanh is small (not just absolute).
    small = np.abs(x) < 1e-2
    assert (err[small] <= 3e-7 * np.abs(want[small]) + 1e-37).all()
    assert (np.abs(out) <= 1).all()
    special = np.array([np.inf, -np.inf, np.nan], np.float32)
    s = lstm_jit.fast_tanh_into(special, np.empty_like(special))
    assert s[0] == 1 and s[1] == -1 and np.isnan(s[2])
    big = np.array([9.02, 12.0, 1e30, -9.02, -1e30], np.float32)
    np.testing.assert_array_equal(
        lstm_jit.fast_tanh_into(big, np.empty_like(big)),
        [1, 1, 1, -1, -1])


SHAPES = [(1, 1, 2, 1), (1, 5, 3, 3), (4, 7, 5, 5), (3, 6, 2, 4),
          (33, 9, 7, 17)]


def _run(arrays, gb, seq, grads, keep=True):
    x, W, b, h0, c0, R = arrays
    hs, h, c, cache = cpu_rnn.lstm_projected_forward(
        x, W, b, h0, c0, R, go_backwards=gb, return_cache=keep,
        return_sequences=seq)
    out = [None if hs is None else np.array(hs), h, c]
    if keep:
        used_jit = bool(cache.get("jit"))
        out += list(cpu_rnn.lstm_projected_backward(*grads, cache))
        return out, used_jit
    return out, None


@pytest.mark.parametrize("N,T,F,U", SHAPES)
@pytest.mark.parametrize("gb", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_jit_matches_numpy_path_and_float64(N, T, F, U, gb, bias):
    rng = np.random.default_rng(N * 100 + T * 10 + U)
    arrays = _problem(rng, N, T, F, U)
    if not bias:
        arrays[2] = None
    A = rng.standard_normal((N, T, U))
    B, C = rng.standard_normal((N, U)), rng.standard_normal((N, U))
    grads = _f32([A, B, C])
    got, used = _run(_f32(arrays), gb, True, grads)
    assert used
    with jit.disabled():
        ref, used_np = _run(_f32(arrays), gb, True, grads)
    assert not used_np
    for a, r in zip(got, ref):
        if r is None:
            assert a is None
            continue
        assert a.dtype == np.float32 and a.shape == r.shape
        np.testing.assert_allclose(a, r, rtol=2e-5, atol=2e-5)
    # The float64 reference (forward) and its exact float64 gradients
    # from the NumPy path on float64 arrays.
    want = ref_lstm(*[a for a in arrays], go_backwards=gb)
    for a, w in zip(got[:3], want):
        np.testing.assert_allclose(a, w, atol=3e-5)
    ref64, _ = _run(arrays, gb, True, [A, B, C])
    for a, w in zip(got[3:], ref64[3:]):
        if w is None:
            assert a is None
            continue
        np.testing.assert_allclose(a, w, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("gb", [False, True])
@pytest.mark.parametrize("seq", [True, False])
@pytest.mark.parametrize("N,T", [(1, 1), (40, 17), (3, 30)])
def test_inference_matches_training_forward(gb, seq, N, T):
    """Inference runs its own loop (blocks of steps, two carry buffers
    used in turn; odd and even T) and gives the training forward's
    values."""
    rng = np.random.default_rng(N + T)
    arrays = _f32(_problem(rng, N, T, 3, 5))
    train, _ = _run(arrays, gb, True, [None, None, None])
    inf, _ = _run(arrays, gb, seq, None, keep=False)
    if seq:
        np.testing.assert_allclose(inf[0], train[0], rtol=1e-6, atol=1e-6)
    else:
        assert inf[0] is None
    np.testing.assert_allclose(inf[1], train[1], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(inf[2], train[2], rtol=1e-6, atol=1e-6)


def test_gradients_finite_differences_float64_loss():
    """The JIT's float32 gradients against central differences of the
    float64 reference loss."""
    rng = np.random.default_rng(11)
    N, T, F, U = 3, 5, 4, 3
    arrays = _problem(rng, N, T, F, U)
    x, W, b, h0, c0, R = arrays
    A = rng.standard_normal((N, T, U))
    B, C = rng.standard_normal((N, U)), rng.standard_normal((N, U))

    def loss():
        hs, h, c = ref_lstm(x, W, b, h0, c0, R)
        return (hs * A).sum() + (h * B).sum() + (c * C).sum()

    got, used = _run(_f32(arrays), False, True, _f32([A, B, C]))
    assert used
    eps = 1e-6
    for a, g in zip(arrays, got[3:]):
        flat = a.reshape(-1)
        for j in rng.choice(flat.size, min(6, flat.size), replace=False):
            old = flat[j]
            flat[j] = old + eps
            fp = loss()
            flat[j] = old - eps
            fm = loss()
            flat[j] = old
            num = (fp - fm) / (2 * eps)
            assert abs(num - g.reshape(-1)[j]) <= 2e-4 * (1 + abs(num))


def test_missing_gradients_and_no_dx():
    rng = np.random.default_rng(4)
    arrays = _f32(_problem(rng, 2, 4, 3, 3))
    x, W, b, h0, c0, R = arrays
    for grads in ([None, np.ones((2, 3), np.float32), None],
                  [np.ones((2, 4, 3), np.float32), None, None],
                  [None, None, np.ones((2, 3), np.float32)]):
        got = []
        for ctx in (contextlib.nullcontext(), jit.disabled()):
            with ctx:
                _, _, _, cache = cpu_rnn.lstm_projected_forward(
                    x, W, b, h0, c0, R)
                got.append(cpu_rnn.lstm_projected_backward(
                    *grads, cache, need_dx=False))
        assert got[0][0] is None and got[1][0] is None
        for a, r in zip(got[0][1:], got[1][1:]):
            np.testing.assert_allclose(a, r, rtol=2e-5, atol=2e-5)


def test_saturated_gates_and_nan_propagate_like_numpy():
    rng = np.random.default_rng(6)
    x, W, b, h0, c0, R = _problem(rng, 4, 12, 5, 6)
    big = _f32([x * 40, W, b * 40, h0, c0, R * 10])
    got, _ = _run(big, False, True, [None, np.ones((4, 6), np.float32),
                                     None])
    with jit.disabled():
        ref, _ = _run(big, False, True, [None, np.ones((4, 6), np.float32),
                                         None])
    for a, r in zip(got, ref):
        if r is not None:
            assert np.isfinite(a).all()
            np.testing.assert_allclose(a, r, rtol=1e-4, atol=1e-4)
    xn = big[0].copy()
    xn[1, 3, 2] = np.nan
    xn[2, 5, 0] = np.inf
    arrays = [xn] + big[1:]
    with np.errstate(invalid="ignore"):
        got, _ = _run(arrays, False, True,
                      [None, np.ones((4, 6), np.float32), None])
        with jit.disabled():
            ref, _ = _run(arrays, False, True,
                          [None, np.ones((4, 6), np.float32), None])
    for a, r in zip(got[:3], ref[:3]):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(r))
        ok = ~np.isnan(r)
        np.testing.assert_allclose(a[ok], r[ok], rtol=1e-4, atol=1e-4)
    assert np.isnan(got[0][1]).any()


def test_fallbacks(monkeypatch):
    rng = np.random.default_rng(2)
    arrays = _problem(rng, 2, 3, 2, 2)
    _, used = _run(arrays, False, True, [None, None, None])
    assert used is False                         # float64: NumPy path
    _, used = _run(_f32(arrays), False, True, [None, None, None])
    assert used is True
    monkeypatch.setenv("GKERAS_CPU_JIT", "0")
    _, used = _run(_f32(arrays), False, True, [None, None, None])
    assert used is False
    monkeypatch.delenv("GKERAS_CPU_JIT")
    with jit.disabled():
        _, used = _run(_f32(arrays), False, True, [None, None, None])
    assert used is False


def test_layer_same_with_and_without_jit():
    """The LSTM layer (Embedding + LSTM + Dense as in the benchmark,
    small): outputs and every weight gradient, JIT on and off."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 50, (5, 11)).astype("int32")
    y = rng.integers(0, 2, (5, 1)).astype("float32")
    results = []
    for ctx in (contextlib.nullcontext(), jit.disabled()):
        gkeras.utils.set_random_seed(3)
        model = gkeras.Sequential([
            gkeras.Input((11,), dtype="int32"),
            gkeras.layers.Embedding(50, 8), gkeras.layers.LSTM(6),
            gkeras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="sgd", loss="binary_crossentropy")
        with ctx:
            pred = np.array(model.predict_on_batch(x))
            model.train_on_batch(x, y)
            after = [np.array(w) for w in model.get_weights()]
        results.append((pred, after))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-5,
                               atol=1e-6)
    for a, r in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, r, rtol=1e-5, atol=1e-6)
