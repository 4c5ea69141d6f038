"""Autocasting: float variables read in a layer's compute dtype.

Under a mixed precision policy a layer keeps float32 variables and
computes in float16 or bfloat16. While such a layer runs (`Layer.__call__`
opens an `AutocastScope`), every read of a float `Variable` created with
`autocast=True` returns its value cast to the scope's dtype; the cast is
differentiable, so the gradient reaching the variable is float32 again
(as Keras 3's `AutocastScope`). Writes (`assign`, optimizer updates) go
to the float32 value.
"""

from gkeras import backend

# [dtype object or None] of the innermost scope; a list so that
# `Variable.data` reads it with one index.
_SCOPE = [None]


class AutocastScope:
    """Context manager under which float variables read as `dtype`.

    Args:
        dtype: a float dtype name (`"float16"`, `"bfloat16"`, ...), or None
            to turn autocasting off inside an outer scope.

    Example:

    >>> v = gkeras.Variable(np.ones(3, "float32"))
    >>> with AutocastScope("float16"):
    ...     v.dtype
    dtype('float16')
    """

    def __init__(self, dtype):
        if dtype is not None:
            dtype = backend.standardize_dtype(dtype)
            if not backend.is_float_dtype(dtype):
                raise ValueError(
                    "`AutocastScope` can only be used with a floating-point "
                    f"target dtype, such as 'float16'. Received: dtype={dtype}")
        self.dtype = dtype
        self._np_dtype = None if dtype is None else backend.to_dtype(dtype)
        self._outer = None

    def maybe_cast(self, value):
        """Casts a float array `value` to the scope's dtype."""
        dt = self._np_dtype
        if dt is None or value.dtype == dt or \
                not backend.is_float_dtype(value.dtype):
            return value
        return value.astype(dt)

    def __enter__(self):
        self._outer = _SCOPE[0]
        _SCOPE[0] = self if self._np_dtype is not None else None
        return self

    def __exit__(self, *exc):
        _SCOPE[0] = self._outer


def get_autocast_scope():
    """The innermost active `AutocastScope` (None outside any)."""
    return _SCOPE[0]
