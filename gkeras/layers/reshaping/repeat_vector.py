"""`RepeatVector`: repeats a 2-D input n times along a new axis."""

from gkeras import ops
from gkeras.layers.input_spec import InputSpec
from gkeras.layers.layer import Layer


class RepeatVector(Layer):
    """Repeats the input `n` times: (batch, features) -> (batch, n, features).

    Args:
        n: repetition factor (int).
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int):
            raise TypeError("Expected an integer value for `n`, got "
                            f"{type(n).__name__}.")
        self.n = n
        self.input_spec = InputSpec(ndim=2)
        self.built = True

    def call(self, inputs):
        return ops.repeat(ops.expand_dims(inputs, 1), self.n, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}
