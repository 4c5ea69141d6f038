"""Creation and conversion ops of `keras.ops.numpy` beyond `core.py`:
`array`, `empty`/`empty_like`, `logspace`/`geomspace`, the window
functions, the complex views, `polar` and `saturate_cast`."""

import builtins

import numpy as np

from gkeras import backend
from gkeras.ops import elementwise as E
from gkeras.ops._base import arr, keras_op, t_or_a, to_array, wrap, xp_of
from gkeras.ops.core import cast, convert_to_tensor, zeros
from gkeras.ops.engine import Tensor


# -- creation -----------------------------------------------------------------

def array(x, dtype=None):
    """Creates a tensor from array-like data (`convert_to_tensor`)."""
    return convert_to_tensor(x, dtype=dtype)


def empty(shape, dtype=None):
    """A new tensor of `shape` (filled with zeros, as JAX does)."""
    return zeros(shape, dtype=dtype)


@keras_op
def empty_like(x, dtype=None):
    """A new tensor with the shape (and dtype) of `x` (zeros)."""
    a = to_array(x)
    d = a.dtype if dtype is None else backend.standardize_dtype(dtype)
    return wrap(xp_of(a).zeros(a.shape, dtype=d))


def _float_dt(dtype):
    return backend.standardize_dtype(dtype or backend.floatx())


def _host_values(s, e):
    return (np.asarray(backend.to_numpy(to_array(s)), dtype=np.float64),
            np.asarray(backend.to_numpy(to_array(e)), dtype=np.float64))


# Ranges and windows are computed with NumPy on the host and moved to the
# backend's device: they are small, built once, and CuPy lacks some of them.

def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None,
             axis=0):
    """`num` numbers spaced evenly on a log scale, `base ** linspace`.

    Args:
        start, stop: the exponents of the ends (scalars or tensors).
        num: number of samples.
        endpoint: whether `stop` is included.
        base: the base of the log space.
        dtype: result dtype (default `floatx()`).
        axis: where the samples axis goes when start/stop are tensors.
    """
    s, e = _host_values(start, stop)
    out = np.logspace(s, e, int(num), endpoint=endpoint, base=base,
                      axis=axis)
    return Tensor(backend.to_device(out, _float_dt(dtype)))


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """`num` numbers spaced evenly on a log scale between `start` and
    `stop` (a geometric progression).

    Args:
        start, stop: the end values (non-zero, same sign).
        num: number of samples.
        endpoint: whether `stop` is included.
        dtype: result dtype (default `floatx()`).
        axis: where the samples axis goes when start/stop are tensors.
    """
    s, e = _host_values(start, stop)
    out = np.geomspace(s, e, int(num), endpoint=endpoint, axis=axis)
    return Tensor(backend.to_device(out, _float_dt(dtype)))


def _window(name, doc):
    def op(x):
        m = int(arr(x))
        return Tensor(backend.to_device(getattr(np, name)(m),
                                        backend.floatx()))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


bartlett = _window("bartlett", "The Bartlett (triangular) window of `x`"
                   " points.")
blackman = _window("blackman", "The Blackman window of `x` points.")
hamming = _window("hamming", "The Hamming window of `x` points.")
hanning = _window("hanning", "The Hann window of `x` points.")


def kaiser(x, beta):
    """The Kaiser window of `x` points with shape parameter `beta`."""
    return Tensor(backend.to_device(np.kaiser(int(arr(x)), float(arr(beta))),
                                    backend.floatx()))


# -- complex views ------------------------------------------------------------

@keras_op
def view_as_real(x):
    """A complex tensor as real pairs: shape `(..., 2)` (real, imaginary)."""
    a = to_array(x)
    xp = xp_of(a)
    if a.dtype.kind != "c":
        raise ValueError(f"view_as_real expects a complex tensor, received "
                         f"dtype {a.dtype}.")
    return wrap(xp.stack([a.real, a.imag], axis=-1))


@keras_op
def view_as_complex(x):
    """Real pairs (last axis of size 2) as a complex tensor."""
    a = to_array(x)
    if a.shape[-1:] != (2,):
        raise ValueError("view_as_complex expects a last axis of size 2, "
                         f"received shape {a.shape}.")
    dt = np.complex128 if a.dtype == np.float64 else np.complex64
    return wrap((a[..., 0] + 1j * a[..., 1]).astype(dt))


@keras_op
def polar(abs_, angle):
    """A complex tensor from magnitudes and angles:
    `abs_ * (cos(angle) + 1j * sin(angle))`."""
    r, t = to_array(abs_), to_array(angle)
    xp = xp_of(r, t)
    dt = np.complex128 if np.result_type(r.dtype, t.dtype) == np.float64 \
        else np.complex64
    return wrap((r * xp.cos(t) + 1j * r * xp.sin(t)).astype(dt))


@keras_op
def saturate_cast(x, dtype):
    """Casts to `dtype`, first clipping values to the range it can hold
    (so `[-1, 256]` as uint8 becomes `[0, 255]`, not `[255, 0]`).

    Args:
        x: input tensor.
        dtype: the target dtype.
    """
    dtype = np.dtype(backend.standardize_dtype(dtype))
    a = arr(x)
    src = np.dtype(a.dtype) if hasattr(a, "dtype") else np.asarray(a).dtype
    info = np.iinfo if dtype.kind in "iu" else np.finfo
    sinfo = np.iinfo if src.kind in "iu" else np.finfo
    if dtype.kind == "b" or src.kind == "b":
        return cast(x, dtype.name)
    lo = builtins.max(float(info(dtype).min), float(sinfo(src).min))
    hi = builtins.min(float(info(dtype).max), float(sinfo(src).max))
    if src.kind == "f" and dtype.kind in "iu":
        # The largest float of the source not above the integer bound.
        hi = float(np.nextafter(src.type(hi), src.type(0))) if \
            float(src.type(hi)) > float(info(dtype).max) else hi
    return cast(E.clip(t_or_a(x), lo, hi), dtype.name)
