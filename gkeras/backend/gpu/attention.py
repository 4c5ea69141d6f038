"""Scaled dot-product attention and softmax primitives (CuPy side).

Same names, signatures and semantics as `gkeras.backend.cpu.attention`
(see its docstring: Keras mask / causal / fully-masked-row rules, the
counter-hash dropout shared bit-for-bit with the CPU).

Two attention paths, both on `kernels/attention.cu`:

- **flash** (default when `head_dim <= 128` and no scores are asked for):
  `flash_attn_fwd` keeps a tile of queries in shared memory and streams
  key/value tiles with an online softmax; the `(Tq, Tk)` matrix never
  reaches global memory. The cache holds the output and the row
  log-sum-exp. Backward recomputes the probabilities tile by tile in two
  deterministic kernels (`flash_attn_bwd_dq` over query tiles,
  `flash_attn_bwd_dkdv` over key tiles: no atomics).
- **materialized**: cuBLAS batched GEMMs (`xp.matmul`) for `q @ k^T` and
  `p @ v`, with the fused scale + mask + causal + softmax + dropout row
  kernel `attn_softmax_fwd` between them, and `attn_softmax_bwd` backward.
  Used for `return_scores=True` and head sizes above 128.

CuPy is imported only inside functions. Every launch goes through a
runtime object (`rt.xp`, `rt.launch(file, name, grid, block, args)`), so
the whole wrapper also runs on the CPU under the CUDA emulator of
`tests/cuda_emu` with the same grids and arguments; the launch
configurations come from the pure-Python `*_launch` helpers below.
Kernels compute in float32. q/k/v (and scores, probabilities, gradients)
may be float16 or bfloat16: the `*_f16`/`*_bf16` entry points load them,
compute in float32 and round once when they store; the row statistics
(lse, delta) stay float32, and the GEMMs accumulate in float32
(`precision.py`). Other inputs are cast to contiguous float32.
"""

import math

import numpy as np

from gkeras.backend.cpu.attention import (check_mask, check_options,
                                          check_qkv, dropout_threshold)
from gkeras.backend.gpu import precision

__all__ = [
    "attention_forward",
    "attention_backward",
    "masked_softmax_forward",
    "masked_softmax_backward",
    "softmax_forward",
    "softmax_backward",
    "dropout_keep_mask",
]

# Mirrors of the #defines in kernels/attention.cu and kernels/softmax.cu.
FLASH_BM = 16
FLASH_BN = 16
FLASH_THREADS = 128
FLASH_MAX_HEAD_DIM = 128
ATTN_SOFTMAX_THREADS = 128
SOFTMAX_THREADS = 128
_MAX_GRID_Y = 65535


# --------------------------------------------------------------------------
# launch configurations (pure Python, no CuPy)
# --------------------------------------------------------------------------

def _cdiv(a, b):
    return -(-a // b)


def flash_fwd_launch(B, H, Tq):
    """(grid, block) of `flash_attn_fwd` and `flash_attn_bwd_dq`."""
    gy = _cdiv(Tq, FLASH_BM)
    if gy > _MAX_GRID_Y:
        raise ValueError(f"attention_forward: query length {Tq} is above the "
                         f"flash kernel's limit {_MAX_GRID_Y * FLASH_BM}.")
    return (B * H, gy, 1), (FLASH_THREADS, 1, 1)


def flash_dkdv_launch(B, H, Tk):
    """(grid, block) of `flash_attn_bwd_dkdv`."""
    gy = _cdiv(Tk, FLASH_BN)
    if gy > _MAX_GRID_Y:
        raise ValueError(f"attention_backward: key length {Tk} is above the "
                         f"flash kernel's limit {_MAX_GRID_Y * FLASH_BN}.")
    return (B * H, gy, 1), (FLASH_THREADS, 1, 1)


def flash_preprocess_launch(rows):
    """(grid, block) of `flash_attn_bwd_preprocess` over `rows` = B*H*Tq."""
    return (_cdiv(rows, FLASH_THREADS), 1, 1), (FLASH_THREADS, 1, 1)


def attn_softmax_launch(rows):
    """(grid, block) of `attn_softmax_fwd` / `attn_softmax_bwd`."""
    return (rows, 1, 1), (ATTN_SOFTMAX_THREADS, 1, 1)


def softmax_launch(rows):
    """(grid, block) of `softmax_fwd` / `softmax_bwd` (kernels/softmax.cu)."""
    return (rows, 1, 1), (SOFTMAX_THREADS, 1, 1)


def use_flash(D, Dv, return_scores, implementation):
    """Which attention path runs: True for flash, False for materialized."""
    fits = D <= FLASH_MAX_HEAD_DIM and Dv <= FLASH_MAX_HEAD_DIM
    if implementation == "flash":
        if not fits:
            raise ValueError(
                "attention_forward: implementation='flash' supports head "
                f"sizes up to {FLASH_MAX_HEAD_DIM}. Received: q/k head_dim="
                f"{D}, v head_dim={Dv}. Use implementation=None.")
        if return_scores:
            raise ValueError(
                "attention_forward: implementation='flash' never forms the "
                "attention scores, so return_scores=True needs "
                "implementation=None or 'materialized'.")
        return True
    if implementation == "materialized":
        return False
    if implementation is not None:
        raise ValueError("attention_forward: `implementation` must be None, "
                         "'flash' or 'materialized'. Received: "
                         f"implementation={implementation!r}")
    return fits and not return_scores


# --------------------------------------------------------------------------
# runtime
# --------------------------------------------------------------------------

def _runtime():
    from gkeras.backend.gpu.launch import cupy_runtime

    return cupy_runtime()


def _f32(xp, a):
    return xp.ascontiguousarray(a, dtype=xp.float32)


def _kernel_array(xp, a):
    """`a` contiguous in its kernel dtype (16-bit kept, others float32)."""
    return precision.as_kernel(xp, a, precision.kernel_dtype(xp, a.dtype))


def _mask_args(xp, mask, shape):
    """(uint8 compact mask or None, element strides of its broadcast view)."""
    if mask is None:
        return None, (np.int64(0),) * 4
    m = xp.asarray(mask)
    if m.dtype != xp.bool_:
        m = m > 0.5 if m.dtype.kind == "f" else m != 0
    m = m.reshape((1,) * (4 - m.ndim) + tuple(m.shape))
    m = xp.ascontiguousarray(m).view(xp.uint8)
    strides = []
    acc = 1
    for d in range(3, -1, -1):
        strides.append(0 if m.shape[d] == 1 else acc)
        acc *= m.shape[d]
    return m, tuple(np.int64(s) for s in reversed(strides))


def _drop_args(dropout_rate, seed):
    thr = dropout_threshold(dropout_rate) if dropout_rate > 0.0 else 0
    ds = 1.0 / (1.0 - dropout_rate) if dropout_rate > 0.0 else 1.0
    return (np.uint32(thr), np.float32(ds),
            np.uint32(int(seed) & 0xFFFFFFFF))


# --------------------------------------------------------------------------
# implementations against a runtime `rt`
# --------------------------------------------------------------------------

def _masked_softmax_forward(rt, scores, mask=None, scale=1.0, is_causal=False,
                            dropout_rate=0.0, seed=0,
                            fully_masked="uniform", inplace=False):
    xp = rt.xp
    if scores.ndim != 4:
        raise ValueError("masked_softmax_forward: `scores` must be 4-D "
                         "(batch, heads, Tq, Tk). Received: "
                         f"scores.shape={tuple(scores.shape)}")
    check_mask(mask, scores.shape, "masked_softmax_forward")
    check_options(dropout_rate, fully_masked, "masked_softmax_forward")
    B, H, Tq, Tk = scores.shape
    s = _kernel_array(xp, scores)
    probs = s if (inplace and s is scores) else xp.empty_like(s)
    pd = xp.empty_like(s) if dropout_rate > 0.0 else None
    m, ms = _mask_args(xp, mask, s.shape)
    grid, block = attn_softmax_launch(B * H * Tq)
    rt.launch("attention.cu", precision.entry("attn_softmax_fwd", s.dtype,
                                              False), grid, block, (
        s, probs, pd, m, *ms, np.int32(B), np.int32(H), np.int32(Tq),
        np.int32(Tk), np.float32(scale), np.int32(bool(is_causal)),
        np.int32(fully_masked == "zero"), *_drop_args(dropout_rate, seed)))
    return probs, (probs if pd is None else pd)


def _masked_softmax_backward(rt, dprobs, probs, mask=None, scale=1.0,
                             is_causal=False, dropout_rate=0.0, seed=0,
                             inplace=False):
    xp = rt.xp
    if dprobs.shape != probs.shape or probs.ndim != 4:
        raise ValueError("masked_softmax_backward: `dprobs` and `probs` must "
                         "be 4-D of the same shape. Received: "
                         f"dprobs.shape={tuple(dprobs.shape)}, "
                         f"probs.shape={tuple(probs.shape)}")
    B, H, Tq, Tk = probs.shape
    p = _kernel_array(xp, probs)
    g = precision.as_kernel(xp, dprobs, p.dtype)
    out = g if (inplace and g is dprobs) else xp.empty_like(g)
    m, ms = _mask_args(xp, mask, p.shape)
    grid, block = attn_softmax_launch(B * H * Tq)
    rt.launch("attention.cu", precision.entry("attn_softmax_bwd", p.dtype,
                                              False), grid, block, (
        g, p, out, m, *ms, np.int32(B), np.int32(H), np.int32(Tq),
        np.int32(Tk), np.float32(scale), np.int32(bool(is_causal)),
        *_drop_args(dropout_rate, seed)))
    return out


def _attention_forward(rt, q, k, v, mask=None, scale=None, is_causal=False,
                       dropout_rate=0.0, seed=0, return_scores=False,
                       fully_masked="uniform", implementation=None):
    xp = rt.xp
    B, H, Tq, Tk, D, Dv = check_qkv(q, k, v)
    check_mask(mask, (B, H, Tq, Tk))
    check_options(dropout_rate, fully_masked)
    flash = use_flash(D, Dv, return_scores, implementation)
    if scale is None:
        scale = 1.0 / math.sqrt(D)
    kdt = precision.kernel_dtype(xp, q.dtype)
    q, k, v = (precision.as_kernel(xp, a, kdt) for a in (q, k, v))
    cache = {
        "q": q, "k": k, "v": v, "mask": mask, "scale": float(scale),
        "is_causal": bool(is_causal), "dropout_rate": float(dropout_rate),
        "seed": int(seed), "fully_masked": fully_masked,
    }
    if flash:
        out = xp.empty((B, H, Tq, Dv), dtype=kdt)
        lse = xp.empty((B, H, Tq), dtype=xp.float32)
        m, ms = _mask_args(xp, mask, (B, H, Tq, Tk))
        grid, block = flash_fwd_launch(B, H, Tq)
        rt.launch("attention.cu", precision.entry("flash_attn_fwd", kdt,
                                                  False), grid, block, (
            q, k, v, out, lse, m, *ms, np.int32(B), np.int32(H),
            np.int32(Tq), np.int32(Tk), np.int32(D), np.int32(Dv),
            np.float32(scale), np.int32(bool(is_causal)),
            np.int32(fully_masked == "zero"),
            *_drop_args(dropout_rate, seed)))
        cache.update(path="flash", out=out, lse=lse)
        return out, cache
    scores = precision.matmul(rt, q, xp.swapaxes(k, -1, -2))
    p, pd = _masked_softmax_forward(rt, scores, mask, scale, is_causal,
                                    dropout_rate, seed, fully_masked,
                                    inplace=True)
    out = precision.matmul(rt, pd, v)
    cache.update(path="materialized", probs=p, probs_dropped=pd)
    if return_scores:
        return out, cache, p
    return out, cache


def _attention_backward(rt, dout, cache):
    xp = rt.xp
    q, k, v = cache["q"], cache["k"], cache["v"]
    B, H, Tq, D = q.shape
    Tk, Dv = v.shape[2], v.shape[3]
    if tuple(dout.shape) != (B, H, Tq, Dv):
        raise ValueError("attention_backward: `dout` must have the shape of "
                         f"the attention output {(B, H, Tq, Dv)}. "
                         f"Received: dout.shape={tuple(dout.shape)}")
    kdt = q.dtype
    dout = precision.as_kernel(xp, dout, kdt)
    drop = _drop_args(cache["dropout_rate"], cache["seed"])
    if cache["path"] == "flash":
        delta = xp.empty((B, H, Tq), dtype=xp.float32)
        rows = B * H * Tq
        grid, block = flash_preprocess_launch(rows)
        rt.launch("attention.cu",
                  precision.entry("flash_attn_bwd_preprocess", kdt, False),
                  grid, block,
                  (dout, cache["out"], delta, np.int64(rows), np.int32(Dv)))
        m, ms = _mask_args(xp, cache["mask"], (B, H, Tq, Tk))
        common = (m, *ms, np.int32(B), np.int32(H), np.int32(Tq),
                  np.int32(Tk), np.int32(D), np.int32(Dv),
                  np.float32(cache["scale"]), np.int32(cache["is_causal"]),
                  np.int32(cache["fully_masked"] == "zero"), *drop)
        dq = xp.empty_like(q)
        dk = xp.empty_like(k)
        dv = xp.empty_like(v)
        grid, block = flash_fwd_launch(B, H, Tq)
        rt.launch("attention.cu",
                  precision.entry("flash_attn_bwd_dq", kdt, False), grid, block,
                  (q, k, v, dout, cache["lse"], delta, dq) + common)
        grid, block = flash_dkdv_launch(B, H, Tk)
        rt.launch("attention.cu",
                  precision.entry("flash_attn_bwd_dkdv", kdt, False), grid,
                  block,
                  (q, k, v, dout, cache["lse"], delta, dk, dv) + common)
        return dq, dk, dv
    p, pd = cache["probs"], cache["probs_dropped"]
    dv = precision.matmul(rt, xp.swapaxes(pd, -1, -2), dout)
    dpd = xp.ascontiguousarray(precision.matmul(rt, dout,
                                                xp.swapaxes(v, -1, -2)))
    ds = _masked_softmax_backward(rt, dpd, p, cache["mask"], cache["scale"],
                                  cache["is_causal"], cache["dropout_rate"],
                                  cache["seed"], inplace=True)
    dq = precision.matmul(rt, ds, k)
    dk = precision.matmul(rt, xp.swapaxes(ds, -1, -2), q)
    return dq, dk, dv


def _rows_last(xp, x, axis, dtype=None):
    x = xp.moveaxis(x, axis, -1)
    shape = x.shape
    dtype = xp.float32 if dtype is None else dtype
    return xp.ascontiguousarray(x, dtype=dtype).reshape(-1, shape[-1]), \
        shape


def _softmax_forward(rt, x, axis=-1):
    xp = rt.xp
    kdt = precision.kernel_dtype(xp, x.dtype)
    x2, shape = _rows_last(xp, x, axis, kdt)
    y = xp.empty_like(x2)
    M, C = x2.shape
    if M and C:
        grid, block = softmax_launch(M)
        rt.launch("softmax.cu", precision.entry("softmax_fwd", kdt, False),
                  grid, block,
                  (x2, y, np.int64(M), np.int32(C)))
    return xp.moveaxis(y.reshape(shape), -1, axis)


def _softmax_backward(rt, dy, y, axis=-1):
    xp = rt.xp
    if dy.shape != y.shape:
        raise ValueError("softmax_backward: `dy` and `y` must have the same "
                         f"shape. Received: dy.shape={tuple(dy.shape)}, "
                         f"y.shape={tuple(y.shape)}")
    kdt = precision.kernel_dtype(xp, y.dtype)
    g2, shape = _rows_last(xp, dy, axis, kdt)
    y2, _ = _rows_last(xp, y, axis, kdt)
    dx = xp.empty_like(g2)
    M, C = g2.shape
    if M and C:
        grid, block = softmax_launch(M)
        rt.launch("softmax.cu", precision.entry("softmax_bwd", kdt, False),
                  grid, block,
                  (g2, y2, dx, np.int64(M), np.int32(C)))
    return xp.moveaxis(dx.reshape(shape), -1, axis)


# --------------------------------------------------------------------------
# public API (same signatures as backend.cpu.attention)
# --------------------------------------------------------------------------

def attention_forward(q, k, v, mask=None, scale=None, is_causal=False,
                      dropout_rate=0.0, seed=0, return_scores=False,
                      fully_masked="uniform", implementation=None,
                      need_backward=True):
    """Scaled dot-product attention, forward, on the GPU.

    `out = dropout(softmax(where(mask, scale * q @ k^T, -big))) @ v`

    Args:
        q: `(B, H, Tq, D)` queries.
        k: `(B, H, Tk, D)` keys.
        v: `(B, H, Tk, Dv)` values.
        mask: optional boolean, broadcastable to `(B, H, Tq, Tk)`,
            `True` = attend. Read in place through broadcast strides.
        scale: score scale; `1 / sqrt(D)` when None.
        is_causal: keep only `j <= i` (top-left aligned, as Keras).
        dropout_rate: dropout on the attention probabilities.
        seed: Python int; the dropout keep-mask is the same hash of
            `(seed, b, h, i, j)` as on the CPU.
        return_scores: also return the probabilities (materialized path).
        fully_masked: `"uniform"` (default) or `"zero"`.
        implementation: None (flash when `D, Dv <= 128` and no scores are
            asked for), `"flash"` or `"materialized"`.
        need_backward: accepted for the CPU's signature (whose inference
            path keeps nothing); the GPU caches the same either way.

    Returns:
        `(out, cache)`, or `(out, cache, probs)` with `return_scores=True`;
        float16 / bfloat16 for such `q`, else float32. `cache` is opaque: the flash path keeps `out` and the row
        log-sum-exp `lse`, the materialized path the probabilities.
    """
    return _attention_forward(_runtime(), q, k, v, mask, scale, is_causal,
                              dropout_rate, seed, return_scores,
                              fully_masked, implementation)


def attention_backward(dout, cache):
    """Scaled dot-product attention, backward, on the GPU.

    Args:
        dout: `(B, H, Tq, Dv)` gradient with respect to `out`.
        cache: the `cache` returned by `attention_forward`.

    Returns:
        `(dq, dk, dv)` in the forward's kernel dtype (float16, bfloat16 or
        float32), shaped like `q`, `k`, `v`.
    """
    return _attention_backward(_runtime(), dout, cache)


def masked_softmax_forward(scores, mask=None, scale=1.0, is_causal=False,
                           dropout_rate=0.0, seed=0, fully_masked="uniform"):
    """Fused `softmax(where(mask, scale * scores, -big))` + dropout (GPU).

    See `backend.cpu.attention.masked_softmax_forward`.

    Returns:
        `(probs, probs_dropped)` `(B, H, Tq, Tk)`, float16 / bfloat16 for
        such `scores`, else float32.
    """
    return _masked_softmax_forward(_runtime(), scores, mask, scale,
                                   is_causal, dropout_rate, seed,
                                   fully_masked)


def masked_softmax_backward(dprobs, probs, mask=None, scale=1.0,
                            is_causal=False, dropout_rate=0.0, seed=0):
    """Gradient of `masked_softmax_forward` with respect to `scores` (GPU).

    See `backend.cpu.attention.masked_softmax_backward`.
    """
    return _masked_softmax_backward(_runtime(), dprobs, probs, mask, scale,
                                    is_causal, dropout_rate, seed)


def softmax_forward(x, axis=-1):
    """Softmax along `axis` on the GPU (`kernels/softmax.cu`, float32
    arithmetic).

    Args:
        x: array; `axis` is moved last for the kernel.
        axis: the normalised axis.

    Returns:
        The softmax shaped like `x`: float16 / bfloat16 for such `x`, else
        float32.
    """
    return _softmax_forward(_runtime(), x, axis)


def softmax_backward(dy, y, axis=-1):
    """Gradient of `softmax_forward`: `y * (dy - sum(dy * y, axis))` (GPU).

    Args:
        dy: gradient with respect to the softmax output.
        y: the softmax output.
        axis: the normalised axis.

    Returns:
        `dx` shaped like `dy`, in `y`'s 16-bit type or float32.
    """
    return _softmax_backward(_runtime(), dy, y, axis)


def dropout_keep_mask(seed, shape, rate):
    """The attention-dropout keep mask as a CuPy boolean array.

    Same bits as `backend.cpu.attention.dropout_keep_mask` (computed with
    the same uint32 arithmetic); for tests and for layers that need the
    mask itself.
    """
    import cupy

    from gkeras.backend.cpu.attention import dropout_keep_mask as cpu_mask

    return cupy.asarray(cpu_mask(seed, shape, rate))
