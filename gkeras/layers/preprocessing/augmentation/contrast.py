"""Contrast layers of Keras 3: `AutoContrast` (min-max stretch) and
`Equalization` (histogram equalization); not random."""

import numpy as np

from gkeras import ops
from gkeras.layers.preprocessing.augmentation.base import (
    BaseAugmentation, parse_value_range, saturate_like,
    transform_value_range)
from gkeras.ops._base import arr, xp_of

__all__ = ["AutoContrast", "Equalization"]


def _histogram(idx, n):
    """Counts of the int indices `idx` in `[0, n)` (a scatter-add into a
    fixed-size array: unlike `cupy.bincount`, no device-to-host read of
    the largest index)."""
    from gkeras import backend
    xp = xp_of(idx)
    hist = xp.zeros(n, dtype=xp.float32)
    backend.kernels_for(hist).scatter_add(
        hist, idx.astype(xp.int64), xp.ones(idx.shape, dtype=xp.float32))
    return hist


class AutoContrast(BaseAugmentation):
    """Stretches each image's channels to the full `value_range` (per
    image and channel min to max); constant channels are kept.

    Not random: it applies in training and inference alike.

    Args:
        value_range: `(min, max)` of the input values.

    Example:
    >>> layer = gkeras.layers.AutoContrast()
    >>> layer(np.array([[[[50.0], [100.0]]]])).numpy().ravel()
    array([  0., 255.], dtype=float32)
    """

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = parse_value_range(self, value_range)

    def _contrast(self, images):
        in_dtype = images.dtype
        original = images
        x = transform_value_range(images, self.value_range, (0, 255),
                                  self.compute_dtype)
        x = ops.cast(x, self.compute_dtype)
        axes = (1, 2) if self.data_format == "channels_last" else (2, 3)
        low = ops.min(x, axis=axes, keepdims=True)
        high = ops.max(x, axis=axes, keepdims=True)
        span = ops.subtract(high, low)
        flat = ops.equal(span, 0.0)
        # Keras divides by zero there and puts the original back where the
        # result is NaN; the same, without the inf/NaN arithmetic.
        scale = ops.divide(255.0, ops.where(flat, 1.0, span))
        offset = ops.multiply(ops.negative(low), scale)
        y = ops.clip(ops.add(ops.multiply(x, scale), offset), 0.0, 255.0)
        y = transform_value_range(y, (0, 255), self.value_range,
                                  self.compute_dtype)
        keep = ops.logical_or(ops.isnan(y), ops.broadcast_to(flat, y.shape))
        y = ops.where(keep, ops.cast(original, y.dtype), y)
        return saturate_like(y, in_dtype)

    def transform_images(self, images, t):
        return self._contrast(images)

    inference_images = _contrast

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range}


class Equalization(BaseAugmentation):
    """Histogram equalization of each image and channel (`bins` bins over
    the value range), as Keras. Not random; applied only in training.

    Args:
        value_range: `(min, max)` of the input values.
        bins: number of histogram bins.
        data_format: `"channels_last"` or `"channels_first"`.

    Example:
    >>> layer = gkeras.layers.Equalization()
    >>> layer(np.array([[[[0.0], [10.0], [20.0], [30.0]]]]),
    ...       training=True).numpy().ravel()
    array([  0.,  85., 170., 255.], dtype=float32)
    """

    def __init__(self, value_range=(0, 255), bins=256, data_format=None,
                 **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.bins = bins
        self.value_range = parse_value_range(self, value_range)

    def _equalize(self, ch):
        """One channel `(batch, h, w)` (the whole batch shares one
        histogram, as Keras's per-channel loop does)."""
        vr = tuple(self.value_range)
        if vr != (0, 255):
            ch = ops.add(ops.multiply(ch, 255.0 / (vr[1] - vr[0])),
                         -vr[0] * 255.0 / (vr[1] - vr[0]))
        a = arr(ch)
        xp = xp_of(a)
        nb = self.bins
        idx = xp.clip(((a.astype(xp.float32) - 0.0) * (nb - 1) / 255.0
                       ).astype(xp.int32), 0, nb - 1)
        hist = _histogram(idx.reshape(-1), nb)
        # Branch-free (no device-to-host read): a channel with at most one
        # occupied bin is kept as is, as Keras's `where`.
        cdf = xp.cumsum(hist)
        cdf_min = cdf[xp.argmax(cdf > 0)]
        den = cdf[-1] - cdf_min
        den = xp.where(den == 0, xp.ones_like(den), den)
        lut = xp.clip(xp.round((cdf - cdf_min).astype(xp.float32) * 255
                               / den.astype(xp.float32)), 0, 255)
        ind = xp.clip(a / 255.0 * (nb - 1), 0, nb - 1).astype(xp.int32)
        flat = (hist > 0).sum() <= 1
        from gkeras.ops.engine import Tensor
        eq = ops.where(flat, ch, Tensor(lut[ind].astype(a.dtype)))
        if vr != (0, 255):
            eq = ops.add(ops.multiply(eq, (vr[1] - vr[0]) / 255.0), vr[0])
        return eq

    def transform_images(self, images, t):
        x = ops.cast(images, self.compute_dtype)
        axis = -1 if self.data_format == "channels_last" else -3
        chans = [self._equalize(ops.take(x, i, axis=axis))
                 for i in range(x.shape[axis])]
        return ops.cast(ops.stack(chans, axis=axis), self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "bins": self.bins,
                "value_range": self.value_range}
