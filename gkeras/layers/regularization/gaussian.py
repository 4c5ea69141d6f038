"""`GaussianNoise` and `GaussianDropout`: multiplicative / additive noise
in training, identity in inference."""

import math

from gkeras import ops
from gkeras.layers.layer import Layer
from gkeras.ops._base import arr, xp_of
from gkeras.random import SeedGenerator, _rng


def _normal(x, seed_generator, mean, stddev):
    a = arr(x)
    noise = _rng(seed_generator, xp_of(a)).standard_normal(
        a.shape, dtype=a.dtype if a.dtype.kind == "f" else "float32")
    noise *= a.dtype.type(stddev)
    if mean:
        noise += a.dtype.type(mean)
    return noise


def _check_rate(rate, who, name):
    if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ValueError(f"{who}: invalid value received for argument "
                         f"`{name}`. Expected a float value between 0 and 1. "
                         f"Received: {name}={rate!r}")
    return float(rate)


class GaussianNoise(Layer):
    """Adds zero-centred Gaussian noise during training (a regularizer).

    Args:
        stddev: float, standard deviation of the noise.
        seed: optional integer seed.

    Call arguments:
        inputs: input tensor (any rank).
        training: add noise (True) or pass through (False).

    Example:
    >>> y = gkeras.layers.GaussianNoise(0.1)(np.ones((2, 3)), training=True)
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(stddev, (int, float)) or stddev < 0:
            raise ValueError(
                f"GaussianNoise layer {self.name!r}: `stddev` must be a "
                f"non-negative float. Received: stddev={stddev!r}")
        self.stddev = float(stddev)
        self.seed = seed
        self.seed_generator = SeedGenerator(seed) if stddev > 0 else None
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if training and self.stddev > 0:
            return ops.add(inputs, _normal(inputs, self.seed_generator, 0.0,
                                           self.stddev))
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev,
                "seed": self.seed}


class GaussianDropout(Layer):
    """Multiplies the inputs by 1-centred Gaussian noise during training.

    The noise has standard deviation `sqrt(rate / (1 - rate))`, matching
    the variance of dropout with the same rate.

    Args:
        rate: float in [0, 1), the equivalent drop probability.
        seed: optional integer seed.

    Call arguments:
        inputs: input tensor (any rank).
        training: apply noise (True) or pass through (False).

    Example:
    >>> y = gkeras.layers.GaussianDropout(0.2)(np.ones((2, 3)), training=True)
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check_rate(rate, f"GaussianDropout layer {self.name!r}",
                                "rate")
        self.seed = seed
        self.seed_generator = SeedGenerator(seed) if rate > 0 else None
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if training and 0 < self.rate < 1:
            std = math.sqrt(self.rate / (1.0 - self.rate))
            return ops.multiply(inputs, _normal(inputs, self.seed_generator,
                                                1.0, std))
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
