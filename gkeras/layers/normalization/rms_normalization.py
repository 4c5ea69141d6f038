"""`RMSNormalization`: per-sample root-mean-square normalization."""

from gkeras import ops
from gkeras.layers.layer import Layer
from gkeras.ops.layer_norm import rms_normalization


class RMSNormalization(Layer):
    """Root Mean Square normalization (Zhang and Sennrich, 2019).

    `x * rsqrt(mean(square(x), axis) + epsilon) * scale`, with a learned
    `scale` (initialized to ones) shaped like the normalized axes. Unlike
    `LayerNormalization`, the inputs are not centred.

    Args:
        axis: int or list of ints, the normalized axes (default -1).
        epsilon: small float added to the mean square (default 1e-6).

    Input shape:
        Any; `axis` must name existing axes.

    Output shape:
        Same as the input.

    Example:
    >>> layer = gkeras.layers.RMSNormalization()
    >>> layer.build([5, 20, 30, 10])
    >>> layer.scale.shape
    (10,)
    """

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, (int, list, tuple)):
            raise TypeError(
                "RMSNormalization: expected an int or a list/tuple of ints "
                f"for `axis`. Received: axis={axis!r}")
        self.axis = list(axis) if isinstance(axis, tuple) else axis
        self.epsilon = epsilon
        self.supports_masking = True

    def _check_axes(self, input_shape):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        rank = len(input_shape)
        for a in axes:
            if not -rank <= a < rank:
                raise ValueError(
                    f"RMSNormalization {self.name!r}: axis {a} is out of "
                    f"bounds for input shape {tuple(input_shape)}. "
                    f"Received: axis={self.axis}")
        return axes

    def build(self, input_shape):
        axes = self._check_axes(input_shape)
        # Keras keeps the axes as given until built, then a sorted list.
        self.axis = sorted(axes)
        shape = tuple(input_shape[a] for a in self.axis)
        if any(d is None for d in shape):
            raise ValueError(
                f"RMSNormalization {self.name!r}: the normalized axes "
                f"{self.axis} must have known sizes; received input shape "
                f"{tuple(input_shape)}.")
        self.scale = self.add_weight(name="scale", shape=shape,
                                     initializer="ones")
        self.built = True

    def call(self, x):
        scale = self.scale
        rank = len(x.shape)
        axes = sorted(a % rank for a in self.axis)
        if axes != list(range(rank - len(axes), rank)):
            # Normalized axes that are not the trailing ones: the scale
            # broadcasts along the others.
            scale = ops.reshape(scale, [x.shape[i] if i in axes else 1
                                        for i in range(rank)])
        return rms_normalization(x, scale=scale, axis=self.axis,
                                 epsilon=self.epsilon)

    def compute_output_shape(self, input_shape):
        self._check_axes(input_shape)
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis,
                "epsilon": self.epsilon}
