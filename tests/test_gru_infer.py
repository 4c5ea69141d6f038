"""`backend.cpu.gru_infer`: the float32 GRU inference forward as one
compiled call per batch part, against the per-step JIT path, the NumPy
path (`jit.disabled()`) and a float64 GRU: 1 to 3 parts over odd batches
(batch 1 included), one step, go backwards, no recurrent bias,
non-contiguous inputs, NaN, and the fallbacks (training, float64, no
kernel-callable BLAS) and the GRU layer."""

import os
import sys

import numpy as np
import pytest

pytest.importorskip("numba")
pytestmark = pytest.mark.usefixtures("jit_on")

sys.path.insert(0, os.path.dirname(__file__))
from test_gru_time_major import _problem, ref_gru  # noqa: E402

import gkeras  # noqa: E402
from gkeras.backend.cpu import cblas, gru_infer, jit  # noqa: E402
from gkeras.backend.cpu import lstm_infer  # noqa: E402
from gkeras.backend.cpu import rnn as cpu_rnn  # noqa: E402


@pytest.fixture(autouse=True)
def _needs_blas(jit_on):
    if not cblas.available():
        pytest.skip("no kernel-callable BLAS (not NumPy's OpenBLAS)")


@pytest.fixture
def calls(monkeypatch):
    seen = []
    orig = gru_infer.forward
    monkeypatch.setattr(gru_infer, "forward",
                        lambda *a: seen.append(1) or orig(*a))
    return seen


def _parts(monkeypatch, n):
    monkeypatch.setattr(lstm_infer.parallel, "num_threads", lambda: n)
    monkeypatch.setattr(lstm_infer, "MIN_PART_ROWS", 1)
    monkeypatch.setattr(lstm_infer, "MIN_SPLIT_FLOPS", 0)


def _f32(arrays):
    return [None if a is None else np.asarray(a, np.float32)
            for a in arrays]


def _infer(xw, h0, R, rb, gb):
    hs, h, cache = cpu_rnn.gru_forward(xw, h0, R, rb, go_backwards=gb,
                                       return_cache=False)
    assert cache is None
    return [np.array(hs), h]


CASES = [(1, 1, 1), (1, 4, 3), (2, 1, 4), (5, 7, 5), (33, 9, 17)]


@pytest.mark.parametrize("N,T,U", CASES)
@pytest.mark.parametrize("parts", [1, 2, 3])
@pytest.mark.parametrize("gb", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_matches_numpy_path_and_float64(monkeypatch, calls, N, T, U, parts,
                                        gb, bias):
    _parts(monkeypatch, parts)
    rng = np.random.default_rng(N * 100 + T * 10 + U)
    xw, h0, R, rb = _problem(rng, N, T, U)
    rb = rb if bias else None
    got = _infer(*_f32([xw, h0, R, rb]), gb)
    assert calls
    with jit.disabled():
        ref = _infer(*_f32([xw, h0, R, rb]), gb)
    want = ref_gru(xw, h0, R, rb, gb)
    for a, r, w in zip(got, ref, want):
        assert a.dtype == np.float32 and a.shape == r.shape
        np.testing.assert_allclose(a, r, rtol=2e-5, atol=2e-5)
        np.testing.assert_allclose(a, w, atol=3e-5)


def test_non_contiguous_nan_and_the_per_step_path(monkeypatch, calls):
    _parts(monkeypatch, 2)
    rng = np.random.default_rng(4)
    xw, h0, R, rb = _f32(_problem(rng, 6, 8, 4, scale=3.0))
    xw[2, 3, 1] = np.nan
    xs = np.asfortranarray(xw)
    with np.errstate(invalid="ignore"):
        got = _infer(xs, h0, np.asfortranarray(R), rb, True)
        monkeypatch.setattr(gru_infer, "applies", lambda N, T: False)
        one = _infer(xw, h0, R, rb, True)
    assert len(calls) == 1
    for a, r in zip(got, one):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(r))
        ok = ~np.isnan(r)
        np.testing.assert_allclose(a[ok], r[ok], rtol=1e-6, atol=1e-6)
    assert np.isnan(got[0][2]).any() and not np.isnan(got[0][1]).any()


def test_fallbacks(monkeypatch, calls):
    rng = np.random.default_rng(8)
    xw, h0, R, rb = _problem(rng, 3, 4, 3)
    _infer(xw, h0, R, rb, False)                     # float64
    cpu_rnn.gru_forward(*_f32([xw, h0, R, rb]))       # training
    assert not calls
    want = _infer(*_f32([xw, h0, R, rb]), False)
    assert len(calls) == 1
    monkeypatch.setitem(cblas._STATE, "lib", None)
    got = _infer(*_f32([xw, h0, R, rb]), False)
    assert len(calls) == 1
    for a, r in zip(got, want):
        np.testing.assert_allclose(a, r, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kwargs", [
    {}, {"return_sequences": True, "return_state": True},
    {"go_backwards": True, "use_bias": False}])
def test_layer_predict(monkeypatch, calls, kwargs):
    _parts(monkeypatch, 2)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 7, 3)).astype(np.float32)
    layer = gkeras.layers.GRU(4, **kwargs)
    got = layer(x)
    assert calls
    with jit.disabled():
        ref = layer(x)
    got = got if isinstance(got, (list, tuple)) else [got]
    ref = ref if isinstance(ref, (list, tuple)) else [ref]
    for a, r in zip(got, ref):
        np.testing.assert_allclose(np.asarray(a), np.asarray(r),
                                   rtol=2e-5, atol=2e-5)
