"""`x @ kernel + bias`, optionally followed by ReLU, as one autograd node.

What a Dense layer computes. As three ops (matmul, add, relu) every step
allocates and walks two more output-sized arrays and keeps a ReLU mask;
here the bias and the ReLU are applied in place on the fresh product, and
the backward derives the ReLU mask from the output. Same values and
gradients as the composition (tests/test_ops_gradients.py).
"""

import numpy as np

from gkeras.backend.cpu import affine as _cpu_affine
from gkeras.ops._base import arr, is_float, keras_op, t_or_a, unbroadcast, \
    xp_of
from gkeras.ops.elementwise import add, matmul, matmul_forward, \
    matmul_grads
from gkeras.ops.engine import _HALF_USED, _STATE, Function, Tensor
from gkeras.ops.nn import relu as relu_op

__all__ = ["affine", "affine_inference"]

_FULL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _forward(x, kernel, bias, relu):
    """`relu(x @ kernel + bias)` on arrays, the bias and ReLU in place on
    the fresh product (the node's forward, and inference without one)."""
    y = matmul_forward(x, kernel)
    if type(y) is np.ndarray:
        # One (JIT-compiled, row-split) pass where it is available.
        _cpu_affine.bias_relu_forward(y, bias, relu)
    else:
        if bias is not None:
            y += bias
        if relu:
            xp_of(y).maximum(y, 0, out=y)
    return y


class _Affine(Function):
    def __init__(self, relu, has_bias):
        self.relu, self.has_bias = relu, has_bias

    def forward(self, x, kernel, bias=None):
        self.x, self.kernel = x, kernel
        if bias is not None:
            self.bias_shape = bias.shape
        y = _forward(x, kernel, bias, self.relu)
        if self.relu:
            self.y = y
        return y

    def backward(self, gy):
        if type(gy) is np.ndarray and (self.relu or self.has_bias):
            want_b = self.has_bias and self.needs_grad(2)
            gy, gb = _cpu_affine.relu_bias_backward(
                gy, self.y if self.relu else None, self.relu, want_b)
            gx, gk = matmul_grads(self.x, self.kernel, gy,
                                  self.needs_grad(0), self.needs_grad(1))
            if not self.has_bias:
                return gx, gk
            return gx, gk, (gb.reshape(self.bias_shape) if want_b
                            else None)
        if self.relu:
            gy = gy * (self.y > 0)
        gx, gk = matmul_grads(self.x, self.kernel, gy, self.needs_grad(0),
                              self.needs_grad(1))
        if not self.has_bias:
            return gx, gk
        gb = unbroadcast(gy, self.bias_shape) if self.needs_grad(2) else None
        return gx, gk, gb


def _fusable(a, k, b):
    """Whether `affine` computes these arrays as one node."""
    return (is_float(a) and getattr(a, "ndim", 0) >= 2
            and getattr(k, "ndim", 0) == 2 and a.dtype == k.dtype
            and a.shape[-1] == k.shape[0] and type(a) is type(k)
            and (b is None or (b.dtype == a.dtype and b.shape == k.shape[1:]
                               and type(b) is type(a))))


def affine_inference(a, kernel, bias=None, relu=False):
    """`affine` on arrays outside a `GradientTape`, without the op's
    dispatch: the same arithmetic (same bits) as `affine` computes then.

    Args:
        a: `(..., k)` float array.
        kernel: `(k, n)` array of `a`'s dtype and array module.
        bias: optional `(n,)` array, likewise.
        relu: apply `max(., 0)`.

    Returns:
        The `(..., n)` array, or None where `affine` would take another
        route (a recording tape, half precision, mismatched dtypes or
        shapes); call `affine` then.
    """
    # Once half precision is in use somewhere in the process, only
    # float32/float64 operands skip the op (half ones need its casts).
    if _STATE.recording or (_HALF_USED[0] and getattr(
            a, "dtype", None) not in _FULL_DTYPES) or \
            not _fusable(a, kernel, bias):
        return None
    return _forward(a, kernel, bias, relu)


@keras_op
def affine(x, kernel, bias=None, relu=False):
    """`relu(x @ kernel + bias)` (or without the ReLU / the bias).

    Args:
        x: `(..., k)` float tensor.
        kernel: `(k, n)`, of `x`'s dtype.
        bias: optional `(n,)`, of `x`'s dtype.
        relu: apply `max(., 0)` (gradient 0 at 0, as `ops.relu`).

    Returns:
        `(..., n)`. Inputs of other dtypes or ranks are computed as
        `matmul`, `add` and `relu` ops.
    """
    a, k = arr(x), arr(kernel)
    b = None if bias is None else arr(bias)
    if not _fusable(a, k, b):
        y = matmul(x, kernel)
        if bias is not None:
            y = add(y, bias)
        return relu_op(y) if relu else y
    if not _STATE.recording and not _HALF_USED[0]:
        # No tape (inference): `_Affine.forward`'s arithmetic without the
        # graph node (~4 us a call, a third of a small Dense layer's call).
        return Tensor(_forward(a, k, b, bool(relu)))
    fn = _Affine(bool(relu), bias is not None)
    if bias is None:
        return fn(t_or_a(x), t_or_a(kernel))
    return fn(t_or_a(x), t_or_a(kernel), t_or_a(bias))
