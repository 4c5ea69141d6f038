"""Unmasked float32 attention as one compiled call a thread, BLAS called
from inside it (`cblas`).

`attention_blocks` runs attention as NumPy calls over blocks of samples on
the shared pool. Each block alternates Python and C (a stacked `matmul`,
the softmax kernel, another `matmul`), so two threads hand the GIL back
and forth a few times a block; on a 2-vCPU KVM guest every hand-over is a
hypervisor wake-up, and the stacked `matmul`s cost a Python-level loop of
small BLAS calls. Here each thread gets a contiguous range of (sample,
head) pairs and runs all of it -- `scale * q @ k^T`, the row softmax, the
product with `v` (and in the backward the five products and the softmax
gradient) -- inside ONE `nogil` kernel that calls `sgemm` directly: one
hand-off a thread per call, no GIL traffic inside.

Used for float32 `q`, `k`, `v` with a unit-stride last axis (the
`(B, T, H, D)` memory of MultiHeadAttention's heads is read in place, the
row stride being the leading dimension), no mask, not causal, no dropout,
with the JIT on and NumPy's BLAS an OpenBLAS (`cblas.available()`);
everything else keeps `attention_blocks`. A pair's queries are taken in
blocks of at most `attention_blocks.BLOCK_ENTRIES` scores, and the
probabilities are kept for the backward only under the same size rule as
there (otherwise the row max and `1 / sum` are kept and the backward
recomputes), so memory stays linear in the sequence.

Measured on one thread (CPU time, medians of interleaved runs, the
Transformer's attention: batch 32, seq 100, 8 heads of 16): inference
5.7-6.4 -> 4.7-4.9 ms, forward + backward 13.3-14.0 -> 11.3-12.6 ms; on
two threads the kernels run without any GIL hand-over.
"""

import numpy as np

from gkeras.backend.cpu import attention_blocks as blk
from gkeras.backend.cpu import cblas, jit
from gkeras.backend.cpu.parallel import even_parts, num_threads, run_parts

__all__ = ["applies", "forward", "backward"]

# Below this many multiply-adds a call runs on the calling thread: a pool
# hand-off can cost ~100 us on a VM, more than such a call takes.
MIN_PARALLEL_FLOPS = 1 << 22

_sgemm = None
_exp_row = None
_softmax_grad = None
_norm2_max = None
_pair = None


def _ready():
    global _sgemm, _exp_row, _softmax_grad, _norm2_max, _pair
    if _sgemm is None:
        _sgemm = cblas.kernel_functions()[0]
        _exp_row = blk.inlined(blk.exp_row)
        _softmax_grad = blk.inlined(blk.softmax_grad_rows)
        _norm2_max = blk.inlined(norm2_max)
        _pair = blk.inlined(pair_address)


def pair_address(a, b, h):
    """Byte address of `a[b, h, 0, 0]` (plain Python, inlined)."""
    return a.ctypes.data + b * a.strides[0] + h * a.strides[1]


def norm2_max(a):
    """The largest squared row norm of a 2-D array (NaN if any entry is
    NaN: the comparison below then keeps the row max pass)."""
    best = np.float32(0.0)
    for i in range(a.shape[0]):
        t = np.float32(0.0)
        for j in range(a.shape[1]):
            t += a[i, j] * a[i, j]
        best = t if (t > best or t != t) else best
    return best


def _unit_rows(a):
    """Whether a 4-D float32 array can be read as BLAS row blocks: unit
    last-axis stride, every stride a whole number of elements."""
    return (type(a) is np.ndarray and a.dtype == np.float32 and a.ndim == 4
            and a.strides[3] == 4 and all(s % 4 == 0 and s >= 0
                                          for s in a.strides))


def applies(q, k, v, mask, is_causal, dropout_rate):
    """Whether `forward` handles this attention call.

    Args:
        q, k, v: `(B, H, T, D)` arrays.
        mask, is_causal, dropout_rate: as `attention_forward`.

    Returns:
        True for float32 NumPy operands with a unit-stride last axis, no
        mask, not causal, no dropout, non-empty, with the JIT on and a
        kernel-callable BLAS.
    """
    return (mask is None and not is_causal and not dropout_rate
            and _unit_rows(q) and _unit_rows(k) and _unit_rows(v)
            and q.size > 0 and k.size > 0 and v.size > 0
            and jit.enabled() and cblas.available())


def _query_block(Tk):
    return max(1, min(blk.BLOCK_ENTRIES // max(Tk, 1), 1 << 16))


def _ranges(pairs, flops):
    """Contiguous pair ranges, one a thread (one range when small)."""
    return even_parts(pairs, min(num_threads(), pairs)
                      if flops >= MIN_PARALLEL_FLOPS else 1)


@jit.kernel
def _forward_pairs(hd, q, k, v, out, p0, p1, scale, qb, s, bits, probs,
                   save, normalise, row_max, row_inv, keep_stats, inv):
    """Attention of pairs `p0 <= b * H + h < p1`; see `forward`."""
    H, Tq, D = q.shape[1], q.shape[2], q.shape[3]
    Tk, Dv = k.shape[2], v.shape[3]
    ldq, ldk = q.strides[2] // 4, k.strides[2] // 4
    ldv, ldo = v.strides[2] // 4, out.strides[2] // 4
    zero = np.float32(0.0)
    ninf = np.float32(-np.inf)
    one = np.float32(1.0)
    for p in range(p0, p1):
        b = p // H
        h = p - b * H
        qp = _pair(q, b, h)
        kp = _pair(k, b, h)
        vp = _pair(v, b, h)
        op = _pair(out, b, h)
        bounded = _norm2_max(q[b, h]) * _norm2_max(k[b, h]) * scale * \
            scale < np.float32(6400.0)
        for q0 in range(0, Tq, qb):
            n = min(qb, Tq - q0)
            sb = probs[b, h, q0:q0 + n] if save else s[:n]
            _sgemm(hd, False, True, n, Tk, D, scale, qp + q0 * ldq * 4, ldq,
                   kp, ldk, 0.0, sb.ctypes.data, Tk)
            for i in range(n):
                row = sb[i]
                # Softmax is shift-invariant: the row max is only there to
                # keep exp from overflowing, which scores bounded by
                # |q| |k| < 80 (`bound`) cannot. A NaN or inf score makes
                # the row sum NaN either way, as in NumPy.
                m = zero
                if not bounded:
                    m = ninf
                    for j in range(Tk):
                        m = max(m, row[j])
                r = one / _exp_row(row, m, bits)
                if normalise:
                    for j in range(Tk):
                        row[j] *= r
                inv[i] = r
                if keep_stats:
                    row_max[b, h, q0 + i] = m
                    row_inv[b, h, q0 + i] = r
            _sgemm(hd, False, False, n, Dv, Tk, 1.0, sb.ctypes.data, Tk, vp,
                   ldv, 0.0, op + q0 * ldo * 4, ldo)
            if not normalise:
                for i in range(n):
                    orow = out[b, h, q0 + i]
                    r = inv[i]
                    for j in range(Dv):
                        orow[j] *= r


def forward(q, k, v, scale, save, need_backward, out):
    """Unmasked attention forward (call only when `applies`).

    Args:
        q, k, v: `(B, H, Tq, D)`, `(B, H, Tk, D)`, `(B, H, Tk, Dv)`
            float32 arrays.
        scale: the score scale.
        save: keep the probabilities (returned, and read by `backward`).
        need_backward: keep what `backward` needs.
        out: the `(B, H, Tq, Dv)` float32 output (unit last-axis stride),
            written here.

    Returns:
        The dict `backward` takes (`"probs"`: the `(B, H, Tq, Tk)`
        probabilities when saved, else None).
    """
    _ready()
    B, H, Tq, D = q.shape
    Tk, Dv = k.shape[2], v.shape[3]
    qb = _query_block(Tk)
    probs = np.empty((B, H, Tq, Tk), np.float32) if save else \
        np.empty((1, 1, 1, 1), np.float32)
    keep_stats = need_backward and not save
    stats_shape = (B, H, Tq) if keep_stats else (1, 1, 1)
    row_max = np.empty(stats_shape, np.float32)
    row_inv = np.empty(stats_shape, np.float32)
    hd = cblas.handle()
    fn = _forward_pairs.dispatcher()

    def run(p0, p1):
        rows = min(qb, Tq)
        s = np.empty((1 if save else rows, Tk), np.float32)
        fn(hd, q, k, v, out, p0, p1, np.float32(scale), qb, s,
           np.empty(Tk, np.int32), probs, save, save, row_max, row_inv,
           keep_stats, np.empty(rows, np.float32))
    run_parts(_ranges(B * H, B * H * Tq * Tk * (D + Dv)), run)
    return {"fast": True, "q": q, "k": k, "v": v, "scale": float(scale),
            "probs": probs if save else None, "row_max": row_max,
            "row_inv": row_inv}


@jit.kernel
def _backward_pairs(hd, dout, q, k, v, dq, dk, dv, p0, p1, scale, qb,
                    probs, saved, row_max, row_inv, pbuf, ds, bits):
    """Gradients of pairs `p0 <= b * H + h < p1`; see `backward`."""
    H, Tq, D = q.shape[1], q.shape[2], q.shape[3]
    Tk, Dv = k.shape[2], v.shape[3]
    ldq, ldk, ldv = q.strides[2] // 4, k.strides[2] // 4, v.strides[2] // 4
    lddo = dout.strides[2] // 4
    lddq, lddk, lddv = dq.strides[2] // 4, dk.strides[2] // 4, \
        dv.strides[2] // 4
    for p in range(p0, p1):
        b = p // H
        h = p - b * H
        qp = _pair(q, b, h)
        kp = _pair(k, b, h)
        vp = _pair(v, b, h)
        gp = _pair(dout, b, h)
        dqp = _pair(dq, b, h)
        dkp = _pair(dk, b, h)
        dvp = _pair(dv, b, h)
        for q0 in range(0, Tq, qb):
            n = min(qb, Tq - q0)
            beta = 0.0 if q0 == 0 else 1.0
            if saved:
                pb = probs[b, h, q0:q0 + n]
            else:
                pb = pbuf[:n]
                _sgemm(hd, False, True, n, Tk, D, scale, qp + q0 * ldq * 4,
                       ldq, kp, ldk, 0.0, pb.ctypes.data, Tk)
                for i in range(n):
                    row = pb[i]
                    _exp_row(row, row_max[b, h, q0 + i], bits)
                    r = row_inv[b, h, q0 + i]
                    for j in range(Tk):
                        row[j] *= r
            # dv += p^T @ dout
            _sgemm(hd, True, False, Tk, Dv, n, 1.0, pb.ctypes.data, Tk,
                   gp + q0 * lddo * 4, lddo, beta, dvp, lddv)
            # ds = dout @ v^T, then the softmax gradient in place
            dsb = ds[:n]
            _sgemm(hd, False, True, n, Tk, Dv, 1.0, gp + q0 * lddo * 4, lddo,
                   vp, ldv, 0.0, dsb.ctypes.data, Tk)
            _softmax_grad(dsb, pb)
            # dq = scale * ds @ k; dk += scale * ds^T @ q
            _sgemm(hd, False, False, n, D, Tk, scale, dsb.ctypes.data, Tk, kp,
                   ldk, 0.0, dqp + q0 * lddq * 4, lddq)
            _sgemm(hd, True, False, Tk, D, n, scale, dsb.ctypes.data, Tk,
                   qp + q0 * ldq * 4, ldq, beta, dkp, lddk)


def backward(dout, state, dq, dk, dv):
    """Gradients of `forward`'s attention, written into `dq`, `dk`, `dv`.

    Args:
        dout: `(B, H, Tq, Dv)` gradient of the output.
        state: the dict `forward` returned.
        dq, dk, dv: float32 outputs shaped like `q`, `k`, `v` (unit
            last-axis stride).
    """
    _ready()
    q, k, v = state["q"], state["k"], state["v"]
    if not _unit_rows(dout):
        dout = np.ascontiguousarray(dout, dtype=np.float32)
    B, H, Tq, D = q.shape
    Tk, Dv = k.shape[2], v.shape[3]
    qb = _query_block(Tk)
    probs = state["probs"]
    saved = probs is not None
    if not saved:
        probs = np.empty((1, 1, 1, 1), np.float32)
    hd = cblas.handle()
    fn = _backward_pairs.dispatcher()
    scale = np.float32(state["scale"])

    def run(p0, p1):
        rows = min(qb, Tq)
        fn(hd, dout, q, k, v, dq, dk, dv, p0, p1, scale, qb, probs, saved,
           state["row_max"], state["row_inv"],
           np.empty((1 if saved else rows, Tk), np.float32),
           np.empty((rows, Tk), np.float32), np.empty(Tk, np.int32))
    run_parts(_ranges(B * H, 2 * B * H * Tq * Tk * (D + Dv)), run)
