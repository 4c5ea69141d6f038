"""`gkeras.mixed_precision`: Keras's legacy names for dtype policies.

`set_global_policy("mixed_float16")` (or `"mixed_bfloat16"`) makes layers
compute in half precision with float32 variables; `Model.compile` then
wraps the optimizer in a `LossScaleOptimizer` (float16 only).
"""

from gkeras.dtype_policies.dtype_policy import DTypePolicy  # noqa: F401
from gkeras.dtype_policies.dtype_policy import DTypePolicy as Policy  # noqa
from gkeras.dtype_policies.dtype_policy import (  # noqa: F401
    dtype_policy, set_dtype_policy)
from gkeras.dtype_policies.dtype_policy import \
    dtype_policy as global_policy  # noqa: F401
from gkeras.dtype_policies.dtype_policy import \
    set_dtype_policy as set_global_policy  # noqa: F401


def __getattr__(name):
    # The optimizer loads with the optimizers package, on first use.
    if name == "LossScaleOptimizer":
        from gkeras.optimizers.loss_scale_optimizer import LossScaleOptimizer
        return LossScaleOptimizer
    raise AttributeError(
        f"module 'gkeras.mixed_precision' has no attribute {name!r}")


__all__ = ["DTypePolicy", "Policy", "dtype_policy", "global_policy",
           "set_dtype_policy", "set_global_policy", "LossScaleOptimizer"]
