"""Helpers shared by the optimizer implementations."""

import numpy as np

from gkeras import backend


def xp_of(a):
    """numpy for NumPy arrays, cupy for CuPy arrays (fast path for NumPy)."""
    return np if type(a) is np.ndarray else backend.get_array_module(a)


def update_moments(xp, g, m, v, tmp, beta_1, beta_2):
    """Adam's moment updates in place: `m += (g - m) (1 - beta_1)`,
    `v += (g^2 - v) (1 - beta_2)` (`tmp`: scratch shaped like `g`)."""
    xp.subtract(g, m, out=tmp)
    tmp *= 1.0 - beta_1
    m += tmp
    xp.multiply(g, g, out=tmp)
    tmp -= v
    tmp *= 1.0 - beta_2
    v += tmp


BASE_KWARGS_DOC = """weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema,
        ema_momentum, ema_overwrite_frequency, loss_scale_factor,
        gradient_accumulation_steps, name: see `Optimizer`."""
