"""Inference convolution with its per-channel affine, ReLU and max
pooling applied per block of samples while the block is in cache.

A Conv2D -> BatchNormalization -> ReLU -> MaxPooling2D chain run layer by
layer passes over the full convolution output three more times after the
GEMM (the BatchNorm CNN's first layer at batch 64: 8 MiB each, 2.2 ms of
its 5.0 ms, 1 thread). Here each block of samples' GEMM output (about
`conv_blocks.BLOCK_BYTES` of patches, so a few MiB at most) goes through
one JIT pass that adds the bias, applies `y * scale + shift` and ReLU and
takes the window maxima, writing only the (pooled) result.

NumPy-only extra (no GPU counterpart, not in a family's `__all__`):
`ops.conv_fused` calls it for inference; it returns None for what it does
not handle (the caller runs the layers one by one, the reference path).
The arithmetic is the layers', step for step: `(conv + bias) * scale +
shift` with the BatchNorm's `scale`/`shift` computed as `ops.
batch_normalization` does, ReLU as `max(v, 0)` with NaN propagating, and
max pooling with `cnn_jit`'s NaN and tie rules.
"""

import numpy as np

from gkeras.backend.cpu import cnn_jit, conv, conv_blocks, jit

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
    out_shape = conv.conv_output_shape(x.shape, kernel.shape, strides, pad,
                                       dil)
    n, oh, ow, f = out_shape
    if pool is None:
        pp = (0, 0, 1, 1)
        final = out_shape
    else:
        (ph, pw), (sh, sw) = pool
        if oh < ph or ow < pw:
            return None
        pp = (ph, pw, sh, sw)
        final = (n, _pooled(oh, ph, sh), _pooled(ow, pw, sw), f)
    kh, kw, c, _ = kernel.shape
    per = oh * ow
    k = kh * kw * c
    w = np.ascontiguousarray(kernel.reshape(k, f))
    out = np.empty(final, x.dtype)
    args = (oh, ow, kh, kw, strides[0], strides[1], pad[0][0], pad[1][0],
            dil[0], dil[1])
    narrow = c <= conv.NARROW_CHANNELS
    if narrow:
        # Few channels: the whole batch's channel-first patches in one
        # NumPy pass (`conv._im2col_narrow`), read per block as an
        # F-ordered matrix.
        cols_t = conv._im2col_narrow(x, (kh, kw), (oh, ow), tuple(strides),
                                     pad, tuple(dil))[0]

    def block(a, b):
        if narrow:
            patches = cols_t[a * per:b * per]
        else:
            patches = np.empty(((b - a) * per, k), x.dtype)
            cnn_jit._im2col_kernel(x[a:b], 0, b - a, *args, patches)
        y = np.matmul(patches, w)
        _epilogue_kernel(y.reshape(b - a, oh, ow, f), bias, scale, shift,
                         bool(relu), *pp, out[a:b])
    # One contiguous share of the batch a thread (the lead's policy lives
    # in `_run_blocks`), blocks of about BLOCK_BYTES of patches.
    conv_blocks._run_blocks(n, per * k * x.itemsize, block)
    return out
