"""Reductions (`keras.ops` names): sum, mean, max, var, logsumexp, argmax..."""

import builtins

import numpy as np

from gkeras.ops._base import arr, int_accumulator, keras_op, normalize_axis, \
    t_or_a, to_array, to_float, wrap, xp_of
from gkeras.ops.engine import Function


def _expand(g, shape, axes, keepdims):
    """Reshapes a reduced gradient so it broadcasts against `shape`."""
    if axes is None:
        return g.reshape((1,) * len(shape)) if not keepdims else g
    if keepdims:
        return g
    kshape = list(shape)
    for a in axes:
        kshape[a] = 1
    return g.reshape(kshape)


class _Sum(Function):
    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.shape = x.shape
        self.axes = normalize_axis(self.axis, x.ndim)
        return x.sum(axis=self.axes, keepdims=self.keepdims,
                     dtype=int_accumulator(x.dtype))

    def backward(self, gy):
        g = _expand(gy, self.shape, self.axes, self.keepdims)
        return xp_of(gy).broadcast_to(g, self.shape)


class _Mean(_Sum):
    def forward(self, x):
        y = super().forward(x)
        n = x.size // builtins.max(y.size, 1) if x.size else 1
        self.n = n
        return y / n if x.dtype.kind == "f" else y / n

    def backward(self, gy):
        return super().backward(gy / self.n)


class _MaxMin(Function):
    def __init__(self, axis, keepdims, is_max):
        self.axis, self.keepdims, self.is_max = axis, keepdims, is_max

    def forward(self, x):
        self.x = x
        self.axes = normalize_axis(self.axis, x.ndim)
        f = x.max if self.is_max else x.min
        self.y = f(axis=self.axes, keepdims=True)
        return self.y if self.keepdims else \
            self.y.reshape([s for i, s in enumerate(x.shape)
                            if self.axes is not None and i not in self.axes])

    def backward(self, gy):
        x = self.x
        g = _expand(gy, x.shape, self.axes, self.keepdims)
        mask = (x == self.y)
        # Ties share the gradient equally (as JAX does).
        # Counted in the gradient's dtype: an int64 count would promote a
        # float32 gradient to float64 (NumPy and CuPy alike).
        count = mask.sum(axis=self.axes, keepdims=True, dtype=g.dtype)
        return g * mask / count


class _Var(Function):
    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.x = x
        self.axes = normalize_axis(self.axis, x.ndim)
        self.mean = x.mean(axis=self.axes, keepdims=True)
        self.n = x.size // builtins.max(self.mean.size, 1)
        d = x - self.mean
        return (d * d).mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        g = _expand(gy, self.x.shape, self.axes, self.keepdims)
        return g * (2.0 / self.n) * (self.x - self.mean)


class _LogSumExp(Function):
    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        xp = xp_of(x)
        self.x = x
        self.axes = normalize_axis(self.axis, x.ndim)
        m = x.max(axis=self.axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        s = xp.exp(x - m).sum(axis=self.axes, keepdims=True)
        self.y = xp.log(s) + m
        return self.y if self.keepdims else self.y.reshape(
            [d for i, d in enumerate(x.shape) if self.axes is not None
             and i not in self.axes])

    def backward(self, gy):
        g = _expand(gy, self.x.shape, self.axes, self.keepdims)
        return g * xp_of(gy).exp(self.x - self.y)


class _Prod(Function):
    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.x = x
        self.axes = normalize_axis(self.axis, x.ndim)
        self.y = x.prod(axis=self.axes, keepdims=True,
                        dtype=int_accumulator(x.dtype))
        return self.y if self.keepdims else self.y.reshape(
            [d for i, d in enumerate(x.shape) if self.axes is not None
             and i not in self.axes])

    def backward(self, gy):
        g = _expand(gy, self.x.shape, self.axes, self.keepdims)
        # Exact for inputs without zeros, which is what Keras users rely on.
        return g * self.y / self.x


def _scalar_shape(axes):
    return axes is None


@keras_op
def sum(x, axis=None, keepdims=False):
    """Sum of tensor elements over the given axes.

    Args:
        x: input tensor.
        axis: an int, a tuple of ints, or None (all axes).
        keepdims: keep reduced axes with size 1.

    Returns:
        The reduced tensor.
    """
    return _Sum(axis, keepdims)(t_or_a(x))


@keras_op
def mean(x, axis=None, keepdims=False):
    """Arithmetic mean over the given axes (integer inputs give floats)."""
    a = arr(x)
    if hasattr(a, "dtype") and a.dtype.kind in "iub":
        return wrap(to_array(a).mean(axis=normalize_axis(axis, a.ndim),
                                     keepdims=keepdims).astype("float32"))
    return _Mean(axis, keepdims)(t_or_a(x))


@keras_op
def max(x, axis=None, keepdims=False, initial=None):
    """Maximum over the given axes."""
    if initial is not None:
        return maximum_scalar(_MaxMin(axis, keepdims, True)(t_or_a(x)),
                              initial)
    return _MaxMin(axis, keepdims, True)(t_or_a(x))


amax = max


@keras_op
def min(x, axis=None, keepdims=False, initial=None):
    """Minimum over the given axes."""
    if initial is not None:
        from gkeras.ops.elementwise import minimum
        return minimum(_MaxMin(axis, keepdims, False)(t_or_a(x)), initial)
    return _MaxMin(axis, keepdims, False)(t_or_a(x))


amin = min


def maximum_scalar(x, v):
    from gkeras.ops.elementwise import maximum
    return maximum(x, v)


@keras_op
def var(x, axis=None, keepdims=False):
    """Variance (biased: divides by N) over the given axes."""
    return _Var(axis, keepdims)(to_float(t_or_a(x)))


@keras_op
def std(x, axis=None, keepdims=False):
    """Standard deviation (biased) over the given axes."""
    from gkeras.ops.elementwise import sqrt
    return sqrt(var(x, axis=axis, keepdims=keepdims))


@keras_op
def prod(x, axis=None, keepdims=False, dtype=None):
    """Product of elements over the given axes."""
    if dtype is not None:
        x = to_array(x, dtype)
    return _Prod(axis, keepdims)(t_or_a(x))


@keras_op
def logsumexp(x, axis=None, keepdims=False):
    """`log(sum(exp(x)))` over the given axes, computed stably."""
    return _LogSumExp(axis, keepdims)(to_float(t_or_a(x)))


def _nondiff_reduce(name, doc):
    def op(x, axis=None, keepdims=False):
        a = to_array(x)
        return wrap(getattr(a, name)(axis=normalize_axis(axis, a.ndim),
                                     keepdims=keepdims))
    op.__name__ = name
    op.__doc__ = doc
    return keras_op(op)


all = _nondiff_reduce("all", "True where all elements along the axes are.")
any = _nondiff_reduce("any", "True where any element along the axes is.")


@keras_op
def argmax(x, axis=None, keepdims=False):
    """Indices of the maximum values along an axis (int32)."""
    a = to_array(x)
    r = a.argmax(axis=axis)
    if keepdims and axis is not None:
        r = xp_of(a).expand_dims(r, axis)
    return wrap(r.astype("int32"))


@keras_op
def argmin(x, axis=None, keepdims=False):
    """Indices of the minimum values along an axis (int32)."""
    a = to_array(x)
    r = a.argmin(axis=axis)
    if keepdims and axis is not None:
        r = xp_of(a).expand_dims(r, axis)
    return wrap(r.astype("int32"))


@keras_op
def argsort(x, axis=-1):
    """Indices that sort the tensor along an axis."""
    a = to_array(x)
    return wrap(xp_of(a).argsort(a, axis=axis).astype("int32"))


@keras_op
def count_nonzero(x, axis=None):
    """Number of non-zero values along the axes."""
    a = to_array(x)
    return wrap(xp_of(a).count_nonzero(a, axis=axis).astype("int32"))


@keras_op
def cumsum(x, axis=None, dtype=None):
    """Cumulative sum along an axis (flattened when axis is None)."""
    return _Cumsum(axis)(t_or_a(x) if dtype is None else to_array(x, dtype))


class _Cumsum(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        self.shape = x.shape
        # Integers keep their dtype and bools count in int32, as in Keras
        # (NumPy would accumulate in int64).
        dt = None if x.dtype.kind in "fc" else (
            np.dtype("int32") if x.dtype == bool else x.dtype)
        if self.axis is None:
            return x.reshape(-1).cumsum(dtype=dt)
        return x.cumsum(axis=self.axis, dtype=dt)

    def backward(self, gy):
        xp = xp_of(gy)
        if self.axis is None:
            return xp.flip(xp.flip(gy).cumsum()).reshape(self.shape)
        return xp.flip(xp.flip(gy, self.axis).cumsum(axis=self.axis),
                       self.axis)


@keras_op
def median(x, axis=None, keepdims=False):
    """Median along the axes (differentiable: the linear 0.5-quantile);
    integers give `floatx()`, as in Keras."""
    from gkeras.ops.numpy_stats import quantile
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


def _np_float(a):
    return np.asarray(a)
