"""`AlphaDropout`: dropout that keeps SELU's self-normalizing statistics."""

from gkeras import ops
from gkeras.layers.regularization.dropout import Dropout
from gkeras.ops._base import arr, xp_of
from gkeras.random import uniform_array

# SELU's constants (Klambauer et al., 2017).
_ALPHA = 1.6732632423543772848170429916717
_SCALE = 1.0507009873554804934193349852946


class AlphaDropout(Dropout):
    """Applies Alpha Dropout to the input.

    Dropped entries are set to SELU's negative saturation value
    `-alpha * scale` instead of 0, then an affine map `a * x + b` restores
    the mean and variance the inputs had, so a SELU network stays
    self-normalizing. Identity at inference.

    Args:
        rate: float in [0, 1], the drop probability (as for `Dropout`).
        noise_shape: optional shape of the binary keep-mask (None entries
            take the input's size).
        seed: optional integer seed.

    Call arguments:
        inputs: input tensor (any rank).
        training: whether to drop (fit passes True; predict False).

    Example:
    >>> layer = gkeras.layers.AlphaDropout(0.2, seed=0)
    >>> layer(np.ones((2, 3)), training=False).numpy()
    array([[1., 1., 1.],
           [1., 1., 1.]], dtype=float32)
    """

    def call(self, inputs, training=False):
        if not (training and self.rate > 0):
            return inputs
        a_in = arr(inputs)
        shape = self._noise_shape(inputs) or tuple(a_in.shape)
        dtype = a_in.dtype if a_in.dtype.kind == "f" else "float32"
        keep = uniform_array(shape, self.seed_generator, xp_of(a_in),
                             dtype) >= self.rate
        keep = keep.astype(dtype)
        alpha_p = -_ALPHA * _SCALE
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        # x * keep + alpha_p * (1 - keep), then a * (.) + b: the mask is a
        # constant, so the gradient is a * keep.
        x = ops.add(ops.multiply(inputs, keep), alpha_p * (1.0 - keep))
        return ops.add(ops.multiply(x, a), b)
