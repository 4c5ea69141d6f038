"""`gkeras.regularizers`: weight penalties, as `keras.regularizers`.

A regularizer is a callable `regularizer(x) -> scalar penalty`, written
with differentiable `gkeras.ops` so the trainer can add it to the loss
and differentiate it.
"""

import math

from gkeras import backend
from gkeras.utils import object_registry
from gkeras.utils.naming import to_snake_case


def _ops():
    from gkeras import ops
    return ops


def _validate_float_arg(value, name):
    """Checks that `value` is a non-negative finite number, returns a float."""
    if (not isinstance(value, (float, int)) or isinstance(value, bool)
            or (math.isinf(value) or math.isnan(value)) or value < 0):
        raise ValueError(
            f"Invalid value for argument {name}: expected a non-negative "
            f"float. Received: {name}={value!r}")
    return float(value)


class Regularizer:
    """Regularizer base class.

    Regularizers apply penalties on layer parameters during optimization;
    the penalties are summed into the loss the network optimizes. A
    subclass implements `__call__(x)` with `gkeras.ops` (so the penalty is
    differentiable) and `get_config()`.

    Example:

    ```python
    class L2Regularizer(Regularizer):
        def __init__(self, l2=0.0):
            self.l2 = l2

        def __call__(self, x):
            return self.l2 * ops.sum(ops.square(x))

        def get_config(self):
            return {"l2": float(self.l2)}
    ```
    """

    def __call__(self, x):
        return 0.0

    def get_config(self):
        """Returns the regularizer's configuration (a JSON-able dict)."""
        raise NotImplementedError(f"{type(self).__name__} does not "
                                  "implement get_config().")

    @classmethod
    def from_config(cls, config):
        """Instantiates a regularizer from its `get_config()` dict."""
        return cls(**config)

    def __repr__(self):
        try:
            cfg = self.get_config()
        except NotImplementedError:
            cfg = {}
        args = ", ".join(f"{k}={v!r}" for k, v in cfg.items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """A regularizer that applies both L1 and L2 regularization penalties.

    `loss = l1 * reduce_sum(abs(x)) + l2 * reduce_sum(square(x))`.
    Also available as `l1_l2` (defaults 0.0, as in Keras 3).

    Args:
        l1: non-negative float, the L1 regularization factor.
        l2: non-negative float, the L2 regularization factor.

    Example:

    >>> reg = L1L2(l1=0.01, l2=0.01)
    >>> dense = gkeras.layers.Dense(3, kernel_regularizer=reg)
    """

    def __init__(self, l1=0.0, l2=0.0):
        l1 = 0.0 if l1 is None else l1
        l2 = 0.0 if l2 is None else l2
        self.l1 = _validate_float_arg(l1, name="l1")
        self.l2 = _validate_float_arg(l2, name="l2")

    def __call__(self, x):
        ops = _ops()
        regularization = 0.0
        if self.l1:
            regularization = ops.multiply(self.l1, ops.sum(ops.abs(x)))
        if self.l2:
            term = ops.multiply(self.l2, ops.sum(ops.square(x)))
            regularization = term if isinstance(regularization, float) \
                else ops.add(regularization, term)
        if isinstance(regularization, float):
            return ops.convert_to_tensor(0.0, dtype=_dtype(x))
        return regularization

    def get_config(self):
        return {"l1": float(self.l1), "l2": float(self.l2)}


class L1(Regularizer):
    """A regularizer that applies an L1 regularization penalty.

    `loss = l1 * reduce_sum(abs(x))`. Also available as `l1`; the Keras-2
    keyword `l=` is accepted.

    Args:
        l1: non-negative float, the L1 regularization factor.
    """

    def __init__(self, l1=0.01, **kwargs):
        l1 = kwargs.pop("l", l1)  # Keras 2 spelling: l1(l=0.01)
        if kwargs:
            raise TypeError(f"L1 got unexpected arguments: {list(kwargs)}. "
                            "Expected: l1.")
        l1 = 0.01 if l1 is None else l1
        self.l1 = _validate_float_arg(l1, name="l1")

    def __call__(self, x):
        ops = _ops()
        return ops.multiply(self.l1, ops.sum(ops.abs(x)))

    def get_config(self):
        return {"l1": float(self.l1)}


class L2(Regularizer):
    """A regularizer that applies an L2 regularization penalty.

    `loss = l2 * reduce_sum(square(x))`. Also available as `l2`; the
    Keras-2 keyword `l=` is accepted (`l2(l=0.01)`).

    Args:
        l2: non-negative float, the L2 regularization factor.

    Example:

    >>> dense = gkeras.layers.Dense(3, kernel_regularizer=l2(0.01))
    """

    def __init__(self, l2=0.01, **kwargs):
        l2 = kwargs.pop("l", l2)
        if kwargs:
            raise TypeError(f"L2 got unexpected arguments: {list(kwargs)}. "
                            "Expected: l2.")
        l2 = 0.01 if l2 is None else l2
        self.l2 = _validate_float_arg(l2, name="l2")

    def __call__(self, x):
        ops = _ops()
        return ops.multiply(self.l2, ops.sum(ops.square(x)))

    def get_config(self):
        return {"l2": float(self.l2)}


def _dtype(x):
    d = getattr(x, "dtype", None)
    return backend.standardize_dtype(d) if d is not None else None


def _l2_normalize(ops, x, axis):
    power_sum = ops.sum(ops.square(x), axis=axis, keepdims=True)
    norm = ops.divide(1.0, ops.sqrt(ops.maximum(power_sum,
                                                backend.epsilon())))
    return ops.multiply(x, norm)


class OrthogonalRegularizer(Regularizer):
    """Regularizer that encourages input vectors to be orthogonal.

    The penalty is `factor * 0.5 * sum(|offdiag(V V^T)|) / num_pairs` for
    the L2-normalized rows (`mode="rows"`) or columns (`mode="columns"`)
    `V` of a 2D weight, with `num_pairs = n (n - 1) / 2`.

    Args:
        factor: float, the regularization factor.
        mode: `"rows"` (vectors are the rows of the 2D input, e.g. a Dense
            kernel's input units) or `"columns"`.
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _validate_float_arg(factor, name="factor")
        if mode not in ("rows", "columns"):
            raise ValueError(
                "Invalid value for argument `mode`. Expected one of "
                f"{{'rows', 'columns'}}. Received: mode={mode!r}")
        self.mode = mode

    def __call__(self, inputs):
        ops = _ops()
        if len(inputs.shape) != 2:
            raise ValueError(
                "Inputs to OrthogonalRegularizer must have rank 2. "
                f"Received: inputs.shape={tuple(inputs.shape)}")
        if self.mode == "rows":
            inputs = _l2_normalize(ops, inputs, axis=1)
            product = ops.matmul(inputs, ops.transpose(inputs))
            size = inputs.shape[0]
        else:
            inputs = _l2_normalize(ops, inputs, axis=0)
            product = ops.matmul(ops.transpose(inputs), inputs)
            size = inputs.shape[1]
        off_diag = ops.multiply(
            product, 1.0 - ops.eye(size, dtype=_dtype(inputs)))
        num_pairs = size * (size - 1.0) / 2.0
        return ops.multiply(self.factor * 0.5 / num_pairs,
                            ops.sum(ops.abs(off_diag)))

    def get_config(self):
        return {"factor": float(self.factor), "mode": self.mode}


l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer

ALL_OBJECTS = (Regularizer, L1, L2, L1L2, OrthogonalRegularizer)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({to_snake_case(c.__name__): c for c in ALL_OBJECTS})
ALL_OBJECTS_DICT.update({"l1": L1, "l2": L2, "l1_l2": L1L2})


def serialize(regularizer):
    """Returns the regularizer's Keras config dict."""
    return object_registry.serialize_keras_object(
        regularizer, "keras.regularizers")


def deserialize(config, custom_objects=None):
    """Returns a regularizer from its config dict (or name)."""
    return object_registry.deserialize_keras_object(
        config, ALL_OBJECTS_DICT, custom_objects, kind="regularizer")


def get(identifier):
    """Retrieves a regularizer from an identifier.

    Args:
        identifier: None, a name (`"l2"`, `"L1L2"`, ...), a config dict, a
            `Regularizer` class or instance, or a callable.

    Returns:
        A regularizer (callable), or None.
    """
    from gkeras.utils.object_registry import get_from_identifier
    return get_from_identifier(identifier, deserialize, "regularizer",
                               ALL_OBJECTS_DICT)
