"""Convolution and pooling ops (Keras 3 `ops.conv`, `ops.max_pool`, ...).

Each convolution or pooling call is ONE autograd `Function` whose forward
and backward call the array kernels of `backend.kernels_for(x)` (NumPy on
the CPU, our CUDA kernels on CuPy arrays). The kernels are channels-last
with explicit `(before, after)` padding; this module turns Keras's
`padding="valid"|"same"|"causal"` into those pairs (Keras/JAX 'same': the
odd padding cell goes after) and handles `channels_first` by transposing
around the channels-last kernels.

Bias and activation stay separate ops (a broadcast add is one cheap
element-wise pass; the conv itself dominates).
"""

from gkeras import backend
from gkeras.backend.config import standardize_data_format
from gkeras.ops._base import keras_op, t_or_a, unbroadcast
from gkeras.backend import cpu as _cpu
from gkeras.backend.cpu import conv as _cpu_conv
from gkeras.backend.cpu import pool as _cpu_pool
from gkeras.ops.engine import Function, Tensor, is_recording

__all__ = ["conv", "depthwise_conv", "separable_conv", "conv_transpose",
           "max_pool", "average_pool", "compute_conv_padding",
           "conv_output_length", "conv_transpose_padding"]


# ---------------------------------------------------------------- helpers
def _tuple(v, rank, name, who="conv"):
    if isinstance(v, int) or (hasattr(v, "__index__") and
                              not isinstance(v, (list, tuple))):
        v = (int(v),) * rank
    try:
        v = tuple(int(a) for a in v)
    except TypeError:
        raise ValueError(f"{who}: `{name}` must be an int or a tuple of "
                         f"{rank} ints. Received: {name}={v!r}") from None
    if len(v) == 1 and rank > 1:
        v = v * rank
    if len(v) != rank:
        raise ValueError(f"{who}: `{name}` must be an int or a tuple of "
                         f"{rank} ints. Received: {name}={v}")
    return v


def _check_padding_mode(padding, who, allow_causal=False):
    p = str(padding).lower()
    allowed = ("valid", "same", "causal") if allow_causal else ("valid",
                                                                "same")
    if p not in allowed:
        raise ValueError(f"{who}: `padding` must be one of {allowed}. "
                         f"Received: padding={padding!r}")
    return p


def _same_pair(n, k_eff, stride):
    out = -(-n // stride)
    total = max((out - 1) * stride + k_eff - n, 0)
    return (total // 2, total - total // 2)


def compute_conv_padding(spatial, kernel_size, strides, padding,
                         dilation_rate):
    """Keras's padding mode as explicit `(before, after)` pairs.

    Args:
        spatial: the input's spatial sizes.
        kernel_size, strides, dilation_rate: one int per spatial dim.
        padding: `"valid"`, `"same"` (extra cell after, as Keras/JAX/TF)
            or `"causal"` (all of it before; 1-D).

    Returns:
        A tuple of `(before, after)` int pairs, one per spatial dim.
    """
    pads = []
    for n, k, s, d in zip(spatial, kernel_size, strides, dilation_rate):
        k_eff = d * (k - 1) + 1
        if padding == "valid":
            pads.append((0, 0))
        elif padding == "same":
            pads.append(_same_pair(n, k_eff, s))
        else:  # causal
            pads.append((k_eff - 1, 0))
    return tuple(pads)


def conv_output_length(n, kernel_size, stride, padding, dilation=1):
    """Output length of a convolution/pooling along one axis (None-safe).

    Returns:
        The length, or None when `n` is None; may be <= 0 for inputs that
        are too small (callers turn that into an error naming the layer).
    """
    if n is None:
        return None
    k_eff = dilation * (kernel_size - 1) + 1
    if padding == "same":
        return -(-n // stride)
    if padding == "causal":
        n = n + k_eff - 1
    return (n - k_eff) // stride + 1


def conv_transpose_padding(kernel_size, stride, dilation, padding,
                           output_padding):
    """JAX's (= Keras's) padding of a transposed convolution, per axis.

    Returns `(left, right)` padding of the stride-dilated input (before the
    flipped-kernel convolution), exactly as Keras's JAX backend computes it.
    """
    k_eff = (kernel_size - 1) * dilation + 1
    if padding == "valid":
        op = max(k_eff, stride) - k_eff if output_padding is None \
            else output_padding
        return k_eff - 1, k_eff - 1 + op
    if output_padding is None:
        pad_len = stride + k_eff - 2
    else:
        pad_len = k_eff + k_eff % 2 - 2 + output_padding
    left = min(pad_len // 2 + pad_len % 2, k_eff - 1)
    return left, pad_len - left


def conv_transpose_output_length(n, kernel_size, stride, padding,
                                 output_padding=None, dilation=1):
    """Output length of a transposed convolution along one axis."""
    if n is None:
        return None
    left, right = conv_transpose_padding(kernel_size, stride, dilation,
                                         padding, output_padding)
    k_eff = (kernel_size - 1) * dilation + 1
    return (n - 1) * stride + left + right - k_eff + 2


def _to_last(x, rank):
    from gkeras.ops.shape import transpose
    return transpose(x, (0, *range(2, rank + 2), 1))


def _to_first(x, rank):
    from gkeras.ops.shape import transpose
    return transpose(x, (0, rank + 1, *range(1, rank + 1)))


# --------------------------------------------------------- the primitives
class Conv(Function):
    """N-D convolution, channels-last, explicit padding: one autograd node.

    Inputs are `x`, `kernel` and optionally a `(F,)` bias, added to the
    fresh output in place (one pass, where a separate add op allocates a
    second output-sized array and broadcasts over a short channel axis).

    Args:
        strides, padding, dilation_rate, groups: as in
            `backend.cpu.conv_forward` (padding as `(before, after)` pairs).
    """

    def __init__(self, strides, padding, dilation_rate, groups):
        self.strides = strides
        self.padding = padding
        self.dilation_rate = dilation_rate
        self.groups = groups

    def __call__(self, x, kernel, *bias):
        # Keep the forward's im2col patches for the kernel gradient only
        # when one will be taken (training); inference keeps nothing.
        self._keep_cols = is_recording() and isinstance(kernel, Tensor) \
            and kernel.requires_grad
        return super().__call__(x, kernel, *bias)

    def forward(self, x, kernel, bias=None):
        self.x, self.kernel = x, kernel
        self.bias_shape = None if bias is None else bias.shape
        self.cols = None
        k = backend.kernels_for(x)
        if k is _cpu:
            # NumPy: one im2col serves the output and the kernel gradient.
            y, self.cols = _cpu_conv.conv_forward_keep_cols(
                x, kernel, self.strides, self.padding, self.dilation_rate,
                self.groups, keep=getattr(self, "_keep_cols", False),
                bias=bias)
            return y
        y = k.conv_forward(
            x, kernel, self.strides, self.padding, self.dilation_rate,
            self.groups)
        return y if bias is None else y + bias

    def backward(self, gy):
        k = backend.kernels_for(gy)
        args = (self.strides, self.padding, self.dilation_rate, self.groups)
        # The first layer's input needs no gradient: skip the data-grad GEMM.
        gx = k.conv_backward_input(gy, self.kernel, self.x.shape, *args) \
            if self.needs_grad(0) else None
        gk = None
        if self.needs_grad(1):
            cols, self.cols = self.cols, None    # freed after this step
            if cols is not None and k is _cpu:
                gk = _cpu_conv.conv_backward_kernel_from_cols(
                    gy, cols, self.kernel.shape, self.groups)
            else:
                gk = k.conv_backward_kernel(gy, self.x, self.kernel.shape,
                                            *args)
        self.cols = None
        if self.bias_shape is None:
            return gx, gk
        gb = unbroadcast(gy, self.bias_shape) if self.needs_grad(2) else None
        return gx, gk, gb


class ConvTranspose(Function):
    """Transposed convolution (the data gradient of `Conv`), one node.

    Args:
        out_shape: the output shape `(N, *spatial, filters)`.
        strides, padding, dilation_rate: of the forward convolution whose
            input gradient this is.
    """

    def __init__(self, out_shape, strides, padding, dilation_rate):
        self.out_shape = tuple(out_shape)
        self.strides = strides
        self.padding = padding
        self.dilation_rate = dilation_rate

    def forward(self, x, kernel):
        self.x, self.kernel = x, kernel
        return backend.kernels_for(x).conv_backward_input(
            x, kernel, self.out_shape, self.strides, self.padding,
            self.dilation_rate, 1)

    def backward(self, gy):
        k = backend.kernels_for(gy)
        args = (self.strides, self.padding, self.dilation_rate, 1)
        gx = k.conv_forward(gy, self.kernel, *args) \
            if self.needs_grad(0) else None
        gk = k.conv_backward_kernel(self.x, gy, self.kernel.shape, *args) \
            if self.needs_grad(1) else None
        return gx, gk


class MaxPool(Function):
    """Max pooling, channels-last, explicit padding: one autograd node."""

    def __init__(self, pool_size, strides, padding):
        self.pool_size, self.strides, self.padding = pool_size, strides, \
            padding

    def __call__(self, x):
        # Inference needs no winners: NumPy then takes the max alone.
        self._values_only = not (is_recording() and isinstance(x, Tensor)
                                 and x.requires_grad)
        return super().__call__(x)

    def forward(self, x):
        self.x = x
        self.tap = None
        k = backend.kernels_for(x)
        if k is _cpu and getattr(self, "_values_only", False):
            self.argmax = None
            return _cpu_pool.max_pool_values(x, self.pool_size, self.strides,
                                             self.padding)
        if k is _cpu and _cpu_pool.taps_cover(self.pool_size, self.strides,
                                              self.padding):
            # NumPy, windows side by side: route the gradient by window tap.
            self.argmax = None
            y, self.tap = _cpu_pool.max_pool_forward_taps(
                x, self.pool_size, self.strides, self.padding)
            return y
        y, self.argmax = k.max_pool_forward(
            x, self.pool_size, self.strides, self.padding)
        return y

    def backward(self, gy):
        if self.tap is not None:
            return _cpu_pool.max_pool_backward_taps(
                gy, self.x.shape, self.tap, self.pool_size, self.strides)
        return backend.kernels_for(gy).max_pool_backward(
            gy, self.x, self.argmax, self.pool_size, self.strides,
            self.padding)


class AvgPool(Function):
    """Average pooling (padded cells not counted): one autograd node."""

    def __init__(self, pool_size, strides, padding):
        self.pool_size, self.strides, self.padding = pool_size, strides, \
            padding

    def forward(self, x):
        self.x_shape = x.shape
        return backend.kernels_for(x).avg_pool_forward(
            x, self.pool_size, self.strides, self.padding)

    def backward(self, gy):
        return backend.kernels_for(gy).avg_pool_backward(
            gy, self.x_shape, self.pool_size, self.strides, self.padding)


# ------------------------------------------------------------ shared glue
def _prepare(inputs, rank_from, data_format, who):
    x = t_or_a(inputs)
    data_format = standardize_data_format(data_format)
    rank = rank_from - 2
    if not 1 <= rank <= 3:
        raise ValueError(f"{who}: `inputs` must have rank 3, 4 or 5 "
                         f"(batch, *spatial, channels). Received: "
                         f"inputs.shape={tuple(x.shape)}")
    if data_format == "channels_first":
        x = _to_last(x, rank)
    return x, rank, data_format


def _finish(y, rank, data_format):
    return _to_first(y, rank) if data_format == "channels_first" else y


def _float_like(kernel, x):
    k = t_or_a(kernel)
    if k.dtype != x.dtype and x.dtype.kind == "f":
        from gkeras.ops.core import cast
        k = cast(k, x.dtype)
    return k


def conv_channels_last(x, kernel, strides, padding, dilation_rate, groups,
                       who="conv", bias=None):
    """Convolution of channels-last `x` with Keras padding names.

    The building block of `conv` and the Conv layers: resolves
    'valid'/'same'/'causal' against the actual input size, then runs one
    `Conv` node (adding `bias`, a `(filters,)` tensor of the dtype of `x`,
    when given). Raises a ValueError naming `who` with the shapes when the
    kernel does not fit or the output would be empty.
    """
    rank = x.ndim - 2
    ksize = tuple(kernel.shape[:rank])
    spatial = tuple(x.shape[1:-1])
    pads = compute_conv_padding(spatial, ksize, strides, padding,
                                dilation_rate)
    for i in range(rank):
        k_eff = dilation_rate[i] * (ksize[i] - 1) + 1
        padded = spatial[i] + pads[i][0] + pads[i][1]
        if padded < k_eff:
            raise ValueError(
                f"{who}: the kernel (size {ksize}, dilation "
                f"{tuple(dilation_rate)}, so spanning {k_eff} on spatial "
                f"axis {i}) is larger than the padded input ({padded} on "
                f"that axis; input shape {tuple(x.shape)}, padding="
                f"{padding!r}). The output would be empty: use a smaller "
                "kernel_size/dilation_rate, padding='same', or a larger "
                "input.")
    return Conv(strides, pads, dilation_rate, groups)(
        x, kernel, *(() if bias is None else (bias,)))


# -------------------------------------------------------------------- ops
@keras_op
def conv(inputs, kernel, strides=1, padding="valid", data_format=None,
         dilation_rate=1):
    """General N-D convolution (cross-correlation, as Keras).

    Args:
        inputs: `(batch, *spatial, channels)` (or channels-first).
        kernel: `(*kernel_size, channels // groups, filters)`; `groups` is
            `channels // kernel.shape[-2]`.
        strides: int or tuple, one per spatial dim.
        padding: `"valid"` or `"same"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: int or tuple.

    Returns:
        The convolved tensor, `(batch, *out_spatial, filters)`.

    Example:
    >>> x = np.ones((1, 5, 5, 2), "float32")
    >>> k = np.ones((3, 3, 2, 4), "float32")
    >>> gkeras.ops.conv(x, k, padding="same").shape
    (1, 5, 5, 4)
    """
    who = "ops.conv"
    x, rank, fmt = _prepare(inputs, len(inputs.shape), data_format, who)
    padding = _check_padding_mode(padding, who)
    k = _float_like(kernel, x)
    if len(k.shape) != rank + 2:
        raise ValueError(f"{who}: `kernel` must have rank {rank + 2} "
                         f"(*kernel_size, in_channels // groups, filters) for "
                         f"inputs of shape {tuple(inputs.shape)}. Received: "
                         f"kernel.shape={tuple(k.shape)}")
    c = x.shape[-1]
    if c % k.shape[-2]:
        raise ValueError(f"{who}: the input channels ({c}) must be a "
                         f"multiple of kernel.shape[-2] ({k.shape[-2]}). "
                         f"Received: inputs.shape={tuple(inputs.shape)}, "
                         f"kernel.shape={tuple(k.shape)}")
    groups = c // k.shape[-2]
    y = conv_channels_last(
        x, k, _tuple(strides, rank, "strides", who), padding,
        _tuple(dilation_rate, rank, "dilation_rate", who), groups, who)
    return _finish(y, rank, fmt)


def _depthwise_as_grouped(kernel):
    from gkeras.ops.shape import reshape
    *ks, c, m = kernel.shape
    # (*k, C, M) -> (*k, 1, C * M): output channel c * M + m is group c,
    # which is Keras's channel order for depthwise outputs.
    return reshape(kernel, (*ks, 1, c * m)), c


@keras_op
def depthwise_conv(inputs, kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    """Depthwise convolution: each input channel convolved on its own.

    Args:
        inputs: `(batch, *spatial, channels)` (or channels-first).
        kernel: `(*kernel_size, channels, depth_multiplier)`.
        strides, padding, data_format, dilation_rate: as in `conv`.

    Returns:
        `(batch, *out_spatial, channels * depth_multiplier)`.

    Example:
    >>> x = np.ones((1, 6, 6, 3), "float32")
    >>> gkeras.ops.depthwise_conv(x, np.ones((3, 3, 3, 2), "float32")).shape
    (1, 4, 4, 6)
    """
    who = "ops.depthwise_conv"
    x, rank, fmt = _prepare(inputs, len(inputs.shape), data_format, who)
    padding = _check_padding_mode(padding, who)
    k = _float_like(kernel, x)
    if len(k.shape) != rank + 2 or k.shape[-2] != x.shape[-1]:
        raise ValueError(f"{who}: `kernel` must have shape (*kernel_size, "
                         f"{x.shape[-1]}, depth_multiplier) for inputs of "
                         f"shape {tuple(inputs.shape)}. Received: "
                         f"kernel.shape={tuple(k.shape)}")
    kg, c = _depthwise_as_grouped(k)
    y = conv_channels_last(
        x, kg, _tuple(strides, rank, "strides", who), padding,
        _tuple(dilation_rate, rank, "dilation_rate", who), c, who)
    return _finish(y, rank, fmt)


@keras_op
def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1,
                   padding="valid", data_format=None, dilation_rate=1):
    """Depthwise convolution followed by a pointwise (1x1) convolution.

    Args:
        inputs: `(batch, *spatial, channels)` (or channels-first).
        depthwise_kernel: `(*kernel_size, channels, depth_multiplier)`.
        pointwise_kernel: `(1, ..., 1, channels * depth_multiplier,
            filters)`.
        strides, padding, data_format, dilation_rate: of the depthwise
            step, as in `conv`.

    Returns:
        `(batch, *out_spatial, filters)`.

    Example:
    >>> x = np.ones((1, 6, 6, 3), "float32")
    >>> gkeras.ops.separable_conv(x, np.ones((3, 3, 3, 2), "float32"),
    ...                           np.ones((1, 1, 6, 4), "float32")).shape
    (1, 4, 4, 4)
    """
    fmt = standardize_data_format(data_format)
    y = depthwise_conv._eager(inputs, depthwise_kernel, strides, padding,
                              fmt, dilation_rate)
    return conv._eager(y, pointwise_kernel, 1, "valid", fmt, 1)


@keras_op
def conv_transpose(inputs, kernel, strides=1, padding="valid",
                   output_padding=None, data_format=None, dilation_rate=1):
    """Transposed convolution (the gradient of `conv` w.r.t. its input).

    Args:
        inputs: `(batch, *spatial, channels)` (or channels-first).
        kernel: `(*kernel_size, filters, channels)`, Keras's layout.
        strides, padding, data_format, dilation_rate: as in `conv`.
        output_padding: int or tuple (each < its stride), or None to let
            the output size follow from the other arguments.

    Returns:
        `(batch, *out_spatial, filters)`.

    Example:
    >>> x = np.ones((1, 4, 4, 3), "float32")
    >>> k = np.ones((3, 3, 5, 3), "float32")
    >>> gkeras.ops.conv_transpose(x, k, strides=2, padding="same").shape
    (1, 8, 8, 5)
    """
    who = "ops.conv_transpose"
    x, rank, fmt = _prepare(inputs, len(inputs.shape), data_format, who)
    padding = _check_padding_mode(padding, who)
    k = _float_like(kernel, x)
    if len(k.shape) != rank + 2 or k.shape[-1] != x.shape[-1]:
        raise ValueError(f"{who}: `kernel` must have shape (*kernel_size, "
                         f"filters, {x.shape[-1]}) for inputs of shape "
                         f"{tuple(inputs.shape)}. Received: kernel.shape="
                         f"{tuple(k.shape)}")
    y = conv_transpose_channels_last(
        x, k, _tuple(strides, rank, "strides", who), padding,
        None if output_padding is None else _tuple(
            output_padding, rank, "output_padding", who),
        _tuple(dilation_rate, rank, "dilation_rate", who), who)
    return _finish(y, rank, fmt)


def conv_transpose_channels_last(x, kernel, strides, padding,
                                 output_padding, dilation_rate,
                                 who="conv_transpose"):
    """Transposed convolution of channels-last `x` with Keras padding
    names; one `ConvTranspose` node (see `conv_transpose`)."""
    rank = x.ndim - 2
    ksize = tuple(kernel.shape[:rank])
    out, pads = [], []
    for i in range(rank):
        op = None if output_padding is None else output_padding[i]
        if op is not None and op >= strides[i]:
            raise ValueError(
                f"{who}: `output_padding` must be smaller than the stride "
                f"on every axis. Received: output_padding="
                f"{tuple(output_padding)}, strides={tuple(strides)}")
        left, right = conv_transpose_padding(ksize[i], strides[i],
                                             dilation_rate[i], padding, op)
        k_eff = (ksize[i] - 1) * dilation_rate[i] + 1
        n = (x.shape[1 + i] - 1) * strides[i] + left + right - k_eff + 2
        if n <= 0:
            raise ValueError(f"{who}: the output would have size {n} on "
                             f"spatial axis {i} for input shape "
                             f"{tuple(x.shape)}, kernel_size={ksize}.")
        out.append(n)
        # The forward conv this is the gradient of pads `before` cells; the
        # `after` side only has to make that conv's output length match.
        before = k_eff - 1 - left
        after = max(0, k_eff - 1 - right)
        pads.append((before, after))
    out_shape = (x.shape[0], *out, kernel.shape[-2])
    return ConvTranspose(out_shape, strides, tuple(pads), dilation_rate)(
        x, kernel)


def pool_channels_last(x, mode, pool_size, strides, padding, who="pool"):
    """Max/average pooling of channels-last `x` with Keras padding names.

    Raises a ValueError naming `who` when the window does not fit.
    """
    rank = x.ndim - 2
    spatial = tuple(x.shape[1:-1])
    pads = compute_conv_padding(spatial, pool_size, strides, padding,
                                (1,) * rank)
    for i in range(rank):
        padded = spatial[i] + pads[i][0] + pads[i][1]
        if padded < pool_size[i]:
            raise ValueError(
                f"{who}: pool_size={tuple(pool_size)} is larger than the "
                f"input (spatial axis {i} has {spatial[i]}; input shape "
                f"{tuple(x.shape)}) with padding={padding!r}: the output "
                "would be empty. Use a smaller pool_size or "
                "padding='same'.")
    fn = MaxPool if mode == "max" else AvgPool
    return fn(pool_size, strides, pads)(x)


def _pool_op(mode, inputs, pool_size, strides, padding, data_format, who):
    x, rank, fmt = _prepare(inputs, len(inputs.shape), data_format, who)
    padding = _check_padding_mode(padding, who)
    pool = _tuple(pool_size, rank, "pool_size", who)
    strides = pool if strides is None else _tuple(strides, rank, "strides",
                                                  who)
    return _finish(pool_channels_last(x, mode, pool, strides, padding, who),
                   rank, fmt)


@keras_op
def max_pool(inputs, pool_size, strides=None, padding="valid",
             data_format=None):
    """Max pooling.

    Args:
        inputs: `(batch, *spatial, channels)` (or channels-first), 1 to 3
            spatial dims.
        pool_size: int or tuple, one per spatial dim.
        strides: int or tuple; None means `pool_size`.
        padding: `"valid"` or `"same"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Returns:
        The pooled tensor.

    Example:
    >>> gkeras.ops.max_pool(np.ones((1, 4, 4, 1), "float32"), 2).shape
    (1, 2, 2, 1)
    """
    return _pool_op("max", inputs, pool_size, strides, padding, data_format,
                    "ops.max_pool")


@keras_op
def average_pool(inputs, pool_size, strides=None, padding="valid",
                 data_format=None):
    """Average pooling (with 'same', padded cells are not counted).

    Args:
        inputs: `(batch, *spatial, channels)` (or channels-first), 1 to 3
            spatial dims.
        pool_size: int or tuple, one per spatial dim.
        strides: int or tuple; None means `pool_size`.
        padding: `"valid"` or `"same"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Returns:
        The pooled tensor.

    Example:
    >>> gkeras.ops.average_pool(np.ones((1, 4, 4, 1), "float32"), 2).shape
    (1, 2, 2, 1)
    """
    return _pool_op("avg", inputs, pool_size, strides, padding, data_format,
                    "ops.average_pool")
