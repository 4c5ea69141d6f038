"""The CPU GRU's common case on time-major buffers: Keras 3's default
`reset_after=True`, tanh/sigmoid, no mask, no recurrent dropout.

The same idea as `backend.cpu.lstm_time_major`: the general step driver of
`backend.cpu.rnn` reads and writes each step as rows of batch-major
`(N, T, ...)` arrays (rows 200 KB apart) and allocates temporaries per
step; here each step's gates and state are contiguous blocks of
time-major buffers, every pass is in place, the sigmoid gates come from
one `tanh` (`1/2 + tanh(z/2)/2`, the z, r columns halved once per call),
and the recurrent-kernel gradient is one GEMM over all steps. The results
match the general path (tests/test_gru_time_major.py).

Per step (Keras gate order z, r, h):
`q = h_{t-1} @ R + rb`, `z, r = sigmoid(x_zr + q_zr)`,
`hh = tanh(x_h + r * q_h)`, `h_t = hh + z * (h_{t-1} - hh)`.
"""

import numpy as np

from gkeras.backend.cpu import gru_jit

__all__ = ["applies", "gru_forward", "gru_backward"]


def applies(xw, mask, recurrent_dropout_mask, act_codes, reset_after):
    """Whether this path computes `backend.cpu.rnn.gru_forward`'s case
    (`act_codes`: the activations are tanh and sigmoid)."""
    return (act_codes and reset_after and mask is None
            and recurrent_dropout_mask is None
            and type(xw) is np.ndarray and xw.dtype.kind == "f")


def _halve_zr(a, U, out=None):
    """`a`'s z, r columns (last axis) halved, h copied; `out` may be a
    strided view."""
    if out is None:
        out = np.empty(a.shape, a.dtype)
    np.multiply(a[..., :2 * U], 0.5, out=out[..., :2 * U])
    out[..., 2 * U:] = a[..., 2 * U:]
    return out


def gru_forward(xw, h0, R, rb, go_backwards, keep=True):
    """The GRU over a sequence (checked arguments of
    `backend.cpu.rnn.gru_forward`: `h0` `(N, U)`, `R` `(U, 3U)` contiguous,
    `rb` `(3U,)` or None, all of `xw`'s dtype).

    Args:
        keep: save the activations for `gru_backward` (False: inference,
            the cache is None).

    Returns:
        `(hs, h_T, cache)`; `hs` a batch-major view of a time-major buffer.
    """
    if gru_jit.applies(xw, h0, R, rb):
        return gru_jit.gru_forward(xw, h0, R, rb, go_backwards, keep)
    N, T, G = xw.shape
    U = G // 3
    U2 = 2 * U
    dtype = xw.dtype
    src = xw[:, ::-1] if go_backwards else xw
    S = np.empty((T, N, G), dtype)
    _halve_zr(src.transpose(1, 0, 2), U, out=S)
    Rs = _halve_zr(R, U)
    rbs = None if rb is None else _halve_zr(rb, U)
    Hb = np.empty((T + 1, N, U), dtype)
    Hb[0] = h0
    Qh = np.empty((T, N, U), dtype) if keep else None
    q = np.empty((N, G), dtype)
    tmp = np.empty((N, U), dtype)
    for t in range(T):
        s = S[t]
        np.matmul(Hb[t], Rs, out=q)
        if rbs is not None:
            q += rbs
        zr = s[:, :U2]
        zr += q[:, :U2]
        np.tanh(zr, out=zr)
        zr *= 0.5
        zr += 0.5                                   # z, r
        qh = q[:, U2:]
        if keep:
            np.copyto(Qh[t], qh)
        hh = s[:, U2:]
        np.multiply(s[:, U:U2], qh, out=tmp)
        hh += tmp
        np.tanh(hh, out=hh)
        hn = Hb[t + 1]
        np.subtract(Hb[t], hh, out=hn)
        hn *= s[:, :U]
        hn += hh
    hs = Hb[1:].transpose(1, 0, 2)
    if not keep:
        return hs, Hb[T].copy(), None
    cache = {"time_major": True, "dims": (N, T, U), "S": S, "H": Hb,
             "Qh": Qh, "recurrent_kernel": R,
             "has_recurrent_bias": rb is not None,
             "go_backwards": bool(go_backwards)}
    return hs, Hb[T].copy(), cache


def gru_backward(dhs, dh_T, cache):
    """Backward of `gru_forward` (checked gradients, or None); consumes
    the cache.

    Returns:
        `(dxw, dh0, drecurrent_kernel, drecurrent_bias)` as
        `backend.cpu.rnn.gru_backward`.
    """
    if cache.get("jit"):
        return gru_jit.gru_backward(dhs, dh_T, cache)
    S, Hb, Qh, R = cache["S"], cache["H"], cache["Qh"], \
        cache["recurrent_kernel"]
    gb, has_rb = cache["go_backwards"], cache["has_recurrent_bias"]
    cache.clear()
    T, N, G = S.shape
    U = G // 3
    U2 = 2 * U
    dtype = S.dtype
    dH = None if dhs is None else dhs.transpose(1, 0, 2)
    Gh = np.zeros((N, U), dtype) if dh_T is None else dh_T.copy()
    DQ = np.empty((T, N, G), dtype)       # dL/dq (the recurrent GEMM's)
    Dhh = np.empty((T, N, U), dtype)      # dL/d(hh pre-activation)
    a = np.empty((N, U), dtype)
    b = np.empty((N, U), dtype)
    c = np.empty((N, U), dtype)
    rec = np.empty((N, U), dtype)
    Rt = np.ascontiguousarray(R.T)
    for t in range(T - 1, -1, -1):
        if dH is not None:
            Gh += dH[t]
        s, dq, dhh = S[t], DQ[t], Dhh[t]
        z, r, hh = s[:, :U], s[:, U:U2], s[:, U2:]
        np.subtract(1.0, z, out=b)
        b *= Gh                                     # G (1 - z)
        Gh *= z                                     # carry through z
        np.multiply(hh, hh, out=a)
        np.subtract(1.0, a, out=a)
        np.multiply(a, b, out=dhh)                  # d hh_pre
        np.subtract(Hb[t], hh, out=c)
        c *= b
        np.multiply(c, z, out=dq[:, :U])            # d z_pre
        np.subtract(1.0, r, out=a)
        a *= r
        a *= Qh[t]
        np.multiply(a, dhh, out=dq[:, U:U2])        # d r_pre
        np.multiply(dhh, r, out=dq[:, U2:])         # d q_h
        np.matmul(dq, Rt, out=rec)
        Gh += rec                                   # dL/dh_{t-1}
    TN = T * N
    DQ2 = DQ.reshape(TN, G)
    dR = Hb[:T].reshape(TN, U).T @ DQ2
    drb = np.ones(TN, dtype) @ DQ2 if has_rb else None
    dxw = np.empty((N, T, G), dtype)
    dst = dxw[:, ::-1] if gb else dxw
    dst[..., :U2] = DQ[..., :U2].transpose(1, 0, 2)
    dst[..., U2:] = Dhh.transpose(1, 0, 2)
    return dxw, Gh, dR, drb
