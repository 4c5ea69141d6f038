"""`gkeras.export`: not supported (Keras's `keras.export`).

Issue 17 leaves it out; Keras's names are here as stand-ins that raise a
NotImplementedError saying why."""

from gkeras.utils.unsupported import unsupported_class, unsupported_function

_NAMES = [
    "ExportArchive",
]

for _name in _NAMES:
    _make = unsupported_class if _name[:1].isupper() else \
        unsupported_function
    globals()[_name] = _make(f"gkeras.export.{_name}", "export")
del _make
del _name

__all__ = list(_NAMES)
