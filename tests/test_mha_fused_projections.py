"""MultiHeadAttention's self-attention projections as one GEMM outside a
tape (`_self_attention_projections`): against the three EinsumDense
calls (the method switched off) and the float64 reference of
test_attention_layers; which calls take it (one tensor or one array as
query/value/key) and which do not (cross-attention, a tape, mixed
precision); value_dim != key_dim, no bias, masks, attention axes, weight
changes, float64, and the attention output laid out so that the output
projection reads it without a copy."""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_attention_layers import _mha_ref  # noqa: E402

import gkeras  # noqa: E402
from gkeras import layers  # noqa: E402
from gkeras.layers.attention.multi_head_attention import \
    MultiHeadAttention  # noqa: E402

RNG = np.random.default_rng(3)


def _r(*shape, dtype="float32"):
    return RNG.standard_normal(shape).astype(dtype)


@pytest.fixture
def fused(monkeypatch):
    """Records whether each call took the one-GEMM path."""
    seen = []
    real = MultiHeadAttention._self_attention_projections

    def spy(self, *a):
        out = real(self, *a)
        seen.append(out is not None)
        return out
    monkeypatch.setattr(MultiHeadAttention, "_self_attention_projections",
                        spy)
    return seen


def _unfused(mha, *args, **kwargs):
    real = MultiHeadAttention._self_attention_projections
    MultiHeadAttention._self_attention_projections = lambda self, *a: None
    try:
        return np.asarray(mha(*args, **kwargs))
    finally:
        MultiHeadAttention._self_attention_projections = real


def _randomize(layer):
    for w in layer.weights:
        w.assign(w.numpy() + RNG.standard_normal(w.shape).astype(
            w.numpy().dtype) * 0.1)


@pytest.mark.parametrize("kwargs", [
    {}, {"value_dim": 5}, {"output_shape": 6}, {"use_bias": False}])
def test_matches_three_projections_and_float64(fused, kwargs):
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3, **kwargs)
    x = _r(3, 7, 8)
    mha(x, x)
    _randomize(mha)
    fused.clear()
    got = np.asarray(mha(x, x))
    assert fused == [True]
    np.testing.assert_allclose(got, _unfused(mha, x, x), rtol=1e-5,
                               atol=1e-6)
    if mha._use_bias:
        want, _ = _mha_ref(mha, x, x)
        np.testing.assert_allclose(got, want, atol=2e-5)
    # key given as the same array: fused too.
    fused.clear()
    np.testing.assert_allclose(np.asarray(mha(x, x, x)), got, rtol=1e-6,
                               atol=1e-7)
    assert fused == [True]


def test_masks_scores_and_attention_axes(fused):
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    x = _r(2, 6, 8)
    mha(x, x)
    _randomize(mha)
    am = RNG.random((2, 6, 6)) > 0.3
    fused.clear()
    out, scores = mha(x, x, attention_mask=am, return_attention_scores=True)
    want, p = _mha_ref(mha, x, x, mask=am, fully_masked="zero")
    np.testing.assert_allclose(np.asarray(out), want, atol=2e-5)
    np.testing.assert_allclose(np.asarray(scores), p, atol=2e-6)
    got = np.asarray(mha(x, x, use_causal_mask=True))
    np.testing.assert_allclose(
        got, _unfused(mha, x, x, use_causal_mask=True), rtol=1e-5,
        atol=1e-6)
    assert fused[:2] == [True, True]
    axes = layers.MultiHeadAttention(num_heads=2, key_dim=3,
                                     attention_axes=(1, 2))
    img = _r(2, 3, 4, 5)
    axes(img, img)
    _randomize(axes)
    fused.clear()
    got = np.asarray(axes(img, img))
    assert fused == [True]
    np.testing.assert_allclose(got, _unfused(axes, img, img), rtol=1e-5,
                               atol=1e-6)


def test_cross_attention_tape_and_mixed_precision_are_not_fused(fused):
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    x, y = _r(2, 5, 8), _r(2, 5, 8)
    mha(x, y)
    _randomize(mha)
    fused.clear()
    want, _ = _mha_ref(mha, x, y)
    np.testing.assert_allclose(np.asarray(mha(x, y)), want, atol=2e-5)
    want, _ = _mha_ref(mha, x, x, k=y)
    np.testing.assert_allclose(np.asarray(mha(x, x, key=y)), want,
                               atol=2e-5)
    assert fused == [False, False]
    fused.clear()
    import gkeras.ops as ops
    xt = ops.convert_to_tensor(x)
    with gkeras.GradientTape() as tape:
        tape.watch(xt)
        out = mha(xt, xt)
        loss = ops.sum(out * out)
    grads = tape.gradient(loss, [xt] + mha.trainable_weights)
    assert fused == [False]
    assert all(g is not None and np.all(np.isfinite(np.asarray(g)))
               for g in grads)
    gkeras.config.set_dtype_policy("mixed_float16")
    try:
        mixed = layers.MultiHeadAttention(num_heads=2, key_dim=3)
        mixed(x, x)
        mixed.set_weights(mha.get_weights())
        fused.clear()
        got = np.asarray(mixed(x, x), "float32")
    finally:
        gkeras.config.set_dtype_policy("float32")
    assert fused == [False]
    want, _ = _mha_ref(mha, x, x)
    np.testing.assert_allclose(got, want, atol=3e-2)


def test_weight_changes_float64_and_model_predict(fused):
    inp = gkeras.Input((6, 8), dtype="float64")
    out = layers.MultiHeadAttention(num_heads=2, key_dim=4,
                                    dtype="float64")(inp, inp)
    model = gkeras.Model(inp, out)
    mha = model.layers[1]
    _randomize(mha)
    x = _r(3, 6, 8, dtype="float64")
    fused.clear()
    got = model.predict_on_batch(x)
    assert fused == [True] and got.dtype == np.float64
    want, _ = _mha_ref(mha, x, x)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    kernel = mha.query_dense.kernel
    kernel.assign(kernel.numpy() * 1.5)
    want, _ = _mha_ref(mha, x, x)
    np.testing.assert_allclose(model.predict_on_batch(x), want, rtol=1e-10,
                               atol=1e-10)


def test_attention_output_needs_no_copy(monkeypatch):
    """The attention writes its output in the (B, T, H, D) order of the
    fused projection's column blocks, so the output projection's reshape
    is a view (a copy of the whole output otherwise)."""
    from gkeras.backend.cpu import attention
    made = []
    real = attention._empty_like_layout

    def spy(a, shape, dtype):
        out = real(a, shape, dtype)
        made.append(out.transpose(0, 2, 1, 3).flags.c_contiguous)
        return out
    monkeypatch.setattr(attention, "_empty_like_layout", spy)
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    x = _r(2, 5, 8)
    mha(x, x)
    assert made and all(made)
