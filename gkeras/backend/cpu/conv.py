"""Convolution primitives on NumPy: forward, input gradient, kernel gradient.

Channels-last, any number of spatial dims (1, 2 or 3), explicit padding,
strides, dilation and groups. The forward pass is a strided im2col *view*
of the (padded) input, made contiguous once, and one GEMM per group (a
single batched `matmul`); the input gradient is one GEMM then col2im by
strided accumulation, one slice-add per kernel tap; the kernel gradient is
im2col + one GEMM. No Python loop runs over pixels or over the batch.
With the optional JIT (`jit.py`), one group and 1-2 spatial dims, the
patches, the GEMMs, col2im and the bias run in blocks of samples instead
(`conv_blocks.py`, kernels in `cnn_jit.py`); this NumPy path stays the
reference and the path for everything else.

Layouts (Keras):
    x: (N, *spatial, C_in)
    kernel: (*kernel_size, C_in // groups, F); output channel `f` belongs
        to group `f // (F // groups)`, as in Keras/TensorFlow.
    y: (N, *out_spatial, F), with
        out = floor((in + before + after - dilation * (k - 1) - 1) / stride) + 1
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from gkeras.backend.cpu import cnn_jit, conv_blocks
from gkeras.backend.cpu.parallel import split_rows

# The GPU module exports the same names; `conv_forward_keep_cols` and
# `conv_backward_kernel_from_cols` are NumPy-only extras that `ops.conv`
# calls by module (the CUDA path saves no patches), so not listed here.
__all__ = ["conv_forward", "conv_backward_input", "conv_backward_kernel",
           "conv_output_shape"]


# ------------------------------------------------------------------ checks
def _tuple(v, rank, name, where):
    if isinstance(v, (int, np.integer)):
        v = (int(v),) * rank
    v = tuple(int(a) for a in v)
    if len(v) != rank:
        raise ValueError(f"{where}: `{name}` must have {rank} entries (one "
                         f"per spatial dim), received {name}={v}")
    if any(a < 1 for a in v):
        raise ValueError(f"{where}: `{name}` entries must be >= 1, "
                         f"received {name}={v}")
    return v


def _padding(padding, rank, where):
    try:
        pad = tuple((int(p[0]), int(p[1])) for p in padding)
    except (TypeError, IndexError, ValueError):
        raise ValueError(f"{where}: `padding` must be {rank} (before, after) "
                         f"int pairs, received padding={padding!r}") from None
    if len(pad) != rank or any(a < 0 or b < 0 for a, b in pad):
        raise ValueError(f"{where}: `padding` must be {rank} non-negative "
                         f"(before, after) pairs, received padding={pad}")
    return pad


def conv_output_shape(x_shape, kernel_shape, strides, padding, dilation_rate,
                      groups=1):
    """Returns the output shape of `conv_forward` and checks the arguments.

    Args:
        x_shape: `(N, *spatial, C_in)`.
        kernel_shape: `(*kernel_size, C_in // groups, F)`.
        strides, dilation_rate: one int per spatial dim.
        padding: one `(before, after)` pair per spatial dim.
        groups: number of channel groups.

    Returns:
        `(N, *out_spatial, F)` as a tuple of ints.

    Raises:
        ValueError: naming the argument, with the expected and received
            values, when the shapes do not fit together or the output would
            be empty.
    """
    where = "conv"
    x_shape, kernel_shape = tuple(x_shape), tuple(kernel_shape)
    rank = len(x_shape) - 2
    if rank < 1 or rank > 3:
        raise ValueError(f"{where}: `x` must be (N, *spatial, C) with 1 to 3 "
                         f"spatial dims, received shape {x_shape}")
    if len(kernel_shape) != rank + 2:
        raise ValueError(f"{where}: `kernel` must have rank {rank + 2} "
                         f"(*kernel_size, C_in // groups, filters) for an "
                         f"input of shape {x_shape}, received kernel shape "
                         f"{kernel_shape}")
    strides = _tuple(strides, rank, "strides", where)
    dilation = _tuple(dilation_rate, rank, "dilation_rate", where)
    pad = _padding(padding, rank, where)
    groups = int(groups)
    c_in, f = x_shape[-1], kernel_shape[-1]
    if groups < 1 or c_in % groups or f % groups:
        raise ValueError(f"{where}: `groups`={groups} must divide the input "
                         f"channels ({c_in}) and the filters ({f})")
    if kernel_shape[-2] != c_in // groups:
        raise ValueError(f"{where}: `kernel` shape {kernel_shape} expects "
                         f"{kernel_shape[-2] * groups} input channels with "
                         f"groups={groups}, but `x` has {c_in} (shape "
                         f"{x_shape}); expected kernel.shape[-2] == "
                         f"{c_in // groups}")
    out = []
    for i in range(rank):
        span = dilation[i] * (kernel_shape[i] - 1) + 1
        padded = x_shape[1 + i] + pad[i][0] + pad[i][1]
        if padded < span:
            raise ValueError(
                f"{where}: spatial dim {i} of `x` ({x_shape[1 + i]}, padded "
                f"to {padded}) is smaller than the dilated kernel ({span}); "
                f"received x shape {x_shape}, kernel shape {kernel_shape}")
        out.append((padded - span) // strides[i] + 1)
    return (x_shape[0], *out, f)


def _norm(x_shape, kernel_shape, strides, padding, dilation_rate, groups):
    out_shape = conv_output_shape(x_shape, kernel_shape, strides, padding,
                                  dilation_rate, groups)
    rank = len(x_shape) - 2
    return (out_shape, _tuple(strides, rank, "strides", "conv"),
            _padding(padding, rank, "conv"),
            _tuple(dilation_rate, rank, "dilation_rate", "conv"), int(groups))


# ---------------------------------------------------------------- im2col
def _pad(x, pad):
    if not any(a or b for a, b in pad):
        return x
    # zeros + one slice copy: np.pad's bookkeeping is most of its cost on
    # small inputs (0.040 -> 0.004 ms on 1x16x16x32, 0.146 -> 0.100 ms on
    # 64x16x16x32).
    xp_ = np.zeros((x.shape[0], *(n + a + b for n, (a, b) in zip(
        x.shape[1:-1], pad)), x.shape[-1]), x.dtype)
    xp_[(slice(None),) + tuple(slice(a, a + n) for n, (a, _) in zip(
        x.shape[1:-1], pad))] = x
    return xp_


# Inputs with at most this many channels (RGB images: the first layer of
# most CNNs) build their patches transposed, see `_im2col_narrow`.
NARROW_CHANNELS = 4


def _im2col(x, ksize, out, strides, pad, dilation, groups):
    """Returns the patches of `x` as a (G, M, taps * Cg) array, M = N *
    prod(out), columns ordered (kernel taps..., Cg): C-contiguous, or for
    narrow inputs the transposed view of a C-contiguous (K, M) array."""
    rank = len(ksize)
    if groups == 1 and x.shape[-1] <= NARROW_CHANNELS:
        return _im2col_narrow(x, ksize, out, strides, pad, dilation)
    if groups == 1:
        # One JIT pass, padding written as zeros (1-2 spatial dims).
        cols = cnn_jit.im2col(x, ksize, out, strides, pad, dilation)
        if cols is not None:
            return cols[None]
    xp_ = _pad(x, pad)
    n, c = x.shape[0], x.shape[-1]
    cg = c // groups
    s = xp_.strides
    shape = (n, *out, *ksize, groups, cg)
    st = (s[0], *(s[1 + i] * strides[i] for i in range(rank)),
          *(s[1 + i] * dilation[i] for i in range(rank)), s[-1] * cg, s[-1])
    v = as_strided(xp_, shape, st, writeable=False)
    m = n * int(np.prod(out))
    k = int(np.prod(ksize)) * cg
    if groups == 1:
        return np.ascontiguousarray(v).reshape(1, m, k)
    v = np.moveaxis(v, 1 + 2 * rank, 0)
    return np.ascontiguousarray(v).reshape(groups, m, k)


def _im2col_narrow(x, ksize, out, strides, pad, dilation):
    """`_im2col` for few channels, as the (1, M, K) view of a (K, M) array.

    Channels-last patches copy runs of C values (3 floats for RGB), where
    NumPy's copy loop costs per run; channel-first rows copy runs of a
    whole output row. Measured on 64x32x32x3, 3x3: 2.2 -> 0.74 ms, the
    GEMMs on the transposed layout as fast (the forward reads it as an
    F-ordered matrix, the kernel gradient as a C-ordered one); from
    C = 8 on the forward GEMM is slower.
    """
    rank = len(ksize)
    n, c = x.shape[0], x.shape[-1]
    padded = [x.shape[1 + i] + pad[i][0] + pad[i][1] for i in range(rank)]
    xt = (np.zeros if any(a or b for a, b in pad) else np.empty)(
        (c, n, *padded), x.dtype)
    xt[(slice(None), slice(None)) + tuple(
        slice(pad[i][0], pad[i][0] + x.shape[1 + i])
        for i in range(rank))] = np.moveaxis(x, -1, 0)
    cols = np.empty((*ksize, c, n, *out), x.dtype)
    for tap in np.ndindex(*ksize):
        cols[tap] = xt[(slice(None), slice(None)) + tuple(
            slice(tap[i] * dilation[i],
                  tap[i] * dilation[i] + strides[i] * (out[i] - 1) + 1,
                  strides[i]) for i in range(rank))]
    k = int(np.prod(ksize)) * c
    return cols.reshape(k, -1).T[None]


def _kernel_as_gemm(kernel, groups):
    """(*k, Cg, F) -> (G, taps * Cg, F // G)."""
    *ks, cg, f = kernel.shape
    taps = int(np.prod(ks))
    w = kernel.reshape(taps * cg, groups, f // groups)
    return np.moveaxis(w, 1, 0)


def conv_forward(x, kernel, strides, padding, dilation_rate, groups):
    """N-D convolution (cross-correlation, as in Keras), channels-last.

    Args:
        x: input, `(N, *spatial, C_in)`, float32 or float64.
        kernel: `(*kernel_size, C_in // groups, F)`.
        strides: one int per spatial dim.
        padding: one `(before, after)` pair of ints per spatial dim
            (the layer converts 'same'/'valid'/'causal').
        dilation_rate: one int per spatial dim.
        groups: number of channel groups (1: ordinary convolution).

    Returns:
        `y`, `(N, *out_spatial, F)`, in the dtype of `x`.

    Raises:
        ValueError: when shapes or arguments do not fit (see
            `conv_output_shape`).
    """
    return conv_forward_keep_cols(x, kernel, strides, padding, dilation_rate,
                                  groups, keep=False)[0]


def conv_forward_keep_cols(x, kernel, strides, padding, dilation_rate, groups,
                           keep=True, bias=None):
    """`conv_forward` that also returns its im2col patches for the backward.

    The kernel gradient is `cols^T @ dy`: handing it the forward's patches
    saves rebuilding them (a copy as large as the input times the kernel
    taps) in every training step. Depthwise convolutions build no patches.

    Args:
        x, kernel, strides, padding, dilation_rate, groups: as in
            `conv_forward`.
        keep: whether to return the patches (False: `None` in their place,
            as in inference, so nothing large stays alive).
        bias: optional `(F,)` array added to the output.

    Returns:
        `(y, cols)`: the output, as `conv_forward`, and the patches as a
        `(G, M, taps * C_in // G)` array (or `None`), to be passed to
        `conv_backward_kernel_from_cols`.

    Example:
    >>> y, cols = conv_forward_keep_cols(x, w, (1, 1), ((1, 1), (1, 1)),
    ...                                  (1, 1), 1)
    >>> dw = conv_backward_kernel_from_cols(dy, cols, w.shape, 1)
    """
    x = np.asarray(x)
    kernel = np.asarray(kernel, dtype=x.dtype)
    out_shape, strides, pad, dil, groups = _norm(
        x.shape, kernel.shape, strides, padding, dilation_rate, groups)
    rank = x.ndim - 2
    out = out_shape[1:-1]
    if groups == 1:
        # JIT: patches, GEMM and bias in blocks of samples (conv_blocks).
        done = conv_blocks.forward(x, kernel, out_shape, strides, pad, dil,
                                   bias, keep, NARROW_CHANNELS)
        if done is not None:
            return done
    if kernel.shape[-2] == 1 and groups > 1:
        y, col = _depthwise_forward(x, kernel, out_shape, strides, pad,
                                    dil), None
    else:
        col = _im2col(x, kernel.shape[:rank], out, strides, pad, dil, groups)
        w = _kernel_as_gemm(kernel, groups)
        if groups == 1:
            y = (col[0] @ w[0]).reshape(out_shape)
        else:
            y = np.matmul(col, w)                   # (G, M, Fg)
            y = np.ascontiguousarray(np.moveaxis(y, 0, 1)).reshape(out_shape)
    if bias is not None:
        add_bias_(y, bias)
    return y, (col if keep else None)


def add_bias_(y, bias):
    """Adds a `(F,)` bias over the last axis of `y`, in place.

    NumPy-only extra for `ops.conv`'s fused bias: one JIT pass, else
    NumPy's broadcast add.

    Args:
        y: the `(..., F)` convolution output (written).
        bias: `(F,)`, of the dtype of `y`.
    """
    if not cnn_jit.add_bias_(y, bias):
        np.add(y, bias, out=y)


# Depthwise (one input channel a group): the per-group GEMMs would be
# (M, taps) x (taps, multiplier), far too thin for BLAS, so these loop over
# the kernel taps with element-wise multiply-adds on strided views instead.
def _tap_slices(tap, dil, strides, out):
    return (slice(None),) + tuple(
        slice(tap[i] * dil[i], tap[i] * dil[i] + strides[i] * (out[i] - 1) + 1,
              strides[i]) for i in range(len(out)))


def _depthwise_forward(x, kernel, out_shape, strides, pad, dil):
    rank = x.ndim - 2
    out = out_shape[1:-1]
    c, f = x.shape[-1], kernel.shape[-1]
    w = kernel.reshape(*kernel.shape[:rank], c, f // c)
    xp_ = _pad(x, pad)
    y = np.zeros((*out_shape[:-1], c, f // c), x.dtype)
    for tap in np.ndindex(*kernel.shape[:rank]):
        y += xp_[_tap_slices(tap, dil, strides, out)][..., None] * w[tap]
    return y.reshape(out_shape)


def _depthwise_backward_input(dy, kernel, x_shape, strides, pad, dil):
    rank = len(x_shape) - 2
    out = dy.shape[1:-1]
    c, f = x_shape[-1], kernel.shape[-1]
    w = kernel.reshape(*kernel.shape[:rank], c, f // c)
    d = dy.reshape(*dy.shape[:-1], c, f // c)
    padded = [x_shape[1 + i] + pad[i][0] + pad[i][1] for i in range(rank)]
    dxp = np.zeros((x_shape[0], *padded, c), dy.dtype)
    for tap in np.ndindex(*kernel.shape[:rank]):
        dxp[_tap_slices(tap, dil, strides, out)] += (
            d[..., 0] * w[tap][:, 0] if f == c else (d * w[tap]).sum(-1))
    crop = (slice(None),) + tuple(
        slice(pad[i][0], pad[i][0] + x_shape[1 + i]) for i in range(rank))
    return np.ascontiguousarray(dxp[crop])


def _depthwise_backward_kernel(dy, x, kernel_shape, strides, pad, dil):
    rank = x.ndim - 2
    out = dy.shape[1:-1]
    c, f = x.shape[-1], kernel_shape[-1]
    d = dy.reshape(-1, c, f // c)
    xp_ = _pad(x, pad)
    dw = np.empty((*kernel_shape[:rank], c, f // c), x.dtype)
    for tap in np.ndindex(*kernel_shape[:rank]):
        xt = xp_[_tap_slices(tap, dil, strides, out)].reshape(-1, c)
        dw[tap] = np.einsum("mc,mcf->cf", xt, d)
    return dw.reshape(kernel_shape)


def _dy_as_gemm(dy, groups):
    """(N, *out, F) -> (G, M, F // G)."""
    f = dy.shape[-1]
    d = dy.reshape(-1, groups, f // groups)
    return np.moveaxis(d, 1, 0)


def conv_backward_input(dy, kernel, x_shape, strides, padding, dilation_rate,
                        groups):
    """Gradient of `conv_forward` with respect to its input.

    Also the forward pass of a transposed convolution (Conv*DTranspose):
    `x_shape` then gives the output size, which may include output padding.

    Args:
        dy: gradient of the output, `(N, *out_spatial, F)`.
        kernel: `(*kernel_size, C_in // groups, F)`.
        x_shape: shape of the input, `(N, *spatial, C_in)`.
        strides, padding, dilation_rate, groups: as in `conv_forward`.

    Returns:
        `dx`, of shape `x_shape`, in the dtype of `dy`.

    Raises:
        ValueError: when `dy` does not have the output shape that `x_shape`
            and the arguments give.
    """
    dy = np.asarray(dy)
    kernel = np.asarray(kernel, dtype=dy.dtype)
    x_shape = tuple(int(a) for a in x_shape)
    out_shape, strides, pad, dil, groups = _norm(
        x_shape, kernel.shape, strides, padding, dilation_rate, groups)
    if tuple(dy.shape) != out_shape:
        raise ValueError(f"conv_backward_input: `dy` must have shape "
                         f"{out_shape} for x_shape={x_shape}, kernel shape "
                         f"{kernel.shape}; received {tuple(dy.shape)}")
    rank = len(x_shape) - 2
    ksize = kernel.shape[:rank]
    out = out_shape[1:-1]
    n, c = x_shape[0], x_shape[-1]
    cg = c // groups
    if cg == 1 and groups > 1:
        return _depthwise_backward_input(dy, kernel, x_shape, strides, pad,
                                         dil)
    if groups == 1:
        # JIT: GEMM and col2im in blocks of samples (conv_blocks).
        dx = conv_blocks.backward_input(dy, kernel, x_shape, strides, pad,
                                        dil, 0)
        if dx is not None:
            return dx
    w = _kernel_as_gemm(kernel, groups)          # (G, K, Fg)
    d = _dy_as_gemm(dy, groups)                  # (G, M, Fg)
    if groups == 1:
        dcol = d[0] @ w[0].T
        # One JIT pass reading each patch gradient once (1-2 spatial dims).
        dx = cnn_jit.col2im(dcol, x_shape, ksize, out, strides, pad, dil)
        if dx is not None:
            return dx
        dcol = dcol.reshape(n, *out, *ksize, 1, cg)
    else:
        dcol = np.matmul(d, np.swapaxes(w, 1, 2))   # (G, M, K)
        dcol = dcol.reshape(groups, n, *out, *ksize, cg)
        dcol = np.moveaxis(dcol, 0, -2)          # (N, *out, *k, G, Cg) view
    return _col2im(dcol, (n, *x_shape[1:-1], groups, cg), ksize, out,
                   strides, pad, dil, dy.dtype).reshape(x_shape)


def _col2im(dcol, dx_shape, ksize, out, strides, pad, dil, dtype):
    """Sums the `(N, *out, *k, G, Cg)` patch gradients into `dx`.

    One slice-add per kernel tap, straight into the unpadded `dx`: each
    tap's slice is cut to the cells it reaches inside the input, so no
    padded buffer is filled, and a tap that reaches every cell (stride 1)
    is copied in first instead of adding to zeros. This is what makes
    the wide `dy @ kernel^T` GEMM pay against the alternative (the
    flipped-kernel convolution of `dy`: a `taps`-times larger im2col and
    a narrow GEMM), measured 1.3-1.6x faster on the CNN's 3x3 layers.
    """
    rank = len(ksize)
    spatial = dx_shape[1:1 + rank]
    cuts = []
    full = None
    for tap in np.ndindex(*ksize):
        dst, src = [], []
        for i in range(rank):
            start = tap[i] * dil[i] - pad[i][0]     # input cell of output 0
            lo = max(0, -(start // strides[i]))     # first o landing >= 0
            hi = min(out[i] - 1, (spatial[i] - 1 - start) // strides[i])
            if hi < lo:
                break
            first = start + lo * strides[i]
            dst.append(slice(first, first + (hi - lo) * strides[i] + 1,
                             strides[i]))
            src.append(slice(lo, hi + 1))
        else:
            cut = ((slice(None), *dst), (slice(None), *src) + tap)
            if full is None and all(
                    d.start == 0 and d.stop == n and d.step == 1
                    for d, n in zip(dst, spatial)):
                full = cut
            else:
                cuts.append(cut)
    dx = (np.zeros if full is None else np.empty)(dx_shape, dtype)

    def part(a, b):
        rows = slice(a, b)
        if full is not None:
            np.copyto(dx[(rows,) + full[0][1:]], dcol[(rows,) + full[1][1:]])
        for dst, src in cuts:
            dx[(rows,) + dst[1:]] += dcol[(rows,) + src[1:]]
    split_rows(dx_shape[0], dcol.size, part)
    return dx


def conv_backward_kernel(dy, x, kernel_shape, strides, padding,
                         dilation_rate, groups):
    """Gradient of `conv_forward` with respect to its kernel.

    Args:
        dy: gradient of the output, `(N, *out_spatial, F)`.
        x: the forward input, `(N, *spatial, C_in)`.
        kernel_shape: `(*kernel_size, C_in // groups, F)`.
        strides, padding, dilation_rate, groups: as in `conv_forward`.

    Returns:
        `dkernel`, of shape `kernel_shape`, in the dtype of `x`.

    Raises:
        ValueError: when `dy` does not have the output shape of the
            convolution of `x`.
    """
    x = np.asarray(x)
    dy = np.asarray(dy, dtype=x.dtype)
    kernel_shape = tuple(int(a) for a in kernel_shape)
    out_shape, strides, pad, dil, groups = _norm(
        x.shape, kernel_shape, strides, padding, dilation_rate, groups)
    if tuple(dy.shape) != out_shape:
        raise ValueError(f"conv_backward_kernel: `dy` must have shape "
                         f"{out_shape} for x shape {x.shape}, kernel_shape="
                         f"{kernel_shape}; received {tuple(dy.shape)}")
    rank = x.ndim - 2
    if kernel_shape[-2] == 1 and groups > 1:
        return _depthwise_backward_kernel(dy, x, kernel_shape, strides, pad,
                                          dil)
    col = _im2col(x, kernel_shape[:rank], out_shape[1:-1], strides, pad, dil,
                  groups)                        # (G, M, K)
    return _cols_times_dy(col, dy, kernel_shape, groups)


def conv_backward_kernel_from_cols(dy, cols, kernel_shape, groups):
    """Kernel gradient from the patches `conv_forward_keep_cols` returned.

    Args:
        dy: gradient of the output, `(N, *out_spatial, F)`.
        cols: the `(G, M, K)` patches of the forward input.
        kernel_shape: `(*kernel_size, C_in // groups, F)`.
        groups: number of channel groups.

    Returns:
        `dkernel`, of shape `kernel_shape`, in the dtype of `cols`.

    Raises:
        ValueError: when `dy`, `cols` and `kernel_shape` do not fit.
    """
    dy = np.asarray(dy, dtype=cols.dtype)
    kernel_shape = tuple(int(a) for a in kernel_shape)
    groups = int(groups)
    *ks, cg, f = kernel_shape
    want = (groups, dy.size // max(f, 1), int(np.prod(ks)) * cg)
    if tuple(cols.shape) != want or dy.shape[-1] != f:
        raise ValueError(f"conv_backward_kernel_from_cols: `cols` shape "
                         f"{tuple(cols.shape)} and `dy` shape "
                         f"{tuple(dy.shape)} do not fit kernel_shape="
                         f"{kernel_shape}, groups={groups}; expected cols "
                         f"shape {want}")
    return _cols_times_dy(cols, dy, kernel_shape, groups)


def _cols_times_dy(col, dy, kernel_shape, groups):
    d = _dy_as_gemm(dy, groups)                  # (G, M, Fg)
    if groups == 1:
        # One BLAS call on all of BLAS's threads. Splitting the long
        # (summed) axis over the pool made the product alone 2-3x faster,
        # but the whole CNN training step slower (81.1 against 86.2 ms
        # without the split, 12 interleaved rounds): the pool's workers
        # compete for the cores with OpenBLAS's spin-waiting threads.
        return (col[0].T @ d[0]).reshape(kernel_shape)
    dw = np.matmul(np.swapaxes(col, 1, 2), d)    # (G, K, Fg)
    *ks, cg, f = kernel_shape
    dw = dw.reshape(groups, int(np.prod(ks)) * cg, f // groups)
    return np.ascontiguousarray(np.moveaxis(dw, 0, 1)).reshape(kernel_shape)
