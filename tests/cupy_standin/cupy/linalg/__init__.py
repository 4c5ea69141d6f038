"""`cupy.linalg` of the stand-in: CuPy's names, NumPy's math."""

import cupy as _cupy


def __getattr__(name):
    return _cupy._resolve("cupy.linalg", name, globals())
