"""Pooling primitives on CuPy, on the kernels of `kernels/pool.cu`.

Same names, signatures and `argmax` convention as `backend.cpu.pool`. One
thread per output element for the forward passes; the backward passes are
gather kernels (one thread per input element, fixed summation order):
deterministic, no atomics. Kernels run in the input's type: float32, or
float16 / bfloat16 with float32 arithmetic (`precision.py`); other float
dtypes are computed in float32 and cast back. The `_*` implementations take a
runtime (see `gpu.launch`), so the CPU tests run the same launches through
the CUDA emulator.
"""

import numpy as np

from gkeras.backend.cpu.pool import _pool_args, pool_output_shape
from gkeras.backend.gpu import precision
from gkeras.backend.gpu.launch import cupy_runtime, grid_stride_1d, i32

__all__ = ["max_pool_forward", "max_pool_backward", "avg_pool_forward",
           "avg_pool_backward", "pool_output_shape", "global_avg_pool",
           "global_avg_pool_backward", "global_max_pool"]

KERNELS = "pool.cu"
BLOCK = 256


def pool_geometry(x_shape, out_shape, pool, strides, pad):
    """The int32 geometry arguments of the pool.cu kernels (N, D, H, W, C,
    OD, OH, OW, KD, KH, KW, SD, SH, SW, PD, PH, PW), lifted to 3-D."""
    rank = len(x_shape) - 2
    lift = 3 - rank
    return [x_shape[0], *((1,) * lift + tuple(x_shape[1:-1])), x_shape[-1],
            *((1,) * lift + tuple(out_shape[1:-1])),
            *((1,) * lift + tuple(pool)), *((1,) * lift + tuple(strides)),
            *((0,) * lift + tuple(p[0] for p in pad))]


def _launch(rt, name, total, arrays, geom):
    grid, block = grid_stride_1d(total, BLOCK)
    rt.launch(KERNELS, name, grid, block,
              (*arrays, np.int64(total), *map(i32, geom)))


def _max_pool_forward(rt, x, pool_size, strides, padding):
    xp = rt.xp
    dtype = x.dtype
    out_shape, pool, strides, pad = _pool_args(x.shape, pool_size, strides,
                                               padding)
    kdt = precision.kernel_dtype(xp, dtype)
    x = precision.as_kernel(xp, x, kdt)
    y = xp.empty(out_shape, kdt)
    arg = xp.empty(out_shape, xp.int32)
    _launch(rt, precision.entry("maxpool_fwd", kdt), y.size, (x, y, arg),
            pool_geometry(x.shape, out_shape, pool, strides, pad))
    return (y if dtype == kdt else y.astype(dtype)), arg


def _max_pool_backward(rt, dy, x, argmax, pool_size, strides, padding):
    xp = rt.xp
    dtype = dy.dtype
    x_shape = tuple(x.shape)
    out_shape, pool, strides, pad = _pool_args(x_shape, pool_size, strides,
                                               padding)
    if tuple(dy.shape) != out_shape or tuple(argmax.shape) != out_shape:
        raise ValueError(f"max_pool_backward: `dy` and `argmax` must have "
                         f"shape {out_shape}, received {tuple(dy.shape)} and "
                         f"{tuple(argmax.shape)}")
    kdt = precision.kernel_dtype(xp, dtype)
    dx = xp.empty(x_shape, kdt)
    _launch(rt, precision.entry("maxpool_bwd", kdt), dx.size,
            (precision.as_kernel(xp, dy, kdt),
             xp.ascontiguousarray(argmax, dtype=xp.int32), dx),
            pool_geometry(x_shape, out_shape, pool, strides, pad))
    return dx if dtype == kdt else dx.astype(dtype)


def _avg_pool_forward(rt, x, pool_size, strides, padding):
    xp = rt.xp
    dtype = x.dtype
    out_shape, pool, strides, pad = _pool_args(x.shape, pool_size, strides,
                                               padding)
    kdt = precision.kernel_dtype(xp, dtype)
    x = precision.as_kernel(xp, x, kdt)
    y = xp.empty(out_shape, kdt)
    _launch(rt, precision.entry("avgpool_fwd", kdt), y.size, (x, y),
            pool_geometry(x.shape, out_shape, pool, strides, pad))
    return y if dtype == kdt else y.astype(dtype)


def _avg_pool_backward(rt, dy, x_shape, pool_size, strides, padding):
    xp = rt.xp
    dtype = dy.dtype
    x_shape = tuple(int(a) for a in x_shape)
    out_shape, pool, strides, pad = _pool_args(x_shape, pool_size, strides,
                                               padding)
    if tuple(dy.shape) != out_shape:
        raise ValueError(f"avg_pool_backward: `dy` must have shape "
                         f"{out_shape}, received {tuple(dy.shape)}")
    kdt = precision.kernel_dtype(xp, dtype)
    dx = xp.empty(x_shape, kdt)
    _launch(rt, precision.entry("avgpool_bwd", kdt), dx.size,
            (precision.as_kernel(xp, dy, kdt), dx),
            pool_geometry(x_shape, out_shape, pool, strides, pad))
    return dx if dtype == kdt else dx.astype(dtype)


def max_pool_forward(x, pool_size, strides, padding):
    """Max pooling on the GPU; see `backend.cpu.pool.max_pool_forward`.

    Args:
        x: CuPy array `(N, *spatial, C)`.
        pool_size, strides: one int per spatial dim.
        padding: one `(before, after)` pair per spatial dim.

    Returns:
        `(y, argmax)`, argmax int32 flat spatial indices of the winners.
    """
    return _max_pool_forward(cupy_runtime(), x, pool_size, strides, padding)


def max_pool_backward(dy, x, argmax, pool_size, strides, padding):
    """Gradient of max pooling on the GPU (gather, deterministic).

    Args:
        dy: `(N, *out_spatial, C)`.
        x: the forward input (its shape is used).
        argmax: from `max_pool_forward`.
        pool_size, strides, padding: as in the forward pass.

    Returns:
        `dx`, shaped like `x`.
    """
    return _max_pool_backward(cupy_runtime(), dy, x, argmax, pool_size,
                              strides, padding)


def avg_pool_forward(x, pool_size, strides, padding):
    """Average pooling on the GPU, padded cells excluded from the count.

    Args:
        x: CuPy array `(N, *spatial, C)`.
        pool_size, strides: one int per spatial dim.
        padding: one `(before, after)` pair per spatial dim.

    Returns:
        `y`, `(N, *out_spatial, C)`.
    """
    return _avg_pool_forward(cupy_runtime(), x, pool_size, strides, padding)


def avg_pool_backward(dy, x_shape, pool_size, strides, padding):
    """Gradient of average pooling on the GPU (gather, deterministic).

    Args:
        dy: `(N, *out_spatial, C)`.
        x_shape: shape of the forward input.
        pool_size, strides, padding: as in the forward pass.

    Returns:
        `dx` of shape `x_shape`.
    """
    return _avg_pool_backward(cupy_runtime(), dy, x_shape, pool_size, strides,
                              padding)


def global_avg_pool(x):
    """Mean over the spatial axes, `(N, *spatial, C)` -> `(N, C)`.

    Args:
        x: CuPy array.

    Returns:
        `(N, C)`, in `x`'s dtype (16-bit inputs are summed in float32).
    """
    v = x.reshape(x.shape[0], -1, x.shape[-1])
    if precision.is_half(x.dtype):
        return v.mean(axis=1, dtype="float32").astype(x.dtype)
    return v.mean(axis=1)


def global_avg_pool_backward(dy, x_shape):
    """Gradient of `global_avg_pool`.

    Args:
        dy: `(N, C)`.
        x_shape: `(N, *spatial, C)`.

    Returns:
        `dx` of shape `x_shape`.
    """
    import cupy
    x_shape = tuple(int(a) for a in x_shape)
    sp = int(np.prod(x_shape[1:-1]))
    g = (dy / sp).astype(dy.dtype).reshape(x_shape[0], 1, x_shape[-1])
    return cupy.ascontiguousarray(cupy.broadcast_to(
        g, (x_shape[0], sp, x_shape[-1]))).reshape(x_shape)


def global_max_pool(x):
    """Max over the spatial axes with the winners (see the cpu version).

    Args:
        x: CuPy array `(N, *spatial, C)`.

    Returns:
        `(y, argmax)`: `(N, C)` maxima and int32 flat spatial indices.
    """
    v = x.reshape(x.shape[0], -1, x.shape[-1])
    arg = v.argmax(axis=1)
    import cupy
    y = cupy.take_along_axis(v, arg[:, None, :], axis=1)[:, 0, :]
    return y, arg.astype(cupy.int32)
