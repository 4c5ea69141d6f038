"""`gkeras.Variable`: a named, mutable, optionally trainable tensor."""

import numpy as np

from gkeras import backend
from gkeras.ops.autocast import _SCOPE
from gkeras.ops.engine import Tensor, _uid
from gkeras.utils import naming


_RAW_DATA = Tensor.data  # the `data` slot of Tensor


class Variable(Tensor):
    """A mutable tensor that holds model state (weights, optimizer slots).

    Its value lives on the backend's device and is updated in place, so
    references to `variable.data` stay valid across optimizer steps.

    Args:
        initializer: initial value (array-like or scalar) or an initializer
            (callable `(shape, dtype) -> array`, or its string name).
        shape: required when `initializer` is a callable.
        dtype: dtype of the variable (default `floatx()`, or the value's
            dtype for an integer array).
        trainable: whether the optimizer updates it.
        autocast: whether reads inside a layer running a mixed precision
            policy return the value cast to its compute dtype (see
            `gkeras.ops.autocast`).
        aggregation, synchronization: accepted for Keras compatibility
            (gkeras replicas are kept identical by the distribution layer).
        name: the variable's name (default `"variable"`).

    Example:

    >>> v = gkeras.Variable(np.zeros((2, 3)), name="w")
    >>> v.assign(np.ones((2, 3)))
    """

    __slots__ = ("name", "path", "trainable", "constraint", "regularizer",
                 "autocast", "aggregation", "synchronization",
                 "_layer_owned")

    def __init__(self, initializer, shape=None, dtype=None, trainable=True,
                 autocast=True, aggregation="none", synchronization="auto",
                 name=None, constraint=None, regularizer=None):
        name = name or "variable"
        if not isinstance(name, str) or "/" in name:
            raise ValueError(
                "Argument `name` must be a string and cannot contain "
                f"character `/`. Received: name={name!r}")
        if isinstance(initializer, str) or callable(initializer):
            if isinstance(initializer, str):
                from gkeras import initializers
                initializer = initializers.get(initializer)
            if shape is None:
                raise ValueError(
                    "When creating a Variable from an initializer, the "
                    f"`shape` argument must be given. Received: "
                    f"initializer={initializer}, shape=None")
            dtype = backend.standardize_dtype(dtype)
            value = initializer(tuple(shape), dtype=dtype)
        else:
            value = backend.to_numpy(initializer) if not \
                backend.is_cupy_array(initializer) else initializer
            if dtype is None:
                if not backend.is_cupy_array(value):  # CuPy's: no host copy
                    value = np.asarray(value)
                dtype = (backend.floatx() if value.dtype.kind == "f"
                         or value.dtype == object else value.dtype.name)
            dtype = backend.standardize_dtype(dtype)
            if shape is not None and tuple(np.shape(value)) != tuple(shape):
                raise ValueError(
                    f"Variable {name!r}: initial value has shape "
                    f"{tuple(np.shape(value))}, expected shape {tuple(shape)}.")
        data = backend.to_device(value, dtype=dtype)
        if not data.flags.c_contiguous:
            data = backend.get_xp().ascontiguousarray(data)
        elif data is initializer or (
                type(data) is np.ndarray and type(initializer) is np.ndarray
                and np.may_share_memory(data, initializer)):
            # A variable owns its buffer (as Keras's): updating it in place
            # must not write into the caller's array.
            data = data.copy()
        super().__init__(data, requires_grad=bool(trainable))
        self._id = next(_uid)
        self.name = name
        scope = naming.current_scope()  # `with gkeras.name_scope(...)`
        self.path = f"{scope}/{name}" if scope else name
        self.trainable = bool(trainable)
        self.constraint = constraint
        self.regularizer = regularizer
        self.autocast = autocast
        self.aggregation = aggregation
        self.synchronization = synchronization
        self._layer_owned = False

    @property
    def data(self):
        """The value's array; cast to the compute dtype when read inside an
        `AutocastScope` (a layer running a mixed precision policy)."""
        raw = _RAW_DATA.__get__(self, Variable)
        scope = _SCOPE[0]
        if scope is None or not self.autocast:
            return raw
        return scope.maybe_cast(raw, id(self))

    @data.setter
    def data(self, value):
        _RAW_DATA.__set__(self, value)

    @property
    def _raw(self):
        # The stored array, never autocast: what updates write into.
        return _RAW_DATA.__get__(self, Variable)

    def __setattr__(self, key, value):
        if key == "trainable":
            object.__setattr__(self, "requires_grad", bool(value))
        object.__setattr__(self, key, value)

    def numpy(self):
        """Returns a copy of the value as a NumPy array (the variable's own
        buffer is updated in place by optimizers, so no view is handed
        out)."""
        d = self.data
        return d.get() if hasattr(d, "get") and not isinstance(
            d, np.ndarray) else np.array(d, copy=True)

    @property
    def value(self):
        """The current value, an array of the backend."""
        return self.data

    def assign(self, value):
        """Sets the value in place.

        Args:
            value: array-like (or Tensor) of the variable's shape.

        Returns:
            The variable.
        """
        arr = value.data if isinstance(value, Tensor) else value
        raw = self._raw
        if _SCOPE[0] is not None:
            _SCOPE[0]._cache.pop(id(self), None)
        if backend.is_cupy_array(raw) != backend.is_cupy_array(arr):
            arr = backend.to_device(backend.to_numpy(arr))
        shape = np.shape(arr)
        if tuple(shape) != tuple(raw.shape):
            raise ValueError(
                f"Cannot assign a value of shape {tuple(shape)} to variable "
                f"{self.path!r} of shape {tuple(raw.shape)}.")
        raw[...] = arr
        return self

    def assign_add(self, value):
        """Adds `value` in place."""
        raw = self._raw
        if _SCOPE[0] is not None:
            _SCOPE[0]._cache.pop(id(self), None)
        raw += value.data if isinstance(value, Tensor) else value
        return self

    def assign_sub(self, value):
        """Subtracts `value` in place."""
        raw = self._raw
        if _SCOPE[0] is not None:
            _SCOPE[0]._cache.pop(id(self), None)
        raw -= value.data if isinstance(value, Tensor) else value
        return self

    def __repr__(self):
        return (f"<Variable path={self.path}, shape={tuple(self.shape)}, "
                f"dtype={self.dtype}, value={self.numpy()!r}>")

    def __reduce__(self):
        return (Variable, (self.numpy(),), {})


def current_path_prefix():
    """The name scope under which new variables are created ("a/b")."""
    return naming.current_scope()
