"""`Identity`: returns its input unchanged."""

from gkeras.layers.layer import Layer


class Identity(Layer):
    """Identity layer: a placeholder that passes its input through."""

    supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape
