"""Deterministic image preprocessing layers: `Rescaling`, `Resizing`,
`CenterCrop`.

The resampling helpers here (`resize_images`, `affine_images`) are shared
with the random augmentation layers of `image_augmentation`.
"""

import numpy as np

from gkeras import backend, ops
from gkeras.backend.config import (image_data_format,
                                   standardize_data_format)
from gkeras.backend.device_constants import device_constant
from gkeras.layers.layer import Layer
from gkeras.ops import image as image_ops
from gkeras.ops.image.resize import RESIZE_INTERPOLATIONS
from gkeras.ops._base import arr, xp_of

__all__ = ["Rescaling", "Resizing", "CenterCrop"]

_UNSUPPORTED_INTERPOLATIONS = ("area", "gaussian", "mitchellcubic",
                               "lanczos")


def check_interpolation(layer, interpolation, allowed=("bilinear",
                                                       "nearest")):
    """Validates `interpolation` for `layer`, raising NotImplementedError
    for Keras modes gkeras does not implement."""
    if interpolation in _UNSUPPORTED_INTERPOLATIONS:
        raise NotImplementedError(
            f"{type(layer).__name__} layer {layer.name!r}: interpolation="
            f"{interpolation!r} is not supported by gkeras; use one of "
            f"{list(allowed)}.")
    if interpolation not in allowed:
        raise ValueError(
            f"{type(layer).__name__} layer {layer.name!r}: invalid value for "
            f"argument `interpolation`. Expected one of {list(allowed)}. "
            f"Received: interpolation={interpolation!r}")
    return interpolation


def check_size(layer, value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or value < 1:
        raise ValueError(
            f"{type(layer).__name__} layer {layer.name!r}: `{name}` must be "
            f"a positive integer. Received: {name}={value!r}")
    return int(value)


def hw_axes(ndim, data_format, layer=None):
    """(height_axis, width_axis) of a rank-3 or rank-4 image tensor."""
    if ndim not in (3, 4):
        who = f"{type(layer).__name__} layer {layer.name!r}: " if layer \
            else ""
        raise ValueError(
            f"{who}expected the input image to be rank 3 (single image) or "
            f"rank 4 (batch of images). Received input of rank {ndim}")
    return (ndim - 2, ndim - 1) if data_format == "channels_first" \
        else (ndim - 3, ndim - 2)


def sized_image_shape(input_shape, height, width, data_format, layer=None):
    """`input_shape` with its height and width axes set to `height`,
    `width` (the output shape of the resizing and cropping layers)."""
    shape = list(input_shape)
    ha, wa = hw_axes(len(shape), data_format, layer)
    shape[ha], shape[wa] = height, width
    return tuple(shape)


def resize_images(x, height, width, interpolation="bilinear",
                  data_format="channels_last", antialias=False):
    """Resizes a rank-3/4 float tensor to `(height, width)` through
    `ops.image.resize` (differentiable)."""
    return image_ops.resize(x, (height, width), interpolation=interpolation,
                            antialias=antialias, data_format=data_format)


def affine_images(x, matrices, offsets, interpolation, fill_mode,
                  fill_value, data_format):
    """Resamples each image of a rank-3/4 float tensor with its own affine
    map from output to input `(row, col)` coordinates, through
    `ops.image.affine_transform` (Keras's sampling and fill modes; on
    NumPy or CuPy, differentiable with respect to the images).

    Args:
        x: Tensor, one image or a batch.
        matrices: `(batch, 2, 2)` float64 NumPy array.
        offsets: `(batch, 2)` float64 NumPy array.
        interpolation: `"bilinear"` or `"nearest"`.
        fill_mode: `"reflect"`, `"wrap"`, `"constant"` or `"nearest"`.
        fill_value: the fill for `"constant"`.
        data_format: layout of `x`.

    Returns:
        A Tensor like `x`.
    """
    m = np.asarray(matrices, np.float64)
    off = np.asarray(offsets, np.float64)
    n = m.shape[0]
    # (row_in, col_in) = M (row, col) + offset, in Keras's transform order
    # [a0, a1, a2, b0, b1, b2, c0, c1] with x = col and y = row.
    t = np.stack([m[:, 1, 1], m[:, 1, 0], off[:, 1], m[:, 0, 1], m[:, 0, 0],
                  off[:, 0], np.zeros(n), np.zeros(n)], axis=1)
    a = arr(x)
    t = t.astype(a.dtype if np.dtype(a.dtype).kind == "f" else np.float32)
    if xp_of(a) is not np:
        t = backend.to_device(t)
    if a.ndim == 3:
        t = t[0]
    return image_ops.affine_transform(
        x, t, interpolation=interpolation, fill_mode=fill_mode,
        fill_value=fill_value, data_format=data_format)


def cast_back(y, dtype):
    """Rounds and saturates a float result into the integer `dtype` of the
    original input, as Keras's Resizing does; floats pass through."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        y = ops.clip(ops.round(y), float(info.min), float(info.max))
    elif dtype.kind == "b":
        return ops.cast(y, dtype)
    return ops.cast(y, dtype) if y.dtype != dtype else y


def _float_dtype(layer, x):
    dt = np.dtype(x.dtype)
    return dt if dt.kind == "f" else np.dtype(layer.compute_dtype)


class Rescaling(Layer):
    """A preprocessing layer which rescales input values to a new range.

    Computes `inputs * scale + offset` in the layer's compute dtype; e.g.
    `scale=1/255` maps `[0, 255]` to `[0, 1]`, and `scale=1/127.5,
    offset=-1` maps it to `[-1, 1]`.

    Args:
        scale: float, or a list of per-channel floats.
        offset: float, or a list of per-channel floats.
        **kwargs: base layer keyword arguments (`name`, `dtype`).

    Returns:
        A tensor of the input's shape in the compute dtype.

    Example:
    >>> gkeras.layers.Rescaling(1 / 255)(np.array([[0, 255]])).numpy()
    array([[0., 1.]], dtype=float32)
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        for name, v in (("scale", scale), ("offset", offset)):
            try:
                np.asarray(v, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"Rescaling layer {self.name!r}: `{name}` must be a "
                    f"number or a list of numbers. Received: {name}={v!r}"
                ) from None
        self.scale = scale
        self.offset = offset
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        dtype = self.compute_dtype
        scale = np.asarray(self.scale, dtype=dtype)
        offset = np.asarray(self.offset, dtype=dtype)
        # Per-channel constants broadcast over the trailing axes; with
        # channels_first they must sit on axis -3 instead.
        if scale.ndim > 0 and image_data_format() == "channels_first":
            scale = scale.reshape(scale.shape + (1,) * (3 - scale.ndim))
        # On the GPU: copied to the device once, not every call.
        scale = device_constant(scale, dtype)
        offset = device_constant(offset, dtype)
        x = ops.cast(inputs, dtype)
        return ops.add(ops.multiply(x, scale), offset)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": self.scale,
                "offset": self.offset}


class Resizing(Layer):
    """A preprocessing layer which resizes images to `(height, width)`.

    Resampling goes through `gkeras.ops.image.resize` (half-pixel centres,
    as `jax.image.resize`). Integer inputs are rounded and saturated back
    to their dtype.

    Args:
        height: int, output height.
        width: int, output width.
        interpolation: `"bilinear"` (default), `"nearest"`, `"bicubic"`,
            `"lanczos3"` or `"lanczos5"` (as `ops.image.resize`).
        crop_to_aspect_ratio: if True, first crop the largest centred
            window with the target aspect ratio.
        pad_to_aspect_ratio: if True, first pad the image evenly on both
            sides (with `fill_value`) to the target aspect ratio.
        fill_mode: padding mode for `pad_to_aspect_ratio`; only
            `"constant"`.
        fill_value: padding value for `pad_to_aspect_ratio`.
        antialias: whether to antialias when downsampling.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        3D `(height, width, channels)` or 4D `(batch, height, width,
        channels)` (channels_last).

    Output shape:
        The same rank with `height` and `width` replaced.

    Example:
    >>> gkeras.layers.Resizing(4, 4)(np.zeros((2, 8, 8, 3))).shape
    (2, 4, 4, 3)
    """

    def __init__(self, height, width, interpolation="bilinear",
                 crop_to_aspect_ratio=False, pad_to_aspect_ratio=False,
                 fill_mode="constant", fill_value=0.0, antialias=False,
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = check_size(self, height, "height")
        self.width = check_size(self, width, "width")
        self.interpolation = check_interpolation(
            self, interpolation, RESIZE_INTERPOLATIONS)
        self.data_format = standardize_data_format(data_format)
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(
                f"Resizing layer {self.name!r}: only one of "
                "`pad_to_aspect_ratio` and `crop_to_aspect_ratio` can be "
                "True. Received: crop_to_aspect_ratio=True, "
                "pad_to_aspect_ratio=True")
        if fill_mode != "constant":
            raise ValueError(
                f"Resizing layer {self.name!r}: invalid value for argument "
                "`fill_mode`. Only 'constant' is supported. Received: "
                f"fill_mode={fill_mode!r}")
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = bool(antialias)
        self.built = True

    def call(self, inputs):
        in_dtype = inputs.dtype
        x = ops.cast(inputs, _float_dtype(self, inputs))
        ha, wa = hw_axes(len(x.shape), self.data_format, self)
        h, w = x.shape[ha], x.shape[wa]
        th, tw = self.height, self.width
        if self.crop_to_aspect_ratio:
            ch = max(min(h, int(float(w * th) / tw)), 1)
            cw = max(min(w, int(float(h * tw) / th)), 1)
            x = _crop(x, ha, wa, int(float(h - ch) / 2),
                      int(float(w - cw) / 2), ch, cw)
        elif self.pad_to_aspect_ratio:
            ph = max(h, int(float(w * th) / tw))
            pw = max(w, int(float(h * tw) / th))
            # Keras pads the same amount on both sides (the rounding may
            # leave the padded ratio one pixel off the target).
            hs, ws = int(float(ph - h) / 2), int(float(pw - w) / 2)
            pad = [(0, 0)] * len(x.shape)
            if hs > 0:
                pad[ha] = (hs, hs)
            elif ws > 0:
                pad[wa] = (ws, ws)
            if hs > 0 or ws > 0:
                x = ops.pad(x, pad, constant_values=self.fill_value)
        y = resize_images(x, th, tw, self.interpolation, self.data_format,
                          self.antialias)
        return cast_back(y, in_dtype)

    def compute_output_shape(self, input_shape):
        return sized_image_shape(input_shape, self.height, self.width,
                                 self.data_format, self)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "height": self.height, "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
                "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                "antialias": self.antialias}


def _crop(x, ha, wa, top, left, height, width):
    idx = [slice(None)] * len(x.shape)
    idx[ha] = slice(top, top + height)
    idx[wa] = slice(left, left + width)
    return x[tuple(idx)]


def smart_resize(x, height, width, data_format):
    """Centre crop to the target aspect ratio, then bilinear resize (as
    Keras's `image_utils.smart_resize`)."""
    ha, wa = hw_axes(len(x.shape), data_format)
    h, w = x.shape[ha], x.shape[wa]
    ch = max(min(h, int(float(w * height) / width)), 1)
    cw = max(min(w, int(float(h * width) / height)), 1)
    x = _crop(x, ha, wa, int(float(h - ch) / 2), int(float(w - cw) / 2),
              ch, cw)
    return resize_images(x, height, width, "bilinear", data_format)


class CenterCrop(Layer):
    """A preprocessing layer which crops the centre of images.

    Images at least as large as the target are cropped to a centred
    `(height, width)` window; smaller ones are cropped to the target
    aspect ratio and resized (bilinear), as Keras does. Output is in the
    compute dtype.

    Args:
        height: int, output height.
        width: int, output width.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        3D `(height, width, channels)` or 4D `(batch, height, width,
        channels)` (channels_last).

    Output shape:
        The same rank with `height` and `width` replaced.

    Example:
    >>> gkeras.layers.CenterCrop(2, 2)(np.zeros((1, 4, 4, 3))).shape
    (1, 2, 2, 3)
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = check_size(self, height, "height")
        self.width = check_size(self, width, "width")
        self.data_format = standardize_data_format(data_format)
        self.built = True

    def call(self, inputs):
        x = ops.cast(inputs, self.compute_dtype)
        ha, wa = hw_axes(len(x.shape), self.data_format, self)
        h, w = x.shape[ha], x.shape[wa]
        if h >= self.height and w >= self.width:
            return _crop(x, ha, wa, (h - self.height) // 2,
                         (w - self.width) // 2, self.height, self.width)
        return smart_resize(x, self.height, self.width, self.data_format)

    def compute_output_shape(self, input_shape):
        return sized_image_shape(input_shape, self.height, self.width,
                                 self.data_format, self)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "height": self.height, "width": self.width}
