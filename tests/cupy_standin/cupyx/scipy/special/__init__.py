"""`cupyx.scipy.special` of the stand-in: CuPy's names, SciPy's math."""

from cupy import _api
from cupy._ndarray import call as _call


def __getattr__(name):
    if _api.entry("cupyx.scipy.special", name) is None:
        raise AttributeError(f"module 'cupyx.scipy.special' has no "
                             f"attribute '{name}'")
    import scipy.special
    f = getattr(scipy.special, name)

    def fn(*args, **kwargs):
        if _api.is_ufunc("cupyx.scipy.special", name):
            bad = set(kwargs) - set(_api.UFUNC_KWARGS)
            if bad:
                raise TypeError(f"Wrong arguments {kwargs}")
        else:
            _api.bind("cupyx.scipy.special", name, args, kwargs)
        return _call(f, f"cupyx.scipy.special.{name}", args, kwargs)
    fn.__name__ = name
    globals()[name] = fn
    return fn
