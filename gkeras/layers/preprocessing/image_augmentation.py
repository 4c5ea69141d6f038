"""Random image augmentation layers (`RandomFlip`, `RandomRotation`,
`RandomZoom`, `RandomTranslation`, `RandomContrast`, `RandomBrightness`,
`RandomCrop`): active only when called with `training=True`.

Random parameters (a handful per image) are drawn on the host from the
layer's `SeedGenerator`, so a seeded layer gives the same augmentations on
CPU and GPU.
"""

import numpy as np

from gkeras import ops
from gkeras.backend.config import standardize_data_format
from gkeras.layers.layer import Layer
from gkeras.layers.preprocessing.image_preprocessing import (
    affine_images, check_interpolation, check_size, hw_axes, resize_images,
    sized_image_shape, _crop)
from gkeras.random import SeedGenerator
from gkeras.utils import random_utils

__all__ = ["RandomFlip", "RandomRotation", "RandomZoom",
           "RandomTranslation", "RandomContrast", "RandomBrightness",
           "RandomCrop"]

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")


def _who(layer):
    return f"{type(layer).__name__} layer {layer.name!r}"


def _base_factor(layer, factor, bounds, name="factor"):
    """Keras's base `_set_factor`: a number `f` -> `(max(-|f|, lo), |f|)`,
    a pair -> sorted; both checked against `bounds`."""
    err = (f"{_who(layer)}: the `{name}` argument should be a number (or a "
           f"list of two numbers) in the range [{bounds[0]}, {bounds[1]}]. "
           f"Received: {name}={factor!r}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or not all(
                isinstance(v, (int, float)) for v in factor):
            raise ValueError(err)
        if factor[0] > bounds[1] or factor[1] < bounds[0]:
            raise ValueError(err)
        lower, upper = sorted(factor)
    elif isinstance(factor, (int, float)) and not isinstance(factor, bool):
        if factor < bounds[0] or factor > bounds[1]:
            raise ValueError(err)
        factor = abs(factor)
        lower, upper = max(-factor, bounds[0]), factor
    else:
        raise ValueError(err)
    return lower, upper


def _range_factor(layer, factor, name, open_low):
    """Zoom/translation factors: a number `f` -> `(-|f|, |f|)`, a pair ->
    sorted; each value within [-1, 1] (zoom: (-1, 1])."""
    rng = "(-1.0, 1.0]" if open_low else "[-1.0, 1.0]"

    def bad(v):
        return not isinstance(v, (int, float)) or isinstance(v, bool) or \
            v > 1.0 or (v <= -1.0 if open_low else v < -1.0)
    err = (f"{_who(layer)}: the `{name}` argument should be a number (or a "
           f"list of two numbers) in the range {rng}. Received: "
           f"{name}={factor!r}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or any(bad(v) for v in factor):
            raise ValueError(err)
        return tuple(sorted(factor))
    if bad(factor):
        raise ValueError(err)
    return -abs(factor), abs(factor)


def _check_fill(layer, fill_mode, interpolation):
    if fill_mode not in _FILL_MODES:
        raise NotImplementedError(
            f"{_who(layer)}: unknown `fill_mode` {fill_mode!r}. Expected "
            f"one of {_FILL_MODES}.")
    if interpolation not in ("nearest", "bilinear"):
        raise NotImplementedError(
            f"{_who(layer)}: unknown `interpolation` {interpolation!r}. "
            "Expected one of ('nearest', 'bilinear').")
    check_interpolation(layer, interpolation)


def _batch_hw(layer, shape):
    ha, wa = hw_axes(len(shape), layer.data_format, layer)
    batch = shape[0] if len(shape) == 4 else 1
    return batch, shape[ha], shape[wa]


def _per_image_shape(shape):
    return (1, 1, 1) if len(shape) == 3 else (shape[0], 1, 1, 1)


class _AffineLayer(Layer):
    """Shared fill/interpolation handling of the geometric layers."""

    def _init_affine(self, fill_mode, interpolation, seed, fill_value,
                     data_format):
        _check_fill(self, fill_mode, interpolation)
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value
        self.seed = seed
        self.data_format = standardize_data_format(data_format)
        self.generator = SeedGenerator(seed)
        self.built = True

    def _sample(self, batch, h, w):
        """Per-image `(matrices, offsets)` for `affine_images`."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement _sample(batch, h, w)")

    def call(self, inputs, training=False):
        x = ops.cast(inputs, self.compute_dtype)
        if not training:
            return x
        batch, h, w = _batch_hw(self, x.shape)
        matrices, offsets = self._sample(batch, h, w)
        return affine_images(x, matrices, offsets, self.interpolation,
                             self.fill_mode, self.fill_value,
                             self.data_format)

    def compute_output_shape(self, input_shape):
        return input_shape

    def _affine_config(self):
        return {"fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "seed": self.seed,
                "fill_value": self.fill_value,
                "data_format": self.data_format}


class RandomFlip(Layer):
    """A preprocessing layer which randomly flips images during training.

    Each image is flipped with probability 1/2; in
    `"horizontal_and_vertical"` mode one draw decides both flips (as in
    Keras). At inference the input is returned (cast to the compute
    dtype).

    Args:
        mode: `"horizontal"`, `"vertical"` or `"horizontal_and_vertical"`.
        seed: optional integer seed.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Returns:
        A tensor of the input's shape in the compute dtype.

    Example:
    >>> layer = gkeras.layers.RandomFlip("horizontal", seed=1)
    >>> layer(np.zeros((2, 4, 4, 3)), training=True).shape
    (2, 4, 4, 3)
    """

    _MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode="horizontal_and_vertical", seed=None,
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        if mode not in self._MODES:
            raise ValueError(
                f"{_who(self)}: `mode` must be one of {self._MODES}. "
                f"Received: mode={mode!r}")
        self.mode = mode
        self.seed = seed
        self.data_format = standardize_data_format(data_format)
        self.generator = SeedGenerator(seed)
        self.built = True

    def call(self, inputs, training=False):
        x = ops.cast(inputs, self.compute_dtype)
        if not training:
            return x
        shape = x.shape
        flips = self.generator.numpy_rng().uniform(
            size=_per_image_shape(shape)) <= 0.5
        if len(shape) == 3:
            flips = flips[0]
        ha, wa = hw_axes(len(shape), self.data_format, self)
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            x = ops.where(flips, ops.flip(x, axis=wa), x)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            x = ops.where(flips, ops.flip(x, axis=ha), x)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "seed": self.seed, "mode": self.mode}


class RandomRotation(_AffineLayer):
    """A preprocessing layer which randomly rotates images during training.

    Each image is rotated about its centre by an angle drawn uniformly
    from `[factor[0], factor[1]] * 2 * pi` (positive: counter-clockwise).

    Args:
        factor: a float `f` (range `[-f, f]`) or a pair `(lower, upper)`,
            fractions of a full turn in `[-1, 1]`.
        fill_mode: `"reflect"` (default), `"wrap"`, `"constant"` or
            `"nearest"`: how points outside the input are filled.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        seed: optional integer seed.
        fill_value: the fill for `fill_mode="constant"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Returns:
        A tensor of the input's shape in the compute dtype.

    Example:
    >>> layer = gkeras.layers.RandomRotation(0.1, seed=1)
    >>> layer(np.zeros((2, 8, 8, 3)), training=True).shape
    (2, 8, 8, 3)
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear",
                 seed=None, fill_value=0.0, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.factor = _base_factor(self, factor, (-1, 1))
        self._init_affine(fill_mode, interpolation, seed, fill_value,
                          data_format)

    def _sample(self, batch, h, w):
        angle = self.generator.numpy_rng().uniform(
            self.factor[0] * 360.0, self.factor[1] * 360.0, size=batch)
        return rotation_transform(np.deg2rad(angle), h, w)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                **self._affine_config()}


def rotation_transform(theta, h, w):
    """Per-image (row, col) maps of Keras's rotation about the centre
    `((h - 1) / 2, (w - 1) / 2)`: in (x=col, y=row) terms
    `x_in = cos x - sin y + a2`, `y_in = sin x + cos y + b2`."""
    cx, cy = 0.5 * (w - 1), 0.5 * (h - 1)
    c, s = np.cos(theta), np.sin(theta)
    a2 = cx - cx * c + cy * s
    b2 = cy - cx * s - cy * c
    matrices = np.stack([np.stack([c, s], -1), np.stack([-s, c], -1)], 1)
    offsets = np.stack([b2, a2], -1)
    return matrices, offsets


class RandomZoom(_AffineLayer):
    """A preprocessing layer which randomly zooms images during training.

    The zoom is drawn per image as `1 + uniform(lower, upper)`: positive
    factors zoom out (the image shrinks, the border is filled), negative
    ones zoom in.

    Args:
        height_factor: a float `f` (range `[-f, f]`) or a pair `(lower,
            upper)`, each in `(-1, 1]`, for the vertical zoom.
        width_factor: likewise for the horizontal zoom; None (default)
            zooms both axes by the vertical amount, keeping the aspect.
        fill_mode: `"reflect"` (default), `"wrap"`, `"constant"` or
            `"nearest"`.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        seed: optional integer seed.
        fill_value: the fill for `fill_mode="constant"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Returns:
        A tensor of the input's shape in the compute dtype.

    Example:
    >>> layer = gkeras.layers.RandomZoom(0.2, seed=1)
    >>> layer(np.zeros((2, 8, 8, 3)), training=True).shape
    (2, 8, 8, 3)
    """

    def __init__(self, height_factor, width_factor=None,
                 fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = _range_factor(
            self, height_factor, "height_factor", True)
        self.width_factor = width_factor
        if width_factor is not None:
            self.width_lower, self.width_upper = _range_factor(
                self, width_factor, "width_factor", True)
        self._init_affine(fill_mode, interpolation, seed, fill_value,
                          data_format)

    def _sample(self, batch, h, w):
        rng = self.generator.numpy_rng()
        zy = rng.uniform(1.0 + self.height_lower, 1.0 + self.height_upper,
                         size=batch)
        zx = zy if self.width_factor is None else rng.uniform(
            1.0 + self.width_lower, 1.0 + self.width_upper, size=batch)
        return zoom_transform(zy, zx, h, w)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor, **self._affine_config()}


def zoom_transform(zy, zx, h, w):
    """Per-image (row, col) maps of a zoom about the image centre."""
    zeros = np.zeros_like(zy)
    matrices = np.stack([np.stack([zy, zeros], -1),
                         np.stack([zeros, zx], -1)], 1)
    offsets = np.stack([(h - 1) / 2.0 * (1.0 - zy),
                        (w - 1) / 2.0 * (1.0 - zx)], -1)
    return matrices, offsets


class RandomTranslation(_AffineLayer):
    """A preprocessing layer which randomly translates images in training.

    Each image is shifted by `uniform(lower, upper) * size` pixels along
    each axis (positive: down / right).

    Args:
        height_factor: a float `f` (range `[-f, f]`) or a pair `(lower,
            upper)`, fractions of the height in `[-1, 1]`.
        width_factor: likewise, fractions of the width.
        fill_mode: `"reflect"` (default), `"wrap"`, `"constant"` or
            `"nearest"`.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        seed: optional integer seed.
        fill_value: the fill for `fill_mode="constant"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Returns:
        A tensor of the input's shape in the compute dtype.

    Example:
    >>> layer = gkeras.layers.RandomTranslation(0.2, 0.2, seed=1)
    >>> layer(np.zeros((2, 8, 8, 3)), training=True).shape
    (2, 8, 8, 3)
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = _range_factor(
            self, height_factor, "height_factor", False)
        self.width_factor = width_factor
        self.width_lower, self.width_upper = _range_factor(
            self, width_factor, "width_factor", False)
        self._init_affine(fill_mode, interpolation, seed, fill_value,
                          data_format)

    def _sample(self, batch, h, w):
        rng = self.generator.numpy_rng()
        ty = rng.uniform(self.height_lower, self.height_upper,
                         size=batch) * h
        tx = rng.uniform(self.width_lower, self.width_upper, size=batch) * w
        return translation_transform(ty, tx)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor, **self._affine_config()}


def translation_transform(ty, tx):
    """Per-image (row, col) maps of a shift by `(ty, tx)` pixels."""
    matrices = np.broadcast_to(np.eye(2), (len(ty), 2, 2)).copy()
    return matrices, np.stack([-ty, -tx], -1)


class RandomContrast(Layer):
    """A preprocessing layer which randomly adjusts contrast in training.

    Per image, `out = (x - mean) * c + mean` with `mean` the per-channel
    spatial mean and `c` drawn uniformly from `[1 - factor[0], 1 +
    factor[1]]` (Keras 3's range), then clipped to `value_range`.

    Args:
        factor: a float `f` in `[0, 1]` (stored as `(0, f)`) or a pair
            `(lower, upper)`.
        value_range: `(min, max)` of the input values, the clip range.
        seed: optional integer seed.

    Returns:
        In training, a tensor of the input's shape in the compute dtype;
        at inference, the input.

    Example:
    >>> layer = gkeras.layers.RandomContrast(0.5, seed=1)
    >>> layer(np.zeros((2, 4, 4, 3)), training=True).shape
    (2, 4, 4, 3)
    """

    def __init__(self, factor, value_range=(0, 255), seed=None,
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.factor = _base_factor(self, factor, (0, 1))
        self.value_range = value_range
        self.seed = seed
        self.data_format = standardize_data_format(data_format)
        self.generator = SeedGenerator(seed)
        self.built = True

    def call(self, inputs, training=False):
        if not training:
            return inputs
        x = ops.cast(inputs, self.compute_dtype)
        ha, wa = hw_axes(len(x.shape), self.data_format, self)
        c = self.generator.numpy_rng().uniform(
            1.0 - self.factor[0], 1.0 + self.factor[1],
            size=_per_image_shape(x.shape))
        if len(x.shape) == 3:
            c = c[0]
        c = c.astype(self.compute_dtype)
        mean = ops.mean(ops.mean(x, axis=ha, keepdims=True), axis=wa,
                        keepdims=True)
        y = ops.add(ops.multiply(ops.subtract(x, mean), c), mean)
        return ops.clip(y, self.value_range[0], self.value_range[1])

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "factor": self.factor, "value_range": self.value_range,
                "seed": self.seed}


class RandomBrightness(Layer):
    """A preprocessing layer which randomly adjusts brightness in training.

    Per image, adds `uniform(factor[0], factor[1]) * (max - min)` of
    `value_range` to every pixel, then clips to `value_range`.

    Args:
        factor: a float `f` in `[-1, 1]` (range `[-|f|, |f|]`) or a pair
            `(lower, upper)`: fractions of the value range.
        value_range: `(min, max)` of the input values (stored sorted, as a
            list).
        seed: optional integer seed.

    Returns:
        A tensor of the input's shape and dtype (integer inputs are
        adjusted in floating point and rounded back).

    Example:
    >>> layer = gkeras.layers.RandomBrightness(0.2, seed=1)
    >>> layer(np.full((2, 4, 4, 3), 100.0), training=True).shape
    (2, 4, 4, 3)
    """

    def __init__(self, factor, value_range=(0, 255), seed=None,
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.factor = _base_factor(self, factor, (-1, 1))
        if not isinstance(value_range, (tuple, list)) or \
                len(value_range) != 2:
            raise ValueError(
                f"{_who(self)}: the `value_range` argument should be a list "
                f"of two numbers. Received: value_range={value_range!r}")
        self.value_range = sorted(value_range)
        self.seed = seed
        self.data_format = standardize_data_format(data_format)
        self.generator = SeedGenerator(seed)
        self.built = True

    def call(self, inputs, training=False):
        if not training:
            return inputs
        in_dtype = np.dtype(inputs.dtype)
        hw_axes(len(inputs.shape), self.data_format, self)
        lo, hi = self.value_range
        delta = self.generator.numpy_rng().uniform(
            self.factor[0], self.factor[1],
            size=_per_image_shape(inputs.shape)) * (hi - lo)
        if len(inputs.shape) == 3:
            delta = delta[0]
        if in_dtype.kind == "f":
            return ops.clip(ops.add(inputs, delta.astype(in_dtype)), lo, hi)
        # Keras adds the delta in the integer dtype (wrapping negative
        # deltas); adding in float and rounding back is the intended result.
        y = ops.add(ops.cast(inputs, "float32"), delta.astype("float32"))
        return ops.cast(ops.round(ops.clip(y, lo, hi)), in_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "factor": self.factor, "value_range": self.value_range,
                "seed": self.seed}


class RandomCrop(Layer):
    """A preprocessing layer which randomly crops images during training.

    In training, a random `(height, width)` window of each batch is taken
    (one offset for the whole batch, as Keras); images not larger than the
    target on both axes get a centred window (placed by the target aspect
    ratio) resized to the target instead. At inference the input is returned unchanged, as in
    Keras 3.

    Args:
        height: int, crop height.
        width: int, crop width.
        seed: optional integer seed (None draws one, which is stored in
            the config as Keras does).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Returns:
        In training, a tensor with `height` and `width` replaced, in the
        compute dtype.

    Example:
    >>> layer = gkeras.layers.RandomCrop(4, 4, seed=1)
    >>> layer(np.zeros((2, 8, 8, 3)), training=True).shape
    (2, 4, 4, 3)
    """

    def __init__(self, height, width, seed=None, data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.height = check_size(self, height, "height")
        self.width = check_size(self, width, "width")
        self.seed = seed if seed is not None else random_utils.draw_seed()
        self.data_format = standardize_data_format(data_format)
        self.generator = SeedGenerator(self.seed)
        self.built = True

    def call(self, inputs, training=False):
        if not training:
            return inputs
        x = ops.cast(inputs, self.compute_dtype)
        ha, wa = hw_axes(len(x.shape), self.data_format, self)
        h, w = x.shape[ha], x.shape[wa]
        if h > self.height and w > self.width:
            rng = self.generator.numpy_rng()
            top = int(rng.uniform(0, h - self.height + 1))
            left = int(rng.uniform(0, w - self.width + 1))
            return _crop(x, ha, wa, top, left, self.height, self.width)
        ch = max(min(h, int(float(w * self.height) / self.width)), 1)
        cw = max(min(w, int(float(h * self.width) / self.height)), 1)
        # As Keras: the aspect-ratio box only sets the start; the window
        # taken is (height, width), clipped by the image, then resized.
        x = _crop(x, ha, wa, int(float(h - ch) / 2), int(float(w - cw) / 2),
                  self.height, self.width)
        return resize_images(x, self.height, self.width, "bilinear",
                             self.data_format)

    def compute_output_shape(self, input_shape):
        return sized_image_shape(input_shape, self.height, self.width,
                                 self.data_format, self)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "height": self.height, "width": self.width,
                "seed": self.seed}
