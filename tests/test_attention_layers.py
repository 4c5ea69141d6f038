"""Attention: the `dot_product_attention` op and its primitive, the
MultiHeadAttention / Attention / AdditiveAttention / EinsumDense layers,
against NumPy float64 references and finite differences."""

import numpy as np
import pytest
from harness import check_grad, run_layer_test

import gkeras
from gkeras import layers, ops


def _softmax(s, mask=None, fully_masked="uniform"):
    if mask is not None:
        s = np.where(mask, s, -1e30)
    e = np.exp(s - s.max(-1, keepdims=True))
    p = e / e.sum(-1, keepdims=True)
    if mask is not None and fully_masked == "zero":
        p = p * mask
    return p


def _ref_dpa(q, k, v, mask=None, bias=None, scale=None, causal=False):
    """Keras layout (B, T, N, H), float64."""
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    s = np.einsum("btnh,bsnh->bnts", q, k) * scale
    if bias is not None:
        s = s + bias
    m = None if mask is None else np.broadcast_to(mask, s.shape)
    if causal:
        c = np.tri(s.shape[-2], s.shape[-1], dtype=bool)
        m = c if m is None else m & c
    p = _softmax(s, m)
    return np.einsum("bnts,bsnh->btnh", p, v)


RNG = np.random.default_rng(0)


def _r(*shape):
    return RNG.standard_normal(shape).astype("float32")


# -- the op -------------------------------------------------------------------

@pytest.mark.parametrize("causal", [False, True])
def test_dot_product_attention_matches_numpy(causal):
    q, k, v = _r(2, 5, 3, 4), _r(2, 7, 3, 4), _r(2, 7, 3, 6)
    mask = RNG.random((2, 1, 5, 7)) > 0.3
    mask[0, 0, 1] = False  # a fully masked row: uniform, as Keras's op
    got = ops.dot_product_attention(q, k, v, mask=mask, is_causal=causal)
    np.testing.assert_allclose(np.asarray(got),
                               _ref_dpa(q, k, v, mask, causal=causal),
                               atol=2e-5)


def test_dot_product_attention_bias_and_scale():
    q, k, v = _r(2, 4, 2, 3), _r(2, 6, 2, 3), _r(2, 6, 2, 3)
    bias = _r(1, 2, 4, 6)
    got = ops.dot_product_attention(q, k, v, bias=bias, scale=0.7)
    np.testing.assert_allclose(np.asarray(got),
                               _ref_dpa(q, k, v, bias=bias, scale=0.7),
                               atol=2e-5)


def test_dot_product_attention_bad_shapes():
    with pytest.raises(ValueError, match="4-D"):
        ops.dot_product_attention(_r(2, 4, 3), _r(2, 4, 3), _r(2, 4, 3))
    with pytest.raises(ValueError, match="matching"):
        ops.dot_product_attention(_r(2, 4, 2, 3), _r(2, 4, 2, 5),
                                  _r(2, 4, 2, 3))


@pytest.mark.parametrize("use_mask,causal", [(False, False), (True, False),
                                             (False, True)])
def test_dot_product_attention_gradient(use_mask, causal):
    q, k, v = _r(2, 3, 2, 4), _r(2, 5, 2, 4), _r(2, 5, 2, 3)
    mask = (RNG.random((2, 2, 3, 5)) > 0.3) if use_mask else None
    if mask is not None:
        mask[..., 0] = True

    def fn(q, k, v):
        return ops.dot_product_attention(q, k, v, mask=mask, is_causal=causal)
    check_grad(fn, q, k, v)


def test_dot_product_attention_gradient_with_bias():
    q, k, v, b = _r(1, 3, 2, 4), _r(1, 4, 2, 4), _r(1, 4, 2, 3), _r(1, 2, 3, 4)
    mask = RNG.random((1, 2, 3, 4)) > 0.3
    mask[..., 0] = True
    check_grad(lambda q, k, v, b: ops.dot_product_attention(
        q, k, v, bias=b, mask=mask), q, k, v, b)


def test_attention_primitive_scores_gradient():
    """Gradients flow through both outputs (output and probabilities)."""
    from gkeras.ops.attention import ScaledDotProductAttention
    q, k, v = _r(1, 2, 3, 4), _r(1, 2, 5, 4), _r(1, 2, 5, 4)
    mask = RNG.random((1, 1, 3, 5)) > 0.4
    mask[..., 0] = True
    for fm in ("uniform", "zero"):
        check_grad(lambda q, k, v: ScaledDotProductAttention(
            mask=mask, return_scores=True, fully_masked=fm)(q, k, v),
            q, k, v)


def test_masked_softmax_primitive_gradient_with_dropout():
    from gkeras.ops.attention import MaskedSoftmax
    s = _r(1, 2, 3, 6)
    mask = RNG.random((1, 1, 3, 6)) > 0.3
    check_grad(lambda s: MaskedSoftmax(mask=mask, scale=0.5,
                                       dropout_rate=0.3, seed=3)(s), s)


# -- MultiHeadAttention -------------------------------------------------------

def _mha_ref(layer, q, v, k=None, mask=None, fully_masked="uniform"):
    """MultiHeadAttention in float64 NumPy from the layer's weights (the
    formulas of the fixtures README)."""
    k = v if k is None else k
    wq, bq, wk, bk, wv, bv, wo, bo = [np.asarray(w, np.float64)
                                      for w in layer.get_weights()]
    Q = np.einsum("btd,dhk->bthk", q, wq) + bq
    K = np.einsum("bsd,dhk->bshk", k, wk) + bk
    V = np.einsum("bsd,dhk->bshk", v, wv) + bv
    Q = Q / np.sqrt(wq.shape[-1])
    s = np.einsum("bshk,bthk->bhts", K, Q)
    m = None if mask is None else np.broadcast_to(
        np.asarray(mask)[:, None], s.shape)
    p = _softmax(s, m, fully_masked)
    ctx = np.einsum("bhts,bshv->bthv", p, V)
    return np.einsum("bthv,hvd->btd", ctx, wo) + bo, p


def test_mha_weights_layout_and_names():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4,
                                    output_shape=5, name="mha")
    mha(_r(2, 6, 8), _r(2, 7, 10))
    got = [(w.path, tuple(w.shape)) for w in mha.weights]
    assert got == [("mha/query/kernel", (8, 2, 3)), ("mha/query/bias", (2, 3)),
                   ("mha/key/kernel", (10, 2, 3)), ("mha/key/bias", (2, 3)),
                   ("mha/value/kernel", (10, 2, 4)), ("mha/value/bias", (2, 4)),
                   ("mha/attention_output/kernel", (2, 4, 5)),
                   ("mha/attention_output/bias", (5,))]
    assert [type(l).__name__ for l in (mha.query_dense, mha.output_dense)] \
        == ["EinsumDense", "EinsumDense"]
    assert len(layers.MultiHeadAttention(2, 3, use_bias=False)(
        _r(1, 2, 4), _r(1, 2, 4)).shape) == 3


def test_mha_gate_and_sliding_window_match_numpy():
    mha = layers.MultiHeadAttention(2, 3, use_gate=True, sliding_window=2,
                                    name="g")
    q, v = _r(2, 6, 8), _r(2, 6, 8)
    out = np.asarray(mha(q, v))
    names = [w.path for w in mha.weights]
    assert names[4:6] == ["g/gate/kernel", "g/gate/bias"]  # Keras's order
    wq, bq, wk, bk, wg, bg, wv, bv, wo, bo = [
        np.asarray(w, np.float64) for w in mha.get_weights()]
    Q = (np.einsum("btd,dhk->bthk", q, wq) + bq) / np.sqrt(3)
    K = np.einsum("bsd,dhk->bshk", v, wk) + bk
    V = np.einsum("bsd,dhk->bshk", v, wv) + bv
    s = np.einsum("bshk,bthk->bhts", K, Q)
    near = np.abs(np.arange(6)[:, None] - np.arange(6)[None, :]) < 2
    p = _softmax(s, np.broadcast_to(near, s.shape))
    ctx = np.einsum("bhts,bshv->bthv", p, V)
    gate = 1 / (1 + np.exp(-(np.einsum("btd,dhv->bthv", q, wg) + bg)))
    want = np.einsum("bthv,hvd->btd", ctx * gate, wo) + bo
    np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-5)
    cfg = mha.get_config()
    assert cfg["use_gate"] is True and cfg["sliding_window"] == 2
    clone = layers.MultiHeadAttention.from_config(cfg)
    clone(q, v)
    clone.set_weights(mha.get_weights())
    np.testing.assert_allclose(np.asarray(clone(q, v)), out, atol=1e-6)


def test_mha_matches_numpy_with_masks():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    q, v = _r(3, 5, 8), _r(3, 6, 8)
    mha(q, v)
    for w in mha.weights:  # non-zero biases so a misplaced bias shows
        w.assign(w.numpy() + RNG.standard_normal(w.shape).astype("f") * 0.1)
    want, _ = _mha_ref(mha, q, v)
    np.testing.assert_allclose(np.asarray(mha(q, v)), want, atol=2e-5)
    am = RNG.random((3, 5, 6)) > 0.4
    am[1, 2] = False  # fully masked query row
    want, _ = _mha_ref(mha, q, v, mask=am)
    np.testing.assert_allclose(np.asarray(mha(q, v, attention_mask=am)),
                               want, atol=2e-5)
    # The scores path (Keras's Softmax layer) zeros a fully masked row.
    out, scores = mha(q, v, attention_mask=am, return_attention_scores=True)
    want, p = _mha_ref(mha, q, v, mask=am, fully_masked="zero")
    np.testing.assert_allclose(np.asarray(scores), p, atol=2e-6)
    np.testing.assert_allclose(np.asarray(out), want, atol=2e-5)
    assert np.all(np.asarray(scores)[1, :, 2] == 0)


def test_mha_keras_masks_and_causal_combine():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    x = _r(2, 5, 6)
    vm = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    qm = np.array([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]], bool)
    out = mha(x, x, query_mask=qm, value_mask=vm, use_causal_mask=True)
    mask = qm[:, :, None] & vm[:, None, :] & np.tri(5, dtype=bool)[None]
    want, _ = _mha_ref(mha, x, x, mask=mask)
    np.testing.assert_allclose(np.asarray(out), want, atol=2e-5)
    np.testing.assert_array_equal(out._keras_mask, qm)


def test_mha_takes_masks_from_embedding_style_keras_mask():
    mha = layers.MultiHeadAttention(num_heads=1, key_dim=4)
    x = ops.convert_to_tensor(_r(2, 4, 6))
    vm = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    x._keras_mask = vm
    out = mha(x, x)
    mask = vm[:, :, None] & vm[:, None, :]
    want, _ = _mha_ref(mha, np.asarray(x), np.asarray(x), mask=mask)
    np.testing.assert_allclose(np.asarray(out), want, atol=2e-5)


def test_mha_key_differs_from_value():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    q, v, k = _r(2, 4, 5), _r(2, 6, 7), _r(2, 6, 3)
    out = mha(q, v, key=k)
    want, _ = _mha_ref(mha, q, v, k)
    np.testing.assert_allclose(np.asarray(out), want, atol=2e-5)


def test_mha_gradients_against_finite_differences():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=2, dtype="float64")
    q, v = _r(2, 3, 4), _r(2, 4, 4)
    mha(q, v)
    am = RNG.random((2, 3, 4)) > 0.3
    am[..., 0] = True
    check_grad(lambda q, v: mha(q, v, attention_mask=am), q, v, atol=1e-5)


def test_mha_dropout_trains_and_is_off_at_inference():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3, dropout=0.5,
                                    seed=1)
    x = _r(2, 6, 4)
    a = np.asarray(mha(x, x))
    np.testing.assert_allclose(np.asarray(mha(x, x, training=False)), a)
    b = np.asarray(mha(x, x, training=True))
    assert not np.allclose(a, b)


def test_mha_attention_axes_2d():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=2,
                                    attention_axes=(1, 2))
    x = _r(2, 3, 4, 5)
    out, scores = mha(x, x, return_attention_scores=True)
    assert out.shape == (2, 3, 4, 5) and scores.shape == (2, 2, 3, 4, 3, 4)
    # Reference: flatten the two attention axes into one sequence.
    flat = x.reshape(2, 12, 5)
    ref = layers.MultiHeadAttention(num_heads=2, key_dim=2)
    ref(flat, flat)
    ref.set_weights(mha.get_weights())
    np.testing.assert_allclose(np.asarray(out).reshape(2, 12, 5),
                               np.asarray(ref(flat, flat)), atol=2e-5)


def test_mha_functional_config_round_trip():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3, dropout=0.1,
                                    kernel_regularizer="l2", seed=4)
    x = gkeras.Input((5, 8))
    model = gkeras.Model(x, mha(x, x))
    cfg = mha.get_config()
    assert cfg["attention_axes"] == (1,) and cfg["value_dim"] == 3
    clone = layers.MultiHeadAttention.from_config(cfg)
    assert clone.get_config() == cfg
    model2 = gkeras.models.model_from_json(model.to_json())
    model2.set_weights(model.get_weights())
    xv = _r(2, 5, 8)
    np.testing.assert_allclose(model2.predict(xv, verbose=0),
                               model.predict(xv, verbose=0), atol=1e-6)
    assert len(mha.losses) == 4  # one l2 penalty per projection kernel


def test_mha_errors_name_the_layer():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3, name="att")
    mha(_r(2, 5, 8), _r(2, 5, 8))
    with pytest.raises(ValueError, match=r"'att'.*query.*last dimension 8"):
        mha(_r(2, 5, 6), _r(2, 5, 8))
    with pytest.raises(ValueError, match=r"'att'.*value"):
        mha(_r(2, 5, 8), _r(2, 5, 7))
    with pytest.raises(ValueError, match=r"'att'.*attention_mask.*\(2, 5, 5\)"
                       r".*\(2, 4, 5\)"):
        mha(_r(2, 5, 8), _r(2, 5, 8), attention_mask=np.ones((2, 4, 5)))
    with pytest.raises(ValueError, match=r"'att'.*value_mask"):
        mha(_r(2, 5, 8), _r(2, 5, 8), value_mask=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match="sliding_window"):
        layers.MultiHeadAttention(2, 3, sliding_window=0)
    with pytest.raises(ValueError, match="key_dim"):
        layers.MultiHeadAttention(2, 0)


def test_mha_trains_in_a_model():
    x = gkeras.Input((4, 6))
    y = layers.MultiHeadAttention(2, 3)(x, x)
    model = gkeras.Model(x, y)
    model.compile(optimizer=gkeras.optimizers.SGD(0.05), loss="mse")
    xv, yv = _r(8, 4, 6), _r(8, 4, 6)
    before = model.evaluate(xv, yv, verbose=0)
    model.fit(xv, yv, epochs=5, verbose=0)
    assert model.evaluate(xv, yv, verbose=0) < before


# -- Attention / AdditiveAttention ------------------------------------------

def _attn_ref(q, v, k=None, scale=1.0, mode="dot", vmask=None, qmask=None,
              causal=False, concat_w=1.0, add_scale=None):
    q, v = np.asarray(q, np.float64), np.asarray(v, np.float64)
    k = v if k is None else np.asarray(k, np.float64)
    if mode == "dot":
        s = q @ k.transpose(0, 2, 1) * scale
    elif mode == "concat":
        s = concat_w * np.tanh(scale * (q[:, :, None] + k[:, None])).sum(-1)
    else:
        s = (add_scale * np.tanh(q[:, :, None] + k[:, None])).sum(-1)
    m = np.ones(s.shape, bool)
    if vmask is not None:
        m &= vmask[:, None, :]
    if causal:
        m &= np.tri(s.shape[1], s.shape[2], dtype=bool)[None]
    s = s - 1e9 * (~m)
    p = _softmax(s)
    out = p @ v
    if qmask is not None:
        out = out * qmask[..., None]
    return out, p


@pytest.mark.parametrize("mode,use_scale", [("dot", False), ("dot", True),
                                            ("concat", True)])
def test_attention_layer_matches_numpy(mode, use_scale):
    layer = layers.Attention(use_scale=use_scale, score_mode=mode)
    q, v, k = _r(2, 3, 4), _r(2, 5, 4), _r(2, 5, 4)
    qm = np.array([[1, 1, 0], [1, 1, 1]], bool)
    vm = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    layer([q, v, k])
    if use_scale:
        layer.scale.assign(np.float32(0.7))
    out, p = layer([q, v, k], mask=[qm, vm], return_attention_scores=True,
                   use_causal_mask=True)
    want, wp = _attn_ref(q, v, k, scale=0.7 if use_scale else 1.0,
                         mode=mode, vmask=vm, qmask=qm, causal=True)
    np.testing.assert_allclose(np.asarray(out), want, atol=2e-5)
    np.testing.assert_allclose(np.asarray(p), wp, atol=2e-6)
    assert [w.name for w in layer.weights] == \
        (["scale"] if use_scale else []) + \
        (["concat_score_weight"] if mode == "concat" else [])


def test_additive_attention_matches_numpy_and_trains():
    layer = layers.AdditiveAttention()
    q, v = _r(2, 3, 4), _r(2, 5, 4)
    out = layer([q, v])
    want, _ = _attn_ref(q, v, mode="add", add_scale=layer.scale.numpy())
    np.testing.assert_allclose(np.asarray(out), want, atol=2e-5)
    assert "score_mode" not in layer.get_config()
    qi, vi = gkeras.Input((3, 4)), gkeras.Input((5, 4))
    model = gkeras.Model([qi, vi], layers.AdditiveAttention()([qi, vi]))
    assert model.output_shape == (None, 3, 4)
    model.compile(optimizer=gkeras.optimizers.SGD(0.1), loss="mse")
    before = model.get_weights()[0].copy()
    model.train_on_batch([q, v], _r(2, 3, 4))
    assert not np.allclose(before, model.get_weights()[0])


def test_attention_gradient_and_errors():
    layer = layers.Attention(use_scale=True, dtype="float64")
    layer([_r(1, 2, 3), _r(1, 4, 3)])
    vm = np.array([[1, 1, 1, 0]], bool)
    check_grad(lambda q, v: layer([q, v], mask=[None, vm]),
               _r(1, 2, 3), _r(1, 4, 3), atol=1e-5)
    with pytest.raises(ValueError, match="list of 2 or 3"):
        layers.Attention()(_r(1, 2, 3))
    with pytest.raises(ValueError, match="score_mode"):
        layers.Attention(score_mode="add")
    with pytest.raises(ValueError, match="value_mask"):
        layers.Attention()([_r(1, 2, 3), _r(1, 4, 3)],
                           mask=[None, np.ones((1, 3), bool)])
    cfg = layers.Attention(use_scale=True, dropout=0.2, seed=1).get_config()
    assert layers.Attention.from_config(cfg).get_config() == cfg


# -- EinsumDense --------------------------------------------------------------

@pytest.mark.parametrize("eq,out_shape,bias,in_shape,want_shape,kshape", [
    ("ab,bc->ac", 4, "c", (3, 5), (3, 4), (5, 4)),
    ("abc,cde->abde", (None, 2, 3), "de", (2, 6, 5), (2, 6, 2, 3), (5, 2, 3)),
    ("abcd,cde->abe", (None, 7), "e", (2, 6, 2, 3), (2, 6, 7), (2, 3, 7)),
    ("...b,bc->...c", 4, "c", (2, 6, 5), (2, 6, 4), (5, 4)),
    ("ab...,bc->ac...", 4, "c", (2, 5, 3), (2, 4, 3), (5, 4)),
    ("abc,cd->abd", (6, 4), None, (2, 6, 5), (2, 6, 4), (5, 4)),
])
def test_einsum_dense_matches_numpy(eq, out_shape, bias, in_shape,
                                    want_shape, kshape):
    layer = run_layer_test(
        layers.EinsumDense, {"equation": eq, "output_shape": out_shape,
                             "bias_axes": bias},
        input_shape=in_shape, expected_output_shape=want_shape,
        expected_num_trainable_weights=2 if bias else 1)
    assert tuple(layer.kernel.shape) == kshape
    x = RNG.standard_normal(in_shape)
    want = np.einsum(eq, x, layer.kernel.numpy().astype(np.float64))
    if bias:
        want = want + layer.bias.numpy()
    np.testing.assert_allclose(np.asarray(layer(x.astype("float32"))), want,
                               atol=2e-5)


def test_einsum_dense_errors():
    with pytest.raises(ValueError, match="output_shape"):
        layers.EinsumDense("abc,cd->abd", output_shape=4)(_r(2, 3, 5))
    with pytest.raises(ValueError, match="bias axis"):
        layers.EinsumDense("ab,bc->ac", 4, bias_axes="x")(_r(2, 5))
    with pytest.raises(ValueError, match="equation"):
        layers.EinsumDense("ab->b", 4)
    with pytest.raises(NotImplementedError, match="lora_rank"):
        layers.EinsumDense("ab,bc->ac", 4, lora_rank=2)


def test_group_query_attention_shares_kv_heads_like_numpy():
    gqa = layers.GroupQueryAttention(head_dim=3, num_query_heads=4,
                                     num_key_value_heads=2)
    q, v = _r(2, 5, 6), _r(2, 7, 6)
    out, scores = gqa(q, v, return_attention_scores=True,
                      use_causal_mask=True)
    assert gqa.name.startswith("grouped_query_attention")
    assert [(w.path.split("/", 1)[1], tuple(w.shape)) for w in gqa.weights] \
        == [("query/kernel", (6, 4, 3)), ("query/bias", (4, 3)),
            ("key/kernel", (6, 2, 3)), ("key/bias", (2, 3)),
            ("value/kernel", (6, 2, 3)), ("value/bias", (2, 3)),
            ("attention_output/kernel", (4, 3, 6)),
            ("attention_output/bias", (6,))]
    wq, bq, wk, bk, wv, bv, wo, bo = [np.asarray(w, np.float64)
                                      for w in gqa.get_weights()]
    Q = (np.einsum("bqm,muh->bquh", q, wq) + bq) / np.sqrt(3)
    # Query heads 0, 1 read key/value head 0; heads 2, 3 read head 1.
    K = np.repeat(np.einsum("bkm,mvh->bkvh", v, wk) + bk, 2, axis=2)
    V = np.repeat(np.einsum("bkm,mvh->bkvh", v, wv) + bv, 2, axis=2)
    s = np.einsum("bquh,bkuh->buqk", Q, K)
    p = _softmax(s, np.broadcast_to(np.tri(5, 7, 0, dtype=bool), s.shape),
                 "zero")
    want = np.einsum("buqk,bkuh->bquh", p, V)
    want = np.einsum("bquh,uhm->bqm", want, wo) + bo
    np.testing.assert_allclose(np.asarray(out), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(scores), p, rtol=1e-4, atol=1e-6)
    g64 = layers.GroupQueryAttention(3, 4, 2, dtype="float64")
    g64(q.astype(np.float64), v.astype(np.float64))
    g64.set_weights([w.astype(np.float64) for w in gqa.get_weights()])
    check_grad(lambda x: g64(x, v.astype(np.float64)), q.astype(np.float64),
               atol=1e-6)


def test_group_query_attention_config_model_and_errors(tmp_path):
    x = gkeras.Input((6, 8))
    y = layers.GroupQueryAttention(4, 4, 1, use_gate=True, dropout=0.1,
                                   sliding_window=3)(x, x)
    model = gkeras.Model(x, layers.GlobalAveragePooling1D()(y))
    model.compile(optimizer="adam", loss="mse")
    xs = _r(8, 6, 8)
    hist = model.fit(xs, _r(8, 8), epochs=3, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()
    cfg = model.layers[1].get_config()
    assert (cfg["head_dim"], cfg["num_query_heads"],
            cfg["num_key_value_heads"], cfg["sliding_window"]) == (4, 4, 1, 3)
    assert gkeras.saving.serialize_keras_object(model.layers[1])[
        "class_name"] == "GroupQueryAttention"      # as Keras writes it
    from harness import assert_save_load_roundtrip
    assert_save_load_roundtrip(model, xs, tmp_path)
    with pytest.raises(ValueError, match="divisible"):
        layers.GroupQueryAttention(4, 6, 4)
    with pytest.raises(ValueError, match="last dimension of `query_shape`"):
        layers.GroupQueryAttention(4, 2, 1)(_r(1, 3, 8), _r(1, 3, 6))
    with pytest.raises(ValueError, match="flash attention"):
        layers.GroupQueryAttention(4, 2, 1, dropout=0.1,
                                   flash_attention=True)
