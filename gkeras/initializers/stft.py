"""The `STFT` initializer: the real or imaginary DFT basis, windowed, as a
`(frame_length, 1, fft_bins)` convolution kernel (Keras 3's
`keras.initializers.STFT`, used by `STFTSpectrogram`)."""

import numpy as np

from gkeras.initializers.initializers import Initializer

__all__ = ["STFT", "get_window"]


def _cosine_window(coeffs, length, periodic):
    n = length if periodic else length - 1
    t = np.arange(length)
    if n == 0:
        return np.ones(length)
    w = np.zeros(length)
    for k, a in enumerate(coeffs):
        w += (-1) ** k * a * np.cos(2.0 * np.pi * k * t / n)
    return w


def get_window(window, length, periodic=False):
    """A window of `length` samples, as `scipy.signal.get_window(window,
    length, fftbins=periodic)`.

    `"hann"`, `"hamming"`, `"blackman"`, `"bartlett"` and `"boxcar"` are
    built in; other SciPy window names need SciPy.

    Args:
        window: the window name (or a tuple SciPy accepts).
        length: the number of samples.
        periodic: a periodic (DFT-even) window instead of a symmetric one.

    Returns:
        A float64 NumPy array of `length` values.
    """
    builtin = {"hann": (0.5, 0.5), "hamming": (0.54, 0.46),
               "blackman": (0.42, 0.5, 0.08)}
    if isinstance(window, str) and window in builtin:
        return _cosine_window(builtin[window], length, periodic)
    if window == "boxcar":
        return np.ones(length)
    if window == "bartlett":
        n = length if periodic else length - 1
        if n == 0:
            return np.ones(length)
        t = np.arange(length)
        return 1.0 - np.abs(2.0 * t / n - 1.0)
    try:
        import scipy.signal
    except ImportError:
        raise NotImplementedError(
            f"Window {window!r} needs SciPy (`pip install scipy`); gkeras "
            "builds 'hann', 'hamming', 'blackman', 'bartlett' and "
            "'boxcar' itself.") from None
    return np.asarray(scipy.signal.get_window(window, length,
                                              fftbins=periodic), np.float64)


class STFT(Initializer):
    """Initializer of a Short-Time Fourier Transform convolution kernel.

    For a shape `(T, 1, F)` it returns `cos` (`side="real"`) or `sin`
    (`side="imag"`) of `-2 pi t f / (2 (F - 1))`, for `t < T`, `f < F`,
    times the window and divided by its scaling, so a strided `conv` with
    it computes the STFT.

    Args:
        side: `"real"` or `"imag"`.
        window: a window name (`"hann"`, ...), a 1-D array of `T` values,
            or None (rectangular).
        scaling: `"density"` (divide by the window's L2 norm),
            `"spectrum"` (by its sum) or None.
        periodic: use a periodic window instead of a symmetric one.

    Example:
    >>> kernel = gkeras.initializers.STFT("real", "hann")((8, 1, 5))
    >>> kernel.shape
    (8, 1, 5)
    """

    def __init__(self, side="real", window="hann", scaling="density",
                 periodic=False):
        if side not in ("real", "imag"):
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str):
            get_window(window, 1)
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(
                "Scaling is invalid, it must be `None`, 'density' or "
                f"'spectrum'. Received scaling={scaling}")
        self.side = side
        self.window = window
        self.scaling = scaling
        self.periodic = periodic

    def __call__(self, shape, dtype=None):
        from gkeras import backend
        dtype = backend.standardize_dtype(dtype or backend.floatx())
        if len(shape) != 3:
            raise ValueError(
                "STFT initializer: the shape must be (frame_length, 1, "
                f"fft_bins). Received: shape={tuple(shape)}")
        frame_length, _, bins = shape
        win, scale = None, 1.0
        if self.window is not None:
            win = self.window
            if isinstance(win, str):
                win = get_window(win, frame_length, self.periodic)
            win = np.asarray(win, np.float64)
            if win.ndim != 1 or win.shape[-1] != frame_length:
                raise ValueError(
                    "The shape of `window` must be equal to [frame_length]. "
                    f"Received: window shape={win.shape}")
            win = win.reshape(frame_length, 1, 1)
            if self.scaling == "density":
                scale = np.sqrt(np.sum(win ** 2))
            elif self.scaling == "spectrum":
                scale = np.sum(np.abs(win))
        n_fft = (bins - 1) * 2
        freq = np.arange(bins, dtype=np.float64).reshape(1, 1, bins) / n_fft
        time = np.arange(frame_length, dtype=np.float64).reshape(
            frame_length, 1, 1)
        args = -2.0 * time * freq * np.pi
        kernel = np.cos(args) if self.side == "real" else np.sin(args)
        if win is not None:
            kernel = kernel * win / scale
        return kernel.astype(dtype)

    def get_config(self):
        return {"side": self.side, "window": self.window,
                "periodic": self.periodic, "scaling": self.scaling}
