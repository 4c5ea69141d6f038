"""`SpectralNormalization`: keeps a wrapped layer's kernel at spectral norm
about 1 (Miyato et al., 2018), by power iteration in training."""

from gkeras import backend, initializers
from gkeras.layers.core.wrapper import Wrapper
from gkeras.layers.input_spec import InputSpec
from gkeras.ops._base import xp_of


def _unit(xp, x):
    """`x / ||x||` over all entries, the inverse norm capped at
    `1 / epsilon` (Keras's `normalize(axis=None)`), on the device: flooring
    the square sum at `epsilon^2` is the same cap without a host sync."""
    eps = backend.epsilon()
    return x / xp.sqrt(xp.maximum(xp.sum(x * x), eps * eps))


class SpectralNormalization(Wrapper):
    """Performs spectral normalization on the weights of a target layer.

    In training, each call runs `power_iterations` steps of the power
    method on the kernel (reshaped to `(-1, out)`) from the persistent
    estimate `vector_u`, then replaces the kernel by `kernel / sigma`, its
    largest singular value, before the wrapped layer runs (as Keras does:
    the kernel variable itself is rescaled, so gradients reach it through
    the wrapped layer). In inference the kernel is used as it is.

    Args:
        layer: a layer with a `kernel` (Dense, Conv*, ...) or `embeddings`
            weight.
        power_iterations: number of power-method steps per call (> 0).
        **kwargs: base `Layer` arguments.

    Example:
    >>> sn = gkeras.layers.SpectralNormalization(gkeras.layers.Conv2D(2, 2))
    >>> sn(np.random.rand(1, 10, 10, 1), training=True).shape
    (1, 9, 9, 2)
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if power_iterations <= 0:
            raise ValueError(
                "`power_iterations` should be greater than zero. Received: "
                f"`power_iterations={power_iterations}`")
        self.power_iterations = power_iterations

    def build(self, input_shape):
        super().build(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        if hasattr(self.layer, "kernel"):
            self.kernel = self.layer.kernel
        elif hasattr(self.layer, "embeddings"):
            self.kernel = self.layer.embeddings
        else:
            raise ValueError(f"{type(self.layer).__name__} object has no "
                             "attribute 'kernel' nor 'embeddings'")
        self.kernel_shape = tuple(self.kernel.shape)
        self.vector_u = self.add_weight(
            shape=(1, self.kernel_shape[-1]),
            initializer=initializers.TruncatedNormal(stddev=0.02),
            trainable=False, name="vector_u", dtype=self.kernel.dtype)

    def normalized_weights(self):
        """`(vector_u, kernel / sigma)` after the power iterations, as
        arrays (no gradient flows through the estimate)."""
        w = self.kernel.data
        xp = xp_of(w)
        mat = w.reshape(-1, self.kernel_shape[-1])
        u = self.vector_u.data
        u0 = u
        for _ in range(self.power_iterations):
            v = _unit(xp, u @ mat.T)
            u = _unit(xp, v @ mat)
        # An all-zero kernel stays as it is (Keras's `ops.cond`), decided
        # on the device instead of by a host round trip per step.
        nonzero = xp.any(w)
        sigma = xp.where(nonzero, (v @ mat @ u.T).reshape(()), 1.0)
        u = xp.where(nonzero, u, u0)
        return u.astype(self.vector_u.dtype), (w / sigma).astype(w.dtype)

    def call(self, inputs, training=False):
        if training:
            u, kernel = self.normalized_weights()
            self.vector_u.assign(u)
            self.kernel.assign(kernel)
        return self.layer(inputs)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(),
                "power_iterations": self.power_iterations}
