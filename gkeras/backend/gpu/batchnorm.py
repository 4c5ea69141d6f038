"""Batch normalization primitives on CuPy, on `kernels/batchnorm.cu`.

Same names and signatures as `backend.cpu.batchnorm`. Statistics come from
a two-level deterministic reduction (per-split Welford partials merged in
a fixed order), then one fused normalize + affine pass; the backward pass
is partial sums of dy and dy * xhat, a per-channel merge, then dx in one
fused pass. No atomics: bit-identical from run to run. Arithmetic is
float32; `x`/`dy`/`y`/`dx` may be float16 or bfloat16 (`precision.py`),
while the statistics, gamma/beta and their gradients stay float32, as Keras
computes batch statistics in float32 under mixed policies. The `_*`
implementations take a runtime (see `gpu.launch`).
"""

import numpy as np

from gkeras.backend.gpu import precision
from gkeras.backend.gpu.launch import (ceil_div, cupy_runtime, grid_stride_1d,
                                       i32, f32)

__all__ = ["batchnorm_forward_train", "batchnorm_backward"]

KERNELS = "batchnorm.cu"
TX, TY = 32, 8           # block of the *_partial_* kernels (BN_TX, BN_TY)
TARGET_BLOCKS = 1024     # enough blocks to fill a large GPU
MIN_ROWS = 32            # rows per split at least


def bn_splits(m, c):
    """Returns `(S, rows_per_split)`: the row splits of the partial
    kernels, about `TARGET_BLOCKS` blocks in all, S <= 65535."""
    cb = ceil_div(c, TX)
    s = max(1, min(ceil_div(TARGET_BLOCKS, cb), ceil_div(m, MIN_ROWS), 65535))
    rows = ceil_div(m, s)
    return ceil_div(m, rows), rows


def _vec(xp, v, c, name, fill):
    if v is None:
        return xp.full((c,), fill, xp.float32)
    if tuple(v.shape) != (c,):
        raise ValueError(f"batchnorm: `{name}` must have shape ({c},), "
                         f"received {tuple(v.shape)}")
    return xp.ascontiguousarray(v, dtype=xp.float32)


def _check_2d(x, where):
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"{where}: `x` must be 2-D (M, C) with M >= 1 "
                         f"(flatten all axes but the channel axis), received "
                         f"shape {tuple(x.shape)}")


def _batchnorm_forward_train(rt, x, gamma, beta, epsilon):
    xp = rt.xp
    _check_2d(x, "batchnorm_forward_train")
    dtype = x.dtype
    kdt = precision.kernel_dtype(xp, dtype)
    x = precision.as_kernel(xp, x, kdt)
    m, c = x.shape
    g, b = _vec(xp, gamma, c, "gamma", 1), _vec(xp, beta, c, "beta", 0)
    s, rows = bn_splits(m, c)
    part = xp.empty((s, 3, c), xp.float32)
    rt.launch(KERNELS, precision.entry("bn_partial_stats", kdt), (ceil_div(c, TX), s), (TX, TY),
              (x, part, i32(m), i32(c), i32(rows)))
    mean, var, inv_std = (xp.empty((c,), xp.float32) for _ in range(3))
    rt.launch(KERNELS, "bn_finalize_stats_f32", (ceil_div(c, 256),), (256,),
              (part, mean, var, inv_std, i32(s), i32(c), f32(epsilon)))
    y = xp.empty_like(x)
    grid, block = grid_stride_1d(x.size)
    rt.launch(KERNELS, precision.entry("bn_forward_apply", kdt), grid, block,
              (x, mean, inv_std, g, b, y, np.int64(x.size), i32(c)))
    out = (y, mean, var, inv_std)
    if dtype == kdt:
        return out      # float32, or 16-bit y with float32 statistics
    return tuple(a.astype(dtype) for a in out)


def _batchnorm_backward(rt, dy, x, gamma, mean, inv_std):
    xp = rt.xp
    _check_2d(x, "batchnorm_backward")
    dtype = x.dtype
    kdt = precision.kernel_dtype(xp, dtype)
    x = precision.as_kernel(xp, x, kdt)
    if tuple(dy.shape) != tuple(x.shape):
        raise ValueError(f"batchnorm_backward: `dy` must have the shape of "
                         f"`x` {tuple(x.shape)}, received {tuple(dy.shape)}")
    dy = precision.as_kernel(xp, dy, kdt)
    m, c = x.shape
    g = _vec(xp, gamma, c, "gamma", 1)
    mean, inv_std = _vec(xp, mean, c, "mean", 0), _vec(xp, inv_std, c,
                                                       "inv_std", 1)
    s, rows = bn_splits(m, c)
    part = xp.empty((s, 2, c), xp.float32)
    rt.launch(KERNELS, precision.entry("bn_partial_grads", kdt), (ceil_div(c, TX), s), (TX, TY),
              (dy, x, mean, inv_std, part, i32(m), i32(c), i32(rows)))
    dgamma, dbeta = xp.empty((c,), xp.float32), xp.empty((c,), xp.float32)
    rt.launch(KERNELS, "bn_finalize_grads_f32", (ceil_div(c, 256),), (256,),
              (part, dgamma, dbeta, i32(s), i32(c)))
    dx = xp.empty_like(x)
    grid, block = grid_stride_1d(x.size)
    rt.launch(KERNELS, precision.entry("bn_backward_apply", kdt), grid, block,
              (dy, x, mean, inv_std, g, dgamma, dbeta, dx, np.int64(x.size),
               i32(c), i32(m)))
    if dtype != kdt:
        dx, dgamma, dbeta = (a.astype(dtype) for a in (dx, dgamma, dbeta))
    return dx, (None if gamma is None else dgamma), dbeta


def batchnorm_forward_train(x, gamma, beta, epsilon):
    """Training-mode batch normalization on the GPU; see
    `backend.cpu.batchnorm.batchnorm_forward_train`.

    Args:
        x: CuPy array `(M, C)`.
        gamma: `(C,)` or None.
        beta: `(C,)` or None.
        epsilon: float added to the variance.

    Returns:
        `(y, mean, var, inv_std)`, var biased (divided by M); for float16 /
        bfloat16 `x`, `y` has its dtype and the statistics are float32.
    """
    return _batchnorm_forward_train(cupy_runtime(), x, gamma, beta, epsilon)


def batchnorm_backward(dy, x, gamma, mean, inv_std):
    """Gradients of batch normalization on the GPU; see
    `backend.cpu.batchnorm.batchnorm_backward`.

    Args:
        dy: `(M, C)`.
        x: the forward input `(M, C)`.
        gamma: `(C,)` or None.
        mean, inv_std: from the forward pass.

    Returns:
        `(dx, dgamma or None, dbeta)`; for float16 / bfloat16 `x`, `dx`
        has its dtype and dgamma/dbeta are float32.
    """
    return _batchnorm_backward(cupy_runtime(), dy, x, gamma, mean, inv_std)
