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
                    "target dtype, such as 'float16'. Received: "
                    f"dtype={dtype}")
        self.dtype = dtype
        self._np_dtype = None if dtype is None else backend.to_dtype(dtype)
        self._outer = None
        # Casts made in this scope, by variable: a layer reads its kernel
        # more than once per call (the op wrapper, then the primitive).
        # `Variable.assign` drops its entry.
        self._cache = {}

    def maybe_cast(self, value, key=None):
        """Casts a float array `value` to the scope's dtype (cached under
        `key` for this scope)."""
        dt = self._np_dtype
        if dt is None or value.dtype == dt or \
                not backend.is_float_dtype(value.dtype):
            return value
        if key is not None:
            hit = self._cache.get(key)
            if hit is not None and hit[0] is value:
                return hit[1]
        if dt.name == "bfloat16" and backend.is_cupy_array(value):
            raise NotImplementedError(
                "bfloat16 on the GPU: CuPy has no bfloat16 dtype, so a "
                "'mixed_bfloat16' layer cannot run on the GPU yet. Use "
                "'mixed_float16' there, or run on the CPU "
                "(GKERAS_BACKEND=numpy).")
        out = value.astype(dt)
        if key is not None:
            self._cache[key] = (value, out)
        return out

    def __enter__(self):
        self._outer = _SCOPE[0]
        _SCOPE[0] = self if self._np_dtype is not None else None
        return self

    def __exit__(self, *exc):
        _SCOPE[0] = self._outer


def get_autocast_scope():
    """The innermost active `AutocastScope` (None outside any)."""
    return _SCOPE[0]
