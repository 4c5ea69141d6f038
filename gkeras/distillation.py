"""`gkeras.distillation`: not supported (Keras's `keras.distillation`; issue 17 leaves it
out). Every name raises a NotImplementedError saying why."""

from gkeras.utils.unsupported import UnsupportedModule as _Unsupported

_MODULE = _Unsupported("gkeras.distillation", "distillation")


def __getattr__(name):
    return getattr(_MODULE, name)
