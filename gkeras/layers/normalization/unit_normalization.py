"""`UnitNormalization`: scales each sample to unit L2 norm."""

from gkeras import ops
from gkeras.layers.layer import Layer


class UnitNormalization(Layer):
    """Normalizes each sample to unit L2 norm over `axis`.

    `x / max(sqrt(sum(x ** 2, axis)), 1e-12)`.

    Args:
        axis: int or list of ints, the axes over which the norm is taken
            (default -1).

    Input shape:
        Any.

    Output shape:
        Same as the input.

    Example:
    >>> layer = gkeras.layers.UnitNormalization()
    >>> layer(np.array([[3.0, 4.0]])).numpy()
    array([[0.6, 0.8]], dtype=float32)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError(
                "Invalid value for `axis` argument: expected an int or a "
                f"list/tuple of ints. Received: axis={axis!r}")
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        sq = ops.sum(ops.square(inputs), axis=axis, keepdims=True)
        # Keras clips the inverse norm at 1/epsilon, epsilon = 1e-12.
        return ops.multiply(inputs, ops.rsqrt(ops.maximum(sq, 1e-24)))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
