"""Resampling ops of `ops.image`: `resize` and `scale_and_translate`.

Every method but `"nearest"` is separable: along each resized axis the
output is one `(in, out)` weight matrix applied to the input, built on the
host exactly as `jax.image.scale_and_translate` builds it (kernel weights
at half-pixel centres, normalised per output sample, antialiasing by
widening the kernel when downsampling). One autograd node applies all the
matrices, so the op is differentiable and runs as GEMMs on either device.
"""

import importlib
import numpy as np

from gkeras import backend
from gkeras.backend.device_constants import device_constant
from gkeras.ops import core as C
from gkeras.ops import elementwise as E
# `gkeras.ops.shape`/`gkeras.ops.conv` are shadowed by the ops of those
# names on the package, so the modules are fetched by their full name.
S = importlib.import_module("gkeras.ops.shape")
from gkeras.ops._base import arr, keras_op, xp_of
from gkeras.ops.engine import Function
from gkeras.ops.image._utils import as_tensor, check_rank, data_format_of

__all__ = ["resize", "scale_and_translate", "RESIZE_INTERPOLATIONS",
           "weight_matrix"]

RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5",
                         "bicubic")
SCALE_AND_TRANSLATE_METHODS = ("linear", "bilinear", "trilinear", "cubic",
                               "bicubic", "tricubic", "lanczos3", "lanczos5")


def _triangle(x):
    return np.maximum(0.0, 1.0 - np.abs(x))


def _keys_cubic(x):
    out = ((1.5 * x - 2.5) * x) * x + 1.0
    out = np.where(x >= 1.0, ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0, out)
    return np.where(x >= 2.0, 0.0, out)


def _lanczos(radius):
    def kernel(x):
        y = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(x > 1e-3,
                           y / np.where(x != 0, np.pi ** 2 * x ** 2, 1), 1)
        return np.where(x > radius, 0.0, out)
    return kernel


_KERNELS = {"linear": _triangle, "cubic": _keys_cubic,
            "lanczos3": _lanczos(3.0), "lanczos5": _lanczos(5.0)}


def _kernel_name(method):
    if method in ("linear", "bilinear", "trilinear", "triangle"):
        return "linear"
    if method in ("cubic", "bicubic", "tricubic"):
        return "cubic"
    return method


def weight_matrix(in_size, out_size, scale, translation, method,
                  antialias):
    """The `(in_size, out_size)` float64 resampling matrix of one axis.

    Output sample `j` sits at input coordinate `(j + 0.5 - translation) /
    scale - 0.5`; its weights are the kernel at the distance to each input
    sample (divided by `max(1/scale, 1)` with `antialias`), normalised to
    sum to one, and zero when the sample falls outside the input.
    """
    kernel = _KERNELS[_kernel_name(method)]
    inv_scale = 1.0 / scale
    kernel_scale = max(inv_scale, 1.0) if antialias else 1.0
    sample_f = ((np.arange(out_size, dtype=np.float64) + 0.5) * inv_scale
                - translation * inv_scale - 0.5)
    x = np.abs(sample_f[None, :]
               - np.arange(in_size, dtype=np.float64)[:, None]) / kernel_scale
    w = kernel(x)
    total = w.sum(axis=0, keepdims=True)
    w = np.where(np.abs(total) > 1000.0 * float(np.finfo(np.float32).eps),
                 w / np.where(total != 0, total, 1), 0.0)
    inside = (sample_f >= -0.5) & (sample_f <= in_size - 0.5)
    return np.where(inside[None, :], w, 0.0)


class _AxisResample(Function):
    """y = x contracted with one `(in, out)` matrix along each given axis."""

    def __init__(self, mats):
        self.mats = mats  # [(axis, matrix)]

    def forward(self, x):
        xp = backend.get_array_module(x)
        for d, w in self.mats:
            x = xp.moveaxis(xp.tensordot(x, w, axes=(d, 0)), -1, d)
        return xp.ascontiguousarray(x)

    def backward(self, gy):
        xp = backend.get_array_module(gy)
        for d, w in reversed(self.mats):
            gy = xp.moveaxis(xp.tensordot(gy, w.T, axes=(d, 0)), -1, d)
        return xp.ascontiguousarray(gy)


def _apply_matrices(x, mats, restore=True):
    """Applies host matrices `[(axis, (in, out))]` in `x`'s float dtype;
    integer inputs are computed in float32 and (with `restore`) rounded
    and saturated back to their dtype."""
    if not mats:
        return x
    dtype = np.dtype(x.dtype)
    xf = x if dtype.kind == "f" else C.cast(x, "float32")
    on_gpu = xp_of(arr(xf)) is not np
    dev = []
    for d, w in mats:
        w = w.astype(xf.dtype)
        # On the GPU each (size, dtype) matrix is copied once, not every
        # call (backend.device_constants).
        dev.append((d, device_constant(w, w.dtype) if on_gpu else w))
    y = _AxisResample(dev)(xf)
    return _restore_dtype(y, dtype) if restore else y


def _restore_dtype(y, dtype):
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        y = E.clip(E.round(y), float(info.min), float(info.max))
        return C.cast(y, dtype)
    if dtype.kind == "b":
        return C.cast(y, dtype)
    return y if y.dtype == dtype else C.cast(y, dtype)


def _resize_nearest(x, axes_sizes):
    """Nearest neighbour with half-pixel centres (`jax.image.resize`)."""
    key = [slice(None)] * len(x.shape)
    advanced = []
    for d, n in axes_sizes:
        m = x.shape[d]
        idx = np.floor((np.arange(n, dtype=np.float32) + 0.5) * m / n)
        advanced.append((d, np.minimum(idx.astype(np.int64), m - 1)))
    # One axis at a time keeps plain (non-broadcast) advanced indexing.
    for d, idx in advanced:
        key = [slice(None)] * len(x.shape)
        key[d] = idx if xp_of(arr(x)) is np else device_constant(idx,
                                                                 idx.dtype)
        x = S.getitem(x, tuple(key))
    return x


@keras_op
def resize(images, size, interpolation="bilinear", antialias=False,
           crop_to_aspect_ratio=False, pad_to_aspect_ratio=False,
           fill_mode="constant", fill_value=0.0, data_format=None):
    """Resizes images to `size` with the given interpolation.

    Args:
        images: rank-3 (single image) or rank-4 (batch) tensor.
        size: `(height, width)` of the output.
        interpolation: `"bilinear"` (default), `"nearest"`, `"bicubic"`
            (Keys cubic, a=-0.5), `"lanczos3"` or `"lanczos5"`.
        antialias: whether to widen the filter when downsampling (not used
            by `"nearest"`).
        crop_to_aspect_ratio: first crop the largest centred window of
            the target aspect ratio.
        pad_to_aspect_ratio: first pad the short side evenly with
            `fill_value` to the target aspect ratio.
        fill_mode: only `"constant"`.
        fill_value: the padding value of `pad_to_aspect_ratio`.
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        The resized image(s), in the input's dtype (integer inputs are
        rounded and saturated).

    Example:
    >>> x = np.random.random((2, 4, 4, 3))
    >>> gkeras.ops.image.resize(x, (2, 2)).shape
    (2, 2, 2, 3)
    """
    if len(size) != 2:
        raise ValueError("Expected `size` to be a tuple of 2 integers. "
                         f"Received: size={size}")
    if size[0] <= 0 or size[1] <= 0:
        raise ValueError("`size` must have positive height and width. "
                         f"Received: size={size}")
    x = as_tensor(images)
    check_rank(x)
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio` & "
                         "`crop_to_aspect_ratio` can be `True`.")
    data_format = data_format_of(data_format)
    if interpolation not in RESIZE_INTERPOLATIONS:
        raise ValueError(
            "Invalid value for argument `interpolation`. Expected of one "
            f"{RESIZE_INTERPOLATIONS}. Received: "
            f"interpolation={interpolation}")
    if fill_mode != "constant":
        raise ValueError("Invalid value for argument `fill_mode`. Only "
                         f"`'constant'` is supported. Received: "
                         f"fill_mode={fill_mode}")
    th, tw = int(size[0]), int(size[1])
    nd = len(x.shape)
    ha, wa = (nd - 3, nd - 2) if data_format == "channels_last" \
        else (nd - 2, nd - 1)
    h, w = x.shape[ha], x.shape[wa]
    if crop_to_aspect_ratio:
        ch = max(min(h, int(float(w * th) / tw)), 1)
        cw = max(min(w, int(float(h * tw) / th)), 1)
        top, left = int(float(h - ch) / 2), int(float(w - cw) / 2)
        key = [slice(None)] * nd
        key[ha], key[wa] = slice(top, top + ch), slice(left, left + cw)
        x = S.getitem(x, tuple(key))
    elif pad_to_aspect_ratio:
        ph = max(h, int(float(w * th) / tw))
        pw = max(w, int(float(h * tw) / th))
        hs, ws = int(float(ph - h) / 2), int(float(pw - w) / 2)
        pad = [(0, 0)] * nd
        # Keras pads the same amount on both sides, height first.
        if hs > 0:
            pad[ha] = (hs, hs)
        elif ws > 0:
            pad[wa] = (ws, ws)
        if hs > 0 or ws > 0:
            x = S.pad(x, pad, constant_values=fill_value)
    changed = [(d, n) for d, n in ((ha, th), (wa, tw)) if x.shape[d] != n]
    if not changed:
        return x
    if interpolation == "nearest":
        return _resize_nearest(x, changed)
    mats = [(d, weight_matrix(x.shape[d], n, n / x.shape[d], 0.0,
                              interpolation, antialias))
            for d, n in changed]
    return _apply_matrices(x, mats)


@keras_op
def scale_and_translate(images, output_shape, scale, translation,
                        spatial_dims, method, antialias=True):
    """Scales and translates images along `spatial_dims` with a filter.

    Output sample `j` along a spatial axis reads the input at `(j + 0.5 -
    translation) / scale - 0.5`, as `jax.image.scale_and_translate`.

    Args:
        images: the input tensor, any rank.
        output_shape: the full output shape.
        scale: one float per axis of `spatial_dims`.
        translation: one float per axis of `spatial_dims`.
        spatial_dims: the axes to resample.
        method: `"linear"`/`"bilinear"`/`"trilinear"`, `"cubic"`/
            `"bicubic"`/`"tricubic"`, `"lanczos3"` or `"lanczos5"`.
        antialias: widen the filter when downsampling.

    Returns:
        A tensor of `output_shape` (differentiable with respect to
        `images`; `scale` and `translation` are read as constants, while
        JAX also differentiates them).

    Example:
    >>> x = np.arange(4, dtype="float32").reshape(1, 4, 1)
    >>> gkeras.ops.image.scale_and_translate(
    ...     x, (1, 8, 1), [2.0], [0.0], (1,), "linear").shape
    (1, 8, 1)
    """
    if method not in SCALE_AND_TRANSLATE_METHODS:
        raise ValueError(
            "Invalid value for argument `method`. Expected of one "
            f"{set(SCALE_AND_TRANSLATE_METHODS)}. Received: method={method}")
    x = as_tensor(images)
    scale = np.asarray(backend.to_numpy(arr(scale)), np.float64).reshape(-1)
    translation = np.asarray(backend.to_numpy(arr(translation)),
                             np.float64).reshape(-1)
    spatial_dims = [int(d) % len(x.shape) for d in spatial_dims]
    if not (len(scale) == len(translation) == len(spatial_dims)):
        raise ValueError(
            "scale_and_translate: `scale`, `translation` and "
            "`spatial_dims` must have one entry per resampled axis. "
            f"Received: scale={scale.tolist()}, "
            f"translation={translation.tolist()}, "
            f"spatial_dims={spatial_dims}")
    mats = [(d, weight_matrix(x.shape[d], int(output_shape[d]), scale[i],
                              translation[i], method, antialias))
            for i, d in enumerate(spatial_dims)]
    # jax.image.scale_and_translate returns integer inputs as float32.
    return _apply_matrices(x, mats, restore=False)
