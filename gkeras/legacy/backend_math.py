"""The Keras-2 backend's element-wise math, reductions and nn functions
(`K.square`, `K.sum`, `K.relu`, ...); see `gkeras.legacy.backend`."""

import numpy as np
from gkeras.legacy._backend_utils import _ops, _t

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
    from gkeras.legacy.backend import int_shape
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


__all__ = ['abs', 'all', 'any', 'argmax', 'argmin', 'batch_dot', 'binary_crossentropy', 'categorical_crossentropy', 'clip', 'cos', 'cumsum', 'dot', 'elu', 'equal', 'exp', 'greater', 'greater_equal', 'hard_sigmoid', 'in_top_k', 'l2_normalize', 'less', 'less_equal', 'log', 'max', 'maximum', 'mean', 'min', 'minimum', 'not_equal', 'pow', 'prod', 'random_normal', 'random_uniform', 'relu', 'round', 'sigmoid', 'sign', 'sin', 'softmax', 'softplus', 'softsign', 'sparse_categorical_crossentropy', 'sqrt', 'square', 'std', 'stop_gradient', 'sum', 'switch', 'tanh', 'var']
