"""`STFTSpectrogram`: spectrograms as a strided convolution with the
(trainable) windowed DFT basis of `initializers.STFT` (Keras 3's layer)."""

import math
import warnings

import numpy as np

from gkeras import backend, initializers, ops
from gkeras.backend.config import standardize_data_format
from gkeras.initializers.stft import get_window
from gkeras.layers.input_spec import InputSpec
from gkeras.layers.layer import Layer
from gkeras.ops.engine import Function

__all__ = ["STFTSpectrogram"]

_MODES = ["log", "magnitude", "psd", "real", "imag", "angle", "stft"]


class _Atan2(Function):
    """arctan2(y, x) with its gradient (-x... / r^2)."""

    def forward(self, y, x):
        xp = backend.get_array_module(y)
        self.y, self.x = y, x
        return xp.arctan2(y, x)

    def backward(self, g):
        r2 = self.x * self.x + self.y * self.y
        xp = backend.get_array_module(g)
        r2 = xp.where(r2 == 0, 1, r2)
        return g * self.x / r2, -g * self.y / r2


def _conv_out_len(n, k, stride, padding):
    if n is None:
        return None
    if padding == "same":
        return -(-n // stride)
    return (n - k) // stride + 1


class STFTSpectrogram(Layer):
    """Layer computing spectrograms with a Short-Time Fourier Transform.

    The STFT is a convolution of each channel with the windowed DFT basis
    (`initializers.STFT`) at stride `frame_step`; the kernels are weights
    (trainable by default), so the transform can be fine-tuned.

    Args:
        mode: `"log"` (default), `"magnitude"`, `"psd"`, `"real"`,
            `"imag"`, `"angle"` or `"stft"` (real and imaginary parts
            concatenated on the frequency axis).
        frame_length: window length in samples.
        frame_step: hop between frames (default `frame_length // 2`).
        fft_length: FFT size (default the next power of two of
            `frame_length`).
        window: window name, a 1-D array of `frame_length` values, or None.
        periodic: use a periodic window.
        scaling: `"density"` (default), `"spectrum"` or None.
        padding: `"valid"` (default) or `"same"`.
        expand_dims: keep channels on their own axis (a 4-D output).
        data_format: `"channels_last"` or `"channels_first"`.

    Input shape:
        `(batch, time, channels)` (channels_last).

    Output shape:
        `(batch, frames, channels * freq)`, or `(batch, frames, freq,
        channels)` with `expand_dims` (channels_last).

    Example:
    >>> x = np.random.random((2, 400, 1)).astype("float32")
    >>> gkeras.layers.STFTSpectrogram(frame_length=64)(x).shape
    (2, 11, 33)
    """

    def __init__(self, mode="log", frame_length=256, frame_step=None,
                 fft_length=None, window="hann", periodic=False,
                 scaling="density", padding="valid", expand_dims=False,
                 data_format=None, **kwargs):
        if frame_step is not None and (frame_step > frame_length or
                                       frame_step < 1):
            raise ValueError(
                "`frame_step` should be a positive integer not greater than "
                f"`frame_length`. Received frame_step={frame_step}, "
                f"frame_length={frame_length}")
        if fft_length is not None and fft_length < frame_length:
            raise ValueError(
                "`fft_length` should be not less than `frame_length`. "
                f"Received fft_length={fft_length}, "
                f"frame_length={frame_length}")
        if fft_length is not None and (fft_length & -fft_length) != \
                fft_length:
            warnings.warn("`fft_length` is recommended to be a power of "
                          f"two. Received fft_length={fft_length}")
        if mode not in _MODES:
            raise ValueError(
                "Output mode is invalid, it must be one of "
                f"{', '.join(_MODES)}. Received: mode={mode}")
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(
                "Scaling is invalid, it must be `None`, 'density' or "
                f"'spectrum'. Received scaling={scaling}")
        if padding not in ("valid", "same"):
            raise ValueError("Padding is invalid, it should be 'valid', "
                             f"'same'. Received: padding={padding}")
        if isinstance(window, str):
            get_window(window, 1)
        super().__init__(**kwargs)
        self.mode = mode
        self.frame_length = frame_length
        self.frame_step = frame_step
        self._frame_step = frame_step or frame_length // 2
        self.fft_length = fft_length
        self._fft_length = fft_length or (
            2 ** int(math.ceil(math.log2(frame_length))))
        self.window = window
        self.periodic = periodic
        self.scaling = scaling
        self.padding = padding
        self.expand_dims = expand_dims
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape):
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        if self.mode != "imag":
            self.real_kernel = self.add_weight(
                name="real_kernel", shape=shape,
                initializer=initializers.STFT("real", self.window,
                                              self.scaling, self.periodic))
        if self.mode != "real":
            self.imag_kernel = self.add_weight(
                name="imag_kernel", shape=shape,
                initializer=initializers.STFT("imag", self.window,
                                              self.scaling, self.periodic))
        self.built = True

    def _apply_conv(self, x, kernel):
        last = self.data_format == "channels_last"
        if last:
            _, t, c = x.shape
            x = ops.reshape(ops.transpose(x, (0, 2, 1)), (-1, t, 1))
        else:
            _, c, t = x.shape
            x = ops.reshape(x, (-1, 1, t))
        k = ops.cast(kernel, x.dtype)
        y = ops.conv(x, k, strides=self._frame_step, padding=self.padding,
                     data_format=self.data_format)
        if last:
            _, frames, freq = y.shape
            y = ops.transpose(y, (0, 2, 1))
        else:
            _, freq, frames = y.shape
        return ops.reshape(y, (-1, c, freq, frames))

    def _adjust_shapes(self, y):
        _, c, freq, frames = y.shape
        if self.data_format == "channels_last":
            if self.expand_dims:
                return ops.transpose(y, (0, 3, 2, 1))
            y = ops.reshape(y, (-1, c * freq, frames))
            return ops.transpose(y, (0, 2, 1))
        if self.expand_dims:
            return ops.transpose(y, (0, 1, 3, 2))
        return ops.reshape(y, (-1, c * freq, frames))

    def call(self, inputs):
        dtype = np.dtype(inputs.dtype)
        if dtype.name not in ("float16", "float32", "float64"):
            raise TypeError(
                f"STFTSpectrogram layer {self.name!r}: invalid input type. "
                "Expected `float16`, `float32` or `float64`. Received: input "
                f"type={dtype.name}")
        re = im = None
        if self.mode != "imag":
            re = self._apply_conv(inputs, self.real_kernel)
        if self.mode != "real":
            im = self._apply_conv(inputs, self.imag_kernel)
        if self.mode == "real":
            return self._adjust_shapes(re)
        if self.mode == "imag":
            return self._adjust_shapes(im)
        if self.mode == "angle":
            return self._adjust_shapes(_Atan2()(im, re))
        if self.mode == "stft":
            return self._adjust_shapes(ops.concatenate([re, im], axis=2))
        power = ops.add(ops.square(re), ops.square(im))
        if self.mode == "psd":
            # One-sided PSD: the bins between DC and Nyquist count twice.
            inner = ops.pad(power[:, :, 1:-1, :],
                            [(0, 0), (0, 0), (1, 1), (0, 0)])
            return self._adjust_shapes(ops.add(power, inner))
        eps = backend.epsilon()
        linear = self._adjust_shapes(ops.sqrt(ops.maximum(power, eps)))
        if self.mode == "magnitude":
            return linear
        return ops.log(ops.maximum(linear, eps))

    def compute_output_shape(self, input_shape):
        last = self.data_format == "channels_last"
        channels = input_shape[-1] if last else input_shape[1]
        t = input_shape[1] if last else input_shape[2]
        freq = self._fft_length // 2 + 1
        if self.mode == "stft":
            freq *= 2
        frames = _conv_out_len(t, self.frame_length, self._frame_step,
                               self.padding)
        if self.expand_dims:
            return (input_shape[0], frames, freq, channels) if last else \
                (input_shape[0], channels, frames, freq)
        feat = None if channels is None else freq * channels
        return (input_shape[0], frames, feat) if last else \
            (input_shape[0], feat, frames)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode,
                "frame_length": self.frame_length,
                "frame_step": self.frame_step,
                "fft_length": self.fft_length, "window": self.window,
                "periodic": self.periodic, "scaling": self.scaling,
                "padding": self.padding, "data_format": self.data_format,
                "expand_dims": self.expand_dims}
