"""Softmax over the last axis of small arrays in one compiled call.

NumPy computes a softmax as five calls (row max, subtract, exp, row sum,
divide), each ~0.7-1 us of dispatch before any arithmetic. On the output
of a classifier (a batch of up to a few hundred rows of ~10 logits) that
dispatch is the whole cost: (1, 10) 4.7 us, against ~1 us for one
compiled loop. numba's `exp` is a scalar libm call (NumPy's is SIMD), so
past a few thousand elements NumPy's passes win and run instead.

Same rules as NumPy's passes: the row max propagates NaN (the row becomes
NaN), `+inf` gives NaN where NumPy does (`inf - inf`), `-inf` gives 0.
Results agree with the NumPy path to float32 rounding (a libm `exp`, a
sequential row sum); `jit.disabled()` or `GKERAS_CPU_JIT=0` runs NumPy.
"""

import math

import numpy as np

from gkeras.backend.cpu import jit

__all__ = ["softmax_last_axis"]

# Beyond these NumPy's SIMD exp outruns the scalar loop. Measured, 1
# thread CPU us, compiled vs NumPy (loaded machine): 1 x 10 2.1 vs 5.5,
# 32 x 10 4.8 vs 9.3, 256 x 10 20.9 vs 35.8 (short rows make NumPy's
# reductions slow), 64 x 32 17.3 vs 20.4, 16 x 128 16.6 vs 13.3,
# 4 x 1000 23.8 vs 11.5.
MAX_ELEMENTS = 1024
MAX_ELEMENTS_SHORT_ROWS = 4096   # rows of at most SHORT_ROW elements
SHORT_ROW = 32
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@jit.kernel(error_model="numpy")
def _softmax_rows(x, out):
    n = x.shape[1]
    for i in range(x.shape[0]):
        xr, orow = x[i], out[i]
        m = xr[0]
        for j in range(1, n):
            v = xr[j]
            # `v > m` is False for NaN: test it apart, as np.max does.
            if v > m or v != v:
                m = v
            if m != m:
                break
        # The sum starts from the first term: it has the rows' dtype.
        s = math.exp(xr[0] - m)
        orow[0] = s
        for j in range(1, n):
            e = math.exp(xr[j] - m)
            orow[j] = e
            s += e
        for j in range(n):
            orow[j] = orow[j] / s


def softmax_last_axis(x):
    """Softmax over the last axis of a small float array, compiled.

    Args:
        x: NumPy array.

    Returns:
        A new array like `x`, or None where NumPy's passes should run (no
        JIT, another dtype or array type, not C-contiguous, empty, or
        larger than `MAX_ELEMENTS`, or `MAX_ELEMENTS_SHORT_ROWS` for rows
        of at most `SHORT_ROW`).
    """
    if type(x) is not np.ndarray or x.ndim == 0 or not 0 < x.size <= (
            MAX_ELEMENTS_SHORT_ROWS if x.shape[-1] <= SHORT_ROW
            else MAX_ELEMENTS) or x.dtype not in _DTYPES or \
            not x.flags.c_contiguous or not jit.enabled():
        return None
    out = np.empty_like(x)
    _softmax_rows(x.reshape(-1, x.shape[-1]), out.reshape(-1, x.shape[-1]))
    return out
