"""`UpSampling1D/2D/3D`: repeat (nearest) or interpolate (bilinear)."""

import numpy as np

from gkeras import backend, ops
from gkeras.backend.config import standardize_data_format
from gkeras.layers.convolutional.base_conv import standardize_tuple
from gkeras.layers.input_spec import InputSpec
from gkeras.layers.layer import Layer
from gkeras.ops.engine import Function


def linear_resize_matrix(n, factor, dtype):
    """(n * factor, n) matrix of 1-D linear interpolation with half-pixel
    centres, edges clamped: what Keras's `image.resize(..., "bilinear")`
    (jax.image.resize) computes when upsampling by an integer factor."""
    out = n * factor
    pos = (np.arange(out) + 0.5) / factor - 0.5
    pos = np.clip(pos, 0, n - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    w = np.zeros((out, n), np.float64)
    w[np.arange(out), lo] += 1 - frac
    w[np.arange(out), hi] += frac
    return w.astype(dtype)


class _Resize2D(Function):
    """y[n, o, p, c] = sum_hw Wh[o, h] Ww[p, w] x[n, h, w, c]; one node."""

    def __init__(self, wh, ww):
        self.wh, self.ww = wh, ww

    def forward(self, x):
        xp = backend.get_array_module(x)
        t = xp.einsum("oh,nhwc->nowc", self.wh, x)
        return xp.einsum("pw,nowc->nopc", self.ww, t)

    def backward(self, gy):
        xp = backend.get_array_module(gy)
        t = xp.einsum("pw,nopc->nowc", self.ww, gy)
        return xp.einsum("oh,nowc->nhwc", self.wh, t)


class UpSampling1D(Layer):
    """Upsampling layer for 1D inputs: repeats each step `size` times.

    Args:
        size: the upsampling factor (int).

    Input shape:
        3D tensor `(batch_size, steps, features)`.

    Output shape:
        3D tensor `(batch_size, upsampled_steps, features)`.

    Example:
    >>> gkeras.layers.UpSampling1D(2)(np.ones((2, 3, 4))).shape
    (2, 6, 4)
    """

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = standardize_tuple(size, 1, "size",
                                      f"UpSampling1D layer {self.name!r}")[0]
        self.input_spec = InputSpec(ndim=3)

    def compute_output_shape(self, input_shape):
        n = input_shape[1]
        return (input_shape[0], None if n is None else n * self.size,
                input_shape[2])

    def call(self, inputs):
        return ops.repeat(inputs, self.size, axis=1)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class _BaseUpSampling(Layer):
    rank = None

    def __init__(self, size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.size = standardize_tuple(
            size, self.rank, "size",
            f"{type(self).__name__} layer {self.name!r}")
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _axes(self):
        return tuple(range(1, self.rank + 1)) \
            if self.data_format == "channels_last" \
            else tuple(range(2, self.rank + 2))

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for ax, f in zip(self._axes(), self.size):
            if out[ax] is not None:
                out[ax] *= f
        return tuple(out)

    def call(self, inputs):
        x = inputs
        for ax, f in zip(self._axes(), self.size):
            x = ops.repeat(x, f, axis=ax)
        return x

    def get_config(self):
        return {**super().get_config(), "size": self.size,
                "data_format": self.data_format}


class UpSampling2D(_BaseUpSampling):
    """Upsampling layer for 2D inputs (images).

    `interpolation="nearest"` repeats rows and columns; `"bilinear"`
    interpolates linearly with half-pixel centres and clamped edges;
    `"bicubic"`, `"lanczos3"` and `"lanczos5"` resize through
    `ops.image.resize`, as Keras does.

    Args:
        size: int or `(rows_factor, cols_factor)`.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        interpolation: `"nearest"`, `"bilinear"`, `"bicubic"`,
            `"lanczos3"` or `"lanczos5"`.

    Input shape:
        4D tensor `(batch_size, rows, cols, channels)` (channels_last).

    Output shape:
        4D tensor `(batch_size, upsampled_rows, upsampled_cols, channels)`.

    Example:
    >>> gkeras.layers.UpSampling2D((1, 2))(np.ones((2, 2, 1, 3))).shape
    (2, 2, 2, 3)
    """

    rank = 2

    def __init__(self, size=(2, 2), data_format=None,
                 interpolation="nearest", **kwargs):
        super().__init__(size, data_format, **kwargs)
        self.interpolation = str(interpolation).lower()
        if self.interpolation in ("area", "gaussian", "lanczos"):
            raise NotImplementedError(
                f"UpSampling2D layer {self.name!r}: interpolation="
                f"{interpolation!r} is not supported by gkeras (nor by "
                "Keras 3's image.resize); use 'nearest', 'bilinear', "
                "'bicubic', 'lanczos3' or 'lanczos5'.")
        if self.interpolation not in ("nearest", "bilinear", "bicubic",
                                      "lanczos3", "lanczos5"):
            raise ValueError(
                f"UpSampling2D layer {self.name!r}: `interpolation` must be "
                "one of 'nearest', 'bilinear', 'bicubic', 'lanczos3', "
                f"'lanczos5'. Received interpolation={interpolation!r}")

    def call(self, inputs):
        if self.interpolation == "nearest":
            return super().call(inputs)
        if self.interpolation != "bilinear":
            from gkeras.ops import image as image_ops
            ha, wa = self._axes()
            return image_ops.resize(
                inputs, (inputs.shape[ha] * self.size[0],
                         inputs.shape[wa] * self.size[1]),
                interpolation=self.interpolation,
                data_format=self.data_format)
        first = self.data_format == "channels_first"
        x = ops.transpose(inputs, (0, 2, 3, 1)) if first else inputs
        xp = backend.get_array_module(x.data)
        dt = x.dtype
        wh = linear_resize_matrix(x.shape[1], self.size[0], dt)
        ww = linear_resize_matrix(x.shape[2], self.size[1], dt)
        if xp is not np:
            wh, ww = backend.to_device(wh), backend.to_device(ww)
        y = _Resize2D(wh, ww)(x)
        return ops.transpose(y, (0, 3, 1, 2)) if first else y

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation}


class UpSampling3D(_BaseUpSampling):
    """Upsampling layer for 3D inputs: repeats along the three spatial
    axes.

    Args:
        size: int or tuple of 3 factors.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        5D tensor `(batch_size, dim1, dim2, dim3, channels)`
        (channels_last).

    Output shape:
        5D tensor with each spatial axis multiplied by its factor.

    Example:
    >>> gkeras.layers.UpSampling3D(2)(np.ones((1, 2, 2, 2, 1))).shape
    (1, 4, 4, 4, 1)
    """

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)
