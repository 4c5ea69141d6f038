"""Scaled dot-product attention as differentiable primitives.

`ScaledDotProductAttention` is ONE autograd node around the array kernels
`attention_forward` / `attention_backward` of `gkeras.backend.cpu` (NumPy)
or `gkeras.backend.gpu` (CuPy, fused CUDA kernels). `MaskedSoftmax` wraps
the fused `scale + mask + softmax (+ dropout)` kernel for layers that need
the probabilities themselves. `dot_product_attention` is the Keras 3 op.
"""

import math

from gkeras import backend
from gkeras.ops._base import keras_op, t_or_a, to_array, xp_of
from gkeras.ops.engine import Function, Tensor
from gkeras.ops.engine import is_recording as engine_recording


def _bool_mask(mask):
    """A raw boolean mask array (Keras: float masks keep where > 0.5)."""
    if mask is None:
        return None
    m = to_array(mask)
    if m.dtype != bool:
        m = m > 0.5 if m.dtype.kind == "f" else m != 0
    return m


class ScaledDotProductAttention(Function):
    """`dropout(softmax(mask(scale * q @ k^T))) @ v` as one autograd node.

    Inputs are `(B, H, Tq, D)`, `(B, H, Tk, D)`, `(B, H, Tk, Dv)` arrays;
    the output is `(B, H, Tq, Dv)`, plus the `(B, H, Tq, Tk)` probabilities
    (before dropout) when `return_scores=True`.

    Args:
        mask: optional boolean array broadcastable to `(B, H, Tq, Tk)`,
            `True` = attend (not differentiated).
        scale: score scale; `1 / sqrt(D)` when None.
        is_causal: keep only `j <= i` (top-left aligned, as Keras).
        dropout_rate: dropout on the probabilities.
        seed: Python int seeding the counter-based dropout hash.
        return_scores: also output the probabilities.
        fully_masked: `"uniform"` (Keras's fused `dot_product_attention`)
            or `"zero"` (Keras's `Softmax`-layer path) for rows with no key.
    """

    def __init__(self, mask=None, scale=None, is_causal=False,
                 dropout_rate=0.0, seed=0, return_scores=False,
                 fully_masked="uniform"):
        self.mask = mask
        self.scale = scale
        self.is_causal = is_causal
        self.dropout_rate = float(dropout_rate)
        self.seed = int(seed)
        self.return_scores = return_scores
        self.fully_masked = fully_masked

    def __call__(self, q, k, v):
        # Inference (nothing records a gradient): the kernels keep nothing
        # for a backward.
        self.need_backward = engine_recording() and any(
            isinstance(x, Tensor) and x.requires_grad for x in (q, k, v))
        return super().__call__(q, k, v)

    def forward(self, q, k, v):
        kern = backend.kernels_for(q, k, v)
        self.kern = kern
        res = kern.attention_forward(
            q, k, v, mask=self.mask, scale=self.scale,
            is_causal=self.is_causal, dropout_rate=self.dropout_rate,
            seed=self.seed, return_scores=self.return_scores,
            fully_masked=self.fully_masked,
            need_backward=getattr(self, "need_backward", True))
        if self.return_scores:
            out, self.cache, probs = res
            self.probs = probs
            self.q_k = (q, k)
            self.output_shapes = (out.shape, probs.shape)
            self.output_dtype = out.dtype
            self.xp = xp_of(out)
            return out, probs
        out, self.cache = res
        return out

    def backward(self, dout, dprobs=None):
        dq, dk, dv = self.kern.attention_backward(dout, self.cache)
        if dprobs is not None:
            # The probabilities were used downstream too: add their
            # gradient through the (undropped) softmax.
            q, k = self.q_k
            scale = self.cache["scale"]
            ds = self.kern.masked_softmax_backward(
                dprobs, self.probs, mask=self.mask, scale=scale,
                is_causal=self.is_causal)
            dq = dq + ds @ k
            dk = dk + ds.swapaxes(-1, -2) @ q
        self.cache = None
        return dq, dk, dv


class MaskedSoftmax(Function):
    """Fused `softmax(where(mask, scale * scores, -big))` with dropout.

    Input `(B, H, Tq, Tk)` scores; outputs `(probs, probs_dropped)`.

    Args:
        mask, scale, is_causal, dropout_rate, seed, fully_masked: as in
            `ScaledDotProductAttention`.
    """

    def __init__(self, mask=None, scale=1.0, is_causal=False,
                 dropout_rate=0.0, seed=0, fully_masked="zero"):
        self.mask = mask
        self.scale = float(scale)
        self.is_causal = is_causal
        self.dropout_rate = float(dropout_rate)
        self.seed = int(seed)
        self.fully_masked = fully_masked

    def forward(self, scores):
        self.kern = backend.kernels_for(scores)
        p, pd = self.kern.masked_softmax_forward(
            scores, self.mask, self.scale, self.is_causal, self.dropout_rate,
            self.seed, self.fully_masked)
        self.p = p
        self.output_shapes = (p.shape, p.shape)
        self.output_dtype = p.dtype
        self.xp = xp_of(p)
        return p, pd

    def backward(self, dp, dpd):
        g = self.kern.masked_softmax_backward(
            dpd, self.p, self.mask, self.scale, self.is_causal,
            self.dropout_rate, self.seed)
        g += self.kern.masked_softmax_backward(
            dp, self.p, self.mask, self.scale, self.is_causal)
        return g


def _check_rank4(name, x):
    if len(x.shape) != 4:
        raise ValueError(
            "dot_product_attention: `" + name + "` must be 4-D (batch, "
            "seq, heads, head_dim). Received: "
            f"{name}.shape={tuple(x.shape)}")


@keras_op
def dot_product_attention(query, key, value, bias=None, mask=None,
                          scale=None, is_causal=False, flash_attention=None,
                          attn_logits_soft_cap=None):
    """Scaled dot-product attention (Keras 3 `ops.dot_product_attention`).

    `softmax(mask(scale * query @ key^T + bias)) @ value`, per head.
    A fully masked query row attends uniformly to all keys, as Keras's op
    does.

    Args:
        query: `(B, T, N, H)` queries.
        key: `(B, S, N, H)` keys.
        value: `(B, S, N, Hv)` values.
        bias: optional additive bias broadcastable to `(B, N, T, S)`.
        mask: optional boolean mask broadcastable to `(B, N, T, S)`,
            `True` = attend.
        scale: score scale; `1 / sqrt(H)` when None.
        is_causal: apply a causal (lower-triangular) mask.
        flash_attention: None (the `gkeras.config` setting: fused unless
            `disable_flash_attention()` was called), True (the fused
            kernel) or False (explicit score matrices, then the fused
            masked softmax).
        attn_logits_soft_cap: not supported (must be None).

    Returns:
        `(B, T, N, Hv)` attention output.

    Example:
    >>> q = np.random.rand(2, 10, 4, 8).astype("float32")
    >>> gkeras.ops.dot_product_attention(q, q, q).shape
    (2, 10, 4, 8)
    """
    if attn_logits_soft_cap is not None:
        raise NotImplementedError(
            "dot_product_attention: `attn_logits_soft_cap` is not supported "
            "by gkeras.")
    if flash_attention not in (None, True, False):
        raise ValueError("dot_product_attention: `flash_attention` must be "
                         "None or a bool. Received: "
                         f"flash_attention={flash_attention!r}")
    from gkeras.ops.shape import transpose
    q, k, v = t_or_a(query), t_or_a(key), t_or_a(value)
    for n, x in (("query", q), ("key", k), ("value", v)):
        _check_rank4(n, x)
    if q.shape[-1] != k.shape[-1] or k.shape[:3] != v.shape[:3] or \
            q.shape[0] != k.shape[0] or q.shape[2] != k.shape[2]:
        raise ValueError(
            "dot_product_attention: expected query (B, T, N, H), key "
            "(B, S, N, H) and value (B, S, N, Hv) with matching B, N, S, H. "
            f"Received: query.shape={tuple(q.shape)}, "
            f"key.shape={tuple(k.shape)}, value.shape={tuple(v.shape)}")
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    m = _bool_mask(mask)
    perm = (0, 2, 1, 3)
    qh, kh, vh = transpose(q, perm), transpose(k, perm), transpose(v, perm)
    if flash_attention is None:
        from gkeras.backend.global_settings import \
            is_flash_attention_enabled
        flash_attention = is_flash_attention_enabled()
    if bias is None and flash_attention is not False:
        out = ScaledDotProductAttention(
            mask=m, scale=float(scale), is_causal=bool(is_causal),
            fully_masked="uniform")(qh, kh, vh)
        return transpose(out, perm)
    # With an additive bias or flash attention off: scores are
    # materialised, then the fused masked softmax (scale 1: the bias comes after the scaling).
    from gkeras.ops.elementwise import add, matmul, multiply
    from gkeras.ops.shape import swapaxes
    scores = multiply(matmul(qh, swapaxes(kh, -1, -2)), float(scale))
    if bias is not None:
        scores = add(scores, t_or_a(bias))
    p, _ = MaskedSoftmax(mask=m, scale=1.0, is_causal=bool(is_causal),
                         fully_masked="uniform")(scores)
    return transpose(matmul(p, vh), perm)


__all__ = ["dot_product_attention", "ScaledDotProductAttention",
           "MaskedSoftmax"]
