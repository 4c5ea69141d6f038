"""`gkeras.activations`: activation functions by name (Keras 3 names).

`get("relu")` returns the function; `serialize(fn)` returns its name, the
form Keras writes in layer configs.
"""

from gkeras import ops
from gkeras.ops._base import keras_op


@keras_op
def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit, with Keras's optional slope, cap and threshold.

    Args:
        x: input tensor.
        negative_slope: slope below the threshold.
        max_value: saturation value (None for no cap).
        threshold: values below it are damped / zeroed.
    """
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return ops.relu(x)
    if threshold != 0.0:
        pos = ops.where(ops.greater(x, threshold), x, 0.0)
    else:
        pos = ops.relu(x)
    if max_value is not None:
        pos = ops.minimum(pos, max_value)
    if negative_slope:
        neg = ops.multiply(ops.minimum(ops.subtract(x, threshold), 0.0),
                           negative_slope)
        return ops.add(pos, neg)
    return pos


def leaky_relu(x, negative_slope=0.2):
    """Leaky ReLU."""
    return ops.leaky_relu(x, negative_slope=negative_slope)


def relu6(x):
    """`min(max(x, 0), 6)`."""
    return ops.relu6(x)


def elu(x, alpha=1.0):
    """Exponential linear unit."""
    return ops.elu(x, alpha=alpha)


def selu(x):
    """Scaled exponential linear unit."""
    return ops.selu(x)


def softplus(x):
    """`log(exp(x) + 1)`."""
    return ops.softplus(x)


def softsign(x):
    """`x / (abs(x) + 1)`."""
    return ops.softsign(x)


def silu(x):
    """`x * sigmoid(x)`."""
    return ops.silu(x)


def swish(x):
    """`x * sigmoid(x)` (alias of silu)."""
    return ops.silu(x)


def gelu(x, approximate=False):
    """Gaussian error linear unit (Keras's activation default: exact)."""
    return ops.gelu(x, approximate=approximate)


def celu(x, alpha=1.0):
    """Continuously differentiable ELU."""
    return ops.celu(x, alpha=alpha)


def tanh(x):
    """Hyperbolic tangent."""
    return ops.tanh(x)


def sigmoid(x):
    """Sigmoid."""
    return ops.sigmoid(x)


def exponential(x):
    """`exp(x)`."""
    return ops.exp(x)


def hard_sigmoid(x):
    """`relu6(x + 3) / 6` (Keras 3's definition)."""
    return ops.hard_sigmoid(x)


def hard_silu(x):
    """`x * relu6(x + 3) / 6`."""
    return ops.hard_silu(x)


hard_swish = hard_silu


def linear(x):
    """Identity."""
    return x


def mish(x):
    """`x * tanh(softplus(x))`."""
    return ops.mish(x)


def log_softmax(x, axis=-1):
    """`log(softmax(x))`."""
    return ops.log_softmax(x, axis=axis)


def softmax(x, axis=-1):
    """Softmax over `axis` (Keras raises for 1-D input; so does gkeras)."""
    if len(ops.shape(x)) <= 1:
        raise ValueError(
            "softmax: cannot apply softmax to a tensor that is 1D. Received "
            f"input with shape {tuple(ops.shape(x))}")
    return ops.softmax(x, axis=axis)


def log_sigmoid(x):
    """`log(sigmoid(x))`, computed stably."""
    return ops.log_sigmoid(x)


def sparse_plus(x):
    """SparsePlus: 0 below -1, `(x + 1)**2 / 4` on [-1, 1], `x` above."""
    return ops.sparse_plus(x)


def sparse_sigmoid(x):
    """Sparse sigmoid: `clip((x + 1) / 2, 0, 1)`."""
    return ops.sparse_sigmoid(x)


def hard_tanh(x):
    """Hard tanh: `clip(x, -1, 1)`."""
    return ops.hard_tanh(x)


def hard_shrink(x, threshold=0.5):
    """`x` where `|x| > threshold`, else 0."""
    return ops.hard_shrink(x, threshold=threshold)


def soft_shrink(x, threshold=0.5):
    """`x` moved towards 0 by `threshold`, 0 inside `[-threshold,
    threshold]`."""
    return ops.soft_shrink(x, threshold=threshold)


def tanh_shrink(x):
    """`x - tanh(x)`."""
    return ops.tanh_shrink(x)


def threshold(x, threshold, default_value):
    """`x` where `x > threshold`, else `default_value`."""
    return ops.threshold(x, threshold, default_value)


def squareplus(x, b=4):
    """`(x + sqrt(x**2 + b)) / 2`."""
    return ops.squareplus(x, b=b)


def glu(x, axis=-1):
    """Gated linear unit: `a * sigmoid(b)`, the halves of `x` on `axis`."""
    return ops.glu(x, axis=axis)


def sparsemax(x, axis=-1):
    """Sparsemax: projection of `x` onto the probability simplex."""
    return ops.sparsemax(x, axis=axis)


_ALL = {
    "relu": relu, "leaky_relu": leaky_relu, "relu6": relu6, "elu": elu,
    "selu": selu, "softplus": softplus, "softsign": softsign, "silu": silu,
    "swish": swish, "gelu": gelu, "celu": celu, "tanh": tanh,
    "sigmoid": sigmoid, "exponential": exponential,
    "hard_sigmoid": hard_sigmoid, "hard_silu": hard_silu,
    "hard_swish": hard_swish, "linear": linear, "mish": mish,
    "log_softmax": log_softmax, "softmax": softmax,
    "log_sigmoid": log_sigmoid, "sparse_plus": sparse_plus,
    "sparse_sigmoid": sparse_sigmoid, "hard_tanh": hard_tanh,
    "hard_shrink": hard_shrink, "soft_shrink": soft_shrink,
    "tanh_shrink": tanh_shrink, "threshold": threshold,
    "squareplus": squareplus, "glu": glu, "sparsemax": sparsemax,
}


def serialize(activation):
    """Returns the name Keras writes for an activation function."""
    if activation is None:
        return "linear"
    for name, fn in _ALL.items():
        if fn is activation:
            return "swish" if name == "silu" else name
    name = getattr(activation, "__name__", None)
    if name in _ALL:
        return name
    if hasattr(activation, "get_config"):
        from gkeras.saving.serialization import serialize_keras_object
        return serialize_keras_object(activation)
    return name or repr(activation)


def get(identifier):
    """Returns the activation function for a name, a callable or None.

    Args:
        identifier: e.g. `"relu"`, a function, or None (linear).

    Raises:
        ValueError: for an unknown name, listing the valid ones.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _ALL.get(identifier)
        if fn is None:
            from gkeras.saving.custom_objects import lookup_custom
            fn = lookup_custom(identifier)
        if fn is None:
            raise ValueError(
                f"Could not interpret activation function identifier: "
                f"{identifier!r}. Valid names: {sorted(_ALL)}.")
        return fn
    if isinstance(identifier, dict):
        from gkeras.saving.serialization import deserialize_keras_object
        return deserialize_keras_object(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: "
                     f"{identifier!r}")


def deserialize(config, custom_objects=None):
    """Returns the activation for a serialized name/config."""
    return get(config)
