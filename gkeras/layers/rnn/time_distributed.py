"""`TimeDistributed`: applies a layer to every temporal slice."""

from gkeras import ops
from gkeras.layers.core.wrapper import Wrapper
from gkeras.layers.layer import _signature_flags


class TimeDistributed(Wrapper):
    """Applies a layer to every temporal slice of an input.

    The input `(batch, timesteps, ...)` is folded to
    `(batch * timesteps, ...)`, passed through the wrapped layer once (one
    GEMM for a Dense) and unfolded; the layer's weights are shared by all
    timesteps.

    Args:
        layer: a `Layer` instance.

    Call arguments:
        inputs: `(batch, timesteps, ...)`.
        training: passed to the wrapped layer.
        mask: optional `(batch, timesteps)` mask, passed (folded) to the
            wrapped layer when it takes one.

    Input shape:
        At least 3-D: `(batch, timesteps, ...)`.

    Output shape:
        `(batch, timesteps) + layer_output_shape[1:]`.

    Example:
    >>> td = gkeras.layers.TimeDistributed(gkeras.layers.Dense(8))
    >>> td(np.ones((32, 10, 16), "float32")).shape
    (32, 10, 8)
    """

    def __init__(self, layer, **kwargs):
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    def _check(self, shape):
        if len(shape) < 3:
            raise ValueError(
                f"TimeDistributed layer {self.name!r} expects an input of "
                "at least 3 dimensions, (batch, timesteps, ...). Received: "
                f"input shape {tuple(shape)}.")

    def build(self, input_shape):
        self._check(input_shape)
        if not self.layer.built:
            self.layer._maybe_build((input_shape[0],) +
                                    tuple(input_shape[2:]))
        self.built = True

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        child = self.layer.compute_output_shape(
            (input_shape[0],) + tuple(input_shape[2:]))
        return (child[0], input_shape[1]) + tuple(child[1:])

    def call(self, inputs, training=None, mask=None):
        shape = tuple(inputs.shape)
        self._check(shape)
        n, t = shape[0], shape[1]
        x = ops.reshape(inputs, (n * t,) + shape[2:])
        kwargs = {}
        has_training, has_mask = _signature_flags(type(self.layer))[:2]
        if has_training:
            kwargs["training"] = training
        if has_mask and mask is not None:
            m = mask.data if hasattr(mask, "data") else mask
            kwargs["mask"] = m.reshape((n * t,) + tuple(m.shape[2:]))
        y = self.layer(x, **kwargs)
        return ops.reshape(y, (n, t) + tuple(y.shape[1:]))

    def compute_mask(self, inputs, mask=None):
        return mask
