"""The backend abstraction: which array module runs the math.

`GKERAS_BACKEND` chooses, once per process, at first use:

- `auto` (default): CuPy when it imports, a CUDA device is visible and a
  probe kernel compiles and runs (`gpu/probe.py`), NumPy otherwise (with a
  one-line warning when a GPU was seen but could not be used);
- `numpy`: always NumPy (CPU);
- `cupy`: CuPy, or a clear error saying why it cannot be used.

Everything above this package is written against `xp` (the chosen array
module), or picks the module from its input arrays with
`get_array_module`, so the same code runs on NumPy and CuPy. The heavy
primitives (convolution, pooling, recurrent steps, attention,
normalization) live in `backend.cpu` (NumPy) and `backend.gpu` (CuPy +
the CUDA kernels of `kernels/`), which export the same names.

This module also serves the Keras-2 style `import gkeras.backend as K`
helpers (`K.floatx()`, `K.epsilon()`, `K.clear_session()`, ...).
"""

import os

import numpy as np

from gkeras.backend.config import (  # noqa: F401  (public re-exports)
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
    standardize_data_format,
    enable_tensor_float_32_execution,
    tensor_float_32_execution_enabled,
)

from gkeras.backend.dtypes import is_int_dtype, result_type  # noqa: F401

_BACKEND = None  # "numpy" | "cupy", decided on first use
_CUPY = None
# Why `auto` fell back to NumPy although CuPy saw a GPU (None otherwise).
FALLBACK_REASON = None


def _cupy_or_reason():
    """Returns (cupy module, None) or (None, why CuPy cannot be used)."""
    try:
        import cupy  # the only import of CuPy outside backend/gpu
    except Exception as e:  # ImportError, or a broken CUDA install
        return None, f"CuPy could not be imported ({type(e).__name__}: {e})"
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:
        return None, ("CuPy is installed but no CUDA device could be "
                      f"queried ({type(e).__name__}: {e})")
    if n < 1:
        return None, "CuPy is installed but no CUDA device is visible"
    return cupy, None


def _choose():
    global _BACKEND, _CUPY, FALLBACK_REASON
    want = os.environ.get("GKERAS_BACKEND", "auto").strip().lower() or "auto"
    if want not in ("auto", "numpy", "cupy"):
        raise ValueError(
            f"GKERAS_BACKEND={want!r} is not a known backend. Expected one "
            "of 'auto', 'numpy', 'cupy'.")
    if want == "numpy":
        _BACKEND = "numpy"
        return
    cupy, why = _cupy_or_reason()
    if cupy is None:
        if want == "cupy":
            raise RuntimeError(
                f"GKERAS_BACKEND='cupy' was asked for, but {why}. Install "
                "the GPU extra (`pip install gkeras[gpu]` for CUDA 12, "
                "`gkeras[gpu-cuda13]` for CUDA 13) on a machine with an "
                "NVIDIA GPU, or set GKERAS_BACKEND=numpy.")
        _BACKEND = "numpy"
        return
    # CuPy imports and sees a GPU; make sure it can also compile and run
    # a kernel (NVRTC present and new enough for the driver), once.
    from gkeras.backend.gpu.probe import probe_kernels
    why = probe_kernels()
    if why is not None:
        if want == "cupy":
            raise RuntimeError(
                "GKERAS_BACKEND='cupy' was asked for, but CuPy cannot "
                f"compile or run gkeras's CUDA kernels on this machine: {why}."
                " Install the GPU extra (`pip install gkeras[gpu]`, which "
                "brings NVRTC, cuBLAS and cuRAND), check with `python -m "
                "gkeras.backend.check`, or set GKERAS_BACKEND=numpy.")
        FALLBACK_REASON = why
        import warnings
        warnings.warn(
            f"gkeras: CuPy sees a GPU but cannot run gkeras's CUDA kernels "
            f"({why}); using the NumPy backend (CPU). Details: python -m "
            "gkeras.backend.check", RuntimeWarning, stacklevel=3)
        _BACKEND = "numpy"
        return
    _BACKEND, _CUPY = "cupy", cupy
    from gkeras.backend.gpu.math_mode import apply_tf32
    apply_tf32(tensor_float_32_execution_enabled())


def backend():
    """Returns the name of the array backend in use.

    Returns:
        `"numpy"` (CPU) or `"cupy"` (NVIDIA GPU).

    Example:
    >>> gkeras.backend.backend()
    'numpy'
    """
    if _BACKEND is None:
        _choose()
    return _BACKEND


def get_xp():
    """Returns the array module of the chosen backend (numpy or cupy)."""
    return _CUPY if backend() == "cupy" else np


def is_cupy_array(x):
    """True when `x` is a CuPy ndarray (without importing CuPy)."""
    return type(x).__module__.startswith("cupy")


def get_array_module(*arrays):
    """Returns numpy or cupy, whichever owns the given arrays.

    Like `cupy.get_array_module`: an op chooses its module from its inputs,
    never from a global flag in the middle of a step.
    """
    for a in arrays:
        if is_cupy_array(a):
            import cupy
            return cupy
    return np


def kernels_for(*arrays):
    """Returns the module of heavy primitives for these arrays.

    `backend.cpu` for NumPy arrays, `backend.gpu` for CuPy arrays; both
    export the same function names and signatures.
    """
    for a in arrays:
        if is_cupy_array(a):
            from gkeras.backend import gpu
            return gpu
    from gkeras.backend import cpu
    return cpu


def to_numpy(x):
    """Returns `x` as a NumPy array (copying from the GPU when needed)."""
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        return x.numpy()
    if is_cupy_array(x):
        return x.get()
    return np.asarray(x)


def to_device(x, dtype=None):
    """Returns `x` as an array of the chosen backend (moved to the GPU when
    the backend is CuPy), cast to `dtype` when given."""
    xp = get_xp()
    if xp is np:
        if is_cupy_array(x):
            x = x.get()
        return np.asarray(x, dtype=dtype)
    return xp.asarray(x, dtype=dtype)


# dtype / dtype class / string -> name. NumPy computes `dtype.name` in
# Python (~2 us); ops ask for it several times per call.
_DTYPE_NAMES = {}


def standardize_dtype(dtype):
    """Returns a dtype name (`"float32"`, `"int32"`, `"bfloat16"`, ...)."""
    if dtype is None:
        return floatx()
    cacheable = type(dtype) is str or isinstance(dtype, (np.dtype, type))
    if cacheable:
        name = _DTYPE_NAMES.get(dtype)
        if name is not None:
            return name
    name = _standardize_dtype(dtype)
    if cacheable:
        _DTYPE_NAMES[dtype] = name
    return name


def _standardize_dtype(dtype):
    if isinstance(dtype, str) and dtype == "bfloat16":
        bfloat16()  # NumPy knows the name once ml_dtypes is imported
        return dtype
    if hasattr(dtype, "name") and not isinstance(dtype, str):
        return str(dtype.name) if hasattr(dtype, "itemsize") else \
            np.dtype(dtype).name
    return np.dtype(dtype).name


def bfloat16():
    """The NumPy bfloat16 dtype, from the `ml_dtypes` package.

    NumPy has no bfloat16 of its own; `ml_dtypes` (a gkeras dependency)
    registers one. CuPy has none: GPU code must not ask for it.

    Returns:
        `numpy.dtype("bfloat16")`.
    """
    try:
        import ml_dtypes
    except ImportError:
        raise ImportError(
            "bfloat16 on the CPU needs the `ml_dtypes` package (a gkeras "
            "dependency): pip install ml_dtypes") from None
    return np.dtype(ml_dtypes.bfloat16)


_HALF_NAMES = ("float16", "bfloat16")


def is_float_dtype(dtype):
    """Whether `dtype` (a dtype or its name) is a floating dtype.

    Unlike `dtype.kind == "f"`, this knows bfloat16 (kind `"V"` in
    NumPy).
    """
    name = dtype if isinstance(dtype, str) else getattr(dtype, "name", None)
    if name is None:
        name = standardize_dtype(dtype)
    return name.startswith("float") or name == "bfloat16"


def is_half_dtype(dtype):
    """Whether `dtype` is float16 or bfloat16."""
    name = dtype if isinstance(dtype, str) else getattr(dtype, "name", "")
    return name in _HALF_NAMES


def to_dtype(dtype):
    """The array dtype object of a dtype name (`"bfloat16"` included)."""
    if isinstance(dtype, str) and dtype == "bfloat16":
        return bfloat16()
    return np.dtype(dtype)


def clear_session(free_memory=True):
    """Resets the state gkeras keeps between models.

    Automatic layer names start again from `dense`, `dense_1`... and, on
    the GPU, CuPy's memory pool is released.

    Args:
        free_memory: Also release cached GPU memory.
    """
    import sys
    from gkeras.utils import naming
    naming.reset_uids()
    from gkeras.backend import config as _config
    _config._DTYPE_POLICY[0] = None  # Keras resets the global policy too
    legacy = sys.modules.get("gkeras.legacy.backend")
    if legacy is not None:  # the Keras-2 learning phase is session state
        legacy._LEARNING_PHASE = None
    if free_memory and _BACKEND == "cupy":
        _CUPY.get_default_memory_pool().free_all_blocks()


def get_uid(prefix=""):
    """Returns 1, 2, 3... on successive calls with the same `prefix`.

    The counter is the one automatic layer names use (as in Keras), reset
    by `clear_session()`.

    Example:
    >>> gkeras.backend.get_uid("dense")
    1
    """
    from gkeras.utils import naming
    return naming.get_uid(prefix)


def _is_submodule(name):
    # `from gkeras.backend import device_checks` asks this module's
    # __getattr__ before importing the submodule: answering that from
    # gkeras.legacy.backend would import the Keras-2 helpers (and the
    # layers above them) at `import gkeras`.
    import importlib.util
    return importlib.util.find_spec(f"{__name__}.{name}") is not None


def __getattr__(name):
    # `from gkeras.backend import xp` resolves lazily so that importing
    # gkeras never imports CuPy.
    if name == "xp":
        return get_xp()
    if not name.startswith("_") and name not in ("cpu", "gpu") and \
            not _is_submodule(name):
        # The Keras-2 `K.<name>` helpers live in gkeras.legacy.backend,
        # above ops/layers/models: loaded on first use, never at import.
        import importlib
        legacy = importlib.import_module("gkeras.legacy.backend")
        if hasattr(legacy, name):
            return getattr(legacy, name)
    raise AttributeError(f"module 'gkeras.backend' has no attribute {name!r}")
