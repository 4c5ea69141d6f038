"""Filtering ops of `ops.image`: `gaussian_blur`, `sobel_edges`, `ssim`
(depthwise convolutions with host-built kernels; differentiable with
respect to the images)."""

import importlib
import numpy as np

# `gkeras.ops.shape`/`gkeras.ops.conv` are shadowed by the ops of those
# names on the package, so the modules are fetched by their full name.
V = importlib.import_module("gkeras.ops.conv")
from gkeras.ops import core as C
from gkeras.ops import elementwise as E
from gkeras.ops import reduction as R
S = importlib.import_module("gkeras.ops.shape")
from gkeras.ops._base import keras_op
from gkeras.ops.image._utils import (as_tensor, check_rank, const_like,
                                     data_format_of, to_nhwc)

__all__ = ["gaussian_blur", "sobel_edges", "ssim"]


def _gauss1d(size, sigma):
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def _pair(v, name):
    v = np.asarray(v, dtype=np.float64).reshape(-1)
    if v.size == 1:
        v = np.repeat(v, 2)
    if v.size != 2:
        raise ValueError(f"gaussian_blur: `{name}` must be a number or a "
                         f"pair. Received: {name}={v.tolist()}")
    return v


def _depthwise_same(x4, kernel2d):
    c = x4.shape[-1]
    k = np.repeat(kernel2d[:, :, None, None], c, axis=2).astype(x4.dtype)
    return V.depthwise_conv(x4, const_like(k, x4), strides=1,
                            padding="same", data_format="channels_last")


@keras_op
def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0),
                  data_format=None):
    """Blurs images with a Gaussian kernel ("same" zero padding).

    The 2-D kernel is the outer product of a 1-D Gaussian of
    `kernel_size[1]` taps and `sigma[1]` (along the height) with one of
    `kernel_size[0]` taps and `sigma[0]` (along the width), as Keras.

    Args:
        images: rank-3 or rank-4 float tensor.
        kernel_size: `(kx, ky)` ints (or one int).
        sigma: `(sx, sy)` floats (or one float).
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        The blurred image(s), shape and dtype of `images`.

    Example:
    >>> x = np.random.random((2, 8, 8, 3)).astype("float32")
    >>> gkeras.ops.image.gaussian_blur(x, (3, 3), (1.0, 1.0)).shape
    (2, 8, 8, 3)
    """
    x = as_tensor(images)
    check_rank(x)
    data_format = data_format_of(data_format)
    ks = _pair(kernel_size, "kernel_size").astype(np.int64)
    sg = _pair(sigma, "sigma")
    if (ks < 1).any() or (sg <= 0).any():
        raise ValueError(
            "gaussian_blur: `kernel_size` must be positive ints and "
            f"`sigma` positive. Received: kernel_size={ks.tolist()}, "
            f"sigma={sg.tolist()}")
    kernel = np.outer(_gauss1d(int(ks[1]), sg[1]),
                      _gauss1d(int(ks[0]), sg[0]))
    x4, back = to_nhwc(x, data_format)
    dtype = np.dtype(x4.dtype)
    xf = x4 if dtype.kind == "f" else C.cast(x4, "float32")
    y = _depthwise_same(xf, kernel)
    return back(y if y.dtype == dtype else C.cast(y, dtype))


@keras_op
def sobel_edges(images, data_format=None):
    """Sobel gradients of each channel ("same" zero padding).

    Args:
        images: rank-4 tensor.
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        A tensor of shape `images.shape + (2,)`: `[..., 0]` the vertical
        gradient (dy), `[..., 1]` the horizontal one (dx).

    Example:
    >>> x = np.random.random((1, 8, 8, 3)).astype("float32")
    >>> gkeras.ops.image.sobel_edges(x).shape
    (1, 8, 8, 3, 2)
    """
    x = as_tensor(images)
    check_rank(x, ranks=(4,))
    data_format = data_format_of(data_format)
    x4, _ = to_nhwc(x, data_format)
    ky = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], np.float64)
    dy = _depthwise_same(x4, ky)
    dx = _depthwise_same(x4, ky.T)
    out = S.stack([dy, dx], axis=-1)
    if data_format == "channels_first":
        out = S.transpose(out, (0, 3, 1, 2, 4))
    return out


@keras_op
def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5,
         k1=0.01, k2=0.03, data_format=None):
    """Structural similarity index between two images (Wang et al.).

    Local statistics use a `filter_size` Gaussian window ("valid"); the
    SSIM map is averaged over space, then over channels.

    Args:
        image1: rank-3 or rank-4 tensor.
        image2: tensor of the same shape.
        max_val: the dynamic range of the values (1.0 or 255).
        filter_size: Gaussian window size.
        filter_sigma: Gaussian window standard deviation.
        k1: the luminance constant.
        k2: the contrast constant.
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        One SSIM value per image (a scalar for a single image).

    Example:
    >>> x = np.random.random((2, 16, 16, 3)).astype("float32")
    >>> gkeras.ops.image.ssim(x, x).numpy()
    array([1., 1.], dtype=float32)
    """
    a, b = as_tensor(image1), as_tensor(image2)
    check_rank(a, "image1")
    check_rank(b, "image2")
    data_format = data_format_of(data_format)
    dtype = np.dtype(a.dtype)
    cdt = dtype if dtype.kind == "f" else np.dtype("float32")
    a, b = C.cast(a, cdt), C.cast(b, cdt)
    unbatched = len(a.shape) == 3
    if unbatched:
        a, b = S.expand_dims(a, 0), S.expand_dims(b, 0)
    if data_format == "channels_first":
        a, b = S.moveaxis(a, 1, -1), S.moveaxis(b, 1, -1)
    n, h, w, c = a.shape
    g = _gauss1d(int(filter_size), float(filter_sigma))
    kernel = const_like(np.outer(g, g).astype(cdt).reshape(
        filter_size, filter_size, 1, 1), a)
    a = S.reshape(S.transpose(a, (0, 3, 1, 2)), (-1, h, w, 1))
    b = S.reshape(S.transpose(b, (0, 3, 1, 2)), (-1, h, w, 1))

    def filt(t):
        return V.conv(t, kernel, strides=1, padding="valid",
                      data_format="channels_last")
    c1 = (k1 * max_val) ** 2
    c2 = (k2 * max_val) ** 2
    mu1, mu2 = filt(a), filt(b)
    mu1_sq, mu2_sq = E.multiply(mu1, mu1), E.multiply(mu2, mu2)
    mu12 = E.multiply(mu1, mu2)
    s1 = E.subtract(filt(E.multiply(a, a)), mu1_sq)
    s2 = E.subtract(filt(E.multiply(b, b)), mu2_sq)
    s12 = E.subtract(filt(E.multiply(a, b)), mu12)
    num = E.multiply(E.add(E.multiply(2.0, mu12), c1),
                     E.add(E.multiply(2.0, s12), c2))
    den = E.multiply(E.add(E.add(mu1_sq, mu2_sq), c1),
                     E.add(E.add(s1, s2), c2))
    per = R.mean(E.divide(num, den), axis=(1, 2, 3))
    out = R.mean(S.reshape(per, (n, c)), axis=-1)
    if unbatched:
        out = S.squeeze(out, 0)
    return out if out.dtype == dtype else C.cast(out, dtype)
