"""`gkeras.distillation`: not supported (Keras's `keras.distillation`).

Issue 17 leaves it out; Keras's names are here as stand-ins that raise a
NotImplementedError saying why."""

from gkeras.utils.unsupported import unsupported_class, unsupported_function

_NAMES = [
    "DistillationLoss", "Distiller", "FeatureDistillation",
    "LogitsDistillation",
]

for _name in _NAMES:
    _make = unsupported_class if _name[:1].isupper() else \
        unsupported_function
    globals()[_name] = _make(f"gkeras.distillation.{_name}", "distillation")
del _make
del _name

__all__ = list(_NAMES)
