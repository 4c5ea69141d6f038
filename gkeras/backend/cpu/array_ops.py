"""Small array helpers whose NumPy and CuPy spellings differ (scatter-add,
erf, random generators). `backend.gpu.array_ops` has the same names."""

import math

import numpy as np

__all__ = ["scatter_add", "erf", "default_rng", "special_function",
           "scipy_linalg_function", "scatter_reduce"]


def scatter_add(dst, index, values):
    """`dst[index] += values` with repeated indices accumulated, in place.

    Args:
        dst: the array to add into.
        index: an index expression (array or tuple of arrays).
        values: values broadcastable to `dst[index]`.
    """
    np.add.at(dst, index, values)


def erf(x):
    """The error function, element-wise (SciPy when installed)."""
    try:
        from scipy.special import erf as _erf
    except ImportError:
        return np.vectorize(math.erf, otypes=[x.dtype])(x)
    return _erf(x).astype(x.dtype, copy=False)


def default_rng(seed):
    """A random `Generator` on the CPU, seeded with an int."""
    return np.random.default_rng(int(seed))


def special_function(name):
    """`scipy.special.<name>` (None when SciPy is not installed)."""
    try:
        import scipy.special
    except ImportError:
        return None
    return getattr(scipy.special, name)


def scipy_linalg_function(name):
    """`scipy.linalg.<name>` (None when SciPy is not installed)."""
    try:
        import scipy.linalg
    except ImportError:
        return None
    return getattr(scipy.linalg, name)


def scatter_reduce(dst, index, values, reduction):
    """`dst[index] = reduction(dst[index], values)` with repeated indices
    combined, in place.

    Args:
        dst: the array to reduce into.
        index: an index expression (array or tuple of arrays).
        values: values broadcastable to `dst[index]`.
        reduction: `"max"`, `"min"` or `"prod"`.
    """
    ufunc = {"max": np.maximum, "min": np.minimum,
             "prod": np.multiply}[reduction]
    ufunc.at(dst, index, values)
