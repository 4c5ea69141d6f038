"""Augmentation layers that mix or erase regions: `MixUp`, `CutMix`,
`RandomErasing` (Keras 3)."""

import numpy as np

from gkeras import ops
from gkeras.layers.preprocessing.augmentation.base import (
    BaseAugmentation, parse_factor)
from gkeras.ops._base import arr, xp_of

__all__ = ["MixUp", "CutMix", "RandomErasing"]


def _box_masks(layer, shape, like, x0, x1, y0, y1):
    """Boolean `(batch, h, w, 1)` (or `(batch, 1, h, w)`) masks of the
    boxes `[x0, x1) x [y0, y1)`, built on the device of `like`."""
    xp = xp_of(arr(like))
    h, w = layer._hw(shape)
    dt = np.dtype(layer.compute_dtype)
    gy = xp.arange(h, dtype=dt)
    gx = xp.arange(w, dtype=dt)

    def col(v):
        return xp.asarray(np.asarray(v, dt)).reshape(-1, 1, 1)
    m = ((gx[None, None, :] >= col(x0)) & (gx[None, None, :] < col(x1)) &
         (gy[None, :, None] >= col(y0)) & (gy[None, :, None] < col(y1)))
    return m[..., None] if layer.data_format == "channels_last" \
        else m[:, None]


def _crop_bounds(rng, n, length, ratio, dtype):
    crop = (np.asarray(ratio) * length).astype(dtype)
    start = rng.uniform(0, 1, n).astype(dtype) * (length - crop)
    return start, start + crop


class MixUp(BaseAugmentation):
    """MixUp (Zhang et al., 2017): each image (and its label) is blended
    with another image of the batch, `w x + (1 - w) x[perm]`, with `w`
    drawn from Beta(alpha, alpha) per image.

    Args:
        alpha: the Beta distribution's concentration.
        data_format: `"channels_last"` or `"channels_first"`.
        seed: integer seed.

    Example:
    >>> layer = gkeras.layers.MixUp(alpha=0.2, seed=1)
    >>> out = layer({"images": np.ones((4, 8, 8, 3)),
    ...              "labels": np.eye(4)}, training=True)
    >>> out["labels"].shape
    (4, 4)
    """

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.alpha = alpha

    def get_random_transformation(self, shape, rng):
        n = shape[0]
        return {"permutation_order": rng.permutation(n),
                "mix_weight": rng.beta(self.alpha, self.alpha, n)}

    def _take(self, x, perm):
        if xp_of(arr(x)) is not np:
            from gkeras import backend
            perm = backend.to_device(perm)
        return ops.take(x, perm, axis=0)

    def transform_images(self, images, t):
        x = ops.cast(images, self.compute_dtype)
        w = self._per_image(t["mix_weight"])
        other = self._take(x, t["permutation_order"])
        return ops.add(ops.multiply(w, x),
                       ops.multiply(ops.subtract(1.0, w), other))

    def transform_labels(self, labels, t):
        labels = ops.cast(labels, self.compute_dtype)
        w = np.asarray(t["mix_weight"], self.compute_dtype).reshape(-1, 1)
        other = self._take(labels, t["permutation_order"])
        return ops.add(ops.multiply(w, labels),
                       ops.multiply(ops.subtract(1.0, w), other))

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha,
                "seed": self.seed}


class CutMix(BaseAugmentation):
    """CutMix (Yun et al., 2019): a random box of each image is replaced
    by the same box of another image of the batch; labels are mixed by
    the kept area.

    Args:
        factor: range of the Beta concentration (a float or pair in
            [0, 1]).
        seed: integer seed.
        data_format: `"channels_last"` or `"channels_first"`.

    Example:
    >>> layer = gkeras.layers.CutMix(seed=1)
    >>> layer(np.ones((4, 8, 8, 3)), training=True).shape
    (4, 8, 8, 3)
    """

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = parse_factor(self, factor, (0, 1))

    def get_random_transformation(self, shape, rng):
        n = shape[0]
        h, w = self._hw(shape)
        dt = np.dtype(self.compute_dtype)
        alpha = rng.uniform(self.factor[0], self.factor[1]) + 1e-6
        mix = rng.beta(alpha, alpha, n).astype(dt)
        ratio = np.sqrt(1.0 - mix)
        x0, x1 = _crop_bounds(rng, n, w, ratio, dt)
        y0, y1 = _crop_bounds(rng, n, h, ratio, dt)
        return {"box": (x0, x1, y0, y1),
                "permutation_order": rng.permutation(n),
                "mix_weight": 1.0 - (x1 - x0) * (y1 - y0) / (w * h)}

    def transform_images(self, images, t):
        x = ops.cast(images, self.compute_dtype)
        if x.shape[0] is None or t is None:
            return x
        masks = _box_masks(self, tuple(x.shape), x, *t["box"])
        perm = t["permutation_order"]
        if xp_of(arr(x)) is not np:
            from gkeras import backend
            perm = backend.to_device(perm)
        return ops.where(masks, ops.take(x, perm, axis=0), x)

    def transform_labels(self, labels, t):
        labels = ops.cast(labels, self.compute_dtype)
        w = np.asarray(t["mix_weight"], self.compute_dtype).reshape(-1, 1)
        perm = t["permutation_order"]
        if xp_of(arr(labels)) is not np:
            from gkeras import backend
            perm = backend.to_device(perm)
        other = ops.take(labels, perm, axis=0)
        return ops.add(ops.multiply(w, labels),
                       ops.multiply(ops.subtract(1.0, w), other))

    def call(self, data, training=True):
        images = data["images"] if isinstance(data, dict) else data
        if len(images.shape) == 3:
            # Keras mixes nothing in a single image.
            out = ops.cast(images, self.compute_dtype)
            if isinstance(data, dict):
                return {**data, "images": out}
            return out
        return super().call(data, training=training)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "seed": self.seed}


class RandomErasing(BaseAugmentation):
    """Random Erasing (Zhong et al., 2017): a random box of each image
    (area fraction drawn from `scale`, per axis) is filled with
    `fill_value` (or Gaussian noise times `value_range[1]` when None),
    each image with a probability drawn from `factor`.

    Args:
        factor: erasing probability (a float or pair in [0, 1]).
        scale: range of the box's size fraction per axis (squared).
        fill_value: None (noise), a number, or 3 per-channel numbers.
        value_range: `(min, max)` of the input values.
        seed: integer seed.
        data_format: `"channels_last"` or `"channels_first"`.

    Example:
    >>> layer = gkeras.layers.RandomErasing(fill_value=0.0, seed=1)
    >>> layer(np.ones((2, 8, 8, 3)), training=True).shape
    (2, 8, 8, 3)
    """

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None,
                 value_range=(0, 255), seed=None, data_format=None,
                 **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = parse_factor(self, factor, (0, 1))
        self.scale = parse_factor(self, scale, (0, 1), "scale")
        if fill_value is not None and not isinstance(
                fill_value, (int, float, tuple, list)):
            raise ValueError(
                f"RandomErasing layer {self.name!r}: `fill_value` must be "
                "None, a number or a list of 3 numbers. Received: "
                f"fill_value={fill_value!r}")
        if isinstance(fill_value, (tuple, list)) and len(fill_value) != 3:
            raise ValueError(
                f"RandomErasing layer {self.name!r}: a list `fill_value` "
                f"must have 3 values. Received: fill_value={fill_value!r}")
        self.fill_value = fill_value
        self.value_range = value_range

    def get_random_transformation(self, shape, rng):
        n = shape[0]
        h, w = self._hw(shape)
        dt = np.dtype(self.compute_dtype)
        frac = np.sqrt(rng.uniform(self.scale[0], self.scale[1], (n, 2))
                       ).astype(dt)
        x0, x1 = _crop_bounds(rng, n, w, frac[:, 0], dt)
        y0, y1 = _crop_bounds(rng, n, h, frac[:, 1], dt)
        p = rng.uniform(self.factor[0], self.factor[1], n)
        apply = rng.uniform(0, 1, n) < p
        noise = None
        if self.fill_value is None:
            noise = rng.standard_normal(shape).astype(dt) * \
                self.value_range[1]
        return {"box": (x0, x1, y0, y1), "apply_erasing": apply,
                "noise": noise}

    def transform_images(self, images, t):
        x = ops.cast(images, self.compute_dtype)
        masks = _box_masks(self, tuple(x.shape), x, *t["box"])
        if self.fill_value is None:
            fill = t["noise"]
            if xp_of(arr(x)) is not np:
                from gkeras import backend
                fill = backend.to_device(fill)
        else:
            fill = np.asarray(self.fill_value, self.compute_dtype)
            if fill.ndim == 1:
                fill = fill.reshape((1, 1, 1, 3) if self.data_format ==
                                    "channels_last" else (1, 3, 1, 1))
            fill = np.broadcast_to(fill, x.shape)
            if xp_of(arr(x)) is not np:
                from gkeras import backend
                fill = backend.to_device(np.ascontiguousarray(fill))
        fill = ops.clip(fill, self.value_range[0], self.value_range[1])
        erased = ops.where(masks, fill, x)
        apply = t["apply_erasing"].reshape(-1, 1, 1, 1)
        if xp_of(arr(x)) is not np:
            from gkeras import backend
            apply = backend.to_device(apply)
        return ops.where(apply, erased, x)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "scale": self.scale, "fill_value": self.fill_value,
                "value_range": self.value_range, "seed": self.seed}
