"""Augmentation layers built from other augmentation layers (Keras 3):
`RandomColorJitter`, `RandAugment`, `AugMix`."""

import numpy as np

from gkeras import ops
from gkeras.layers.preprocessing.augmentation.base import (
    BaseAugmentation, parse_factor)
from gkeras.layers.preprocessing.augmentation.color import (
    RandomColorDegeneration, RandomHue, RandomPosterization,
    RandomSaturation, RandomSharpness, Solarization)
from gkeras.layers.preprocessing.augmentation.contrast import (
    AutoContrast, Equalization)
from gkeras.layers.preprocessing.augmentation.geometric import RandomShear

__all__ = ["RandomColorJitter", "RandAugment", "AugMix"]


def _apply(layer, images):
    return layer(images, training=True)


class RandomColorJitter(BaseAugmentation):
    """Randomly adjusts brightness, contrast, saturation and hue, in that
    order (each only when its factor is given), with the layers of the
    same names.

    Args:
        value_range: `(min, max)` of the input values.
        brightness_factor: `RandomBrightness`'s factor, or None.
        contrast_factor: `RandomContrast`'s factor, or None.
        saturation_factor: `RandomSaturation`'s factor, or None.
        hue_factor: `RandomHue`'s factor, or None.
        seed: integer seed.
        data_format: `"channels_last"` or `"channels_first"`.

    Example:
    >>> layer = gkeras.layers.RandomColorJitter(brightness_factor=0.2,
    ...                                         hue_factor=0.1, seed=1)
    >>> layer(np.ones((2, 4, 4, 3)) * 100, training=True).shape
    (2, 4, 4, 3)
    """

    def __init__(self, value_range=(0, 255), brightness_factor=None,
                 contrast_factor=None, saturation_factor=None,
                 hue_factor=None, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        from gkeras.layers.preprocessing.image_augmentation import (
            RandomBrightness, RandomContrast)
        self.value_range = value_range
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        common = dict(value_range=value_range, seed=seed,
                      data_format=self.data_format)
        self._stages = []
        if brightness_factor is not None:
            self.random_brightness = RandomBrightness(brightness_factor,
                                                      **common)
            self._stages.append(self.random_brightness)
        if contrast_factor is not None:
            self.random_contrast = RandomContrast(contrast_factor, **common)
            self._stages.append(self.random_contrast)
        if saturation_factor is not None:
            self.random_saturation = RandomSaturation(saturation_factor,
                                                      **common)
            self._stages.append(self.random_saturation)
        if hue_factor is not None:
            self.random_hue = RandomHue(hue_factor, **common)
            self._stages.append(self.random_hue)

    def transform_images(self, images, t):
        x = ops.cast(images, self.compute_dtype)
        for layer in self._stages:
            x = ops.cast(_apply(layer, x), self.compute_dtype)
        return x

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "brightness_factor": self.brightness_factor,
                "contrast_factor": self.contrast_factor,
                "saturation_factor": self.saturation_factor,
                "hue_factor": self.hue_factor, "seed": self.seed}


def _make_ops(layer, names, factor, value_range, interpolation, seed,
              data_format):
    from gkeras.layers.preprocessing.image_augmentation import (
        RandomBrightness, RandomContrast, RandomRotation, RandomTranslation)
    makers = {
        "random_shear": lambda: RandomShear(
            x_factor=factor, y_factor=factor, interpolation=interpolation,
            seed=seed, data_format=data_format),
        "random_translation": lambda: RandomTranslation(
            factor, factor, interpolation=interpolation, seed=seed,
            data_format=data_format),
        "random_rotation": lambda: RandomRotation(
            factor, interpolation=interpolation, seed=seed,
            data_format=data_format),
        "random_brightness": lambda: RandomBrightness(
            factor, value_range=value_range, seed=seed,
            data_format=data_format),
        "random_color_degeneration": lambda: RandomColorDegeneration(
            factor, value_range=value_range, seed=seed,
            data_format=data_format),
        "random_contrast": lambda: RandomContrast(
            factor, value_range=value_range, seed=seed,
            data_format=data_format),
        "random_sharpness": lambda: RandomSharpness(
            factor, value_range=value_range, seed=seed,
            data_format=data_format),
        "random_posterization": lambda: RandomPosterization(
            max(1, int(8 * factor[1])), value_range=value_range, seed=seed,
            data_format=data_format),
        "solarization": lambda: Solarization(
            addition_factor=factor, threshold_factor=factor,
            value_range=value_range, seed=seed, data_format=data_format),
        "auto_contrast": lambda: AutoContrast(
            value_range=value_range, data_format=data_format),
        "equalization": lambda: Equalization(
            value_range=value_range, data_format=data_format),
    }
    for name in names:
        setattr(layer, name, makers[name]())


class RandAugment(BaseAugmentation):
    """RandAugment (Cubuk et al., 2019): `num_ops` operations drawn at
    random from shear, translation, rotation, brightness, colour
    degeneration, contrast, sharpness, posterization, solarization,
    auto-contrast and equalization, all of magnitude `factor`, applied in
    turn to the batch.

    Args:
        value_range: `(min, max)` of the input values.
        num_ops: number of operations per call.
        factor: magnitude, a float or pair in [0, 1].
        interpolation: `"bilinear"` (default) or `"nearest"`.
        seed: integer seed.
        data_format: `"channels_last"` or `"channels_first"`.

    Example:
    >>> layer = gkeras.layers.RandAugment(seed=1)
    >>> layer(np.ones((2, 8, 8, 3)) * 100, training=True).shape
    (2, 8, 8, 3)
    """

    _AUGMENT_LAYERS = [
        "random_shear", "random_translation", "random_rotation",
        "random_brightness", "random_color_degeneration", "random_contrast",
        "random_sharpness", "random_posterization", "solarization",
        "auto_contrast", "equalization",
    ]

    def __init__(self, value_range=(0, 255), num_ops=2, factor=0.5,
                 interpolation="bilinear", seed=None, data_format=None,
                 **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.value_range = value_range
        self.num_ops = num_ops
        self.factor = parse_factor(self, factor, (0, 1))
        self.interpolation = interpolation
        _make_ops(self, self._AUGMENT_LAYERS, self.factor, value_range,
                  interpolation, seed, self.data_format)

    def get_random_transformation(self, shape, rng):
        return {"layer_idxes": rng.integers(0, len(self._AUGMENT_LAYERS),
                                            self.num_ops)}

    def transform_images(self, images, t):
        x = ops.cast(images, self.compute_dtype)
        for idx in t["layer_idxes"]:
            layer = getattr(self, self._AUGMENT_LAYERS[int(idx)])
            x = ops.cast(_apply(layer, x), self.compute_dtype)
        return x

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "num_ops": self.num_ops, "factor": self.factor,
                "interpolation": self.interpolation, "seed": self.seed}


class AugMix(BaseAugmentation):
    """AugMix (Hendrycks et al., 2019): `num_chains` chains of up to
    `chain_depth` random operations each; the chains are mixed with
    Dirichlet(alpha) weights, then blended with the original image with a
    Beta(alpha, alpha) weight and clipped to `value_range`.

    Args:
        value_range: `(min, max)` of the input values.
        num_chains: number of augmentation chains.
        chain_depth: maximum operations per chain.
        factor: magnitude of the operations (float or pair in [0, 1]).
        alpha: concentration of the Dirichlet and Beta draws.
        all_ops: also use brightness, colour degeneration, contrast and
            sharpness.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        seed: integer seed.
        data_format: `"channels_last"` or `"channels_first"`.

    Example:
    >>> layer = gkeras.layers.AugMix(seed=1)
    >>> layer(np.ones((2, 8, 8, 3)) * 100, training=True).shape
    (2, 8, 8, 3)
    """

    _BASE_OPS = ["random_shear", "random_translation", "random_rotation",
                 "random_posterization", "solarization", "auto_contrast",
                 "equalization"]
    _EXTRA_OPS = ["random_brightness", "random_color_degeneration",
                  "random_contrast", "random_sharpness"]

    def __init__(self, value_range=(0, 255), num_chains=3, chain_depth=3,
                 factor=0.3, alpha=1.0, all_ops=True,
                 interpolation="bilinear", seed=None, data_format=None,
                 **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.value_range = value_range
        self.num_chains = num_chains
        self.chain_depth = chain_depth
        self.factor = parse_factor(self, factor, (0, 1))
        self.alpha = alpha
        self.all_ops = all_ops
        self.interpolation = interpolation
        self._augment_layers = self._BASE_OPS + (
            self._EXTRA_OPS if all_ops else [])
        _make_ops(self, self._augment_layers, self.factor, value_range,
                  interpolation, seed, self.data_format)

    def get_random_transformation(self, shape, rng):
        g = rng.gamma(self.alpha, size=self.num_chains)
        chains = []
        for _ in range(self.num_chains):
            # Each step picks an operation or nothing, as Keras.
            picks = rng.integers(0, len(self._augment_layers) + 1,
                                 self.chain_depth)
            chains.append([self._augment_layers[i] for i in picks
                           if i < len(self._augment_layers)])
        return {"chain_mixing_weights": g / g.sum(),
                "weight_sample": rng.beta(self.alpha, self.alpha),
                "chains": chains}

    def transform_images(self, images, t):
        x = ops.cast(images, self.compute_dtype)
        mixed = None
        for w, chain in zip(t["chain_mixing_weights"], t["chains"]):
            y = x
            for name in chain:
                y = ops.cast(_apply(getattr(self, name), y),
                             self.compute_dtype)
            term = ops.multiply(y, float(w))
            mixed = term if mixed is None else ops.add(mixed, term)
        ws = float(t["weight_sample"])
        out = ops.add(ops.multiply(x, ws), ops.multiply(mixed, 1.0 - ws))
        return ops.clip(out, self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "num_chains": self.num_chains,
                "chain_depth": self.chain_depth, "factor": self.factor,
                "alpha": self.alpha, "all_ops": self.all_ops,
                "interpolation": self.interpolation, "seed": self.seed}
