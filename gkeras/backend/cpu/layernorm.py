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

With the optional JIT (`backend.cpu.jit`), float32/float64 C-contiguous
rows are normalised by compiled loops: the forward reads a row twice
(mean, then the centred variance) while it sits in cache and writes `y`
once; the backward does the two row reductions and `dx`, and sums
`dgamma`/`dbeta` in the same pass (3200 x 128, 1 thread: forward 0.62 ->
0.26 ms, backward 1.28 -> 0.32 ms). The NumPy code below is the
reference they are tested against, and the path without numba or with
`GKERAS_CPU_JIT=0`.
"""

import numpy as np

from gkeras.backend.cpu import jit
from gkeras.backend.cpu.parallel import split_rows

__all__ = ["layernorm_forward", "layernorm_backward"]

_JIT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
# Compiled row passes split over the pool only beyond this many elements:
# a hand-off costs ~0.1 ms on a 2-core machine, more than a 3200 x 128
# pass takes.
SPLIT_ELEMENTS = 1 << 22


def _jit_ok(*arrays):
    """Whether the compiled path takes these arrays (None entries skip)."""
    if not jit.enabled():
        return False
    dt = arrays[0].dtype
    return dt in _JIT_DTYPES and all(
        a is None or (type(a) is np.ndarray and a.dtype == dt
                      and a.flags.c_contiguous) for a in arrays)


def _run_rows(rows, elements, fn):
    if elements >= SPLIT_ELEMENTS:
        split_rows(rows, elements, fn)
    else:
        fn(0, rows)


def normalize_row(xr, yr, gamma, beta, has_gamma, has_beta, eps, rms,
                  inv_c):
    """`yr` = the layer normalization of the row `xr` (`yr` may be `xr`);
    returns `(mean, inv_std)`. Plain Python, compiled into the forward
    kernels (`jit.inline`): the row is read twice (mean, then the centred
    variance) while it sits in cache, and `yr` is written once."""
    C = xr.shape[0]
    s = xr[0] * 0.0
    for j in range(C):
        s += xr[j]
    m = s * inv_c
    v = s * 0.0
    for j in range(C):
        d = xr[j] - m
        v += d * d
    r = 1.0 / np.sqrt(v * inv_c + eps)
    # `rms`: Keras's formula scales the uncentred row.
    c = 0.0 if rms else m
    if has_gamma and has_beta:
        for j in range(C):
            yr[j] = (xr[j] - c) * r * gamma[j] + beta[j]
    elif has_gamma:
        for j in range(C):
            yr[j] = (xr[j] - c) * r * gamma[j]
    elif has_beta:
        for j in range(C):
            yr[j] = (xr[j] - c) * r + beta[j]
    else:
        for j in range(C):
            yr[j] = (xr[j] - c) * r
    return m, r


_normalize_row = None


def _ready():
    global _normalize_row
    if _normalize_row is None:
        _normalize_row = jit.inline(normalize_row)


@jit.kernel
def _ln_forward_rows(x, gamma, beta, has_gamma, has_beta, eps, rms, y,
                     mean, inv_std, start, stop):
    inv_c = 1.0 / x.shape[1]
    for i in range(start, stop):
        m, r = _normalize_row(x[i], y[i], gamma, beta, has_gamma, has_beta,
                              eps, rms, inv_c)
        mean[i] = m
        inv_std[i] = r


@jit.kernel
def _add_ln_rows(a, b, gamma, beta, has_gamma, has_beta, eps, rms, y,
                 start, stop):
    """Rows `start:stop` of `y = layernorm(a + b)`; the sum is written to
    `y` and normalized there while the row is in cache."""
    C = a.shape[1]
    inv_c = 1.0 / C
    for i in range(start, stop):
        ar, br, yr = a[i], b[i], y[i]
        for j in range(C):
            yr[j] = ar[j] + br[j]
        _normalize_row(yr, yr, gamma, beta, has_gamma, has_beta, eps, rms,
                       inv_c)


@jit.kernel
def _ln_backward_rows(dy, x, gamma, has_gamma, mean, inv_std, rms, dx,
                      dgamma, dbeta, start, stop):
    C = x.shape[1]
    inv_c = 1.0 / C
    for j in range(C):
        dgamma[j] = 0.0
        dbeta[j] = 0.0
    for i in range(start, stop):
        dyr, xr, dxr = dy[i], x[i], dx[i]
        m, r = mean[i], inv_std[i]
        if rms:
            # dx = r g - r^3 (x - m) mean(g x), g = dy * gamma
            b = xr[0] * 0.0
            for j in range(C):
                g = dyr[j] * gamma[j] if has_gamma else dyr[j]
                b += g * xr[j]
            b *= inv_c * r * r * r
            for j in range(C):
                g = dyr[j] * gamma[j] if has_gamma else dyr[j]
                dxr[j] = r * g - (xr[j] - m) * b
                dgamma[j] += dyr[j] * (xr[j] * r)
                dbeta[j] += dyr[j]
        else:
            # dx = r (g - mean(g) - xhat mean(g xhat)), xhat = (x - m) r
            a = xr[0] * 0.0
            b = xr[0] * 0.0
            for j in range(C):
                g = dyr[j] * gamma[j] if has_gamma else dyr[j]
                xh = (xr[j] - m) * r
                a += g
                b += g * xh
            a *= inv_c
            b *= inv_c
            for j in range(C):
                g = dyr[j] * gamma[j] if has_gamma else dyr[j]
                xh = (xr[j] - m) * r
                dxr[j] = r * (g - a - xh * b)
                dgamma[j] += dyr[j] * xh
                dbeta[j] += dyr[j]


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
    M, C = check_layernorm_args(x, gamma, beta)
    if M and _jit_ok(x, gamma, beta):
        _ready()
        y = np.empty_like(x)
        mean = np.empty(M, x.dtype)
        inv_std = np.empty(M, x.dtype)
        g = x[0] if gamma is None else gamma
        b = x[0] if beta is None else beta
        eps = x.dtype.type(epsilon)
        _run_rows(M, x.size, lambda a, c: _ln_forward_rows(
            x, g, b, gamma is not None, beta is not None, eps,
            bool(rms_scaling), y, mean, inv_std, a, c))
        return y, mean, inv_std
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
    if M and _jit_ok(dy, x, gamma, mean, inv_std):
        dx = np.empty_like(x)
        partials = {}

        # Each part sums its own rows' dgamma/dbeta (no shared writes).
        def part(a, c):
            dg, db = np.empty(C, x.dtype), np.empty(C, x.dtype)
            _ln_backward_rows(dy, x, x[0] if gamma is None else gamma,
                              gamma is not None, mean, inv_std,
                              bool(rms_scaling), dx, dg, db, a, c)
            partials[a] = (dg, db)

        _run_rows(M, x.size, part)
        parts = [partials[a] for a in sorted(partials)]
        dgamma, dbeta = parts[0]
        for dg, db in parts[1:]:
            dgamma += dg
            dbeta += db
        return dx, (dgamma if gamma is not None else None), dbeta
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


def add_layernorm_inference(a, b, gamma=None, beta=None, epsilon=1e-3,
                            rms_scaling=False):
    """`layernorm_forward(a + b, ...)[0]` in one pass, for inference.

    A residual block's `LayerNormalization(Add()([x, y]))`: run as two
    passes, the sum is written to memory and read back (at the
    Transformer's 3200 x 128, after the GEMMs have evicted the inputs
    from cache: 1.45-1.55 ms, against 0.62-0.71 ms here). Each row is
    summed into `y` and normalized there while in cache; no statistics
    are kept (nothing to differentiate). The values are those of the two
    passes: the same additions, then the same row arithmetic
    (`normalize_row`) as `layernorm_forward`'s compiled path.

    CPU only, compiled path only: callers check `add_layernorm_applies`
    and otherwise run the add and the normalization as ops.

    Args:
        a, b: `(M, C)` float32 or float64 C-contiguous arrays of one
            dtype and shape.
        gamma: optional `(C,)` scale of that dtype.
        beta: optional `(C,)` offset.
        epsilon: added to the variance.
        rms_scaling: Keras's `rms_scaling` formula (module docstring).

    Returns:
        `y`, `(M, C)`.

    Example:

    >>> a = np.random.rand(4, 16).astype("float32")
    >>> y = add_layernorm_inference(a, a, epsilon=1e-3)
    >>> np.allclose(y, layernorm_forward(a + a, epsilon=1e-3)[0])
    True
    """
    M, C = check_layernorm_args(a, gamma, beta, "add_layernorm_inference")
    if b.shape != a.shape:
        raise ValueError("add_layernorm_inference: `a` and `b` must have "
                         f"one shape. Received: {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    if not add_layernorm_applies(a, b, gamma, beta):
        raise ValueError("add_layernorm_inference: needs the CPU JIT and "
                         "C-contiguous float32/float64 arrays of one dtype "
                         "(check `add_layernorm_applies` first)")
    _ready()
    y = np.empty_like(a)
    g = a[0] if gamma is None else gamma
    bb = a[0] if beta is None else beta
    eps = a.dtype.type(epsilon)
    _run_rows(M, a.size, lambda s, e: _add_ln_rows(
        a, b, g, bb, gamma is not None, beta is not None, eps,
        bool(rms_scaling), y, s, e))
    return y


def add_layernorm_applies(a, b, gamma=None, beta=None):
    """Whether `add_layernorm_inference` takes these arrays.

    Returns:
        True with the JIT on, for non-empty 2-D C-contiguous float32 or
        float64 NumPy arrays of one dtype, `a` and `b` of one shape.
    """
    return (type(a) is np.ndarray and type(b) is np.ndarray
            and a.ndim == 2 and a.shape == b.shape and a.size > 0
            and _jit_ok(a, b, gamma, beta))
