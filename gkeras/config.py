"""`gkeras.config`: global settings (Keras 3 names)."""

from gkeras.backend import backend  # noqa: F401
from gkeras.backend.config import (  # noqa: F401
    epsilon, floatx, image_data_format, set_epsilon, set_floatx,
    set_image_data_format, enable_tensor_float_32_execution,
    tensor_float_32_execution_enabled,
)
from gkeras.dtype_policies.dtype_policy import (  # noqa: F401
    dtype_policy, set_dtype_policy)

_DETERMINISM = [True]


def enable_unsafe_deserialization():
    """Allows loading code stored in model files (Lambda layers)."""
    from gkeras.saving import enable_unsafe_deserialization as _e
    _e()


def enable_determinism():
    """Makes every computation deterministic.

    gkeras's CUDA kernels are deterministic by default (no atomics whose
    order changes results: the optimizers' fused update and the embedding
    gradients included), and CPU runs with one seed are bit-identical;
    this switch exists for Keras compatibility and keeps that guarantee.
    TensorFloat-32 GEMMs are a separate switch
    (`enable_tensor_float_32_execution`, off by default): deterministic
    too, but they change float32 results by ~1e-3 relative.
    """
    _DETERMINISM[0] = True


def is_determinism_enabled():
    """Whether deterministic computation is on (always True in gkeras)."""
    return _DETERMINISM[0]
