"""`Flatten`: collapses every axis but the batch axis."""

import math

from gkeras import ops
from gkeras.backend import standardize_data_format
from gkeras.layers.layer import Layer


class Flatten(Layer):
    """Flattens the input; does not affect the batch size.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`;
            with channels_first the channel axis is moved last before
            flattening, so weights ported between formats still line up.

    Example:
    >>> gkeras.layers.Flatten()(np.ones((2, 3, 4))).shape
    (2, 12)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self._channels_first = self.data_format == "channels_first"
        self.built = True

    def call(self, inputs):
        shape = ops.shape(inputs)
        if self._channels_first and len(shape) > 2:
            inputs = ops.moveaxis(inputs, 1, -1)
        if len(shape) == 1:
            return ops.expand_dims(inputs, 1)
        return ops.reshape(inputs, (shape[0], -1))

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if len(input_shape) == 1:
            return (input_shape[0], 1)
        n = None if any(s is None for s in rest) else math.prod(rest)
        return (input_shape[0], n)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}
