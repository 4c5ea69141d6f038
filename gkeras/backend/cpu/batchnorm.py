"""Batch normalization primitives on NumPy (training-mode forward, backward).

The caller flattens every axis but the channel axis: `x` is `(M, C)`.
Statistics are the batch mean and the *biased* variance (divided by M), as
Keras uses to normalize; the layer updates its moving variance from them.

With the optional JIT (`backend.cpu.jit`) each direction is two fused
passes over `(M, C)` instead of NumPy's six to ten: the forward reads `x`
once for the statistics (float64 sums of `x - x[0]`: the shift keeps the
one-pass variance free of cancellation when the mean is large against
the spread) and once to write `y`;
the backward reads `dy` and `x` once for the two channel sums and once to
write `dx`. Measured on (65536, 32) float32, 1 thread: forward 3.1 ->
1.4 ms, backward 5.5 -> 2.0 ms. `affine_channels_last` (inference) is one
pass where NumPy makes two.
"""

import numpy as np

from gkeras.backend.cpu import jit
from gkeras.backend.cpu.parallel import split_rows

__all__ = ["batchnorm_forward_train", "batchnorm_backward"]


def _check(x, vec, name, where):
    if vec is None:
        return None
    vec = np.asarray(vec, dtype=x.dtype)
    if vec.shape != (x.shape[1],):
        raise ValueError(f"{where}: `{name}` must have shape ({x.shape[1]},) "
                         f"to match the channels of `x` {x.shape}, received "
                         f"{vec.shape}")
    return vec


def _check_x(x, where):
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"{where}: `x` must be 2-D (M, C) with M >= 1 (flatten "
                         f"all axes but the channel axis), received shape "
                         f"{x.shape}")
    return x


def _rows_per_line(m, c, target=8192):
    """How many (C,) rows to lay side by side, so that per-channel
    broadcasts run over long lines: the largest divisor k of M with
    k * C <= target. NumPy's inner loops over a channel axis of 32 cost
    about 2.5x those over lines of thousands."""
    k = max(1, min(m, target // max(c, 1)))
    while m % k:
        k -= 1
    return k


def _wide(a, k):
    return a.reshape(a.shape[0] // k, k * a.shape[1])


def _tile(v, k):
    return np.tile(v, k)


def _fold(v, k, c):
    """Per-channel totals of a (k * C,) line of partial sums."""
    return v.reshape(k, c).sum(axis=0)


def _column_sums(x, k):
    """Sums of an (M, C) array over M, as a GEMV over the wide view:
    several times faster than `x.sum(axis=0)`."""
    w = _wide(x, k)
    return _fold(np.ones(w.shape[0], x.dtype) @ w, k, x.shape[1])


# ------------------------------------------------------------ JIT kernels
# Rows `a:b` of a C-contiguous (M, C) array, sliced first (indices from 0
# let numba drop its negative-index handling); the inner loop over the
# channels vectorises. Sums are float64 whatever the input dtype.
@jit.kernel
def _stats_kernel(x, a, b, shift, s1, s2):
    xs = x[a:b]
    for r in range(xs.shape[0]):
        for j in range(xs.shape[1]):
            d = np.float64(xs[r, j]) - shift[j]
            s1[j] += d
            s2[j] += d * d


@jit.kernel
def _normalize_kernel(x, a, b, mean, scale, beta, y):
    xs, ys = x[a:b], y[a:b]
    for r in range(xs.shape[0]):
        for j in range(xs.shape[1]):
            ys[r, j] = (xs[r, j] - mean[j]) * scale[j] + beta[j]


@jit.kernel
def _grad_sums_kernel(dy, x, a, b, mean, s1, s2):
    xs, gs = x[a:b], dy[a:b]
    for r in range(xs.shape[0]):
        for j in range(xs.shape[1]):
            g = np.float64(gs[r, j])
            s1[j] += g
            s2[j] += g * (np.float64(xs[r, j]) - mean[j])


@jit.kernel
def _grad_x_kernel(dy, x, a, b, mean, t_dy, t_x, t_b, dx):
    xs, gs, ds = x[a:b], dy[a:b], dx[a:b]
    for r in range(xs.shape[0]):
        for j in range(xs.shape[1]):
            ds[r, j] = (gs[r, j] * t_dy[j] + (xs[r, j] - mean[j]) * t_x[j]
                        - t_b[j])


# No contraction: `x * scale + shift` rounded as NumPy's two passes round
# it, so inference gives the graph path's exact values.
@jit.kernel(fastmath=frozenset())
def _affine_kernel(x, a, b, scale, shift, y):
    xs, ys = x[a:b], y[a:b]
    for r in range(xs.shape[0]):
        for j in range(xs.shape[1]):
            ys[r, j] = xs[r, j] * scale[j] + shift[j]


def _use_jit(*arrays):
    return (jit.enabled() and all(
        type(a) is np.ndarray and a.dtype in (np.float32, np.float64)
        and a.dtype == arrays[0].dtype and a.flags.c_contiguous
        for a in arrays))


def _channel_sums(kernel, arrays, ref, c):
    """Runs `kernel(*arrays, a, b, ref, s1, s2)` over row parts on the
    pool; returns the two (C,) float64 sums, parts added in row order."""
    parts = {}

    def part(a, b):
        s1, s2 = np.zeros(c), np.zeros(c)
        kernel(*arrays, a, b, ref, s1, s2)
        parts[a] = s1, s2
    m = arrays[0].shape[0]
    split_rows(m, m * c, part)
    keys = sorted(parts)
    return (sum(parts[a][0] for a in keys), sum(parts[a][1] for a in keys))


def _forward_train_jit(x, gamma, beta, epsilon):
    m, c = x.shape
    dt = x.dtype
    shift = x[0].astype(np.float64)
    # An infinite shift would turn the mean into NaN where NumPy has +-inf.
    shift[~np.isfinite(shift)] = 0.0
    s1, s2 = _channel_sums(_stats_kernel, (x,), shift, c)
    d = s1 / m
    # Clamped: rounding may leave a constant channel's variance at -1e-17.
    var = np.maximum(s2 / m - d * d, 0.0).astype(dt)
    mean = (shift + d).astype(dt)
    inv_std = (1.0 / np.sqrt(var + epsilon)).astype(dt)
    scale = inv_std if gamma is None else inv_std * gamma
    beta = np.zeros(c, dt) if beta is None else beta
    y = np.empty_like(x)
    split_rows(m, x.size, lambda a, b: _normalize_kernel(
        x, a, b, mean, scale, beta, y))
    return y, mean, var, inv_std


def _backward_jit(dy, x, gamma, mean, inv_std):
    m, c = x.shape
    dt = x.dtype
    dbeta, dgamma = _channel_sums(_grad_sums_kernel, (dy, x),
                                  mean.astype(np.float64), c)
    dbeta = dbeta.astype(dt)
    dgamma = dgamma.astype(dt) * inv_std
    scale = inv_std if gamma is None else gamma * inv_std
    t_x = -(scale * inv_std * dgamma / dt.type(m))
    t_b = scale * dbeta / dt.type(m)
    dx = np.empty_like(x)
    split_rows(m, x.size, lambda a, b: _grad_x_kernel(
        dy, x, a, b, mean, scale, t_x, t_b, dx))
    return dx, (None if gamma is None else dgamma), dbeta


def affine_channels_last(x, scale, shift):
    """`x * scale + shift` over the channels (last axis) of `x`, in one
    pass with the JIT, else NumPy's two; the values of NumPy's two.

    NumPy-only extra for `ops.batch_normalization` in inference.

    Args:
        x: `(..., C)` float array.
        scale, shift: `(C,)` arrays of the dtype of `x`.

    Returns:
        A new array shaped like `x`.
    """
    c = x.shape[-1] if x.ndim else 0
    if not (c and x.size and _use_jit(x, scale, shift)
            and scale.shape == shift.shape == (c,)):
        y = x * scale
        y += shift
        return y
    x2 = x.reshape(-1, c)
    y = np.empty_like(x2)
    split_rows(x2.shape[0], x2.size, lambda a, b: _affine_kernel(
        x2, a, b, scale, shift, y))
    return y.reshape(x.shape)


def batchnorm_forward_train(x, gamma, beta, epsilon):
    """Normalizes `x` with its batch statistics, then scales and shifts.

    Args:
        x: `(M, C)`.
        gamma: `(C,)` scale, or None (`scale=False`).
        beta: `(C,)` offset, or None (`center=False`).
        epsilon: small float added to the variance.

    Returns:
        `(y, mean, var, inv_std)`: `y` shaped like `x`; `mean`, `var` (biased,
        divided by M) and `inv_std = 1 / sqrt(var + epsilon)` of shape
        `(C,)`, all in the dtype of `x`.
    """
    where = "batchnorm_forward_train"
    x = _check_x(x, where)
    gamma, beta = _check(x, gamma, "gamma", where), _check(x, beta, "beta",
                                                           where)
    if _use_jit(x, *(v for v in (gamma, beta) if v is not None)):
        return _forward_train_jit(x, gamma, beta, epsilon)
    m, c = x.dtype.type(x.shape[0]), x.shape[1]
    k = _rows_per_line(x.shape[0], c)
    mean = _column_sums(x, k) / m
    xw, mt = _wide(x, k), _tile(mean, k)
    y = np.empty_like(xw)
    parts = {}

    # Element-wise passes split over the cores by rows (threads.py); the
    # per-part sums are added in row order.
    def centre(a, b):
        np.subtract(xw[a:b], mt, out=y[a:b])
        parts[a] = np.einsum("mc,mc->c", y[a:b], y[a:b])
    split_rows(y.shape[0], y.size, centre)
    var = _fold(sum(parts[a] for a in sorted(parts)), k, c) / m
    inv_std = (1.0 / np.sqrt(var + epsilon)).astype(x.dtype)
    st = _tile(inv_std if gamma is None else inv_std * gamma, k)
    bt = None if beta is None else _tile(beta, k)

    def scale(a, b):
        y[a:b] *= st
        if bt is not None:
            y[a:b] += bt
    split_rows(y.shape[0], y.size, scale)
    y = y.reshape(x.shape)
    return y, mean, var.astype(x.dtype, copy=False), inv_std


def batchnorm_backward(dy, x, gamma, mean, inv_std):
    """Gradients of `batchnorm_forward_train`.

    Args:
        dy: `(M, C)` gradient of `y`.
        x: the forward input `(M, C)`.
        gamma: `(C,)` or None.
        mean, inv_std: as returned by the forward pass.

    Returns:
        `(dx, dgamma, dbeta)`: `dx` shaped like `x`; `dgamma` `(C,)` or None
        when `gamma` is None; `dbeta` `(C,)` (the caller drops it when the
        layer has no `beta`).
    """
    where = "batchnorm_backward"
    x = _check_x(x, where)
    dy = np.asarray(dy, dtype=x.dtype)
    if dy.shape != x.shape:
        raise ValueError(f"{where}: `dy` must have the shape of `x` "
                         f"{x.shape}, received {dy.shape}")
    gamma = _check(x, gamma, "gamma", where)
    mean, inv_std = _check(x, mean, "mean", where), _check(x, inv_std,
                                                           "inv_std", where)
    if _use_jit(x, dy, mean, inv_std,
                *(() if gamma is None else (gamma,))):
        return _backward_jit(dy, x, gamma, mean, inv_std)
    m = x.dtype.type(x.shape[0])
    # dx = scale * (dy - dbeta / m - xhat * dgamma / m), with xhat =
    # (x - mean) * inv_std, written as dy * scale + xc * a + b on the one
    # centred temporary (in place): each pass over (M, C) costs as much as
    # the whole arithmetic of that pass.
    c = x.shape[1]
    k = _rows_per_line(x.shape[0], c)
    xw, mt = _wide(x, k), _tile(mean, k)
    xc = np.empty_like(xw)
    dyw = _wide(dy, k)
    dbeta = _column_sums(dy, k)
    parts = {}

    def centre(a, b):
        np.subtract(xw[a:b], mt, out=xc[a:b])
        parts[a] = np.einsum("mc,mc->c", dyw[a:b], xc[a:b])
    split_rows(xc.shape[0], xc.size, centre)
    dgamma_full = _fold(sum(parts[a] for a in sorted(parts)), k, c) * inv_std
    scale = inv_std if gamma is None else gamma * inv_std
    t_x = _tile(-(scale * inv_std * dgamma_full / m), k)
    t_b = _tile(scale * dbeta / m, k)
    t_dy = _tile(scale, k)
    dx = xc

    def combine(a, b):
        d = dx[a:b]
        d *= t_x
        d -= t_b
        d += dyw[a:b] * t_dy
    split_rows(dx.shape[0], dx.size, combine)
    dx = dx.reshape(x.shape)
    return (dx.astype(x.dtype, copy=False),
            None if gamma is None else dgamma_full, dbeta)
