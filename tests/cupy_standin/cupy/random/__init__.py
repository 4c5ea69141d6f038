"""`cupy.random` of the stand-in.

`default_rng()` returns a `Generator` with only the methods CuPy's has
(CuPy's Generator has no `normal`, `choice`, `permutation`...), drawing
from NumPy's PCG64 on the host and handing out device arrays. The legacy
module functions use a NumPy `RandomState`. Streams differ from CuPy's
cuRAND streams: tests compare statistics, not values.
"""

import numpy as _numpy

import standin_counters as _sc
from cupy import _api
from cupy._ndarray import ndarray, unwrap as _unwrap


def _dev(x):
    _sc.record("op", "random")
    return ndarray._wrap(_numpy.asarray(x))


class BitGenerator:
    def __init__(self, seed=None):
        self._seed = seed


class XORWOW(BitGenerator):
    pass


class MRG32k3a(BitGenerator):
    pass


class Philox4x3210(BitGenerator):
    pass


class Generator:
    """CuPy's `cupy.random.Generator`: only its methods exist."""

    def __init__(self, bit_generator):
        if not isinstance(bit_generator, BitGenerator):
            raise TypeError("bit_generator must be a cupy.random."
                            "BitGenerator")
        self.bit_generator = bit_generator
        self._g = _numpy.random.default_rng(bit_generator._seed)

    def __getattr__(self, name):
        e = _api.entry("cupy.random.Generator", name)
        if e is None or name.startswith("_"):
            raise AttributeError(f"'cupy.random._generator_api.Generator' "
                                 f"object has no attribute '{name}'")
        npf = getattr(self._g, name)

        def method(*args, **kwargs):
            _api.bind("cupy.random.Generator", name, args, kwargs)
            out = kwargs.pop("out", None)
            args = [_unwrap(a) for a in args]
            kwargs = {k: _unwrap(v) for k, v in kwargs.items()}
            if "dtype" in kwargs and name in ("uniform", "beta"):
                dt = kwargs.pop("dtype")
                r = _numpy.asarray(npf(*args, **kwargs)).astype(dt)
            else:
                r = npf(*args, **kwargs)
            if out is not None:
                out._a[...] = r
                return out
            return _dev(r)
        return method


def default_rng(seed=None):
    if isinstance(seed, Generator):
        return seed
    if isinstance(seed, BitGenerator):
        return Generator(seed)
    if type(seed) is ndarray or isinstance(seed, _numpy.ndarray):
        raise TypeError("cupy stand-in: array seeds are not emulated")
    return Generator(XORWOW(seed))


_STATE = [_numpy.random.RandomState()]


def seed(seed=None):
    _STATE[0] = _numpy.random.RandomState(seed)


def _legacy(name):
    def fn(*args, **kwargs):
        _api.bind("cupy.random", name, args, kwargs)
        dtype = kwargs.pop("dtype", None)
        args = [_unwrap(a) for a in args]
        r = getattr(_STATE[0], name)(*args, **kwargs)
        r = _numpy.asarray(r)
        if dtype is not None:
            r = r.astype(dtype)
        return _dev(r)
    fn.__name__ = name
    return fn


def __getattr__(name):
    e = _api.entry("cupy.random", name)
    if e is None or not hasattr(_numpy.random.RandomState, name):
        raise AttributeError(f"module 'cupy.random' has no attribute "
                             f"'{name}'")
    f = _legacy(name)
    globals()[name] = f
    return f
