"""A strict CuPy stand-in for CPU-only test runs (see ../README.md).

Only the names real CuPy exports (in both 13.6 and 14.x, `../cupy_api.json`)
exist; functions bind their arguments against CuPy's signatures and run
NumPy on the arrays held by `cupy.ndarray` (its own type). Creation
functions accept host data (a host-to-device copy); everything else refuses
NumPy arrays, as CuPy's kernels do.
"""

import builtins as _builtins

import numpy as _numpy

import standin_counters as _sc
from cupy import _api
from cupy._ndarray import ndarray, call as _call, wrap as _wrap_result
from cupy._ndarray import unwrap as _unwrap

__version__ = "14.2.0"  # the newer of the two API versions it mirrors

_HOST_OK = {"array", "asarray", "asanyarray", "ascontiguousarray",
            "asfortranarray", "copy"}
# Functions whose output size depends on the data: CuPy reads a count
# back to the host (a synchronisation) before allocating the result.
_SYNCING = {"nonzero", "argwhere", "flatnonzero", "unique", "extract",
            "bincount", "histogram", "compress"}


class _NotEmulated(AttributeError, NotImplementedError):
    """A name real CuPy has that the stand-in does not provide (an
    AttributeError too, so `hasattr` answers False)."""


class ufunc:
    """A CuPy universal function (NumPy's, applied to device arrays)."""

    def __init__(self, np_ufunc):
        self._u = np_ufunc
        self.__name__ = self.name = np_ufunc.__name__
        self.nin, self.nout, self.nargs = (np_ufunc.nin, np_ufunc.nout,
                                           np_ufunc.nargs)
        self.types = np_ufunc.types

    def __repr__(self):
        return f"<ufunc '{self.name}'>"

    def __call__(self, *args, **kwargs):
        bad = set(kwargs) - set(_api.UFUNC_KWARGS)
        if bad:
            raise TypeError(f"Wrong arguments {kwargs}")
        if len(args) != self.nin and not (
                len(args) == self.nargs and "out" not in kwargs):
            raise TypeError(f"Wrong number of arguments for {self.name!r}. "
                            f"It must be either {self.nin} or {self.nargs} "
                            f"(with outputs), but given {len(args)}.")
        if len(args) == self.nargs:
            kwargs["out"] = args[self.nin] if self.nout == 1 else \
                tuple(args[self.nin:])
            args = args[:self.nin]
        for a in args:
            if isinstance(a, _numpy.ndarray):
                raise TypeError(f"Unsupported type {type(a)}")
            if isinstance(a, (list, tuple)):
                raise TypeError(f"Unsupported type {type(a)}")
        if self.name == "matmul":
            args = _maybe_tf32(args)
        return _call(self._u, self.name, args, kwargs)

    def _method(self, m, *args, **kwargs):
        _api.bind("cupy.ufunc", m, args, kwargs)
        return _call(getattr(self._u, m), f"{self.name}.{m}", args, kwargs)

    def reduce(self, *args, **kwargs):
        return self._method("reduce", *args, **kwargs)

    def accumulate(self, *args, **kwargs):
        return self._method("accumulate", *args, **kwargs)

    def reduceat(self, *args, **kwargs):
        return self._method("reduceat", *args, **kwargs)

    def outer(self, *args, **kwargs):
        return self._method("outer", *args, **kwargs)

    def at(self, *args, **kwargs):
        return self._method("at", *args, **kwargs)


def _host_to_device(a, dtype=None, copy=True, order="K", ndmin=0,
                    blocking=True, name="asarray"):
    if type(a) is ndarray:
        return _call(lambda x, **k: _numpy.array(x, dtype=dtype, copy=copy,
                                                 order=order, ndmin=ndmin),
                     name, (a,), {})
    if hasattr(a, "__cuda_array_interface__"):
        raise NotImplementedError("cupy stand-in: __cuda_array_interface__ "
                                  "objects are not emulated")
    _sc.record("h2d", name)
    h = _numpy.array(a, dtype=dtype, copy=True, order=order, ndmin=ndmin)
    if h.dtype == object:
        raise ValueError("Unsupported dtype object")
    r = ndarray._wrap(h)
    if r.dtype == _numpy.float64 and getattr(a, "dtype", None) != \
            _numpy.float64:
        _sc.record("float64", f"{name} made float64")
    return r


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0,
          blocking=False):
    return _host_to_device(obj, dtype, True if copy else False, order,
                           ndmin, name="array")


def asarray(a, dtype=None, order=None, *, blocking=False):
    if type(a) is ndarray:
        if (dtype is None or _numpy.dtype(dtype) == a.dtype) and (
                order in (None, "K", "A") or (
                    order == "C" and a.flags.c_contiguous)):
            return a
        return _call(lambda x: _numpy.asarray(x, dtype=dtype, order=order),
                     "asarray", (a,), {})
    return _host_to_device(a, dtype, order=order or "K", name="asarray")


def asanyarray(a, dtype=None, order=None, *, blocking=False):
    return asarray(a, dtype, order)


def ascontiguousarray(a, dtype=None):
    if type(a) is ndarray:
        if a.flags.c_contiguous and (dtype is None or
                                     _numpy.dtype(dtype) == a.dtype):
            return a
        return _call(lambda x: _numpy.ascontiguousarray(x, dtype=dtype),
                     "ascontiguousarray", (a,), {})
    return _host_to_device(a, dtype, order="C", name="ascontiguousarray")


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    """Copies a device array to the host (a synchronisation)."""
    if type(a) is ndarray:
        return a.get(order=order, out=out)
    if out is not None:
        out[...] = a
        return out
    return _numpy.asarray(a, order=order)


def get_array_module(*args):
    for a in args:
        if type(a) is ndarray:
            import cupy
            return cupy
    return _numpy


def _tf32_on():
    from cupy._core import _routines_linalg as linalg
    return linalg.get_compute_type(_numpy.float32) == \
        linalg.COMPUTE_TYPE_TF32


def _to_tf32(a):
    """Rounds float32 values to TF32 (10-bit mantissa), as tensor cores
    read the inputs of a float32 GEMM when TF32 is allowed."""
    u = _numpy.ascontiguousarray(a).view(_numpy.uint32)
    r = (u + _numpy.uint32(0x1000)) & _numpy.uint32(0xFFFFE000)
    special = (u & _numpy.uint32(0x7F800000)) == _numpy.uint32(0x7F800000)
    return _numpy.where(special, u, r).view(_numpy.float32)


def _maybe_tf32(args):
    """GEMM operands as cuBLAS sees them under the TF32 compute type."""
    if not _tf32_on():
        return args
    return tuple(ndarray._wrap(_to_tf32(a._a)) if type(a) is ndarray
                 and a.dtype == _numpy.float32 else a for a in args)


def _gemm(np_func):
    def run(*args, **kwargs):
        if _tf32_on():
            args = tuple(_to_tf32(a) if isinstance(a, _numpy.ndarray)
                         and a.dtype == _numpy.float32 else a for a in args)
        return np_func(*args, **kwargs)
    return run


def _take(a, indices, axis=None, out=None):
    # CuPy wraps out-of-bounds indices around (no error, as on the GPU).
    return _numpy.take(a, indices, axis=axis, out=out, mode="wrap")


def _take_along_axis(a, indices, axis):
    n = a.shape[axis] if axis is not None else a.size
    return _numpy.take_along_axis(a, indices % _builtins.max(n, 1), axis)


_NUMPY_TWIN = {"take": _take, "take_along_axis": _take_along_axis,
               "dot": _gemm(_numpy.dot), "tensordot": _gemm(_numpy.tensordot),
               "einsum": _gemm(_numpy.einsum)}


# Parameters CuPy reads on the host as Python sequences (shapes, axes,
# split points, paddings): a NumPy array there is fine in CuPy too.
_HOST_PARAMS = {"indices_or_sections", "shape", "newshape", "axes", "axis",
                "pad_width", "reps", "source", "destination", "shift",
                "size", "new_shape", "dims", "constant_values"}


# Array operands: CuPy's functions call methods on them or hand them to a
# kernel, so a Python list there fails in CuPy (only the creation
# functions convert host data).
_ARRAY_PARAMS = {"a", "x", "x1", "x2", "ary", "arr", "array", "condition",
                 "m"}


def _host_params_to_lists(space, name, args, kwargs):
    sig = _api.signature(space, name)
    if sig is None:
        return args, kwargs
    bound = sig.bind(*args, **kwargs)
    changed = False
    for p, v in bound.arguments.items():
        if p in _ARRAY_PARAMS and isinstance(v, (list, tuple)) and \
                name not in _HOST_OK:
            raise TypeError(f"{space}.{name}(): Unsupported type "
                            f"{type(v)} for array argument {p!r}")
        if p in _HOST_PARAMS and isinstance(v, _numpy.ndarray):
            bound.arguments[p] = v.tolist()
            changed = True
    return (bound.args, bound.kwargs) if changed else (args, kwargs)


def _make_function(space, name, np_func):
    np_func = _NUMPY_TWIN.get(name, np_func) if space == "cupy" else np_func
    sync = name in _SYNCING
    host_ok = name in _HOST_OK

    def fn(*args, **kwargs):
        _api.bind(space, name, args, kwargs)
        args, kwargs = _host_params_to_lists(space, name, args, kwargs)
        if sync:
            _sc.record("sync", f"{name}()")
        if host_ok:
            args = tuple(asarray(a) if isinstance(a, _numpy.ndarray) else a
                         for a in args)
        return _call(np_func, f"{space}.{name}", args, kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = space
    return fn


def _numpy_attr(space, name):
    mod = _numpy
    for part in space.split(".")[1:]:
        mod = getattr(mod, part, None)
        if mod is None:
            return None
    return getattr(mod, name, None)


def _resolve(space, name, namespace):
    """Builds `space.name` from NumPy for a name CuPy has."""
    e = _api.entry(space, name)
    if e is None:
        raise AttributeError(f"module '{space}' has no attribute '{name}'")
    if e["kind"] == "numpy":
        mod_name, _, attr = e["target"].rpartition(".")
        obj = _numpy
        for part in mod_name.split(".")[1:]:
            obj = getattr(obj, part)
        value = getattr(obj, attr)
    else:
        npf = _numpy_attr(space, name)
        if isinstance(npf, _numpy.ufunc):
            value = ufunc(npf)
        elif callable(npf) and e["kind"] in ("function", "ufunc"):
            value = _make_function(space, name, npf)
        elif e["kind"] == "object" and npf is not None and not callable(npf):
            value = npf
        else:
            raise _NotEmulated(
                f"cupy stand-in: {space}.{name} exists in CuPy but is not "
                "emulated (no NumPy twin); add it to tests/cupy_standin")
    namespace[name] = value
    return value


def __getattr__(name):
    return _resolve("cupy", name, globals())


def __dir__():
    return sorted(_api.names("cupy"))


# -- memory pools (no real memory limit is emulated) --------------------------
class _MemoryPool:
    def free_all_blocks(self, stream=None):
        pass

    def used_bytes(self):
        return 0

    def total_bytes(self):
        return 0

    def set_limit(self, size=None, fraction=None):
        pass

    def get_limit(self):
        return 0


_POOL, _PINNED_POOL = _MemoryPool(), _MemoryPool()


def get_default_memory_pool():
    return _POOL


def get_default_pinned_memory_pool():
    return _PINNED_POOL


def is_available():
    return True


from cupy import cuda  # noqa: E402
from cupy import random  # noqa: E402
from cupy import linalg  # noqa: E402
from cupy import fft  # noqa: E402
from cupy._raw import RawKernel, RawModule  # noqa: E402
from cupy import _core  # noqa: E402

for _n in ("ufunc", "array", "asarray", "asanyarray", "ascontiguousarray",
           "asnumpy", "get_array_module", "RawKernel", "RawModule",
           "get_default_memory_pool", "get_default_pinned_memory_pool",
           "is_available", "cuda", "random", "linalg", "fft", "ndarray"):
    assert _api.entry("cupy", _n) is not None, _n
del _n
