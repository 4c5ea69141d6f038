"""`backend.cpu.lstm_infer`: the float32 LSTM inference forward as one
compiled call per batch part (BLAS called from the kernel), against the
per-step JIT path, the NumPy path (`jit.disabled()`) and a float64 LSTM:
odd batch sizes and splits (1 to 3 parts, batch 1), one step, go
backwards, with and without the sequence, bias or not, blocks of steps
with a remainder, non-contiguous inputs, NaN, and the fallbacks (no
kernel-callable BLAS, training, float64, masks through the layer)."""

import os
import sys

import numpy as np
import pytest

pytest.importorskip("numba")
pytestmark = pytest.mark.usefixtures("jit_on")

sys.path.insert(0, os.path.dirname(__file__))
from test_lstm_time_major import _problem, ref_lstm  # noqa: E402

import gkeras  # noqa: E402
from gkeras.backend.cpu import cblas, jit, lstm_infer, lstm_jit  # noqa: E402
from gkeras.backend.cpu import rnn as cpu_rnn  # noqa: E402


@pytest.fixture(autouse=True)
def _needs_blas():
    if not cblas.available():
        pytest.skip("no kernel-callable BLAS (not NumPy's OpenBLAS)")


def _f32(arrays):
    return [None if a is None else np.asarray(a, np.float32)
            for a in arrays]


def _infer(arrays, gb, seq):
    x, W, b, h0, c0, R = arrays
    hs, h, c, cache = cpu_rnn.lstm_projected_forward(
        x, W, b, h0, c0, R, go_backwards=gb, return_cache=False,
        return_sequences=seq)
    assert cache is None
    return [None if hs is None else np.array(hs), h, c]


@pytest.fixture
def calls(monkeypatch):
    """Counts `lstm_infer.forward` calls (so a test knows which path ran)
    and sets the number of parts."""
    seen = []
    orig = lstm_infer.forward

    def spy(*a, **k):
        seen.append(1)
        return orig(*a, **k)

    monkeypatch.setattr(lstm_infer, "forward", spy)
    return seen


def _parts(monkeypatch, n):
    monkeypatch.setattr(lstm_infer.parallel, "num_threads", lambda: n)
    monkeypatch.setattr(lstm_infer, "MIN_PART_ROWS", 1)


CASES = [(1, 1, 2, 1), (1, 6, 3, 3), (2, 1, 3, 4), (5, 7, 5, 5),
         (9, 13, 4, 6), (33, 9, 7, 17)]


@pytest.mark.parametrize("N,T,F,U", CASES)
@pytest.mark.parametrize("parts", [1, 2, 3])
@pytest.mark.parametrize("gb", [False, True])
@pytest.mark.parametrize("seq", [True, False])
def test_matches_numpy_path_and_float64(monkeypatch, calls, N, T, F, U,
                                        parts, gb, seq):
    _parts(monkeypatch, parts)
    rng = np.random.default_rng(N * 1000 + T * 10 + U)
    arrays = _problem(rng, N, T, F, U)
    got = _infer(_f32(arrays), gb, seq)
    assert calls
    with jit.disabled():
        ref = _infer(_f32(arrays), gb, seq)
    want = ref_lstm(*arrays, go_backwards=gb)
    for a, r, w in zip(got, ref, want):
        if r is None:
            assert a is None and not seq
            continue
        assert a.dtype == np.float32 and a.shape == r.shape
        assert a.flags.c_contiguous
        np.testing.assert_allclose(a, r, rtol=2e-5, atol=2e-5)
        np.testing.assert_allclose(a, w, atol=3e-5)


@pytest.mark.parametrize("gb", [False, True])
@pytest.mark.parametrize("T", [1, 5, 8, 23])
def test_blocks_of_steps_and_the_per_step_jit_path(monkeypatch, calls,
                                                   gb, T):
    """Projection blocks shorter than the sequence (with a remainder)
    give the per-step JIT path's values (which only differ in how the
    GEMMs are cut)."""
    _parts(monkeypatch, 2)
    monkeypatch.setattr(lstm_infer, "BLOCK_BYTES", 1)
    monkeypatch.setattr(lstm_infer, "MIN_BLOCK_STEPS", 3)
    rng = np.random.default_rng(T)
    arrays = _f32(_problem(rng, 7, T, 5, 4))
    got = _infer(arrays, gb, True)
    assert calls
    x, W, b, h0, c0, R = arrays
    X = lstm_jit._time_major(x, gb)
    ref = lstm_jit._inference(X, W, R, b, h0, c0, True, T, 7)
    for a, r in zip(got, ref[:3]):
        np.testing.assert_allclose(a, np.asarray(r), rtol=1e-6, atol=1e-6)


def test_no_bias_and_non_contiguous_inputs(monkeypatch, calls):
    _parts(monkeypatch, 2)
    rng = np.random.default_rng(3)
    x, W, b, h0, c0, R = _f32(_problem(rng, 6, 5, 4, 3))
    xs = np.asfortranarray(x)
    Ws = np.asfortranarray(W)
    got = _infer([xs, Ws, None, h0, c0, R], True, True)
    with jit.disabled():
        ref = _infer([x, W, None, h0, c0, R], True, True)
    for a, r in zip(got, ref):
        np.testing.assert_allclose(a, r, rtol=2e-5, atol=2e-5)


def test_nan_and_saturation_like_numpy(monkeypatch, calls):
    _parts(monkeypatch, 2)
    rng = np.random.default_rng(6)
    x, W, b, h0, c0, R = _problem(rng, 4, 12, 5, 6)
    big = _f32([x * 40, W, b * 40, h0, c0, R * 10])
    big[0][1, 3, 2] = np.nan
    big[0][2, 5, 0] = np.inf
    with np.errstate(invalid="ignore"):
        got = _infer(big, False, True)
        with jit.disabled():
            ref = _infer(big, False, True)
    for a, r in zip(got, ref):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(r))
        ok = ~np.isnan(r)
        np.testing.assert_allclose(a[ok], r[ok], rtol=1e-4, atol=1e-4)
    assert np.isnan(got[0][1]).any() and not np.isnan(got[0][0]).any()


def test_fallbacks(monkeypatch, calls):
    rng = np.random.default_rng(8)
    arrays = _problem(rng, 3, 4, 2, 3)
    # float64 and training never take it.
    _infer(arrays, False, True)
    x, W, b, h0, c0, R = _f32(arrays)
    cpu_rnn.lstm_projected_forward(x, W, b, h0, c0, R, return_cache=True)
    assert not calls
    # Without a kernel-callable BLAS: the per-step JIT path.
    want = _infer(_f32(arrays), False, True)
    assert len(calls) == 1
    monkeypatch.setitem(cblas._STATE, "lib", None)
    got = _infer(_f32(arrays), False, True)
    assert len(calls) == 1
    for a, r in zip(got, want):
        np.testing.assert_allclose(a, r, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kwargs", [
    {}, {"return_sequences": True, "return_state": True},
    {"go_backwards": True, "use_bias": False}])
def test_layer_predict(monkeypatch, calls, kwargs):
    """The LSTM layer at inference (batch split into parts) against the
    NumPy path; masked input falls back to the general path."""
    _parts(monkeypatch, 2)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 7, 3)).astype(np.float32)
    layer = gkeras.layers.LSTM(4, **kwargs)
    got = layer(x)
    assert calls
    with jit.disabled():
        ref = layer(x)
    got = got if isinstance(got, (list, tuple)) else [got]
    ref = ref if isinstance(ref, (list, tuple)) else [ref]
    for a, r in zip(got, ref):
        np.testing.assert_allclose(np.asarray(a), np.asarray(r),
                                   rtol=2e-5, atol=2e-5)
    n = len(calls)
    mask = np.ones((5, 7), bool)
    mask[1, 4:] = False
    out = layer(x, mask=mask)
    assert len(calls) == n
    with jit.disabled():
        ref = layer(x, mask=mask)
    out = out if isinstance(out, (list, tuple)) else [out]
    ref = ref if isinstance(ref, (list, tuple)) else [ref]
    for a, r in zip(out, ref):
        np.testing.assert_allclose(np.asarray(a), np.asarray(r),
                                   rtol=2e-5, atol=2e-5)


def test_mixed_precision_and_stateful_layers(monkeypatch, calls):
    """A mixed_float16 layer gives what the NumPy path gives (dtype
    included); a stateful layer carries its states through the parts
    from call to call."""
    _parts(monkeypatch, 2)
    rng = np.random.default_rng(9)
    x = rng.standard_normal((6, 5, 3)).astype(np.float32)
    mixed = gkeras.layers.LSTM(4, dtype="mixed_float16")
    out = np.asarray(mixed(x))
    with jit.disabled():
        ref = np.asarray(mixed(x))
    assert out.dtype == ref.dtype
    np.testing.assert_allclose(out.astype(np.float32),
                               ref.astype(np.float32), rtol=2e-3, atol=2e-3)
    calls.clear()
    layer = gkeras.layers.LSTM(4, stateful=True)
    outs = [np.asarray(layer(x)) for _ in range(2)]
    assert len(calls) == 2
    layer.reset_states()
    with jit.disabled():
        refs = [np.asarray(layer(x)) for _ in range(2)]
    for a, r in zip(outs, refs):
        np.testing.assert_allclose(a, r, rtol=2e-5, atol=2e-5)
    assert not np.allclose(outs[0], outs[1])
