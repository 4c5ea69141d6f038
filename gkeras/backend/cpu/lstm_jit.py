"""The common float32 LSTM (tanh/sigmoid, no mask, no recurrent dropout,
input projection inside) with one fused JIT pass per step.

`backend.cpu.lstm_time_major` (the NumPy reference) runs a step as the
recurrent GEMM and ~10 element-wise NumPy calls (35-41 us a step at N=32,
U=128, 1 thread, loaded machine). Here a step is the GEMM and ONE
compiled loop over contiguous rows (`jit.kernel`, vectorised): forward
bias, four gate activations, cell and output; backward the gate and carry
gradients (tanh(c_t) recomputed).

The layout is `lstm_time_major`'s time-major batch rows (`Z` `(T, N,
4U)`, the GEMM `h @ R`): each step's block is contiguous, so the kernels
stream it. A feature-major layout (state `(U, N)`, `R^T h^T`, all steps
as column blocks of a `(4U, T*N)` buffer) was built first: its GEMM is
1.2-1.6x faster on 2 threads per the lead's quiet measurement (48-50 vs
57-60 us on 1), but a step's block is 512 rows 12.8 KB apart and the
backward kernel took 46 instead of ~12 us a step (cache misses); its
inference (blocks of steps in cache) measured 14.5-15.3 ms against 13.3
for this one (separate runs).
The projection and the weight gradients are one GEMM each over all steps
(`Z = X W`, `dR = H_prev^T dZ`, `dW = X^T dZ`, `dx = dZ W^T`); inference
projects a few steps at a time into a cache-sized block and gives the
training forward's values bit for bit.

Measured at N=32, T=100, F=U=128, 1 thread, CPU time, interleaved with
the NumPy path on the loaded machine: inference 16.5 -> 13.3 ms (paired
0.68-0.87), forward + backward 45.8 -> 38.4 ms (0.77-0.90).

The activations use `jit_tanh` (Eigen's float32 rational tanh, which
vectorises where numba's libm `tanh` does not; max abs error 2.7e-7), with
`sigmoid(z) = 1/2 + tanh(z/2)/2`. NaN propagates, +-inf saturate.

Inference (`keep=False`) runs `lstm_infer` instead where NumPy's BLAS
can be called from kernels (`cblas.available()`): the whole recurrence in
one `nogil` call per batch part, no per-step GIL traffic or BLAS thread
wake-ups; `_inference` below is its fallback.

Only float32 takes this path (the approximation is float32-accurate);
float64 and `GKERAS_CPU_JIT=0` run `lstm_time_major`, which the tests
compare this path with, together with a float64 reference.
"""

import numpy as np

from gkeras.backend.cpu import jit, jit_tanh, lstm_infer

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
def _forward_step(r, Z, zt, b, c_prev, c_new, h_new, keep):
    # Time-major batch rows: gates from r (N, 4U) = h_{t-1} R, Z[zt] and
    # b; c_prev (N, U) -> c_new, h_new (distinct buffers: an overlap
    # keeps LLVM's loop scalar); with `keep` the gate activations replace
    # Z[zt]. Separate row slices per gate (one row indexed at u, U + u,
    # ... with stores does not vectorise either).
    N, U = r.shape[0], r.shape[1] // 4
    U2, U3 = 2 * U, 3 * U
    for n in range(N):
        zi = Z[zt, n, :U]
        zf = Z[zt, n, U:U2]
        zg = Z[zt, n, U2:U3]
        zo = Z[zt, n, U3:]
        ri = r[n, :U]
        rf = r[n, U:U2]
        rg = r[n, U2:U3]
        ro = r[n, U3:]
        bi = b[:U]
        bf = b[U:U2]
        bg = b[U2:U3]
        bo = b[U3:]
        cp = c_prev[n]
        cn = c_new[n]
        hn = h_new[n]
        for u in range(U):
            i = _HALF + _HALF * _tanh_nb(_HALF * (zi[u] + ri[u] + bi[u]))
            f = _HALF + _HALF * _tanh_nb(_HALF * (zf[u] + rf[u] + bf[u]))
            g = _tanh_nb(zg[u] + rg[u] + bg[u])
            o = _HALF + _HALF * _tanh_nb(_HALF * (zo[u] + ro[u] + bo[u]))
            c = f * cp[u] + i * g
            cn[u] = c
            hn[u] = o * _tanh_nb(c)
            if keep:
                zi[u] = i
                zf[u] = f
                zg[u] = g
                zo[u] = o


@_KERNEL
def _backward_step(Z, t, C, dh, dc, dHs, has_seq):
    # Z[t] holds the gates (i, f, g, o), replaced by the pre-activation
    # gradients; C[t] / C[t + 1] are c_{t-1} / c_t; dh (+ dHs[:, t]) the
    # output gradient; dc the carry gradient, replaced by dL/dc_{t-1}.
    # tanh(c_t) is recomputed (cheaper than a saved buffer's traffic).
    N, U = dh.shape
    U2, U3 = 2 * U, 3 * U
    for n in range(N):
        zi = Z[t, n, :U]
        zf = Z[t, n, U:U2]
        zg = Z[t, n, U2:U3]
        zo = Z[t, n, U3:]
        cp = C[t, n]
        cn = C[t + 1, n]
        dhu = dh[n]
        dcu = dc[n]
        dsu = dHs[n, t if has_seq else 0]
        for u in range(U):
            i = zi[u]
            f = zf[u]
            g = zg[u]
            o = zo[u]
            tc = _tanh_nb(cn[u])
            gh = dhu[u] + dsu[u] if has_seq else dhu[u]
            d = dcu[u] + gh * o * (_ONE - tc * tc)
            dcu[u] = d * f
            zo[u] = gh * tc * o * (_ONE - o)
            zi[u] = d * g * i * (_ONE - i)
            zg[u] = d * i * (_ONE - g * g)
            zf[u] = d * cp[u] * f * (_ONE - f)


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
    """`lstm_time_major.projected_forward` on the JIT path (same
    arguments, same results within float32 rounding).

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
    bias = np.zeros(G, np.float32) if b is None else b
    if not keep and lstm_infer.applies(N, T):
        return lstm_infer.forward(x, W, bias, h0, c0, R, go_backwards,
                                  need_seq)
    X = _time_major(x, go_backwards)
    if not keep:
        return _inference(X, W, R, bias, h0, c0, need_seq, T, N)
    Z = np.matmul(X, W).reshape(T, N, G)
    Hb = np.empty((T + 1, N, U), np.float32)     # Hb[t] = h_{t-1}
    Cb = np.empty((T + 1, N, U), np.float32)     # Cb[t] = c_{t-1}
    Hb[0] = h0
    Cb[0] = c0
    step = _k("forward_step")
    r = np.empty((N, G), np.float32)
    for t in range(T):
        np.matmul(Hb[t], R, out=r)
        step(r, Z, t, bias, Cb[t], Cb[t + 1], Hb[t + 1], True)
    hs = Hb[1:].transpose(1, 0, 2)
    cache = {"jit": True, "dims": (N, T, U), "Z": Z, "H": Hb, "C": Cb,
             "x": X, "kernel": W, "has_bias": b is not None,
             "recurrent_kernel": R, "go_backwards": bool(go_backwards)}
    return hs, Hb[T].copy(), Cb[T].copy(), cache


def _inference(X, W, R, bias, h0, c0, need_seq, T, N):
    """The forward without saving: the projection a few steps at a time
    into a cache-sized block (as `lstm_time_major` does; the same values
    as the training forward, bit for bit), states in two-step buffers
    unless the outputs are asked for."""
    U = R.shape[0]
    G = 4 * U
    steps = max(1, min(T, 256 // max(N, 1) + 1,
                       (1 << 19) // (16 * U * N) + 1))
    step = _k("forward_step")
    r = np.empty((N, G), np.float32)
    # c (and h without the sequence) in two slots used in turn: the
    # kernel never writes over what it reads.
    C = np.empty((2, N, U), np.float32)
    C[0] = c0
    H = np.empty((T + 1 if need_seq else 2, N, U), np.float32)
    H[0] = h0
    Zb = np.empty((steps, N, G), np.float32)
    for t0 in range(0, T, steps):
        n = min(steps, T - t0)
        z = Zb[:n]
        np.matmul(X[t0 * N:(t0 + n) * N], W, out=z.reshape(n * N, G))
        for j in range(n):
            t = t0 + j
            k = t & 1
            hp, hn = (H[t], H[t + 1]) if need_seq else (H[k], H[1 - k])
            np.matmul(hp, R, out=r)
            step(r, z, j, bias, C[k], C[1 - k], hn, False)
    k = T & 1
    hs = H[1:].transpose(1, 0, 2) if need_seq else None
    h_T = H[T].copy() if need_seq else H[k].copy()
    return hs, h_T, C[k].copy(), None


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
    # Copies (np.array), never views: both are written.
    dh = np.zeros((N, U), f32) if dh_T is None else \
        np.array(dh_T, dtype=f32, order="C")
    dc = np.zeros((N, U), f32) if dc_T is None else \
        np.array(dc_T, dtype=f32, order="C")
    if dhs is None:
        dHs, has_seq = np.zeros((1, 1, U), f32), False
    else:
        dHs, has_seq = np.ascontiguousarray(dhs, dtype=f32), True
    Rt = np.ascontiguousarray(R.T)
    step = _k("backward_step")
    for t in range(T - 1, -1, -1):
        step(Z, t, Cb, dh, dc, dHs, has_seq)
        np.matmul(Z[t], Rt, out=dh)              # dL/dh_{t-1}
    TN = T * N
    Z2 = Z.reshape(TN, 4 * U)
    dR = Hb[:T].reshape(TN, U).T @ Z2
    dW = X.T @ Z2
    db = Z2.sum(axis=0) if has_bias else None
    dx = None
    if need_dx:
        dX = (Z2 @ W.T).reshape(T, N, -1)
        if gb:
            dX = dX[::-1]
        dx = np.ascontiguousarray(dX.transpose(1, 0, 2))
    return dx, dW, db, dh, dc, dR
