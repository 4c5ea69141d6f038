"""Helpers shared by the optimizer implementations."""

import numpy as np

from gkeras import backend


def xp_of(a):
    """numpy for NumPy arrays, cupy for CuPy arrays (fast path for NumPy)."""
    return np if type(a) is np.ndarray else backend.get_array_module(a)


BASE_KWARGS_DOC = """weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema,
        ema_momentum, ema_overwrite_frequency, loss_scale_factor,
        gradient_accumulation_steps, name: see `Optimizer`."""
