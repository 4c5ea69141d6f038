"""Activation layers with parameters: ReLU, LeakyReLU, PReLU, ELU, Softmax."""

from gkeras import activations, constraints, initializers, ops, regularizers
from gkeras.layers.layer import Layer


class ReLU(Layer):
    """Rectified Linear Unit activation layer.

    `f(x) = max_value` if `x >= max_value`; `x` if `threshold <= x <
    max_value`; `negative_slope * (x - threshold)` otherwise.

    Args:
        max_value: float >= 0, the saturation value (None: no cap).
        negative_slope: float >= 0, slope below the threshold.
        threshold: float >= 0, the threshold value.

    Example:
    >>> gkeras.layers.ReLU(max_value=6.0)(np.array([-1.0, 3.0, 9.0]))
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0,
                 **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError("max_value of a ReLU layer cannot be a negative "
                             f"value. Received: max_value={max_value}")
        if negative_slope is None or negative_slope < 0.0:
            raise ValueError("negative_slope of a ReLU layer cannot be a "
                             "negative value. Received: negative_slope="
                             f"{negative_slope}")
        if threshold is None or threshold < 0.0:
            raise ValueError("threshold of a ReLU layer cannot be a negative "
                             f"value. Received: threshold={threshold}")
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return activations.relu(inputs, negative_slope=self.negative_slope,
                                max_value=self.max_value,
                                threshold=self.threshold)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(Layer):
    """Leaky ReLU: `x` if `x >= 0` else `negative_slope * x`.

    Args:
        negative_slope: float >= 0 (default 0.3). Keras-2 `alpha=` is
            accepted as an alias.
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError("The negative_slope value of a Leaky ReLU layer "
                             "cannot be None or negative value. Expected a "
                             "float. Received: negative_slope="
                             f"{negative_slope}")
        self.negative_slope = negative_slope
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return ops.leaky_relu(inputs, negative_slope=self.negative_slope)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(),
                "negative_slope": self.negative_slope}


class PReLU(Layer):
    """Parametric ReLU: `x` if `x >= 0` else `alpha * x`, `alpha` learned.

    Args:
        alpha_initializer: initializer of the weights (default zeros).
        alpha_regularizer, alpha_constraint: optional.
        shared_axes: axes along which one alpha is shared (e.g. `[1, 2]`
            for one alpha per channel of images).
    """

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None,
                 alpha_constraint=None, shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif not isinstance(shared_axes, (list, tuple)):
            self.shared_axes = [shared_axes]
        else:
            self.shared_axes = list(shared_axes)

    def build(self, input_shape):
        param_shape = list(input_shape[1:])
        if self.shared_axes is not None:
            for i in self.shared_axes:
                param_shape[i - 1] = 1
        if any(s is None for s in param_shape):
            raise ValueError(
                f"PReLU layer {self.name!r}: the input shape {input_shape} "
                "has unknown non-batch axes; share them with `shared_axes`.")
        self.alpha = self.add_weight(shape=tuple(param_shape), name="alpha",
                                     initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)
        self.built = True

    def call(self, inputs):
        pos = ops.relu(inputs)
        neg = ops.multiply(ops.negative(self.alpha),
                           ops.relu(ops.negative(inputs)))
        return ops.add(pos, neg)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(),
                "alpha_initializer": initializers.serialize(
                    self.alpha_initializer),
                "alpha_regularizer": regularizers.serialize(
                    self.alpha_regularizer),
                "alpha_constraint": constraints.serialize(
                    self.alpha_constraint),
                "shared_axes": self.shared_axes}


class ELU(Layer):
    """Exponential Linear Unit: `x` if `x > 0` else `alpha*(exp(x)-1)`.

    Args:
        alpha: scale for the negative part (default 1.0).
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return ops.elu(inputs, alpha=self.alpha)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(Layer):
    """Softmax activation layer, with an optional boolean mask.

    Args:
        axis: int or list of ints, the axis(es) to normalize over.

    Call arguments:
        inputs: the logits.
        mask: optional boolean mask broadcastable to `inputs`; masked
            positions get probability zero (as Keras 3).
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True
        self.built = True

    def call(self, inputs, mask=None):
        if mask is not None:
            # A large negative keeps fully masked rows finite; the product
            # with the mask then zeroes masked entries (Keras 3.15).
            adder = ops.multiply(ops.subtract(1.0, ops.cast(
                mask, inputs.dtype)), -1e9)
            inputs = ops.add(inputs, adder)
        axis = self.axis
        if isinstance(axis, (list, tuple)):
            out = ops.exp(ops.subtract(inputs, ops.logsumexp(
                inputs, axis=tuple(axis), keepdims=True)))
        else:
            out = ops.softmax(inputs, axis=axis)
        if mask is not None:
            out = ops.multiply(out, ops.cast(mask, out.dtype))
        return out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
