"""The `Metric` base class and the array helpers the metrics share.

Metrics compute with the array module of their inputs (NumPy or CuPy) and
keep their state in non-trainable Variables on the device: `update_state`
never reads back to the host; `result()` returns a backend scalar array
that the trainer converts to a float only when it prints.
"""

import numpy as np

from gkeras import backend
from gkeras.backend.device_constants import device_constant
from gkeras.ops.engine import Tensor
from gkeras.ops.variable import Variable
from gkeras.utils.naming import auto_name


def to_array(x, dtype=None):
    """The raw backend array of `x` (Tensor, NumPy/CuPy array, list),
    on the backend's device, optionally cast."""
    if isinstance(x, Tensor):
        x = x.data
    elif isinstance(x, (int, float)) and backend.backend() == "cupy":
        # A per-step count (the loss tracker's batch size): copied to the
        # device once, not every step.
        return device_constant(x, dtype or (
            backend.floatx() if isinstance(x, float) else "int64"))
    elif not (type(x) is np.ndarray or backend.is_cupy_array(x)):
        x = np.asarray(x)
        if dtype is None and x.dtype == np.float64:
            x = x.astype(backend.floatx())
    if type(x) is np.ndarray and backend.backend() == "cupy":
        x = backend.to_device(x)
    if dtype is not None and x.dtype != dtype:
        x = x.astype(dtype)
    return x


def xp_of(x):
    return np if type(x) is np.ndarray else backend.get_array_module(x)


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Array version of Keras's rank-matching rule (see `losses.loss`)."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2[..., None]
        else:
            x1 = x1[..., 0]
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1[..., None]
        else:
            x2 = x2[..., 0]
    return x1, x2


def divide_no_nan(xp, a, b):
    """`a / b`, 0 where `b == 0` (no warning, no host sync)."""
    zero = b == 0
    return xp.where(zero, 0, a / (b + zero))


class Metric:
    """Encapsulates metric logic and state.

    Subclasses create their state with `add_variable` in `__init__` and
    implement `update_state(...)` and `result()`; `reset_state()` zeroes
    every variable by default.

    Args:
        dtype: dtype of the metric's computations (default floatx).
        name: name of the metric instance (default: snake-case class name,
            made unique: `auc`, `auc_1`, ...).

    Example:

    ```python
    m = gkeras.metrics.Mean()
    m.update_state([1, 3, 5, 7])
    float(m.result())  # 4.0
    ```
    """

    def __init__(self, dtype=None, name=None):
        self.name = name or auto_name(type(self).__name__)
        self._dtype = backend.standardize_dtype(
            getattr(dtype, "compute_dtype", dtype) or backend.floatx())
        self._variables = []
        self._direction = None

    @property
    def dtype(self):
        """The dtype of the metric's computations."""
        return self._dtype

    @property
    def variables(self):
        """The metric's state variables."""
        return list(self._variables)

    def add_variable(self, shape, initializer="zeros", dtype=None,
                     aggregation="sum", name=None):
        """Adds a non-trainable state variable.

        Args:
            shape: shape of the variable.
            initializer: initializer (default zeros).
            dtype: dtype (default the metric's dtype).
            aggregation: accepted for Keras compatibility.
            name: name of the variable.

        Returns:
            The Variable.
        """
        from gkeras import initializers
        var = Variable(initializers.get(initializer), shape=tuple(shape),
                       dtype=dtype or self._dtype, trainable=False,
                       aggregation=aggregation, name=name or "variable")
        var.path = f"{self.name}/{var.name}"
        self._variables.append(var)
        return var

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        """Keras's alias of `add_variable`, whose `shape` defaults to a
        scalar (`self.add_weight(name="tp", initializer="zeros")`, as
        TensorFlow-era custom metrics write it).

        Args:
            shape: shape of the variable. Defaults to `()`.
            initializer: initializer (default zeros).
            dtype: dtype (default the metric's dtype).
            name: name of the variable.

        Returns:
            The Variable.
        """
        return self.add_variable(
            shape=shape, initializer="zeros" if initializer is None
            else initializer, dtype=dtype, name=name)

    def update_state(self, *args, **kwargs):
        """Accumulates statistics for the metric."""
        raise NotImplementedError(
            f"Metric {type(self).__name__} must implement update_state().")

    def result(self):
        """Computes the current metric value from the state.

        Returns:
            A 0-d array of the backend (NumPy on the CPU, CuPy on the GPU,
            as Keras returns its backend's tensor), left on the device so
            that reading it is the caller's choice: `float(m.result())` or
            `gkeras.ops.convert_to_numpy(m.result())` on both backends.
        """
        raise NotImplementedError(
            f"Metric {type(self).__name__} must implement result().")

    def reset_state(self):
        """Resets all the state variables to zero."""
        for v in self._variables:
            v.data[...] = 0

    def __call__(self, *args, **kwargs):
        """Updates the state and returns the result."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        """Returns the metric's configuration (`name`, `dtype`)."""
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        """Instantiates a metric from its `get_config()` dict."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"
