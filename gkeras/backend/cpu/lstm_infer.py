"""The float32 LSTM's inference forward as ONE compiled call per batch
part: projection, recurrent GEMMs and gate loops of all steps inside a
`nogil` kernel that calls BLAS itself (`backend.cpu.cblas`).

`lstm_jit`'s inference runs each step as `np.matmul` + one kernel call
from Python. On two threads that loop hands the GIL over at every call
(a futex wake-up, tens of us on a 2-vCPU VM), and BLAS-threading the
small per-step GEMM was measured to hurt (LSTM predict 14.1 ms with BLAS
on 1 thread vs 17.9 on 2). Here the batch is cut into one part per
thread (`parallel.run_parts`, one hand-off per sequence) and each part
runs its whole sequence without touching the GIL, BLAS on one thread.

Each part reads its rows of the batch-major input straight (`x[n]` is a
`(T, F)` block, so there is no time-major copy): the projection is one
GEMM over the part's rows when its result fits `BLOCK_BYTES` (else one
GEMM per sample over a block of steps), then per step `r = h_{t-1} R`
(BLAS) and the gate loop of `lstm_jit` (the same rational tanh, same
operation order, so the values match `lstm_jit`'s to the GEMMs'
rounding). The outputs are written batch-major (contiguous).

Measured at N=32, T=100, F=U=128 (CPU time, same process): one part on
1 thread 12.4 ms against `lstm_jit`'s 13.4 (paired 0.92-0.97); a
16-row part (the 2-thread split) 6.4 ms against 7.1, 26.4 vs 28.0 at
T=400; two parts 7.0-7.1 ms wall against 11.3 for one (a quiet moment
of the shared machine). In a model's predict the parts' longest CPU time
is 6.35 ms of the call.

A feature-major part (`r^T = R^T h^T`, states `(U, rows)`, gate loops
along the rows) was built and dropped: its GEMM is faster at 16 rows (28
vs 36 us a step from a kernel) but the whole part took 9.8 vs 7.6 ms (1
thread; the gate loops are 16 long and read 8 rows per unit, and the
projection needs the block's inputs gathered time-major).

Used for float32 inference when `cblas.available()`; otherwise (and for
training, masks, dropout, other dtypes) `lstm_jit` / `lstm_time_major`
run as before, and the tests compare this path with them, with
`jit.disabled()` and with a float64 reference.
"""

import numpy as np

from gkeras.backend.cpu import cblas, jit, jit_tanh, parallel

__all__ = ["applies", "forward", "batch_parts"]

_HALF = jit_tanh.HALF

# Rows a part must have before the batch is split: below, the one thread
# hand-off (60-90 us on the 2-vCPU VM) is near what a part saves.
MIN_PART_ROWS = 4
# Work below which one part runs inline: the hand-off round trip (60-90
# us on the 2-vCPU VM) is ~8 MFLOP of GEMM at ~90 GFLOP/s, and a split
# saves about half the work; a margin of two on top.
MIN_SPLIT_FLOPS = 1 << 25
# The part's block of projected pre-activations (rows x steps x 4U
# floats) stays under this many bytes: the whole sequence in one GEMM when
# it fits (3200x128 @ 128x512, 1 thread: 5.1 ms as one GEMM or 288-row
# blocks, 5.3 as 100-row GEMMs per sample, 7.7 as 16-row ones), else at
# least `MIN_BLOCK_STEPS` steps per sample.
BLOCK_BYTES = 8 << 20
MIN_BLOCK_STEPS = 64

_tanh_nb = None
_sgemm_nb = None


def _ready():
    global _tanh_nb, _sgemm_nb
    if _sgemm_nb is None:
        _tanh_nb = jit_tanh.inlined()
        _sgemm_nb = cblas.kernel_functions()[0]


@jit.kernel(error_model="numpy")
def _run_part(hd, x, W, b, R, h0, c0, n0, n1, gb, steps, Z, r, C, Hp, H,
              hT, cT, need_seq, ids, table, gathered):
    # Rows n0:n1 of the batch over all T steps. Z (rows, steps, 4U): the
    # projected block; r (rows, 4U) the recurrent product; C (2, rows, U)
    # and Hp (2, rows, U) two slots used in turn (the gate loop never
    # writes what it reads); H (N, T, U) the outputs when need_seq. With
    # `gathered` each step reads its row of `table` by token id (`ids`
    # (N, T)) in place of the projection (x is (N, T, 0), Z unused).
    N, T, F = x.shape
    U = R.shape[0]
    G = 4 * U
    U2, U3 = 2 * U, 3 * U
    rows = n1 - n0
    f0 = np.float32(0.0)
    f1 = np.float32(1.0)
    for i in range(rows):
        C[0, i] = c0[n0 + i]
        Hp[0, i] = h0[n0 + i]
    s = steps
    for t in range(T):
        j = t % steps
        if j == 0 and not gathered:
            # Project steps t .. t+s-1 (processing order) of each row; in
            # the input they are times lo .. lo+s-1, reversed if gb.
            s = min(steps, T - t)
            lo = T - t - s if gb else t
            if s == T:
                # The whole sequence: the part's rows are one block.
                _sgemm_nb(hd, False, False, rows * T, G, F, f1,
                          x[n0].ctypes.data, F, W.ctypes.data, G, f0,
                          Z.ctypes.data, G)
            else:
                for i in range(rows):
                    _sgemm_nb(hd, False, False, s, G, F, f1,
                              x[n0 + i, lo:].ctypes.data, F, W.ctypes.data,
                              G, f0, Z[i].ctypes.data, G)
        jz = (s - 1 - j) if gb else j
        k = t & 1
        _sgemm_nb(hd, False, False, rows, G, U, f1, Hp[k].ctypes.data, U,
                  R.ctypes.data, G, f0, r.ctypes.data, G)
        for i in range(rows):
            if gathered:
                zrow = table[ids[n0 + i, T - 1 - t if gb else t]]
            else:
                zrow = Z[i, jz]
            zi = zrow[:U]
            zf = zrow[U:U2]
            zg = zrow[U2:U3]
            zo = zrow[U3:]
            ri = r[i, :U]
            rf = r[i, U:U2]
            rg = r[i, U2:U3]
            ro = r[i, U3:]
            bi = b[:U]
            bf = b[U:U2]
            bg = b[U2:U3]
            bo = b[U3:]
            cp = C[k, i]
            cn = C[1 - k, i]
            hn = H[n0 + i, t] if need_seq else Hp[1 - k, i]
            for u in range(U):
                ig = _HALF + _HALF * _tanh_nb(_HALF * (zi[u] + ri[u] + bi[u]))
                fg = _HALF + _HALF * _tanh_nb(_HALF * (zf[u] + rf[u] + bf[u]))
                gg = _tanh_nb(zg[u] + rg[u] + bg[u])
                og = _HALF + _HALF * _tanh_nb(_HALF * (zo[u] + ro[u] + bo[u]))
                c = fg * cp[u] + ig * gg
                cn[u] = c
                hn[u] = og * _tanh_nb(c)
            if need_seq:
                Hp[1 - k, i] = hn
    k = T & 1
    for i in range(rows):
        cT[n0 + i] = C[k, i]
        hT[n0 + i] = Hp[k, i]


def applies(N, T):
    """Whether `forward` runs (the caller has checked `lstm_jit.applies`).

    Args:
        N, T: batch size and steps.

    Returns:
        True when a kernel-callable BLAS is there.
    """
    return N > 0 and T > 0 and cblas.available()


def batch_parts(N, flops):
    """The batch cut into one part per pool thread (`gru_infer` too).

    Args:
        N: the batch size.
        flops: the GEMM work of the whole sequence (2 * multiply-adds).

    Returns:
        A list of `(start, stop)` row ranges: one when the batch has
        fewer than `2 * MIN_PART_ROWS` rows, the work is under
        `MIN_SPLIT_FLOPS`, or the pool has one thread.
    """
    if flops < MIN_SPLIT_FLOPS:
        return [(0, N)]
    return parallel.even_parts(
        N, min(parallel.num_threads(), N // MIN_PART_ROWS))


def forward(x, W, b, h0, c0, R, go_backwards, need_seq, table=None):
    """`lstm_jit.projected_forward(..., keep=False)` in one compiled call
    per batch part.

    Args:
        x: `(N, T, F)` float32; W `(F, 4U)`, b `(4U,)` float32, R
            `(U, 4U)`; h0, c0 `(N, U)` (all float32). With `table`, `x`
            is the `(N, T)` integer token ids instead.
        go_backwards: process the sequence reversed.
        need_seq: return every step's output.
        table: optional `(V, 4U)` float32 rows of `embeddings @ W`
            (`projection_table`), current for every id in `x`: the
            projection is gathered from it (W is then unused).

    Returns:
        `(hs, h_T, c_T, None)`: `hs` `(N, T, U)` in processing order
        (contiguous) or None.
    """
    _ready()
    U = R.shape[0]
    G = 4 * U
    gathered = table is not None
    if gathered:
        ids = np.ascontiguousarray(x)
        N, T = ids.shape
        F = W.shape[0]
        x = np.empty((N, T, 0), np.float32)
        if table.shape[1] != G:
            raise ValueError(f"lstm_infer.forward: the table must have 4 * "
                             f"units = {G} columns. Received: "
                             f"{table.shape}")
    else:
        N, T, F = x.shape
        x = np.ascontiguousarray(x)
        ids = np.empty((1, 1), np.int32)
        table = np.empty((1, G), np.float32)
    W, R, b = (np.ascontiguousarray(a) for a in (W, R, b))
    h0, c0 = np.ascontiguousarray(h0), np.ascontiguousarray(c0)
    H = np.empty((N, T, U) if need_seq else (1, 1, U), np.float32)
    hT = np.empty((N, U), np.float32)
    cT = np.empty((N, U), np.float32)
    hd = cblas.handle()
    parts = batch_parts(N, 2 * N * T * G * (F + U))
    rows_max = max(n1 - n0 for n0, n1 in parts)
    steps = min(T, max(MIN_BLOCK_STEPS, BLOCK_BYTES // (rows_max * G * 4)))
    kern = _run_part.dispatcher()

    def run(n0, n1):
        rows = n1 - n0
        Z = np.empty((1, 1, G) if gathered else (rows, steps, G),
                     np.float32)
        r = np.empty((rows, G), np.float32)
        C = np.empty((2, rows, U), np.float32)
        Hp = np.empty((2, rows, U), np.float32)
        kern(hd, x, W, b, R, h0, c0, n0, n1, bool(go_backwards), steps, Z,
             r, C, Hp, H, hT, cT, bool(need_seq), ids, table, gathered)

    parallel.run_parts(parts, run)
    return (H if need_seq else None), hT, cT, None
