"""`cupyx.scipy.ndimage` of the stand-in: CuPy's names and signatures,
SciPy's math."""

from cupy import _api
from cupy._ndarray import ndarray, call as _call


def __getattr__(name):
    if _api.entry("cupyx.scipy.ndimage", name) is None:
        raise AttributeError(f"module 'cupyx.scipy.ndimage' has no "
                             f"attribute '{name}'")
    import scipy.ndimage
    f = getattr(scipy.ndimage, name)

    def fn(*args, **kwargs):
        _api.bind("cupyx.scipy.ndimage", name, args, kwargs)
        out = kwargs.get("output")
        if type(out) is ndarray:
            host_out = out._a
            kwargs = {k: v for k, v in kwargs.items() if k != "output"}
            _call(lambda *a, **k: f(*a, output=host_out, **k),
                  f"cupyx.scipy.ndimage.{name}", args, kwargs)
            return out
        return _call(f, f"cupyx.scipy.ndimage.{name}", args, kwargs)
    fn.__name__ = name
    globals()[name] = fn
    return fn
