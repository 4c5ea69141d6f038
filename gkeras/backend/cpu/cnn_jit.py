"""Fused JIT passes (numba, through `backend.cpu.jit`) of the CNN layers:
conv bias, im2col, col2im, max pooling with its winning taps, and ReLU
with its mask and its backward.

Each kernel does in one pass what the NumPy path (the reference, in
`conv.py`, `pool.py` and `ops.nn`) does in several, and gives the same
values: the same NaN propagation, the same ties, the same signed zeros
(only col2im's sums may round differently, their order being another).
Kernels take a row range of the batch and write only those rows, so
`parallel.split_rows` (or `conv_blocks`) runs parts of a pass on the
shared pool. Callers check `jit.enabled()`, dtypes, layouts and ranks;
every wrapper here returns None (or False) for what it does not handle,
and the caller runs NumPy.

Measured on this project's 2-core machine, 1 thread, float32, the
BatchNorm CNN's shapes at batch 64 (JIT vs NumPy, ms):
    im2col 3x3 'same' of 64x16x16x32: 1.1 vs 2.4 (no padded copy);
    conv input gradient (GEMM + col2im) 64x16x16x64 -> 32: 9.1 vs 15.1;
    max pool 2x2 of 64x32x32x32 with taps: 1.3 vs 4.1, values only 0.8
    vs 1.5, backward by taps 0.9 vs 3.0;
    ReLU with mask, 2M floats: 0.4 vs 1.1; its backward 0.7 vs 1.6.
Loops run over slices indexed from 0: over `range(a, b)` numba must
allow negative (wrap-around) indices and the ReLU loop did not vectorise
(2M floats: 3.0 ms against 0.4 ms).
"""

import numpy as np

from gkeras.backend.cpu import jit
from gkeras.backend.cpu.parallel import split_rows

__all__ = ["add_bias_", "im2col", "col2im", "max_pool_taps", "max_pool_values",
           "max_pool_route_taps", "relu_with_mask", "relu_grad"]

_FLOATS = (np.float32, np.float64)

# ReLU on fewer elements runs NumPy: a kernel call (argument checks and
# dispatch) costs a few microseconds more than NumPy's two ufunc calls,
# which win up to about 10k floats (a Dense layer's (32, 128): forward and
# backward 29 us JIT, 24 us NumPy; (256, 128): 28 us against 47 us).
RELU_MIN_ELEMENTS = 1 << 14


def _ok(*arrays):
    return jit.enabled() and all(
        type(a) is np.ndarray and a.flags.c_contiguous for a in arrays)


# ----------------------------------------------------------------- col2im
@jit.kernel
def _col2im_kernel(dcol, n0, n1, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw,
                   dx):
    h, w, c = dx.shape[1], dx.shape[2], dx.shape[3]
    for n in range(n0, n1):
        dx[n] = 0
        for i in range(oh):
            for j in range(ow):
                m = (n * oh + i) * ow + j
                for p in range(kh):
                    y = i * sh - ph + p * dh
                    if y < 0 or y >= h:
                        continue
                    for q in range(kw):
                        x = j * sw - pw + q * dw
                        if x < 0 or x >= w:
                            continue
                        base = (p * kw + q) * c
                        for k in range(c):
                            dx[n, y, x, k] += dcol[m, base + k]


def col2im(dcol, x_shape, ksize, out, strides, pad, dil):
    """Sums `(M, taps * C)` patch gradients into a new `(N, *spatial, C)`
    array, for 1 or 2 spatial dims and one group; None when not handled.

    Args:
        dcol: C-contiguous `(N * prod(out), prod(ksize) * C)`.
        x_shape: `(N, *spatial, C)`.
        ksize, out, strides, dil: one int per spatial dim.
        pad: one `(before, after)` pair per spatial dim.

    Returns:
        `dx` of shape `x_shape`, or None (run the NumPy col2im).
    """
    rank = len(ksize)
    if (rank not in (1, 2) or not _ok(dcol) or dcol.dtype not in _FLOATS
            or dcol.ndim != 2):
        return None
    if rank == 1:
        ksize, out, strides, dil = ((1, *ksize), (1, *out), (1, *strides),
                                    (1, *dil))
        pad = ((0, 0), *pad)
        shape4 = (x_shape[0], 1, *x_shape[1:])
    else:
        shape4 = tuple(x_shape)
    dx = np.empty(shape4, dcol.dtype)
    args = (out[0], out[1], ksize[0], ksize[1], strides[0], strides[1],
            pad[0][0], pad[1][0], dil[0], dil[1])
    split_rows(shape4[0], dcol.size, lambda a, b: _col2im_kernel(
        dcol, a, b, *args, dx))
    return dx.reshape(x_shape)


# ------------------------------------------------------------------- bias
@jit.kernel
def _bias_kernel(y, a, b, bias):
    ys = y[a:b]
    for r in range(ys.shape[0]):
        for j in range(ys.shape[1]):
            ys[r, j] += bias[j]


def add_bias_(y, bias):
    """`y += bias` over the last axis in one pass; False when not handled
    (nothing written).

    Args:
        y: C-contiguous float `(..., F)` (written in place).
        bias: `(F,)` of the dtype of `y`.

    Returns:
        Whether the bias was added.
    """
    f = y.shape[-1] if y.ndim else 0
    if not (f and _ok(y, bias) and y.dtype in _FLOATS
            and bias.dtype == y.dtype and bias.shape == (f,)):
        return False
    y2 = y.reshape(-1, f)
    split_rows(y2.shape[0], y2.size, lambda a, b: _bias_kernel(
        y2, a, b, bias))
    return True


# ----------------------------------------------------------------- im2col
@jit.kernel
def _im2col_kernel(x, n0, n1, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, cols):
    h, w, c = x.shape[1], x.shape[2], x.shape[3]
    for n in range(n0, n1):
        for i in range(oh):
            for j in range(ow):
                row = cols[(n * oh + i) * ow + j]
                for p in range(kh):
                    y = i * sh - ph + p * dh
                    for q in range(kw):
                        xx = j * sw - pw + q * dw
                        dst = row[(p * kw + q) * c:(p * kw + q + 1) * c]
                        if y < 0 or y >= h or xx < 0 or xx >= w:
                            dst[:] = 0
                        else:
                            src = x[n, y, xx]
                            for k in range(c):
                                dst[k] = src[k]


def im2col(x, ksize, out, strides, pad, dil):
    """The `(M, taps * C)` patches of `x` (1 or 2 spatial dims, one
    group), zeros where the padding is, in one pass with no padded copy;
    None when not handled.

    Args:
        x: C-contiguous float `(N, *spatial, C)`.
        ksize, out, strides, dil: one int per spatial dim.
        pad: one `(before, after)` pair per spatial dim.

    Returns:
        The C-contiguous patches, or None (run NumPy's im2col).
    """
    rank = len(ksize)
    if rank not in (1, 2) or not _ok(x) or x.dtype not in _FLOATS:
        return None
    if rank == 1:
        ksize, out, strides, dil = ((1, *ksize), (1, *out), (1, *strides),
                                    (1, *dil))
        pad = ((0, 0), *pad)
    x4 = _as_2d(x, rank)
    c = x.shape[-1]
    cols = np.empty((x.shape[0] * out[0] * out[1], ksize[0] * ksize[1] * c),
                    x.dtype)
    args = (out[0], out[1], ksize[0], ksize[1], strides[0], strides[1],
            pad[0][0], pad[1][0], dil[0], dil[1])
    split_rows(x.shape[0], cols.size, lambda a, b: _im2col_kernel(
        x4, a, b, *args, cols))
    return cols


# ------------------------------------------------------------ max pooling
# The NumPy path's semantics: the max is `np.maximum(max, v)` (NaN
# propagates; of two equal values, zeros of either sign, the second), a
# later tap wins only when strictly greater (ties: the first), and a NaN
# window reports tap 0.
@jit.kernel
def _max_tap_kernel(x, n0, n1, ph, pw, sh, sw, y, tap):
    oh, ow, c = y.shape[1], y.shape[2], y.shape[3]
    for n in range(n0, n1):
        for i in range(oh):
            for j in range(ow):
                for k in range(c):
                    y[n, i, j, k] = x[n, i * sh, j * sw, k]
                    tap[n, i, j, k] = 0
                t = 0
                for p in range(ph):
                    for q in range(pw):
                        if t > 0:
                            for k in range(c):
                                v = x[n, i * sh + p, j * sw + q, k]
                                b = y[n, i, j, k]
                                gt = v > b
                                y[n, i, j, k] = b if (b > v or b != b) else v
                                tap[n, i, j, k] = t if gt else tap[n, i, j, k]
                        t += 1
                for k in range(c):
                    if y[n, i, j, k] != y[n, i, j, k]:
                        tap[n, i, j, k] = 0


@jit.kernel
def _max_kernel(x, n0, n1, ph, pw, sh, sw, y):
    oh, ow, c = y.shape[1], y.shape[2], y.shape[3]
    for n in range(n0, n1):
        for i in range(oh):
            for j in range(ow):
                for k in range(c):
                    y[n, i, j, k] = x[n, i * sh, j * sw, k]
                for p in range(ph):
                    for q in range(pw):
                        if p + q > 0:
                            for k in range(c):
                                v = x[n, i * sh + p, j * sw + q, k]
                                b = y[n, i, j, k]
                                y[n, i, j, k] = b if (b > v or b != b) else v


@jit.kernel
def _route_kernel(dy, tap, n0, n1, ph, pw, sh, sw, dx):
    oh, ow, c = dy.shape[1], dy.shape[2], dy.shape[3]
    for n in range(n0, n1):
        for i in range(oh):
            for j in range(ow):
                t = 0
                for p in range(ph):
                    for q in range(pw):
                        for k in range(c):
                            # dy * (tap == t), as NumPy multiplies by the
                            # mask: -0.0 and NaN where NumPy has them.
                            dx[n, i * sh + p, j * sw + q, k] = dy[
                                n, i, j, k] * (1.0 if tap[n, i, j, k] == t
                                               else 0.0)
                        t += 1


def _as_2d(a, rank):
    """A rank-1 (N, W, C) array as (N, 1, W, C); rank 2 as is."""
    return a.reshape(a.shape[0], 1, *a.shape[1:]) if rank == 1 else a


def _pool_dims(pool, strides, rank):
    if rank == 1:
        return 1, pool[0], 1, strides[0]
    return pool[0], pool[1], strides[0], strides[1]


def max_pool_taps(x, pool, strides, out):
    """`(y, tap)` of unpadded, non-overlapping max pooling (1-2 spatial
    dims, up to 256 taps) in one pass; None when not handled.

    Args:
        x: C-contiguous float `(N, *spatial, C)`.
        pool, strides: one int per spatial dim, `strides >= pool`.
        out: the output spatial shape.

    Returns:
        `(y, tap)` as `pool.max_pool_forward_taps`, or None.
    """
    rank = x.ndim - 2
    if rank not in (1, 2) or not _ok(x) or x.dtype not in _FLOATS:
        return None
    y = np.empty((x.shape[0], *out, x.shape[-1]), x.dtype)
    tap = np.empty(y.shape, np.uint8)
    x4, y4, t4 = _as_2d(x, rank), _as_2d(y, rank), _as_2d(tap, rank)
    dims = _pool_dims(pool, strides, rank)
    split_rows(x.shape[0], x.size, lambda a, b: _max_tap_kernel(
        x4, a, b, *dims, y4, t4))
    return y, tap


def max_pool_values(x, pool, strides, out):
    """The maxima of unpadded max pooling windows (1-2 spatial dims, any
    strides) in one pass; None when not handled.

    Args:
        x: C-contiguous float `(N, *spatial, C)`.
        pool, strides: one int per spatial dim.
        out: the output spatial shape.

    Returns:
        `y` as `pool.max_pool_values`, or None.
    """
    rank = x.ndim - 2
    if rank not in (1, 2) or not _ok(x) or x.dtype not in _FLOATS:
        return None
    y = np.empty((x.shape[0], *out, x.shape[-1]), x.dtype)
    x4, y4 = _as_2d(x, rank), _as_2d(y, rank)
    dims = _pool_dims(pool, strides, rank)
    split_rows(x.shape[0], x.size, lambda a, b: _max_kernel(
        x4, a, b, *dims, y4))
    return y


def max_pool_route_taps(dy, x_shape, tap, pool, strides, tiled):
    """`max_pool_backward_taps`' `dx` in one pass; None when not handled.

    Args:
        dy: C-contiguous float `(N, *out, C)`.
        x_shape: the forward input's shape.
        tap: the uint8 winning taps, shaped like `dy`.
        pool, strides: one int per spatial dim, `strides >= pool`.
        tiled: whether the windows cover every input cell (else the cells
            no window reaches are zero-filled first).

    Returns:
        `dx` of shape `x_shape`, or None.
    """
    rank = dy.ndim - 2
    if (rank not in (1, 2) or not _ok(dy, tap) or dy.dtype not in _FLOATS
            or tap.dtype != np.uint8):
        return None
    dx = (np.empty if tiled else np.zeros)(x_shape, dy.dtype)
    d4, t4, x4 = _as_2d(dy, rank), _as_2d(tap, rank), _as_2d(dx, rank)
    dims = _pool_dims(pool, strides, rank)
    split_rows(dy.shape[0], dx.size, lambda a, b: _route_kernel(
        d4, t4, a, b, *dims, x4))
    return dx


# ------------------------------------------------------------------- ReLU
# `np.maximum(v, 0)`: NaN stays NaN (NaN <= 0 is false), -0.0 gives +0.0;
# the mask is v > 0.
@jit.kernel
def _relu_mask_kernel(x, a, b, y, mask):
    xs, ys, ms = x[a:b], y[a:b], mask[a:b]
    for i in range(xs.shape[0]):
        v = xs[i]
        ys[i] = 0 if v <= 0 else v
        ms[i] = v > 0


@jit.kernel
def _relu_kernel(x, a, b, y):
    xs, ys = x[a:b], y[a:b]
    for i in range(xs.shape[0]):
        v = xs[i]
        ys[i] = 0 if v <= 0 else v


# `gy * mask` as NumPy multiplies by a bool: `gy * 0` off the mask keeps
# -0.0 and turns inf into NaN. `zero` is a scalar of the dtype of `gy`.
@jit.kernel
def _mask_grad_kernel(gy, mask, a, b, zero, gx):
    gs, ms, xs = gy[a:b], mask[a:b], gx[a:b]
    for i in range(gs.shape[0]):
        g = gs[i]
        xs[i] = g if ms[i] else g * zero


def relu_grad(gy, mask):
    """`gy * mask` (ReLU's backward) in one pass; None when not handled
    (also below `RELU_MIN_ELEMENTS`).

    Args:
        gy: C-contiguous float array.
        mask: bool array of the same shape.

    Returns:
        The gradient of the ReLU input, or None.
    """
    if not (gy.ndim and gy.size >= RELU_MIN_ELEMENTS and _ok(gy, mask)
            and gy.dtype in _FLOATS and mask.dtype == np.bool_
            and mask.shape == gy.shape):
        return None
    gx = np.empty_like(gy)
    gf, mf, xf = gy.reshape(-1), mask.reshape(-1), gx.reshape(-1)
    row = gy.size // max(gy.shape[0], 1)
    zero = gy.dtype.type(0)
    split_rows(gy.shape[0], gy.size, lambda a, b: _mask_grad_kernel(
        gf, mf, a * row, b * row, zero, xf))
    return gx


def relu_with_mask(x, keep_mask):
    """`(max(x, 0), x > 0)` in one pass (mask None unless `keep_mask`);
    None when not handled (also below `RELU_MIN_ELEMENTS`).

    Args:
        x: C-contiguous float array with at least one dim.
        keep_mask: whether to return the mask for the backward pass.

    Returns:
        `(y, mask)` or None.
    """
    if not (x.ndim and x.size >= RELU_MIN_ELEMENTS and _ok(x)
            and x.dtype in _FLOATS):
        return None
    y = np.empty_like(x)
    mask = np.empty(x.shape, bool) if keep_mask else None
    xf, yf = x.reshape(-1), y.reshape(-1)
    row = x.size // max(x.shape[0], 1)
    if keep_mask:
        mf = mask.reshape(-1)
        split_rows(x.shape[0], x.size, lambda a, b: _relu_mask_kernel(
            xf, a * row, b * row, yf, mf))
    else:
        split_rows(x.shape[0], x.size, lambda a, b: _relu_kernel(
            xf, a * row, b * row, yf))
    return y, mask
