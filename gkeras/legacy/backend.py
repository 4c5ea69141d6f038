"""The Keras-2 backend API: `import gkeras.backend as K`.

Keras 2 code reaches the math through `keras.backend` (`K.square(x)`,
`K.function([model.input], [layer.output])`, `K.set_value(opt.lr, 1e-4)`).
Every function here works eagerly on gkeras Tensors, Variables, NumPy/CuPy
arrays and Python scalars, and the element-wise and shape functions also
work on symbolic `KerasTensor`s (they record a graph node, so they can be
used inside a Functional model or a `Lambda` layer).

`gkeras.backend` forwards any attribute it does not define itself to this
module (loaded on first use: it sits above `ops`, `layers` and `models`,
which the bottom `backend` package must not import), so `K.<name>` works
for every public name below. The math and nn functions live in
`backend_math`, `K.function`/`K.gradients` in `backend_graph`, the CTC
helpers in `backend_ctc`.
"""

import numpy as np

from gkeras import backend as _backend
from gkeras.ops.engine import Tensor
from gkeras.ops.symbolic import KerasTensor
from gkeras.ops.variable import Variable
from gkeras.backend.config import (  # noqa: F401  (Keras-2 names)
    epsilon, floatx, image_data_format, set_epsilon, set_floatx,
    set_image_data_format,
)
from gkeras.legacy._backend_utils import _ops

__all__ = [
    "abs", "all", "any", "arange", "argmax", "argmin", "batch_dot",
    "batch_flatten", "batch_get_value", "batch_set_value",
    "binary_crossentropy", "cast", "categorical_crossentropy", "clear_session",
    "clip", "concatenate", "constant", "cos", "count_params",
    "ctc_batch_cost", "ctc_decode", "cumsum",
    "dot", "dtype", "elu", "epsilon", "equal", "eval", "exp", "expand_dims",
    "eye", "flatten", "floatx", "function", "gather", "get_value",
    "gradients", "greater", "greater_equal", "hard_sigmoid",
    "image_data_format", "in_top_k", "int_shape", "is_keras_tensor",
    "is_tensor", "l2_normalize", "learning_phase", "less", "less_equal",
    "log", "max", "maximum", "mean", "min", "minimum", "ndim", "not_equal",
    "one_hot", "ones", "ones_like", "permute_dimensions", "placeholder",
    "pow", "prod", "random_normal", "random_uniform", "relu", "repeat",
    "repeat_elements", "reshape", "round", "set_epsilon", "set_floatx",
    "set_image_data_format", "set_learning_phase", "set_value", "shape",
    "sigmoid", "sign", "sin", "softmax", "softplus", "softsign",
    "sparse_categorical_crossentropy", "sqrt", "square", "squeeze", "stack",
    "std", "stop_gradient", "sum", "switch", "tanh", "tile", "transpose",
    "update", "update_add", "update_sub", "var", "variable", "zeros",
    "zeros_like",
]



# --------------------------------------------------------------------------
# Session state: learning phase, clear_session
# --------------------------------------------------------------------------

class _LearningPhase:
    """The Keras-2 learning-phase placeholder.

    Put `K.learning_phase()` among the inputs of `K.function` and feed 0
    (inference) or 1 (training) for it: layers such as Dropout and
    BatchNormalization then run in that mode.
    """

    shape = ()
    dtype = "int32"
    name = "keras_learning_phase"

    def __repr__(self):
        return "<KerasLearningPhase placeholder>"


_LEARNING_PHASE_PLACEHOLDER = _LearningPhase()
_LEARNING_PHASE = None  # None: not set, K.function runs in inference mode


def learning_phase():
    """Returns the learning phase flag.

    Returns:
        The int set by `set_learning_phase` (0 = test, 1 = train) if one
        was set, else a placeholder that `K.function` accepts among its
        inputs (feed it 0 or 1).

    Example:
    >>> f = K.function([model.input, K.learning_phase()], [model.output])
    >>> f([x, 1])  # Dropout active
    """
    if _LEARNING_PHASE is not None:
        return _LEARNING_PHASE
    return _LEARNING_PHASE_PLACEHOLDER


def set_learning_phase(value):
    """Sets the learning phase used by `K.function` (Keras 2, deprecated
    there too).

    Args:
        value: 0 (test) or 1 (train).
    """
    global _LEARNING_PHASE
    if value not in (0, 1):
        raise ValueError(
            f"Expected learning phase to be 0 or 1. Received: value={value!r}")
    _LEARNING_PHASE = int(value)


def clear_session(free_memory=True):
    """Resets gkeras's global state (layer name counters, learning phase,
    cached GPU memory).

    Args:
        free_memory: Also release cached GPU memory.
    """
    _backend.clear_session(free_memory=free_memory)


# --------------------------------------------------------------------------
# Variables and values
# --------------------------------------------------------------------------

def variable(value, dtype=None, name=None, constraint=None):
    """Creates a variable holding `value`.

    Args:
        value: array-like initial value.
        dtype: dtype (default `floatx()`).
        name: optional name.
        constraint: optional projection applied after optimizer updates.

    Returns:
        A `gkeras.Variable`.

    Example:
    >>> v = K.variable(np.array([[1, 2], [3, 4]]))
    >>> K.eval(v)
    array([[1., 2.], [3., 4.]], dtype=float32)
    """
    if isinstance(value, Tensor):
        value = value.data
    return Variable(value, dtype=dtype or floatx(), name=name,
                    constraint=constraint)


def constant(value, dtype=None, shape=None, name=None):
    """Creates a constant tensor.

    Args:
        value: a scalar or array-like.
        dtype: dtype (default `floatx()`).
        shape: optional shape; a scalar `value` is broadcast to it.
        name: accepted for Keras compatibility (tensors are unnamed).

    Returns:
        A Tensor.
    """
    del name
    a = np.asarray(value, dtype=dtype or floatx())
    if shape is not None:
        a = np.broadcast_to(a, tuple(shape)).copy()
    return Tensor(_backend.to_device(a))


def placeholder(shape=None, ndim=None, dtype=None, sparse=False, name=None):
    """Creates a symbolic input tensor (an `Input`), for `K.function`.

    Args:
        shape: full shape including the batch axis (None entries allowed).
        ndim: rank, when `shape` is not given (all dims None).
        dtype: dtype (default `floatx()`).
        sparse: must be False (sparse tensors are not supported).
        name: optional name.

    Returns:
        A KerasTensor.
    """
    if sparse:
        raise NotImplementedError("K.placeholder(sparse=True) is not "
                                  "supported by gkeras.")
    if shape is None:
        if ndim is None:
            raise ValueError("K.placeholder needs `shape` or `ndim`.")
        shape = (None,) * int(ndim)
    from gkeras.layers import Input
    return Input(batch_shape=tuple(shape), dtype=dtype or floatx(), name=name)


def is_keras_tensor(x):
    """True when `x` is a symbolic tensor of the Functional API."""
    return isinstance(x, KerasTensor)


def is_tensor(x):
    """True for gkeras Tensors/Variables and symbolic KerasTensors."""
    return isinstance(x, (Tensor, KerasTensor))


def get_value(x):
    """Returns the value of a variable (or tensor, array, scalar) as NumPy.

    Args:
        x: a Variable, Tensor, array or Python number (e.g.
            `model.optimizer.learning_rate`).

    Returns:
        A NumPy array (a NumPy scalar for 0-d values).
    """
    if isinstance(x, KerasTensor):
        raise ValueError(
            f"K.get_value() needs a concrete value; received the symbolic "
            f"tensor {x!r}. Use K.function to evaluate symbolic tensors.")
    if isinstance(x, (int, float, np.number)):
        return np.asarray(x)[()]
    a = _backend.to_numpy(x.data if isinstance(x, Tensor) else x)
    return a[()] if a.ndim == 0 else a


def batch_get_value(tensors):
    """Returns `[get_value(t) for t in tensors]`."""
    return [get_value(t) for t in tensors]


def eval(x):
    """Evaluates a tensor or variable and returns its NumPy value."""
    return get_value(x)


def set_value(x, value):
    """Sets the value of a variable in place.

    Args:
        x: a Variable (e.g. `model.optimizer.learning_rate`, a layer weight).
        value: array-like of the variable's shape.

    Example:
    >>> K.set_value(model.optimizer.learning_rate, 1e-4)
    """
    if not isinstance(x, Variable):
        raise TypeError(
            "K.set_value() expects a variable (e.g. "
            "`model.optimizer.learning_rate` or a layer weight). Received: "
            f"{type(x).__name__}. When the optimizer uses a "
            "LearningRateSchedule its learning rate cannot be set.")
    x.assign(np.asarray(get_value(value) if isinstance(value, Tensor)
                        else value, dtype=x.dtype))


def batch_set_value(tuples):
    """Sets many variables: `tuples` is a list of `(variable, value)`."""
    for x, value in tuples:
        set_value(x, value)


def update(x, new_x):
    """Assigns `new_x` to variable `x`; returns `x`."""
    return x.assign(new_x)


def update_add(x, increment):
    """Adds `increment` to variable `x` in place; returns `x`."""
    return x.assign_add(increment.data if isinstance(increment, Tensor)
                        else increment)


def update_sub(x, decrement):
    """Subtracts `decrement` from variable `x` in place; returns `x`."""
    return x.assign_sub(decrement.data if isinstance(decrement, Tensor)
                        else decrement)


def _var_from(array, name):
    return Variable(array, name=name or "variable")


def zeros(shape, dtype=None, name=None):
    """Returns a variable of zeros (Keras 2 returns a variable here)."""
    return _var_from(np.zeros(tuple(shape), dtype=dtype or floatx()), name)


def ones(shape, dtype=None, name=None):
    """Returns a variable of ones."""
    return _var_from(np.ones(tuple(shape), dtype=dtype or floatx()), name)


def eye(size, dtype=None, name=None):
    """Returns an identity-matrix variable (`size` an int or (rows, cols))."""
    n, m = (size, size) if isinstance(size, int) else tuple(size)
    return _var_from(np.eye(n, m, dtype=dtype or floatx()), name)


def zeros_like(x, dtype=None, name=None):
    """Returns a tensor of zeros shaped like `x`."""
    del name
    return _ops().zeros_like(x, dtype=dtype)


def ones_like(x, dtype=None, name=None):
    """Returns a tensor of ones shaped like `x`."""
    del name
    return _ops().ones_like(x, dtype=dtype)


def count_params(x):
    """Number of scalars in a variable or tensor."""
    return int(np.prod(int_shape(x)))


# --------------------------------------------------------------------------
# Shapes and dtypes
# --------------------------------------------------------------------------

def int_shape(x):
    """Returns the shape of `x` as a tuple of ints (None where unknown).

    Example:
    >>> K.int_shape(gkeras.Input((3,)))
    (None, 3)
    """
    if isinstance(x, (KerasTensor, Tensor)) or hasattr(x, "shape"):
        return tuple(x.shape)
    return tuple(np.shape(x))


def shape(x):
    """Returns the shape of `x` (a tuple; `K.shape(x)[0]` is the batch size
    on concrete tensors, None on symbolic ones)."""
    return int_shape(x)


def ndim(x):
    """Returns the rank of `x`."""
    return len(int_shape(x))


def dtype(x):
    """Returns the dtype of `x` as a string (e.g. `"float32"`)."""
    if isinstance(x, KerasTensor):
        return x.dtype
    return _backend.standardize_dtype(
        x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype)


def cast(x, dtype):
    """Casts `x` to `dtype`."""
    return _ops().cast(x, dtype)


def reshape(x, shape):
    """Reshapes `x` to `shape` (-1 allowed)."""
    return _ops().reshape(x, shape)


def transpose(x):
    """Reverses the axes of `x`."""
    return _ops().transpose(x)


def permute_dimensions(x, pattern):
    """Permutes the axes of `x` into `pattern` (a tuple of axis indices)."""
    return _ops().transpose(x, tuple(pattern))


def expand_dims(x, axis=-1):
    """Inserts a size-1 axis at `axis`."""
    return _ops().expand_dims(x, axis)


def squeeze(x, axis):
    """Removes the size-1 axis `axis`."""
    return _ops().squeeze(x, axis)


def flatten(x):
    """Flattens `x` to rank 1."""
    return _ops().reshape(x, (-1,))


def batch_flatten(x):
    """Flattens all axes but the first: `(batch, d1, d2...)` ->
    `(batch, d1*d2*...)`."""
    return _ops().reshape(x, (-1, int(np.prod(int_shape(x)[1:]))))


def concatenate(tensors, axis=-1):
    """Concatenates a list of tensors along `axis`."""
    return _ops().concatenate(list(tensors), axis=axis)


def stack(x, axis=0):
    """Stacks a list of same-shaped tensors along a new `axis`."""
    return _ops().stack(list(x), axis=axis)


def tile(x, n):
    """Tiles `x` `n` times per axis (`n` an int or a tuple per axis)."""
    return _ops().tile(x, n)


def repeat(x, n):
    """Repeats a 2D `(batch, dim)` tensor: -> `(batch, n, dim)`."""
    if ndim(x) != 2:
        raise ValueError(f"K.repeat expects a 2D tensor; received a tensor "
                         f"of shape {int_shape(x)}.")
    return _ops().repeat(_ops().expand_dims(x, 1), n, axis=1)


def repeat_elements(x, rep, axis):
    """Repeats each element of `x` `rep` times along `axis` (np.repeat)."""
    return _ops().repeat(x, rep, axis=axis)


def gather(reference, indices):
    """Gathers rows `indices` of `reference` (along axis 0)."""
    return _ops().take(reference, indices, axis=0)


def one_hot(indices, num_classes):
    """One-hot encodes integer `indices` (a new last axis of size
    `num_classes`)."""
    return _ops().one_hot(indices, num_classes)


def arange(start, stop=None, step=1, dtype="int32"):
    """Like `np.arange`, as a tensor (default dtype int32)."""
    return _ops().arange(start, stop, step, dtype=dtype)


# The rest of the Keras-2 API, re-exported so that `K.<name>` finds it here.
from gkeras.legacy.backend_math import *  # noqa: F401,F403,E402
from gkeras.legacy.backend_graph import (  # noqa: F401,E402
    GraphFunction, function, gradients,
)
from gkeras.legacy.backend_ctc import ctc_batch_cost, ctc_decode  # noqa: F401,E402,E501
