"""Convolution primitives on CuPy: im2col / col2im kernels + cuBLAS GEMMs.

Same names and signatures as `backend.cpu.conv` (see there for layouts).
The forward pass and the kernel gradient build the patch matrix with the
`im2col_f32` kernel of `kernels/conv.cu` and multiply on cuBLAS
(`cupy.matmul`, one batched GEMM over the groups); the input gradient
multiplies first, then folds the columns back with `col2im_f32`, a gather
kernel (deterministic: no atomics). The batch is processed in chunks so the
patch matrix stays under `MAX_COL_BYTES`.

Kernels and GEMMs run in the input's type: float32, or float16 / bfloat16
with float32 accumulation (`precision.py`; other operands are cast to the
input's type); float64 inputs are computed in float32 and the result cast
back. CuPy is imported only inside the functions; the
`_conv_*` implementations take a runtime (`gpu.launch.CupyRuntime`, or the
CUDA emulator's in the tests), so the launch configuration is the same
code on the GPU and in the CPU tests.
"""

import numpy as np

from gkeras.backend.cpu.conv import conv_output_shape, _norm
from gkeras.backend.gpu import precision
from gkeras.backend.gpu.launch import cupy_runtime, grid_stride_1d, i32

__all__ = ["conv_forward", "conv_backward_input", "conv_backward_kernel",
           "conv_output_shape"]

KERNELS = "conv.cu"
BLOCK = 256
MAX_COL_BYTES = 512 * 1024 * 1024


def conv_geometry(x_shape, kernel_shape, out_shape, strides, pad, dilation):
    """Returns the 20 int32 geometry arguments after `N` of the conv.cu
    kernels (D, H, W, C, OD, OH, OW, KD, KH, KW, SD, SH, SW, PD, PH, PW, DD,
    DH, DW), 1-D/2-D problems lifted to 3-D with unit leading dims, plus G
    appended by the caller."""
    rank = len(x_shape) - 2
    lift = 3 - rank
    sp = (1,) * lift + tuple(x_shape[1:-1])
    osp = (1,) * lift + tuple(out_shape[1:-1])
    ks = (1,) * lift + tuple(kernel_shape[:rank])
    st = (1,) * lift + tuple(strides)
    pb = (0,) * lift + tuple(p[0] for p in pad)
    dl = (1,) * lift + tuple(dilation)
    return [*sp, x_shape[-1], *osp, *ks, *st, *pb, *dl]


def batch_chunks(n, per_sample_bytes, limit=None):
    """Splits range(n) into [(start, stop)] so that each chunk's buffer of
    `per_sample_bytes` per sample stays under `limit` (one sample at least)."""
    limit = MAX_COL_BYTES if limit is None else limit
    step = max(1, min(n, limit // max(1, per_sample_bytes)))
    return [(a, min(n, a + step)) for a in range(0, n, step)]


def _launch_1d(rt, name, total, args):
    grid, block = grid_stride_1d(total, BLOCK)
    rt.launch(KERNELS, name, grid, block,
              (*args[:2], np.int64(total), *args[2:]))


def _im2col(rt, xc, col, geom, groups):
    _launch_1d(rt, precision.entry("im2col", col.dtype), col.size,
               (xc, col, i32(xc.shape[0]), *map(i32, geom), i32(groups)))


def _conv_forward(rt, x, kernel, strides, padding, dilation_rate, groups):
    xp = rt.xp
    dtype = x.dtype
    out_shape, strides, pad, dil, groups = _norm(
        x.shape, kernel.shape, strides, padding, dilation_rate, groups)
    kdt = precision.kernel_dtype(xp, dtype)
    x, kernel = precision.as_kernel(xp, x, kdt), precision.as_kernel(
        xp, kernel, kdt)
    *ks, cg, f = kernel.shape
    k = int(np.prod(ks)) * cg
    fg = f // groups
    w = xp.ascontiguousarray(kernel.reshape(k, groups, fg).transpose(1, 0, 2))
    geom = conv_geometry(x.shape, kernel.shape, out_shape, strides, pad, dil)
    y = xp.empty(out_shape, kdt)
    per = int(np.prod(out_shape[1:-1]))
    for n0, n1 in batch_chunks(x.shape[0], per * groups * k * kdt.itemsize):
        m = (n1 - n0) * per
        col = xp.empty((groups, m, k), kdt)
        _im2col(rt, x[n0:n1], col, geom, groups)
        if groups == 1:
            y[n0:n1] = precision.matmul(rt, col[0], w[0]).reshape(
                (n1 - n0,) + out_shape[1:])
        else:
            yc = precision.matmul(rt, col, w)               # (G, m, Fg)
            y[n0:n1] = yc.transpose(1, 0, 2).reshape((n1 - n0,) + out_shape[1:])
    return y if dtype == kdt else y.astype(dtype)


def _conv_backward_input(rt, dy, kernel, x_shape, strides, padding,
                         dilation_rate, groups):
    xp = rt.xp
    dtype = dy.dtype
    x_shape = tuple(int(a) for a in x_shape)
    out_shape, strides, pad, dil, groups = _norm(
        x_shape, kernel.shape, strides, padding, dilation_rate, groups)
    if tuple(dy.shape) != out_shape:
        raise ValueError(f"conv_backward_input: `dy` must have shape "
                         f"{out_shape} for x_shape={x_shape}, kernel shape "
                         f"{tuple(kernel.shape)}; received {tuple(dy.shape)}")
    kdt = precision.kernel_dtype(xp, dtype)
    dy, kernel = precision.as_kernel(xp, dy, kdt), precision.as_kernel(
        xp, kernel, kdt)
    *ks, cg, f = kernel.shape
    k = int(np.prod(ks)) * cg
    fg = f // groups
    wt = xp.ascontiguousarray(kernel.reshape(k, groups, fg).transpose(1, 2, 0))
    geom = conv_geometry(x_shape, kernel.shape, out_shape, strides, pad, dil)
    dx = xp.empty(x_shape, kdt)
    per = int(np.prod(out_shape[1:-1]))
    for n0, n1 in batch_chunks(x_shape[0], per * groups * k * kdt.itemsize):
        m = (n1 - n0) * per
        d = dy[n0:n1].reshape(m, groups, fg)
        if groups == 1:
            dcol = precision.matmul(rt, d[:, 0, :], wt[0])[None]  # (1, m, K)
        else:
            dcol = precision.matmul(
                rt, xp.ascontiguousarray(d.transpose(1, 0, 2)), wt)
        dxc = dx[n0:n1]
        _launch_1d(rt, precision.entry("col2im", kdt), dxc.size,
                   (precision.as_kernel(xp, dcol, kdt), dxc, i32(n1 - n0),
                    *map(i32, geom), i32(groups)))
    return dx if dtype == kdt else dx.astype(dtype)


def _conv_backward_kernel(rt, dy, x, kernel_shape, strides, padding,
                          dilation_rate, groups):
    xp = rt.xp
    dtype = x.dtype
    kernel_shape = tuple(int(a) for a in kernel_shape)
    out_shape, strides, pad, dil, groups = _norm(
        x.shape, kernel_shape, strides, padding, dilation_rate, groups)
    if tuple(dy.shape) != out_shape:
        raise ValueError(f"conv_backward_kernel: `dy` must have shape "
                         f"{out_shape} for x shape {tuple(x.shape)}, "
                         f"kernel_shape={kernel_shape}; received "
                         f"{tuple(dy.shape)}")
    kdt = precision.kernel_dtype(xp, dtype)
    x, dy = precision.as_kernel(xp, x, kdt), precision.as_kernel(xp, dy, kdt)
    *ks, cg, f = kernel_shape
    k = int(np.prod(ks)) * cg
    fg = f // groups
    geom = conv_geometry(x.shape, kernel_shape, out_shape, strides, pad, dil)
    dw = None
    per = int(np.prod(out_shape[1:-1]))
    chunks = batch_chunks(x.shape[0], per * groups * k * kdt.itemsize)
    for n0, n1 in chunks:
        m = (n1 - n0) * per
        col = xp.empty((groups, m, k), kdt)
        _im2col(rt, x[n0:n1], col, geom, groups)
        d = dy[n0:n1].reshape(m, groups, fg)
        if groups == 1:
            part = precision.matmul(rt, col[0].T, d[:, 0, :])[None]  # (1, K, Fg)
        else:
            part = precision.matmul(rt, col.transpose(0, 2, 1),
                                    xp.ascontiguousarray(d.transpose(1, 0, 2)))
        if len(chunks) > 1 and kdt != np.float32:
            # Chunk sums add up in float32, rounded once at the end.
            part = part.astype(xp.float32)
        dw = part if dw is None else dw + part
    dw = xp.ascontiguousarray(dw.transpose(1, 0, 2)).reshape(kernel_shape)
    return dw if dw.dtype == dtype else dw.astype(dtype)


def conv_forward(x, kernel, strides, padding, dilation_rate, groups):
    """N-D convolution on the GPU; see `backend.cpu.conv.conv_forward`.

    Args:
        x: CuPy array `(N, *spatial, C_in)`.
        kernel: `(*kernel_size, C_in // groups, F)`.
        strides: one int per spatial dim.
        padding: one `(before, after)` pair per spatial dim.
        dilation_rate: one int per spatial dim.
        groups: number of channel groups.

    Returns:
        `y`, `(N, *out_spatial, F)`.
    """
    return _conv_forward(cupy_runtime(), x, kernel, strides, padding,
                         dilation_rate, groups)


def conv_backward_input(dy, kernel, x_shape, strides, padding, dilation_rate,
                        groups):
    """Input gradient (and transposed convolution) on the GPU; see
    `backend.cpu.conv.conv_backward_input`.

    Args:
        dy: `(N, *out_spatial, F)`.
        kernel: `(*kernel_size, C_in // groups, F)`.
        x_shape: `(N, *spatial, C_in)`.
        strides, padding, dilation_rate, groups: as in `conv_forward`.

    Returns:
        `dx` of shape `x_shape`.
    """
    return _conv_backward_input(cupy_runtime(), dy, kernel, x_shape, strides,
                                padding, dilation_rate, groups)


def conv_backward_kernel(dy, x, kernel_shape, strides, padding,
                         dilation_rate, groups):
    """Kernel gradient on the GPU; see
    `backend.cpu.conv.conv_backward_kernel`.

    Args:
        dy: `(N, *out_spatial, F)`.
        x: `(N, *spatial, C_in)`.
        kernel_shape: `(*kernel_size, C_in // groups, F)`.
        strides, padding, dilation_rate, groups: as in `conv_forward`.

    Returns:
        `dkernel` of shape `kernel_shape`.
    """
    return _conv_backward_kernel(cupy_runtime(), dy, x, kernel_shape,
                                 strides, padding, dilation_rate, groups)

