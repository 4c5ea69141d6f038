"""Layer normalization primitives (NumPy side).

Keras 3 `LayerNormalization` semantics, on a 2-D `(M, C)` input whose rows
are normalised (the caller flattens the normalised axes last):

- default: `y = (x - mean) * rsqrt(var + epsilon) * gamma + beta`, biased
  variance (`ops.moments`);
- `rms_scaling=True`: `y = x * rsqrt(var + epsilon) * gamma`, with `var`
  the (mean-centred, biased) variance `ops.var(x)` and `x` *not* centred:
  Keras 3's formula (keras/src/layers/normalization/layer_normalization.py).
  `beta` is added when given (Keras passes none).

`backend.gpu.layernorm` exports the same names with the same signatures.
"""

import numpy as np

__all__ = ["layernorm_forward", "layernorm_backward"]


def check_layernorm_args(x, gamma, beta, op="layernorm_forward"):
    """Validates shapes; returns (M, C)."""
    if x.ndim != 2:
        raise ValueError(f"{op}: `x` must be 2-D (rows, normalized size); "
                         "flatten the normalized axes last. Received: "
                         f"x.shape={tuple(x.shape)}")
    M, C = x.shape
    for name, a in (("gamma", gamma), ("beta", beta)):
        if a is not None and tuple(a.shape) != (C,):
            raise ValueError(f"{op}: `{name}` must have shape ({C},) to match "
                             f"x.shape={tuple(x.shape)}. Received: "
                             f"{name}.shape={tuple(a.shape)}")
    if C == 0:
        raise ValueError(f"{op}: cannot normalize rows of size 0. Received: "
                         f"x.shape={tuple(x.shape)}")
    return M, C


def layernorm_forward(x, gamma=None, beta=None, epsilon=1e-3,
                      rms_scaling=False):
    """Layer normalization over the rows of `x`, forward.

    Args:
        x: `(M, C)` float array.
        gamma: optional `(C,)` scale.
        beta: optional `(C,)` offset.
        epsilon: added to the variance.
        rms_scaling: Keras's `rms_scaling` formula (module docstring).

    Returns:
        `(y, mean, inv_std)`: `y` `(M, C)`; `mean` and
        `inv_std = rsqrt(var + epsilon)` `(M,)` (both kept for backward;
        with `rms_scaling` the mean is still the row mean, used by the
        variance gradient).

    Example:

    >>> x = np.random.rand(4, 16).astype("float32")
    >>> y, mean, inv_std = layernorm_forward(x, epsilon=1e-3)
    >>> y.shape, mean.shape
    ((4, 16), (4,))
    """
    check_layernorm_args(x, gamma, beta)
    mean = x.mean(axis=1)
    xc = x - mean[:, None]
    var = np.mean(xc * xc, axis=1)
    inv_std = 1.0 / np.sqrt(var + x.dtype.type(epsilon))
    inv_std = inv_std.astype(x.dtype, copy=False)
    if rms_scaling:
        y = x * inv_std[:, None]
    else:
        y = xc * inv_std[:, None]
    if gamma is not None:
        y *= gamma
    if beta is not None:
        y += beta
    return y, mean, inv_std


def layernorm_backward(dy, x, gamma, mean, inv_std, rms_scaling=False):
    """Layer normalization, backward.

    Args:
        dy: `(M, C)` gradient with respect to `y`.
        x: the forward input.
        gamma: the forward `gamma` (or None).
        mean, inv_std: as returned by `layernorm_forward`.
        rms_scaling: as in the forward.

    Returns:
        `(dx, dgamma, dbeta)`: `dgamma` is None when `gamma` is None;
        `dbeta = dy.sum(0)` always (ignore it when there was no beta).
    """
    M, C = check_layernorm_args(x, gamma, None, "layernorm_backward")
    if dy.shape != x.shape:
        raise ValueError("layernorm_backward: `dy` must have the shape of "
                         f"`x` {tuple(x.shape)}. Received: "
                         f"dy.shape={tuple(dy.shape)}")
    r = inv_std[:, None]
    xc = x - mean[:, None]
    g = dy * gamma if gamma is not None else dy
    if rms_scaling:
        dgamma = np.sum(dy * x * r, axis=0) if gamma is not None else None
        dx = r * g - (r * r * r) * xc * (np.sum(g * x, axis=1,
                                                keepdims=True) / C)
    else:
        xhat = xc * r
        dgamma = np.sum(dy * xhat, axis=0) if gamma is not None else None
        dx = r * (g - np.mean(g, axis=1, keepdims=True)
                  - xhat * np.mean(g * xhat, axis=1, keepdims=True))
    return dx, dgamma, np.sum(dy, axis=0)
