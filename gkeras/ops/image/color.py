"""Colour-space ops of `ops.image`: `rgb_to_grayscale`, `rgb_to_hsv`,
`hsv_to_rgb` (composed of differentiable element-wise ops)."""

import importlib
import numpy as np

from gkeras.ops import core as C
from gkeras.ops import elementwise as E
# `gkeras.ops.shape`/`gkeras.ops.conv` are shadowed by the ops of those
# names on the package, so the modules are fetched by their full name.
S = importlib.import_module("gkeras.ops.shape")
from gkeras.ops._base import keras_op
from gkeras.ops.image._utils import (as_tensor, check_rank, const_like,
                                     data_format_of)

__all__ = ["rgb_to_grayscale", "rgb_to_hsv", "hsv_to_rgb"]


def _channels_axis(data_format):
    return -1 if data_format == "channels_last" else -3


@keras_op
def rgb_to_grayscale(images, data_format=None):
    """Converts RGB images to grayscale (ITU-R 601 luma weights).

    Args:
        images: rank-3 or rank-4 tensor with 3 (RGB) or 1 channels.
        data_format: `"channels_last"` or `"channels_first"`; defaults to
            `gkeras.config.image_data_format()`.

    Returns:
        Grayscale image(s) with one channel, in the input's dtype.

    Example:
    >>> x = np.ones((2, 4, 4, 3), "float32")
    >>> gkeras.ops.image.rgb_to_grayscale(x).shape
    (2, 4, 4, 1)
    """
    data_format = data_format_of(data_format)
    x = as_tensor(images)
    check_rank(x)
    axis = _channels_axis(data_format)
    if x.shape[axis] not in (1, 3):
        raise ValueError(
            "Invalid channel size: expected 3 (RGB) or 1 (Grayscale). "
            f"Received input with shape: images.shape={tuple(x.shape)}")
    if x.shape[axis] == 1:
        return E.add(x, 0) if np.dtype(x.dtype).kind == "f" else \
            C.cast(x, x.dtype)
    dtype = np.dtype(x.dtype)
    xf = x if dtype.kind == "f" else C.cast(x, "float32")
    w = np.array([0.2989, 0.5870, 0.1140], dtype=xf.dtype)
    shape = [1] * len(x.shape)
    shape[axis] = 3
    gray = E.multiply(xf, const_like(w.reshape(shape), x))
    from gkeras.ops import reduction as R
    gray = R.sum(gray, axis=axis, keepdims=True)
    return C.cast(gray, dtype) if gray.dtype != dtype else gray


def _split3(x, axis):
    parts = S.split(x, 3, axis=axis)
    return [S.squeeze(p, axis) for p in parts]


@keras_op
def rgb_to_hsv(images, data_format=None):
    """Converts RGB images to HSV, all three channels in `[0, 1]`.

    Args:
        images: float rank-3 or rank-4 tensor with 3 channels, values in
            `[0, 1]`.
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        HSV image(s) of the same shape and dtype.

    Example:
    >>> x = np.array([[[1.0, 0.0, 0.0]]], "float32")
    >>> gkeras.ops.image.rgb_to_hsv(x).numpy()
    array([[[0., 1., 1.]]], dtype=float32)
    """
    data_format = data_format_of(data_format)
    x = as_tensor(images)
    check_rank(x)
    dtype = np.dtype(x.dtype)
    if dtype.kind != "f":
        raise ValueError("Invalid images dtype: expected float dtype. "
                         f"Received: images.dtype={dtype.name}")
    axis = _channels_axis(data_format)
    eps = float(np.finfo(dtype).eps)
    x = E.where(E.less(E.abs(x), eps), 0.0, x)
    r, g, b = _split3(x, axis)
    value = E.maximum(E.maximum(r, g), b)
    minimum = E.minimum(E.minimum(r, g), b)
    range_ = E.subtract(value, minimum)
    pos_v = E.greater(value, 0)
    pos_r = E.greater(range_, 0)
    safe_value = E.where(pos_v, value, 1.0)
    safe_range = E.where(pos_r, range_, 1.0)
    saturation = E.where(pos_v, E.divide(range_, safe_value), 0.0)
    norm = E.divide(1.0, E.multiply(6.0, safe_range))
    hue = E.where(E.equal(value, g),
                  E.add(E.multiply(norm, E.subtract(b, r)), 2.0 / 6.0),
                  E.add(E.multiply(norm, E.subtract(r, g)), 4.0 / 6.0))
    hue = E.where(E.equal(value, r), E.multiply(norm, E.subtract(g, b)), hue)
    hue = E.add(E.where(pos_r, hue, 0.0),
                C.cast(E.less(hue, 0.0), hue.dtype))
    out = S.stack([hue, saturation, value], axis=axis)
    return C.cast(out, dtype) if out.dtype != dtype else out


@keras_op
def hsv_to_rgb(images, data_format=None):
    """Converts HSV images (channels in `[0, 1]`) to RGB.

    Args:
        images: float rank-3 or rank-4 tensor with 3 channels.
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        RGB image(s) of the same shape and dtype.

    Example:
    >>> x = np.array([[[0.0, 1.0, 1.0]]], "float32")
    >>> gkeras.ops.image.hsv_to_rgb(x).numpy()
    array([[[1., 0., 0.]]], dtype=float32)
    """
    data_format = data_format_of(data_format)
    x = as_tensor(images)
    check_rank(x)
    dtype = np.dtype(x.dtype)
    if dtype.kind != "f":
        raise ValueError("Invalid images dtype: expected float dtype. "
                         f"Received: images.dtype={dtype.name}")
    axis = _channels_axis(data_format)
    hue, sat, val = _split3(x, axis)
    # hue - floor(hue) is mod(hue, 1) with the gradient kept (ops.mod
    # passes none to its first argument).
    dh = E.multiply(E.subtract(hue, E.floor(hue)), 6.0)
    dr = E.clip(E.subtract(E.abs(E.subtract(dh, 3.0)), 1.0), 0.0, 1.0)
    dg = E.clip(E.subtract(2.0, E.abs(E.subtract(dh, 2.0))), 0.0, 1.0)
    db = E.clip(E.subtract(2.0, E.abs(E.subtract(dh, 4.0))), 0.0, 1.0)
    one_minus_s = E.subtract(1.0, sat)
    planes = [E.multiply(val, E.add(one_minus_s, E.multiply(sat, d)))
              for d in (dr, dg, db)]
    out = S.stack(planes, axis=axis)
    return C.cast(out, dtype) if out.dtype != dtype else out
