"""The common float32 GRU (`reset_after=True`, tanh/sigmoid, no mask, no
recurrent dropout) with one fused JIT pass per step, on
`gru_time_major`'s time-major buffers.

Per step the recurrent GEMM `h_{t-1} @ R` and ONE compiled loop over
contiguous rows for everything else (recurrent bias, the two sigmoid
gates, the candidate, the new state); the backward's step is one loop and
the GEMM `dQ R^T`; `dR` one GEMM after the loop. Activations use
`jit_tanh` (float32 rational tanh, max abs error 2.7e-7).

Measured at N=32, T=100, U=128, 1 thread, CPU time, interleaved with
the NumPy path (`gru_time_major`): step kernel 10 us, the GEMM 40 us;
the recurrence inference 13.1 -> 6.8 ms (paired 0.49-0.56), forward +
backward 30.3 -> 18.4 ms (0.59-0.71).

The layout stays batch rows (`(T, N, 3U)`), not `lstm_jit`'s
feature-major one: the GRU gets `xw` batch-major from outside, and
transposing it to `(3U, T*N)` and the gradient back cost 2-2.8 ms each
(1 thread) against 0.2-0.45 ms for the time-major copies; the
feature-major GRU measured no faster than the NumPy path (train 1.03x,
predict 1.01x).

Per step: `q = R^T h + rb`, `z, r = sigmoid(x_zr + q_zr)`,
`hh = tanh(x_h + r * q_h)`, `h_t = hh + z * (h_{t-1} - hh)`.

Inference (`keep=False`) runs `gru_infer` where NumPy's BLAS can be
called from kernels (`cblas.available()`): all steps in one `nogil` call
per batch part.

Only float32 with the JIT enabled; otherwise `gru_time_major` runs (the
reference the tests compare with).
"""

import numpy as np

from gkeras.backend.cpu import gru_infer, jit, jit_tanh

__all__ = ["applies", "gru_forward", "gru_backward"]

_HALF = jit_tanh.HALF
_ONE = jit_tanh.ONE
_KERNEL = jit.kernel(error_model="numpy")

# Set by `_ready()` before the first kernel compiles (see `jit_tanh`).
_tanh_nb = None


def _ready():
    global _tanh_nb
    if _tanh_nb is None:
        _tanh_nb = jit_tanh.inlined()


@_KERNEL
def _forward_step(q, rb, S, H, Qh, t, keep):
    # q (N, 3U) = h_{t-1} R; S[t] the step's input pre-activations
    # (replaced by z, r, hh with `keep`, q_h + rb_h then saved in Qh[t]);
    # h_{t-1} = H[t], h_t written to H[t + 1].
    N, U = q.shape[0], q.shape[1] // 3
    U2 = 2 * U
    for n in range(N):
        # Separate row slices: one array indexed at u, U + u, 2U + u
        # (with stores) keeps LLVM from vectorising (measured 70 us).
        sz = S[t, n, :U]
        sr = S[t, n, U:U2]
        sh = S[t, n, U2:]
        qz = q[n, :U]
        qr = q[n, U:U2]
        qh = q[n, U2:]
        bz = rb[:U]
        br = rb[U:U2]
        bh = rb[U2:]
        hp = H[t, n]
        hn = H[t + 1, n]
        qs = Qh[t if keep else 0, n]
        for u in range(U):
            z = _HALF + _HALF * _tanh_nb(_HALF * (sz[u] + qz[u] + bz[u]))
            r = _HALF + _HALF * _tanh_nb(_HALF * (sr[u] + qr[u] + br[u]))
            qhn = qh[u] + bh[u]
            hh = _tanh_nb(sh[u] + r * qhn)
            hn[u] = hh + z * (hp[u] - hh)
            if keep:
                sz[u] = z
                sr[u] = r
                sh[u] = hh
                qs[u] = qhn


@_KERNEL
def _backward_step(S, H, Qh, t, carry, rec, dHs, has_seq):
    # dL/dh_t = carry + rec (+ dHs[:, t]); S[t] holds z, r, hh and is
    # replaced by dL/dq (z, r, h columns; the z and r ones are also the
    # input pre-activation gradients); Qh[t] (q_h) by dL/d(hh
    # pre-activation); carry becomes dL/dh_{t-1}'s direct part.
    N, U = carry.shape
    U2 = 2 * U
    for n in range(N):
        sz = S[t, n, :U]
        sr = S[t, n, U:U2]
        sh = S[t, n, U2:]
        hp = H[t, n]
        qs = Qh[t, n]
        cu = carry[n]
        ru = rec[n]
        ds = dHs[n, t if has_seq else 0]
        for u in range(U):
            z = sz[u]
            r = sr[u]
            hh = sh[u]
            g = cu[u] + ru[u] + ds[u] if has_seq else cu[u] + ru[u]
            b = g * (_ONE - z)
            cu[u] = g * z
            dhh = (_ONE - hh * hh) * b
            sz[u] = (hp[u] - hh) * b * z          # g z (1 - z) (h - hh)
            sr[u] = r * (_ONE - r) * qs[u] * dhh
            sh[u] = dhh * r
            qs[u] = dhh


def applies(xw, h0, R, rb):
    """Whether this path runs `gru_time_major.gru_forward`'s case (the
    caller has checked the activations, mask and dropout).

    Returns:
        True when the JIT is enabled and all arrays are float32 NumPy.
    """
    if not jit.enabled() or type(xw) is not np.ndarray or \
            xw.dtype != np.float32 or xw.shape[0] == 0 or xw.shape[1] == 0:
        return False
    return all(a is None or (type(a) is np.ndarray and a.dtype == np.float32)
               for a in (h0, R, rb))


def gru_forward(xw, h0, R, rb, go_backwards, keep=True):
    """`gru_time_major.gru_forward` on the JIT path (same arguments and
    results within float32 rounding).

    Returns:
        `(hs, h_T, cache)`; `hs` `(N, T, U)` in processing order (a
        non-contiguous view).
    """
    _ready()
    N, T, G = xw.shape
    U = G // 3
    bias = np.zeros(G, np.float32) if rb is None else rb
    if not keep and gru_infer.applies(N, T):
        return gru_infer.forward(xw, h0, R, bias, go_backwards)
    src = xw[:, ::-1] if go_backwards else xw
    S = np.empty((T, N, G), np.float32)
    np.copyto(S, src.transpose(1, 0, 2))
    H = np.empty((T + 1, N, U), np.float32)
    H[0] = h0
    # Without `keep`, Qh is a dummy that the kernel does not write.
    Qh = np.empty((T if keep else 1, N, U), np.float32)
    q = np.empty((N, G), np.float32)
    step = _forward_step
    for t in range(T):
        np.matmul(H[t], R, out=q)
        step(q, bias, S, H, Qh, t, keep)
    hs = H[1:].transpose(1, 0, 2)
    h_T = H[T].copy()
    if not keep:
        return hs, h_T, None
    cache = {"time_major": True, "jit": True, "dims": (N, T, U), "S": S,
             "H": H, "Qh": Qh, "recurrent_kernel": R,
             "has_recurrent_bias": rb is not None,
             "go_backwards": bool(go_backwards)}
    return hs, h_T, cache


def gru_backward(dhs, dh_T, cache):
    """Backward of `gru_forward` (checked gradients, or None); consumes
    the cache.

    Returns:
        `(dxw, dh0, drecurrent_kernel, drecurrent_bias)` as
        `gru_time_major.gru_backward`.
    """
    _ready()
    N, T, U = cache["dims"]
    S, H, Qh, R = cache["S"], cache["H"], cache["Qh"], \
        cache["recurrent_kernel"]
    gb, has_rb = cache["go_backwards"], cache["has_recurrent_bias"]
    cache.clear()
    f32 = np.float32
    carry = np.zeros((N, U), f32) if dh_T is None else \
        np.array(dh_T, dtype=f32, order="C")
    rec = np.zeros((N, U), f32)
    if dhs is None:
        dHs, has_seq = np.zeros((1, 1, U), f32), False
    else:
        dHs, has_seq = np.ascontiguousarray(dhs, dtype=f32), True
    Rt = np.ascontiguousarray(R.T)
    step = _backward_step
    for t in range(T - 1, -1, -1):
        step(S, H, Qh, t, carry, rec, dHs, has_seq)
        np.matmul(S[t], Rt, out=rec)
    carry += rec                                  # dL/dh0
    G = 3 * U
    S2 = S.reshape(T * N, G)
    dR = H[:T].reshape(T * N, U).T @ S2
    drb = S2.sum(axis=0) if has_rb else None
    dxw = np.empty((N, T, G), f32)
    dst = dxw[:, ::-1] if gb else dxw
    dst[..., :2 * U] = S[..., :2 * U].transpose(1, 0, 2)
    dst[..., 2 * U:] = Qh.transpose(1, 0, 2)
    return dxw, carry, dR, drb
