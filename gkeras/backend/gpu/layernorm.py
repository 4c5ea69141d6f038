"""Layer normalization primitives (CuPy side, `kernels/layernorm.cu`).

Same names, signatures and semantics as `gkeras.backend.cpu.layernorm`
(Keras 3 LayerNormalization, including its `rms_scaling` formula).
Forward is one kernel (row statistics + normalize + affine); backward is a
row kernel for `dx` and a column kernel for `dgamma`/`dbeta`, both with
fixed-order reductions (deterministic). Float32 arithmetic; `x`/`y`/`dy`/
`dx` may be float16 or bfloat16 (`precision.py`: 16-bit `*_f16`/`*_bf16`
kernels), while gamma/beta, the row statistics and dgamma/dbeta stay
float32, as Keras normalizes in float32 under mixed policies. Other float
dtypes are computed and returned in float32. CuPy is imported only
inside functions and every launch goes through a runtime object, so the
wrapper also runs under the CUDA emulator of `tests/cuda_emu`.
"""

import numpy as np

from gkeras.backend.cpu.layernorm import check_layernorm_args
from gkeras.backend.gpu import precision

__all__ = ["layernorm_forward", "layernorm_backward"]

# Mirrors of the #defines in kernels/layernorm.cu.
LN_THREADS = 128
LN_COLS = 32
LN_ROWGROUPS = 8


def layernorm_rows_launch(M):
    """(grid, block) of `layernorm_fwd` and `layernorm_bwd_dx`."""
    return (M, 1, 1), (LN_THREADS, 1, 1)


def layernorm_params_launch(C):
    """(grid, block) of `layernorm_bwd_params`."""
    return (-(-C // LN_COLS), 1, 1), (LN_COLS * LN_ROWGROUPS, 1, 1)


def _runtime():
    from gkeras.backend.gpu.launch import cupy_runtime

    return cupy_runtime()


def _f32(xp, a):
    return None if a is None else xp.ascontiguousarray(a, dtype=xp.float32)


def _layernorm_forward(rt, x, gamma=None, beta=None, epsilon=1e-3,
                       rms_scaling=False):
    xp = rt.xp
    M, C = check_layernorm_args(x, gamma, beta)
    kdt = precision.kernel_dtype(xp, x.dtype)
    x = precision.as_kernel(xp, x, kdt)
    gamma, beta = _f32(xp, gamma), _f32(xp, beta)
    y = xp.empty_like(x)
    mean = xp.empty((M,), dtype=xp.float32)
    inv_std = xp.empty((M,), dtype=xp.float32)
    if M:
        grid, block = layernorm_rows_launch(M)
        rt.launch("layernorm.cu", precision.entry("layernorm_fwd", kdt, False),
                  grid, block, (
            x, gamma, beta, y, mean, inv_std, np.int64(M), np.int32(C),
            np.float32(epsilon), np.int32(bool(rms_scaling))))
    return y, mean, inv_std


def _layernorm_backward(rt, dy, x, gamma, mean, inv_std, rms_scaling=False):
    xp = rt.xp
    M, C = check_layernorm_args(x, gamma, None, "layernorm_backward")
    if tuple(dy.shape) != (M, C):
        raise ValueError("layernorm_backward: `dy` must have the shape of "
                         f"`x` {(M, C)}. Received: dy.shape={tuple(dy.shape)}")
    kdt = precision.kernel_dtype(xp, x.dtype)
    dy, x = precision.as_kernel(xp, dy, kdt), precision.as_kernel(xp, x, kdt)
    gamma = _f32(xp, gamma)
    mean, inv_std = _f32(xp, mean), _f32(xp, inv_std)
    dx = xp.empty_like(x)
    dgamma = xp.empty((C,), dtype=xp.float32) if gamma is not None else None
    dbeta = xp.empty((C,), dtype=xp.float32)
    rms = np.int32(bool(rms_scaling))
    if M:
        grid, block = layernorm_rows_launch(M)
        rt.launch("layernorm.cu", precision.entry("layernorm_bwd_dx", kdt,
                                                  False), grid, block, (
            dy, x, gamma, mean, inv_std, dx, np.int64(M), np.int32(C), rms))
    grid, block = layernorm_params_launch(C)
    rt.launch("layernorm.cu", precision.entry("layernorm_bwd_params", kdt,
                                              False), grid, block, (
        dy, x, mean, inv_std, dgamma, dbeta, np.int64(M), np.int32(C), rms))
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma=None, beta=None, epsilon=1e-3,
                      rms_scaling=False):
    """Layer normalization over the rows of `x`, forward, on the GPU.

    Args:
        x: `(M, C)` array.
        gamma: optional `(C,)` scale.
        beta: optional `(C,)` offset.
        epsilon: added to the variance.
        rms_scaling: Keras's `rms_scaling` formula.

    Returns:
        `(y, mean, inv_std)`; `y` `(M, C)` (float16 / bfloat16 for such
        `x`, else float32), the others `(M,)` float32.
    """
    return _layernorm_forward(_runtime(), x, gamma, beta, epsilon,
                              rms_scaling)


def layernorm_backward(dy, x, gamma, mean, inv_std, rms_scaling=False):
    """Layer normalization, backward, on the GPU.

    Args:
        dy: `(M, C)` gradient with respect to `y`.
        x: the forward input.
        gamma: the forward `gamma` (or None).
        mean, inv_std: as returned by `layernorm_forward`.
        rms_scaling: as in the forward.

    Returns:
        `(dx, dgamma, dbeta)`: `dx` in `x`'s 16-bit type or float32,
        dgamma/dbeta float32; `dgamma` is None when `gamma` is.
    """
    return _layernorm_backward(_runtime(), dy, x, gamma, mean, inv_std,
                               rms_scaling)
