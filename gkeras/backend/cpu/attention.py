"""Scaled dot-product attention and softmax primitives (NumPy side).

Semantics follow Keras 3:

- `mask` is boolean and broadcastable (from the right) to `(B, H, Tq, Tk)`,
  `True` = attend (`keras.ops.dot_product_attention`).
- `is_causal=True` keeps the lower triangle `j <= i` of the `(Tq, Tk)` score
  matrix, aligned at the top-left corner, as Keras's `_apply_masks`
  (`tril(ones((T, S)))`) and MultiHeadAttention's `_compute_causal_mask` do.
- Masked logits are replaced by a large negative constant before the
  softmax (not `-inf`), so a fully masked row becomes uniform over all
  `Tk` keys (`fully_masked="uniform"`, what `ops.dot_product_attention`
  and hence MultiHeadAttention's fused path give). `fully_masked="zero"`
  gives what Keras's `Softmax` layer (MultiHeadAttention's path with
  `return_attention_scores=True` or training dropout) gives: probabilities
  multiplied by the mask, so a fully masked row is all zeros.
- Dropout on the probabilities draws its keep-mask from a counter-based
  hash of `(seed, b, h, i, j)` (`dropout_keep_mask`), identical in NumPy
  and in `kernels/attention.cu`, so CPU and GPU agree and backward
  regenerates the mask instead of storing it. Kept entries are scaled by
  `1 / (1 - rate)`.

`attention_forward` / `attention_backward` work in blocks of samples,
heads or query rows (`attention_blocks`): memory grows linearly with the
sequence, flash-attention style, the backward recomputing long
sequences' scores block by block.

`backend.gpu.attention` exports the same names with the same signatures.
"""

import numpy as np

from gkeras.backend.cpu import attention_blocks as blk
from gkeras.backend.cpu import attention_jit
from gkeras.backend.cpu.attention_blocks import _scores_below  # noqa: F401

__all__ = [
    "attention_forward",
    "attention_backward",
    "masked_softmax_forward",
    "masked_softmax_backward",
    "softmax_forward",
    "softmax_backward",
    "dropout_keep_mask",
]

# Logit given to masked positions. Finite (not -inf) so that a fully masked
# row is a softmax over equal logits (uniform), as in Keras.
MASKED_LOGIT = -1e30
_FULLY_MASKED_MODES = ("uniform", "zero")


# --------------------------------------------------------------------------
# argument checking (shared with backend.gpu.attention)
# --------------------------------------------------------------------------

def check_qkv(q, k, v, op="attention_forward"):
    """Validates q/k/v shapes; returns (B, H, Tq, Tk, D, Dv)."""
    for name, a in (("q", q), ("k", k), ("v", v)):
        if a.ndim != 4:
            raise ValueError(
                f"{op}: `{name}` must be 4-D (batch, heads, seq, head_dim). "
                f"Received: {name}.shape={tuple(a.shape)}")
    B, H, Tq, D = q.shape
    if k.shape[0] != B or k.shape[1] != H or k.shape[3] != D:
        raise ValueError(
            f"{op}: `k` must have shape (batch, heads, Tk, head_dim) = "
            f"({B}, {H}, Tk, {D}) to match `q`. Received: "
            f"q.shape={tuple(q.shape)}, k.shape={tuple(k.shape)}")
    Tk = k.shape[2]
    if v.shape[:3] != k.shape[:3]:
        raise ValueError(
            f"{op}: `v` must have shape ({B}, {H}, {Tk}, Dv) to match `k`. "
            f"Received: k.shape={tuple(k.shape)}, v.shape={tuple(v.shape)}")
    return B, H, Tq, Tk, D, v.shape[3]


def check_mask(mask, shape, op="attention_forward"):
    """Checks that `mask` broadcasts (from the right) to `shape`."""
    if mask is None:
        return
    ms = tuple(mask.shape)
    ok = len(ms) <= len(shape) and all(
        m in (1, s) for m, s in zip(ms[::-1], shape[::-1]))
    if not ok:
        raise ValueError(
            f"{op}: `mask` must be broadcastable to (batch, heads, Tq, Tk) = "
            f"{tuple(shape)}; each mask dimension must be 1 or match. "
            f"Received: mask.shape={ms}. A (batch, Tq, Tk) mask needs a "
            "head axis: mask[:, None].")


def check_options(dropout_rate, fully_masked, op="attention_forward"):
    """Validates the dropout rate and the fully-masked-row mode."""
    if not 0.0 <= float(dropout_rate) < 1.0:
        raise ValueError(f"{op}: `dropout_rate` must be in [0, 1). "
                         f"Received: dropout_rate={dropout_rate}")
    if fully_masked not in _FULLY_MASKED_MODES:
        raise ValueError(f"{op}: `fully_masked` must be one of "
                         f"{_FULLY_MASKED_MODES}. Received: "
                         f"fully_masked={fully_masked!r}")


def dropout_threshold(rate):
    """Integer keep threshold: an entry is kept when `hash >> 8 >= thr`.

    Computed once in Python and passed to the kernels, so CPU and GPU
    compare the same integers (keep probability `1 - thr / 2**24`).
    """
    return min(1 << 24, int(round(float(rate) * (1 << 24))))


# --------------------------------------------------------------------------
# the counter-based dropout hash
# --------------------------------------------------------------------------

_M1 = np.uint32(0x7FEB352D)
_M2 = np.uint32(0x846CA68B)


def _mix32(x):
    """A 32-bit integer finaliser (lowbias32); `gk_mix32` in the kernels."""
    x = np.asarray(x, dtype=np.uint32)
    with np.errstate(over="ignore"):  # uint32 wrap-around is the point
        x = x ^ (x >> np.uint32(16))
        x = x * _M1
        x = x ^ (x >> np.uint32(15))
        x = x * _M2
        x = x ^ (x >> np.uint32(16))
    return x


def dropout_keep_mask(seed, shape, rate):
    """The attention-dropout keep mask, a pure function of its arguments.

    Entry `(b, h, i, j)` of a `(B, H, Tq, Tk)` mask is

        k0 = mix(seed ^ 0x9E3779B9); k1 = mix(k0 ^ (b * H + h))
        k2 = mix(k1 ^ i);            r  = mix(k2 ^ mix(j ^ 0x632BE5AB))
        keep = (r >> 8) >= dropout_threshold(rate)

    with `mix` the lowbias32 integer hash, all arithmetic on uint32. The
    CUDA kernels compute the same bits (`gk_dropout_keep` in
    `kernels/attention.cu`).

    Args:
        seed: Python int (its low 32 bits are used).
        shape: `(B, H, Tq, Tk)`.
        rate: dropout rate in `[0, 1)`.

    Returns:
        Boolean array of `shape`, `True` = kept.
    """
    B, H, Tq, Tk = shape
    return blk.keep_block(seed, H, slice(0, B), slice(0, H), slice(0, Tq),
                          Tk, dropout_threshold(rate), _mix32)


# --------------------------------------------------------------------------
# masks
# --------------------------------------------------------------------------

def _causal(Tq, Tk):
    return np.tri(Tq, Tk, 0, dtype=bool)  # j <= i, top-left aligned


def _valid(mask, is_causal, Tq, Tk):
    """Combined keep-mask (broadcastable, not expanded), or None."""
    valid = None
    if mask is not None:
        valid = np.asarray(mask)
        if valid.dtype != bool:  # Keras: float masks keep where > 0.5
            valid = valid > 0.5 if valid.dtype.kind == "f" else valid != 0
    if is_causal:
        c = _causal(Tq, Tk)
        valid = c if valid is None else np.logical_and(valid, c)
    return valid


# --------------------------------------------------------------------------
# softmax
# --------------------------------------------------------------------------

def softmax_forward(x, axis=-1):
    """Numerically stable softmax.

    Args:
        x: float array.
        axis: the axis normalised (default: the last one).

    Returns:
        `exp(x - max) / sum(exp(x - max))` along `axis`, same shape and
        dtype as `x`.
    """
    y = np.subtract(x, np.max(x, axis=axis, keepdims=True))
    np.exp(y, out=y)
    y /= np.sum(y, axis=axis, keepdims=True)
    return y


def softmax_backward(dy, y, axis=-1):
    """Gradient of `softmax_forward` with respect to its input.

    Args:
        dy: gradient of the loss with respect to the softmax output.
        y: the softmax output (`softmax_forward(x, axis)`).
        axis: the axis that was normalised.

    Returns:
        `dx = y * (dy - sum(dy * y, axis))`.
    """
    if dy.shape != y.shape:
        raise ValueError("softmax_backward: `dy` and `y` must have the same "
                         f"shape. Received: dy.shape={tuple(dy.shape)}, "
                         f"y.shape={tuple(y.shape)}")
    return y * (dy - np.sum(dy * y, axis=axis, keepdims=True))


def masked_softmax_forward(scores, mask=None, scale=1.0, is_causal=False,
                           dropout_rate=0.0, seed=0, fully_masked="uniform"):
    """Fused `softmax(where(mask, scale * scores, -big))` with dropout.

    The general attention path: `scores = q @ k^T` comes from a batched
    GEMM, this primitive turns it into probabilities, another GEMM applies
    them to `v`.

    Args:
        scores: `(B, H, Tq, Tk)` raw scores.
        mask: optional boolean, broadcastable to `scores`, `True` = keep.
        scale: multiplies the scores before masking.
        is_causal: also mask `j > i` (top-left aligned, as Keras).
        dropout_rate: rate of dropout on the probabilities.
        seed: dropout seed (see `dropout_keep_mask`).
        fully_masked: `"uniform"` or `"zero"` (see the module docstring).

    Returns:
        `(probs, probs_dropped)`: the softmax output and the one with
        dropout applied (`probs` itself when `dropout_rate == 0`).
    """
    if scores.ndim != 4:
        raise ValueError("masked_softmax_forward: `scores` must be 4-D "
                         "(batch, heads, Tq, Tk). Received: "
                         f"scores.shape={tuple(scores.shape)}")
    check_mask(mask, scores.shape, "masked_softmax_forward")
    check_options(dropout_rate, fully_masked, "masked_softmax_forward")
    s = scores * scores.dtype.type(scale)  # a fresh array, then in place
    return _masked_softmax_inplace(s, mask, is_causal, dropout_rate, seed,
                                   fully_masked)


def _masked_softmax_inplace(s, mask, is_causal, dropout_rate, seed,
                            fully_masked, keep=None, out=None, shift=True):
    """`masked_softmax_forward` on already scaled scores, overwriting them
    (the dropped-out probabilities go to `out` when given). `shift=False`
    skips subtracting the row maxima: only for scores known to keep `exp`
    finite and nonzero (see `_scores_below`)."""
    B, H, Tq, Tk = s.shape
    valid = _valid(mask, is_causal, Tq, Tk)
    if valid is not None:
        np.copyto(s, s.dtype.type(MASKED_LOGIT), where=~valid)
    if shift:
        s -= np.max(s, axis=-1, keepdims=True)
    np.exp(s, out=s)
    # einsum's row sums beat np.sum over short rows; one reciprocal per row
    # then a multiply beats dividing every entry.
    s *= (1.0 / np.einsum("...j->...", s)).astype(s.dtype)[..., None]
    p = s
    if valid is not None and fully_masked == "zero":
        p *= valid
    pd = p
    if dropout_rate > 0.0:
        if keep is None:
            keep = dropout_keep_mask(seed, (B, H, Tq, Tk), dropout_rate)
        pd = np.multiply(p, keep, out=out)
        pd *= p.dtype.type(1.0 / (1.0 - dropout_rate))
    return p, pd


def masked_softmax_backward(dprobs, probs, mask=None, scale=1.0,
                            is_causal=False, dropout_rate=0.0, seed=0):
    """Gradient of `masked_softmax_forward` with respect to `scores`.

    Args:
        dprobs: gradient with respect to `probs_dropped` (the output that
            multiplied `v`), `(B, H, Tq, Tk)`.
        probs: `probs` returned by the forward (before dropout).
        mask, scale, is_causal, dropout_rate, seed: as in the forward.

    Returns:
        `dscores`, `(B, H, Tq, Tk)`; zero at masked positions.
    """
    if dprobs.shape != probs.shape or probs.ndim != 4:
        raise ValueError("masked_softmax_backward: `dprobs` and `probs` must "
                         "be 4-D of the same shape. Received: "
                         f"dprobs.shape={tuple(dprobs.shape)}, "
                         f"probs.shape={tuple(probs.shape)}")
    ds = _masked_softmax_backward_inplace(np.array(dprobs), probs, mask,
                                          is_causal, dropout_rate, seed)
    ds *= ds.dtype.type(scale)
    return ds


def _masked_softmax_backward_inplace(dp, probs, mask, is_causal,
                                     dropout_rate, seed, keep=None):
    """Unscaled `masked_softmax_backward`, overwriting `dp`."""
    B, H, Tq, Tk = probs.shape
    if dropout_rate > 0.0:
        if keep is None:
            keep = dropout_keep_mask(seed, (B, H, Tq, Tk), dropout_rate)
        dp *= keep
        dp *= dp.dtype.type(1.0 / (1.0 - dropout_rate))
    rowdot = np.einsum("...j,...j->...", dp, probs)
    dp -= rowdot[..., None]
    dp *= probs
    valid = _valid(mask, is_causal, Tq, Tk)
    if valid is not None:
        dp *= valid
    return dp


# --------------------------------------------------------------------------
# attention
# --------------------------------------------------------------------------

def _empty_like_layout(a, shape, dtype):
    """An empty `(B, H, T, D)` array laid out as `a` is: `(B, T, H, D)` in
    memory when `a` is a view of that order (as MultiHeadAttention's
    heads are, contiguous or column blocks of a fused projection), so
    that the layer's transposes back are views and the output projection
    reads it without a copy."""
    st = a.transpose(0, 2, 1, 3).strides if a.ndim == 4 else ()
    if a.ndim == 4 and not a.flags.c_contiguous and \
            st[0] >= st[1] >= st[2] >= st[3]:
        B, H, T, D = shape
        return np.empty((B, T, H, D), dtype).transpose(0, 2, 1, 3)
    return np.empty(shape, dtype)


def attention_forward(q, k, v, mask=None, scale=None, is_causal=False,
                      dropout_rate=0.0, seed=0, return_scores=False,
                      fully_masked="uniform", implementation=None,
                      need_backward=True):
    """Scaled dot-product attention, forward.

    `out = dropout(softmax(where(mask, scale * q @ k^T, -big))) @ v`

    Args:
        q: `(B, H, Tq, D)` queries.
        k: `(B, H, Tk, D)` keys.
        v: `(B, H, Tk, Dv)` values.
        mask: optional boolean, broadcastable to `(B, H, Tq, Tk)`,
            `True` = attend.
        scale: score scale; `1 / sqrt(D)` when None.
        is_causal: keep only `j <= i` (top-left aligned, as Keras).
        dropout_rate: dropout on the attention probabilities.
        seed: Python int; the dropout mask is a hash of
            `(seed, b, h, i, j)` (see `dropout_keep_mask`).
        return_scores: also return the probabilities `(B, H, Tq, Tk)`
            (before dropout, as MultiHeadAttention returns them).
        fully_masked: `"uniform"` (default, `ops.dot_product_attention`)
            or `"zero"` (Keras `Softmax` layer) for rows with no key.
        implementation: None, `"flash"` or `"materialized"`; a GPU choice,
            accepted and ignored here (the CPU works in blocks and keeps
            the probabilities for the backward only while a sample's
            scores are small, see `attention_blocks`).
        need_backward: False when no backward will follow (inference):
            nothing is kept, and the softmax normalisation is applied to
            the output rows instead of the probabilities.

    Returns:
        `(out, cache)`, or `(out, cache, probs)` with `return_scores=True`.
        `out` is `(B, H, Tq, Dv)`. `cache` is a dict for
        `attention_backward`; on the CPU it holds `q`, `k`, `v`, the
        options and either the probabilities (`probs`, `probs_dropped`,
        `keep`) or, for long sequences, only per-row softmax statistics
        (`probs` is then None): memory linear in the sequence. Treat it
        as opaque.

    Example:

    >>> q = np.random.rand(2, 4, 10, 8).astype("float32")
    >>> out, cache = attention_forward(q, q, q, is_causal=True)
    >>> out.shape
    (2, 4, 10, 8)
    """
    B, H, Tq, Tk, D, Dv = check_qkv(q, k, v)
    check_mask(mask, (B, H, Tq, Tk))
    check_options(dropout_rate, fully_masked)
    if implementation not in (None, "flash", "materialized"):
        raise ValueError("attention_forward: `implementation` must be None, "
                         "'flash' or 'materialized'. Received: "
                         f"implementation={implementation!r}")
    if scale is None:
        scale = 1.0 / float(np.sqrt(D))
    dtype = np.result_type(q, k, v)
    out = _empty_like_layout(q, (B, H, Tq, Dv), dtype)
    # The probabilities are kept for the backward only while a sample's
    # scores are small; beyond that the backward recomputes them, so
    # memory grows linearly with the sequence.
    save = bool(return_scores) or (
        need_backward and H * Tq * Tk <= blk.SAVE_ENTRIES)
    if dtype == np.float32 and attention_jit.applies(
            q, k, v, mask, is_causal, dropout_rate) and \
            out.strides[3] == out.itemsize:
        blocks = attention_jit.forward(q, k, v, float(scale), save,
                                       need_backward, out)
        cache = {"q": q, "k": k, "v": v, "probs": blocks["probs"],
                 "probs_dropped": blocks["probs"], "keep": None,
                 "mask": None, "scale": float(scale), "is_causal": False,
                 "dropout_rate": 0.0, "seed": int(seed),
                 "fully_masked": fully_masked, "blocks": blocks}
        if return_scores:
            return out, cache, blocks["probs"]
        return out, cache
    blocks = blk.blocked_forward(
        q, k, v, _valid(mask, False, Tq, Tk), float(scale), bool(is_causal),
        float(dropout_rate), int(seed), fully_masked, save, out,
        dropout_threshold(dropout_rate), _mix32, MASKED_LOGIT)
    cache = {
        "q": q, "k": k, "v": v, "probs": blocks["probs"],
        "probs_dropped": blocks["probs_dropped"], "keep": blocks["keep"],
        "mask": mask, "scale": float(scale), "is_causal": bool(is_causal),
        "dropout_rate": float(dropout_rate), "seed": int(seed),
        "fully_masked": fully_masked, "blocks": blocks,
    }
    if return_scores:
        return out, cache, blocks["probs"]
    return out, cache


def attention_backward(dout, cache):
    """Scaled dot-product attention, backward.

    Args:
        dout: `(B, H, Tq, Dv)` gradient with respect to `out`.
        cache: the `cache` returned by `attention_forward`.

    Returns:
        `(dq, dk, dv)`, shaped like `q`, `k`, `v`.
    """
    q, k, v = cache["q"], cache["k"], cache["v"]
    expected = q.shape[:3] + v.shape[3:]
    if dout.shape != expected:
        raise ValueError("attention_backward: `dout` must have the shape of "
                         f"the attention output {tuple(expected)}. "
                         f"Received: dout.shape={tuple(dout.shape)}")
    dq = _empty_like_layout(q, q.shape, q.dtype)
    dk = _empty_like_layout(k, k.shape, k.dtype)
    dv = _empty_like_layout(v, v.shape, v.dtype)
    if cache["blocks"].get("fast"):
        attention_jit.backward(dout, cache["blocks"], dq, dk, dv)
    else:
        blk.blocked_backward(dout, cache["blocks"], dq, dk, dv)
    return dq, dk, dv
