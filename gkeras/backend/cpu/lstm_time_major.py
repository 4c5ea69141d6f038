"""The CPU LSTM's common case on time-major buffers: default activations
(tanh, sigmoid), no mask, no recurrent dropout.

`backend.cpu.rnn` runs every other LSTM through its general step driver,
whose per-step views are rows of the batch-major `(N, T, ...)` arrays. Here
one step's gates, carry, `tanh(carry)` and output are contiguous blocks of
time-major `(T, N, ...)` buffers and every pass is written in place, so a
step costs its recurrent GEMM and about ten short element-wise passes.
NumPy calls cost ~1 us each on these (32, 128) blocks, and a strided or
broadcast operand makes a pass 2-6x slower than a contiguous one, so the
passes run on whole contiguous gate rows wherever the math allows:

- one `tanh` over all 4U gate columns gives every gate: the sigmoid
  gates' pre-activations arrive halved (the input projection and the
  recurrent kernel are scaled once per call) and `* 1/2 + 1/2` over the
  row turns them into `sigmoid(z) = 1/2 + tanh(z/2)/2`; the cell input's
  raw `tanh` is copied out first, and what stays in its column is
  `g' = (1 + g)/2`, whose `g'(1 - g')` is `(1 - g^2)/4`, so the backward's
  activation derivative is ONE `S (1 - S)` pass over the row (the 1/4 is
  folded into the small weight gradients);
- the backward writes the gate gradients into the spent gate buffer, and
  the weight gradients are single GEMMs over all steps afterwards.

`projected_forward`/`projected_backward` also do the input projection:
`x @ W + b` goes straight into the time-major buffer and `dW = X^T dZ`,
`dx = dZ W^T` read it back, so no batch-major `(N, T, 4U)` array is made
or transposed. Inference (`keep=False`) saves nothing and projects a few
steps at a time into one cache-sized block.

The results match the general path and a float64 reference
(tests/test_rnn_primitives.py, tests/test_lstm_time_major.py).
"""

import numpy as np

from gkeras.backend.cpu import lstm_jit

__all__ = ["applies", "lstm_forward", "lstm_backward", "projected_forward",
           "projected_backward"]


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


def _scaled_columns(a, U, i_f_o, c, out=None):
    """`a`'s gate columns (last axis, Keras order `[i|f|c|o]`) times
    `i_f_o` (sigmoid gates) and `c` (cell input); `out` may be a strided
    view (a transposed copy)."""
    if out is None:
        out = np.empty(a.shape, a.dtype)
    for lo, hi, s in ((0, 2 * U, i_f_o), (2 * U, 3 * U, c),
                      (3 * U, 4 * U, i_f_o)):
        if s == 1:
            out[..., lo:hi] = a[..., lo:hi]
        else:
            np.multiply(a[..., lo:hi], s, out=out[..., lo:hi])
    return out


def time_major_inputs(xw, U, go_backwards):
    """`xw` (N, T, 4U) -> (T, N, 4U) in processing order, the sigmoid
    gates' pre-activations halved (see `run_forward`)."""
    src = xw[:, ::-1] if go_backwards else xw
    N, T, G = xw.shape
    xs = np.empty((T, N, G), xw.dtype)
    return _scaled_columns(src.transpose(1, 0, 2), U, 0.5, 1, out=xs)


def run_forward(Z, h0, c0, R, keep, need_seq=True, Rs=None):
    """The recurrence over time-major pre-activations.

    Per step `y = tanh(Z_t + h_{t-1} @ R')` over all 4U columns, where the
    i, f, o columns of `Z` and `R'` are halved, then `y / 2 + 1/2` over the
    whole row: the sigmoid gates for i, f, o and `g' = (1 + g) / 2` for the
    cell input (whose raw tanh `g` is taken before). Keeping `g'` makes the
    backward's activation derivative one `S (1 - S)` pass over the row
    (`g' (1 - g') = (1 - g^2) / 4`). All passes are in place on contiguous
    rows (strided or broadcast operands cost NumPy 2-6x more).

    Args:
        Z: `(T, N, 4U)` input pre-activations (Keras gate order, i, f, o
            columns halved), processing order; overwritten (with the gate
            values, which `run_backward` overwrites with the gradients).
        h0, c0: `(N, U)` contiguous initial states.
        R: `(U, 4U)` Keras-layout recurrent kernel.
        keep: save what `run_backward` needs (training).
        need_seq: (only without `keep`) keep every step's output.
        Rs: `R` with the sigmoid columns halved, when the caller has it
            (blocks of steps reuse it).

    Returns:
        `(H, h_T, c_T, saved)`: `H` `(T, N, U)` outputs (None when neither
        `keep` nor `need_seq`), and `saved` (None without `keep`).
    """
    T, N, G = Z.shape
    U = G // 4
    dtype = Z.dtype
    U2, U3 = 2 * U, 3 * U
    if Rs is None:
        Rs = _scaled_columns(R, U, 0.5, 1)
    r = np.empty((N, G), dtype)
    tmp = np.empty((N, U), dtype)
    if keep:
        Hb = np.empty((T + 1, N, U), dtype)         # h_{t-1} at t
        Cb = np.empty((T + 1, N, U), dtype)         # c_{t-1} at t
        TC = np.empty((T, N, U), dtype)             # tanh(c_t)
        Gb = np.empty((T, N, U), dtype)             # g_t
        Hb[0] = h0
        Cb[0] = c0
        for t in range(T):
            z, g = Z[t], Gb[t]
            np.matmul(Hb[t], Rs, out=r)
            z += r
            np.tanh(z, out=z)
            np.copyto(g, z[:, U2:U3])
            z *= 0.5
            z += 0.5
            c = Cb[t + 1]
            np.multiply(z[:, U:U2], Cb[t], out=c)
            np.multiply(z[:, :U], g, out=tmp)
            c += tmp
            tc = TC[t]
            np.tanh(c, out=tc)
            np.multiply(z[:, U3:], tc, out=Hb[t + 1])
        saved = {"S": Z, "H": Hb, "C": Cb, "TC": TC, "G": Gb}
        return Hb[1:], Hb[T].copy(), Cb[T].copy(), saved
    c = c0.copy()
    g = np.empty((N, U), dtype)
    H = np.empty((T, N, U), dtype) if need_seq else None
    h = h0
    hbuf = np.empty((N, U), dtype)
    for t in range(T):
        z = Z[t]
        np.matmul(h, Rs, out=r)
        z += r
        np.tanh(z, out=z)
        np.copyto(g, z[:, U2:U3])
        z *= 0.5
        z += 0.5
        c *= z[:, U:U2]
        g *= z[:, :U]
        c += g
        np.tanh(c, out=tmp)
        h = H[t] if need_seq else hbuf
        np.multiply(z[:, U3:], tmp, out=h)
    return H, h.copy() if need_seq else h, c, None


def run_backward(dH, dh_T, dc_T, saved, R):
    """Backward of `run_forward(keep=True)`.

    Args:
        dH: `(T, N, U)` gradient of the outputs in processing order, or
            None.
        dh_T, dc_T: `(N, U)` gradients of the final states, or None.
        saved: `run_forward`'s saved activations (the gate buffer is
            overwritten).
        R: the Keras-layout recurrent kernel.

    Returns:
        `(dZ, dh0, dc0, dR)`: `dZ` `(T, N, 4U)` the gradient of the true
        (unscaled) gate pre-activations in processing order, EXCEPT the c
        columns, which hold a quarter of theirs (`scale_cell_grad` fixes
        them; a weight GEMM can fold the 4 into its small result); `dR`
        in Keras layout.
    """
    S, Hb, Cb, TC, Gb = (saved["S"], saved["H"], saved["C"], saved["TC"],
                         saved["G"])
    T, N, G = S.shape
    U = G // 4
    U2, U3 = 2 * U, 3 * U
    dtype = S.dtype
    Gh = np.zeros((N, U), dtype) if dh_T is None else dh_T.copy()
    Dc = np.zeros((N, U), dtype) if dc_T is None else dc_T.copy()
    Dn = np.empty((N, U), dtype)
    tmp = np.empty((N, U), dtype)
    Dt = np.empty((N, G), dtype)
    Rt = _scaled_columns(R, U, 1, 4).T.copy()
    for t in range(T - 1, -1, -1):
        if dH is not None:
            Gh += dH[t]
        z, tc = S[t], TC[t]
        # dL/dc_t = Dc + Gh o (1 - tanh(c)^2) = Dc + Gh (o - h tanh(c))
        np.multiply(Hb[t + 1], tc, out=tmp)
        np.subtract(z[:, U3:], tmp, out=tmp)
        tmp *= Gh
        Dc += tmp
        np.subtract(1.0, z, out=Dt)
        Dt *= z                                     # S (1 - S)
        np.multiply(Dc, z[:, U:U2], out=Dn)         # dL/dc_{t-1}
        # dL/d(gate) into the spent gate row, in an order that reads each
        # gate before its column is overwritten.
        np.multiply(Gh, tc, out=z[:, U3:])          # o
        np.multiply(Dc, z[:, :U], out=z[:, U2:U3])  # c (x 1/4, see Dt)
        np.multiply(Dc, Gb[t], out=z[:, :U])        # i
        np.multiply(Dc, Cb[t], out=z[:, U:U2])      # f
        z *= Dt
        Dc, Dn = Dn, Dc
        np.matmul(z, Rt, out=Gh)                    # dL/dh_{t-1}
    dR = Hb[:T].reshape(T * N, U).T @ S.reshape(T * N, G)
    dR[:, U2:U3] *= 4.0
    return S, Gh, Dc, dR


def scale_cell_grad(dZ, U, out=None):
    """`run_backward`'s `dZ` -> the true gradient (c columns x 4), written
    to `out` (any layout, e.g. a transposed view) or in place."""
    if out is None:
        dZ[..., 2 * U:3 * U] *= 4.0
        return dZ
    return _scaled_columns(dZ, U, 1, 4, out=out)


def lstm_forward(xw, h0, c0, R, go_backwards, keep=True):
    """The LSTM over a sequence (the checked arguments of
    `backend.cpu.rnn.lstm_forward`: `h0`, `c0` `(N, U)` arrays, `R`
    `(U, 4U)` contiguous, all of `xw`'s dtype).

    Args:
        keep: save the activations for `lstm_backward` (False: inference,
            the returned cache is None).

    Returns:
        `(hs, h_T, c_T, cache)` as `backend.cpu.rnn.lstm_forward`; `hs` is
        a batch-major view of a time-major buffer (not contiguous).
    """
    U = R.shape[0]
    xs = time_major_inputs(xw, U, go_backwards)
    H, h_T, c_T, saved = run_forward(xs, h0, c0, R, keep)
    hs = H.transpose(1, 0, 2)
    if not keep:
        return hs, h_T, c_T, None
    cache = {"time_major": True, "saved": saved, "recurrent_kernel": R,
             "go_backwards": bool(go_backwards), "shape": xw.shape}
    return hs, h_T, c_T, cache


def lstm_backward(dhs, dh_T, dc_T, cache):
    """Backward of `lstm_forward` (checked gradients, or None). Consumes
    the cache (its buffers are reused for the gradients).

    Returns:
        `(dxw, dh0, dc0, drecurrent_kernel)` as
        `backend.cpu.rnn.lstm_backward`.
    """
    dH = None if dhs is None else dhs.transpose(1, 0, 2)
    gb = cache["go_backwards"]
    dZ, dh0, dc0, dR = run_backward(dH, dh_T, dc_T, cache["saved"],
                                    cache["recurrent_kernel"])
    cache.clear()
    T, N, G = dZ.shape
    U = G // 4
    dxw = np.empty((N, T, G), dZ.dtype)
    dst = dxw[:, ::-1] if gb else dxw
    scale_cell_grad(dZ.transpose(1, 0, 2), U, out=dst)
    return dxw, dh0, dc0, dR


def projected_forward(x, W, b, h0, c0, R, go_backwards, keep, need_seq):
    """The LSTM with its input projection: `x @ W + b` is computed here,
    straight into the time-major gate buffer (no batch-major `xw` to
    transpose, the projection's scaling folded into the small `W`, `b`).

    Args:
        x: `(N, T, F)` float array.
        W: `(F, 4U)`, `b`: `(4U,)` or None, `R`: `(U, 4U)`; Keras layout,
            `x`'s dtype.
        h0, c0: `(N, U)` contiguous arrays.
        go_backwards: process the sequence reversed.
        keep: save the activations for `projected_backward`.
        need_seq: return every step's output.

    Returns:
        `(hs, h_T, c_T, cache)`: `hs` `(N, T, U)` (a non-contiguous view,
        processing order) or None; `cache` None unless `keep`.
    """
    if lstm_jit.applies(x, W, b, h0, c0, R):
        return lstm_jit.projected_forward(x, W, b, h0, c0, R, go_backwards,
                                          keep, need_seq)
    N, T, F = x.shape
    U = R.shape[0]
    G = 4 * U
    src = x[:, ::-1] if go_backwards else x
    X = np.ascontiguousarray(src.transpose(1, 0, 2)).reshape(T * N, F)
    Ws = _scaled_columns(W, U, 0.5, 1)
    bs = None if b is None else _scaled_columns(b, U, 0.5, 1)
    if not keep:
        return _projected_inference(X.reshape(T, N, F), Ws, bs, h0, c0, R,
                                    need_seq)
    Z = np.matmul(X, Ws)
    if bs is not None:
        Z += bs
    H, h_T, c_T, saved = run_forward(Z.reshape(T, N, G), h0, c0, R, keep,
                                     need_seq)
    hs = H.transpose(1, 0, 2)
    cache = {"saved": saved, "dims": (N, T, U), "x": X, "kernel": W,
             "has_bias": b is not None, "recurrent_kernel": R,
             "go_backwards": bool(go_backwards)}
    return hs, h_T, c_T, cache


def _projected_inference(X, Ws, bs, h0, c0, R, need_seq):
    """`projected_forward` without saving: the projection is computed a
    few steps at a time into one cache-sized block (a GEMM of 256+ rows is
    still at full speed), so the (T, N, 4U) pre-activations never go out
    to memory and back."""
    T, N, _ = X.shape
    U = R.shape[0]
    steps = max(1, min(T, 256 // max(N, 1) + 1, (1 << 19) // (16 * U * N)
                       + 1))
    Z = np.empty((steps * N, 4 * U), X.dtype)
    X2 = X.reshape(T * N, -1)
    H = np.empty((T, N, U), X.dtype) if need_seq else None
    Rs = _scaled_columns(R, U, 0.5, 1)
    h, c = h0, c0
    for t0 in range(0, T, steps):
        n = min(steps, T - t0)
        z = Z[:n * N]
        np.matmul(X2[t0 * N:(t0 + n) * N], Ws, out=z)
        if bs is not None:
            z += bs
        Hc, h, c, _ = run_forward(z.reshape(n, N, 4 * U), h, c, R, False,
                                  need_seq, Rs)
        if need_seq:
            H[t0:t0 + n] = Hc
    return (None if H is None else H.transpose(1, 0, 2)), \
        (h.copy() if need_seq else h), c, None


def projected_backward(dhs, dh_T, dc_T, cache, need_dx=True):
    """Backward of `projected_forward` (gradients checked, or None).
    Consumes the cache.

    The weight gradients are one GEMM each over all time steps:
    `dW = X^T dZ`, `dR = H_prev^T dZ`, `db = 1^T dZ`, `dx = dZ W^T`.

    Returns:
        `(dx, dW, db, dh0, dc0, dR)`; `dx` None unless `need_dx`, `db` None
        without a bias.
    """
    if cache.get("jit"):
        return lstm_jit.projected_backward(dhs, dh_T, dc_T, cache, need_dx)
    X, W, R = cache["x"], cache["kernel"], cache["recurrent_kernel"]
    gb = cache["go_backwards"]
    dH = None if dhs is None else dhs.transpose(1, 0, 2)
    dZ, dh0, dc0, dR = run_backward(dH, dh_T, dc_T, cache["saved"], R)
    has_bias = cache["has_bias"]
    cache.clear()
    T, N, G = dZ.shape
    U = G // 4
    U2, U3 = 2 * U, 3 * U
    dZ = dZ.reshape(T * N, G)
    dW = X.T @ dZ
    dW[:, U2:U3] *= 4.0
    db = None
    if has_bias:
        db = np.ones(T * N, dZ.dtype) @ dZ
        db[U2:U3] *= 4.0
    dx = None
    if need_dx:
        Wt = _scaled_columns(W, U, 1, 4).T
        dX = (dZ @ Wt).reshape(T, N, -1)
        if gb:
            dX = dX[::-1]
        dx = np.ascontiguousarray(dX.transpose(1, 0, 2))
    return dx, dW, db, dh0, dc0, dR
