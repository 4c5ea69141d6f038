"""Inference-only fused convolution: Conv2D + bias, an optional inference
BatchNormalization, ReLU and a 'valid' max pool as one blocked pass
(`backend.cpu.conv_fused`).

No autograd node: this runs only when no tape records (inference), on
NumPy arrays, and returns None whenever it does not apply, so the caller
(`models.inference_fusion`) runs the layers one by one instead. The
BatchNormalization's per-channel `scale` and `shift` are computed from
the variables passed in, at every call, with `ops.batch_normalization`'s
arithmetic, so weight changes take effect at once.
"""

import numpy as np

from gkeras.backend.cpu import conv_fused as _cpu_conv_fused
from gkeras.ops.conv import compute_conv_padding
from gkeras.ops.engine import Tensor, is_recording

__all__ = ["conv_inference_fused"]


def _array(v):
    return v.data if isinstance(v, Tensor) else getattr(v, "data", v)


def _bn_affine(mean, variance, gamma, beta, epsilon):
    """`(scale, shift)` with `y = x * scale + shift`, step for step as
    `ops.normalization._normalize_arrays` computes `inv` and `res`."""
    inv = 1.0 / np.sqrt(variance + epsilon)
    if gamma is not None:
        inv = inv * gamma
    res = -(mean * inv)
    if beta is not None:
        res = res + beta
    return inv, res


def conv_inference_fused(x, kernel, bias=None, bn=None, relu=False,
                         pool=None, strides=(1, 1), padding="valid",
                         dilation_rate=(1, 1)):
    """`max_pool(relu(batch_norm(conv(x, kernel) + bias)))` for inference,
    channels-last 2-D, one group; None when it does not apply.

    Args:
        x: `(N, H, W, C)` tensor or array.
        kernel: `(kh, kw, C, F)` variable, tensor or array.
        bias: optional `(F,)`.
        bn: None, or `(mean, variance, gamma, beta, epsilon)` of an
            inference BatchNormalization over the channels (`gamma`,
            `beta` None when the layer has none).
        relu: whether ReLU follows.
        pool: None, or `(pool_size, strides)` of a 'valid' 2-D max pool.
        strides, dilation_rate: two ints.
        padding: `"valid"` or `"same"`.

    Returns:
        A `Tensor`, or None (nothing was computed: run the layers).

    Example:
    >>> y = conv_inference_fused(x, kernel, bias, relu=True,
    ...                          pool=((2, 2), (2, 2)), padding="same")
    """
    if is_recording():
        return None
    a = _array(x)
    w = _array(kernel)
    if type(a) is not np.ndarray or a.ndim != 4 or \
            type(w) is not np.ndarray or w.ndim != 4 or \
            a.dtype not in (np.float32, np.float64) or w.dtype != a.dtype:
        return None
    f = w.shape[-1]
    vecs = [_array(v) for v in (bias,) + (tuple(bn[:4]) if bn else ())]
    if any(v is not None and (type(v) is not np.ndarray or v.dtype != a.dtype
                              or v.shape != (f,)) for v in vecs):
        return None
    b = vecs[0] if vecs[0] is not None else np.zeros(f, a.dtype)
    if bn is not None:
        scale, shift = _bn_affine(*vecs[1:], bn[4])
    else:
        scale, shift = np.ones(f, a.dtype), np.zeros(f, a.dtype)
    pads = compute_conv_padding(a.shape[1:3], w.shape[:2], strides, padding,
                                dilation_rate)
    for n, p, k, d in zip(a.shape[1:3], pads, w.shape[:2], dilation_rate):
        if n + p[0] + p[1] < d * (k - 1) + 1:
            return None             # the layer raises its own error
    y = _cpu_conv_fused.conv_affine_relu_pool(
        np.ascontiguousarray(a), w, b, scale.astype(a.dtype, copy=False),
        shift.astype(a.dtype, copy=False), relu, pool, tuple(strides), pads,
        tuple(dilation_rate))
    return None if y is None else Tensor(y)
