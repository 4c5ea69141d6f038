"""`gkeras.quantizers`: not supported (Keras's `keras.quantizers`; issue 17 leaves it
out). Every name raises a NotImplementedError saying why."""

from gkeras.utils.unsupported import UnsupportedModule as _Unsupported

_MODULE = _Unsupported("gkeras.quantizers", "quantizers")


def __getattr__(name):
    return getattr(_MODULE, name)
