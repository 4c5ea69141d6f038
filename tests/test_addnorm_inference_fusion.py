"""Inference fusion of a residual Add -> LayerNormalization
(models/inference_fusion.AddNorm, ops.layer_norm's
`add_layer_normalization_inference`, backend/cpu/layernorm's
`add_layernorm_inference`) against the two layers run one by one
(`inference_fusion.disabled()`) and a float64 NumPy reference.

1. the kernel: LN(a + b) with and without gamma/beta, `rms_scaling`,
   float32/float64, odd row sizes, split over 3 pool threads, NaN rows;
   what it declines;
2. graph: a post-norm Transformer block fuses both of its Add -> LN pairs
   and matches the layer-by-layer call and float64; multi-axis trailing
   normalization;
3. what is not fused and still gives the reference values: the sum used
   twice or a model output, a normalization over a non-trailing axis,
   broadcasting Add, masked inputs (the output mask is kept), three
   inputs, mixed precision, the JIT off, a recording tape;
4. weight changes take effect at once; `disabled()` reaches a cached plan.
"""

import numpy as np
import pytest

pytest.importorskip("numba")
pytestmark = pytest.mark.usefixtures("jit_on")

import gkeras  # noqa: E402
from gkeras import layers as L  # noqa: E402
from gkeras.backend.cpu import jit, layernorm, parallel  # noqa: E402
from gkeras.models import inference_fusion  # noqa: E402
from gkeras.ops.engine import Tensor  # noqa: E402


def ref_add_ln(a, b, gamma, beta, eps, rms=False, axes=1):
    """LN(a + b) over the last `axes` axes in float64 (Keras 3's formula;
    `rms`: the uncentred sum scaled by the centred variance)."""
    s = a.astype(np.float64) + b.astype(np.float64)
    red = tuple(range(s.ndim - axes, s.ndim))
    m = s.mean(axis=red, keepdims=True)
    v = ((s - m) ** 2).mean(axis=red, keepdims=True)
    y = (s if rms else s - m) / np.sqrt(v + eps)
    if gamma is not None:
        y = y * gamma.astype(np.float64)
    if beta is not None:
        y = y + beta.astype(np.float64)
    return y


@pytest.fixture
def fused_calls(monkeypatch):
    """Records the shape of each fused Add -> LN that ran."""
    calls = []
    real = layernorm.add_layernorm_inference

    def spy(a, *args):
        calls.append(a.shape)
        return real(a, *args)
    monkeypatch.setattr(layernorm, "add_layernorm_inference", spy)
    return calls


def _randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign((rng.standard_normal(w.shape) * 0.5 + (
            1.0 if "gamma" in w.name else 0.0)).astype(w.dtype))


def _both(model, x):
    fused = model.predict_on_batch(x)
    with inference_fusion.disabled():
        plain = model.predict_on_batch(x)
    return fused, plain


@pytest.mark.parametrize("dtype,tol", [("float32", 2e-5), ("float64", 1e-12)])
@pytest.mark.parametrize("gamma,beta,rms", [
    (True, True, False), (True, False, False), (False, True, False),
    (False, False, False), (True, False, True)])
@pytest.mark.parametrize("shape", [(1, 1), (7, 33), (64, 128)])
def test_kernel_matches_float64(dtype, tol, gamma, beta, rms, shape):
    rng = np.random.default_rng(1)
    a = (rng.standard_normal(shape) * 3).astype(dtype)
    b = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape[1]).astype(dtype) if gamma else None
    be = rng.standard_normal(shape[1]).astype(dtype) if beta else None
    assert layernorm.add_layernorm_applies(a, b, g, be)
    y = layernorm.add_layernorm_inference(a, b, g, be, 1e-3, rms)
    assert y.dtype == np.dtype(dtype) and y.shape == shape
    np.testing.assert_allclose(y, ref_add_ln(a, b, g, be, 1e-3, rms),
                               rtol=tol, atol=tol)
    # The same values as the two passes (sum, then layernorm_forward).
    two = layernorm.layernorm_forward(a + b, g, be, 1e-3, rms)[0]
    np.testing.assert_allclose(y, two, rtol=tol, atol=tol)


def test_kernel_split_over_threads_and_nan(monkeypatch):
    monkeypatch.setattr(layernorm, "SPLIT_ELEMENTS", 1)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    monkeypatch.setitem(parallel._STATE, "n", 3)
    calls = []
    real = layernorm._add_ln_rows

    def spy(a, b, g, be, hg, hb, eps, rms, y, start, stop):
        calls.append((start, stop))
        real(a, b, g, be, hg, hb, eps, rms, y, start, stop)
    monkeypatch.setattr(layernorm, "_add_ln_rows", spy)
    rng = np.random.default_rng(2)
    a = rng.standard_normal((41, 20)).astype("float32")
    b = rng.standard_normal((41, 20)).astype("float32")
    a[5, 3] = np.nan
    g = rng.standard_normal(20).astype("float32")
    y = layernorm.add_layernorm_inference(a, b, g, None, 1e-5)
    assert len(calls) == 3 and sorted(calls)[0][0] == 0 and \
        sorted(calls)[-1][1] == 41
    assert np.isnan(y[5]).all()
    keep = np.ones(41, bool)
    keep[5] = False
    np.testing.assert_allclose(
        y[keep], ref_add_ln(a, b, g, None, 1e-5)[keep], rtol=2e-5,
        atol=2e-5)


def test_kernel_declines_and_errors():
    a = np.ones((4, 8), "float32")
    assert not layernorm.add_layernorm_applies(a, np.ones((4, 8)))
    assert not layernorm.add_layernorm_applies(a, a[:, ::2].copy())
    assert not layernorm.add_layernorm_applies(a.astype("float16"),
                                               a.astype("float16"))
    assert not layernorm.add_layernorm_applies(np.ones((8, 4), "f4").T, a)
    with jit.disabled():
        assert not layernorm.add_layernorm_applies(a, a)
    with pytest.raises(ValueError, match="one shape"):
        layernorm.add_layernorm_inference(a, np.ones((4, 9), "float32"))
    with pytest.raises(ValueError, match=r"gamma.*\(8,\)"):
        layernorm.add_layernorm_inference(a, a, np.ones(3, "float32"))


def _block(seq=6, dim=16, dtype=None, axis=-1, **ln_kwargs):
    kw = {} if dtype is None else {"dtype": dtype}
    inp = gkeras.Input((seq, dim), dtype=dtype or "float32")
    att = L.MultiHeadAttention(num_heads=2, key_dim=4, **kw)(inp, inp)
    x = L.LayerNormalization(axis=axis, epsilon=1e-6, **ln_kwargs, **kw)(
        L.Add(**kw)([inp, att]))
    ff = L.Dense(dim, **kw)(L.Dense(32, activation="relu", **kw)(x))
    x = L.LayerNormalization(axis=axis, epsilon=1e-6, **ln_kwargs, **kw)(
        L.Add(**kw)([x, ff]))
    model = gkeras.Model(inp, x)
    _randomize(model)
    return model


@pytest.mark.parametrize("dtype,tol", [("float32", 1e-5), ("float64", 1e-11)])
def test_transformer_block_fuses_both_pairs(dtype, tol, fused_calls):
    model = _block(dtype=dtype)
    plan = inference_fusion.inference_plan(model)
    fused = [op for op, *_ in plan if isinstance(op, inference_fusion.AddNorm)]
    assert [repr(op).startswith("AddNorm(") for op in fused] == [True, True]
    x = np.random.default_rng(3).standard_normal((5, 6, 16)).astype(dtype)
    out, plain = _both(model, x)
    assert len(fused_calls) == 2 and out.dtype == np.dtype(dtype)
    np.testing.assert_allclose(out, plain, rtol=tol, atol=tol)
    # The last pair against float64 from the layer-by-layer intermediates.
    add2, ln2 = model.layers[-2], model.layers[-1]
    sub = gkeras.Model(model.inputs, add2.input)
    with inference_fusion.disabled():
        u, v = (np.asarray(t) for t in sub.predict_on_batch(x))
    np.testing.assert_allclose(
        out, ref_add_ln(u, v, ln2.gamma.numpy(), ln2.beta.numpy(), 1e-6),
        rtol=max(tol, 1e-5), atol=max(tol, 1e-5))
    # model(x) and predict() take the same path (predict's data pipeline
    # converts float64 arrays to float32 first, as Keras's does).
    np.testing.assert_allclose(np.asarray(model(x)), out, rtol=tol,
                               atol=tol)
    x32 = x.astype("float32").astype(dtype)
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               model.predict_on_batch(x32), rtol=tol,
                               atol=tol)


@pytest.mark.parametrize("ln_kwargs", [
    {"rms_scaling": True}, {"center": False}, {"scale": False},
    {"center": False, "scale": False}])
def test_layer_options(ln_kwargs, fused_calls):
    model = _block(**ln_kwargs)
    x = np.random.default_rng(4).standard_normal((3, 6, 16)).astype(
        "float32")
    out, plain = _both(model, x)
    assert len(fused_calls) == 2
    np.testing.assert_allclose(out, plain, rtol=1e-5, atol=1e-5)


def test_trailing_axes_fuse_and_other_axes_do_not(fused_calls):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 6, 16)).astype("float32")
    two = _block(axis=[-2, -1])
    out, plain = _both(two, x)
    assert len(fused_calls) == 2
    np.testing.assert_allclose(out, plain, rtol=1e-5, atol=1e-5)
    fused_calls.clear()
    inp = gkeras.Input((6, 16))
    y = L.LayerNormalization(axis=1)(L.Add()([inp, L.Dense(16)(inp)]))
    model = gkeras.Model(inp, y)
    _randomize(model)
    assert any(isinstance(op, inference_fusion.AddNorm)
               for op, *_ in inference_fusion.inference_plan(model))
    out, plain = _both(model, x)
    assert not fused_calls      # declined at call time: axis 1 of 3
    np.testing.assert_allclose(out, plain, rtol=1e-6, atol=1e-6)
    add = model.layers[-2]
    u = x + np.asarray(model.layers[1](x))
    np.testing.assert_allclose(out, ref_add_ln(
        np.moveaxis(u, 1, -1), np.zeros_like(np.moveaxis(u, 1, -1)),
        model.layers[-1].gamma.numpy(), model.layers[-1].beta.numpy(),
        1e-3).transpose(0, 2, 1), rtol=1e-5, atol=1e-5)
    assert add.name in repr(next(op for op, *_ in
                                 inference_fusion.inference_plan(model)
                                 if isinstance(op, inference_fusion.AddNorm)))


def test_graphs_that_are_not_fused(fused_calls):
    inp = gkeras.Input((4, 8))
    d = L.Dense(8)(inp)
    s1 = L.Add()([inp, d])                 # used twice
    n1 = L.LayerNormalization()(s1)
    side = L.Activation("tanh")(s1)
    s2 = L.Add()([n1, d])                  # a model output
    n2 = L.LayerNormalization()(s2)
    s3 = L.Add()([n2, d, inp])             # three inputs
    n3 = L.LayerNormalization()(s3)
    s4 = L.Add()([n3, L.Dense(1)(n3)])     # broadcasts (…, 1)
    n4 = L.LayerNormalization()(s4)
    model = gkeras.Model(inp, [n4, side, s2])
    _randomize(model)
    plan = inference_fusion.inference_plan(model)
    fused = [op for op, *_ in plan if isinstance(op, inference_fusion.AddNorm)]
    assert [op.add.name for op in fused] == [
        s4._keras_history.operation.name]
    x = np.random.default_rng(6).standard_normal((3, 4, 8)).astype(
        "float32")
    outs, plains = _both(model, x)
    assert not fused_calls        # s4's shapes differ: declined
    for a, b in zip(outs, plains):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_masked_inputs_keep_their_mask(fused_calls):
    inp = gkeras.Input((5,), dtype="int32")
    e = L.Embedding(10, 8, mask_zero=True)(inp)
    y = L.LayerNormalization()(L.Add()([e, L.Dense(8)(e)]))
    model = gkeras.Model(inp, y)
    _randomize(model)
    x = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 6, 7]], "int32")
    out, plain = _both(model, x)
    assert not fused_calls
    np.testing.assert_allclose(out, plain, rtol=1e-6, atol=1e-6)
    got = model(x)
    assert got._keras_mask is not None
    np.testing.assert_array_equal(np.asarray(got._keras_mask), x != 0)


def test_weight_changes_take_effect_and_disabled_reaches_cached_plan(
        fused_calls):
    model = _block()
    x = np.random.default_rng(7).standard_normal((2, 6, 16)).astype(
        "float32")
    before = model.predict_on_batch(x)
    ln = model.layers[-1]
    ln.gamma.assign(ln.gamma.numpy() * 2.0)
    ln.beta.assign(ln.beta.numpy() + 1.0)
    after, plain = _both(model, x)
    np.testing.assert_allclose(after, plain, rtol=1e-5, atol=1e-5)
    assert not np.allclose(after, before)
    op = next(op for op, *_ in inference_fusion.inference_plan(model)
              if isinstance(op, inference_fusion.AddNorm))
    a = Tensor(x)
    fused_calls.clear()
    with inference_fusion.disabled():
        op([a, a])
    assert not fused_calls
    op([a, a])
    assert len(fused_calls) == 1


def test_tape_jit_off_and_mixed_precision_not_fused(fused_calls):
    model = _block()
    x = np.random.default_rng(8).standard_normal((2, 6, 16)).astype(
        "float32")
    with inference_fusion.disabled():
        plain = model.predict_on_batch(x)
    fused_calls.clear()
    with jit.disabled():
        np.testing.assert_allclose(model.predict_on_batch(x), plain,
                                   rtol=1e-5, atol=1e-5)
    op = next(op for op, *_ in inference_fusion.inference_plan(model)
              if isinstance(op, inference_fusion.AddNorm))
    import gkeras.ops.engine as engine
    engine._STATE.recording += 1
    try:
        assert op._fused([Tensor(x), Tensor(x)]) is None
    finally:
        engine._STATE.recording -= 1
    assert not fused_calls
    gkeras.config.set_dtype_policy("mixed_float16")
    try:
        mixed = _block()
        mixed.set_weights(model.get_weights())
        out = mixed.predict_on_batch(x)
    finally:
        gkeras.config.set_dtype_policy("float32")
    assert not fused_calls
    np.testing.assert_allclose(np.asarray(out, "float32"), plain, rtol=3e-2,
                               atol=3e-2)
