"""`ContrastLimitedAdaptiveHistogramEqualization` (CLAHE), as Keras 3:
per-tile clipped histogram equalization, bilinearly blended between
tiles."""

import numpy as np

from gkeras import ops
from gkeras.layers.preprocessing.augmentation.base import (
    BaseAugmentation, transform_value_range)
from gkeras.layers.preprocessing.augmentation.contrast import _histogram
from gkeras.ops._base import arr, xp_of
from gkeras.ops.engine import Tensor

__all__ = ["ContrastLimitedAdaptiveHistogramEqualization"]


def _clahe(images, clip_limit, grid):
    """CLAHE of a float NHWC array on [0, 255] (NumPy or CuPy)."""
    xp = xp_of(images)
    b, h, w, c = images.shape
    gh, gw = grid
    th, tw = -(-h // gh), -(-w // gw)
    ph, pw = th * gh - h, tw * gw - w
    padded = images
    if ph or pw:
        padded = xp.pad(images, [(0, 0), (0, ph), (0, pw), (0, 0)],
                        mode="symmetric")
    tiles = padded.reshape(b, gh, th, gw, tw, c).transpose(0, 1, 3, 5, 2, 4)
    tiles = xp.clip(tiles.reshape(b, gh, gw, c, th * tw).astype(xp.int32),
                    0, 255)
    # Histograms of every tile: counts of each level, one scatter-add.
    offs = xp.arange(b * gh * gw * c, dtype=xp.int64).reshape(
        b, gh, gw, c, 1) * 256
    hists = _histogram((tiles + offs).reshape(-1),
                       b * gh * gw * c * 256).reshape(b, gh, gw, c, 256)
    if clip_limit > 0:
        limit = np.float32(clip_limit * (th * tw) / 256.0)
        clipped = xp.clip(hists, 0, limit)
        excess = (hists - clipped).sum(axis=-1, keepdims=True)
        hists = clipped + excess / 256.0
    cdf = xp.cumsum(hists, axis=-1)
    cdf_min = cdf.min(axis=-1, keepdims=True)
    den = np.float32(th * tw) - cdf_min
    den = xp.where(den == 0, xp.ones_like(den), den)
    cdf = xp.clip((cdf - cdf_min) * 255.0 / den, 0, 255)
    cdf = xp.concatenate([cdf[:, :1], cdf, cdf[:, -1:]], axis=1)
    cdf = xp.concatenate([cdf[:, :, :1], cdf, cdf[:, :, -1:]], axis=2)
    hp, wp = th * gh, tw * gw
    yg = (xp.arange(hp, dtype=xp.float32) - th / 2.0) / th + 1.0
    xg = (xp.arange(wp, dtype=xp.float32) - tw / 2.0) / tw + 1.0
    y0, x0 = xp.floor(yg), xp.floor(xg)
    wy, wx = yg - y0, xg - x0
    y1 = xp.clip(y0 + 1, 0, gh + 1).astype(xp.int64)
    x1 = xp.clip(x0 + 1, 0, gw + 1).astype(xp.int64)
    y0 = xp.clip(y0, 0, gh + 1).astype(xp.int64)
    x0 = xp.clip(x0, 0, gw + 1).astype(xp.int64)
    pix = xp.clip(padded, 0, 255).astype(xp.int64)
    bi = xp.arange(b).reshape(b, 1, 1, 1)
    ci = xp.arange(c).reshape(1, 1, 1, c)

    def lut(yy, xx):
        return cdf[bi, yy.reshape(1, hp, 1, 1), xx.reshape(1, 1, wp, 1),
                   ci, pix]
    wy = wy.reshape(1, hp, 1, 1)
    wx = wx.reshape(1, 1, wp, 1)
    top = lut(y0, x0) * (1.0 - wx) + lut(y0, x1) * wx
    bot = lut(y1, x0) * (1.0 - wx) + lut(y1, x1) * wx
    out = top * (1.0 - wy) + bot * wy
    return out[:, :h, :w, :]


class ContrastLimitedAdaptiveHistogramEqualization(BaseAugmentation):
    """Contrast Limited Adaptive Histogram Equalization (CLAHE).

    The image is split in `tile_grid_size` tiles; each tile's histogram
    (256 levels on the [0, 255]-scaled values) is clipped at
    `clip_limit` times its mean count, the excess spread evenly, and the
    equalization maps of neighbouring tiles are blended bilinearly. Not
    random: applied in training and inference alike.

    Args:
        value_range: `(min, max)` of the input values.
        clip_limit: the contrast limit (0 disables clipping).
        tile_grid_size: `(rows, cols)` of tiles.
        data_format: `"channels_last"` or `"channels_first"`.

    Example:
    >>> layer = gkeras.layers.ContrastLimitedAdaptiveHistogramEqualization(
    ...     tile_grid_size=(2, 2))
    >>> layer(np.random.random((1, 8, 8, 1)) * 255).shape
    (1, 8, 8, 1)
    """

    def __init__(self, value_range=(0, 255), clip_limit=4.0,
                 tile_grid_size=(8, 8), data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range
        self.clip_limit = clip_limit
        self.tile_grid_size = tile_grid_size

    def transform_images(self, images, t=None):
        in_dtype = images.dtype
        x = images
        if self.data_format == "channels_first":
            x = ops.transpose(x, (0, 2, 3, 1))
        x = transform_value_range(x, self.value_range, (0, 255), "float32")
        y = Tensor(_clahe(arr(ops.cast(x, "float32")), self.clip_limit,
                          tuple(self.tile_grid_size)))
        y = transform_value_range(y, (0, 255), self.value_range, "float32")
        y = ops.cast(y, in_dtype)
        if self.data_format == "channels_first":
            y = ops.transpose(y, (0, 3, 1, 2))
        return y

    def inference_images(self, images):
        return self.transform_images(images)

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "clip_limit": self.clip_limit,
                "tile_grid_size": self.tile_grid_size,
                "data_format": self.data_format}
