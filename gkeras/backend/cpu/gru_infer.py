"""The float32 GRU's inference forward as ONE compiled call per batch
part, BLAS called from the kernel (`backend.cpu.cblas`), as
`lstm_infer` does for the LSTM.

`gru_jit`'s inference runs each step as `np.matmul` plus one kernel call
from Python: on two threads that hands the GIL over at every call and
BLAS-threads a small GEMM. Here the batch is cut into one part per pool
thread (`lstm_infer.batch_parts`, one hand-off per sequence) and each
part runs all its steps inside a `nogil` kernel with BLAS on one thread.
Each part reads its rows of the batch-major `xw` in place (no time-major
copy) and writes the outputs batch-major. The step is `gru_jit`'s loop
(same operation order), so the values equal its to the GEMMs' rounding.

Used for float32 inference when `cblas.available()`; training and every
other case keep `gru_jit` / `gru_time_major`.
"""

import numpy as np

from gkeras.backend.cpu import cblas, jit, jit_tanh, lstm_infer, parallel

__all__ = ["applies", "forward"]

_HALF = jit_tanh.HALF

_tanh_nb = None
_sgemm_nb = None


def _ready():
    global _tanh_nb, _sgemm_nb
    if _sgemm_nb is None:
        _tanh_nb = jit_tanh.inlined()
        _sgemm_nb = cblas.kernel_functions()[0]


@jit.kernel(error_model="numpy")
def _run_part(hd, xw, rb, R, h0, n0, n1, gb, q, Hp, H, hT, ids, table, ib,
              xs, gathered):
    # Rows n0:n1 over all T steps: q (rows, 3U) = h_{t-1} R; Hp (2, rows,
    # U) the state in two slots used in turn; H (N, T, U) the outputs in
    # processing order. With `gathered` the step's pre-activations are
    # the `table` row of its token id (`ids` (N, T)) plus `ib`, the
    # input bias, added as `xw = x @ W + ib` adds it (into the scratch
    # rows `xs`; xw unused).
    T = H.shape[1]
    G = R.shape[1]
    U = G // 3
    U2 = 2 * U
    rows = n1 - n0
    f0 = np.float32(0.0)
    f1 = np.float32(1.0)
    for i in range(rows):
        Hp[0, i] = h0[n0 + i]
    for t in range(T):
        ts = T - 1 - t if gb else t
        k = t & 1
        _sgemm_nb(hd, False, False, rows, G, U, f1, Hp[k].ctypes.data, U,
                  R.ctypes.data, G, f0, q.ctypes.data, G)
        for i in range(rows):
            if gathered:
                srow = xs[i]
                trow = table[ids[n0 + i, ts]]
                for u in range(G):
                    srow[u] = trow[u] + ib[u]
            else:
                srow = xw[n0 + i, ts]
            sz = srow[:U]
            sr = srow[U:U2]
            sh = srow[U2:]
            qz = q[i, :U]
            qr = q[i, U:U2]
            qh = q[i, U2:]
            bz = rb[:U]
            br = rb[U:U2]
            bh = rb[U2:]
            hp = Hp[k, i]
            hn = H[n0 + i, t]
            for u in range(U):
                z = _HALF + _HALF * _tanh_nb(_HALF * (sz[u] + qz[u] + bz[u]))
                r = _HALF + _HALF * _tanh_nb(_HALF * (sr[u] + qr[u] + br[u]))
                hh = _tanh_nb(sh[u] + r * (qh[u] + bh[u]))
                hn[u] = hh + z * (hp[u] - hh)
            Hp[1 - k, i] = hn
    k = T & 1
    for i in range(rows):
        hT[n0 + i] = Hp[k, i]


def applies(N, T):
    """Whether `forward` runs (the caller has checked `gru_jit.applies`).

    Args:
        N, T: batch size and steps.

    Returns:
        True when a kernel-callable BLAS is there.
    """
    return N > 0 and T > 0 and cblas.available()


def forward(xw, h0, R, rb, go_backwards, table=None, input_bias=None):
    """`gru_jit.gru_forward(..., keep=False)` in one compiled call per
    batch part.

    Args:
        xw: `(N, T, 3U)` float32 input pre-activations; h0 `(N, U)`, R
            `(U, 3U)`, rb `(3U,)` float32. With `table`, `xw` is the
            `(N, T)` integer token ids instead.
        go_backwards: process the sequence reversed.
        table: optional `(V, 3U)` float32 rows of `embeddings @ kernel`
            (`projection_table`), current for every id in `xw`; the
            pre-activations are a row plus `input_bias`.
        input_bias: the `(3U,)` input bias added to table rows (None: no
            bias).

    Returns:
        `(hs, h_T, None)`: `hs` `(N, T, U)` in processing order
        (contiguous).
    """
    _ready()
    G = R.shape[1]
    U = G // 3
    gathered = table is not None
    if gathered:
        ids = np.ascontiguousarray(xw)
        N, T = ids.shape
        xw = np.empty((1, 1, G), np.float32)
        if table.shape[1] != G:
            raise ValueError(f"gru_infer.forward: the table must have 3 * "
                             f"units = {G} columns. Received: "
                             f"{table.shape}")
        ib = np.zeros(G, np.float32) if input_bias is None else \
            np.ascontiguousarray(input_bias)
    else:
        N, T = xw.shape[0], xw.shape[1]
        xw = np.ascontiguousarray(xw)
        ids = np.empty((1, 1), np.int32)
        table = np.empty((1, G), np.float32)
        ib = np.empty(G, np.float32)
    R, rb, h0 = (np.ascontiguousarray(a) for a in (R, rb, h0))
    H = np.empty((N, T, U), np.float32)
    hT = np.empty((N, U), np.float32)
    hd = cblas.handle()
    kern = _run_part.dispatcher()

    def run(n0, n1):
        q = np.empty((n1 - n0, G), np.float32)
        Hp = np.empty((2, n1 - n0, U), np.float32)
        xs = np.empty((n1 - n0 if gathered else 1, G), np.float32)
        kern(hd, xw, rb, R, h0, n0, n1, bool(go_backwards), q, Hp, H, hT,
             ids, table, ib, xs, gathered)

    parallel.run_parts(lstm_infer.batch_parts(N, 2 * N * T * G * U), run)
    return H, hT, None
