"""`Masking`: marks timesteps whose features all equal `mask_value`."""

from gkeras import ops
from gkeras.layers.layer import Layer
from gkeras.ops._base import xp_of
from gkeras.ops.engine import Tensor


class Masking(Layer):
    """Masks a sequence by using a mask value to skip timesteps.

    A timestep whose features all equal `mask_value` is masked: its output
    is zeroed and the `(batch, timesteps)` mask handed to the next layers
    marks it False, so recurrent layers carry their state over it.

    Args:
        mask_value: the padding value (default 0.0).

    Input shape:
        `(batch, timesteps, ...features)`.

    Output shape:
        Same as the input.

    Example:
    >>> x = np.ones((2, 4, 3), "float32"); x[:, 3] = 0.0
    >>> y = gkeras.layers.Masking(0.0)(x)
    >>> y._keras_mask
    array([[ True,  True,  True, False],
           [ True,  True,  True, False]])
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True
        self.built = True

    def _keep(self, inputs):
        a = inputs.data if isinstance(inputs, Tensor) else inputs
        return xp_of(a).any(a != self.mask_value, axis=-1)

    def call(self, inputs):
        keep = self._keep(inputs)
        return ops.multiply(inputs, keep[..., None].astype(inputs.dtype))

    def compute_mask(self, inputs, mask=None):
        return self._keep(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
