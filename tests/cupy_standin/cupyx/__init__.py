"""`cupyx` of the stand-in: the parts gkeras uses."""

import numpy as _numpy

import standin_counters as _sc
from cupy import _api
from cupy._ndarray import ndarray, unwrap as _unwrap
from cupyx import scipy  # noqa: F401


def scatter_add(a, slices, value):
    """`a[slices] += value` with repeated indices accumulated (atomic on
    the GPU: the summation order is not deterministic there)."""
    _api.bind("cupyx", "scatter_add", (a, slices, value), {})
    if type(a) is not ndarray:
        raise TypeError(f"Unsupported type {type(a)}")
    _sc.record("op", "cupyx.scatter_add")
    idx = slices if not isinstance(slices, tuple) else slices
    _numpy.add.at(a._a, _unwrap(idx), _unwrap(value))


def rsqrt(x, out=None):
    import cupy
    return cupy.divide(1.0, cupy.sqrt(x), out=out)


def __getattr__(name):
    if _api.entry("cupyx", name) is None:
        raise AttributeError(f"module 'cupyx' has no attribute '{name}'")
    raise NotImplementedError(f"cupy stand-in: cupyx.{name} is not emulated")
