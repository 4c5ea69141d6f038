"""Patch and window ops of `ops.image`: `extract_patches`,
`extract_patches_3d`, `crop_images`, `pad_images` (differentiable)."""

import importlib
import numpy as np

from gkeras.backend.config import standardize_data_format
# `gkeras.ops.shape`/`gkeras.ops.conv` are shadowed by the ops of those
# names on the package, so the modules are fetched by their full name.
V = importlib.import_module("gkeras.ops.conv")
S = importlib.import_module("gkeras.ops.shape")
from gkeras.ops._base import keras_op
from gkeras.ops.image._utils import as_tensor, check_rank, const_like

__all__ = ["extract_patches", "extract_patches_3d", "crop_images",
           "pad_images"]


def _patches(x, size, strides, dilation_rate, padding, data_format, rank):
    data_format = standardize_data_format(data_format)
    if isinstance(size, int):
        size = (size,) * rank
    size = tuple(int(s) for s in size)
    if strides is None or (not isinstance(strides, int) and
                           len(strides) == 0) or strides == 0:
        strides = size
    cin = x.shape[-1] if data_format == "channels_last" \
        else x.shape[-rank - 1]
    out_dim = int(np.prod(size)) * cin
    # The identity kernel copies each window into the channel axis in
    # (rows, cols, channels) order: Keras's layout, and a plain conv.
    kernel = np.eye(out_dim, dtype=x.dtype).reshape(size + (cin, out_dim))
    unbatched = len(x.shape) == rank + 1
    if unbatched:
        x = S.expand_dims(x, 0)
    y = V.conv(x, const_like(kernel, x), strides=strides, padding=padding,
               data_format=data_format, dilation_rate=dilation_rate)
    return S.squeeze(y, 0) if unbatched else y


@keras_op
def extract_patches(images, size, strides=None, dilation_rate=1,
                    padding="valid", data_format=None):
    """Extracts patches from image(s) into the channel axis.

    Args:
        images: rank-3 or rank-4 tensor (rank 4/5 volumes when `size` has
            three entries).
        size: patch size, an int or `(h, w)` (or `(d, h, w)`).
        strides: step between patches; defaults to `size`.
        dilation_rate: dilation of the sampling grid.
        padding: `"valid"` or `"same"`.
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        `(batch, out_h, out_w, h * w * channels)` patches (channels_last).

    Example:
    >>> x = np.random.random((2, 20, 20, 3)).astype("float32")
    >>> gkeras.ops.image.extract_patches(x, 5).shape
    (2, 4, 4, 75)
    """
    if not isinstance(size, int):
        if not isinstance(size, (tuple, list)):
            raise TypeError(
                "Invalid `size` argument. Expected an int or a tuple. "
                f"Received: size={size} of type {type(size).__name__}")
        if len(size) not in (2, 3):
            raise ValueError(
                "Invalid `size` argument. Expected a tuple of length 2 or "
                f"3. Received: size={size} with length {len(size)}")
    x = as_tensor(images)
    rank = 3 if not isinstance(size, int) and len(size) == 3 else 2
    check_rank(x, ranks=(rank + 1, rank + 2))
    return _patches(x, size, strides, dilation_rate, padding, data_format,
                    rank)


@keras_op
def extract_patches_3d(volumes, size, strides=None, dilation_rate=1,
                       padding="valid", data_format=None):
    """Extracts 3-D patches from volume(s) into the channel axis.

    Args:
        volumes: rank-4 `(d, h, w, c)` or rank-5 tensor.
        size: an int or `(d, h, w)`.
        strides: step between patches; defaults to `size`.
        dilation_rate: dilation of the sampling grid.
        padding: `"valid"` or `"same"`.
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        `(batch, od, oh, ow, d * h * w * channels)` patches.

    Example:
    >>> x = np.random.random((1, 4, 4, 4, 2)).astype("float32")
    >>> gkeras.ops.image.extract_patches_3d(x, 2).shape
    (1, 2, 2, 2, 16)
    """
    if isinstance(size, int):
        size = (size, size, size)
    if len(size) != 3:
        raise TypeError("Invalid `size` argument. Expected an int or a "
                        f"tuple of length 3. Received: size={size}")
    if isinstance(strides, int):
        strides = (strides,) * 3
    if strides is not None and len(strides) != 3:
        raise ValueError(f"Invalid `strides` argument. Got: {strides}")
    x = as_tensor(volumes)
    check_rank(x, "volumes", ranks=(4, 5))
    return _patches(x, size, strides, dilation_rate, padding, data_format,
                    3)


def _nonneg(value, name):
    if value is not None and value < 0:
        raise ValueError(f"{name} must be >= 0. Received: {name}={value}")


def _two_of(a, b, t, names):
    if [a, b, t].count(None) != 1:
        raise ValueError(
            f"Must specify exactly two of {', '.join(names)}. Received: "
            f"{names[0]}={a}, {names[1]}={b}, {names[2]}={t}")
    for v, n in zip((a, b, t), names):
        _nonneg(v, n)


def _hw(x, data_format):
    nd = len(x.shape)
    return (nd - 3, nd - 2) if data_format == "channels_last" \
        else (nd - 2, nd - 1)


@keras_op
def pad_images(images, top_padding=None, left_padding=None,
               bottom_padding=None, right_padding=None, target_height=None,
               target_width=None, data_format=None):
    """Pads images with zeros to a target size or by given amounts.

    Exactly two of `top_padding`, `bottom_padding`, `target_height` (and
    of `left_padding`, `right_padding`, `target_width`) must be given.

    Args:
        images: rank-3 or rank-4 tensor.
        top_padding: rows added above.
        left_padding: columns added on the left.
        bottom_padding: rows added below.
        right_padding: columns added on the right.
        target_height: the output height.
        target_width: the output width.
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        The padded image(s).

    Example:
    >>> x = np.ones((15, 25, 3))
    >>> gkeras.ops.image.pad_images(x, 2, 3, target_height=20,
    ...                             target_width=30).shape
    (20, 30, 3)
    """
    data_format = standardize_data_format(data_format)
    x = as_tensor(images)
    if len(x.shape) not in (3, 4):
        raise ValueError(
            "Invalid images rank: expected rank 3 (single image) or rank 4 "
            f"(batch of images). Received: images.shape={tuple(x.shape)}")
    _two_of(top_padding, bottom_padding, target_height,
            ("top_padding", "bottom_padding", "target_height"))
    _two_of(left_padding, right_padding, target_width,
            ("left_padding", "right_padding", "target_width"))
    ha, wa = _hw(x, data_format)
    h, w = x.shape[ha], x.shape[wa]
    if top_padding is None:
        top_padding = target_height - bottom_padding - h
    if bottom_padding is None:
        bottom_padding = target_height - top_padding - h
    if left_padding is None:
        left_padding = target_width - right_padding - w
    if right_padding is None:
        right_padding = target_width - left_padding - w
    for v, n in ((top_padding, "top_padding"), (left_padding, "left_padding"),
                 (right_padding, "right_padding"),
                 (bottom_padding, "bottom_padding")):
        _nonneg(v, n)
    pad = [(0, 0)] * len(x.shape)
    pad[ha] = (int(top_padding), int(bottom_padding))
    pad[wa] = (int(left_padding), int(right_padding))
    return S.pad(x, pad)


@keras_op
def crop_images(images, top_cropping=None, left_cropping=None,
                bottom_cropping=None, right_cropping=None,
                target_height=None, target_width=None, data_format=None):
    """Crops images to a target size or by given amounts.

    Exactly two of `top_cropping`, `bottom_cropping`, `target_height` (and
    of `left_cropping`, `right_cropping`, `target_width`) must be given.

    Args:
        images: rank-3 or rank-4 tensor.
        top_cropping: rows removed from the top.
        left_cropping: columns removed from the left.
        bottom_cropping: rows removed from the bottom.
        right_cropping: columns removed from the right.
        target_height: the output height.
        target_width: the output width.
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        The cropped image(s).

    Example:
    >>> x = np.ones((20, 30, 3))
    >>> gkeras.ops.image.crop_images(x, 2, 3, target_height=15,
    ...                              target_width=25).shape
    (15, 25, 3)
    """
    data_format = standardize_data_format(data_format)
    x = as_tensor(images)
    if len(x.shape) not in (3, 4):
        raise ValueError(
            "Invalid images rank: expected rank 3 (single image) or rank 4 "
            f"(batch of images). Received: images.shape={tuple(x.shape)}")
    _two_of(top_cropping, bottom_cropping, target_height,
            ("top_cropping", "bottom_cropping", "target_height"))
    _two_of(left_cropping, right_cropping, target_width,
            ("left_cropping", "right_cropping", "target_width"))
    ha, wa = _hw(x, data_format)
    h, w = x.shape[ha], x.shape[wa]
    if top_cropping is None:
        top_cropping = h - target_height - bottom_cropping
    if target_height is None:
        target_height = h - bottom_cropping - top_cropping
    if left_cropping is None:
        left_cropping = w - target_width - right_cropping
    if target_width is None:
        target_width = w - right_cropping - left_cropping
    for v, n in ((top_cropping, "top_cropping"),
                 (target_height, "target_height"),
                 (left_cropping, "left_cropping"),
                 (target_width, "target_width")):
        _nonneg(v, n)
    key = [slice(None)] * len(x.shape)
    key[ha] = slice(int(top_cropping), int(top_cropping + target_height))
    key[wa] = slice(int(left_cropping), int(left_cropping + target_width))
    return S.getitem(x, tuple(key))
