"""The float32 GRU's feature-major JIT path (`backend.cpu.gru_jit`)
against the NumPy path (`jit.disabled()`), a float64 GRU and central
differences of it; odd shapes, missing gradients, saturation and NaN, the
fallbacks (float64, `GKERAS_CPU_JIT=0`) and the GRU layer with the JIT on
and off."""

import contextlib
import os
import sys

import numpy as np
import pytest

pytest.importorskip("numba")
pytestmark = pytest.mark.usefixtures("jit_on")

sys.path.insert(0, os.path.dirname(__file__))
from test_gru_time_major import _problem, ref_gru  # noqa: E402

import gkeras  # noqa: E402
from gkeras.backend.cpu import jit  # noqa: E402
from gkeras.backend.cpu import rnn as cpu_rnn  # noqa: E402


def _f32(arrays):
    return [None if a is None else a.astype(np.float32) for a in arrays]


def _run(xw, h0, R, rb, gb, grads, keep=True):
    hs, h, cache = cpu_rnn.gru_forward(xw, h0, R, rb, go_backwards=gb,
                                       return_cache=keep)
    out = [np.array(hs), h]
    if not keep:
        return out, None
    used = bool(cache.get("jit"))
    return out + list(cpu_rnn.gru_backward(*grads, cache)), used


SHAPES = [(1, 1, 1), (1, 4, 3), (3, 6, 5), (4, 5, 2), (33, 9, 17)]


@pytest.mark.parametrize("N,T,U", SHAPES)
@pytest.mark.parametrize("gb", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_jit_matches_numpy_path_and_float64(N, T, U, gb, bias):
    rng = np.random.default_rng(N * 31 + T * 7 + U)
    xw, h0, R, rb = _problem(rng, N, T, U)
    rb = rb if bias else None
    A, B = rng.standard_normal((N, T, U)), rng.standard_normal((N, U))
    args = _f32([xw, h0, R, rb])
    got, used = _run(*args, gb, _f32([A, B]))
    assert used
    with jit.disabled():
        ref, used_np = _run(*args, gb, _f32([A, B]))
    assert not used_np
    for a, r in zip(got, ref):
        if r is None:
            assert a is None
            continue
        assert a.dtype == np.float32 and a.shape == r.shape
        np.testing.assert_allclose(a, r, rtol=2e-5, atol=2e-5)
    want = ref_gru(xw, h0, R, rb, gb)
    for a, w in zip(got[:2], want):
        np.testing.assert_allclose(a, w, atol=3e-5)
    ref64, _ = _run(xw, h0, R, rb, gb, [A, B])
    for a, w in zip(got[2:], ref64[2:]):
        if w is None:
            assert a is None
            continue
        np.testing.assert_allclose(a, w, rtol=1e-4, atol=1e-4)
    inf, _ = _run(*args, gb, None, keep=False)
    for a, r in zip(inf, got[:2]):
        np.testing.assert_allclose(a, r, rtol=1e-6, atol=1e-6)


def test_gradients_finite_differences_float64_loss():
    rng = np.random.default_rng(5)
    N, T, U = 3, 6, 4
    xw, h0, R, rb = _problem(rng, N, T, U)
    A, B = rng.standard_normal((N, T, U)), rng.standard_normal((N, U))

    def loss():
        hs, h = ref_gru(xw, h0, R, rb, True)
        return (hs * A).sum() + (h * B).sum()

    got, used = _run(*_f32([xw, h0, R, rb]), True, _f32([A, B]))
    assert used
    eps = 1e-6
    for a, g in zip([xw, h0, R, rb], got[2:]):
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


def test_missing_gradients_saturation_and_nan():
    rng = np.random.default_rng(8)
    xw, h0, R, rb = _problem(rng, 3, 7, 4)
    # Saturated units: both float32 paths against float64, norm-relative
    # (the rational tanh's few ulp grow through 1 - y^2; see jit_tanh).
    for scale, tol in ((1.0, 1e-6), (10.0, 1e-4), (40.0, 4e-3)):
        a64 = [xw * scale, h0, R * scale, rb]
        for grads in ([None, np.ones((3, 4))],
                      [np.ones((3, 7, 4)), None]):
            want, _ = _run(*a64, False, grads)
            got, _ = _run(*_f32(a64), False, _f32(grads))
            with jit.disabled():
                ref, _ = _run(*_f32(a64), False, _f32(grads))
            for a, r, w in zip(got, ref, want):
                assert np.isfinite(a).all()
                scale_w = max(np.linalg.norm(w), 1e-6)
                assert np.linalg.norm(a - w) <= tol * scale_w
                assert np.linalg.norm(r - w) <= tol * scale_w
    xn = xw.astype(np.float32)
    xn[1, 2, 0] = np.nan
    args = [xn] + _f32([h0, R, rb])
    got, _ = _run(*args, False, [None, np.ones((3, 4), np.float32)])
    with jit.disabled():
        ref, _ = _run(*args, False, [None, np.ones((3, 4), np.float32)])
    for a, r in zip(got, ref):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(r))
    assert np.isnan(got[0][1]).any()


def test_fallbacks(monkeypatch):
    rng = np.random.default_rng(2)
    args = _problem(rng, 2, 3, 2)
    _, used = _run(*args, False, [None, None])
    assert used is False
    _, used = _run(*_f32(args), False, [None, None])
    assert used is True
    monkeypatch.setenv("GKERAS_CPU_JIT", "0")
    _, used = _run(*_f32(args), False, [None, None])
    assert used is False


def test_gru_layer_same_with_and_without_jit():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 50, (5, 11)).astype("int32")
    y = rng.integers(0, 2, (5, 1)).astype("float32")
    results = []
    for ctx in (contextlib.nullcontext(), jit.disabled()):
        gkeras.utils.set_random_seed(3)
        model = gkeras.Sequential([
            gkeras.Input((11,), dtype="int32"),
            gkeras.layers.Embedding(50, 8),
            gkeras.layers.GRU(6, return_sequences=True),
            gkeras.layers.GRU(5, go_backwards=True),
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
