"""Shared machinery for op definitions: dispatch, conversion, broadcasting."""

import functools

import math

import numpy as np

from gkeras import backend
from gkeras.ops.engine import Tensor


def xp_of(*xs):
    """The array module (numpy or cupy) of the given arrays/scalars."""
    for x in xs:
        t = type(x)
        if t is np.ndarray or t in (int, float, bool):
            continue
        if backend.is_cupy_array(x):
            return backend.get_array_module(x)
    return np


def arr(x):
    """The raw array of a Tensor, array or scalar."""
    return x.data if isinstance(x, Tensor) else x


def to_array(x, dtype=None):
    """Converts `x` (Tensor, array, list, scalar) to an array of its own
    module (lists and scalars become NumPy, or CuPy under the cupy backend).
    """
    if isinstance(x, Tensor):
        x = x.data
        return x if dtype is None else x.astype(dtype, copy=False)
    if type(x) is np.ndarray or backend.is_cupy_array(x):
        return x if dtype is None else x.astype(dtype, copy=False)
    if hasattr(x, "__array__") and not isinstance(x, (list, tuple)):
        x = np.asarray(x)
    else:
        x = np.asarray(x)
        if dtype is None and x.dtype == np.float64:
            x = x.astype(backend.floatx())
    if backend.backend() == "cupy":
        return backend.to_device(x, dtype)
    return x if dtype is None else x.astype(dtype, copy=False)


def unbroadcast(g, shape):
    """Sums gradient `g` down to `shape` (undoing NumPy broadcasting)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead > 0:
        if (g.shape[lead:] == tuple(shape) and g.flags.c_contiguous
                and g.size):
            # A bias gradient: the leading-axes sum as one GEMV, several
            # times faster than NumPy's reduction over the leading axes.
            g2 = g.reshape(-1, int(math.prod(shape)))
            return (xp_of(g).ones(g2.shape[0], g.dtype) @ g2).reshape(shape)
        g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def is_float(a):
    dt = getattr(a, "dtype", None)
    if dt is None:
        return isinstance(a, float)
    return _floating_kind(dt)


def _floating_kind(dt):
    """Float or complex, bfloat16 included (ml_dtypes gives it kind "V")."""
    return dt.kind in "fc" or dt.name == "bfloat16"


_KERAS_TENSOR = []


def _keras_tensor_class():
    # Imported on first use (ops.symbolic imports this module); kept here
    # because a function-level import costs ~1 us on every op call.
    from gkeras.ops.symbolic import KerasTensor
    _KERAS_TENSOR.append(KerasTensor)
    return KerasTensor


def _has_symbolic(args, kwargs):
    KerasTensor = _KERAS_TENSOR[0] if _KERAS_TENSOR else \
        _keras_tensor_class()
    for a in args:
        t = type(a)
        if t is KerasTensor:
            return True
        if t in (list, tuple):
            for b in a:
                if type(b) is KerasTensor:
                    return True
        elif t is dict:
            for b in a.values():
                if type(b) is KerasTensor:
                    return True
    for a in kwargs.values():
        if type(a) is KerasTensor:
            return True
        if type(a) in (list, tuple):
            for b in a:
                if type(b) is KerasTensor:
                    return True
    return False


def keras_op(fn):
    """Makes `fn` an op: eager on tensors/arrays, graph-building on
    `KerasTensor`s (the Functional API), like Keras's `ops` functions."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _has_symbolic(args, kwargs):
            from gkeras.ops.symbolic import symbolic_call
            return symbolic_call(wrapper, fn.__name__, args, kwargs)
        return fn(*args, **kwargs)

    wrapper._eager = fn
    return wrapper


def wrap(a):
    """Wraps a raw array result (non-differentiable) in a Tensor."""
    return Tensor(a)


def normalize_axis(axis, ndim):
    """Returns a tuple of non-negative axes (or None for all)."""
    if axis is None:
        return None
    if isinstance(axis, (list, tuple)):
        return tuple(sorted(int(a) % ndim for a in axis))
    return (int(axis) % ndim,) if ndim else ()


# Whether a dtype is floating or complex, bfloat16 included (the name the
# numpy_* op modules use).
floating = _floating_kind


def to_float(x):
    """`x` itself when floating (a Tensor keeps its gradient), else its
    array cast to `floatx()`: Keras computes float-valued functions of
    integer and bool tensors in floatx (NumPy would pick float64 or
    float16)."""
    a = x.data if isinstance(x, Tensor) else x
    dt = getattr(a, "dtype", None)
    if dt is not None and _floating_kind(dt):
        return x
    a = to_array(x)
    return a if _floating_kind(a.dtype) else a.astype(backend.floatx())


def int_accumulator(dtype):
    """The dtype Keras sums/multiplies integers in: int32 for bool and
    signed ints up to 32 bits, uint32 for unsigned ones (NumPy would use
    64 bits); None for other dtypes (keep NumPy's choice)."""
    dt = np.dtype(dtype)
    if dt.kind == "b" or (dt.kind == "i" and dt.itemsize <= 4):
        return np.dtype("int32")
    if dt.kind == "u" and dt.itemsize <= 4:
        return np.dtype("uint32")
    return None


def t_or_a(x):
    """Keeps a Tensor (so gradients flow); converts anything else to an
    array of the backend."""
    return x if isinstance(x, Tensor) else to_array(x)
