"""`Dropout`: randomly zeroes inputs during training."""

from gkeras import ops
from gkeras.layers.layer import Layer
from gkeras.random import SeedGenerator


class Dropout(Layer):
    """Applies dropout to the input.

    During training each entry is zeroed with probability `rate` and the
    others are scaled by `1 / (1 - rate)`; at inference it is the identity.

    Args:
        rate: float in [0, 1), the fraction of the inputs to drop.
        noise_shape: optional shape of the binary mask (None entries take
            the input's size), e.g. `(batch, 1, features)` to drop the same
            features at every timestep.
        seed: optional integer seed.

    Call arguments:
        inputs: input tensor (any rank).
        training: whether to drop (fit passes True; predict False).
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(
                "Invalid value received for argument `rate`. Expected a "
                f"float value between 0 and 1. Received: rate={rate!r}")
        self.rate = float(rate)
        self.seed = seed
        self.noise_shape = tuple(noise_shape) if noise_shape is not None \
            else None
        self.seed_generator = SeedGenerator(seed) if rate > 0 else None
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            if self.rate >= 1:
                return ops.multiply(inputs, 0.0)
            return ops.dropout(inputs, self.rate,
                               noise_shape=self._noise_shape(inputs),
                               seed=self.seed_generator)
        return inputs

    def _noise_shape(self, inputs):
        if self.noise_shape is None:
            return None
        shape = ops.shape(inputs)
        return tuple(shape[i] if s is None else s
                     for i, s in enumerate(self.noise_shape))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": list(self.noise_shape)
                if self.noise_shape is not None else None}
