"""Inference convolution with its per-channel affine, ReLU and max
pooling applied per block of samples while the block is in cache.

A Conv2D -> BatchNormalization -> ReLU -> MaxPooling2D chain run layer by
layer passes over the full convolution output three more times after the
GEMM (the BatchNorm CNN's first layer at batch 64: 8 MiB each, 2.2 ms of
its 5.0 ms, 1 thread). Here each block of samples' GEMM output (about
`BLOCK_BYTES` of patches) goes through one JIT pass that adds the bias,
applies `y * scale + shift` and ReLU and takes the window maxima, writing
only the (pooled) result. 3x3 stride-1 layers with 16+ input channels
run Winograd F(2x2, 3x3) instead of im2col (see below). For float32 with
a kernel-callable OpenBLAS (`cblas`), each thread's share of the batch is
one nogil compiled call (patches or transforms, GEMMs, epilogue); else
the blocks run from Python on the calling thread (`conv_blocks`).

Measured (1 thread, CPU time, batch 64, the CNN's layers with BN, ReLU
and 2x2 pool; fused against conv_blocks' conv + the three layers, same
run): 32x32x3 -> 32 4.1 vs 7.3 ms, 16x16x32 -> 64 5.5 vs 10.4, 8x8x64 ->
128 4.4 vs 8.3 (a busy machine: absolute times vary by 30%).

NumPy-only extra (no GPU counterpart, not in a family's `__all__`):
`ops.conv_fused` calls it for inference; it returns None for what it does
not handle (the caller runs the layers one by one, the reference path).
The arithmetic is the layers', step for step: `(conv + bias) * scale +
shift` with the BatchNorm's `scale`/`shift` computed as `ops.
batch_normalization` does, ReLU as `max(v, 0)` with NaN propagating, and
max pooling with `cnn_jit`'s NaN and tie rules.
"""

import numpy as np

from gkeras.backend.cpu import cblas, cnn_jit, conv, conv_blocks, jit
from gkeras.backend.cpu.parallel import even_parts, num_threads, run_parts

__all__ = ["conv_affine_relu_pool"]


@jit.kernel
def _epilogue_kernel(y, bias, scale, shift, relu, ph, pw, sh, sw, out):
    """`out[n] = maxpool(relu((y[n] + bias) * scale + shift))` for the
    samples of a block, `y` and `out` as `(pixels, F)` rows of `(nb, yh,
    yw)` and `(nb, oh, ow)` pixels; `ph == 0`: no pooling."""
    nb, yh, yw, oh, ow = y.shape[0], y.shape[1], y.shape[2], out.shape[1], \
        out.shape[2]
    f = y.shape[3]
    y2 = y.reshape(nb * yh * yw, f)
    o2 = out.reshape(nb * oh * ow, f)
    for n in range(nb):
        for i in range(oh):
            for j in range(ow):
                r = (n * oh + i) * ow + j
                s0 = (n * yh + i * sh) * yw + j * sw
                for k in range(f):
                    o2[r, k] = (y2[s0, k] + bias[k]) * scale[k] + shift[k]
                for p in range(ph):
                    for q in range(pw):
                        if p + q > 0:
                            s1 = s0 + p * yw + q
                            for k in range(f):
                                v = (y2[s1, k] + bias[k]) * scale[k] + \
                                    shift[k]
                                # max pooling's rule (cnn_jit): a NaN
                                # wins and stays, of equals the later.
                                b = o2[r, k]
                                o2[r, k] = b if (b > v or b != b) else v
                if relu:
                    # ReLU after the max: it is monotone, so the same
                    # values (NaN stays NaN, any zero becomes +0).
                    for k in range(f):
                        v = o2[r, k]
                        o2[r, k] = 0 if v <= 0 else v


# ---------------------------------------------------------------- Winograd
# F(2x2, 3x3) (Lavin & Gray, 2015) for 3x3, stride 1, undilated layers:
# each 2x2 output tile from the 4x4 input tile around it, as 16 GEMMs of
# (tiles, C) x (C, F) where im2col's one GEMM has K = 9 C, 2.25 times
# fewer multiply-adds. The transforms are exact but round differently
# (float32 results agree to about 1e-6 relative to the terms' sizes);
# a block whose input has a NaN or an inf runs im2col instead, since the
# transforms would spread it (inf - inf) past the 3x3 neighbourhood.
# Channels at or below this run im2col: with K = C the 16 GEMMs are too
# thin for BLAS.
WINOGRAD_MIN_CHANNELS = 16

# Tiles (samples x 2x2 output tiles) from which Winograd beats im2col,
# its weight transform included (1 thread, ms, Winograd vs im2col:
# 16x16x32 -> 64 0.12 vs 0.13 at 64 tiles, 0.80 vs 0.93 at 512; 8x8x64 ->
# 128 0.44 vs 0.44 at 64, 0.66 vs 0.82 at 128, 2.4 vs 3.4 at 512).
WINOGRAD_MIN_TILES = 64

# Transformed input and GEMM outputs per block.
WINOGRAD_BLOCK_BYTES = 1 << 20

# Patches per block of the one-call-a-thread path.
BLOCK_BYTES = 1 << 20

# Patch entries from which few-channel inputs build channel-first patches
# (32x32x3, 3x3 -> 32, 1 thread: 0.16 vs 0.14 ms at batch 1, 0.34 vs
# 0.48 at 4, 0.56 vs 0.91 at 8).
NARROW_MIN_ENTRIES = 1 << 16


# `G g G^T` for all (C, F) pairs at once is one GEMM: row `4 a + b` of
# kron(G, G) times the kernel's 9 taps (row `3 p + q`). Its entries are
# 0, 1, 1/2 and 1/4, exact in any float dtype.
_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5],
               [0.0, 0.0, 1.0]])
_GG = {np.dtype(t): np.kron(_G, _G).astype(t) for t in (np.float32,
                                                        np.float64)}


def _winograd_kernel_transform(kernel):
    """`(3, 3, C, F)` -> the 16 `(C, F)` matrices `G g G^T`, recomputed
    at every call from the current weights (one small GEMM: a JIT loop
    took 0.2-0.4 ms for 64 -> 128 channels, this ~0.05)."""
    c, f = kernel.shape[2:]
    return (_GG[kernel.dtype] @ kernel.reshape(9, c * f)).reshape(16, c, f)


@jit.kernel
def _winograd_input_kernel(x, pt, pl, xp, v):
    """`v[e, t, :]` = `B^T d B` of each 4x4 tile `d` of the zero-padded
    block `x` (`pt`, `pl` cells of padding before); `xp` is scratch
    `(nb, 2 th + 2, 2 tw + 2, C)`. Returns False (nothing usable) when
    the block holds a NaN or an infinity."""
    nb, h, w, c = x.shape
    hp, wp = xp.shape[1], xp.shape[2]
    th, tw = (hp - 2) // 2, (wp - 2) // 2
    xp[:] = 0
    check = 0.0
    for n in range(nb):
        for i in range(h):
            if i + pt >= hp:
                break
            for j in range(w):
                if j + pl >= wp:
                    break
                src = x[n, i, j]
                dst = xp[n, i + pt, j + pl]
                for k in range(c):
                    dst[k] = src[k]
                    check += src[k] * 0
    if check != 0:
        return False
    # Flat rows, so each loop below runs over one contiguous index (the
    # 3-D indexing version did not vectorise: 4.7 ms against 1.2).
    xr = xp.reshape(nb * hp, wp * c)
    v2 = v.reshape(16, v.shape[1] * c)
    tmp = np.empty((4, wp * c), x.dtype)
    for n in range(nb):
        for ty in range(th):
            r = n * hp + 2 * ty
            # B^T d down the 4 rows of the tile row, whole rows at once:
            # (d0 - d2, d1 + d2, d2 - d1, d1 - d3).
            for e in range(wp * c):
                d0 = xr[r, e]
                d1 = xr[r + 1, e]
                d2 = xr[r + 2, e]
                d3 = xr[r + 3, e]
                tmp[0, e] = d0 - d2
                tmp[1, e] = d1 + d2
                tmp[2, e] = d2 - d1
                tmp[3, e] = d1 - d3
            # ... then the same across each tile's 4 columns, the tile
            # row's outputs being runs of `tw * C` in `v`.
            o = (n * th + ty) * tw * c
            for rr in range(4):
                src = tmp[rr]
                v0 = v2[4 * rr, o:o + tw * c]
                v1 = v2[4 * rr + 1, o:o + tw * c]
                v2_ = v2[4 * rr + 2, o:o + tw * c]
                v3 = v2[4 * rr + 3, o:o + tw * c]
                for tx in range(tw):
                    base = 2 * tx * c
                    s = tx * c
                    for k in range(c):
                        d0 = src[base + k]
                        d1 = src[base + c + k]
                        d2 = src[base + 2 * c + k]
                        d3 = src[base + 3 * c + k]
                        v0[s + k] = d0 - d2
                        v1[s + k] = d1 + d2
                        v2_[s + k] = d2 - d1
                        v3[s + k] = d1 - d3
    return True


@jit.kernel
def _winograd_output_kernel(m, y):
    """`y`'s 2x2 tiles `A^T m A` from the 16 `(tiles, F)` GEMM outputs;
    `y` is `(nb, 2 th, 2 tw, F)`.

    A^T down the tiles' columns runs over a whole tile row at once (the
    row's tiles are consecutive in `m`: runs of `tw * F`), then across
    (measured on the CNN's 16x16x64 at batch 64, 1 thread: 1.9 ms with
    five loops of F per tile, see the commit for this one).
    """
    nb, yh, yw, f = y.shape
    th, tw = yh // 2, yw // 2
    run = tw * f
    m2 = m.reshape(16, m.shape[1] * f)
    y3 = y.reshape(nb * yh, yw * f)
    pq = np.empty((8, run), y.dtype)
    for n in range(nb):
        for ty in range(th):
            o = (n * th + ty) * run
            for col in range(4):
                # A^T m: (m0 + m1 + m2, m1 - m2 - m3) down the column.
                r0 = m2[col, o:o + run]
                r1 = m2[4 + col, o:o + run]
                r2 = m2[8 + col, o:o + run]
                r3 = m2[12 + col, o:o + run]
                p = pq[col]
                q = pq[4 + col]
                for e in range(run):
                    b = r1[e]
                    c = r2[e]
                    p[e] = r0[e] + b + c
                    q[e] = b - c - r3[e]
            p0, p1, p2, p3 = pq[0], pq[1], pq[2], pq[3]
            q0, q1, q2, q3 = pq[4], pq[5], pq[6], pq[7]
            top = y3[n * yh + 2 * ty]
            bot = y3[n * yh + 2 * ty + 1]
            for tx in range(tw):
                s = tx * f
                d = 2 * tx * f
                # ... then the same across.
                for k in range(f):
                    top[d + k] = p0[s + k] + p1[s + k] + p2[s + k]
                    top[d + f + k] = p1[s + k] - p2[s + k] - p3[s + k]
                    bot[d + k] = q0[s + k] + q1[s + k] + q2[s + k]
                    bot[d + f + k] = q1[s + k] - q2[s + k] - q3[s + k]


@jit.kernel
def _winograd_output_pool_kernel(m, bias, scale, shift, relu, out):
    """`_winograd_output_kernel` then `_epilogue_kernel` with a 2x2,
    stride-2 pool whose windows are the 2x2 tiles (even output sizes):
    each tile's 4 values go through the affine and the window max without
    being written out (`out` is `(nb, th, tw, F)`)."""
    nb, th, tw, f = out.shape
    run = tw * f
    m2 = m.reshape(16, m.shape[1] * f)
    o3 = out.reshape(nb * th, run)
    pq = np.empty((8, run), out.dtype)
    for n in range(nb):
        for ty in range(th):
            o = (n * th + ty) * run
            for col in range(4):
                r0 = m2[col, o:o + run]
                r1 = m2[4 + col, o:o + run]
                r2 = m2[8 + col, o:o + run]
                r3 = m2[12 + col, o:o + run]
                p = pq[col]
                q = pq[4 + col]
                for e in range(run):
                    b = r1[e]
                    c = r2[e]
                    p[e] = r0[e] + b + c
                    q[e] = b - c - r3[e]
            p0, p1, p2, p3 = pq[0], pq[1], pq[2], pq[3]
            q0, q1, q2, q3 = pq[4], pq[5], pq[6], pq[7]
            dst = o3[n * th + ty]
            for tx in range(tw):
                s = tx * f
                for k in range(f):
                    e = s + k
                    bk, sk, tk = bias[k], scale[k], shift[k]
                    # The window's taps in the epilogue's order, (0, 0),
                    # (0, 1), (1, 0), (1, 1), with its max rule.
                    v = (p0[e] + p1[e] + p2[e] + bk) * sk + tk
                    w = (p1[e] - p2[e] - p3[e] + bk) * sk + tk
                    v = v if (v > w or v != v) else w
                    w = (q0[e] + q1[e] + q2[e] + bk) * sk + tk
                    v = v if (v > w or v != v) else w
                    w = (q1[e] - q2[e] - q3[e] + bk) * sk + tk
                    v = v if (v > w or v != v) else w
                    if relu:
                        v = 0 if v <= 0 else v
                    dst[e] = v


# ------------------------------------------------ one compiled call a thread
# On 2 vCPUs a block loop in Python hands the GIL between threads at every
# call (im2col, GEMM, transforms, epilogue), each hand-over a hypervisor
# wake-up, so the blocks either run on the calling thread (as
# `conv_blocks` does, BLAS threading the GEMMs: the small Winograd GEMMs
# and every other pass then run on one core) or as one nogil kernel per
# thread share, BLAS called from inside (`cblas`), which is this.
_sgemm = None
_im2col = None
_epilogue = None
_win_in = None
_win_out = None
_win_out_pool = None


def _ready():
    global _sgemm, _im2col, _epilogue, _win_in, _win_out, _win_out_pool
    if _sgemm is None:
        njit = jit.inline
        _im2col = njit(cnn_jit._im2col_kernel.py_func)
        _epilogue = njit(_epilogue_kernel.py_func)
        _win_in = njit(_winograd_input_kernel.py_func)
        _win_out = njit(_winograd_output_kernel.py_func)
        _win_out_pool = njit(_winograd_output_pool_kernel.py_func)
        _sgemm = cblas.kernel_functions()[0]


@jit.kernel
def _share_kernel(hd, mode, x, a, b, nbk, cols_t, w, u, bias, scale, shift,
                  relu, ph, pw, psh, psw, oh, ow, kh, kw, sh, sw, pt, pl, dh,
                  dw, out):
    """Samples `a <= n < b` of `conv_affine_relu_pool` (float32), in
    blocks of `nbk`: `mode` 0 im2col, 1 the precomputed channel-first
    patches `cols_t`, 2 Winograd (im2col for a block with a NaN or inf)."""
    c = x.shape[3]
    k, f = w.shape[0], w.shape[1]
    per = oh * ow
    th, tw = (oh + 1) // 2, (ow + 1) // 2
    for s0 in range(a, b, nbk):
        s1 = min(s0 + nbk, b)
        nb = s1 - s0
        xb = x[s0:s1]
        done = False
        if mode == 2:
            t = nb * th * tw
            v = np.empty((16, t, c), np.float32)
            xp = np.empty((nb, 2 * th + 2, 2 * tw + 2, c), np.float32)
            if _win_in(xb, pt, pl, xp, v):
                m = np.empty((16, t, f), np.float32)
                for e in range(16):
                    _sgemm(hd, False, False, t, f, c, 1.0,
                           v.ctypes.data + e * t * c * 4, c,
                           u.ctypes.data + e * c * f * 4, f, 0.0,
                           m.ctypes.data + e * t * f * 4, f)
                v[0, 0, 0] = v[0, 0, 0]         # alive until here
                if ph == 2 and pw == 2 and psh == 2 and psw == 2 and \
                        2 * th == oh and 2 * tw == ow:
                    _win_out_pool(m, bias, scale, shift, relu, out[s0:s1])
                else:
                    y = np.empty((nb, 2 * th, 2 * tw, f), np.float32)
                    _win_out(m, y)
                    _epilogue(y, bias, scale, shift, relu, ph, pw, psh,
                              psw, out[s0:s1])
                done = True
        if not done:
            y = np.empty((nb, oh, ow, f), np.float32)
            if mode == 1:
                _sgemm(hd, True, False, nb * per, f, k, 1.0,
                       cols_t.ctypes.data + s0 * per * 4, cols_t.shape[1],
                       w.ctypes.data, f, 0.0, y.ctypes.data, f)
            else:
                patches = np.empty((nb * per, k), np.float32)
                _im2col(xb, 0, nb, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw,
                        patches)
                _sgemm(hd, False, False, nb * per, f, k, 1.0,
                       patches.ctypes.data, k, w.ctypes.data, f, 0.0,
                       y.ctypes.data, f)
                # A use after the call: numba frees an array after its
                # last use, which `.ctypes.data` would be, and another
                # thread's allocation could take the memory mid-GEMM.
                patches[0, 0] = patches[0, 0]
            _epilogue(y, bias, scale, shift, relu, ph, pw, psh, psw,
                      out[s0:s1])


# Placeholders for the share kernel's unused array arguments.
_DUMMY2 = np.zeros((1, 1), np.float32)
_DUMMY3 = np.zeros((1, 1, 1), np.float32)

# Below this many multiply-adds (16M) a convolution runs on the calling
# thread: a pool hand-off costs ~100 us on a VM, about what 16M
# multiply-adds take on one core.
MIN_PARALLEL_FLOPS = 1 << 24


def _run_shares(n, flops, fn):
    """`fn(a, b)` over one contiguous share of the batch a thread, or one
    share here when small; BLAS on one thread either way (`run_parts`)."""
    parts = min(num_threads(), n) if flops >= MIN_PARALLEL_FLOPS else 1
    run_parts(even_parts(n, parts), fn)


def _pooled(n, size, stride):
    return (n - size) // stride + 1


def conv_affine_relu_pool(x, kernel, bias, scale, shift, relu, pool,
                          strides, pad, dil):
    """`maxpool(relu((conv(x, kernel) + bias) * scale + shift))` for one
    group and 2 spatial dims, in blocks of samples; None when not handled.

    Args:
        x: C-contiguous float32/float64 `(N, H, W, C)`.
        kernel: `(kh, kw, C, F)` of the dtype of `x`.
        bias, scale, shift: `(F,)` arrays of the dtype of `x` (zeros, ones
            and zeros where a layer has none).
        relu: whether to apply ReLU after the affine.
        pool: None, or `(pool_size, pool_strides)` of a 'valid' max pool,
            two ints each.
        strides, dil: two ints; pad: two `(before, after)` pairs.

    Returns:
        The `(N, oh, ow, F)` (or pooled) output, or None.
    """
    if not (jit.enabled() and type(x) is np.ndarray and x.ndim == 4
            and x.dtype in (np.float32, np.float64) and x.size
            and x.flags.c_contiguous and kernel.ndim == 4
            and kernel.shape[2] == x.shape[-1]
            and all(type(v) is np.ndarray and v.dtype == x.dtype
                    and v.shape == (kernel.shape[-1],)
                    for v in (bias, scale, shift))
            and kernel.dtype == x.dtype):
        return None
    n, h, wd, c = x.shape
    kh, kw, _, f = kernel.shape
    # `conv.conv_output_shape` without its argument checks (~10 us, a
    # tenth of a layer at batch 1): the op checked what it passes.
    oh = (h + pad[0][0] + pad[0][1] - dil[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (wd + pad[1][0] + pad[1][1] - dil[1] * (kw - 1) - 1) // strides[1] \
        + 1
    if oh < 1 or ow < 1:
        return None
    out_shape = (n, oh, ow, f)
    if pool is None:
        pp = (0, 0, 1, 1)
        final = out_shape
    else:
        (ph, pw), (sh, sw) = pool
        if oh < ph or ow < pw:
            return None
        pp = (ph, pw, sh, sw)
        final = (n, _pooled(oh, ph, sh), _pooled(ow, pw, sw), f)
    per = oh * ow
    k = kh * kw * c
    w = np.ascontiguousarray(kernel.reshape(k, f))
    out = np.empty(final, x.dtype)
    args = (oh, ow, kh, kw, strides[0], strides[1], pad[0][0], pad[1][0],
            dil[0], dil[1])
    # Few channels: channel-first patches, but not for a few samples,
    # where the NumPy pass's per-tap calls cost more than the copy.
    narrow = c <= conv.NARROW_CHANNELS and n * per * k >= NARROW_MIN_ENTRIES
    if narrow:
        # Few channels: the whole batch's channel-first patches in one
        # NumPy pass (`conv._im2col_narrow`), read per block as an
        # F-ordered matrix.
        cols_t = conv._im2col_narrow(x, (kh, kw), (oh, ow), tuple(strides),
                                     pad, tuple(dil))[0]
    wino = (kh == kw == 3 and tuple(strides) == (1, 1) and tuple(dil) == (
        1, 1) and c >= WINOGRAD_MIN_CHANNELS and n * ((oh + 1) // 2) * (
            (ow + 1) // 2) >= WINOGRAD_MIN_TILES and np.isfinite(
                kernel).all())
    if wino:
        u = _winograd_kernel_transform(kernel)
        th, tw = (oh + 1) // 2, (ow + 1) // 2

    def im2col_block(a, b):
        if narrow:
            patches = cols_t[a * per:b * per]
        else:
            patches = np.empty(((b - a) * per, k), x.dtype)
            cnn_jit._im2col_kernel(x[a:b], 0, b - a, *args, patches)
        y = np.matmul(patches, w)
        _epilogue_kernel(y.reshape(b - a, oh, ow, f), bias, scale, shift,
                         bool(relu), *pp, out[a:b])

    def winograd_block(a, b):
        nb = b - a
        v = np.empty((16, nb * th * tw, c), x.dtype)
        xp = np.empty((nb, 2 * th + 2, 2 * tw + 2, c), x.dtype)
        if not _winograd_input_kernel(x[a:b], pad[0][0], pad[1][0], xp, v):
            return im2col_block(a, b)
        m = np.matmul(v, u)
        y = np.empty((nb, 2 * th, 2 * tw, f), x.dtype)
        _winograd_output_kernel(m, y)
        _epilogue_kernel(y, bias, scale, shift, bool(relu), *pp, out[a:b])

    if x.dtype == np.float32 and cblas.available():
        _ready()
        fn = _share_kernel.dispatcher()
        hd = cblas.handle()
        mode = 2 if wino else (1 if narrow else 0)
        per_sample = (16 * th * tw * (c + f) if wino else per * k) * 4
        nbk = max(1, (WINOGRAD_BLOCK_BYTES if wino else BLOCK_BYTES)
                  // per_sample)
        def share(a, b):
            fn(hd, mode, x, a, b, nbk, cols_t.T if narrow else _DUMMY2, w,
               u if wino else _DUMMY3, bias, scale, shift, bool(relu), *pp,
               *args, out)
        _run_shares(n, n * per * k * f, share)
        return out

    # Blocks of about BLOCK_BYTES of patches (Winograd: of its transformed
    # input and GEMM outputs), as `conv_blocks._run_blocks` runs them.
    if wino:
        conv_blocks._run_blocks(
            n, 16 * th * tw * (c + f) * x.itemsize * conv_blocks.BLOCK_BYTES
            // WINOGRAD_BLOCK_BYTES, winograd_block)
    else:
        conv_blocks._run_blocks(n, per * k * x.itemsize, im2col_block)
    return out
