"""Convolution GEMMs run in blocks of samples, each block's patch pass
(JIT im2col or col2im, `cnn_jit`) next to its GEMM while the patches are
still in cache.

Unblocked, the forward writes all the patches (18 MiB for the CNN's second
layer at batch 64), then the GEMM reads them back, then a bias pass reads
and writes the output; the input gradient writes the whole patch gradient
and col2im reads it back. In blocks of about `BLOCK_BYTES` of patches the
second touch hits the cache. Measured, 1 thread (CPU time), batch 64,
3x3 'same': forward + bias 16x16x32 -> 64: 11.8 -> 9.5 ms, 8x8x64 -> 128:
8.6 -> 8.0 ms; input gradient 9.0 -> 8.2 ms and 7.9 -> 7.0 ms.

The blocks run one after another on the calling thread, each GEMM on all
of BLAS's threads. They used to run as one share of the batch per pooled
thread with BLAS on one thread each; on a 2-vCPU KVM guest that was the
slower way by far, because each block hands the GIL between the two
threads three times (im2col, GEMM, bias) and every hand-over is a
hypervisor wake-up, while OpenBLAS's own threads spin-wait between calls.
Run instead as one compiled call a thread (the inference convolutions
of `conv_fused` are), the whole CNN training step was slower (b64, quiet
2-vCPU machine, 12 interleaved rounds: 86.2 ms against 77.7 inline,
paired 0.75-0.98): the pool's workers then compete for the cores with
OpenBLAS's threads, which spin-wait between the step's other BLAS calls.
Measured there, same run, medians (forward / input gradient, ms):
16x16x32 -> 64 7.6 / 8.0 on the pool against 5.4 / 4.6 inline in 4 MiB
blocks (6.2 / 5.4 in 1 MiB blocks, 6.0 / 5.2 unblocked); 8x8x64 -> 128
7.2 / 7.2 against 3.9 / 3.8. The whole CNN train step went from 72.4 to
59.7 ms with the pool's workers off.

NumPy-only extras used by `conv.py` when the JIT is on, for one group, 1-2
spatial dims, float32/float64 and more than `NARROW_CHANNELS` input
channels (narrow inputs build channel-first patches); each returns None
when it does not apply and the caller runs the whole-batch path.
"""

import numpy as np

from gkeras.backend.cpu import cnn_jit, jit

__all__ = ["forward", "backward_input"]

# Patches per block: small enough to stay in the shared L3 between the
# im2col and the GEMM, large enough that the GEMM keeps BLAS's threads
# busy (4 MiB measured best against 1, 16 and unblocked; see above).
BLOCK_BYTES = 4 << 20


def _applies(a, rank, channels, narrow):
    return (jit.enabled() and rank in (1, 2) and type(a) is np.ndarray
            and a.dtype in (np.float32, np.float64) and a.flags.c_contiguous
            and channels > narrow and a.size > 0)




def _run_blocks(n, per_sample_bytes, block):
    """Runs `block(a, b)` over consecutive sample ranges of about
    BLOCK_BYTES of patches, on the calling thread (see the module
    docstring for why not on the pool)."""
    nb = max(1, BLOCK_BYTES // max(per_sample_bytes, 1))
    for a in range(0, n, nb):
        block(a, min(a + nb, n))


def _as_2d(ksize, out, strides, pad, dil):
    if len(ksize) == 2:
        return ksize, out, strides, pad, dil
    return ((1, *ksize), (1, *out), (1, *strides), ((0, 0), *pad),
            (1, *dil))


def forward(x, kernel, out_shape, strides, pad, dil, bias, keep, narrow):
    """`conv_forward_keep_cols` for one group, with an optional bias.

    Args:
        x: `(N, *spatial, C)`.
        kernel: `(*kernel_size, C, F)`.
        out_shape: `(N, *out, F)`.
        strides, pad, dil: normalized, one entry per spatial dim.
        bias: `(F,)` of the dtype of `x`, or None.
        keep: whether to return the patches (the kernel gradient's).
        narrow: channel counts up to this build channel-first patches.

    Returns:
        `(y, cols)` with `cols` `(1, M, K)` or None, or None when this
        path does not apply.
    """
    rank = x.ndim - 2
    if not _applies(x, rank, x.shape[-1], narrow) or (
            bias is not None and (type(bias) is not np.ndarray
                                  or bias.dtype != x.dtype)):
        return None
    ksize, out, st, pd, dl = _as_2d(kernel.shape[:rank], out_shape[1:-1],
                                    strides, pad, dil)
    n, c, f = x.shape[0], x.shape[-1], kernel.shape[-1]
    per = out[0] * out[1]
    k = ksize[0] * ksize[1] * c
    w = np.ascontiguousarray(kernel.reshape(k, f))
    x4 = x.reshape(n, *(x.shape[1:-1] if rank == 2 else (1, x.shape[1])), c)
    y = np.empty((n * per, f), x.dtype)
    cols = np.empty((n * per, k), x.dtype) if keep else None
    args = (out[0], out[1], ksize[0], ksize[1], st[0], st[1], pd[0][0],
            pd[1][0], dl[0], dl[1])

    def block(a, b):
        dst = cols[a * per:b * per] if keep else np.empty(
            ((b - a) * per, k), x.dtype)
        cnn_jit._im2col_kernel(x4[a:b], 0, b - a, *args, dst)
        np.matmul(dst, w, out=y[a * per:b * per])
        if bias is not None:
            cnn_jit._bias_kernel(y, a * per, b * per, bias)
    _run_blocks(n, per * k * x.itemsize, block)
    return y.reshape(out_shape), (None if cols is None else cols[None])


def backward_input(dy, kernel, x_shape, strides, pad, dil, narrow):
    """`conv_backward_input` for one group: per block of samples, the
    patch-gradient GEMM and its col2im.

    Args:
        dy: `(N, *out, F)`.
        kernel: `(*kernel_size, C, F)`.
        x_shape: `(N, *spatial, C)`.
        strides, pad, dil: normalized, one entry per spatial dim.
        narrow: as in `forward` (the same inputs take this path).

    Returns:
        `dx` of shape `x_shape`, or None when this path does not apply.
    """
    rank = dy.ndim - 2
    if not _applies(dy, rank, x_shape[-1], narrow) or \
            kernel.dtype != dy.dtype:
        return None
    ksize, out, st, pd, dl = _as_2d(kernel.shape[:rank], dy.shape[1:-1],
                                    strides, pad, dil)
    n, c, f = x_shape[0], x_shape[-1], kernel.shape[-1]
    per = out[0] * out[1]
    k = ksize[0] * ksize[1] * c
    d = dy.reshape(n * per, f)
    dx = np.empty(x_shape, dy.dtype)
    dx4 = dx.reshape(n, *(x_shape[1:-1] if rank == 2 else (1, x_shape[1])),
                     c)
    args = (out[0], out[1], ksize[0], ksize[1], st[0], st[1], pd[0][0],
            pd[1][0], dl[0], dl[1])
    wt = np.ascontiguousarray(kernel.reshape(k, f).T)

    def block(a, b):
        dcol = d[a * per:b * per] @ wt
        cnn_jit._col2im_kernel(dcol, 0, b - a, *args, dx4[a:b])
    _run_blocks(n, per * k * dy.itemsize, block)
    return dx
