"""The common float32 GRU (`reset_after=True`, tanh/sigmoid, no mask, no
recurrent dropout) as a feature-major recurrence with one fused JIT pass
per step: `backend.cpu.lstm_jit`'s layout for `gru_time_major`'s case.

State `(U, N)`; all steps' pre-activations are column blocks of one
`(3U, T*N)` buffer (Keras gate order z, r, h); per step the recurrent
GEMM is `R^T h^T` (`(3U, U) @ (U, N)`) and everything else (recurrent
bias, the two sigmoid gates, the candidate, the new state) is one compiled
loop over contiguous rows; the backward's step is one loop and the GEMM
`R dQ`, and `dR` is one GEMM after the loop. Activations use `jit_tanh`
(float32 rational tanh, max abs error 2.7e-7).

Per step: `q = R^T h + rb`, `z, r = sigmoid(x_zr + q_zr)`,
`hh = tanh(x_h + r * q_h)`, `h_t = hh + z * (h_{t-1} - hh)`.

Only float32 with the JIT enabled; otherwise `gru_time_major` runs (the
reference the tests compare with).
"""

import numpy as np

from gkeras.backend.cpu import jit, jit_tanh

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
def _forward_step(q, rb, S, col, H, pcol, hcol, Qh, keep):
    # q (3U, N) = R^T h_{t-1}; S[:, col..] the step's input pre-activations
    # (replaced by z, r, hh with `keep`, q_h then saved in Qh); h_{t-1} at
    # H[:, pcol..], h_t written at H[:, hcol..] (a different block).
    U, N = q.shape[0] // 3, q.shape[1]
    for u in range(U):
        sz = S[u, col:col + N]
        sr = S[U + u, col:col + N]
        sh = S[2 * U + u, col:col + N]
        qz = q[u]
        qr = q[U + u]
        qh = q[2 * U + u]
        bz = rb[u]
        br = rb[U + u]
        bh = rb[2 * U + u]
        hp = H[u, pcol:pcol + N]
        hn = H[u, hcol:hcol + N]
        qs = Qh[u, col:col + N]
        for n in range(N):
            z = _HALF + _HALF * _tanh_nb(_HALF * (sz[n] + qz[n] + bz))
            r = _HALF + _HALF * _tanh_nb(_HALF * (sr[n] + qr[n] + br))
            qhn = qh[n] + bh
            hh = _tanh_nb(sh[n] + r * qhn)
            hn[n] = hh + z * (hp[n] - hh)
            if keep:
                sz[n] = z
                sr[n] = r
                sh[n] = hh
                qs[n] = qhn


@_KERNEL
def _backward_step(S, col, H, Qh, carry, rec, dHs, t, has_seq):
    # dL/dh_t = carry + rec (+ dHs[t]); S[:, col..] holds z, r, hh and is
    # replaced by dL/dq (z, r, h rows; z and r are also the input
    # pre-activation gradients); Qh[:, col..] (q_h) by dL/d(hh
    # pre-activation); carry becomes dL/dh_{t-1}'s direct part.
    U, N = carry.shape
    ts = t if has_seq else 0
    for u in range(U):
        sz = S[u, col:col + N]
        sr = S[U + u, col:col + N]
        sh = S[2 * U + u, col:col + N]
        hp = H[u, col:col + N]
        qs = Qh[u, col:col + N]
        cu = carry[u]
        ru = rec[u]
        dsu = dHs[ts, u if has_seq else 0]
        for n in range(N):
            z = sz[n]
            r = sr[n]
            hh = sh[n]
            g = cu[n] + ru[n] + dsu[n] if has_seq else cu[n] + ru[n]
            b = g * (_ONE - z)
            cu[n] = g * z
            dhh = (_ONE - hh * hh) * b
            sz[n] = (hp[n] - hh) * b * z           # g z (1 - z) (h - hh)
            sr[n] = r * (_ONE - r) * qs[n] * dhh
            sh[n] = dhh * r
            qs[n] = dhh


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
    """`gru_time_major.gru_forward` on the feature-major JIT path (same
    arguments and results within float32 rounding).

    Returns:
        `(hs, h_T, cache)`; `hs` `(N, T, U)` in processing order (a
        non-contiguous view).
    """
    _ready()
    N, T, G = xw.shape
    U = G // 3
    src = xw[:, ::-1] if go_backwards else xw
    # (3U, T*N): column block t is step t's (N,) columns.
    S = np.empty((G, T, N), np.float32)
    np.copyto(S, src.transpose(2, 1, 0))
    S = S.reshape(G, T * N)
    Rt = np.ascontiguousarray(R.T)
    bias = np.zeros(G, np.float32) if rb is None else rb
    H = np.empty((U, (T + 1) * N), np.float32)
    H[:, :N] = h0.T
    Qh = np.empty((U, T * N), np.float32) if keep else \
        np.empty((U, N), np.float32)
    q = np.empty((G, N), np.float32)
    step = _forward_step
    for t in range(T):
        col = t * N
        np.matmul(Rt, H[:, col:col + N], out=q)
        # Without `keep`, Qh is a dummy that the kernel does not write.
        step(q, bias, S, col, H, col, col + N, Qh, keep)
    hs = H[:, N:].reshape(U, T, N).transpose(2, 1, 0)
    h_T = H[:, T * N:].T.copy()
    if not keep:
        return hs, h_T, None
    cache = {"time_major": True, "jit": True, "dims": (N, T, U), "S": S, "H": H, "Qh": Qh,
             "recurrent_kernel": R, "has_recurrent_bias": rb is not None,
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
    # Copies, never views (written; at N=1 a transposed view is
    # contiguous already).
    carry = np.zeros((U, N), f32) if dh_T is None else \
        np.array(dh_T.T, dtype=f32, order="C")
    rec = np.zeros((U, N), f32)
    if dhs is None:
        dHs, has_seq = np.zeros((1, 1, N), f32), False
    else:
        dHs, has_seq = np.ascontiguousarray(
            dhs.transpose(1, 2, 0), dtype=f32), True   # (T, U, N)
    step = _backward_step
    for t in range(T - 1, -1, -1):
        col = t * N
        step(S, col, H, Qh, carry, rec, dHs, t, has_seq)
        np.matmul(R, S[:, col:col + N], out=rec)
    carry += rec                                  # dL/dh0
    dR = np.matmul(H[:, :T * N], S.T)
    drb = S.sum(axis=1) if has_rb else None
    G = 3 * U
    dxw = np.empty((N, T, G), f32)
    dst = dxw[:, ::-1] if gb else dxw
    dst[..., :2 * U] = S[:2 * U].reshape(2 * U, T, N).transpose(2, 1, 0)
    dst[..., 2 * U:] = Qh.reshape(U, T, N).transpose(2, 1, 0)
    return dxw, carry.T.copy(), dR, drb
