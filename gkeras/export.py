"""`gkeras.export`: not supported (Keras's `keras.export`; issue 17 leaves it
out). Every name raises a NotImplementedError saying why."""

from gkeras.utils.unsupported import UnsupportedModule as _Unsupported

_MODULE = _Unsupported("gkeras.export", "export")


def __getattr__(name):
    return getattr(_MODULE, name)
