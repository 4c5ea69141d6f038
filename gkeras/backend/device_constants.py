"""Small constants created on the device once, not copied every step.

A Python number used as an array in a training step (a metric's sample
count, a layer's scale) would otherwise cost a host-to-device copy on
every call on the GPU. `device_constant` keeps one read-only device array
per (value, dtype).
"""

import numpy as np

from gkeras import backend

_CACHE = {}
# Bounded: values that change every step (rare) must not grow it forever.
_MAX_ENTRIES = 4096


def device_constant(value, dtype):
    """Returns a cached array of the backend holding `value`.

    Args:
        value: a Python or NumPy scalar, or a small host array / list
            (resize matrices, metric thresholds, per-channel scales).
        dtype: the array's dtype.

    Returns:
        A NumPy (CPU) or CuPy (GPU) array. Callers must not write into
        it: it is shared.

    Example:

    >>> n = device_constant(32, "float32")   # copied to the GPU once
    """
    dtype = np.dtype(dtype)
    if isinstance(value, (int, float, bool, np.generic)):
        key = (type(value), value, dtype.str, backend.backend())
        host = None
    else:
        host = np.ascontiguousarray(value, dtype=dtype)
        key = ("array", host.shape, dtype.str, host.tobytes(),
               backend.backend())
    a = _CACHE.get(key)
    if a is None:
        if len(_CACHE) >= _MAX_ENTRIES:
            _CACHE.clear()
        a = backend.to_device(np.asarray(value, dtype=dtype)
                              if host is None else host.copy())
        _CACHE[key] = a
    return a
