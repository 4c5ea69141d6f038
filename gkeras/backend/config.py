"""Global numeric settings: float type, fuzz factor, image data format.

These mirror `keras.config` (Keras 3) and the Keras-2 `keras.backend`
getters/setters of the same names.
"""

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_VALID_FLOATX = ("bfloat16", "float16", "float32", "float64")


def floatx():
    """Returns the default float type, as a string (e.g. `"float32"`).

    Returns:
        The current default float type.

    Example:
    >>> gkeras.config.floatx()
    'float32'
    """
    return _FLOATX


def set_floatx(value):
    """Sets the default float type.

    Args:
        value: One of `"bfloat16"` (on the CPU, via `ml_dtypes`),
            `"float16"`, `"float32"`, `"float64"`.
    """
    global _FLOATX
    value = str(value)
    if value not in _VALID_FLOATX:
        raise ValueError(
            f"Unknown `floatx` value: {value!r}. Expected one of "
            f"{list(_VALID_FLOATX)}.")
    if value == "bfloat16":
        from gkeras.backend import bfloat16
        bfloat16()  # registers the dtype name with NumPy (ml_dtypes)
    _FLOATX = value


def epsilon():
    """Returns the fuzz factor used in numeric expressions (default 1e-7)."""
    return _EPSILON


def set_epsilon(value):
    """Sets the fuzz factor used in numeric expressions.

    Args:
        value: A float.
    """
    global _EPSILON
    _EPSILON = float(value)


def image_data_format():
    """Returns the default image data format: `"channels_last"` or
    `"channels_first"`."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format):
    """Sets the default image data format.

    Args:
        data_format: `"channels_last"` or `"channels_first"`.
    """
    global _IMAGE_DATA_FORMAT
    data_format = str(data_format).lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of 'channels_first', "
            f"'channels_last'. Received: data_format={data_format!r}")
    _IMAGE_DATA_FORMAT = data_format


def standardize_data_format(data_format):
    """Returns `data_format` validated, or the global default when None."""
    if data_format is None:
        return image_data_format()
    data_format = str(data_format).lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of 'channels_first', "
            f"'channels_last'. Received: data_format={data_format!r}")
    return data_format


# TensorFloat-32 for float32 GEMMs (and the convolutions, which are im2col
# + GEMM on the GPU). Off by default: gkeras promises the same numbers on
# the GPU as on the CPU within float32 tolerance, and TF32 keeps only 10
# mantissa bits of each product's inputs (~1e-3 relative error). Turn it on
# for speed on Ampere and newer (TensorFlow/Keras do by default; PyTorch
# does not for matmul). GKERAS_TF32=1 turns it on at startup.
_TF32 = [None]


def tensor_float_32_execution_enabled():
    """Returns whether TensorFloat-32 is allowed for float32 GEMMs and
    convolutions on the GPU (`GKERAS_TF32`, default off)."""
    if _TF32[0] is None:
        import os
        _TF32[0] = os.environ.get("GKERAS_TF32", "0").strip().lower() in (
            "1", "true", "yes", "on")
    return _TF32[0]


def enable_tensor_float_32_execution(enabled):
    """Allows or forbids TensorFloat-32 for float32 GEMMs and convolutions.

    TF32 runs float32 matrix products on the tensor cores of Ampere and
    newer GPUs (compute capability 8.0+) with 10-bit mantissa inputs:
    several times faster, ~1e-3 relative error. gkeras keeps it off by
    default so that GPU results match the CPU within float32 tolerance.
    On CuPy this sets cuBLAS's float32 compute type (and `CUPY_TF32` for
    CuPy's own later reads); on older GPUs and on the CPU it has no effect.

    Args:
        enabled: bool.

    Example:

    >>> gkeras.config.enable_tensor_float_32_execution(True)
    >>> gkeras.config.tensor_float_32_execution_enabled()
    True
    """
    _TF32[0] = bool(enabled)
    import sys
    if "cupy" in sys.modules:  # otherwise applied when CuPy is chosen
        from gkeras.backend.gpu.math_mode import apply_tf32
        apply_tf32(_TF32[0])


# The global dtype policy (`gkeras.config.set_dtype_policy`); None means a
# float policy of `floatx()`. Kept here, beside floatx, so that
# `clear_session` can reset it as Keras's does.
_DTYPE_POLICY = [None]
