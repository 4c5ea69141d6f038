"""The common float32 LSTM (tanh/sigmoid, no mask, no recurrent dropout,
input projection inside) as a feature-major recurrence with one fused JIT
pass per step.

`backend.cpu.lstm_time_major` (the NumPy reference) runs a step as the
recurrent GEMM `h @ R` on `(N, U)` states and ~10 element-wise NumPy calls
(~25 us a step at N=32, U=128). Here every buffer is feature-major: the
state is `(U, N)`, a step's gates `(4U, N)`, and all steps sit side by
side as column blocks of `(4U, T*N)` / `(U, (T+1)*N)` buffers, so

- the recurrent GEMM is `R^T h^T` (`(4U, U) @ (U, N)`), which OpenBLAS
  runs 1.2-1.6x faster than `h @ R` at N=32, U=128, and the backward's
  `R dZ` is its mirror;
- the input projection for all steps is ONE GEMM `W^T X^T` straight into
  the gate buffer, and the weight gradients are one GEMM each after the
  loop (`dR = H_prev dZ^T`, `dW = X^T dZ^T`), as before;
- a step's element-wise work (bias, four gate activations, cell, output;
  in the backward the gate and cell gradients) is ONE compiled loop over
  contiguous rows (`jit.kernel`, vectorised): 16-23 us forward and
  9-16 us backward at N=32, U=128 measured on a loaded machine (1 thread,
  CPU time), against ~25 us quiet for the NumPy calls.

The activations use `jit_tanh` (Eigen's float32 rational tanh, which
vectorises where numba's libm `tanh` does not; max abs error 2.7e-7), with
`sigmoid(z) = 1/2 + tanh(z/2)/2`. NaN propagates, +-inf saturate.

Only float32 takes this path (the approximation is float32-accurate);
float64 and `GKERAS_CPU_JIT=0` run `lstm_time_major`, which the tests
compare this path with, together with a float64 reference.
"""

import numpy as np

from gkeras.backend.cpu import jit, jit_tanh

__all__ = ["applies", "projected_forward", "projected_backward",
           "fast_tanh_into"]

_HALF = jit_tanh.HALF
_ONE = jit_tanh.ONE

# Kernels: float divisions must not raise (numpy error model) or the
# loops stay scalar.
_KERNEL = jit.kernel(error_model="numpy")


# `jit_tanh.tanh` compiled for inlining into the kernels; set by
# `_ready()` before the first kernel compiles (numba is imported only
# through `jit`).
_tanh_nb = None


def _ready():
    global _tanh_nb
    if _tanh_nb is None:
        _tanh_nb = jit_tanh.inlined()


@_KERNEL
def _tanh_1d(x, out):
    for i in range(x.shape[0]):
        out[i] = _tanh_nb(x[i])


@_KERNEL
def _forward_step(r, Z, zcol, b, C, pcol, ccol, H, hcol, keep):
    # Gates from r + Z[:, zcol:zcol+N] + b and c_{t-1} at C[:, pcol..]
    # give c_t at C[:, ccol..] (a different block) and h_t at
    # H[:, hcol..]; with `keep` the gate activations replace the
    # pre-activations (the backward's input).
    U, N = r.shape[0] // 4, r.shape[1]
    for u in range(U):
        zi = Z[u, zcol:zcol + N]
        zf = Z[U + u, zcol:zcol + N]
        zg = Z[2 * U + u, zcol:zcol + N]
        zo = Z[3 * U + u, zcol:zcol + N]
        ri = r[u]
        rf = r[U + u]
        rg = r[2 * U + u]
        ro = r[3 * U + u]
        bi = b[u]
        bf = b[U + u]
        bg = b[2 * U + u]
        bo = b[3 * U + u]
        cp = C[u, pcol:pcol + N]
        cn = C[u, ccol:ccol + N]
        hn = H[u, hcol:hcol + N]
        for n in range(N):
            i = _HALF + _HALF * _tanh_nb(_HALF * (zi[n] + ri[n] + bi))
            f = _HALF + _HALF * _tanh_nb(_HALF * (zf[n] + rf[n] + bf))
            g = _tanh_nb(zg[n] + rg[n] + bg)
            o = _HALF + _HALF * _tanh_nb(_HALF * (zo[n] + ro[n] + bo))
            c = f * cp[n] + i * g
            cn[n] = c
            hn[n] = o * _tanh_nb(c)
            if keep:
                zi[n] = i
                zf[n] = f
                zg[n] = g
                zo[n] = o


@_KERNEL
def _backward_step(Z, zcol, C, ccol, dh, dc, dHs, t, has_seq):
    # Z[:, zcol..] holds the gates (i, f, g, o), replaced by the
    # pre-activation gradients; C[:, ccol-N..] / C[:, ccol..] are c_{t-1}
    # / c_t; dh (+ dHs[t]) the output gradient; dc the carry gradient,
    # replaced by dL/dc_{t-1}. tanh(c_t) is recomputed (cheaper than a
    # saved buffer's memory traffic).
    U, N = dh.shape
    ts = t if has_seq else 0
    for u in range(U):
        zi = Z[u, zcol:zcol + N]
        zf = Z[U + u, zcol:zcol + N]
        zg = Z[2 * U + u, zcol:zcol + N]
        zo = Z[3 * U + u, zcol:zcol + N]
        cp = C[u, ccol - N:ccol]
        cn = C[u, ccol:ccol + N]
        dhu = dh[u]
        dcu = dc[u]
        dsu = dHs[ts, u if has_seq else 0]
        for n in range(N):
            i = zi[n]
            f = zf[n]
            g = zg[n]
            o = zo[n]
            tc = _tanh_nb(cn[n])
            gh = dhu[n] + dsu[n] if has_seq else dhu[n]
            d = dcu[n] + gh * o * (_ONE - tc * tc)
            dcu[n] = d * f
            zo[n] = gh * tc * o * (_ONE - o)
            zi[n] = d * g * i * (_ONE - i)
            zg[n] = d * i * (_ONE - g * g)
            zf[n] = d * cp[n] * f * (_ONE - f)


_KERNELS = {"tanh_1d": _tanh_1d, "forward_step": _forward_step,
            "backward_step": _backward_step}


def _k(name):
    _ready()
    return _KERNELS[name]


def fast_tanh_into(x, out):
    """The kernels' float32 tanh over a 1-D float32 array (for tests).

    Args:
        x: contiguous 1-D float32 array.
        out: float32 array of the same shape, written.

    Returns:
        `out`.
    """
    _k("tanh_1d")(x, out)
    return out


def applies(x, *arrays):
    """Whether this path runs `lstm_time_major.projected_forward`'s case.

    Args:
        x: the `(N, T, F)` input.
        *arrays: the weights and states (None allowed).

    Returns:
        True when the JIT is enabled and everything is float32 NumPy.
    """
    if not jit.enabled() or type(x) is not np.ndarray or \
            x.dtype != np.float32 or x.shape[0] == 0 or x.shape[1] == 0:
        return False
    return all(a is None or (type(a) is np.ndarray and a.dtype == np.float32)
               for a in arrays)


def _time_major(x, go_backwards):
    N, T, F = x.shape
    src = x[:, ::-1] if go_backwards else x
    return np.ascontiguousarray(src.transpose(1, 0, 2)).reshape(T * N, F)


def projected_forward(x, W, b, h0, c0, R, go_backwards, keep, need_seq):
    """`lstm_time_major.projected_forward` on the feature-major JIT path
    (same arguments, same results within float32 rounding).

    Args:
        x: `(N, T, F)` float32; W `(F, 4U)`, b `(4U,)` or None, R
            `(U, 4U)` Keras layout; h0, c0 `(N, U)`.
        go_backwards: process the sequence reversed.
        keep: save the activations for `projected_backward`.
        need_seq: return every step's output.

    Returns:
        `(hs, h_T, c_T, cache)`: `hs` `(N, T, U)` in processing order (a
        non-contiguous view) or None; `cache` None unless `keep`.
    """
    N, T, F = x.shape
    U = R.shape[0]
    G = 4 * U
    X = _time_major(x, go_backwards)
    Wt = W.T
    Rt = np.ascontiguousarray(R.T)
    bias = np.zeros(G, np.float32) if b is None else b
    step = _k("forward_step")
    r = np.empty((G, N), np.float32)
    if not keep:
        return _inference(X, Wt, Rt, bias, h0, c0, need_seq, T, N)
    Z = np.matmul(Wt, X.T)                       # (4U, T*N)
    Hb = np.empty((U, (T + 1) * N), np.float32)  # block t: h_{t-1}
    Cb = np.empty((U, (T + 1) * N), np.float32)  # block t: c_{t-1}
    Hb[:, :N] = h0.T
    Cb[:, :N] = c0.T
    for t in range(T):
        col = t * N
        np.matmul(Rt, Hb[:, col:col + N], out=r)
        step(r, Z, col, bias, Cb, col, col + N, Hb, col + N, True)
    hs = Hb[:, N:].reshape(U, T, N).transpose(2, 1, 0)
    cache = {"jit": True, "dims": (N, T, U), "Z": Z, "H": Hb, "C": Cb,
             "x": X, "kernel": W, "has_bias": b is not None,
             "recurrent_kernel": R, "go_backwards": bool(go_backwards)}
    return hs, Hb[:, T * N:].T.copy(), Cb[:, T * N:].T.copy(), cache


def _inference(X, Wt, Rt, bias, h0, c0, need_seq, T, N):
    """The forward without saving: the projection a few steps at a time
    into a cache-sized block (as `lstm_time_major` does), one state
    buffer, outputs only when asked."""
    G, U = Rt.shape
    steps = max(1, min(T, 256 // max(N, 1) + 1,
                       (1 << 19) // (16 * U * N) + 1))
    step = _k("forward_step")
    r = np.empty((G, N), np.float32)
    # Two carry blocks used in turn: writing c_t over c_{t-1} in place
    # would make LLVM's overlap check fail and run the loop scalar
    # (measured 82-91 vs ~20 us a step).
    C = np.empty((U, 2 * N), np.float32)
    C[:, :N] = c0.T
    if need_seq:
        H = np.empty((U, (T + 1) * N), np.float32)
    else:
        H = np.empty((U, N), np.float32)
    H[:, :N] = h0.T
    Zb = None
    for t0 in range(0, T, steps):
        n = min(steps, T - t0)
        if Zb is None or Zb.shape[1] != n * N:
            Zb = np.empty((G, n * N), np.float32)
        np.matmul(Wt, X[t0 * N:(t0 + n) * N].T, out=Zb)
        for j in range(n):
            hcol = (t0 + j + 1) * N if need_seq else 0
            hprev = hcol - N if need_seq else 0
            np.matmul(Rt, H[:, hprev:hprev + N], out=r)
            k = (t0 + j) & 1
            step(r, Zb, j * N, bias, C, k * N, (1 - k) * N, H, hcol,
                 False)
    if need_seq:
        hs = H[:, N:].reshape(U, T, N).transpose(2, 1, 0)
        h_T = H[:, T * N:].T.copy()
    else:
        hs = None
        h_T = H.T.copy()
    k = T & 1
    return hs, h_T, C[:, k * N:(k + 1) * N].T.copy(), None


def projected_backward(dhs, dh_T, dc_T, cache, need_dx=True):
    """Backward of `projected_forward` (checked gradients, or None);
    consumes the cache. As `lstm_time_major.projected_backward`.

    Returns:
        `(dx, dW, db, dh0, dc0, dR)`; `dx` None unless `need_dx`, `db`
        None without a bias.
    """
    N, T, U = cache["dims"]
    Z, Hb, Cb, X = cache["Z"], cache["H"], cache["C"], cache["x"]
    W, R = cache["kernel"], cache["recurrent_kernel"]
    gb, has_bias = cache["go_backwards"], cache["has_bias"]
    cache.clear()
    f32 = np.float32
    # Copies (np.array), never views: both are written, and at N=1 a
    # transposed view is already contiguous.
    dh = np.zeros((U, N), f32) if dh_T is None else \
        np.array(dh_T.T, dtype=f32, order="C")
    dc = np.zeros((U, N), f32) if dc_T is None else \
        np.array(dc_T.T, dtype=f32, order="C")
    if dhs is None:
        dHs, has_seq = np.zeros((1, 1, N), f32), False
    else:
        dHs, has_seq = np.ascontiguousarray(
            dhs.transpose(1, 2, 0), dtype=f32), True   # (T, U, N)
    step = _k("backward_step")
    for t in range(T - 1, -1, -1):
        col = t * N
        step(Z, col, Cb, col + N, dh, dc, dHs, t, has_seq)
        np.matmul(R, Z[:, col:col + N], out=dh)  # dL/dh_{t-1}
    dR = np.matmul(Hb[:, :T * N], Z.T)
    dW = np.matmul(X.T, Z.T)
    db = Z.sum(axis=1) if has_bias else None
    dx = None
    if need_dx:
        dX = np.matmul(Z.T, W.T).reshape(T, N, -1)
        if gb:
            dX = dX[::-1]
        dx = np.ascontiguousarray(dX.transpose(1, 0, 2))
    return dx, dW, db, dh.T.copy(), dc.T.copy(), dR
