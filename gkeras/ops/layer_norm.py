"""Layer normalization as one differentiable primitive.

`LayerNorm` wraps `layernorm_forward` / `layernorm_backward` of
`gkeras.backend.cpu` / `gkeras.backend.gpu` (a fused CUDA kernel each way
on the GPU); `layer_normalization` is the Keras 3 op built on it.
"""

import numpy as np

from gkeras import backend
from gkeras.ops._base import keras_op, normalize_axis, t_or_a
from gkeras.backend.cpu import layernorm as _cpu_layernorm
from gkeras.ops.engine import Function, Tensor, is_recording


class LayerNorm(Function):
    """Normalizes the rows of a 2-D `(M, C)` array, then scales/shifts.

    Inputs: `x` `(M, C)`, and `gamma` / `beta` `(C,)` when present (their
    presence is fixed at construction so the input list is static).

    Args:
        epsilon: added to the variance.
        rms_scaling: Keras's `rms_scaling` formula (no centring, no beta).
        has_gamma: whether a `gamma` input follows `x`.
        has_beta: whether a `beta` input follows.
    """

    def __init__(self, epsilon=1e-3, rms_scaling=False, has_gamma=True,
                 has_beta=True):
        self.epsilon = float(epsilon)
        self.rms_scaling = bool(rms_scaling)
        self.has_gamma = has_gamma
        self.has_beta = has_beta

    def forward(self, x, *params):
        gamma = params[0] if self.has_gamma else None
        beta = params[int(self.has_gamma)] if self.has_beta else None
        self.kern = backend.kernels_for(x)
        y, self.mean, self.inv_std = self.kern.layernorm_forward(
            x, gamma, beta, self.epsilon, self.rms_scaling)
        self.x, self.gamma = x, gamma
        return y

    def backward(self, dy):
        dx, dgamma, dbeta = self.kern.layernorm_backward(
            dy, self.x, self.gamma, self.mean, self.inv_std,
            self.rms_scaling)
        grads = [dx]
        if self.has_gamma:
            grads.append(dgamma)
        if self.has_beta:
            grads.append(dbeta)
        self.x = self.mean = self.inv_std = None
        return tuple(grads)


@keras_op
def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None,
                        rms_scaling=False):
    """Layer normalization over `axis` (Keras 3 `ops.layer_normalization`).

    `(x - mean) / sqrt(var + epsilon) * gamma + beta` with the biased
    variance over the normalized axes; with `rms_scaling=True`,
    `x / sqrt(var + epsilon) * gamma` (Keras's formula: `x` not centred).

    Args:
        x: input tensor.
        gamma: optional scale, shaped like the normalized axes.
        beta: optional offset, shaped like the normalized axes.
        axis: int or list of ints, the normalized axes.
        epsilon: added to the variance (default `backend.epsilon()`).
        rms_scaling: use RMS scaling.

    Returns:
        A tensor shaped like `x`.

    Example:
    >>> x = np.random.rand(2, 5, 8).astype("float32")
    >>> gkeras.ops.layer_normalization(x, axis=-1).shape
    (2, 5, 8)
    """
    from gkeras.ops.shape import reshape, transpose
    xt = t_or_a(x)
    ndim = len(xt.shape)
    axes = normalize_axis(axis if isinstance(axis, (list, tuple))
                          else [axis], ndim)
    if epsilon is None:
        epsilon = backend.epsilon()
    shape = tuple(xt.shape)
    others = [i for i in range(ndim) if i not in axes]
    perm = others + list(axes)
    moved = perm != list(range(ndim))
    if moved:
        xt = transpose(xt, perm)
    C = int(np.prod([shape[a] for a in axes]))
    lead = tuple(shape[i] for i in others)
    x2 = reshape(xt, (-1, C)) if C else xt
    params = []
    for name, p in (("gamma", gamma), ("beta", beta)):
        if p is None:
            continue
        p = t_or_a(p)
        if int(np.prod(p.shape)) != C:
            raise ValueError(
                f"layer_normalization: `{name}` must hold one value per "
                f"normalized position ({C} for axes {list(axes)} of shape "
                f"{shape}). Received: {name}.shape={tuple(p.shape)}")
        params.append(reshape(p, (C,)) if tuple(p.shape) != (C,) else p)
    y = LayerNorm(epsilon, rms_scaling, gamma is not None,
                  beta is not None)(x2, *params)
    y = reshape(y, lead + tuple(shape[a] for a in axes))
    if moved:
        inv = list(np.argsort(perm))
        y = transpose(y, inv)
    return y


def add_layer_normalization_inference(x1, x2, gamma=None, beta=None,
                                     norm_size=None, epsilon=1e-3,
                                     rms_scaling=False):
    """`layer_normalization(x1 + x2)` over the trailing axes, in one pass,
    for inference (a residual block's Add -> LayerNormalization).

    No autograd node: returns None while a tape records, and wherever the
    one-pass CPU kernel (`backend.cpu.layernorm.add_layernorm_inference`)
    does not take the arrays (other dtypes or shapes, CuPy arrays, the JIT
    off); the caller then runs the two ops.

    Args:
        x1, x2: tensors or arrays of one shape and float dtype.
        gamma, beta: optional scale and offset, `norm_size` values each.
        norm_size: the product of the normalized trailing axes' sizes.
        epsilon: added to the variance.
        rms_scaling: Keras's `rms_scaling` formula.

    Returns:
        A `Tensor` shaped like `x1`, or None.
    """
    if is_recording():
        return None
    a = x1.data if type(x1) is Tensor else x1
    b = x2.data if type(x2) is Tensor else x2
    if type(a) is not np.ndarray or type(b) is not np.ndarray or \
            a.shape != b.shape or not norm_size or a.size % norm_size:
        return None
    params = []
    for p in (gamma, beta):
        if p is not None:
            p = getattr(p, "data", p)   # a Variable or Tensor: its array
            if type(p) is not np.ndarray or p.size != norm_size:
                return None
            p = p.reshape(norm_size)
        params.append(p)
    a2 = a.reshape(-1, norm_size)
    b2 = b.reshape(-1, norm_size)
    if not _cpu_layernorm.add_layernorm_applies(a2, b2, *params):
        return None
    y = _cpu_layernorm.add_layernorm_inference(a2, b2, params[0], params[1],
                                               epsilon, rms_scaling)
    return Tensor(y.reshape(a.shape))


@keras_op
def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """Root-mean-square normalization (Keras 3 `ops.rms_normalization`).

    `x * rsqrt(mean(square(x), axis) + epsilon) * scale`, computed in at
    least float32 and cast back to `x`'s dtype (Zhang and Sennrich, 2019).

    Args:
        x: input tensor.
        scale: optional scale, broadcastable against `x` (shaped like the
            normalized axes when they are the last ones).
        axis: int or list of ints, the normalized axes.
        epsilon: added to the mean square (default `backend.epsilon()`).

    Returns:
        A tensor shaped like `x`, of `x`'s dtype.

    Example:
    >>> gkeras.ops.rms_normalization(np.array([[3.0, 4.0]]))
    ... # [[3, 4] / sqrt(12.5)] = [[0.8485, 1.1314]]
    """
    from gkeras.ops import elementwise as E
    from gkeras.ops.core import cast
    from gkeras.ops.reduction import mean
    xt = t_or_a(x)
    dtype = backend.standardize_dtype(xt.dtype)
    compute = "float64" if dtype == "float64" else "float32"
    if epsilon is None:
        epsilon = backend.epsilon()
    ndim = len(xt.shape)
    axes = normalize_axis(axis if isinstance(axis, (list, tuple))
                          else [axis], ndim)
    xc = cast(x, compute) if dtype != compute else x
    ms = mean(E.square(xc), axis=tuple(sorted(axes)), keepdims=True)
    y = E.multiply(xc, E.rsqrt(E.add(ms, epsilon)))
    if scale is not None:
        y = E.multiply(y, cast(scale, compute))
    return cast(y, dtype) if dtype != compute else y


__all__ = ["LayerNorm", "layer_normalization", "rms_normalization"]
