"""Embedding -> LSTM / GRU inference with the input projection read from
a table of `embeddings @ kernel` rows (backend/cpu/projection_table.py,
the gathered modes of lstm_infer and gru_infer,
models/inference_fusion.EmbeddingRNN), against the layers run one by one
(`inference_fusion.disabled()`) and float64 LSTM / GRU references.

1. the table: rows equal `emb[ids] @ kernel` in float64; an embedding
   row or the kernel written in place (through `.numpy()` memory, no
   Variable API) is seen at the next call; NaN rows; the size cap; bad
   shapes;
2. the kernels' gathered modes against the projected modes and float64,
   over 1 to 3 parts, go_backwards, with and without the sequence (LSTM),
   with and without the input bias (GRU);
3. models: Sequential and Functional, return_sequences / return_state /
   go_backwards / use_bias=False, after training steps (fused optimizers
   write in place), set_weights and assign; `predict` over batches with
   new ids; the same for GRU (reset_after=False is not fused);
4. what is not fused and still gives the layers' values (and errors):
   ids out of range, mask_zero, a stateful LSTM, float ids, the
   embedding output used twice, other activations, a table over the cap,
   the JIT off.
"""

import os
import sys

import numpy as np
import pytest

pytest.importorskip("numba")
pytestmark = pytest.mark.usefixtures("jit_on")

sys.path.insert(0, os.path.dirname(__file__))
from test_gru_time_major import ref_gru  # noqa: E402
from test_lstm_time_major import ref_lstm  # noqa: E402

import gkeras  # noqa: E402
from gkeras import layers as L  # noqa: E402
from gkeras.backend.cpu import cblas, gru_infer, lstm_infer  # noqa: E402
from gkeras.backend.cpu import projection_table as ptab  # noqa: E402
from gkeras.models import inference_fusion  # noqa: E402


@pytest.fixture(autouse=True)
def _needs_blas(jit_on):
    if not cblas.available():
        pytest.skip("no kernel-callable BLAS (not NumPy's OpenBLAS)")


@pytest.fixture
def gathered(monkeypatch):
    """Records each `lstm_infer.forward` / `gru_infer.forward` call: True
    when gathered from a table."""
    seen = []
    for mod in (lstm_infer, gru_infer):
        real = mod.forward

        def spy(*a, _real=real, **k):
            seen.append(k.get("table") is not None)
            return _real(*a, **k)
        monkeypatch.setattr(mod, "forward", spy)
    return seen


def _parts(monkeypatch, n):
    monkeypatch.setattr(lstm_infer.parallel, "num_threads", lambda: n)
    monkeypatch.setattr(lstm_infer, "MIN_PART_ROWS", 1)
    monkeypatch.setattr(lstm_infer, "MIN_SPLIT_FLOPS", 0)


# -- 1. the table -------------------------------------------------------------

def test_table_rows_and_in_place_writes():
    rng = np.random.default_rng(0)
    V, F, G = 50, 6, 12
    emb = rng.standard_normal((V, F)).astype("float32")
    W = rng.standard_normal((F, G)).astype("float32")
    t = ptab.ProjectionTable(V, F, G)
    ids = rng.integers(0, V, (4, 9))

    def check(ids):
        with t.lock:
            rows = t.rows_for(ids, emb, W)
            got = rows[ids]
        np.testing.assert_allclose(
            got, emb[ids].astype(np.float64) @ W.astype(np.float64),
            rtol=1e-5, atol=1e-5)

    check(ids)
    emb[ids[0, 0]] += 1.0                 # an embedding row, in place
    check(ids)
    W[2, 3] = 7.0                         # the kernel, in place
    check(ids)
    check(rng.integers(0, V, (3, 5)))     # ids not seen before
    emb[ids[1, 1]] = np.nan               # a NaN row: NaN products
    with t.lock:
        rows = t.rows_for(ids, emb, W)
    assert np.isnan(rows[ids[1, 1]]).all()
    emb[ids[1, 1]] = 0.5
    check(ids)


def test_table_recomputes_only_stale_rows(monkeypatch):
    rng = np.random.default_rng(1)
    emb = rng.standard_normal((20, 4)).astype("float32")
    W = rng.standard_normal((4, 8)).astype("float32")
    t = ptab.ProjectionTable(20, 4, 8)
    counts = []
    real = ptab._stale_ids

    def spy(*a):
        n = real(*a)
        counts.append(n)
        return n
    monkeypatch.setattr(ptab, "_stale_ids", spy)
    ids = np.array([[1, 2, 2, 3], [3, 1, 5, 5]])
    t.rows_for(ids, emb, W)
    t.rows_for(ids, emb, W)
    emb[5] *= 2.0
    t.rows_for(ids, emb, W)
    W *= 1.5
    t.rows_for(ids, emb, W)
    assert counts == [4, 0, 1, 4]


def test_table_size_cap_and_errors(monkeypatch):
    assert ptab.ProjectionTable.fits(20000, 128, 512)
    assert not ptab.ProjectionTable.fits(10 ** 6, 256, 1024)
    monkeypatch.setattr(ptab, "MAX_BYTES", 100)
    assert not ptab.ProjectionTable.fits(20, 4, 8)
    t = ptab.ProjectionTable(20, 4, 8)
    with pytest.raises(ValueError, match=r"\(20, 4\) embedding"):
        t.rows_for(np.zeros((1, 1), "int32"), np.zeros((21, 4), "float32"),
                   np.zeros((4, 8), "float32"))


# -- 2. the kernel's gathered mode -------------------------------------------

@pytest.mark.parametrize("N,T,F,U", [(1, 1, 2, 1), (5, 7, 5, 5),
                                     (9, 13, 4, 6)])
@pytest.mark.parametrize("parts", [1, 2, 3])
@pytest.mark.parametrize("gb", [False, True])
@pytest.mark.parametrize("seq", [True, False])
def test_gathered_kernel_matches_projected_and_float64(monkeypatch, N, T, F,
                                                       U, parts, gb, seq):
    _parts(monkeypatch, parts)
    rng = np.random.default_rng(N * 100 + T)
    V = 11
    emb = rng.standard_normal((V, F)).astype("float32")
    W = (rng.standard_normal((F, 4 * U)) * 0.6).astype("float32")
    b = (rng.standard_normal(4 * U) * 0.5).astype("float32")
    R = (rng.standard_normal((U, 4 * U)) * 0.6).astype("float32")
    h0 = (rng.standard_normal((N, U)) * 0.5).astype("float32")
    c0 = (rng.standard_normal((N, U)) * 0.5).astype("float32")
    ids = rng.integers(0, V, (N, T)).astype("int32")
    table = emb @ W
    got = lstm_infer.forward(ids, W, b, h0, c0, R, gb, seq, table=table)
    proj = lstm_infer.forward(emb[ids], W, b, h0, c0, R, gb, seq)
    ref = ref_lstm(emb[ids].astype(np.float64), W, b, h0, c0, R, gb)
    for g, p, r in zip(got[:3], proj[:3], ref):
        if g is None:
            assert not seq and p is None
            continue
        np.testing.assert_allclose(g, p, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(g, r, rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize("N,T,F,U", [(1, 1, 2, 1), (5, 7, 5, 5),
                                     (9, 13, 4, 6)])
@pytest.mark.parametrize("parts", [1, 2, 3])
@pytest.mark.parametrize("gb", [False, True])
@pytest.mark.parametrize("with_bias", [False, True])
def test_gru_gathered_kernel_matches_projected_and_float64(
        monkeypatch, N, T, F, U, parts, gb, with_bias):
    _parts(monkeypatch, parts)
    rng = np.random.default_rng(N * 10 + T + 7)
    V = 11
    emb = rng.standard_normal((V, F)).astype("float32")
    W = (rng.standard_normal((F, 3 * U)) * 0.6).astype("float32")
    ib = (rng.standard_normal(3 * U) * 0.4).astype("float32") \
        if with_bias else None
    rb = (rng.standard_normal(3 * U) * 0.3).astype("float32")
    R = (rng.standard_normal((U, 3 * U)) * 0.6).astype("float32")
    h0 = (rng.standard_normal((N, U)) * 0.5).astype("float32")
    ids = rng.integers(0, V, (N, T)).astype("int64")
    table = emb @ W
    got = gru_infer.forward(ids, h0, R, rb, gb, table=table, input_bias=ib)
    xw = table[ids] + (0 if ib is None else ib)
    proj = gru_infer.forward(xw.astype("float32"), h0, R, rb, gb)
    ref = ref_gru(emb[ids].astype(np.float64) @ W + (
        0 if ib is None else ib), h0, R, rb, gb)
    for g, p, r in zip(got[:2], proj[:2], ref):
        # The same additions in the same order: the same bits.
        np.testing.assert_array_equal(g, p)
        np.testing.assert_allclose(g, r, rtol=2e-4, atol=2e-4)


def test_gathered_kernel_table_width_error():
    z = np.zeros((2, 3), "float32")
    with pytest.raises(ValueError, match="4 \\* units = 12 columns"):
        lstm_infer.forward(np.zeros((2, 2), "int32"), np.zeros((4, 12), "f4"),
                           np.zeros(12, "f4"), z, z, np.zeros((3, 12), "f4"),
                           False, False, table=np.zeros((5, 8), "f4"))


def test_gru_gathered_kernel_table_width_error():
    with pytest.raises(ValueError, match="3 \\* units = 9 columns"):
        gru_infer.forward(np.zeros((2, 2), "int32"), np.zeros((2, 3), "f4"),
                          np.zeros((3, 9), "f4"), np.zeros(9, "f4"), False,
                          table=np.zeros((5, 8), "f4"))


# -- 3. models ----------------------------------------------------------------

def _randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign((rng.standard_normal(w.shape) * 0.4).astype(w.dtype))


def _sequential(V=40, T=9, F=8, U=6, **lstm_kwargs):
    model = gkeras.Sequential([
        gkeras.Input((T,), dtype="int32"), L.Embedding(V, F),
        L.LSTM(U, **lstm_kwargs), L.Dense(1, activation="sigmoid")])
    _randomize(model)
    return model


def _both(model, x):
    fused = model.predict_on_batch(x)
    with inference_fusion.disabled():
        plain = model.predict_on_batch(x)
    return fused, plain


def _reference(model, ids):
    """The Sequential model's output in float64 from its weights."""
    emb, lstm, dense = model.layers
    cell = lstm.cell
    U = cell.units
    N = ids.shape[0]
    b = cell.bias.numpy() if cell.use_bias else None
    z = np.zeros((N, U))
    hs, h, _ = ref_lstm(emb.embeddings.numpy()[ids].astype(np.float64),
                        cell.kernel.numpy(), b, z, z,
                        cell.recurrent_kernel.numpy(), lstm.go_backwards)
    last = hs if lstm.return_sequences else h
    y = last @ dense.kernel.numpy() + dense.bias.numpy()
    return 1 / (1 + np.exp(-y))


@pytest.mark.parametrize("kwargs", [{}, {"go_backwards": True},
                                    {"use_bias": False},
                                    {"return_sequences": True}])
@pytest.mark.parametrize("parts", [1, 2])
def test_sequential_matches_layers_and_float64(monkeypatch, gathered, kwargs,
                                               parts):
    _parts(monkeypatch, parts)
    model = _sequential(**kwargs)
    plan = inference_fusion.inference_plan(model._functional_graph)
    assert [type(op).__name__ for op, *_ in plan] == ["EmbeddingRNN",
                                                      "Dense"]
    ids = np.random.default_rng(2).integers(0, 40, (7, 9)).astype("int32")
    fused, plain = _both(model, ids)
    assert gathered == [True, False]
    np.testing.assert_allclose(fused, plain, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fused, _reference(model, ids), rtol=2e-4,
                               atol=2e-4)
    # predict over batches of new ids: rows added to the table as seen.
    many = np.random.default_rng(3).integers(0, 40, (50, 9))
    out = model.predict(many, batch_size=16, verbose=0)
    np.testing.assert_allclose(out, _reference(model, many), rtol=2e-4,
                               atol=2e-4)


def test_return_state_functional(gathered):
    inp = gkeras.Input((5,), dtype="int64")
    out, h, c = L.LSTM(4, return_state=True, return_sequences=True)(
        L.Embedding(12, 3)(inp))
    model = gkeras.Model(inp, [out, h, c])
    _randomize(model)
    ids = np.random.default_rng(4).integers(0, 12, (3, 5))
    fused, plain = _both(model, ids)
    assert gathered == [True, False]
    assert [a.shape for a in fused] == [(3, 5, 4), (3, 4), (3, 4)]
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_weight_changes_take_effect(gathered):
    model = _sequential()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    rng = np.random.default_rng(5)
    ids = rng.integers(0, 40, (16, 9)).astype("int32")
    y = rng.integers(0, 2, (16, 1)).astype("float32")
    before = model.predict_on_batch(ids)
    for _ in range(2):                      # in-place optimizer updates
        model.train_on_batch(ids, y)
        fused, plain = _both(model, ids)
        np.testing.assert_allclose(fused, plain, rtol=1e-5, atol=1e-6)
    assert not np.allclose(fused, before, atol=1e-4)
    emb = model.layers[0].embeddings
    emb.assign(emb.numpy() * 1.5)           # assign
    fused, plain = _both(model, ids)
    np.testing.assert_allclose(fused, plain, rtol=1e-5, atol=1e-6)
    weights = [w * 0.5 for w in model.get_weights()]
    model.set_weights(weights)              # set_weights
    fused, plain = _both(model, ids)
    np.testing.assert_allclose(fused, plain, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fused, _reference(model, ids), rtol=2e-4,
                               atol=2e-4)
    # The first predict, then (fused, layer by layer) pairs.
    assert gathered[0] and all(gathered[1::2]) and not any(gathered[2::2])


def test_not_fused_cases_give_the_layers_values(monkeypatch, gathered):
    rng = np.random.default_rng(6)
    ids = rng.integers(0, 40, (4, 9)).astype("int32")
    # Out-of-range ids: the Embedding's own error.
    model = _sequential()
    bad = ids.copy()
    bad[0, 0] = 40
    with pytest.raises(ValueError, match="outside the table"):
        model.predict_on_batch(bad)
    # Float ids (the Embedding casts them): not gathered, same values.
    fused, plain = _both(model, ids.astype("float32"))
    np.testing.assert_allclose(fused, plain, rtol=1e-6)
    assert not any(gathered)
    # Over the size cap.
    monkeypatch.setattr(ptab, "MAX_BYTES", 16)
    fused, plain = _both(model, ids)
    np.testing.assert_allclose(fused, plain, rtol=1e-6)
    assert not any(gathered)
    monkeypatch.setattr(ptab, "MAX_BYTES", 1 << 28)
    # Other activations, mask_zero, stateful: the plan entry is there
    # (or not) but the layers run.
    for kwargs in ({"activation": "relu"}, {"stateful": True}):
        model = gkeras.Sequential([
            gkeras.Input((9,), dtype="int32", batch_size=4),
            L.Embedding(40, 8), L.LSTM(6, **kwargs)])
        _randomize(model)
        fused = model.predict_on_batch(ids)
        if kwargs.get("stateful"):
            model.layers[-1].reset_states()
        with inference_fusion.disabled():
            plain = model.predict_on_batch(ids)
        np.testing.assert_allclose(fused, plain, rtol=1e-6)
    masked = gkeras.Sequential([gkeras.Input((9,), dtype="int32"),
                                L.Embedding(40, 8, mask_zero=True),
                                L.LSTM(6)])
    _randomize(masked)
    ids[0, 5:] = 0
    fused, plain = _both(masked, ids)
    np.testing.assert_allclose(fused, plain, rtol=1e-6)
    assert not any(gathered)


def test_shared_embedding_output_is_not_fused(gathered):
    inp = gkeras.Input((6,), dtype="int32")
    e = L.Embedding(10, 4)(inp)
    h = L.LSTM(3)(e)
    pooled = L.GlobalAveragePooling1D()(e)
    model = gkeras.Model(inp, [h, pooled])
    _randomize(model)
    plan = inference_fusion.inference_plan(model)
    assert not any(isinstance(op, inference_fusion.EmbeddingRNN)
                   for op, *_ in plan)
    ids = np.random.default_rng(7).integers(0, 10, (2, 6))
    fused, plain = _both(model, ids)
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert not any(gathered)


def test_jit_off_runs_the_layers(gathered):
    from gkeras.backend.cpu import jit
    model = _sequential()
    ids = np.random.default_rng(8).integers(0, 40, (3, 9))
    ref = _reference(model, ids)
    with jit.disabled():
        out = model.predict_on_batch(ids)
    assert not gathered
    np.testing.assert_allclose(out, ref, rtol=2e-4, atol=2e-4)


def _gru_model(V=30, T=8, F=5, U=7, **gru_kwargs):
    model = gkeras.Sequential([
        gkeras.Input((T,), dtype="int32"), L.Embedding(V, F),
        L.GRU(U, **gru_kwargs)])
    _randomize(model)
    return model


def _gru_reference(model, ids):
    emb, gru = model.layers
    cell = gru.cell
    b = cell.bias.numpy() if cell.use_bias else None
    xw = emb.embeddings.numpy()[ids].astype(np.float64) @ cell.kernel.numpy()
    if b is not None:
        xw = xw + b[0]
    hs, h = ref_gru(xw, np.zeros((ids.shape[0], cell.units)),
                    cell.recurrent_kernel.numpy(),
                    None if b is None else b[1], gru.go_backwards)
    return hs if gru.return_sequences else h


@pytest.mark.parametrize("kwargs", [{}, {"go_backwards": True},
                                    {"use_bias": False},
                                    {"return_sequences": True}])
@pytest.mark.parametrize("parts", [1, 2])
def test_gru_models(monkeypatch, gathered, kwargs, parts):
    _parts(monkeypatch, parts)
    model = _gru_model(**kwargs)
    plan = inference_fusion.inference_plan(model._functional_graph)
    assert [type(op).__name__ for op, *_ in plan] == ["EmbeddingRNN"]
    ids = np.random.default_rng(9).integers(0, 30, (6, 8)).astype("int32")
    fused, plain = _both(model, ids)
    assert gathered == [True, False]
    np.testing.assert_allclose(fused, plain, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fused, _gru_reference(model, ids),
                               rtol=2e-4, atol=2e-4)
    model.compile(optimizer="sgd", loss="mse")
    model.train_on_batch(ids, np.ones(fused.shape, "float32"))
    fused, plain = _both(model, ids)
    np.testing.assert_allclose(fused, plain, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fused, _gru_reference(model, ids),
                               rtol=2e-4, atol=2e-4)


def test_gru_return_state_and_reset_before(gathered):
    inp = gkeras.Input((4,), dtype="int32")
    out, h = L.GRU(3, return_state=True)(L.Embedding(9, 2)(inp))
    model = gkeras.Model(inp, [out, h])
    _randomize(model)
    ids = np.random.default_rng(10).integers(0, 9, (5, 4))
    fused, plain = _both(model, ids)
    assert gathered == [True, False]
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    gathered.clear()
    before = _gru_model(reset_after=False)
    fused, plain = _both(before, ids.clip(0, 7).repeat(2, 1))
    np.testing.assert_allclose(fused, plain, rtol=1e-6)
    assert not any(gathered)
