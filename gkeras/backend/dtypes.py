"""Keras's dtype promotion rules (`keras.backend.result_type`) and dtype
predicates.

The promotion is Keras 3's lattice (the one JAX uses), not NumPy's:
`int32` with `float16` gives `float16`, Python scalars are "weak" and
follow the other operand, and 64-bit results come back as 32-bit ones
(Keras does this on every backend but TensorFlow).
"""

import functools

from gkeras.backend.config import floatx

BOOL_TYPES = ("bool",)
INT_TYPES = ("uint8", "uint16", "uint32", "uint64", "int8", "int16",
             "int32", "int64")
FLOAT_TYPES = ("bfloat16", "float16", "float32", "float64")
WEAK_TYPES = ("int", "float")
COMPLEX_TYPES = ("complex64", "complex128")
FLOAT8_TYPES = ("float8_e4m3fn", "float8_e5m2")
ALLOWED_DTYPES = ("float16", "float32", "float64", "uint8", "uint16",
                  "uint32", "uint64", "int8", "int16", "int32", "int64",
                  "bfloat16", "bool", "string", "float8_e4m3fn",
                  "float8_e5m2", "complex64", "complex128")
_PYTHON_TYPES = {bool: "bool", int: "int32", float: "float32",
                 complex: "complex64", str: "string"}
_BIT64_TO_BIT32 = {"int64": "int32", "uint64": "uint32",
                   "float64": "float32", "complex128": "complex64"}


def _lattice():
    b1, = BOOL_TYPES
    u1, u2, u4, u8, i1, i2, i4, i8 = INT_TYPES
    bf, f2, f4, f8 = FLOAT_TYPES
    i_, f_ = WEAK_TYPES
    c64, c128 = COMPLEX_TYPES
    return {b1: [i_], u1: [i2, u2], u2: [i4, u4], u4: [i8, u8], u8: [f_],
            i_: [u1, i1, c64], i1: [i2], i2: [i4], i4: [i8], i8: [f_],
            f_: [bf, f2], bf: [f4], f2: [f4], f4: [f8, c64], f8: [c128],
            c64: [c128], c128: []}


def _upper_bounds():
    lattice = _lattice()
    bounds = {n: {n} for n in lattice}
    for n in lattice:
        while True:
            new = set().union(*(lattice[b] for b in bounds[n]))
            if new <= bounds[n]:
                break
            bounds[n] |= new
    return bounds


_UPPER = _upper_bounds()


@functools.lru_cache(512)
def _least_upper_bound(*nodes):
    nodes = set(nodes)
    bad = [n for n in nodes if n not in _UPPER]
    if bad:
        raise ValueError(
            f"dtype={bad[0]!r} is not a valid dtype for Keras type "
            "promotion.")
    common = set.intersection(*(_UPPER[n] for n in nodes))
    lub = (common & nodes) or {c for c in common if common <= _UPPER[c]}
    if len(lub) != 1:
        raise ValueError(
            f"Input dtypes {tuple(sorted(nodes))} have no available implicit "
            "dtype promotion path. Try explicitly casting inputs to the "
            "desired output type.")
    return lub.pop()


def _standardize(dtype):
    if dtype in _PYTHON_TYPES:
        return _PYTHON_TYPES[dtype]
    if isinstance(dtype, str):
        name = dtype
    elif hasattr(dtype, "dtype") and not isinstance(dtype, type):
        name = str(dtype.dtype)  # an array or tensor
    elif hasattr(dtype, "name"):
        name = str(dtype.name)
    else:
        import numpy as np
        name = np.dtype(dtype).name
    if name not in ALLOWED_DTYPES:
        raise ValueError(f"Invalid dtype: {dtype!r}. Expected one of "
                         f"{ALLOWED_DTYPES}.")
    return name


def _weak(dtype, weak):
    if not weak or dtype == "bool":
        return dtype
    for kind in ("float", "int", "complex"):
        if kind in dtype:
            return kind
    raise ValueError(f"Invalid dtype for a Python scalar: {dtype!r}.")


def _resolve_weak(dtype, precision):
    kind = "f" if dtype == "bfloat16" else dtype[:1]
    if kind == "b":
        return "bool"
    if kind == "i":
        return f"int{precision}"
    if kind == "u":
        return f"uint{precision}"
    return f"float{precision}"


def result_type(*dtypes):
    """Returns the dtype Keras's type promotion gives for `dtypes`.

    Each argument is a dtype name, a NumPy dtype, or the Python type
    `bool`, `int` or `float` (a "weak" type, which takes the other
    operand's precision). The result is the least upper bound on Keras 3's
    promotion lattice, with 64-bit results narrowed to 32 bits as Keras
    does.

    Args:
        *dtypes: input dtypes (none gives `floatx()`; None means
            `floatx()`).

    Returns:
        The result dtype name.

    Example:
    >>> gkeras.backend.result_type("int32", "float16")
    'float16'
    >>> gkeras.backend.result_type("bfloat16", int)
    'bfloat16'
    """
    if not dtypes:
        return floatx()
    for d in dtypes:
        if isinstance(d, str) and d in FLOAT8_TYPES:
            raise ValueError(
                "There is no implicit conversions from float8 dtypes to "
                f"others. You must cast it internally. Received: {dtypes}")
    args = [floatx() if d is None else d for d in dtypes]
    std = [_standardize(d) for d in args]
    weak = [d is int or d is float for d in args]
    if len(std) == 1:
        out, out_weak = std[0], weak[0]
    elif len(set(std)) == 1 and not all(weak):
        out, out_weak = std[0], False
    elif all(weak):
        out, out_weak = _least_upper_bound(*std), True
    else:
        out = _least_upper_bound(*{_weak(d, w) for d, w in zip(std, weak)})
        out_weak = out in WEAK_TYPES
    if out_weak and out != "bool":
        out = _resolve_weak(out, floatx()[-2:])
    return _BIT64_TO_BIT32.get(out, out)


def is_int_dtype(dtype):
    """Whether `dtype` is a (signed or unsigned) integer dtype.

    Example:
    >>> gkeras.backend.is_int_dtype("uint8")
    True
    """
    name = _standardize(dtype)
    return name.startswith("int") or name.startswith("uint")


__all__ = ["result_type", "is_int_dtype"]
