"""cuBLAS math mode: TensorFloat-32 on or off for float32 GEMMs.

CuPy chooses the compute type of its float32 GEMMs (`cupy.matmul`, which
the convolutions use too) from `CUPY_TF32` the first time it needs it, and
afterwards from a per-dtype setting; both are set here so the switch works
before and after CuPy's first GEMM.
"""

import os

import numpy as np

# CuPy's cuBLAS compute types (cupy/_core/_routines_linalg.pxd).
_COMPUTE_TYPE_DEFAULT = 1
_COMPUTE_TYPE_TF32 = 7


def apply_tf32(enabled):
    """Sets CuPy's float32 GEMM compute type to TF32 (`enabled`, on compute
    capability 8.0+) or to the default full-float32 mode.

    Args:
        enabled: bool.

    Returns:
        True when TF32 is now in effect, False otherwise.
    """
    os.environ["CUPY_TF32"] = "1" if enabled else "0"
    try:
        import cupy
        from cupy._core import _routines_linalg as linalg
        cc = int(cupy.cuda.Device().compute_capability)
    except Exception:  # no CuPy, no device: CUPY_TF32 covers a later start
        return False
    on = bool(enabled) and cc >= 80
    mode = (getattr(linalg, "COMPUTE_TYPE_TF32", _COMPUTE_TYPE_TF32) if on
            else getattr(linalg, "COMPUTE_TYPE_DEFAULT",
                         _COMPUTE_TYPE_DEFAULT))
    linalg.set_compute_type(np.float32, mode)
    return on
