"""Element types of the GPU kernels: float32, float16 and bfloat16.

Every kernel family of `kernels/` has its float32 entry points (`<name>_f32`,
or a plain `<name>` in the families that predate the 16-bit ones: softmax,
layer norm, attention, LSTM/GRU) and `<name>_f16` / `<name>_bf16` twins
from one templated source (`kernels/half.cuh`): the 16-bit ones load
float16 / bfloat16, compute and accumulate in float32 and round once when
they store. The wrappers pick the entry point from the dtype of the main
input array:

| input dtype | kernels  | result dtype                                  |
|-------------|----------|-----------------------------------------------|
| float32     | float32  | float32                                       |
| float16     | `_f16`   | float16                                       |
| bfloat16    | `_bf16`  | bfloat16                                      |
| float64     | float32  | as before these twins: conv, pooling and batch |
|             |          | norm cast back to float64, the others float32 |

Other operands (kernels, gammas, ...) are cast to the main input's type, as
Keras's autocasting has already done under a mixed policy.

GEMMs (`matmul` below) take 16-bit inputs and accumulate in float32: on the
GPU through cuBLAS (CuPy's float16 GEMM compute type is set to float32
explicitly, so tensor cores are used with float32 accumulation); in the CUDA
emulator through NumPy in float32, rounded once, which is what cuBLAS
computes up to summation order.

bfloat16 and the architecture: the bfloat16 kernels run on every GPU gkeras
supports (conversions round in integer arithmetic before sm_80, which has
no bfloat16 instructions; `half.cuh`), but cuBLAS has no bfloat16 GEMM
before sm_80, so on sm_70/sm_75 bfloat16 GEMMs are computed in float32 and
rounded to bfloat16 (same results, no tensor-core speed-up).

What stays float32 whatever the input: batch-norm and layer-norm
statistics, gamma/beta and their gradients; attention's row log-sum-exp
and delta; optimizer variables and slots (master weights); every
accumulator inside a kernel. Scatter-add in 16 bits sums each segment in
float32 and rounds once (NumPy's add.at rounds every addition).
Recurrent steps (LSTM/GRU) keep 16-bit state buffers and compute each
step in float32; bfloat16 sequences before sm_80 run on the float32 step
kernels (`rnn.py`).

Kernel sources: `kernels/half.cuh` (included by every family; inlined by
`kernel_source.read_kernel` for NVRTC); the 16-bit twins are compiled only
into a module of their own type (`_module.options_for`).

Importable without CuPy.
"""

import numpy as np

__all__ = ["kernel_dtype", "suffix", "entry", "is_half", "as_kernel",
           "matmul", "tolerance", "SUFFIXES", "BF16_GEMM_MIN_CC"]

SUFFIXES = {"float32": "f32", "float16": "f16", "bfloat16": "bf16"}
BF16_GEMM_MIN_CC = 80

# CuPy's cuBLAS compute types (cupy/_core/_routines_linalg.pxd).
_COMPUTE_TYPE_FP32 = 4


def _name(dtype):
    return np.dtype(dtype).name if not hasattr(dtype, "name") else dtype.name


def kernel_dtype(xp, dtype):
    """Returns the dtype the kernels run in for an input of `dtype`.

    Args:
        xp: the array module (NumPy in the emulator, CuPy on the GPU).
        dtype: the main input's dtype.

    Returns:
        `dtype` itself for float16 and bfloat16, else `xp.float32`.
    """
    if _name(dtype) in ("float16", "bfloat16"):
        return dtype
    return np.dtype(xp.float32)


def suffix(dtype):
    """`"f32"`, `"f16"` or `"bf16"`: the entry-point suffix for kernel
    dtype `dtype` (from `kernel_dtype`).

    Raises:
        TypeError: for a dtype the kernels do not take.
    """
    name = _name(dtype)
    if name not in SUFFIXES:
        raise TypeError(f"the GPU kernels take float32, float16 or bfloat16 "
                        f"arrays; got dtype {name}")
    return SUFFIXES[name]


def entry(name, dtype, f32_suffix=True):
    """`name + "_" + suffix(dtype)`, e.g. `entry("im2col", float16)` is
    `"im2col_f16"`. With `f32_suffix=False` the float32 entry point is
    `name` itself (families whose float32 names predate the 16-bit ones:
    softmax, layernorm, attention, LSTM/GRU steps)."""
    sfx = suffix(dtype)
    if sfx == "f32" and not f32_suffix:
        return name
    return f"{name}_{sfx}"


def is_half(dtype):
    """True for float16 and bfloat16."""
    return _name(dtype) in ("float16", "bfloat16")


def as_kernel(xp, a, dtype):
    """`a` as a C-contiguous array of `dtype` (no copy when it already is);
    None stays None."""
    if a is None:
        return None
    return xp.ascontiguousarray(a, dtype=dtype)


def tolerance(dtype):
    """Relative tolerance of a kernel result in `dtype` against the float32
    path: 16-bit inputs rounded, float32 arithmetic, one rounding of the
    output, so a few units in the last place of the format (float16 has 11
    significant bits, bfloat16 8). The tests use these numbers."""
    return {"float16": 1e-2, "bfloat16": 5e-2}.get(_name(dtype), 1e-5)


_FP16_GEMM_SET = []


def _set_fp16_gemm_fp32_accumulate():
    """Asks CuPy for float32 accumulation in its float16 GEMMs (once)."""
    if _FP16_GEMM_SET:
        return
    _FP16_GEMM_SET.append(True)
    try:
        from cupy._core import _routines_linalg as linalg
        linalg.set_compute_type(np.float16, getattr(
            linalg, "COMPUTE_TYPE_FP32", _COMPUTE_TYPE_FP32))
    except Exception:  # a CuPy without the switch: its default applies
        pass


def matmul(rt, a, b):
    """`a @ b` (batched like `xp.matmul`) with float32 accumulation; the
    result has `a`'s dtype.

    Args:
        rt: the kernel runtime (`launch.CupyRuntime` or the emulator's).
        a, b: arrays of the same dtype (float32, float16 or bfloat16).

    Returns:
        The product, in `a.dtype`.
    """
    xp = rt.xp
    dt = a.dtype
    if not is_half(dt):
        return xp.matmul(a, b)
    if xp is np:
        # The emulator: float32 products and sums, one rounding, as cuBLAS
        # with a float32 compute type.
        return np.matmul(a.astype(np.float32), b.astype(np.float32)).astype(dt)
    if _name(dt) == "float16":
        _set_fp16_gemm_fp32_accumulate()
        return xp.matmul(a, b)
    cc = getattr(rt, "compute_capability", 0)
    if cc >= BF16_GEMM_MIN_CC:
        return xp.matmul(a, b)
    return xp.matmul(a.astype(xp.float32), b.astype(xp.float32)).astype(dt)
