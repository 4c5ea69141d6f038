"""Fourier ops (Keras 3's `ops.fft`, `fft2`, `ifft2`, `rfft`, `irfft`,
`stft`, `istft`).

Complex values travel as Keras's `(real, imag)` pairs of float tensors.
Each transform is one differentiable primitive whose backward is the
adjoint transform (an FFT too); `stft` and `istft` are composed of
framing (a gather), windows and these primitives, so all seven train.
They run on NumPy and CuPy (`xp.fft`) arrays alike.
"""

import math

import numpy as np

from gkeras import backend
from gkeras.ops import elementwise as E
from gkeras.ops._base import arr, keras_op, t_or_a, xp_of
from gkeras.ops.engine import Function
from gkeras.ops.shape import getitem

__all__ = ["fft", "fft2", "ifft2", "rfft", "irfft", "stft", "istft",
           "get_window"]


def _complex_pair(x, who):
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(
            f"{who}: input `x` should be a tuple of two tensors - real and "
            f"imaginary. Received: x={x!r}")
    re, im = t_or_a(x[0]), t_or_a(x[1])
    if tuple(re.shape) != tuple(im.shape):
        raise ValueError(
            f"{who}: both the real and imaginary parts should have the same "
            f"shape. Received: x[0].shape = {tuple(re.shape)}, x[1].shape = "
            f"{tuple(im.shape)}")
    if np.dtype(re.dtype).kind != "f" or np.dtype(im.dtype).kind != "f":
        raise ValueError(
            f"{who}: at least one tensor in input `x` is not of type float. "
            f"Received dtypes: {re.dtype}, {im.dtype}")
    return re, im


def _zeros_if_none(g, like):
    return backend.get_array_module(like).zeros_like(like) if g is None \
        else g


class _ComplexFFT(Function):
    """Complex (i)FFT over `axes` of `re + i im` (unnormalised forward,
    1/N inverse, as NumPy); backward is the adjoint transform."""

    def __init__(self, axes, inverse):
        self.axes, self.inverse = axes, inverse

    def forward(self, re, im):
        xp = backend.get_array_module(re)
        self.dtype = re.dtype
        z = re + 1j * im
        f = xp.fft.ifftn if self.inverse else xp.fft.fftn
        y = f(z, axes=self.axes)
        self.n = math.prod(re.shape[a] for a in self.axes)
        return (xp.ascontiguousarray(y.real.astype(self.dtype)),
                xp.ascontiguousarray(y.imag.astype(self.dtype)))

    def backward(self, gr, gi):
        like = gr if gr is not None else gi
        xp = backend.get_array_module(like)
        g = _zeros_if_none(gr, gi) + 1j * _zeros_if_none(gi, gr)
        # A^H g: the adjoint of fft is n * ifft, of ifft is fft / n.
        if self.inverse:
            z = xp.fft.fftn(g, axes=self.axes) / self.n
        else:
            z = xp.fft.ifftn(g, axes=self.axes) * self.n
        return z.real.astype(self.dtype), z.imag.astype(self.dtype)


class _RFFT(Function):
    """Real-input FFT of the last axis (length `n`: cropped/zero-padded)."""

    def __init__(self, n):
        self.n = n

    def forward(self, x):
        xp = backend.get_array_module(x)
        self.dtype, self.in_len = x.dtype, x.shape[-1]
        y = xp.fft.rfft(x, n=self.n, axis=-1)
        return (xp.ascontiguousarray(y.real.astype(self.dtype)),
                xp.ascontiguousarray(y.imag.astype(self.dtype)))

    def backward(self, gr, gi):
        like = gr if gr is not None else gi
        xp = backend.get_array_module(like)
        g = _zeros_if_none(gr, gi) + 1j * _zeros_if_none(gi, gr)
        n = self.n
        full = xp.zeros(g.shape[:-1] + (n,), dtype=g.dtype)
        full[..., :g.shape[-1]] = g
        gx = (xp.fft.ifft(full, axis=-1) * n).real.astype(self.dtype)
        m = self.in_len
        if m <= n:
            return gx[..., :m]
        out = xp.zeros(gx.shape[:-1] + (m,), dtype=self.dtype)
        out[..., :n] = gx
        return out


class _IRFFT(Function):
    """Inverse real FFT of the last axis to `n` samples."""

    def __init__(self, n):
        self.n = n

    def forward(self, re, im):
        xp = backend.get_array_module(re)
        self.dtype, self.bins = re.dtype, re.shape[-1]
        y = xp.fft.irfft(re + 1j * im, n=self.n, axis=-1)
        return xp.ascontiguousarray(y.astype(self.dtype))

    def backward(self, gy):
        xp = backend.get_array_module(gy)
        n = self.n
        # y_t = (1/n)[X_0 + 2 sum Re(X_k e^{2 pi i k t/n}) (+ X_{n/2} (-1)^t)]
        # so dL/dX_k = c_k rfft(g)_k / n, c_k = 2 except DC and Nyquist;
        # NumPy ignores the imaginary parts of those two.
        z = xp.fft.rfft(gy, n=n, axis=-1) / n
        c = np.full(n // 2 + 1, 2.0)
        c[0] = 1.0
        if n % 2 == 0:
            c[-1] = 1.0
        c = xp.asarray(c) if xp is not np else c
        z = z * c
        gr, gi = z.real.copy(), z.imag.copy()
        gi[..., 0] = 0
        if n % 2 == 0:
            gi[..., -1] = 0
        m = self.bins
        if m <= gr.shape[-1]:
            gr, gi = gr[..., :m], gi[..., :m]
        else:
            padw = [(0, 0)] * (gr.ndim - 1) + [(0, m - gr.shape[-1])]
            gr, gi = xp.pad(gr, padw), xp.pad(gi, padw)
        return gr.astype(self.dtype), gi.astype(self.dtype)


@keras_op
def fft(x):
    """Computes the FFT along the last axis of a complex tensor.

    Args:
        x: tuple `(real, imag)` of float tensors of the same shape.

    Returns:
        Tuple `(real, imag)` of the transform.

    Example:
    >>> re = np.array([1.0, 2.0, 3.0, 4.0], "float32")
    >>> real, imag = gkeras.ops.fft((re, np.zeros_like(re)))
    >>> real.numpy()
    array([10., -2., -2., -2.], dtype=float32)
    """
    re, im = _complex_pair(x, "fft")
    return _ComplexFFT((-1,), False)(re, im)


@keras_op
def fft2(x):
    """Computes the 2-D FFT along the last two axes of a complex tensor.

    Args:
        x: tuple `(real, imag)` of float tensors (rank >= 2).

    Returns:
        Tuple `(real, imag)` of the transform.

    Example:
    >>> re = np.ones((2, 2), "float32")
    >>> gkeras.ops.fft2((re, np.zeros_like(re)))[0].numpy()
    array([[4., 0.],
           [0., 0.]], dtype=float32)
    """
    re, im = _complex_pair(x, "fft2")
    return _ComplexFFT((-2, -1), False)(re, im)


@keras_op
def ifft2(x):
    """Computes the inverse 2-D FFT along the last two axes.

    Args:
        x: tuple `(real, imag)` of float tensors (rank >= 2).

    Returns:
        Tuple `(real, imag)` of the inverse transform.

    Example:
    >>> re = np.ones((2, 2), "float32")
    >>> gkeras.ops.ifft2((re, np.zeros_like(re)))[0].numpy()
    array([[1., 0.],
           [0., 0.]], dtype=float32)
    """
    re, im = _complex_pair(x, "ifft2")
    return _ComplexFFT((-2, -1), True)(re, im)


@keras_op
def rfft(x, fft_length=None):
    """Real-valued FFT along the last axis.

    Args:
        x: float tensor.
        fft_length: the FFT length; the input is cropped or zero-padded
            to it. Defaults to the last axis' size.

    Returns:
        Tuple `(real, imag)` with `fft_length // 2 + 1` bins.

    Example:
    >>> x = np.array([0.0, 1.0, 2.0, 3.0, 4.0], "float32")
    >>> real, imag = gkeras.ops.rfft(x)
    >>> real.numpy()
    array([10. , -2.5, -2.5], dtype=float32)
    """
    x = t_or_a(x)
    if np.dtype(x.dtype).kind != "f":
        from gkeras.ops.core import cast
        x = cast(x, backend.floatx())
    n = int(x.shape[-1] if fft_length is None else fft_length)
    return _RFFT(n)(x)


@keras_op
def irfft(x, fft_length=None):
    """Inverse real-valued FFT along the last axis.

    Args:
        x: tuple `(real, imag)` of `fft_length // 2 + 1` bins.
        fft_length: the output length; defaults to `2 * (bins - 1)`.

    Returns:
        A float tensor with `fft_length` samples on the last axis.

    Example:
    >>> real = np.array([10.0, -2.5, -2.5], "float32")
    >>> imag = np.array([0.0, 3.440955, 0.8122992], "float32")
    >>> gkeras.ops.irfft((real, imag), 5).numpy().round(4)
    array([0., 1., 2., 3., 4.], dtype=float32)
    """
    re, im = _complex_pair(x, "irfft")
    n = int(2 * (re.shape[-1] - 1) if fft_length is None else fft_length)
    return _IRFFT(n)(re, im)


def get_window(window, length):
    """A periodic `"hann"` or `"hamming"` window (SciPy's `get_window`
    with `fftbins=True`), or `window` itself as a float64 array."""
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(
                "If a string is passed to `window`, it must be one of "
                f'`"hann"`, `"hamming"`. Received: window={window}')
        a = 0.5 if window == "hann" else 0.54
        n = np.arange(length)
        return a - (1.0 - a) * np.cos(2.0 * np.pi * n / length)
    w = np.asarray(backend.to_numpy(arr(window)), np.float64)
    if w.ndim != 1 or w.shape[-1] != length:
        raise ValueError(
            "The shape of `window` must be equal to [sequence_length]. "
            f"Received: window shape={w.shape}")
    return w


def _padded_window(window, sequence_length, fft_length):
    l_pad = (fft_length - sequence_length) // 2
    r_pad = fft_length - sequence_length - l_pad
    if window is None:
        return np.ones(fft_length)
    return np.pad(get_window(window, sequence_length), (l_pad, r_pad))


def _device(a, like):
    return backend.to_device(a) if xp_of(arr(like)) is not np else a


@keras_op
def stft(x, sequence_length, sequence_stride, fft_length, window="hann",
         center=True):
    """Short-time Fourier transform along the last axis.

    Frames of `fft_length` samples every `sequence_stride` (after
    reflect-padding `fft_length // 2` on both sides when `center`), times
    the window (`sequence_length` long, centred in the frame), then
    `rfft`.

    Args:
        x: float32/float64 tensor `(..., samples)`.
        sequence_length: the window length.
        sequence_stride: the hop between frames.
        fft_length: the FFT size, at least `sequence_length`.
        window: `"hann"` (default), `"hamming"`, a 1-D tensor of
            `sequence_length` values, or None (rectangular).
        center: whether to reflect-pad so frames are centred on
            `t * sequence_stride`.

    Returns:
        Tuple `(real, imag)` of shape `(..., frames, fft_length // 2 + 1)`.

    Example:
    >>> x = np.random.random((2, 64)).astype("float32")
    >>> real, imag = gkeras.ops.stft(x, 16, 8, 16)
    >>> real.shape
    (2, 9, 9)
    """
    x = t_or_a(x)
    if np.dtype(x.dtype).name not in ("float32", "float64"):
        raise TypeError("stft: invalid input type. Expected `float32` or "
                        f"`float64`. Received: input type={x.dtype}")
    if fft_length < sequence_length:
        raise ValueError(
            "`fft_length` must equal or larger than `sequence_length`. "
            f"Received: sequence_length={sequence_length}, "
            f"fft_length={fft_length}")
    win = _padded_window(window, sequence_length, fft_length)
    if center:
        # Reflect padding as a gather, so the gradient flows through it.
        half = fft_length // 2
        if x.shape[-1] <= half:
            raise ValueError(
                f"stft: with center=True the signal ({x.shape[-1]} "
                f"samples) must be longer than fft_length // 2 ({half}).")
        ridx = np.pad(np.arange(x.shape[-1]), (half, half), mode="reflect")
        x = getitem(x, (Ellipsis, _device(ridx, x)))
    total = x.shape[-1]
    if total < fft_length:
        raise ValueError(
            f"stft: the signal ({total} samples after padding) is shorter "
            f"than one frame (fft_length={fft_length}).")
    frames = (total - fft_length) // sequence_stride + 1
    idx = (np.arange(frames)[:, None] * sequence_stride
           + np.arange(fft_length)[None, :])
    framed = getitem(x, (Ellipsis, _device(idx, x)))
    framed = E.multiply(framed, _device(win.astype(x.dtype), x))
    return _RFFT(fft_length)(framed)


class _OverlapAdd(Function):
    """Sums frames `(..., F, N)` into a signal `(..., L)` at hop `step`."""

    def __init__(self, step, length):
        self.step, self.length = step, length

    def _index(self, f, n):
        return (np.arange(f)[:, None] * self.step
                + np.arange(n)[None, :]).reshape(-1)

    def forward(self, frames):
        xp = backend.get_array_module(frames)
        lead, (f, n) = frames.shape[:-2], frames.shape[-2:]
        self.fn = (f, n)
        rows = math.prod(lead)
        vals = frames.reshape(rows, f * n).T
        out = xp.zeros((self.length, rows), dtype=frames.dtype)
        idx = self._index(f, n)
        idx = idx if xp is np else xp.asarray(idx)
        backend.kernels_for(out).scatter_add(out, idx,
                                             xp.ascontiguousarray(vals))
        return xp.ascontiguousarray(out.T.reshape(lead + (self.length,)))

    def backward(self, gy):
        xp = backend.get_array_module(gy)
        f, n = self.fn
        idx = self._index(f, n)
        idx = idx if xp is np else xp.asarray(idx)
        return xp.ascontiguousarray(gy[..., idx].reshape(
            gy.shape[:-1] + (f, n)))


@keras_op
def istft(x, sequence_length, sequence_stride, fft_length, length=None,
          window="hann", center=True):
    """Inverse short-time Fourier transform (windowed overlap-add).

    Args:
        x: tuple `(real, imag)` of shape `(..., frames, bins)`.
        sequence_length: the window length.
        sequence_stride: the hop between frames.
        fft_length: the FFT size.
        length: the output length (defaults to the whole reconstruction,
            minus the centring pad when `center`).
        window: `"hann"` (default), `"hamming"`, a 1-D tensor, or None.
        center: whether `stft` centred its frames.

    Returns:
        A float tensor `(..., samples)`.

    Example:
    >>> x = np.random.random((2, 64)).astype("float32")
    >>> spec = gkeras.ops.stft(x, 16, 8, 16)
    >>> gkeras.ops.istft(spec, 16, 8, 16).shape
    (2, 64)
    """
    re, im = _complex_pair(x, "istft")
    if len(re.shape) < 2:
        raise ValueError("istft: input `x` must have at least 2 dimensions. "
                         f"Received shape: {tuple(re.shape)}")
    dtype = np.dtype(re.dtype)
    win = _padded_window(window, sequence_length, fft_length)
    frames = re.shape[-2]
    total = fft_length + sequence_stride * (frames - 1)
    y = _IRFFT(fft_length)(re, im)
    y = E.multiply(y, _device(win.astype(dtype), y))
    y = _OverlapAdd(sequence_stride, total)(y)
    # Normalise by the overlap-added squared window (scipy's istft), then
    # Keras's own scaling: scipy multiplies by win.sum(), Keras divides by
    # it, or by the stride when there is no window.
    norm = np.zeros(total)
    for f in range(frames):
        norm[f * sequence_stride:f * sequence_stride + fft_length] += win ** 2
    scale = win.sum() / (win.sum() if window is not None else
                         sequence_stride)
    factor = scale / np.where(norm > 1e-10, norm, 1.0)
    y = E.multiply(y, _device(factor.astype(dtype), y))
    start = fft_length // 2 if center else 0
    if length is not None:
        end = start + length
    elif center:
        end = total - fft_length // 2
    else:
        end = total
    return getitem(y, (Ellipsis, slice(start, end)))
