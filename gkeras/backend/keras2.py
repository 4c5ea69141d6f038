"""The Keras-2 backend API: `import gkeras.backend as K`.

Keras 2 code reaches the math through `keras.backend` (`K.square(x)`,
`K.function([model.input], [layer.output])`, `K.set_value(opt.lr, 1e-4)`).
Every function here works eagerly on gkeras Tensors, Variables, NumPy/CuPy
arrays and Python scalars, and the element-wise and shape functions also
work on symbolic `KerasTensor`s (they record a graph node, so they can be
used inside a Functional model or a `Lambda` layer).

`gkeras.backend` forwards any attribute it does not define itself to this
module, so `K.<name>` works for every public name below.
"""

import builtins

import numpy as np

from gkeras import backend as _backend
from gkeras.backend.config import (  # noqa: F401  (Keras-2 names)
    epsilon, floatx, image_data_format, set_epsilon, set_floatx,
    set_image_data_format,
)
from gkeras.backend.keras2_ctc import ctc_batch_cost, ctc_decode  # noqa: F401,E501
from gkeras.ops.engine import GradientTape, Tensor, backward as _backward
from gkeras.ops.symbolic import KerasTensor, flatten as _flatten
from gkeras.ops.variable import Variable

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


def _ops():
    # gkeras.ops imports gkeras.backend; resolving it lazily keeps the
    # import graph acyclic.
    import gkeras.ops as ops
    return ops


def _t(x):
    """Python lists and scalars become arrays (TF's Keras 2 converted
    them too); tensors, arrays and KerasTensors pass through."""
    if isinstance(x, (list, tuple, int, float, bool)):
        from gkeras.ops._base import to_array
        return to_array(x)
    return x


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


# --------------------------------------------------------------------------
# Element-wise math and reductions
# --------------------------------------------------------------------------

def _unary(name, doc):
    def fn(x):
        return getattr(_ops(), name)(_t(x))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


square = _unary("square", "Element-wise square.")
sqrt = _unary("sqrt", "Element-wise square root.")
exp = _unary("exp", "Element-wise exponential.")
log = _unary("log", "Element-wise natural logarithm.")
abs = _unary("abs", "Element-wise absolute value.")  # noqa: A001
sign = _unary("sign", "Element-wise sign (-1, 0 or 1).")
round = _unary("round", "Element-wise rounding to the nearest integer "  # noqa
               "(halves to even).")
sin = _unary("sin", "Element-wise sine.")
cos = _unary("cos", "Element-wise cosine.")
tanh = _unary("tanh", "Element-wise hyperbolic tangent.")
sigmoid = _unary("sigmoid", "Element-wise logistic sigmoid.")
softplus = _unary("softplus", "Element-wise `log(exp(x) + 1)`.")
softsign = _unary("softsign", "Element-wise `x / (abs(x) + 1)`.")


def pow(x, a):  # noqa: A001
    """Element-wise power `x ** a`."""
    return _ops().power(x, a)


def _binary(name, doc):
    def fn(x, y):
        return getattr(_ops(), name)(_t(x), _t(y))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


maximum = _binary("maximum", "Element-wise maximum of two tensors.")
minimum = _binary("minimum", "Element-wise minimum of two tensors.")
equal = _binary("equal", "Element-wise `x == y`.")
not_equal = _binary("not_equal", "Element-wise `x != y`.")
greater = _binary("greater", "Element-wise `x > y`.")
greater_equal = _binary("greater_equal", "Element-wise `x >= y`.")
less = _binary("less", "Element-wise `x < y`.")
less_equal = _binary("less_equal", "Element-wise `x <= y`.")


def _reduction(name, doc):
    def fn(x, axis=None, keepdims=False):
        return getattr(_ops(), name)(_t(x), axis=axis, keepdims=keepdims)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc + ("\n\n    Args:\n        x: a tensor.\n        axis: "
                        "an int, a list of ints, or None (all axes).\n"
                        "        keepdims: keep reduced axes with size 1.\n")
    return fn


mean = _reduction("mean", "Mean of `x` over `axis`.")
sum = _reduction("sum", "Sum of `x` over `axis`.")  # noqa: A001
max = _reduction("max", "Maximum of `x` over `axis`.")  # noqa: A001
min = _reduction("min", "Minimum of `x` over `axis`.")  # noqa: A001
prod = _reduction("prod", "Product of `x` over `axis`.")
std = _reduction("std", "Standard deviation (population) over `axis`.")
var = _reduction("var", "Variance (population) over `axis`.")
any = _reduction("any", "Logical OR over `axis`.")  # noqa: A001
all = _reduction("all", "Logical AND over `axis`.")  # noqa: A001


def argmax(x, axis=-1):
    """Index of the maximum along `axis`."""
    return _ops().argmax(x, axis=axis)


def argmin(x, axis=-1):
    """Index of the minimum along `axis`."""
    return _ops().argmin(x, axis=axis)


def cumsum(x, axis=0):
    """Cumulative sum along `axis`."""
    return _ops().cumsum(x, axis=axis)


def clip(x, min_value, max_value):
    """Clips `x` to `[min_value, max_value]`.

    As in Keras 2, `max_value` below `min_value` is raised to `min_value`,
    and None bounds mean no bound on that side.
    """
    if min_value is None:
        min_value = -np.inf
    if max_value is None:
        max_value = np.inf
    if max_value < min_value:
        max_value = min_value
    return _ops().clip(x, min_value, max_value)


def dot(x, y):
    """Multiplies two tensors (NumPy `dot` semantics: the last axis of `x`
    with the second-to-last axis of `y`).

    Example:
    >>> K.int_shape(K.dot(K.ones((2, 3)), K.ones((4, 3, 5))))
    (2, 4, 5)
    """
    return _ops().dot(x, y)


def batch_dot(x, y, axes=None):
    """Batch-wise dot product: for each sample `i`, the dot product of
    `x[i]` and `y[i]` over the axes given.

    Args:
        x, y: tensors with the same batch size (axis 0), rank >= 2.
        axes: an int (the same axis of both) or a pair `(axis_x, axis_y)`
            of the axes to contract; default: the last axis of `x` and the
            second-to-last of `y` (its last when `y` is 2D).

    Returns:
        A tensor of shape `x.shape` minus the batch and contracted axes,
        followed by `y.shape` minus its batch and contracted axes, after
        the batch axis; a 1D result is returned as `(batch, 1)`, as Keras 2
        does.

    Example:
    >>> K.int_shape(K.batch_dot(K.ones((32, 20)), K.ones((32, 20)), axes=1))
    (32, 1)
    """
    ops = _ops()
    xs, ys = int_shape(x), int_shape(y)
    if len(xs) < 2 or len(ys) < 2:
        raise ValueError(
            "K.batch_dot requires tensors of rank >= 2. Received: "
            f"x.shape={xs}, y.shape={ys}")
    if axes is None:
        axes = (len(xs) - 1, len(ys) - 1 if len(ys) == 2 else len(ys) - 2)
    elif isinstance(axes, int):
        axes = (axes, axes)
    ax, ay = (int(a) % len(s) for a, s in zip(axes, (xs, ys)))
    if ax == 0 or ay == 0:
        raise ValueError(f"K.batch_dot cannot contract the batch axis. "
                         f"Received: axes={axes}")
    if xs[ax] is not None and ys[ay] is not None and xs[ax] != ys[ay]:
        raise ValueError(
            f"K.batch_dot: contracted dimensions differ: x.shape[{ax}]="
            f"{xs[ax]}, y.shape[{ay}]={ys[ay]}.")
    xm = ops.moveaxis(x, ax, -1)
    ym = ops.moveaxis(y, ay, 1)
    x_rest = [d for i, d in enumerate(xs) if i not in (0, ax)]
    y_rest = [d for i, d in enumerate(ys) if i not in (0, ay)]
    k = xs[ax] if xs[ax] is not None else ys[ay]
    x2 = ops.reshape(xm, (-1, int(np.prod(x_rest)), k))
    y2 = ops.reshape(ym, (-1, k, int(np.prod(y_rest))))
    out = ops.matmul(x2, y2)
    out_shape = tuple(x_rest + y_rest)
    if not out_shape:
        out_shape = (1,)
    return ops.reshape(out, (-1,) + out_shape)


def switch(condition, then_expression, else_expression):
    """Element-wise `then_expression` where `condition` else
    `else_expression` (a scalar condition picks one whole branch)."""
    if isinstance(condition, (bool, int, np.bool_)):
        return then_expression if condition else else_expression
    return _ops().where(condition, then_expression, else_expression)


def stop_gradient(variables):
    """Returns `variables` with gradients blocked (a list maps element-wise)."""
    if isinstance(variables, (list, tuple)):
        return type(variables)(_ops().stop_gradient(v) for v in variables)
    return _ops().stop_gradient(variables)


# --------------------------------------------------------------------------
# Activations and losses (Keras-2 argument orders)
# --------------------------------------------------------------------------

def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit with the Keras-2 options.

    Returns `x` for `x >= threshold` (capped at `max_value` when given) and
    `alpha * (x - threshold)` below the threshold.
    """
    ops = _ops()
    if alpha == 0.0 and max_value is None and threshold == 0.0:
        return ops.relu(x)
    from gkeras.activations import relu as _relu
    return _relu(x, negative_slope=alpha, max_value=max_value,
                 threshold=threshold)


def elu(x, alpha=1.0):
    """Exponential linear unit."""
    return _ops().elu(x, alpha=alpha)


def hard_sigmoid(x):
    """Piecewise-linear sigmoid approximation (`relu6(x + 3) / 6`)."""
    return _ops().hard_sigmoid(x)


def softmax(x, axis=-1):
    """Softmax over `axis`."""
    return _ops().softmax(x, axis=axis)


def l2_normalize(x, axis=None):
    """Normalizes `x` to unit L2 norm along `axis`."""
    return _ops().l2_normalize(x, axis=-1 if axis is None else axis)


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Categorical cross-entropy per sample (`target` first, as Keras 2)."""
    return _ops().categorical_crossentropy(target, output,
                                           from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False,
                                    axis=-1):
    """Cross-entropy between integer labels and probabilities/logits."""
    return _ops().sparse_categorical_crossentropy(
        target, output, from_logits=from_logits, axis=axis)


def binary_crossentropy(target, output, from_logits=False):
    """Element-wise binary cross-entropy (`target` first, as Keras 2)."""
    return _ops().binary_crossentropy(target, output, from_logits=from_logits)


def in_top_k(predictions, targets, k):
    """True where `targets[i]` is among the top `k` of `predictions[i]`
    (Keras-2 argument order: predictions first)."""
    return _ops().in_top_k(targets, predictions, k)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Tensor of normal random values."""
    from gkeras import random
    return random.normal(shape, mean=mean, stddev=stddev, dtype=dtype,
                         seed=seed)


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Tensor of uniform random values in `[minval, maxval)`."""
    from gkeras import random
    return random.uniform(shape, minval=minval, maxval=maxval, dtype=dtype,
                          seed=seed)


# --------------------------------------------------------------------------
# K.function and K.gradients
# --------------------------------------------------------------------------

class _SymbolicGradient:
    """What `K.gradients` returns: d`loss`/d`source`, evaluated by
    `K.function`."""

    def __init__(self, loss, source):
        self.loss = loss
        self.source = source
        self.shape = tuple(source.shape)
        self.dtype = getattr(source, "dtype", floatx())

    def __repr__(self):
        return f"<gradient of {self.loss!r} w.r.t. shape {self.shape}>"


def gradients(loss, variables):
    """Returns symbolic gradients of `loss` with respect to `variables`.

    They can only be evaluated through `K.function` (as in Keras 2 code
    like Grad-CAM and feature visualisation); in eager code use
    `gkeras.GradientTape`.

    Args:
        loss: a symbolic tensor (summed when not scalar).
        variables: a symbolic tensor/Variable or a list of them.

    Returns:
        A list of gradient placeholders, one per variable.
    """
    single = not isinstance(variables, (list, tuple))
    vs = [variables] if single else list(variables)
    if not isinstance(loss, KerasTensor):
        raise ValueError(
            "K.gradients() works on symbolic tensors (the outputs of layers "
            f"called on Inputs). Received loss={type(loss).__name__}; for "
            "concrete tensors use `with gkeras.GradientTape() as tape:` and "
            "`tape.gradient(loss, variables)`.")
    for v in vs:
        if not isinstance(v, (KerasTensor, Variable)):
            raise ValueError("K.gradients(): each variable must be a "
                             "symbolic tensor or a Variable. Received: "
                             f"{type(v).__name__}")
    return [_SymbolicGradient(loss, v) for v in vs]


def _graph_nodes(outputs, stop_ids):
    """Nodes needed to compute `outputs` from the tensors in `stop_ids`,
    in execution order."""
    order, done = [], set()

    def visit(t):
        if id(t) in stop_ids:
            return
        h = t._keras_history
        if h is None:
            raise ValueError(
                f"K.function: cannot compute {t!r}: it is not produced by a "
                "layer or op called on symbolic tensors.")
        node = h.operation._inbound_nodes[h.node_index]
        if id(node) in done:
            return
        done.add(id(node))
        if node.is_input:
            name = getattr(node.operation, "name", "?")
            raise ValueError(
                f"K.function: the outputs depend on the input {name!r}, "
                "which is not among the function's inputs. Add it to the "
                "`inputs` list.")
        for parent in node.input_tensors:
            visit(parent)
        order.append(node)

    for t in outputs:
        visit(t)
    return order


class GraphFunction:
    """A callable that evaluates symbolic outputs from input values.

    Built by `K.function`; see there.
    """

    def __init__(self, inputs, outputs, updates=None, name=None):
        if updates:
            raise NotImplementedError(
                "K.function(updates=...) is not supported by gkeras: apply "
                "variable updates with `variable.assign(...)` after calling "
                "the function.")
        self.name = name
        self._single_output = not isinstance(outputs, (list, tuple))
        self.inputs = list(inputs) if isinstance(inputs, (list, tuple)) \
            else [inputs]
        self.outputs = [outputs] if self._single_output else list(outputs)
        self._phase_index = None
        sym_inputs = []
        for i, t in enumerate(self.inputs):
            if t is _LEARNING_PHASE_PLACEHOLDER:
                self._phase_index = i
            elif isinstance(t, KerasTensor):
                sym_inputs.append(t)
            else:
                raise ValueError(
                    "K.function inputs must be symbolic tensors (e.g. "
                    "`model.input`, `layer.output`) or K.learning_phase(). "
                    f"Received input {i}: {type(t).__name__}.")
        self._sym_inputs = sym_inputs
        for i, t in enumerate(self.outputs):
            if not isinstance(t, (KerasTensor, _SymbolicGradient)):
                raise ValueError(
                    "K.function outputs must be symbolic tensors or "
                    "K.gradients() results. Received output "
                    f"{i}: {type(t).__name__}.")
        stop = {id(t) for t in sym_inputs}
        targets = []
        for t in self.outputs:
            if isinstance(t, _SymbolicGradient):
                targets.append(t.loss)
                if isinstance(t.source, KerasTensor):
                    targets.append(t.source)
            else:
                targets.append(t)
        self._nodes = _graph_nodes(targets, stop)

    def _run(self, feed, training, watch_ids=()):
        from gkeras.layers.layer import _signature_flags, Layer
        from gkeras.ops.symbolic import map_structure
        values = dict(feed)
        for node in self._nodes:
            op = node.operation
            sub = (lambda v: values[id(v)] if isinstance(v, KerasTensor)
                   else v)
            args = map_structure(sub, node.call_args)
            kwargs = dict(map_structure(sub, node.call_kwargs))
            if isinstance(op, Layer) and _signature_flags(type(op))[0] and \
                    "training" not in kwargs:
                kwargs["training"] = training
            outs = _flatten(op(*args, **kwargs))
            for kt, v in zip(node.outputs, outs):
                if id(kt) in watch_ids and isinstance(v, Tensor) and \
                        not v.requires_grad:
                    # An intermediate asked for by K.gradients: make it a
                    # leaf the tape differentiates to.
                    v = Tensor(v.data, requires_grad=True)
                values[id(kt)] = v
        return values

    def __call__(self, inputs):
        """Evaluates the outputs.

        Args:
            inputs: a list of arrays, one per input of the function (0/1
                for a `K.learning_phase()` input).

        Returns:
            A list of NumPy arrays, one per output.
        """
        vals = list(inputs) if isinstance(inputs, (list, tuple)) \
            else [inputs]
        if len(vals) != len(self.inputs):
            raise ValueError(
                f"K.function expects {len(self.inputs)} input value(s), "
                f"received {len(vals)}.")
        training = bool(_LEARNING_PHASE) if _LEARNING_PHASE is not None \
            else False
        feed = {}
        k = 0
        for i, v in enumerate(vals):
            if i == self._phase_index:
                training = bool(int(np.asarray(v)))
                continue
            kt = self._sym_inputs[k]
            k += 1
            from gkeras.ops._base import to_array
            a = to_array(v)
            if a.dtype == np.float64 and kt.dtype != "float64":
                a = a.astype(kt.dtype)
            if len(a.shape) != len(kt.shape) or builtins.any(
                    e is not None and e != g
                    for e, g in zip(kt.shape, a.shape)):
                raise ValueError(
                    f"K.function: input {i} expects shape {kt.shape}, "
                    f"received an array of shape {tuple(a.shape)}.")
            feed[id(kt)] = Tensor(a)
        grads = [o for o in self.outputs if isinstance(o, _SymbolicGradient)]
        if not grads:
            values = self._run(feed, training)
            results = [values[id(o)] for o in self.outputs]
        else:
            results = self._call_with_gradients(feed, training)
        out = [_backend.to_numpy(r.data if isinstance(r, Tensor) else r)
               for r in results]
        return out[0] if self._single_output else out

    def _call_with_gradients(self, feed, training):
        # One forward pass under a tape per distinct loss: the tape frees
        # its graph after backward.
        results = [None] * len(self.outputs)
        plain = [i for i, o in enumerate(self.outputs)
                 if not isinstance(o, _SymbolicGradient)]
        losses = []
        for o in self.outputs:
            if isinstance(o, _SymbolicGradient) and not builtins.any(
                    o.loss is l for l in losses):
                losses.append(o.loss)
        for loss in losses:
            idx = [i for i, o in enumerate(self.outputs)
                   if isinstance(o, _SymbolicGradient) and o.loss is loss]
            watch = {id(self.outputs[i].source) for i in idx
                     if isinstance(self.outputs[i].source, KerasTensor)}
            leaf_feed = {}
            for key, t in feed.items():
                leaf_feed[key] = Tensor(t.data, requires_grad=key in watch)
            with GradientTape():
                values = self._run(leaf_feed, training, watch_ids=watch)
                total = _ops().sum(values[id(loss)])
            sources = []
            for i in idx:
                s = self.outputs[i].source
                sources.append(values[id(s)] if isinstance(s, KerasTensor)
                               else s)
            gs = _backward(total, sources)
            for i, g, s in zip(idx, gs, sources):
                xp = _backend.get_array_module(s.data)
                results[i] = Tensor(xp.zeros_like(s.data) if g is None else g)
            for i in plain:
                results[i] = values[id(self.outputs[i])]
        return results


def function(inputs, outputs, updates=None, name=None, **kwargs):
    """Instantiates a callable that evaluates symbolic tensors (Keras 2).

    Args:
        inputs: a list of symbolic tensors (`model.input`,
            `layer.output`, `K.placeholder(...)`), optionally including
            `K.learning_phase()`.
        outputs: a symbolic tensor or a list of them (layer outputs,
            K-function results on symbolic tensors, `K.gradients(...)`).
        updates: not supported (raises NotImplementedError when non-empty).
        name: optional name.
        **kwargs: not supported (raises ValueError).

    Returns:
        A callable: given a list of arrays (one per input) it returns a
        list of NumPy arrays (one per output; a single array when
        `outputs` was a single tensor).

    Example:
    >>> get_hidden = K.function([model.layers[0].input],
    ...                         [model.layers[0].output])
    >>> hidden = get_hidden([x_test])[0]
    """
    if kwargs:
        raise ValueError(f"Invalid K.function arguments: {sorted(kwargs)}.")
    return GraphFunction(inputs, outputs, updates=updates, name=name)
