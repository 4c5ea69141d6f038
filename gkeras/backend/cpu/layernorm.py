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
    C = x.shape[1]
    # Row statistics as GEMV/einsum contractions and the affine steps in
    # place: NumPy's axis reductions and fresh temporaries cost more here
    # than the arithmetic.
    mean = x @ np.full(C, 1.0 / C, x.dtype)
    y = x - mean[:, None]
    var = np.einsum("mc,mc->m", y, y) / x.dtype.type(C)
    inv_std = 1.0 / np.sqrt(var + x.dtype.type(epsilon))
    inv_std = inv_std.astype(x.dtype, copy=False)
    if rms_scaling:
        np.multiply(x, inv_std[:, None], out=y)
    else:
        y *= inv_std[:, None]
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
    ones = np.ones(C, x.dtype)
    dbeta = np.ones(M, dy.dtype) @ dy
    g = dy * gamma if gamma is not None else dy
    if rms_scaling:
        dgamma = (np.einsum("mc,mc->c", dy, x * r)
                  if gamma is not None else None)
        xc = x - mean[:, None]
        dx = r * g - (r * r * r) * xc * (np.einsum("mc,mc->m", g, x)[:, None]
                                         / C)
        return dx, dgamma, dbeta
    xhat = x - mean[:, None]
    xhat *= r
    dgamma = np.einsum("mc,mc->c", dy, xhat) if gamma is not None else None
    # dx = r * (g - mean(g) - xhat * mean(g * xhat)), built in xhat's buffer
    a = (g @ ones) / x.dtype.type(C)
    b = np.einsum("mc,mc->m", g, xhat) / x.dtype.type(C)
    dx = xhat
    dx *= -b[:, None]
    dx += g
    dx -= a[:, None]
    dx *= r
    return dx, dgamma, dbeta
