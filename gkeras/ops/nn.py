"""Neural-network ops (`keras.ops.nn` names): activations, softmax, fused
cross-entropies, dropout, moments, normalisation helpers."""

import math

import numpy as np

from gkeras import backend
from gkeras.backend import device_checks
from gkeras.ops._base import arr, keras_op, normalize_axis, t_or_a, \
    to_array, to_float, unbroadcast, wrap, xp_of
from gkeras.ops.elementwise import _Unary, _unary
from gkeras.ops.engine import Function, Tensor, is_recording
from gkeras.backend.cpu import cnn_jit as _cpu_cnn_jit
from gkeras.backend.cpu import softmax as _cpu_softmax
from gkeras.backend.cpu.parallel import split_rows


# Keras 3.15's `keras.ops.nn` names. Those defined in other gkeras.ops
# modules resolve to the `gkeras.ops` function of that name on first use.
KERAS_NAMES = (
    "adaptive_average_pool", "adaptive_max_pool", "average_pool",
    "batch_normalization", "binary_crossentropy", "categorical_crossentropy",
    "celu", "conv", "conv_transpose", "ctc_decode", "ctc_loss",
    "depth_to_space", "depthwise_conv", "dot_product_attention", "elu", "fold",
    "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish",
    "hard_tanh", "layer_normalization", "leaky_relu", "log_sigmoid",
    "log_softmax", "max_pool", "moments", "multi_hot", "normalize", "one_hot",
    "polar", "psnr", "relu", "relu6", "rms_normalization", "selu",
    "separable_conv", "sigmoid", "silu", "soft_shrink", "softmax", "softplus",
    "softsign", "space_to_depth", "sparse_categorical_crossentropy",
    "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish",
    "tanh_shrink", "threshold", "unfold",
)


def __getattr__(name):
    if name in KERAS_NAMES:
        import gkeras.ops
        value = getattr(gkeras.ops, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gkeras.ops.nn' has no attribute "
                         f"{name!r}")


def __dir__():
    return sorted(set(globals()) | set(KERAS_NAMES))


def _sig(x, xp):
    # Split by sign so exp never overflows (float32 safe for |x| large).
    out = xp.empty_like(x)
    pos = x >= 0
    e = xp.exp(-xp.abs(x))
    out = xp.where(pos, 1.0 / (1.0 + e), e / (1.0 + e))
    return out.astype(x.dtype, copy=False)


sigmoid = _unary("sigmoid", _sig, lambda x, y, xp: y * (1.0 - y),
                 "Sigmoid `1 / (1 + exp(-x))`, element-wise.")


class _Relu(Function):
    def __call__(self, x):
        # The mask is the backward's; inference (nothing recorded) skips it.
        self._keep_mask = is_recording() and isinstance(x, Tensor) and \
            x.requires_grad
        return super().__call__(x)

    def forward(self, x):
        keep = getattr(self, "_keep_mask", True)
        if type(x) is np.ndarray and x.ndim and x.dtype.kind == "f":
            fused = _cpu_cnn_jit.relu_with_mask(x, keep)
            if fused is not None:             # one JIT pass, y and mask
                self.mask = fused[1]
                return fused[0]
            # NumPy: halves of the batch on the cores (threads.py).
            y = np.empty_like(x)
            self.mask = np.empty(x.shape, bool) if keep else None

            def part(a, b):
                if keep:
                    np.greater(x[a:b], 0, out=self.mask[a:b])
                np.maximum(x[a:b], 0, out=y[a:b])
            split_rows(x.shape[0], x.size, part)
            return y
        self.mask = x > 0 if keep else None
        # maximum, not x * mask: no negative zeros in the output.
        return xp_of(x).maximum(x, 0)

    def backward(self, gy):
        mask = self.mask
        if (type(gy) is np.ndarray and gy.ndim and gy.dtype.kind == "f"
                and gy.shape == mask.shape):
            gx = _cpu_cnn_jit.relu_grad(gy, mask)
            if gx is not None:                # one JIT pass
                return gx
            gx = np.empty_like(gy)

            def part(a, b):
                np.multiply(gy[a:b], mask[a:b], out=gx[a:b])
            split_rows(gy.shape[0], gy.size, part)
            return gx
        return gy * mask


@keras_op
def relu(x):
    """Rectified linear unit `max(x, 0)`; gradient 0 at 0 (as JAX)."""
    return _Relu()(_bool_as_int32(t_or_a(x)))


def _bool_as_int32(x):
    """Bools as int32, the dtype Keras gives their arithmetic."""
    a = arr(x)
    return a.astype("int32") if getattr(a, "dtype", None) == bool else x


relu6 = _unary("relu6", lambda x, xp: xp.clip(x, 0, 6),
               lambda x, y, xp: ((x > 0) & (x < 6)).astype(x.dtype),
               "`min(max(x, 0), 6)`, element-wise.")


@keras_op
def leaky_relu(x, negative_slope=0.2):
    """Leaky ReLU: `x` if `x > 0` else `negative_slope * x`."""
    s = float(negative_slope)
    return _Unary(lambda a, xp: xp.where(a > 0, a, a * s).astype(a.dtype),
                  lambda a, y, xp: xp.where(a > 0, 1.0, s).astype(a.dtype))(
        to_float(t_or_a(x)))


@keras_op
def elu(x, alpha=1.0):
    """Exponential linear unit: `x` if `x > 0` else `alpha*(exp(x)-1)`."""
    al = float(alpha)
    return _Unary(
        lambda a, xp: xp.where(a > 0, a, al * xp.expm1(xp.minimum(a, 0)))
        .astype(a.dtype),
        lambda a, y, xp: xp.where(a > 0, 1.0, y + al).astype(a.dtype))(
        to_float(t_or_a(x)))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946

selu = _unary(
    "selu",
    lambda x, xp: (_SELU_SCALE * xp.where(
        x > 0, x, _SELU_ALPHA * xp.expm1(xp.minimum(x, 0)))).astype(x.dtype),
    lambda x, y, xp: xp.where(x > 0, _SELU_SCALE,
                              y + _SELU_SCALE * _SELU_ALPHA).astype(x.dtype),
    "Scaled exponential linear unit (SELU), element-wise.")


def _softplus(x, xp):
    return (xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))).astype(x.dtype)


softplus = _unary("softplus", _softplus, lambda x, y, xp: _sig(x, xp),
                  "`log(exp(x) + 1)`, element-wise, computed stably.")
softsign = _unary("softsign", lambda x, xp: x / (1 + xp.abs(x)),
                  lambda x, y, xp: 1.0 / (1 + xp.abs(x)) ** 2,
                  "`x / (abs(x) + 1)`, element-wise.")
silu = _unary("silu", lambda x, xp: x * _sig(x, xp),
              lambda x, y, xp: _sig(x, xp) * (1 + x * (1 - _sig(x, xp))),
              "Sigmoid linear unit `x * sigmoid(x)` (swish).")
swish = silu
hard_sigmoid = _unary(
    "hard_sigmoid", lambda x, xp: xp.clip(x / 6.0 + 0.5, 0, 1).astype(x.dtype),
    lambda x, y, xp: (((x > -3) & (x < 3)) / 6.0).astype(x.dtype),
    "Hard sigmoid `relu6(x + 3) / 6` (Keras 3), element-wise.")
hard_silu = _unary(
    "hard_silu", lambda x, xp: x * xp.clip(x / 6.0 + 0.5, 0, 1),
    lambda x, y, xp: xp.where(x < -3, 0.0, xp.where(
        x > 3, 1.0, x / 3.0 + 0.5)).astype(x.dtype),
    "Hard SiLU `x * relu6(x + 3) / 6`, element-wise.")
hard_swish = hard_silu
log_sigmoid = _unary("log_sigmoid", lambda x, xp: -_softplus(-x, xp),
                     lambda x, y, xp: _sig(-x, xp),
                     "`log(sigmoid(x))`, element-wise, computed stably.")
mish = _unary(
    "mish", lambda x, xp: x * xp.tanh(_softplus(x, xp)),
    lambda x, y, xp: (xp.tanh(_softplus(x, xp)) + x * _sig(x, xp) * (
        1 - xp.tanh(_softplus(x, xp)) ** 2)),
    "Mish `x * tanh(softplus(x))`, element-wise.")
celu = None  # defined below with its alpha argument


@keras_op
def celu(x, alpha=1.0):
    """Continuously differentiable ELU."""
    al = float(alpha)
    return _Unary(
        lambda a, xp: (xp.maximum(a, 0) + al * xp.expm1(
            xp.minimum(a, 0) / al)).astype(a.dtype),
        lambda a, y, xp: xp.where(a > 0, 1.0, xp.exp(a / al)).astype(
            a.dtype))(to_float(t_or_a(x)))


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _erf(x, xp):
    return backend.kernels_for(x).erf(x)


@keras_op
def gelu(x, approximate=True):
    """Gaussian error linear unit.

    Args:
        x: input tensor.
        approximate: use the tanh approximation (Keras's default, True)
            rather than the exact erf form.
    """
    if approximate:
        def f(a, xp):
            return (0.5 * a * (1 + xp.tanh(_SQRT_2_OVER_PI * (
                a + 0.044715 * a ** 3)))).astype(a.dtype)

        def df(a, y, xp):
            u = _SQRT_2_OVER_PI * (a + 0.044715 * a ** 3)
            t = xp.tanh(u)
            du = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * a ** 2)
            return (0.5 * (1 + t) + 0.5 * a * (1 - t * t) * du).astype(a.dtype)
    else:
        def f(a, xp):
            return (0.5 * a * (1 + _erf(a / math.sqrt(2), xp))).astype(a.dtype)

        def df(a, y, xp):
            cdf = 0.5 * (1 + _erf(a / math.sqrt(2), xp))
            pdf = xp.exp(-0.5 * a * a) / math.sqrt(2 * math.pi)
            return (cdf + a * pdf).astype(a.dtype)
    return _Unary(f, df)(to_float(t_or_a(x)))


def softmax_forward(x, axis=-1):
    """Softmax of a float array over `axis` (an int or a tuple), as
    `softmax` computes it (the op's forward; also inference without a
    graph node).

    Args:
        x: float array (NumPy or CuPy).
        axis: int or tuple of non-negative ints.

    Returns:
        A new array of `x`'s dtype.
    """
    if axis == -1 or axis == x.ndim - 1:
        e = _cpu_softmax.softmax_last_axis(x)
        if e is not None:
            return e
    m = x.max(axis=axis, keepdims=True)
    e = xp_of(x).exp(x - m)
    e /= e.sum(axis=axis, keepdims=True)
    return e


class _Softmax(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        e = softmax_forward(x, self.axis)
        self.y = e
        return e

    def backward(self, gy):
        y = self.y
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))


class _LogSoftmax(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = xp_of(x)
        ax = self.axis
        m = x.max(axis=ax, keepdims=True)
        z = x - m
        self.y = z - xp.log(xp.exp(z).sum(axis=ax, keepdims=True))
        return self.y

    def backward(self, gy):
        xp = xp_of(gy)
        return gy - xp.exp(self.y) * gy.sum(axis=self.axis, keepdims=True)


@keras_op
def softmax(x, axis=-1):
    """Softmax over an axis (or several: the joint softmax over them).

    Args:
        x: input tensor.
        axis: int or tuple of ints (default -1).
    """
    a = arr(x)
    if isinstance(axis, (tuple, list)):
        axes = normalize_axis(axis, a.ndim)
        return _Softmax(axes)(to_float(t_or_a(x)))
    return _Softmax(axis)(to_float(t_or_a(x)))


@keras_op
def log_softmax(x, axis=-1):
    """`log(softmax(x))` over an axis, computed stably."""
    return _LogSoftmax(axis)(to_float(t_or_a(x)))


@keras_op
def sparse_plus(x):
    """`0` for x <= -1, `(x+1)^2/4` for -1 < x < 1, `x` for x >= 1."""
    return _Unary(
        lambda a, xp: xp.where(a <= -1, 0.0, xp.where(
            a >= 1, a, (a + 1) ** 2 / 4)).astype(a.dtype),
        lambda a, y, xp: xp.where(a <= -1, 0.0, xp.where(
            a >= 1, 1.0, (a + 1) / 2)).astype(a.dtype))(to_float(t_or_a(x)))


# -- fused cross-entropies ---------------------------------------------------

class _CategoricalCE(Function):
    """-sum(t * log(p)) over `axis`; p from logits (stable log-softmax) or
    from probabilities (renormalised and clipped as Keras does)."""

    def __init__(self, from_logits, axis):
        self.from_logits, self.axis = from_logits, axis

    def forward(self, t, o):
        xp = xp_of(o)
        ax = self.axis
        t = t.astype(o.dtype, copy=False)
        self.t, self.o = t, o
        if self.from_logits:
            m = o.max(axis=ax, keepdims=True)
            z = o - m
            lse = xp.log(xp.exp(z).sum(axis=ax, keepdims=True))
            self.logp = z - lse
            return -(t * self.logp).sum(axis=ax)
        eps = backend.epsilon()
        s = o.sum(axis=ax, keepdims=True)
        p = o / s
        self.s, self.p = s, p
        q = xp.clip(p, eps, 1.0 - eps)
        self.inside = (p >= eps) & (p <= 1.0 - eps)
        self.logq = xp.log(q)
        self.q = q
        return -(t * self.logq).sum(axis=ax)

    def backward(self, gy):
        xp = xp_of(gy)
        ax = self.axis
        g = xp.expand_dims(gy, ax)
        t = self.t
        if self.from_logits:
            sm = xp.exp(self.logp)
            go = g * (sm * t.sum(axis=ax, keepdims=True) - t)
            gt = -g * self.logp
            return gt, go
        dp = -t / self.q * self.inside
        go = g * (dp - (dp * self.p).sum(axis=ax, keepdims=True)) / self.s
        gt = -g * self.logq
        return gt, go


@keras_op
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Categorical cross-entropy between one-hot (or soft) targets and
    predictions, reduced over `axis` (one value per sample).

    Args:
        target: tensor of the shape of `output`.
        output: logits (`from_logits=True`) or probabilities.
        from_logits: whether `output` is unnormalised logits.
        axis: the class axis.

    Returns:
        The per-sample loss, with `axis` removed.
    """
    t, o = arr(target), arr(output)
    if np.shape(t) != np.shape(o):
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={tuple(np.shape(t))}, "
            f"output.shape={tuple(np.shape(o))}")
    return _CategoricalCE(from_logits, axis)(t_or_a(target), t_or_a(output))


class _SparseCE(Function):
    nondiff_inputs = (0,)

    def __init__(self, from_logits, axis):
        self.from_logits, self.axis = from_logits, axis

    def forward(self, t, o):
        xp = xp_of(o)
        o = xp.moveaxis(o, self.axis, -1) if self.axis not in (-1, o.ndim - 1) \
            else o
        self.o = o
        idx = t[..., None].astype(xp.int64, copy=False)
        self.idx = idx
        if self.from_logits:
            m = o.max(axis=-1, keepdims=True)
            z = o - m
            lse = xp.log(xp.exp(z).sum(axis=-1, keepdims=True))
            self.logp = z - lse
            return -xp.take_along_axis(self.logp, idx, axis=-1)[..., 0]
        eps = backend.epsilon()
        s = o.sum(axis=-1, keepdims=True)
        p = o / s
        self.s, self.p = s, p
        pt = xp.take_along_axis(p, idx, axis=-1)
        self.qt = xp.clip(pt, eps, 1.0 - eps)
        self.inside_t = (pt >= eps) & (pt <= 1.0 - eps)
        return -xp.log(self.qt)[..., 0]

    def backward(self, gy):
        xp = xp_of(gy)
        g = gy[..., None]
        if self.from_logits:
            go = xp.exp(self.logp)
            go = go * g
            onehot_g = xp.zeros_like(go)
            _put_along(onehot_g, self.idx, g)
            go = go - onehot_g
        else:
            # dL/dp_j = -1/q_t at the target entry (inside the clip range).
            dpt = -g / self.qt * self.inside_t
            dp = xp.zeros_like(self.p)
            _put_along(dp, self.idx, dpt)
            go = (dp - dpt * xp.take_along_axis(self.p, self.idx, axis=-1)) \
                / self.s
        if self.axis not in (-1, go.ndim - 1):
            go = xp.moveaxis(go, -1, self.axis)
        return None, go


def _put_along(dst, idx, vals):
    """`dst[..., idx] = vals` along the last axis (one index per row), on
    any array module: a flat fancy-index assignment works for both."""
    n = dst.shape[-1]
    flat = dst.reshape(-1, n)
    rows = xp_of(dst).arange(flat.shape[0])
    flat[rows, idx.reshape(-1)] = vals.reshape(-1)


def check_label_range(hi, lo, n):
    """Raises the error for sparse labels outside `[0, n)`.

    Args:
        hi, lo: the largest and smallest label seen.
        n: the number of classes.
    """
    if lo < 0 or hi >= n:
        bad = hi if hi >= n else lo
        raise ValueError(
            f"sparse_categorical_crossentropy: label {bad} is out of "
            f"range for {n} classes (labels must be in [0, {n - 1}]). "
            "Check the number of units of the last layer, or use "
            "categorical_crossentropy for one-hot targets.")


@keras_op
def sparse_categorical_crossentropy(target, output, from_logits=False,
                                    axis=-1):
    """Cross-entropy between integer labels and predictions.

    Args:
        target: integer class ids, shape `output.shape[:-1]` (or with a
            trailing axis of size 1).
        output: logits or probabilities.
        from_logits: whether `output` is logits.
        axis: the class axis.

    Returns:
        The per-sample loss.

    Raises:
        ValueError: for labels outside `[0, num_classes)` (on the GPU
            inside `fit`/`evaluate`: at the end of the epoch).
    """
    t = host_t = arr(target)
    o = arr(output)
    t = to_array(t)
    if t.ndim == o.ndim and t.shape[-1] == 1:
        t = t.reshape(t.shape[:-1])
    if t.dtype.kind == "f":
        t = t.astype("int64")
    n = o.shape[axis]
    if tuple(t.shape) != tuple(o.shape[:axis % o.ndim]) + tuple(
            o.shape[axis % o.ndim + 1:]):
        raise ValueError(
            "Argument `output` must have rank (ndim) `target.ndim + 1` and "
            "the same leading shape. Received: "
            f"target.shape={tuple(t.shape)}, output.shape={tuple(o.shape)}")
    if t.size:
        # Host labels are checked at once; device labels keep their range
        # on the device, read back once per epoch inside fit/evaluate
        # (backend.device_checks), so no step waits on the GPU.
        src = host_t if type(host_t) is np.ndarray else t
        xp = xp_of(src)
        device_checks.check_max(
            ("sparse_categorical_crossentropy", n),
            xp.stack([xp.max(src), -xp.min(src)]).astype("int64"),
            lambda v: check_label_range(int(v[0]), -int(v[1]), n))
    return _SparseCE(from_logits, axis)(t, t_or_a(output))


class _BinaryCE(Function):
    def __init__(self, from_logits):
        self.from_logits = from_logits

    def forward(self, t, o):
        xp = xp_of(o)
        t = t.astype(o.dtype, copy=False) if hasattr(t, "astype") else t
        self.t, self.o = t, o
        if self.from_logits:
            return (xp.maximum(o, 0) - o * t +
                    xp.log1p(xp.exp(-xp.abs(o)))).astype(o.dtype)
        eps = backend.epsilon()
        q = xp.clip(o, eps, 1.0 - eps)
        self.q = q
        self.inside = (o >= eps) & (o <= 1.0 - eps)
        return -(t * xp.log(q) + (1 - t) * xp.log(1 - q))

    def backward(self, gy):
        xp = xp_of(gy)
        t, o = self.t, self.o
        if self.from_logits:
            go = gy * (_sig(o, xp) - t)
            gt = -gy * o
        else:
            q = self.q
            go = gy * (-(t / q) + (1 - t) / (1 - q)) * self.inside
            gt = -gy * (xp.log(q) - xp.log(1 - q))
        return (unbroadcast(gt, np.shape(t)) if hasattr(t, "dtype")
                and t.dtype.kind == "f" else None), unbroadcast(go, o.shape)


@keras_op
def binary_crossentropy(target, output, from_logits=False):
    """Element-wise binary cross-entropy (not reduced).

    Args:
        target: 0/1 (or soft) targets, broadcastable to `output`.
        output: logits or probabilities.
        from_logits: whether `output` is logits.
    """
    return _BinaryCE(from_logits)(t_or_a(target), t_or_a(output))


# -- dropout and friends --------------------------------------------------------

class _MaskMul(Function):
    """`x * mask` with a constant mask (dropout, noise)."""

    def __init__(self, mask):
        self.mask = mask

    def forward(self, x):
        return x * self.mask

    def backward(self, gy):
        return unbroadcast(gy * self.mask, gy.shape) if \
            self.mask.shape == gy.shape else gy * self.mask


def dropout(x, rate, noise_shape=None, seed=None):
    """Randomly zeroes entries with probability `rate`, scaling the rest by
    `1 / (1 - rate)` (Keras's inverted dropout).

    Args:
        x: input tensor.
        rate: drop probability in [0, 1).
        noise_shape: shape of the mask, broadcast against `x` (None = x's).
        seed: a `SeedGenerator`, an int, or None.
    """
    from gkeras import random as grandom
    a = arr(x)
    if not 0 <= rate < 1:
        raise ValueError("dropout: `rate` must be in [0, 1). "
                         f"Received: rate={rate}")
    if rate == 0:
        return t_or_a(x)
    shape = a.shape if noise_shape is None else tuple(
        a.shape[i] if s is None else s for i, s in enumerate(noise_shape))
    keep = 1.0 - rate
    u = grandom.uniform_array(shape, seed, xp_of(a), a.dtype)
    mask = (u < keep).astype(a.dtype) * a.dtype.type(1.0 / keep)
    return _MaskMul(mask)(t_or_a(x))


@keras_op
def moments(x, axes, keepdims=False, synchronized=False):
    """Mean and (biased) variance over `axes`.

    Returns:
        A tuple `(mean, variance)`.
    """
    from gkeras.ops.reduction import mean, var
    return mean(x, axis=axes, keepdims=keepdims), var(x, axis=axes,
                                                      keepdims=keepdims)


@keras_op
def normalize(x, axis=-1, order=2, epsilon=None):
    """Normalises `x` along `axis` to unit `order`-norm."""
    from gkeras.ops import elementwise as E
    from gkeras.ops.core import norm
    eps = backend.epsilon() if epsilon is None else epsilon
    n = norm(x, ord=order, axis=axis, keepdims=True)
    return E.divide(x, E.maximum(n, eps))


def l2_normalize(x, axis=-1, epsilon=1e-12):
    """`x / sqrt(max(sum(x**2, axis), epsilon))` (Keras-2 / TF spelling)."""
    from gkeras.ops import elementwise as E
    from gkeras.ops.reduction import sum as rsum
    sq = rsum(E.square(x), axis=axis, keepdims=True)
    return E.multiply(x, E.rsqrt(E.maximum(sq, epsilon)))


@keras_op
def top_k(x, k, sorted=True):
    """The `k` largest values along the last axis and their indices."""
    a = to_array(x)
    xp = xp_of(a)
    idx = xp.argsort(-a, axis=-1, kind="stable")[..., :k]
    from gkeras.ops.shape import take_along_axis
    return take_along_axis(t_or_a(x), idx, axis=-1), wrap(idx.astype("int32"))


@keras_op
def in_top_k(targets, predictions, k):
    """True where the target class is among the top `k` predictions."""
    p = to_array(predictions)
    t = to_array(targets).astype("int64").reshape(-1)
    xp = xp_of(p)
    tv = p[xp.arange(p.shape[0]), t]
    return wrap((p > tv[:, None]).sum(axis=-1) < k)
