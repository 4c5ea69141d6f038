"""`Permute`: permutes the non-batch axes."""

from gkeras import ops
from gkeras.layers.layer import Layer


class Permute(Layer):
    """Permutes the dimensions of the input according to a pattern.

    Args:
        dims: tuple of axis indices, 1-based (the batch axis is not
            included), e.g. `(2, 1)` swaps the first two non-batch axes.
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The "
                "set of indices in `dims` must be consecutive and start from "
                f"1. Received dims={self.dims}")
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return ops.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": tuple(self.dims)}
