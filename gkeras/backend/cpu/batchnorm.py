"""Batch normalization primitives on NumPy (training-mode forward, backward).

The caller flattens every axis but the channel axis: `x` is `(M, C)`.
Statistics are the batch mean and the *biased* variance (divided by M), as
Keras uses to normalize; the layer updates its moving variance from them.
"""

import numpy as np

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
