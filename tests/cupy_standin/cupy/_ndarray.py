"""`cupy.ndarray` of the stand-in: its own type holding a NumPy array on
the "device" (the host memory of this process), never a NumPy subclass.

Strict as CuPy: implicit conversion to NumPy raises, NumPy arrays are
refused as operands, only CuPy's method names exist and their keyword
arguments bind against CuPy's signatures. Every operation is counted in
`standin_counters` (syncs, copies, device ops)."""

import functools
import numbers
import operator

import numpy

import standin_counters as _sc
from cupy import _api

_IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. Please "
             "use `.get()` to construct a NumPy array explicitly.")


def _unsupported(x):
    return TypeError(f"Unsupported type {type(x)}")


def unwrap(x, what="operand"):
    """Device array -> its NumPy buffer; scalars pass; NumPy arrays raise
    (CuPy refuses host arrays as kernel operands)."""
    if type(x) is ndarray:
        return x._a
    if isinstance(x, numpy.ndarray):
        raise _unsupported(x)
    if isinstance(x, (list, tuple)):
        return type(x)(unwrap(v, what) for v in x)
    return x


def wrap(x, inputs=()):
    """NumPy results -> device arrays (scalars become 0-d arrays as CuPy
    returns them); keeps the identity of an input returned unchanged."""
    if isinstance(x, numpy.ndarray):
        for i in inputs:
            if type(i) is ndarray and i._a is x:
                return i
        return ndarray._wrap(x)
    if isinstance(x, numpy.generic):
        return ndarray._wrap(numpy.asarray(x))
    if isinstance(x, tuple):
        return tuple(wrap(v, inputs) for v in x)
    if isinstance(x, list):
        return [wrap(v, inputs) for v in x]
    return x


def _flat_inputs(args, kwargs):
    out = []
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, (list, tuple)):
            out.extend(a)
        else:
            out.append(a)
    return out


def _check_f64(res):
    if isinstance(res, ndarray) and res.dtype == numpy.float64:
        _sc.record("float64", "float64 result")
    elif isinstance(res, (tuple, list)):
        for r in res:
            _check_f64(r)


def call(fn, name, args, kwargs):
    """Runs NumPy's `fn` on unwrapped operands and wraps the result; `out=`
    must be a device array and is returned itself."""
    _sc.record("op", name)
    out = kwargs.get("out")
    if out is not None and type(out) is not ndarray and not (
            isinstance(out, tuple) and all(type(o) is ndarray for o in out)):
        raise TypeError(f"{name}: out must be a cupy.ndarray, got "
                        f"{type(out).__name__}")
    uargs = [unwrap(a) for a in args]
    ukw = {k: unwrap(v) for k, v in kwargs.items()}
    res = fn(*uargs, **ukw)
    if out is not None:
        return out
    res = wrap(res, _flat_inputs(args, kwargs))
    _check_f64(res)
    return res


def _index(key):
    """Translates an index to NumPy, counting the syncs and copies CuPy
    would make (boolean masks need a nonzero, host index arrays a copy)."""
    if isinstance(key, tuple):
        return tuple(_index(k) for k in key)
    if type(key) is ndarray:
        if key.dtype == numpy.bool_:
            _sc.record("sync", "boolean mask indexing")
        return key._a
    if isinstance(key, numpy.ndarray):
        _sc.record("h2d", "host index array")
        if key.dtype == numpy.bool_:
            _sc.record("sync", "boolean mask indexing")
        return key
    if isinstance(key, list):
        _sc.record("h2d", "list index")
        return key
    return key


def _wrap_indices(key, shape):
    """CuPy's advanced indexing wraps out-of-bounds integer indices around
    instead of raising (a silent wrong read, as on the GPU)."""
    keys = key if isinstance(key, tuple) else (key,)
    if any(k is None or k is Ellipsis for k in keys):
        return key
    out = []
    for dim, k in enumerate(keys):
        if isinstance(k, numpy.ndarray) and k.dtype.kind in "iu" and \
                dim < len(shape) and shape[dim]:
            k = k % shape[dim]
        out.append(k)
    return tuple(out) if isinstance(key, tuple) else out[0]


def _is_basic(key):
    keys = key if isinstance(key, tuple) else (key,)
    return all(k is None or k is Ellipsis or isinstance(k, (slice, int,
               numpy.integer)) for k in keys)


class ndarray:
    """Multi-dimensional array on the (stand-in) device."""

    __slots__ = ("_a", "__weakref__")
    # Above NumPy's, so `numpy_array + device_array` reaches CuPy first.
    __array_priority__ = 100

    def __init__(self, shape, dtype=float, memptr=None, strides=None,
                 order="C"):
        if memptr is not None or strides is not None:
            raise NotImplementedError(
                "cupy stand-in: ndarray(memptr=, strides=) is not emulated")
        self._a = numpy.empty(shape, dtype, order=order)
        _sc.record("op", "ndarray()")

    @classmethod
    def _wrap(cls, a):
        obj = object.__new__(cls)
        obj._a = a
        return obj

    # -- attributes ----------------------------------------------------
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    base = property(lambda self: None if self._a.base is None else
                    ndarray._wrap(self._a.base)
                    if isinstance(self._a.base, numpy.ndarray) else None)
    T = property(lambda self: ndarray._wrap(self._a.T))
    real = property(lambda self: ndarray._wrap(self._a.real))
    imag = property(lambda self: ndarray._wrap(self._a.imag))

    @property
    def data(self):
        """The memory pointer; `.ptr` is the address of the first element
        (host memory here, read by kernels running in the emulator)."""
        return _MemoryPointer(self._a)

    @property
    def device(self):
        from cupy import cuda
        return cuda.Device(0)

    @shape.setter
    def shape(self, value):
        self._a.shape = value

    # -- conversions: explicit ones sync, implicit ones raise -----------
    def __array__(self, dtype=None, copy=None):
        raise TypeError(_IMPLICIT)

    def get(self, stream=None, order="C", out=None, blocking=True):
        """Copies to the host (a synchronisation)."""
        _sc.record("sync", ".get()")
        if out is not None:
            if not isinstance(out, numpy.ndarray):
                raise TypeError("Only numpy.ndarray can be obtained from "
                                "cupy.ndarray")
            out[...] = self._a
            return out
        return numpy.array(self._a, order=order, copy=True)

    def set(self, arr, stream=None):
        """Copies a host array into this one (host-to-device)."""
        if not isinstance(arr, numpy.ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray."
                            f" Given: {type(arr)}")
        if arr.shape != self.shape or arr.dtype != self.dtype:
            raise ValueError("Shape or dtype mismatch")
        _sc.record("h2d", ".set()")
        self._a[...] = arr

    def item(self):
        _sc.record("sync", ".item()")
        return self._a.item()

    def tolist(self):
        _sc.record("sync", ".tolist()")
        return self._a.tolist()

    def tobytes(self, order="C"):
        _sc.record("sync", ".tobytes()")
        return self._a.tobytes(order)

    def _scalar(self, what):
        if self.size != 1:
            raise TypeError("only length-1 arrays can be converted to Python "
                            "scalars") if what != "bool()" else ValueError(
                "The truth value of an array with more than one element is "
                "ambiguous. Use a.any() or a.all()")
        _sc.record("sync", what)
        return self._a.reshape(()).item()

    def __float__(self):
        return float(self._scalar("float()"))

    def __int__(self):
        return int(self._scalar("int()"))

    def __bool__(self):
        return bool(self._scalar("bool()"))

    def __complex__(self):
        return complex(self._scalar("complex()"))

    def __index__(self):
        if self.ndim != 0 or self.dtype.kind not in "iub":
            raise TypeError("only integer scalar arrays can be converted to "
                            "a scalar index")
        return int(self._scalar("__index__"))

    def __repr__(self):
        _sc.record("sync", "repr()")
        return repr(self._a).replace("array(", "array(", 1)

    def __str__(self):
        _sc.record("sync", "str()")
        return str(self._a)

    def __format__(self, spec):
        if self.ndim == 0:
            return format(self._scalar("format()"), spec)
        return format(str(self), spec)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return len(self._a)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self._a)))

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    def __reduce__(self):
        # Pickling goes through the host, as in CuPy.
        _sc.record("sync", "pickle")
        return (_unpickle, (self._a.copy(),))

    __hash__ = None

    # -- indexing --------------------------------------------------------
    def __getitem__(self, key):
        _sc.record("op", "__getitem__")
        r = self._a[_wrap_indices(_index(key), self._a.shape)]
        if isinstance(r, numpy.generic):
            r = numpy.asarray(r)
        return ndarray._wrap(r)

    def __setitem__(self, key, value):
        _sc.record("op", "__setitem__")
        if isinstance(value, numpy.ndarray):
            if _is_basic(key):
                raise _unsupported(value)
            _sc.record("h2d", "host value in __setitem__")
        elif isinstance(value, list):
            _sc.record("h2d", "list value in __setitem__")
        self._a[_wrap_indices(_index(key), self._a.shape)] = unwrap(
            value) if not isinstance(
            value, numpy.ndarray) else value

    # -- NumPy protocol --------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        import cupy
        name = ufunc.__name__
        if not _api.is_ufunc("cupy", name):
            return NotImplemented
        for x in inputs + tuple(numpy.atleast_1d(kwargs.get("out", ()))
                                if not isinstance(kwargs.get("out"), ndarray)
                                else ()):
            if isinstance(x, numpy.ndarray) and type(x) is not ndarray:
                raise _unsupported(x)
        cf = getattr(cupy, name)
        if method == "__call__":
            return cf(*inputs, **kwargs)
        return getattr(cf, method)(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        import cupy
        mod = cupy
        for part in func.__module__.split(".")[1:]:
            if part.startswith("_"):
                break
            mod = getattr(mod, part, None)
            if mod is None:
                return NotImplemented
        try:
            cf = getattr(mod, func.__name__)
        except AttributeError:
            return NotImplemented
        if cf is func:
            return NotImplemented
        return cf(*args, **kwargs)

    # -- methods (only those CuPy's ndarray has) ---------------------------
    def __getattr__(self, name):
        e = _api.entry("cupy.ndarray", name)
        nf = getattr(numpy.ndarray, name, None)
        if e is None or e["kind"] != "method" or nf is None:
            raise AttributeError(
                f"'cupy.ndarray' object has no attribute '{name}'")
        a = self._a

        def method(*args, **kwargs):
            _api.bind("cupy.ndarray", name, args, kwargs)
            if name in ("nonzero",):
                _sc.record("sync", f".{name}()")
            fn = getattr(a, name)
            if name == "take":  # CuPy wraps out-of-bounds indices
                fn = functools.partial(numpy.take, a, mode="wrap")
            return call(fn, f"ndarray.{name}", args, kwargs)
        return method

    def copy(self, order="C"):
        _sc.record("op", "ndarray.copy")
        return ndarray._wrap(self._a.copy(order=order))

    def astype(self, dtype, order="K", casting=None, subok=None, copy=True):
        _sc.record("op", "ndarray.astype")
        r = self._a.astype(dtype, order=order, copy=copy,
                           **({"casting": casting} if casting else {}))
        out = self if r is self._a else ndarray._wrap(r)
        _check_f64(out)
        return out

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        _sc.record("op", "ndarray.reshape")
        return ndarray._wrap(self._a.reshape(shape, order=order))

    def view(self, *args, **kwargs):
        _api.bind("cupy.ndarray", "view", args, kwargs)
        return ndarray._wrap(self._a.view(*args, **kwargs))

    def transpose(self, *axes):
        _sc.record("op", "ndarray.transpose")
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return ndarray._wrap(self._a.transpose(*axes))

    def fill(self, value):
        _sc.record("op", "ndarray.fill")
        if isinstance(value, numpy.ndarray):
            raise _unsupported(value)
        self._a.fill(unwrap(value))

    def __dlpack__(self, *args, **kwargs):
        raise NotImplementedError("cupy stand-in: DLPack is not emulated")


class _MemoryPointer:
    """`cupy.cuda.MemoryPointer` of a stand-in array (keeps it alive)."""

    __slots__ = ("_owner", "ptr")

    def __init__(self, a):
        self._owner = a
        self.ptr = a.ctypes.data

    def __int__(self):
        return self.ptr


def _unpickle(a):
    return ndarray._wrap(a)


def _binop(uname, reflected=False, inplace=False):
    def op(self, other):
        import cupy
        if isinstance(other, numpy.ndarray) and type(other) is not ndarray:
            raise _unsupported(other)
        if not (type(other) is ndarray or isinstance(
                other, (numbers.Number, numpy.generic))):
            return NotImplemented
        f = getattr(cupy, uname)
        if inplace:
            return f(self, other, out=self)
        return f(other, self) if reflected else f(self, other)
    return op


for _d, _u in (("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
               ("truediv", "true_divide"), ("floordiv", "floor_divide"),
               ("mod", "remainder"), ("pow", "power"),
               ("matmul", "matmul"), ("and", "bitwise_and"),
               ("or", "bitwise_or"), ("xor", "bitwise_xor"),
               ("lshift", "left_shift"), ("rshift", "right_shift")):
    setattr(ndarray, f"__{_d}__", _binop(_u))
    setattr(ndarray, f"__r{_d}__", _binop(_u, reflected=True))
    setattr(ndarray, f"__i{_d}__", _binop(_u, inplace=True))
for _d, _u in (("lt", "less"), ("le", "less_equal"), ("gt", "greater"),
               ("ge", "greater_equal"), ("eq", "equal"),
               ("ne", "not_equal")):
    setattr(ndarray, f"__{_d}__", _binop(_u))


def _unop(uname):
    def op(self):
        import cupy
        return getattr(cupy, uname)(self)
    return op


for _d, _u in (("neg", "negative"), ("pos", "positive"),
               ("abs", "absolute"), ("invert", "invert")):
    setattr(ndarray, f"__{_d}__", _unop(_u))

del operator
ndarray.__module__ = "cupy"
