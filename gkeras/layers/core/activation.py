"""`Activation`: applies an activation function to its input."""

from gkeras import activations
from gkeras.layers.layer import Layer


class Activation(Layer):
    """Applies an activation function to an output.

    Args:
        activation: activation function name (e.g. `"relu"`) or callable.

    Example:
    >>> gkeras.layers.Activation("relu")(np.array([-3.0, 2.0]))
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(),
                "activation": activations.serialize(self.activation)}
