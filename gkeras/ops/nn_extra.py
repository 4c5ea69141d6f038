"""`keras.ops.nn` functions beyond `nn.py`: the shrink/tanh activations,
`glu`, `sparsemax`, `squareplus`, `sparse_sigmoid`, `threshold`, `psnr`,
`multi_hot`, `depth_to_space`/`space_to_depth`, the `segment_*`
reductions, `extract_sequences` and `unfold`/`fold` (im2col / col2im).
"""

import importlib

import numpy as np

from gkeras import backend
from gkeras.ops import elementwise as E
from gkeras.ops import reduction as R
from gkeras.ops._base import arr, is_float, keras_op, t_or_a, to_array, \
    wrap, xp_of
from gkeras.ops.core import one_hot
from gkeras.ops.engine import Function
from gkeras.ops.nn import sigmoid
from gkeras.ops.numpy_math import as_float

# `gkeras.ops.shape` is shadowed by the `shape` op in the package.
S = importlib.import_module("gkeras.ops.shape")


# -- activations --------------------------------------------------------------

@keras_op
def hard_tanh(x):
    """Hard tanh: `clip(x, -1, 1)`.

    Args:
        x: input tensor.
    """
    x = t_or_a(x)
    if arr(x).dtype.kind in "biu":
        # Integers stay integers (bools become int32), as in Keras.
        a = to_array(x)
        return E.clip(a.astype("int32") if a.dtype == bool else x, -1, 1)
    return E.clip(as_float(x), -1.0, 1.0)


@keras_op
def hard_shrink(x, threshold=0.5):
    """Hard shrink: `x` where `|x| > threshold`, else 0.

    Args:
        x: input tensor.
        threshold: the magnitude below which values become 0.
    """
    x = as_float(t_or_a(x))
    return E.where(E.greater(E.abs(x), threshold), x, 0.0)


@keras_op
def soft_shrink(x, threshold=0.5):
    """Soft shrink: `x - threshold` above `threshold`, `x + threshold`
    below `-threshold`, else 0.

    Args:
        x: input tensor.
        threshold: the shrinkage amount.
    """
    x = as_float(t_or_a(x))
    return E.where(E.greater(x, threshold), E.subtract(x, threshold),
                   E.where(E.less(x, -threshold), E.add(x, threshold), 0.0))


@keras_op
def tanh_shrink(x):
    """Tanh shrink: `x - tanh(x)`."""
    x = as_float(t_or_a(x))
    return E.subtract(x, E.tanh(x))


@keras_op
def squareplus(x, b=4):
    """Squareplus: `(x + sqrt(x**2 + b)) / 2`, a smooth ReLU.

    Args:
        x: input tensor.
        b: smoothness (>= 0; 0 gives ReLU).
    """
    x = as_float(t_or_a(x))
    return E.multiply(E.add(x, E.sqrt(E.add(E.square(x), float(b)))), 0.5)


@keras_op
def sparse_sigmoid(x):
    """Sparse sigmoid: 0 for `x <= -1`, 1 for `x >= 1`, `(x + 1) / 2`
    between."""
    return E.clip(E.multiply(E.add(as_float(t_or_a(x)), 1.0), 0.5), 0.0,
                  1.0)


@keras_op
def threshold(x, threshold, default_value):
    """`x` where `x > threshold`, else `default_value`.

    Args:
        x: input tensor.
        threshold: the value to compare with.
        default_value: the value given where `x <= threshold`.
    """
    return E.where(E.greater(x, threshold), t_or_a(x), default_value)


@keras_op
def glu(x, axis=-1):
    """Gated linear unit: `a * sigmoid(b)` with `a, b` the two halves of
    `x` along `axis`.

    Args:
        x: input tensor; `axis` must have even length.
        axis: the axis to split.
    """
    n = arr(x).shape[axis]
    if n % 2:
        raise ValueError(
            "axis size must be divisible by 2. Received: "
            f"x.shape={arr(x).shape} with axis={axis}")
    a, b = S.split(t_or_a(x), 2, axis=axis)
    return E.multiply(a, sigmoid(b))


class _Sparsemax(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = xp_of(x)
        ax = self.axis
        z = xp.moveaxis(x, ax, -1)
        zs = -xp.sort(-z, axis=-1)
        cs = xp.cumsum(zs, axis=-1)
        k = xp.arange(1, z.shape[-1] + 1, dtype=z.dtype)
        support = zs - (cs - 1) / k > 0
        kz = support.sum(axis=-1, keepdims=True)
        tau = (xp.take_along_axis(cs, kz - 1, axis=-1) - 1) / kz.astype(
            z.dtype)
        y = xp.maximum(z - tau, 0)
        self.support = y > 0
        return xp.moveaxis(y, -1, ax)

    def backward(self, gy):
        # Jacobian: diag(s) - s s^T / |s| on the support s.
        xp = xp_of(gy)
        g = xp.moveaxis(gy, self.axis, -1)
        s = self.support.astype(g.dtype)
        mean = (g * s).sum(-1, keepdims=True) / s.sum(-1, keepdims=True)
        return xp.moveaxis(s * (g - mean), -1, self.axis)


@keras_op
def sparsemax(x, axis=-1):
    """Sparsemax: the Euclidean projection onto the probability simplex
    (a softmax whose outputs can be exactly 0; Martins & Astudillo 2016).

    Keras 3.15's own backends compute the threshold from the sum of all
    cumulative sums over the support, so its outputs leave the simplex
    whenever more than one is positive; gkeras computes the published
    sparsemax (the two agree when a single output is positive).

    Args:
        x: input tensor (logits).
        axis: the axis to normalize.
    """
    x = as_float(t_or_a(x))
    return _Sparsemax(axis % arr(x).ndim)(x)


@keras_op
def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio between two tensors, in dB:
    `20 log10(max_val) - 10 log10(mean((x1 - x2)**2))`.

    Args:
        x1, x2: tensors of the same shape.
        max_val: the largest possible signal value (1.0, 255, ...).
    """
    if tuple(arr(x1).shape) != tuple(arr(x2).shape):
        raise ValueError(f"Input shapes {arr(x1).shape} and {arr(x2).shape} "
                         "must match for PSNR calculation. ")
    mse = R.mean(E.square(E.subtract(x1, x2)))
    return E.subtract(float(20.0 * np.log10(float(arr(max_val)))),
                      E.multiply(E.log10(mse), 10.0))


@keras_op
def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False,
              **kwargs):
    """Multi-hot encodes integer labels: 1 at every class a row mentions.

    Args:
        inputs: integer labels, shape `(batch, k)` (or `(k,)`).
        num_classes: number of classes (`num_tokens` is accepted too).
        axis: where the class axis goes.
        dtype: output dtype (default `floatx()`).
        sparse: not supported (no sparse tensors in gkeras).

    Returns:
        Shape `(batch, num_classes)` (or `(num_classes,)`).
    """
    if kwargs:
        if "num_tokens" in kwargs:
            num_classes = kwargs.pop("num_tokens")
        if kwargs:
            raise TypeError(f"multi_hot got unexpected keyword arguments "
                            f"{sorted(kwargs)}.")
    if num_classes is None:
        raise ValueError("Argument `num_classes` must be specified.")
    if sparse:
        raise NotImplementedError("multi_hot(sparse=True) is not supported "
                                  "by gkeras (no sparse tensors).")
    a = to_array(inputs)
    oh = arr(one_hot(a.astype("int32"), int(num_classes), axis=axis,
                     dtype=dtype))
    return wrap(oh.max(axis=1 if a.ndim > 1 else 0))


def _check_4d(name, x, data_format):
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{name}: data_format must be 'channels_last' or "
                         f"'channels_first', received {data_format!r}.")
    shape = arr(x).shape
    if len(shape) != 4:
        raise ValueError(f"{name} expects a 4-D tensor, received shape "
                         f"{shape}.")
    return shape


@keras_op
def depth_to_space(x, block_size, data_format="channels_last"):
    """Pixel shuffle: moves blocks of channels into space.

    Args:
        x: 4-D tensor `(N, H, W, C)` (or `(N, C, H, W)` channels-first).
        block_size: the spatial block size `b`; `C` must divide by `b**2`.
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        `(N, H*b, W*b, C/b**2)` (or channels-first).
    """
    shape = _check_4d("depth_to_space", x, data_format)
    b = int(block_size)
    c = shape[3] if data_format == "channels_last" else shape[1]
    if c % (b * b):
        raise ValueError(f"depth_to_space: channels ({c}) must be divisible "
                         f"by block_size**2 ({b * b}).")
    if data_format == "channels_last":
        n, h, w, c = shape
        y = S.reshape(x, (n, h, w, b, b, c // (b * b)))
        y = S.transpose(y, (0, 1, 3, 2, 4, 5))
        return S.reshape(y, (n, h * b, w * b, c // (b * b)))
    n, c, h, w = shape
    y = S.reshape(x, (n, c // (b * b), b, b, h, w))
    y = S.transpose(y, (0, 1, 4, 2, 5, 3))
    return S.reshape(y, (n, c // (b * b), h * b, w * b))


@keras_op
def space_to_depth(x, block_size, data_format="channels_last"):
    """Pixel unshuffle: moves spatial blocks into channels (the inverse of
    `depth_to_space`).

    Args:
        x: 4-D tensor `(N, H, W, C)` (or `(N, C, H, W)` channels-first).
        block_size: the block size `b`; `H` and `W` must divide by it.
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        `(N, H/b, W/b, C*b**2)` (or channels-first).
    """
    shape = _check_4d("space_to_depth", x, data_format)
    b = int(block_size)
    h, w = shape[1:3] if data_format == "channels_last" else shape[2:]
    if h % b or w % b:
        raise ValueError(f"space_to_depth: height and width ({h}, {w}) must "
                         f"be divisible by block_size ({b}).")
    if data_format == "channels_last":
        n, h, w, c = shape
        y = S.reshape(x, (n, h // b, b, w // b, b, c))
        y = S.transpose(y, (0, 1, 3, 2, 4, 5))
        return S.reshape(y, (n, h // b, w // b, c * b * b))
    n, c, h, w = shape
    y = S.reshape(x, (n, c, h // b, b, w // b, b))
    y = S.transpose(y, (0, 1, 3, 5, 2, 4))
    return S.reshape(y, (n, c * b * b, h // b, w // b))


# -- segment reductions -------------------------------------------------------

class _Segment(Function):
    nondiff_inputs = (1,)

    def __init__(self, kind, num_segments):
        self.kind, self.num = kind, num_segments

    def forward(self, data, ids):
        xp = xp_of(data)
        kern = backend.kernels_for(data)
        # Rows with id -1 (or out of range, dropped as by JAX) go to an
        # extra segment that is cut off: no boolean mask, so no host sync.
        valid = (ids >= 0) & (ids < self.num)
        self.ids = xp.where(valid, ids, self.num)
        self.valid, self.data = valid, data
        shape = (self.num + 1,) + data.shape[1:]
        if self.kind == "sum":
            out = xp.zeros(shape, data.dtype)
            kern.scatter_add(out, self.ids, data)
        else:
            if data.dtype.kind == "f":
                init = {"max": -np.inf, "min": np.inf, "prod": 1}[self.kind]
            else:
                info = np.iinfo(data.dtype)
                init = {"max": info.min, "min": info.max,
                        "prod": 1}[self.kind]
            out = xp.full(shape, init, data.dtype)
            kern.scatter_reduce(out, self.ids, data, self.kind)
        self.y = out
        return out[:self.num]

    def backward(self, gy):
        if not is_float(self.data):
            return None, None
        xp = xp_of(gy)
        mask = self.valid.reshape(self.valid.shape + (1,) *
                                  (self.data.ndim - 1))
        gfull = xp.concatenate([gy, xp.zeros((1,) + gy.shape[1:],
                                             gy.dtype)])
        g = gfull[self.ids]
        if self.kind == "sum":
            return g, None
        y = self.y[self.ids]
        if self.kind == "prod":
            # Exact where no factor is zero (as `ops.prod`'s gradient).
            return g * y / xp.where(self.data == 0, 1, self.data), None
        hit = ((self.data == y) & mask).astype(gy.dtype)
        count = xp.zeros(self.y.shape, gy.dtype)
        backend.kernels_for(count).scatter_add(count, self.ids, hit)
        # Ties share the gradient equally, as for `ops.max`.
        return g * hit / xp.maximum(count[self.ids], 1), None


def _segment(kind, data, segment_ids, num_segments, sorted):
    d = arr(data)
    ids = xp_of(d).asarray(to_array(segment_ids))
    if ids.ndim != 1 or ids.shape[0] != d.shape[0]:
        raise ValueError(
            f"segment_{kind}: segment_ids must be 1-D with one id per row of "
            f"data; received segment_ids shape {ids.shape} and data shape "
            f"{d.shape}.")
    if num_segments is None:
        num_segments = int(ids.max()) + 1 if ids.size else 0
    return _Segment(kind, int(num_segments))(t_or_a(data),
                                             ids.astype("int64"))


def _segment_op(kind, doc):
    def op(data, segment_ids, num_segments=None, sorted=False):
        return _segment(kind, data, segment_ids, num_segments, sorted)
    op.__name__ = op.__qualname__ = f"segment_{kind}"
    op.__doc__ = doc
    return keras_op(op)


_SEG_ARGS = """

    Args:
        data: tensor whose first axis is segmented.
        segment_ids: 1-D int tensor, the segment of each row of `data`
            (rows with id -1 are dropped).
        num_segments: number of segments (default `max(segment_ids) + 1`).
        sorted: whether `segment_ids` are sorted (a hint; any order works).

    Returns:
        A tensor of shape `(num_segments,) + data.shape[1:]`.
"""
segment_sum = _segment_op("sum", "Sum of each segment (0 where empty)."
                          + _SEG_ARGS)
segment_max = _segment_op("max", "Maximum of each segment (-inf where "
                          "empty)." + _SEG_ARGS)
segment_min = _segment_op("min", "Minimum of each segment (+inf where "
                          "empty)." + _SEG_ARGS)
segment_prod = _segment_op("prod", "Product of each segment (1 where "
                           "empty)." + _SEG_ARGS)


# -- sliding windows ----------------------------------------------------------

@keras_op
def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of the last axis: windows of `sequence_length` every
    `sequence_stride` samples.

    Args:
        x: tensor `(..., n)`.
        sequence_length: window length.
        sequence_stride: hop between windows.

    Returns:
        `(..., num_sequences, sequence_length)` with
        `num_sequences = 1 + (n - sequence_length) // sequence_stride`.
    """
    n = arr(x).shape[-1]
    ln, st = int(sequence_length), int(sequence_stride)
    count = (n - (ln - st)) // st
    idx = np.arange(count)[:, None] * st + np.arange(ln)[None, :]
    x = t_or_a(x)
    return S.getitem(x, (Ellipsis, xp_of(arr(x)).asarray(idx)))


def _pair(v, name):
    if isinstance(v, int):
        return (v, v)
    v = tuple(int(i) for i in v)
    if len(v) != 2:
        raise ValueError(f"{name} must be an int or a pair, received {v}.")
    return v


def _windows(h, w, k, d, p, s):
    """Row/column index grids of the padded image for each patch."""
    oh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    rows = np.arange(k[0])[:, None] * d[0] + np.arange(oh)[None] * s[0]
    cols = np.arange(k[1])[:, None] * d[1] + np.arange(ow)[None] * s[1]
    return rows[:, None, :, None], cols[None, :, None, :], oh, ow


@keras_op
def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Extracts sliding local blocks (im2col) of an NCHW image batch.

    Args:
        x: 4-D tensor `(N, C, H, W)`.
        kernel_size: int or `(kH, kW)`.
        dilation: int or pair.
        padding: int or pair (zeros on both sides).
        stride: int or pair.

    Returns:
        `(N, C*kH*kW, L)`, blocks ordered as PyTorch's `unfold`.
    """
    shape = arr(x).shape
    if len(shape) != 4:
        raise ValueError(f"unfold expects a 4-D NCHW tensor, received shape "
                         f"{shape}.")
    k, d = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    p, s = _pair(padding, "padding"), _pair(stride, "stride")
    n, c, h, w = shape
    xp_ = S.pad(x, [(0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])])
    ri, ci, oh, ow = _windows(h, w, k, d, p, s)
    xp = xp_of(arr(xp_))
    patches = S.getitem(xp_, (slice(None), slice(None), xp.asarray(ri),
                              xp.asarray(ci)))
    return S.reshape(patches, (n, c * k[0] * k[1], oh * ow))


class _Fold(Function):
    def __init__(self, out_shape, ri, ci, p):
        self.out_shape, self.ri, self.ci, self.p = out_shape, ri, ci, p

    def forward(self, cols):
        xp = xp_of(cols)
        n, c, hp, wp = self.out_shape
        kh, kw = self.ri.shape[0], self.ci.shape[1]
        oh, ow = self.ri.shape[2], self.ci.shape[3]
        v = cols.reshape(n, c, kh, kw, oh, ow)
        # Batch and channel axes last so one scatter covers every image.
        o = xp.zeros((hp, wp, n, c), cols.dtype)
        ri = xp.asarray(np.broadcast_to(self.ri, (kh, kw, oh, ow)))
        ci = xp.asarray(np.broadcast_to(self.ci, (kh, kw, oh, ow)))
        backend.kernels_for(o).scatter_add(
            o, (ri, ci), xp.ascontiguousarray(xp.moveaxis(v, (0, 1), (4, 5))))
        out = xp.ascontiguousarray(xp.moveaxis(o, (2, 3), (0, 1)))
        self.cshape = cols.shape
        ph, pw = self.p
        return out[:, :, ph:hp - ph, pw:wp - pw]

    def backward(self, gy):
        xp = xp_of(gy)
        ph, pw = self.p
        g = xp.pad(gy, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        return g[:, :, xp.asarray(self.ri), xp.asarray(self.ci)].reshape(
            self.cshape)


@keras_op
def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combines sliding local blocks into an image (col2im, the adjoint of
    `unfold`): overlapping values are summed.

    Args:
        x: 3-D tensor `(N, C*kH*kW, L)`.
        output_size: int or `(H, W)`.
        kernel_size: int or `(kH, kW)`.
        dilation: int or pair.
        padding: int or pair.
        stride: int or pair.

    Returns:
        `(N, C, H, W)`.
    """
    shape = arr(x).shape
    if len(shape) != 3:
        raise ValueError(f"fold expects a 3-D tensor (N, C*kH*kW, L), "
                         f"received shape {shape}.")
    o = _pair(output_size, "output_size")
    k, d = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    p, s = _pair(padding, "padding"), _pair(stride, "stride")
    n, ckk, length = shape
    if ckk % (k[0] * k[1]):
        raise ValueError(f"fold: axis 1 ({ckk}) must be divisible by "
                         f"kH*kW ({k[0] * k[1]}).")
    ri, ci, oh, ow = _windows(o[0], o[1], k, d, p, s)
    if oh * ow != length:
        raise ValueError(f"fold: expected {oh * ow} blocks for output_size "
                         f"{o}, received L={length}.")
    out_shape = (n, ckk // (k[0] * k[1]), o[0] + 2 * p[0], o[1] + 2 * p[1])
    return _Fold(out_shape, ri, ci, p)(t_or_a(x))
