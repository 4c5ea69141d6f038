"""Colour augmentation layers of Keras 3: `Solarization`, `RandomInvert`,
`RandomGrayscale`, `RandomColorDegeneration`, `RandomSaturation`,
`RandomHue`, `RandomPosterization`, `RandomSharpness`,
`RandomGaussianBlur`."""

import numpy as np

from gkeras import ops
from gkeras.layers.preprocessing.augmentation.base import (
    BaseAugmentation, parse_factor, parse_value_range, saturate_like,
    transform_value_range)
from gkeras.ops import image as image_ops
from gkeras.ops._base import arr, xp_of

__all__ = ["Solarization", "RandomInvert", "RandomGrayscale",
           "RandomColorDegeneration", "RandomSaturation", "RandomHue",
           "RandomPosterization", "RandomSharpness", "RandomGaussianBlur"]


def _dev(a, like):
    """A host constant on the device of `like`."""
    if xp_of(arr(like)) is not np:
        from gkeras import backend
        return backend.to_device(np.ascontiguousarray(a))
    return a


class Solarization(BaseAugmentation):
    """Randomly solarizes images: pixels at or above a random threshold
    are inverted, after adding a random amount (values on [0, 255]).

    Args:
        addition_factor: a float in [0, 1] or a pair; the addition is
            drawn from `[lower, upper * 255]` (Keras's range).
        threshold_factor: a float in [0, 1] or a pair; the threshold is
            drawn from `[lower, upper * 255]`.
        value_range: `(min, max)` of the input values.
        seed: integer seed.

    Example:
    >>> layer = gkeras.layers.Solarization()  # threshold 0: invert all
    >>> layer(np.array([[[[10.0], [200.0]]]]), training=True).numpy().ravel()
    array([245.,  55.], dtype=float32)
    """

    def __init__(self, addition_factor=0.0, threshold_factor=0.0,
                 value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.addition_factor = self._factor01(addition_factor,
                                              "addition_factor")
        self.threshold_factor = self._factor01(threshold_factor,
                                               "threshold_factor")
        self.value_range = parse_value_range(self, value_range)

    def _factor01(self, factor, name):
        err = (f"Solarization layer {self.name!r}: the `addition_factor` "
               "and `threshold_factor` arguments should be a number (or a "
               f"list of two numbers) in the range [0, 1]. Received: "
               f"{name}={factor!r}")
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2 or not all(0 <= v <= 1 for v in factor):
                raise ValueError(err)
            return tuple(sorted(factor))
        if isinstance(factor, (int, float)) and 0 <= factor <= 1:
            return (0, factor)
        raise ValueError(err)

    def get_random_transformation(self, shape, rng):
        n = shape[0]
        add = rng.uniform(self.addition_factor[0],
                          self.addition_factor[1] * 255, n)
        thr = rng.uniform(self.threshold_factor[0],
                          self.threshold_factor[1] * 255, n)
        return {"additions": add, "thresholds": thr}

    def transform_images(self, images, t):
        in_dtype = images.dtype
        x = ops.cast(images, self.compute_dtype)
        x = transform_value_range(x, self.value_range, (0, 255),
                                  self.compute_dtype)
        y = ops.clip(ops.add(x, self._per_image(t["additions"])), 0, 255)
        y = ops.where(ops.less(y, self._per_image(t["thresholds"])), y,
                      ops.subtract(255.0, y))
        y = transform_value_range(y, (0, 255), self.value_range,
                                  self.compute_dtype)
        return saturate_like(y, in_dtype) if np.dtype(in_dtype).kind in \
            "iu" else y

    def inference_images(self, images):
        return images

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "addition_factor": self.addition_factor,
                "threshold_factor": self.threshold_factor,
                "seed": self.seed}


class RandomInvert(BaseAugmentation):
    """Randomly inverts images: `value_range[1] - x`, each image with a
    probability drawn from `factor`.

    Args:
        factor: probability (a float in [0, 1], or a range to draw it
            from).
        value_range: `(min, max)` of the input values.
        seed: integer seed.
        data_format: `"channels_last"` or `"channels_first"`.

    Example:
    >>> layer = gkeras.layers.RandomInvert(factor=(1.0, 1.0))
    >>> layer(np.full((1, 2, 2, 3), 5.0), training=True).numpy()[0, 0, 0]
    array([250., 250., 250.], dtype=float32)
    """

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None,
                 data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = parse_factor(self, factor, (0, 1))
        self.value_range = value_range

    def get_random_transformation(self, shape, rng):
        p = rng.uniform(self.factor[0], self.factor[1], shape[0])
        return {"apply_inversion": rng.uniform(0, 1, shape[0]) < p}

    def transform_images(self, images, t):
        x = ops.cast(images, self.compute_dtype)
        apply = _dev(t["apply_inversion"].reshape(-1, 1, 1, 1), x)
        return ops.where(apply, ops.subtract(float(self.value_range[1]), x),
                         x)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}


class RandomGrayscale(BaseAugmentation):
    """Randomly converts images to grayscale, each image with probability
    `factor` (the gray value is repeated on the channels).

    Args:
        factor: probability in [0, 1] (default 0.5).
        data_format: `"channels_last"` or `"channels_first"`.
        seed: integer seed.

    Example:
    >>> layer = gkeras.layers.RandomGrayscale(factor=1.0)
    >>> layer(np.ones((1, 2, 2, 3)), training=True).shape
    (1, 2, 2, 3)
    """

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        if factor < 0 or factor > 1:
            raise ValueError(
                f"`factor` should be between 0 and 1. Received: "
                f"factor={factor}")
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = factor

    def get_random_transformation(self, shape, rng):
        return rng.uniform(0, 1, shape[0]) < self.factor

    def transform_images(self, images, apply):
        x = ops.cast(images, self.compute_dtype)
        gray = image_ops.rgb_to_grayscale(x, data_format=self.data_format)
        gray = ops.broadcast_to(gray, x.shape)
        return ops.where(_dev(apply.reshape(-1, 1, 1, 1), x), gray, x)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class RandomColorDegeneration(BaseAugmentation):
    """Randomly blends images with their grayscale version:
    `x + f (gray(x) - x)`, `f` drawn from `factor`, clipped to
    `value_range`.

    Args:
        factor: a float or pair in [-1, 1] (Keras's base factor: `f`
            becomes `(-f, f)`).
        value_range: `(min, max)` of the input values.
        data_format: `"channels_last"` or `"channels_first"`.
        seed: integer seed.

    Example:
    >>> layer = gkeras.layers.RandomColorDegeneration((1.0, 1.0))
    >>> layer(np.ones((1, 2, 2, 3)), training=True).shape
    (1, 2, 2, 3)
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None,
                 seed=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = parse_factor(self, factor)
        self.value_range = parse_value_range(self, value_range)

    def get_random_transformation(self, shape, rng):
        return {"factor": rng.uniform(self.factor[0], self.factor[1],
                                      shape[0])}

    def transform_images(self, images, t):
        x = ops.cast(images, self.compute_dtype)
        f = self._per_image(t["factor"])
        gray = image_ops.rgb_to_grayscale(x, data_format=self.data_format)
        y = ops.add(x, ops.multiply(f, ops.subtract(gray, x)))
        return ops.clip(y, self.value_range[0], self.value_range[1])

    def compute_output_shape(self, input_shape):
        axis = -1 if self.data_format == "channels_last" else -3
        if input_shape[axis] is not None and input_shape[axis] != 3:
            raise ValueError(
                "Input images must have 3 channels, but received images "
                f"with {input_shape[axis]} channels.")
        return input_shape

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}


def _replace_channel(hsv, idx, value, data_format):
    axis = -1 if data_format == "channels_last" else 1
    parts = [ops.take(hsv, k, axis=axis) if k != idx else value
             for k in range(3)]
    return ops.stack(parts, axis=axis)


def _channel(hsv, idx, data_format):
    axis = -1 if data_format == "channels_last" else 1
    return ops.take(hsv, idx, axis=axis)


class RandomSaturation(BaseAugmentation):
    """Randomly adjusts saturation: in HSV, `s * f / (1 - f)` with `f`
    drawn from `factor` (0.5 keeps the image, 0 grays it, 1 saturates),
    clipped to `value_range`.

    Args:
        factor: a float or pair in [-1, 1] (Keras's base factor).
        value_range: `(min, max)` of the input values.
        data_format: `"channels_last"` or `"channels_first"`.
        seed: integer seed.

    Example:
    >>> layer = gkeras.layers.RandomSaturation((0.5, 0.5))
    >>> x = np.random.random((1, 4, 4, 3)).astype("float32") * 255
    >>> np.allclose(layer(x, training=True), x, atol=1e-3)
    True
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None,
                 seed=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = parse_factor(self, factor)
        self.value_range = parse_value_range(self, value_range)

    def get_random_transformation(self, shape, rng):
        from gkeras import backend
        f = rng.uniform(self.factor[0], self.factor[1], shape[0])
        return {"factor": f / (1 - f + backend.epsilon())}

    def transform_images(self, images, t):
        x = ops.cast(images, self.compute_dtype)
        f = np.asarray(t["factor"], self.compute_dtype).reshape(-1, 1, 1)
        hsv = image_ops.rgb_to_hsv(x, data_format=self.data_format)
        s = ops.clip(ops.multiply(_channel(hsv, 1, self.data_format), f),
                     self.value_range[0], self.value_range[1])
        hsv = _replace_channel(hsv, 1, s, self.data_format)
        return image_ops.hsv_to_rgb(hsv, data_format=self.data_format)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}


class RandomHue(BaseAugmentation):
    """Randomly shifts hue by up to `factor / 2` of a turn, either way.

    Args:
        factor: a float or pair in [0, 1].
        value_range: `(min, max)` of the input values.
        data_format: `"channels_last"` or `"channels_first"`.
        seed: integer seed.

    Example:
    >>> layer = gkeras.layers.RandomHue(0.2, seed=1)
    >>> layer(np.ones((1, 2, 2, 3)), training=True).shape
    (1, 2, 2, 3)
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None,
                 seed=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = parse_factor(self, factor, (0, 1))
        self.value_range = value_range

    def get_random_transformation(self, shape, rng):
        n = shape[0]
        invert = np.where(rng.uniform(0, 1, n) > 0.5, -1.0, 1.0)
        f = rng.uniform(self.factor[0], self.factor[1], n)
        return {"factor": invert * f * 0.5}

    def transform_images(self, images, t):
        x = ops.cast(images, self.compute_dtype)
        x = transform_value_range(x, self.value_range, (0, 1),
                                  self.compute_dtype)
        f = np.asarray(t["factor"], self.compute_dtype).reshape(-1, 1, 1)
        hsv = image_ops.rgb_to_hsv(x, data_format=self.data_format)
        h = ops.add(_channel(hsv, 0, self.data_format), f)
        h = ops.where(ops.greater(h, 1.0), ops.subtract(h, 1.0), h)
        h = ops.where(ops.less(h, 0.0), ops.add(h, 1.0), h)
        hsv = _replace_channel(hsv, 0, h, self.data_format)
        y = ops.clip(image_ops.hsv_to_rgb(hsv, data_format=self.data_format),
                     0, 1)
        return transform_value_range(y, (0, 1), self.value_range,
                                     self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}


class RandomPosterization(BaseAugmentation):
    """Randomly reduces the bits per channel to `factor` (1 to 8), as
    `(x >> (8 - b)) << (8 - b)` on [0, 255].

    Args:
        factor: an int in [1, 8] (bits kept are drawn from `[1, factor)`)
            or a pair.
        value_range: `(min, max)` of the input values.
        data_format: `"channels_last"` or `"channels_first"`.
        seed: integer seed.

    Example:
    >>> layer = gkeras.layers.RandomPosterization((2, 2))
    >>> layer(np.array([[[[200.0]]]]), training=True).numpy().ravel()
    array([192.], dtype=float32)
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None,
                 seed=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = parse_factor(self, factor, (1, 8))
        self.value_range = parse_value_range(self, value_range)

    def get_random_transformation(self, shape, rng):
        lo, hi = int(self.factor[0]), int(self.factor[1])
        bits = rng.integers(lo, hi, shape[0]) if lo != hi else \
            np.full(shape[0], lo)
        return {"shift_factor": (8 - bits).astype(np.uint8)}

    def transform_images(self, images, t):
        x = transform_value_range(ops.cast(images, self.compute_dtype),
                                  self.value_range, (0, 255),
                                  self.compute_dtype)
        # uint8 truncation, then dropping the low bits: floor(x / 2^s) 2^s.
        x = ops.floor(ops.clip(x, 0, 255))
        step = self._per_image(2.0 ** t["shift_factor"].astype(np.float64))
        y = ops.multiply(ops.floor(ops.divide(x, step)), step)
        return transform_value_range(y, (0, 255), self.value_range,
                                     self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}


class RandomSharpness(BaseAugmentation):
    """Randomly sharpens or blurs images: blends with a 3x3 smoothed copy,
    `x + (1 - 2f) (smooth(x) - x)`, `f` drawn from `factor`.

    Args:
        factor: a float or pair in [0, 1] (0.5 keeps the image).
        value_range: `(min, max)` of the input values.
        data_format: `"channels_last"` or `"channels_first"`.
        seed: integer seed.

    Example:
    >>> layer = gkeras.layers.RandomSharpness((0.5, 0.5))
    >>> x = np.random.random((1, 4, 4, 3)) * 255
    >>> np.allclose(layer(x, training=True), x, atol=1e-3)
    True
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None,
                 seed=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = parse_factor(self, factor, (0, 1))
        self.value_range = parse_value_range(self, value_range)

    def get_random_transformation(self, shape, rng):
        return {"factor": rng.uniform(self.factor[0], self.factor[1],
                                      shape[0])}

    def transform_images(self, images, t):
        x = ops.cast(images, self.compute_dtype)
        if self.data_format == "channels_first":
            x = ops.swapaxes(x, -3, -1)
        f = self._per_image(np.asarray(t["factor"]) * 2)
        c = x.shape[-1]
        a, b = 1.0 / 13.0, 5.0 / 13.0
        k = np.array([[a, a, a], [a, b, a], [a, a, a]], self.compute_dtype)
        k = np.tile(k.reshape(3, 3, 1, 1), (1, 1, c, 1))
        smooth = ops.depthwise_conv(x, _dev(k, x), strides=1, padding="same",
                                    data_format="channels_last")
        y = ops.add(x, ops.multiply(ops.subtract(1.0, f),
                                    ops.subtract(smooth, x)))
        y = ops.clip(y, self.value_range[0], self.value_range[1])
        if self.data_format == "channels_first":
            y = ops.swapaxes(y, -3, -1)
        return y

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}


class RandomGaussianBlur(BaseAugmentation):
    """Randomly blurs images with a Gaussian kernel (probability drawn
    from `factor`; one sigma pair per batch, drawn from `sigma`).

    Args:
        factor: probability of blurring (float or pair in [0, 1]).
        kernel_size: odd int, or a pair of odd ints.
        sigma: float or pair in [0, 1] (Keras's bound), the blur scale.
        value_range: `(min, max)` of the input values.
        data_format: `"channels_last"` or `"channels_first"`.
        seed: integer seed.

    Example:
    >>> layer = gkeras.layers.RandomGaussianBlur(factor=1.0, seed=1)
    >>> layer(np.ones((1, 5, 5, 3)), training=True).shape
    (1, 5, 5, 3)
    """

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0,
                 value_range=(0, 255), data_format=None, seed=None,
                 **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = parse_factor(self, factor, (0, 1))
        self.kernel_size = self._kernel_size(kernel_size)
        self.sigma = parse_factor(self, sigma, (0, 1), "sigma")
        self.value_range = value_range

    def _kernel_size(self, k):
        err = (f"RandomGaussianBlur layer {self.name!r}: `kernel_size` must "
               f"be an odd int or a pair of odd ints. Received: "
               f"kernel_size={k!r}")
        if isinstance(k, (tuple, list)):
            if len(k) != 2 or k[0] % 2 == 0 or k[1] % 2 == 0:
                raise ValueError(err)
            return tuple(k)
        if isinstance(k, (int, float)) and k % 2 == 1:
            return (k, k)
        raise ValueError(err)

    def get_random_transformation(self, shape, rng):
        n = shape[0]
        p = rng.uniform(self.factor[0], self.factor[1], n)
        apply = rng.uniform(0, 1, n) < p
        blur = rng.uniform(self.sigma[0], self.sigma[1], 2) + 1e-6
        return {"should_apply_blur": apply, "blur_factor": blur}

    def transform_images(self, images, t):
        x = ops.cast(images, self.compute_dtype)
        blurred = image_ops.gaussian_blur(
            x, kernel_size=self.kernel_size,
            sigma=tuple(float(s) for s in t["blur_factor"]),
            data_format=self.data_format)
        apply = _dev(t["should_apply_blur"].reshape(-1, 1, 1, 1), x)
        y = ops.where(apply, blurred, x)
        return ops.clip(y, self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "kernel_size": self.kernel_size, "sigma": self.sigma,
                "value_range": self.value_range, "seed": self.seed}
