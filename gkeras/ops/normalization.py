"""Batch normalization: the fused training primitive and Keras's
`ops.batch_normalization`.

`BatchNormTrain` is one autograd node: statistics, normalization and the
affine step run in `batchnorm_forward_train` of the array backend on the
input seen as `(M, C)` (every axis but the channel axis flattened), and the
whole gradient comes from `batchnorm_backward`. For the usual channels-last
layout that view is free (a reshape); another axis is moved last first.
"""

import numpy as np

from gkeras import backend
from gkeras.backend.cpu import batchnorm as _cpu_batchnorm
from gkeras.ops._base import keras_op, t_or_a
from gkeras.ops.engine import Function, Tensor, is_recording

__all__ = ["BatchNormTrain", "batch_normalization", "batch_norm_train"]


def _to_2d(x, axis):
    """`x` as `(M, C)` with C on `axis`; returns (view, undo)."""
    nd = x.ndim
    axis = axis % nd
    if axis == nd - 1:
        shape = x.shape
        return x.reshape(-1, shape[-1]), lambda y: y.reshape(shape)
    xp = backend.get_array_module(x)
    moved = xp.moveaxis(x, axis, -1)
    mshape = moved.shape

    def undo(y):
        return xp.ascontiguousarray(xp.moveaxis(y.reshape(mshape), -1, axis))
    return xp.ascontiguousarray(moved).reshape(-1, mshape[-1]), undo


class BatchNormTrain(Function):
    """Training-mode batch normalization over every axis but `axis`.

    Inputs are `x`, then `gamma` if `has_gamma`, then `beta` if `has_beta`.
    After the forward pass `self.mean` and `self.variance` (biased) hold
    the batch statistics, for the layer's moving averages.

    Args:
        axis: the channel axis.
        epsilon: added to the variance.
        has_gamma, has_beta: whether scale / offset inputs are given.
    """

    def __init__(self, axis, epsilon, has_gamma=True, has_beta=True):
        self.axis = axis
        self.epsilon = epsilon
        self.has_gamma = has_gamma
        self.has_beta = has_beta

    def forward(self, x, *params):
        gamma = params[0] if self.has_gamma else None
        beta = params[-1] if self.has_beta else None
        x2, self._undo = _to_2d(x, self.axis)
        y, mean, var, inv_std = backend.kernels_for(x).\
            batchnorm_forward_train(x2, gamma, beta, self.epsilon)
        self.x2, self.gamma, self.inv_std = x2, gamma, inv_std
        self.mean, self.variance = mean, var
        return self._undo(y)

    def backward(self, gy):
        g2, _ = _to_2d(gy, self.axis)
        dx, dgamma, dbeta = backend.kernels_for(gy).batchnorm_backward(
            g2, self.x2, self.gamma, self.mean, self.inv_std)
        out = [self._undo(dx)]
        if self.has_gamma:
            out.append(dgamma)
        if self.has_beta:
            out.append(dbeta)
        return tuple(out)


@keras_op
def batch_normalization(x, mean, variance, axis, offset=None, scale=None,
                        epsilon=1e-3):
    """Normalizes `x` with the given statistics, then scales and shifts.

    `(x - mean) / sqrt(variance + epsilon) * scale + offset`, computed as
    Keras's JAX backend does (`x * inv + (offset - mean * inv)`, with
    `inv = scale / sqrt(variance + epsilon)`), so float32 results agree.

    Args:
        x: input tensor.
        mean, variance: 1-D tensors of the size of `x` along `axis`.
        axis: the channel axis of `x`.
        offset: optional 1-D offset (beta).
        scale: optional 1-D scale (gamma).
        epsilon: small float added to the variance.

    Returns:
        The normalized tensor, shaped like `x`.

    Example:
    >>> x = np.random.rand(4, 3).astype("float32")
    >>> gkeras.ops.batch_normalization(x, x.mean(0), x.var(0), axis=-1).shape
    (4, 3)
    """
    from gkeras.ops import elementwise as E
    from gkeras.ops.shape import reshape
    x = t_or_a(x)
    nd = len(x.shape)
    axis = int(axis) % nd
    c = x.shape[axis]
    shape = [1] * nd
    shape[axis] = c

    def vec(v, name):
        v = t_or_a(v)
        if tuple(v.shape) not in ((c,), tuple(shape)):
            raise ValueError(
                f"batch_normalization: `{name}` must have shape ({c},) (the "
                f"size of axis {axis} of x, shape {tuple(x.shape)}). "
                f"Received: {name}.shape={tuple(v.shape)}")
        return reshape(v, shape)

    fast = _inference_arrays(x, (mean, variance, offset, scale))
    if fast is not None and all(
            v is None or tuple(v.shape) in ((c,), tuple(shape))
            for v in fast[1:]):
        return Tensor(_normalize_arrays(*fast, shape, epsilon))
    inv = E.rsqrt(E.add(vec(variance, "variance"), epsilon))
    if scale is not None:
        inv = E.multiply(inv, vec(scale, "scale"))
    res = E.negative(E.multiply(vec(mean, "mean"), inv))
    if offset is not None:
        res = E.add(res, vec(offset, "offset"))
    return E.add(E.multiply(x, inv), res)


def _inference_arrays(x, vectors):
    """`(x, mean, variance, offset, scale)` as NumPy arrays when no tape
    records and all are float NumPy arrays of one dtype (inference), else
    None: the op then builds its differentiable graph."""
    if is_recording():
        return None
    arrays = [x.data if isinstance(x, Tensor) else x]
    for v in vectors:
        a = v.data if isinstance(v, Tensor) else v
        if a is not None and not isinstance(a, np.ndarray):
            return None
        arrays.append(a)
    a0 = arrays[0]
    if (type(a0) is not np.ndarray or a0.dtype not in (np.float32,
                                                       np.float64)
            or any(a is not None and a.dtype != a0.dtype
                   for a in arrays[1:])):
        return None
    return arrays


def _normalize_arrays(x, mean, variance, offset, scale, shape, epsilon):
    """`batch_normalization` on arrays: the op's arithmetic, step for step
    (so the same float32 results), with one output buffer and no graph:
    two passes over `x` where the op's graph makes two arrays."""
    def vec(v):
        return v.reshape(shape)
    inv = 1.0 / np.sqrt(vec(variance) + epsilon)
    if scale is not None:
        inv = inv * vec(scale)
    res = -(vec(mean) * inv)
    if offset is not None:
        res = res + vec(offset)
    if shape[-1] == x.shape[-1] > 1 and inv.size == res.size == shape[-1]:
        # Channels last: one pass with the CPU JIT, the same values.
        return _cpu_batchnorm.affine_channels_last(
            x, inv.reshape(-1), res.reshape(-1))
    y = x * inv
    y += res
    return y


def batch_norm_train(x, gamma, beta, axis, epsilon):
    """Runs one `BatchNormTrain` node; returns `(y, mean, variance)` with
    the statistics as raw arrays (for moving averages; no gradient)."""
    params = [p for p in (gamma, beta) if p is not None]
    fn = BatchNormTrain(axis, epsilon, gamma is not None, beta is not None)
    y = fn(x, *params)
    return y, fn.mean, fn.variance

