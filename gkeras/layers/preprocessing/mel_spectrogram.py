"""`MelSpectrogram`: power spectrogram (`ops.stft`) warped onto the mel
scale, optionally in decibels (Keras 3's layer; differentiable)."""

import numpy as np

from gkeras import ops
from gkeras.layers.layer import Layer
from gkeras.ops._base import arr, xp_of

__all__ = ["MelSpectrogram", "linear_to_mel_weight_matrix"]

_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


def _hertz_to_mel(f):
    return _MEL_HIGH_FREQUENCY_Q * np.log(1.0 + f / _MEL_BREAK_FREQUENCY_HERTZ)


def linear_to_mel_weight_matrix(num_mel_bins=20, num_spectrogram_bins=129,
                                sampling_rate=8000, lower_edge_hertz=125.0,
                                upper_edge_hertz=3800.0, dtype="float32"):
    """The `(num_spectrogram_bins, num_mel_bins)` matrix of HTK-style
    triangular mel filters (peak 1.0), as Keras's
    `MelSpectrogram.linear_to_mel_weight_matrix`; the DC bin gets none.

    Args:
        num_mel_bins: number of mel bands.
        num_spectrogram_bins: number of linear bins (`fft_length // 2 + 1`).
        sampling_rate: samples per second of the signal.
        lower_edge_hertz: lower edge of the lowest band.
        upper_edge_hertz: upper edge of the highest band.
        dtype: dtype of the result.

    Returns:
        A NumPy array.
    """
    dt = np.dtype(dtype)
    nyquist = np.asarray(sampling_rate, dt) / 2.0
    linear = np.linspace(0.0, nyquist, num_spectrogram_bins,
                         dtype=dt)[1:]
    bins_mel = _hertz_to_mel(linear).astype(dt)[:, None]
    edges = np.linspace(_hertz_to_mel(np.asarray(lower_edge_hertz, dt)),
                        _hertz_to_mel(np.asarray(upper_edge_hertz, dt)),
                        num_mel_bins + 2, dtype=dt)
    lower, center, upper = (edges[:-2][None], edges[1:-1][None],
                            edges[2:][None])
    lower_slopes = (bins_mel - lower) / (center - lower)
    upper_slopes = (upper - bins_mel) / (upper - center)
    w = np.maximum(0.0, np.minimum(lower_slopes, upper_slopes)).astype(dt)
    return np.pad(w, [(1, 0), (0, 0)])


class MelSpectrogram(Layer):
    """A preprocessing layer computing mel spectrograms of audio.

    `|stft(x)| ** mag_exp` (centred frames, `window`), times the mel
    filter matrix, then (with `power_to_db`) `10 log10(max(S, min_power))
    - 10 log10(max(ref_power, min_power))`, floored at `max - top_db`.

    Args:
        fft_length: FFT size.
        sequence_stride: hop between frames.
        sequence_length: window length (default `fft_length`).
        window: `"hann"` (default), `"hamming"` or None.
        sampling_rate: samples per second.
        num_mel_bins: number of mel bands.
        min_freq: lowest band edge (Hz).
        max_freq: highest band edge (default `sampling_rate / 2`).
        power_to_db: convert to decibels.
        top_db: dynamic range kept below the maximum (dB).
        mag_exp: exponent of the magnitude (2 for power).
        min_power: floor of the power before the logarithm.
        ref_power: reference power of 0 dB.

    Input shape:
        `(batch, samples)` or `(samples,)`.

    Output shape:
        `(batch, num_mel_bins, frames)`.

    Example:
    >>> x = np.random.random((2, 16000)).astype("float32")
    >>> gkeras.layers.MelSpectrogram()(x).shape
    (2, 128, 32)
    """

    def __init__(self, fft_length=2048, sequence_stride=512,
                 sequence_length=None, window="hann", sampling_rate=16000,
                 num_mel_bins=128, min_freq=20.0, max_freq=None,
                 power_to_db=True, top_db=80.0, mag_exp=2.0,
                 min_power=1e-10, ref_power=1.0, **kwargs):
        self.fft_length = fft_length
        self.sequence_stride = sequence_stride
        self.sequence_length = sequence_length or fft_length
        if self.fft_length < self.sequence_length:
            raise ValueError(
                "`fft_length` must be greater than or equal to "
                f"`sequence_length`. Received: `sequence_length`="
                f"{self.sequence_length}, `fft_length`={self.fft_length}.")
        self.window = window
        self.sampling_rate = sampling_rate
        self.num_mel_bins = num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power
        super().__init__(**kwargs)
        self.built = True

    def call(self, inputs):
        dtype = self.compute_dtype if str(self.compute_dtype) in (
            "float32", "float64") else "float32"
        x = ops.cast(inputs, dtype)
        real, imag = ops.stft(x, self.sequence_length, self.sequence_stride,
                              self.fft_length, window=self.window,
                              center=True)
        spec = ops.sqrt(ops.add(ops.square(real), ops.square(imag)))
        spec = ops.power(spec, self.mag_exp)
        mel = linear_to_mel_weight_matrix(
            self.num_mel_bins, spec.shape[-1], self.sampling_rate,
            self.min_freq, self.max_freq, dtype=dtype)
        if xp_of(arr(spec)) is not np:
            from gkeras import backend
            mel = backend.to_device(mel)
        out = ops.tensordot(spec, mel, axes=1)
        if self.power_to_db:
            out = self._dbscale(out)
        out = ops.swapaxes(out, -1, -2)
        return ops.cast(out, self.compute_dtype)

    def _dbscale(self, s):
        log_spec = ops.multiply(10.0, ops.log10(ops.maximum(s,
                                                            self.min_power)))
        ref = 10.0 * np.log10(max(abs(float(self.ref_power)),
                                  self.min_power))
        log_spec = ops.subtract(log_spec, ref)
        # The floor follows the batch maximum, as Keras (not per example).
        floor = ops.subtract(ops.max(log_spec), self.top_db)
        return ops.maximum(log_spec, floor)

    def compute_output_shape(self, input_shape):
        def frames(n):
            return None if n is None else \
                (n + self.sequence_stride + 1) // self.sequence_stride
        if len(input_shape) == 1:
            return (self.num_mel_bins, frames(input_shape[0]))
        return (input_shape[0], self.num_mel_bins, frames(input_shape[1]))

    def get_config(self):
        return {**super().get_config(), "fft_length": self.fft_length,
                "sequence_stride": self.sequence_stride,
                "sequence_length": self.sequence_length,
                "window": self.window, "sampling_rate": self.sampling_rate,
                "num_mel_bins": self.num_mel_bins,
                "min_freq": self.min_freq, "max_freq": self.max_freq,
                "power_to_db": self.power_to_db, "top_db": self.top_db,
                "mag_exp": self.mag_exp, "min_power": self.min_power,
                "ref_power": self.ref_power}
