"""Blockwise scaled dot-product attention kernels (NumPy side).

`attention_forward` / `attention_backward` of `backend.cpu.attention` run
here. The `(B, H, Tq, Tk)` work is cut into blocks of samples, heads or
query rows, each about `BLOCK_ENTRIES` score entries so that a block's
scores stay in cache from the `q k^T` product through the softmax to the
product with `v`. Every block holds complete key rows, so the softmax of
a block is exact (no online rescaling) and memory grows linearly with the
sequence: a block's scores live only while it is processed.

Two ways to feed the backward:

- saved (small score matrices, or when the probabilities are returned):
  the forward writes the probabilities (and dropout keep-mask) of all
  blocks into full `(B, H, Tq, Tk)` arrays, the backward reads them;
- recomputed (flash-attention style): the forward keeps only each row's
  max and `1 / sum(exp)` (two `(B, H, Tq)` arrays, the log-sum-exp split
  so that fully masked rows come back exactly); the backward recomputes a
  block's scores and probabilities from them, and regenerates the dropout
  keep-mask from its counter-based hash.

Blocks are independent and run on `parallel.parallel_map`'s threads (the
backward gives each thread all query blocks of its samples and heads, so
the key and value gradients are summed without sharing).

With the optional JIT (`backend.cpu.jit`), two row passes over a block's
contiguous rows are compiled loops (attention at batch 32, seq 100, 8
heads, 1 thread, CPU time, interleaved pairs):

- forward, float32: `exp` + row sum (+ the normalisation of saved
  probabilities) in one pass with a vectorisable `exp` (`_exp_sum_rows`;
  numba's own `exp` is a scalar libm call, ~20x slower per element than
  NumPy's SIMD one): inference 6.64 -> 6.34 ms (paired 0.95), training
  forward 7.23 -> 6.44 (0.89);
- backward: the softmax gradient `ds = (ds - rowsum(ds * p)) * p` in one
  pass instead of three (`_softmax_grad_rows`): 8.42 -> 8.24 ms (0.94).

A whole fused inference kernel (scores, `exp` and the product with `v`
per query row in numba) was 3x slower than these BLAS blocks and is not
used. The NumPy statements are the reference, used without numba or with
`GKERAS_CPU_JIT=0`.
"""

import numpy as np

from gkeras.backend.cpu import jit
from gkeras.backend.cpu.parallel import parallel_map

__all__ = ["plan_blocks", "keep_block", "blocked_forward", "blocked_backward"]

# Score entries per block: 1 MiB of float32, about a core's L2. Measured
# at seq 100 (batch 32), 1024 and 4096 (batch 1): 256 and 512 KiB blocks
# were up to 1.3x slower (more Python per block), larger ones no faster.
BLOCK_ENTRIES = 1 << 18
# Per-sample score entries up to which the forward saves the probabilities
# for the backward (reading them back is cheaper than recomputing the
# scores while they are this small); beyond it the backward recomputes,
# so memory stays linear in the sequence.
SAVE_ENTRIES = 1 << 18


def softmax_grad_rows(ds, p):
    """`ds = (ds - rowsum(ds * p)) * p` over the rows of 2-D arrays (plain
    Python, compiled into kernels: `_softmax_grad_rows`, `attention_jit`)."""
    n = ds.shape[1]
    for i in range(ds.shape[0]):
        dr, pr = ds[i], p[i]
        t = 0.0
        for j in range(n):
            t += dr[j] * pr[j]
        d = dr[0] * 0 + t
        for j in range(n):
            dr[j] = (dr[j] - d) * pr[j]


@jit.kernel
def _softmax_grad_rows(ds, p):
    """`softmax_grad_rows` as a kernel."""
    _softmax_grad_nb(ds, p)


# Cephes `expf`: exp(x) = 2^t exp(r), r = x - t ln2 (ln2 in two parts),
# exp(r) by a degree-6 polynomial; max relative error ~1-2 ulp.
_LOG2E = np.float32(1.4426950408889634)
_LN2_HI = np.float32(0.693359375)
_LN2_LO = np.float32(-2.12194440e-4)
_EXP_LO = np.float32(-87.33654)   # below: 0 (NumPy: subnormals < 1.2e-38)
_EXP_HI = np.float32(88.0)        # the callers' scores never exceed 80
_EXP_C = tuple(np.float32(c) for c in (
    1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2,
    1.6666665459e-1, 5.0000001201e-1))


def exp_row(row, shift, bits):
    """`row = exp(row - shift)` in place for a float32 row; returns its sum.

    Plain Python, compiled into kernels (`inlined(exp_row)`): the `exp`
    is vectorisable (numba's own is a scalar libm call, ~20x slower than
    NumPy's SIMD one); `2^t` is built in the exponent bits of `bits`
    (int32 scratch of at least the row's length). `row - shift` must be
    <= 88 or NaN (the scores here are below 80 or shifted by their row
    max); NaN stays NaN, -inf and underflow give 0.
    """
    n = row.shape[0]
    pow2 = bits.view(np.float32)
    c0, c1, c2, c3, c4, c5 = _EXP_C
    one = np.float32(1.0)
    for j in range(n):
        x = row[j] - shift
        xc = min(max(x, _EXP_LO), _EXP_HI)
        t = np.floor(xc * _LOG2E + np.float32(0.5))
        r = (xc - t * _LN2_HI) - t * _LN2_LO
        p = c0
        p = p * r + c1
        p = p * r + c2
        p = p * r + c3
        p = p * r + c4
        p = p * r + c5
        p = p * r * r + r + one
        bits[j] = (np.int32(t) + np.int32(127)) << np.int32(23)
        row[j] = x if x != x else (np.float32(0.0) if x < _EXP_LO else p)
    tot = np.float32(0.0)
    for j in range(n):
        e = row[j] * pow2[j]
        row[j] = e
        tot += e
    return tot


def inlined(fn):
    """`fn` (`exp_row`, `softmax_grad_rows`) compiled for inlining into
    kernels (`jit.inline`; bind it to a module global before the first
    kernel that uses it compiles)."""
    return jit.inline(fn)


_exp_row_nb = None
_softmax_grad_nb = None


@jit.kernel
def _exp_sum_rows(s, inv, bits, normalise):
    """float32 rows of `s`: `exp` in place (`exp_row`), `inv = 1 / row
    sum`, and with `normalise` the rows divided by their sums."""
    one = np.float32(1.0)
    for i in range(s.shape[0]):
        row = s[i]
        r_ = one / _exp_row_nb(row, np.float32(0.0), bits)
        inv[i] = r_
        if normalise:
            for j in range(row.shape[0]):
                row[j] *= r_


def _ready():
    global _exp_row_nb, _softmax_grad_nb
    if _exp_row_nb is None:
        _exp_row_nb = inlined(exp_row)
        _softmax_grad_nb = inlined(softmax_grad_rows)


def _rows2d(a):
    """`a` as contiguous 2-D rows (a view), or None."""
    if type(a) is not np.ndarray or not a.flags.c_contiguous or \
            a.dtype not in (np.float32, np.float64) or not a.size:
        return None
    return a.reshape(-1, a.shape[-1])


def _groups(n, g):
    """Slices of `range(n)` in about equal groups of at most `g`."""
    count = -(-n // max(1, g))
    size = -(-n // count)
    return [slice(i, min(n, i + size)) for i in range(0, n, size)]


def plan_blocks(B, H, Tq, Tk, entries=None):
    """Splits `(B, H, Tq, Tk)` attention into tasks of blocks.

    Args:
        B, H, Tq, Tk: batch, heads, query and key lengths.
        entries: score entries per block (default `BLOCK_ENTRIES`).

    Returns:
        A list of `(batch_slice, head_slice, [query_slices])`: several
        whole samples per block when a sample's scores fit, else several
        whole heads of one sample, else query rows of one head.
    """
    e = BLOCK_ENTRIES if entries is None else entries
    full_h, full_q = slice(0, H), [slice(0, Tq)]
    if H * Tq * Tk <= e:
        return [(b, full_h, full_q) for b in _groups(B, e // (H * Tq * Tk))]
    if Tq * Tk <= e:
        return [(slice(b, b + 1), h, full_q) for b in range(B)
                for h in _groups(H, e // (Tq * Tk))]
    qs = _groups(Tq, e // max(Tk, 1))
    return [(slice(b, b + 1), slice(h, h + 1), qs) for b in range(B)
            for h in range(H)]


def keep_block(seed, H, bs, hs, qs, Tk, threshold, mix):
    """The dropout keep-mask of one block (see `dropout_keep_mask`).

    Args:
        seed: Python int.
        H: number of heads of the whole problem.
        bs, hs, qs: the block's batch, head and query slices.
        Tk: key length.
        threshold: `dropout_threshold(rate)`.
        mix: the 32-bit hash finaliser.

    Returns:
        Boolean `(nb, nh, nq, Tk)`, `True` = kept.
    """
    u = np.uint32
    k0 = mix(u(int(seed) & 0xFFFFFFFF) ^ u(0x9E3779B9))
    b = np.arange(bs.start, bs.stop, dtype=u)[:, None]
    h = np.arange(hs.start, hs.stop, dtype=u)[None, :]
    k1 = mix(k0 ^ (b * u(H) + h)[..., None, None])
    k2 = mix(k1 ^ np.arange(qs.start, qs.stop, dtype=u)[:, None])
    r = mix(k2 ^ mix(np.arange(Tk, dtype=u) ^ u(0x632BE5AB)))
    return (r >> u(8)) >= u(threshold)


def _mask4(mask):
    """A boolean mask as a 4-D (broadcastable) array, or None."""
    if mask is None:
        return None
    return mask.reshape((1,) * (4 - mask.ndim) + mask.shape)


def _block_valid(m4, is_causal, bs, hs, qs, Tk):
    """The keep-mask of one block, broadcastable to it, or None."""
    valid = None
    if m4 is not None:
        valid = m4[tuple(sl if n > 1 else slice(None)
                         for sl, n in zip((bs, hs, qs), m4.shape[:3]))]
    if is_causal:  # j <= i, top-left aligned
        c = np.arange(Tk)[None, :] <= np.arange(qs.start, qs.stop)[:, None]
        valid = c if valid is None else np.logical_and(valid, c)
    return valid


def _scores_below(q, k, bound):
    """Whether every score `q_i . k_j` lies in (-bound, bound): the largest
    query norm times the largest key norm (Cauchy-Schwarz) is below it."""
    qn = float(np.einsum("...d,...d->...", q, q).max())
    kn = float(np.einsum("...d,...d->...", k, k).max())
    return qn * kn < bound * bound


class _Problem:
    """Arrays and options shared by the blocks of one attention call."""

    def __init__(self, q, k, v, mask, scale, is_causal, rate, seed,
                 fully_masked, threshold, mix, masked_logit):
        self.q, self.k, self.v = q, k, v
        self.m4 = _mask4(mask)
        self.scale = scale
        self.is_causal = is_causal
        self.rate, self.seed = rate, seed
        self.fully_masked = fully_masked
        self.threshold, self.mix = threshold, mix
        self.masked_logit = masked_logit
        self.dtype = np.result_type(q, k, v)
        self.H, self.Tk = q.shape[1], k.shape[2]

    def keep(self, bs, hs, qs):
        return keep_block(self.seed, self.H, bs, hs, qs, self.Tk,
                          self.threshold, self.mix)

    def scores(self, qb, kt, valid, out=None):
        """Scaled, masked scores of a block (`qb` already scaled)."""
        s = np.matmul(qb, kt, out=out)
        if valid is not None:
            np.copyto(s, self.dtype.type(self.masked_logit), where=~valid)
        return s


def blocked_forward(q, k, v, mask, scale, is_causal, rate, seed,
                    fully_masked, save, out, threshold, mix, masked_logit):
    """Forward over blocks; see the module docstring.

    Args:
        q, k, v: `(B, H, T, D)` arrays (any strides).
        mask: boolean mask broadcastable to the scores, or None.
        scale: the score scale.
        is_causal, rate, seed, fully_masked: as `attention_forward`.
        save: keep the probabilities (and keep-mask) for the backward.
        out: the `(B, H, Tq, Dv)` output array, written here.
        threshold, mix, masked_logit: the dropout threshold, the hash
            finaliser and the masked logit of `backend.cpu.attention`.

    Returns:
        A dict for `blocked_backward`.
    """
    B, H, Tq, _ = q.shape
    Tk = k.shape[2]
    pr = _Problem(q, k, v, mask, scale, is_causal, rate, seed, fully_masked,
                  threshold, mix, masked_logit)
    dt = pr.dtype
    tasks = plan_blocks(B, H, Tq, Tk)
    p_all = pd_all = keep_all = None
    if save:
        p_all = np.empty((B, H, Tq, Tk), dt)
        pd_all = p_all if rate == 0.0 else np.empty_like(p_all)
        keep_all = None if rate == 0.0 else np.empty((B, H, Tq, Tk), bool)
    row_max = np.empty((B, H, Tq), dt)
    row_inv = np.empty((B, H, Tq), dt)
    bounded = {}
    drop_scale = dt.type(1.0 / (1.0 - rate)) if rate else None
    # Read here: `jit.disabled()` is per thread, the blocks run on others.
    use_jit = jit.enabled()
    if use_jit:
        _ready()

    def run(task):
        bs, hs, qsl = task
        kb, vb = k[bs, hs], v[bs, hs]
        kt = np.swapaxes(kb, -1, -2)
        for qs in qsl:
            qb = q[bs, hs, qs] * dt.type(scale)  # scale the small operand
            valid = _block_valid(pr.m4, is_causal, bs, hs, qs, Tk)
            s = pr.scores(qb, kt, valid,
                          out=None if p_all is None else p_all[bs, hs, qs])
            # Unmasked scores bounded by |q| |k| < 80 can neither overflow
            # nor underflow `exp`, and softmax is shift-invariant: the
            # row-max pass and its subtraction are then not needed.
            nomax = valid is None and _scores_below(qb, kb, 80.0)
            bounded[(bs.start, hs.start, qs.start)] = nomax
            if nomax:
                row_max[bs, hs, qs] = 0
            else:
                m = np.max(s, axis=-1, keepdims=True)
                row_max[bs, hs, qs] = m[..., 0]
                s -= m
            s2 = _rows2d(s) if use_jit and dt == np.float32 else None
            if s2 is not None:
                inv = np.empty(s.shape[:-1], dt)
                _exp_sum_rows(s2, inv.reshape(-1),
                              np.empty(s2.shape[1], np.int32),
                              p_all is not None)
                row_inv[bs, hs, qs] = inv
            else:
                np.exp(s, out=s)
                # einsum's row sums beat np.sum over short rows; one
                # reciprocal per row then a multiply beats dividing.
                inv = (1.0 / np.einsum("...j->...", s)).astype(
                    dt, copy=False)
                row_inv[bs, hs, qs] = inv
                if p_all is not None:
                    s *= inv[..., None]
            # else the normalisation goes to the (Dv-wide) output rows.
            if valid is not None and fully_masked == "zero":
                s *= valid
            pd = s
            if rate:
                keep = pr.keep(bs, hs, qs)
                if keep_all is not None:
                    keep_all[bs, hs, qs] = keep
                pd = np.multiply(s, keep, out=s if pd_all is None
                                 else pd_all[bs, hs, qs])
                pd *= drop_scale
            ob = out[bs, hs, qs]
            np.matmul(pd, vb, out=ob)
            if p_all is None:
                ob *= inv[..., None]

    parallel_map(run, tasks)
    return {"problem": pr, "tasks": tasks, "probs": p_all,
            "probs_dropped": pd_all, "keep": keep_all, "row_max": row_max,
            "row_inv": row_inv, "bounded": bounded}


def blocked_backward(dout, blocks, dq, dk, dv):
    """Backward over the forward's blocks, writing `dq`, `dk`, `dv`.

    Args:
        dout: `(B, H, Tq, Dv)` gradient of the output.
        blocks: the dict `blocked_forward` returned.
        dq, dk, dv: output arrays shaped like `q`, `k`, `v`.
    """
    pr = blocks["problem"]
    q, k, v, dt = pr.q, pr.k, pr.v, pr.dtype
    scale = dt.type(pr.scale)
    p_all, pd_all, keep_all = (blocks["probs"], blocks["probs_dropped"],
                               blocks["keep"])
    row_max, row_inv, bounded = (blocks["row_max"], blocks["row_inv"],
                                 blocks["bounded"])
    drop_scale = dt.type(1.0 / (1.0 - pr.rate)) if pr.rate else None
    Tk = pr.Tk
    # Read here: `jit.disabled()` is per thread, the blocks run on others.
    use_jit = jit.enabled()
    if use_jit:
        _ready()

    def run(task):
        bs, hs, qsl = task
        kb, vb = k[bs, hs], v[bs, hs]
        kt, vt = np.swapaxes(kb, -1, -2), np.swapaxes(vb, -1, -2)
        single = len(qsl) == 1
        dk_acc = dk[bs, hs] if single else None
        dv_acc = dv[bs, hs] if single else None
        for qs in qsl:
            dob = dout[bs, hs, qs]
            qb = q[bs, hs, qs] * scale
            valid = _block_valid(pr.m4, pr.is_causal, bs, hs, qs, Tk)
            keep = None
            if p_all is not None:
                p, pd = p_all[bs, hs, qs], pd_all[bs, hs, qs]
                if pr.rate:
                    keep = keep_all[bs, hs, qs]
            else:
                p = pr.scores(qb, kt, valid)
                if not bounded[(bs.start, hs.start, qs.start)]:
                    p -= row_max[bs, hs, qs][..., None]
                np.exp(p, out=p)
                p *= row_inv[bs, hs, qs][..., None]
                if valid is not None and pr.fully_masked == "zero":
                    p *= valid
                pd = p
                if pr.rate:
                    keep = pr.keep(bs, hs, qs)
                    pd = np.multiply(p, keep)
                    pd *= drop_scale
            pdt = np.swapaxes(pd, -1, -2)
            dv_acc = _matmul_into(dv_acc, pdt, dob, single)
            ds = np.matmul(dob, vt)
            if keep is not None:
                ds *= keep
                ds *= drop_scale
            ds2 = _rows2d(ds) if use_jit else None
            p2 = _rows2d(p) if ds2 is not None and p.shape == ds.shape \
                else None
            if p2 is not None and p2.dtype == ds2.dtype:
                _softmax_grad_rows(ds2, p2)
            else:
                rowdot = np.einsum("...j,...j->...", ds, p)
                ds -= rowdot[..., None]
                ds *= p
            if valid is not None:
                ds *= valid
            dqb = dq[bs, hs, qs]
            np.matmul(ds, kb, out=dqb)
            dqb *= scale
            dst = np.swapaxes(ds, -1, -2)
            dk_acc = _matmul_into(dk_acc, dst, qb, single)
        if not single:
            dk[bs, hs] = dk_acc
            dv[bs, hs] = dv_acc

    parallel_map(run, blocks["tasks"])


def _matmul_into(acc, a, b, single):
    """`a @ b` written into `acc` when the block is the only one (`acc` is
    then the output's own view), else added to the running sum `acc`
    (None before the first block). Returns the sum."""
    if single:
        return np.matmul(a, b, out=acc)
    if acc is None:
        return np.matmul(a, b)
    acc += np.matmul(a, b)
    return acc
