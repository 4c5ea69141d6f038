"""Eigen's float32 rational tanh for the fused JIT kernels.

numba's scalar `tanh`/`exp` call libm and keep a loop scalar (~20x slower
per element than NumPy's SIMD `np.tanh`). This rational form (the one
Eigen and TensorFlow's CPU kernels use: clamp to +-7.905, an odd
degree-13 over an even degree-6 polynomial) is plain arithmetic, so LLVM
vectorises the loops that inline it: 2M floats 0.52-0.69 ms against
np.tanh's 0.75-0.87 ms on this machine (1 thread). Max abs error 2.7e-7
against float64 (5 ulp at |x| ~ 5, where the float32 Horner steps round;
evaluating them in float64 gives 1 ulp but was measured 3-4x slower,
slower than np.tanh), exactly +-1 beyond |x| = 9.011 and at +-inf; NaN
propagates (tests/test_lstm_jit.py). Near saturation the backward's
`1 - y^2` magnifies the error: on pre-activations of magnitude ~100 the
GRU/LSTM weight gradients are ~1e-3 (norm-relative) from float64, NumPy's
float32 path ~2e-4; at magnitude ~10, 1e-5 vs 2e-6. The kernels build the
sigmoid as `1/2 + tanh(z/2)/2`, as the NumPy paths do.

Kernels call `inlined()`'s result through a module global set before
their first compilation (numba resolves globals at compile time). numba's
disk cache keys on each kernel's own source file, so after editing THIS
file touch the kernels' modules (lstm_jit.py, gru_jit.py) or delete their
`__pycache__/*.nbi`/`*.nbc`, or the cached kernels keep the old tanh (an
installed package's files all change together, so users are not
affected).
"""

import numpy as np

from gkeras.backend.cpu import jit

__all__ = ["tanh", "inlined", "HALF", "ONE"]

_F32 = np.float32
_HI = _F32(7.90531110763549805)
_A13 = _F32(-2.76076847742355e-16)
_A11 = _F32(2.00018790482477e-13)
_A9 = _F32(-8.60467152213735e-11)
_A7 = _F32(5.12229709037114e-08)
_A5 = _F32(1.48572235717979e-05)
_A3 = _F32(6.37261928875436e-04)
_A1 = _F32(4.89352455891786e-03)
_B6 = _F32(1.19825839466702e-06)
_B4 = _F32(1.18534705686654e-04)
_B2 = _F32(2.26843463243900e-03)
_B0 = _F32(4.89352518554385e-03)
_SAT = _F32(9.010922)         # float64 tanh rounds to float32 1 beyond
HALF = _F32(0.5)
ONE = _F32(1.0)


def tanh(a):
    """float32 tanh of a scalar, in a form numba vectorises.

    Args:
        a: float32 scalar.

    Returns:
        float32, within 3e-7 of tanh(a) (5 ulp at |a| ~ 5; the
        polynomials' float32 rounding).
    """
    # On |a| (the form is odd): one clamp, one saturation and one sign
    # select per element, as comparisons so that NaN passes through.
    t = abs(a)
    x = _HI if t > _HI else t
    x2 = x * x
    p = x2 * _A13 + _A11
    p = x2 * p + _A9
    p = x2 * p + _A7
    p = x2 * p + _A5
    p = x2 * p + _A3
    p = x2 * p + _A1
    p = x * p
    q = x2 * _B6 + _B4
    q = x2 * q + _B2
    q = x2 * q + _B0
    y = p / q
    # The rational form tops out at 1 - 4 ulp; float32 tanh rounds to
    # exactly 1 past |x| = 9.0109 (and at inf).
    y = ONE if t > _SAT else y
    return -y if a < 0 else y


def inlined():
    """`tanh` compiled by numba for inlining into kernels (call only when
    `jit.enabled()`).

    Returns:
        A numba dispatcher with `inline="always"`.
    """
    return jit.inline(tanh, error_model="numpy")
