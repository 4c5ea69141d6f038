"""Model-level scenarios run on the NumPy backend and, in a subprocess,
on the CuPy stand-in (tests/cupy_standin), then compared
(tests/test_cupy_standin.py)."""
