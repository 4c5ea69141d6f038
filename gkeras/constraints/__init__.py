"""`gkeras.constraints`: weight constraints, as `keras.constraints`.

A constraint is a callable `constraint(w) -> w'` applied to a variable
after each optimizer update. Here it takes the raw backend array (NumPy or
CuPy; a Tensor/Variable is unwrapped) and returns an array of the same
module, so it runs on the device without a host round trip.
"""


from gkeras import backend
from gkeras.ops.engine import Tensor
from gkeras.utils import object_registry
from gkeras.utils.naming import to_snake_case


def _data(w):
    # Variables/Tensors carry their backend array in `.data`.
    return w.data if isinstance(w, Tensor) else w


def _norms(xp, w, axis):
    return xp.sqrt(xp.sum(xp.square(w), axis=axis, keepdims=True))


class Constraint:
    """Base class for weight constraints.

    Subclasses implement `__call__(w)` and, when they take arguments,
    `get_config()`.

    Example:

    ```python
    class NonNegative(Constraint):
        def __call__(self, w):
            xp = gkeras.backend.get_array_module(w)
            return w * (w >= 0)
    ```
    """

    def __call__(self, w):
        return w

    def get_config(self):
        """Returns the constraint's configuration (a JSON-able dict)."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Instantiates a constraint from its `get_config()` dict."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """MaxNorm weight constraint.

    Constrains the weights incident to each hidden unit to have a norm
    less than or equal to `max_value`.

    Args:
        max_value: the maximum norm value for the incoming weights.
        axis: integer (or tuple), axis along which to calculate weight
            norms. For a Dense kernel `(input_dim, output_dim)` use 0 (the
            default); for a Conv2D kernel `(rows, cols, in, out)` use
            `[0, 1, 2]`.
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = _data(w)
        xp = backend.get_array_module(w)
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        norms = _norms(xp, w, axis)
        desired = xp.clip(norms, 0, self.max_value)
        return (w * (desired / (backend.epsilon() + norms))).astype(
            w.dtype, copy=False)

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Constrains the weights to be non-negative (negatives become 0)."""

    def __call__(self, w):
        w = _data(w)
        return (w * (w >= 0)).astype(w.dtype, copy=False)


class UnitNorm(Constraint):
    """Constrains the weights incident to each hidden unit to have unit norm.

    Args:
        axis: integer (or tuple), axis along which to calculate weight
            norms (see `MaxNorm`).
    """

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = _data(w)
        xp = backend.get_array_module(w)
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        return (w / (backend.epsilon() + _norms(xp, w, axis))).astype(
            w.dtype, copy=False)

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """MinMaxNorm weight constraint.

    Constrains the weights incident to each hidden unit to have a norm
    between a lower and an upper bound:
    `norm' = rate * clip(norm, min_value, max_value) + (1 - rate) * norm`.

    Args:
        min_value: the minimum norm for the incoming weights.
        max_value: the maximum norm for the incoming weights.
        rate: rate for enforcing the constraint (1.0: strict; < 1.0: the
            weights move a fraction of the way each step).
        axis: integer (or tuple), axis along which to calculate weight
            norms (see `MaxNorm`).
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        w = _data(w)
        xp = backend.get_array_module(w)
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        norms = _norms(xp, w, axis)
        desired = (self.rate * xp.clip(norms, self.min_value, self.max_value)
                   + (1 - self.rate) * norms)
        return (w * (desired / (backend.epsilon() + norms))).astype(
            w.dtype, copy=False)

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value,
                "rate": self.rate, "axis": self.axis}


ALL_OBJECTS = (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({to_snake_case(c.__name__): c for c in ALL_OBJECTS})
# Keras-2 spellings.
ALL_OBJECTS_DICT.update({"maxnorm": MaxNorm, "nonneg": NonNeg,
                         "unitnorm": UnitNorm, "min_max_norm": MinMaxNorm})

max_norm = MaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
min_max_norm = MinMaxNorm


def serialize(constraint):
    """Returns the constraint's Keras config dict."""
    return object_registry.serialize_keras_object(
        constraint, "keras.constraints")


def deserialize(config, custom_objects=None):
    """Returns a constraint from its config dict (or name)."""
    return object_registry.deserialize_keras_object(
        config, ALL_OBJECTS_DICT, custom_objects, kind="constraint")


def get(identifier):
    """Retrieves a constraint from an identifier.

    Args:
        identifier: None, a name (`"max_norm"`, `"NonNeg"`, ...), a config
            dict, a `Constraint` class or instance, or a callable.

    Returns:
        A constraint (callable), or None.
    """
    from gkeras.utils.object_registry import get_from_identifier
    return get_from_identifier(identifier, deserialize, "constraint",
                               ALL_OBJECTS_DICT)
