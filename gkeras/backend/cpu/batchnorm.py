"""Batch normalization primitives on NumPy (training-mode forward, backward).

The caller flattens every axis but the channel axis: `x` is `(M, C)`.
Statistics are the batch mean and the *biased* variance (divided by M), as
Keras uses to normalize; the layer updates its moving variance from them.
"""

import numpy as np

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
    mean = x.mean(axis=0)
    xc = x - mean
    var = np.einsum("mc,mc->c", xc, xc) / x.dtype.type(x.shape[0])
    inv_std = (1.0 / np.sqrt(var + epsilon)).astype(x.dtype)
    scale = inv_std if gamma is None else inv_std * gamma
    y = xc * scale
    if beta is not None:
        y += beta
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
    xhat = (x - mean) * inv_std
    dbeta = dy.sum(axis=0)
    dgamma_full = np.einsum("mc,mc->c", dy, xhat)
    scale = inv_std if gamma is None else gamma * inv_std
    dx = (scale / m) * (m * dy - dbeta - xhat * dgamma_full)
    return (dx.astype(x.dtype, copy=False),
            None if gamma is None else dgamma_full, dbeta)
