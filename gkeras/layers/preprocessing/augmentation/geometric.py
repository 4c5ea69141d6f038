"""Geometric augmentation layers of Keras 3: `RandomShear`,
`RandomPerspective`, `RandomElasticTransform` (through `ops.image`'s
affine, perspective and elastic transforms)."""

import numpy as np

from gkeras import ops
from gkeras.layers.preprocessing.augmentation.base import (
    BaseAugmentation, parse_factor)
from gkeras.ops import image as image_ops
from gkeras.ops._base import arr, xp_of

__all__ = ["RandomShear", "RandomPerspective", "RandomElasticTransform"]

_INTERPOLATIONS = ("nearest", "bilinear")


def _check_interp(layer, interpolation):
    if interpolation not in _INTERPOLATIONS:
        raise NotImplementedError(
            f"{type(layer).__name__} layer {layer.name!r}: unknown "
            f"`interpolation` {interpolation}. Expected one of "
            f"{_INTERPOLATIONS}.")


def _where_batch(apply, a, b):
    mask = np.asarray(apply).reshape(-1, 1, 1, 1)
    if xp_of(arr(a)) is not np:
        from gkeras import backend
        mask = backend.to_device(mask)
    return ops.where(mask, a, b)


class RandomShear(BaseAugmentation):
    """Randomly shears images along x and/or y (a random sign per image;
    amounts drawn from `x_factor`/`y_factor`).

    Args:
        x_factor: a float in [0, 1] (`(-f, f)`) or a pair.
        y_factor: a float in [0, 1] or a pair.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_mode: `"reflect"` (default), `"wrap"`, `"constant"` or
            `"nearest"`.
        fill_value: the value outside the image with `"constant"`.
        data_format: `"channels_last"` or `"channels_first"`.
        seed: integer seed.

    Example:
    >>> layer = gkeras.layers.RandomShear(x_factor=0.2, seed=1)
    >>> layer(np.ones((2, 8, 8, 3)), training=True).shape
    (2, 8, 8, 3)
    """

    _FILL_MODES = ("reflect", "wrap", "constant", "nearest")

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear",
                 fill_mode="reflect", fill_value=0.0, data_format=None,
                 seed=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.x_factor = self._shear_factor(x_factor, "x_factor")
        self.y_factor = self._shear_factor(y_factor, "y_factor")
        if fill_mode not in self._FILL_MODES:
            raise NotImplementedError(
                f"RandomShear layer {self.name!r}: unknown `fill_mode` "
                f"{fill_mode}. Expected one of {self._FILL_MODES}.")
        _check_interp(self, interpolation)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.interpolation = interpolation

    def _shear_factor(self, factor, name):
        err = (f"RandomShear layer {self.name!r}: the `{name}` argument "
               "should be a number (or a list of two numbers) in the range "
               f"[0, 1]. Received: {name}={factor!r}")
        vals = factor if isinstance(factor, (tuple, list)) else [factor]
        if len(vals) not in (1, 2) or not all(
                isinstance(v, (int, float)) and 0 <= v <= 1 for v in vals):
            raise ValueError(err)
        if isinstance(factor, (tuple, list)):
            return tuple(sorted(factor))
        return (-abs(factor), abs(factor))

    def get_random_transformation(self, shape, rng):
        n = shape[0]
        invert = np.where(rng.uniform(0, 1, (n, 1)) > 0.5, -1.0, 1.0)
        sy = rng.uniform(self.y_factor[0], self.y_factor[1], (n, 1))
        sx = rng.uniform(self.x_factor[0], self.x_factor[1], (n, 1))
        return {"shear_factor": np.concatenate([sx, sy], axis=1) * invert}

    @staticmethod
    def shear_matrix(shear):
        """`(n, 8)` affine transforms of `(n, 2)` (x, y) shear factors."""
        n = shear.shape[0]
        one, zero = np.ones(n), np.zeros(n)
        return np.stack([one, shear[:, 0], zero, shear[:, 1], one, zero,
                         zero, zero], axis=1)

    def transform_images(self, images, t):
        x = ops.cast(images, self.compute_dtype)
        m = self.shear_matrix(t["shear_factor"]).astype(self.compute_dtype)
        if xp_of(arr(x)) is not np:
            from gkeras import backend
            m = backend.to_device(m)
        return image_ops.affine_transform(
            x, m, interpolation=self.interpolation, fill_mode=self.fill_mode,
            fill_value=self.fill_value, data_format=self.data_format)

    def get_config(self):
        return {**super().get_config(), "x_factor": self.x_factor,
                "y_factor": self.y_factor, "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "seed": self.seed,
                "fill_value": self.fill_value,
                "data_format": self.data_format}


class RandomPerspective(BaseAugmentation):
    """Randomly warps images with a perspective transform: each corner
    moves by up to `scale / 2` of its coordinates, each image with a
    probability drawn from `factor`.

    Args:
        factor: probability (a float or pair in [0, 1]).
        scale: the distortion scale in [0, 1].
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_value: the value outside the image.
        seed: integer seed.
        data_format: `"channels_last"` or `"channels_first"`.

    Example:
    >>> layer = gkeras.layers.RandomPerspective(seed=1)
    >>> layer(np.ones((2, 8, 8, 3)), training=True).shape
    (2, 8, 8, 3)
    """

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear",
                 fill_value=0.0, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = parse_factor(self, factor, (0, 1))
        if scale < 0.0 or scale > 1.0:
            raise ValueError(
                f"RandomPerspective layer {self.name!r}: the `scale` "
                f"argument should be a number in the range [0,1]. Received: "
                f"scale={scale}")
        _check_interp(self, interpolation)
        self.scale = scale
        self.fill_value = fill_value
        self.interpolation = interpolation

    def get_random_transformation(self, shape, rng):
        n = shape[0]
        h, w = self._hw(shape)
        p = rng.uniform(self.factor[0], self.factor[1], n)
        apply = rng.uniform(0, 1, n) < p
        f = rng.uniform(-0.5 * self.scale, 0.5 * self.scale, (n, 4, 2))
        start = np.repeat(np.array([[[0.0, 0.0], [w - 1, 0.0], [0.0, h - 1],
                                     [w - 1, h - 1]]]), n, axis=0)
        return {"apply_perspective": apply, "start_points": start,
                "end_points": start + start * f}

    def transform_images(self, images, t):
        x = ops.cast(images, self.compute_dtype)
        y = image_ops.perspective_transform(
            x, t["start_points"], t["end_points"],
            interpolation=self.interpolation, fill_value=self.fill_value,
            data_format=self.data_format)
        return _where_batch(t["apply_perspective"], y, x)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "scale": self.scale, "interpolation": self.interpolation,
                "fill_value": self.fill_value, "seed": self.seed}


class RandomElasticTransform(BaseAugmentation):
    """Randomly applies an elastic deformation (`ops.image.
    elastic_transform`, `alpha = 0.1 s max(h, w)`, `sigma = 0.05 s
    min(h, w)`, `s` drawn from `scale`), each image with a probability
    drawn from `factor`; the result is clipped to `value_range`.

    Args:
        factor: probability (a float or pair in [0, 1]).
        scale: distortion scale (a float or pair in [0, 1]).
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_mode: `"reflect"` (default), `"constant"`, `"nearest"`,
            `"wrap"` or `"mirror"`.
        fill_value: the value outside the image with `"constant"`.
        value_range: `(min, max)` of the input values.
        seed: integer seed.
        data_format: `"channels_last"` or `"channels_first"`.

    Example:
    >>> layer = gkeras.layers.RandomElasticTransform(seed=1)
    >>> layer(np.ones((2, 16, 16, 3)), training=True).shape
    (2, 16, 16, 3)
    """

    _FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear",
                 fill_mode="reflect", fill_value=0.0, value_range=(0, 255),
                 seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = parse_factor(self, factor, (0, 1))
        self.scale = parse_factor(self, scale, (0, 1), "scale")
        _check_interp(self, interpolation)
        if fill_mode not in self._FILL_MODES:
            raise NotImplementedError(
                f"RandomElasticTransform layer {self.name!r}: unknown "
                f"`fill_mode` {fill_mode}. Expected one of "
                f"{self._FILL_MODES}.")
        self.interpolation = interpolation
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.value_range = value_range

    def get_random_transformation(self, shape, rng):
        if self.scale[1] == 0 or self.factor[1] == 0:
            return None
        n = shape[0]
        p = rng.uniform(self.factor[0], self.factor[1], n)
        return {"apply_transform": rng.uniform(0, 1, n) < p,
                "distortion_factor": rng.uniform(self.scale[0],
                                                 self.scale[1]),
                "seed": int(rng.integers(0, 2 ** 31 - 1))}

    def transform_images(self, images, t):
        x = ops.cast(images, self.compute_dtype)
        if t is None:
            return x
        h, w = self._hw(tuple(x.shape))
        s = float(t["distortion_factor"])
        alpha, sigma = max(h, w) * 0.1 * s, min(h, w) * 0.05 * s
        y = image_ops.elastic_transform(
            x, alpha=alpha, sigma=sigma, interpolation=self.interpolation,
            fill_mode=self.fill_mode, fill_value=self.fill_value,
            seed=t["seed"], data_format=self.data_format)
        y = _where_batch(t["apply_transform"], y, x)
        return ops.clip(y, self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "scale": self.scale, "interpolation": self.interpolation,
                "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                "value_range": self.value_range, "seed": self.seed}
