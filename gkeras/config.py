"""`gkeras.config`: global settings (Keras 3 names)."""

from gkeras.backend import backend  # noqa: F401
from gkeras.backend.config import (  # noqa: F401
    epsilon, floatx, image_data_format, set_epsilon, set_floatx,
    set_image_data_format, enable_tensor_float_32_execution,
    tensor_float_32_execution_enabled,
)
from gkeras.dtype_policies.dtype_policy import (  # noqa: F401
    dtype_policy, set_dtype_policy)

from gkeras.backend.global_settings import (  # noqa: F401
    disable_flash_attention, disable_interactive_logging,
    disable_traceback_filtering, enable_flash_attention,
    enable_interactive_logging, enable_traceback_filtering,
    is_flash_attention_enabled, is_interactive_logging_enabled,
    is_traceback_filtering_enabled, max_epochs, max_steps_per_epoch,
    set_max_epochs, set_max_steps_per_epoch,
)

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


def set_backend(backend):
    """Not supported: gkeras has one array backend per process, chosen by
    the `GKERAS_BACKEND` environment variable (`numpy` or `cupy`)."""
    raise NotImplementedError(
        "gkeras.config.set_backend: gkeras is not multi-backend Keras; its "
        "array backend (NumPy or CuPy) is chosen once per process by the "
        "GKERAS_BACKEND environment variable (auto, numpy, cupy). Received "
        f"backend={backend!r}.")


def is_nnx_enabled():
    """Always False: Flax NNX is a JAX-backend feature gkeras does not
    have."""
    return False
