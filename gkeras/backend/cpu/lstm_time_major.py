"""The CPU LSTM's common case on time-major buffers: default activations
(tanh, sigmoid), no mask, no recurrent dropout.

`backend.cpu.rnn` runs every LSTM through its general step driver, whose
per-step views are rows of the batch-major `(N, T, ...)` arrays. Here one
step's gates, carry, `tanh(carry)` and output are contiguous blocks of
time-major `(T, N, ...)` buffers, and every pass is written in place, so a
step costs its recurrent GEMM, two `exp` passes and a few short
element-wise passes -- about half of the general driver's time. The results
match the general path (tests/test_rnn_primitives.py).

Per step, with the pre-activations of the gate columns negated (and the
cell column doubled) once for the whole sequence,
`sigmoid(z) = 1 / (1 + exp(-z))` for i, f, o and
`tanh(z) = 2 * sigmoid(2 z) - 1` for the cell input come out of one
`exp`, `+ 1`, reciprocal over all 4U columns.
"""

import numpy as np

__all__ = ["applies", "lstm_forward", "lstm_backward"]


def applies(xw, mask, recurrent_dropout_mask, act_codes):
    """Whether this path computes `backend.cpu.rnn.lstm_forward`'s case.

    Args:
        xw: the projected input.
        mask, recurrent_dropout_mask: as given to `lstm_forward`.
        act_codes: `(activation, recurrent_activation)` codes are
            `(tanh, sigmoid)` (the caller resolves them).
    """
    return (act_codes and mask is None and recurrent_dropout_mask is None
            and type(xw) is np.ndarray and xw.dtype.kind == "f")


def _gate_signs(U, dtype):
    """-1 for the i, f, o columns, -2 for the cell column (see module)."""
    s = np.full(4 * U, -1.0, dtype)
    s[2 * U:3 * U] = -2.0
    return s


def lstm_forward(xw, h0, c0, R, go_backwards):
    """The LSTM over a sequence (the checked arguments of
    `backend.cpu.rnn.lstm_forward`: `h0`, `c0` `(N, U)` arrays, `R`
    `(U, 4U)` contiguous, all of `xw`'s dtype).

    Returns:
        `(hs, h_T, c_T, cache)` as `backend.cpu.rnn.lstm_forward`.
    """
    N, T, G = xw.shape
    U = G // 4
    dtype = xw.dtype
    sign = _gate_signs(U, dtype)
    # Time-major, so that each step adds one contiguous block (a strided
    # (N, 4U) row gather costs several times more per step).
    xs = np.empty((T, N, G), dtype)
    np.multiply(xw.transpose(1, 0, 2), sign, out=xs)
    Rs = R * sign
    gates = np.empty((T, N, G), dtype)
    cs = np.empty((T, N, U), dtype)
    tcs = np.empty((T, N, U), dtype)
    hs = np.empty((T, N, U), dtype)
    tmp = np.empty((N, U), dtype)
    h, c = h0, c0
    # exp overflows to inf for strongly saturated units, and 1 / inf gives
    # the right limit (0), so the warning is noise.
    with np.errstate(over="ignore"):
        for t in range(T):
            s = T - 1 - t if go_backwards else t
            z = gates[t]
            np.matmul(h, Rs, out=z)
            z += xs[s]
            np.exp(z, out=z)
            z += 1.0
            np.reciprocal(z, out=z)          # sigmoid; cell column: sig(2z)
            g = z[:, 2 * U:3 * U]
            g *= 2.0
            g -= 1.0                         # tanh
            cn = cs[t]
            np.multiply(z[:, U:2 * U], c, out=cn)
            np.multiply(z[:, :U], g, out=tmp)
            cn += tmp
            tc = tcs[t]
            np.multiply(cn, -2.0, out=tc)    # tanh(c) = 2 / (1 + e^-2c) - 1
            np.exp(tc, out=tc)
            tc += 1.0
            np.divide(2.0, tc, out=tc)
            tc -= 1.0
            hn = hs[t]
            np.multiply(z[:, 3 * U:], tc, out=hn)
            h, c = hn, cn
    cache = {"time_major": True, "gates": gates, "c": cs, "tanh_c": tcs,
             "h": hs, "h0": h0, "c0": c0, "recurrent_kernel": R,
             "go_backwards": bool(go_backwards)}
    return (np.ascontiguousarray(hs.transpose(1, 0, 2)), hs[-1].copy(),
            cs[-1].copy(), cache)


def lstm_backward(dhs, dh_T, dc_T, cache):
    """Backward of `lstm_forward` (checked gradients, or None).

    Returns:
        `(dxw, dh0, dc0, drecurrent_kernel)` as
        `backend.cpu.rnn.lstm_backward`.
    """
    gates, cs, tcs, hs = (cache["gates"], cache["c"], cache["tanh_c"],
                          cache["h"])
    h0, c0, R = cache["h0"], cache["c0"], cache["recurrent_kernel"]
    T, N, G = gates.shape
    U = G // 4
    dtype = gates.dtype
    Gh = np.zeros((N, U), dtype) if dh_T is None else dh_T.copy()
    Dc = np.zeros((N, U), dtype) if dc_T is None else dc_T.copy()
    dz_all = np.empty((T, N, G), dtype)
    tmp = np.empty((N, U), dtype)
    up = np.empty((N, U), dtype)
    Rt = np.ascontiguousarray(R.T)
    for t in range(T - 1, -1, -1):
        if dhs is not None:
            Gh += dhs[:, t]
        z, tc = gates[t], tcs[t]
        c_prev = cs[t - 1] if t else c0
        i, f = z[:, :U], z[:, U:2 * U]
        g, o = z[:, 2 * U:3 * U], z[:, 3 * U:]
        # dc = Dc + dh * o * (1 - tanh(c)^2)
        np.multiply(tc, tc, out=tmp)
        np.subtract(1.0, tmp, out=tmp)
        tmp *= o
        tmp *= Gh
        Dc += tmp
        # d act / dz: s (1 - s) for i, f, o and 1 - g^2 for the cell input
        dz = dz_all[t]
        np.subtract(1.0, z, out=dz)
        dz *= z
        dg = dz[:, 2 * U:3 * U]
        np.multiply(g, g, out=dg)
        np.subtract(1.0, dg, out=dg)
        for col, a, b in ((0, Dc, g), (1, Dc, c_prev), (2, Dc, i),
                          (3, Gh, tc)):
            np.multiply(a, b, out=up)
            dz[:, col * U:(col + 1) * U] *= up
        Dc *= f
        np.matmul(dz, Rt, out=Gh)            # dh_{t-1}
    hprev = np.empty_like(hs)
    hprev[0] = h0
    hprev[1:] = hs[:-1]
    dR = hprev.reshape(T * N, U).T @ dz_all.reshape(T * N, G)
    dxw = dz_all[::-1] if cache["go_backwards"] else dz_all
    return np.ascontiguousarray(dxw.transpose(1, 0, 2)), Gh, Dc, dR
