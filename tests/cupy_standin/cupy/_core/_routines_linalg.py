"""cuBLAS compute-type switch of `cupy._core._routines_linalg`: recorded,
with no effect on the stand-in's (NumPy) GEMMs."""

import numpy

COMPUTE_TYPE_TBD = 0
COMPUTE_TYPE_DEFAULT = 1
COMPUTE_TYPE_PEDANTIC = 2
COMPUTE_TYPE_FP16 = 3
COMPUTE_TYPE_FP32 = 4
COMPUTE_TYPE_FP64 = 5
COMPUTE_TYPE_BF16 = 6
COMPUTE_TYPE_TF32 = 7

compute_types = {}


def set_compute_type(dtype, compute_type):
    compute_types[numpy.dtype(dtype).char] = compute_type


def get_compute_type(dtype):
    return compute_types.get(numpy.dtype(dtype).char, COMPUTE_TYPE_TBD)
