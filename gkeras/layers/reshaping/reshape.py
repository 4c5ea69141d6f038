"""`Reshape`: reshapes the non-batch axes to a target shape."""

import math

from gkeras import ops
from gkeras.layers.layer import Layer


class Reshape(Layer):
    """Reshapes inputs into the given shape (batch axis kept).

    Args:
        target_shape: shape tuple without the batch axis; one entry may be
            -1 (inferred).

    Example:
    >>> gkeras.layers.Reshape((3, 4))(np.ones((2, 12))).shape
    (2, 3, 4)
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(target_shape) if not isinstance(
            target_shape, int) else (target_shape,)
        if sum(1 for s in target_shape if s == -1) > 1:
            raise ValueError("Reshape: only one -1 is allowed in "
                             f"`target_shape`. Received: {target_shape}")
        self.target_shape = target_shape
        self.built = True

    def _resolve(self, input_shape):
        rest = input_shape[1:]
        if -1 not in self.target_shape:
            if None not in rest and math.prod(rest) != math.prod(
                    self.target_shape):
                raise ValueError(
                    f"Layer {self.name!r} (Reshape): cannot reshape an input "
                    f"of shape {tuple(input_shape)} ({math.prod(rest)} "
                    f"values per sample) to target_shape "
                    f"{self.target_shape} ({math.prod(self.target_shape)} "
                    "values).")
            return self.target_shape
        if None in rest:
            return tuple(None if s == -1 else s for s in self.target_shape)
        known = math.prod(s for s in self.target_shape if s != -1)
        total = math.prod(rest)
        if known == 0 or total % known:
            raise ValueError(
                f"Layer {self.name!r} (Reshape): cannot reshape an input of "
                f"shape {tuple(input_shape)} to target_shape "
                f"{self.target_shape}.")
        return tuple(total // known if s == -1 else s
                     for s in self.target_shape)

    def call(self, inputs):
        shape = ops.shape(inputs)
        target = self._resolve(shape)
        return ops.reshape(inputs, (shape[0],) + tuple(
            -1 if s is None else s for s in target))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(self._resolve(input_shape))

    def get_config(self):
        return {**super().get_config(),
                "target_shape": tuple(self.target_shape)}
