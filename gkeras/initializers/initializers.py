"""Weight initializers (`keras.initializers`).

Every initializer is a callable `initializer(shape, dtype=None)` that
returns a **NumPy** array. Values are always generated on the CPU with
NumPy, so a model gets bit-identical initial weights on the CPU and on the
GPU; the caller (`Variable`) moves the array to the device.

As in Keras 3, a random initializer draws its seed once, at construction
(from the global generator that `gkeras.utils.set_random_seed` seeds, when
no `seed` is given): calling the same instance twice returns the same
values. Build a new instance (or pass a new seed) for new values.
"""

import math

import numpy as np

from gkeras import backend
from gkeras.utils import random_utils


def _dtype(dtype):
    return np.dtype(backend.standardize_dtype(dtype))


def _shape(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        return tuple(int(d) for d in shape)
    except TypeError:
        raise ValueError(
            "Initializer `shape` must be a tuple of integers. "
            f"Received: shape={shape!r}") from None


def compute_fans(shape, input_axes=None, output_axes=None):
    """Computes the fan-in and fan-out of a weight shape, as Keras does.

    Dense kernels `(in, out)` give `(in, out)`; convolution kernels
    `(*spatial, in_channels, out_channels)` multiply both by the receptive
    field size `prod(spatial)`.

    Args:
        shape: tuple of ints.
        input_axes: optional axes whose sizes multiply into the fan-in
            (Keras 3.15, for kernels of EinsumDense-style layers).
        output_axes: optional axes for the fan-out.

    Returns:
        `(fan_in, fan_out)` as Python ints.
    """
    shape = tuple(shape)
    if input_axes is not None or output_axes is not None:
        d_in, d_out = compute_fans(shape)
        if input_axes is not None:
            d_in = int(np.prod([shape[a] for a in input_axes]))
        if output_axes is not None:
            d_out = int(np.prod([shape[a] for a in output_axes]))
        return d_in, d_out
    if len(shape) < 1:
        fan_in = fan_out = 1
    elif len(shape) == 1:
        fan_in = fan_out = shape[0]
    elif len(shape) == 2:
        fan_in, fan_out = shape
    else:
        receptive_field_size = 1
        for dim in shape[:-2]:
            receptive_field_size *= dim
        fan_in = shape[-2] * receptive_field_size
        fan_out = shape[-1] * receptive_field_size
    return int(fan_in), int(fan_out)


class Initializer:
    """Initializer base class: all initializers inherit from it.

    Subclasses implement `__call__(shape, dtype=None)` returning a NumPy
    array, and `get_config()` when they take arguments.

    Example:

    ```python
    class ExampleRandomNormal(Initializer):
        def __init__(self, mean, stddev):
            self.mean = mean
            self.stddev = stddev

        def __call__(self, shape, dtype=None):
            return np.random.normal(self.mean, self.stddev, shape).astype(
                dtype or "float32")

        def get_config(self):
            return {"mean": self.mean, "stddev": self.stddev}
    ```
    """

    def __call__(self, shape, dtype=None):
        raise NotImplementedError(
            f"Initializer {type(self).__name__} does not implement "
            "`__call__(shape, dtype=None)`.")

    def get_config(self):
        """Returns the initializer's configuration (a JSON-able dict)."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Instantiates an initializer from its `get_config()` dict."""
        return cls(**config)

    def clone(self):
        """Returns a new instance with the same configuration."""
        return self.__class__.from_config(self.get_config())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


# --------------------------------------------------------------- constant
class Constant(Initializer):
    """Initializer that generates tensors with constant values.

    Args:
        value: A Python scalar (or array broadcastable to the shape).

    Example:

    >>> init = Constant(10.)
    >>> init(shape=(2, 2))
    array([[10., 10.], [10., 10.]], dtype=float32)
    """

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        value = backend.to_numpy(self.value) if not np.isscalar(
            self.value) else self.value
        return np.broadcast_to(np.asarray(value, dtype=_dtype(dtype)),
                               _shape(shape)).copy()

    def get_config(self):
        value = self.value
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, np.generic):
            value = value.item()
        return {"value": value}


class Zeros(Initializer):
    """Initializer that generates tensors initialized to 0.

    Example:

    >>> Zeros()(shape=(2, 2))
    array([[0., 0.], [0., 0.]], dtype=float32)
    """

    def __call__(self, shape, dtype=None):
        return np.zeros(_shape(shape), dtype=_dtype(dtype))


class Ones(Initializer):
    """Initializer that generates tensors initialized to 1.

    Example:

    >>> Ones()(shape=(2, 2))
    array([[1., 1.], [1., 1.]], dtype=float32)
    """

    def __call__(self, shape, dtype=None):
        return np.ones(_shape(shape), dtype=_dtype(dtype))


class Identity(Initializer):
    """Initializer that generates the identity matrix (2D shapes only).

    Args:
        gain: Multiplicative factor applied to the identity matrix.

    Example:

    >>> Identity()(shape=(2, 3))
    array([[1., 0., 0.], [0., 1., 0.]], dtype=float32)
    """

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D "
                f"matrices. Received: shape={shape} of rank {len(shape)}.")
        return (self.gain * np.eye(*shape)).astype(_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


# ----------------------------------------------------------------- random
class RandomInitializer(Initializer):
    """Base class of the random initializers: holds the seed.

    Args:
        seed: A Python integer, or None. With None a seed is drawn now from
            gkeras's global generator (see `gkeras.utils.set_random_seed`).
            Either way the instance returns the same values on every call,
            as in Keras 3.
    """

    def __init__(self, seed=None):
        self._init_seed = seed
        if seed is None:
            seed = random_utils.draw_seed()
        elif isinstance(seed, dict):
            seed = seed.get("config", {}).get("seed", None)
            if seed is None:
                seed = random_utils.draw_seed()
        elif not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise ValueError(
                "`seed` argument should be an integer or None. "
                f"Received: seed={seed!r}")
        self.seed = int(seed)

    def _rng(self):
        return random_utils.make_rng(self.seed)

    def get_config(self):
        return {"seed": self._init_seed}


def _work_dtype(dtype):
    """float32 sampling for float32 (and narrower) variables: half the
    memory traffic of float64 on the large kernels of big models."""
    return np.float32 if np.dtype(dtype).itemsize <= 4 else np.float64


def _truncated_normal(rng, shape, mean, stddev, dtype):
    """Normal samples, re-drawing those more than 2 stddev from the mean."""
    n = int(np.prod(shape)) if shape else 1
    work = _work_dtype(dtype)
    out = rng.standard_normal(n, dtype=work)
    # Re-checks only the re-drawn entries (no full passes over the array:
    # the kernels of large models build several times faster).
    bad = np.flatnonzero(np.abs(out) > 2.0)
    while bad.size:
        out[bad] = rng.standard_normal(bad.size, dtype=work)
        bad = bad[np.abs(out[bad]) > 2.0]
    out *= stddev
    out += mean
    return out.reshape(shape).astype(dtype)


class RandomNormal(RandomInitializer):
    """Random normal initializer.

    Draws samples from a normal distribution `N(mean, stddev**2)`.

    Args:
        mean: Mean of the random values to generate.
        stddev: Standard deviation of the random values to generate.
        seed: A Python integer (or None), see `RandomInitializer`.

    Example:

    >>> init = RandomNormal(mean=0.0, stddev=1.0, seed=1)
    >>> values = init(shape=(2, 2))
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        x = self._rng().standard_normal(shape) * self.stddev + self.mean
        return np.asarray(x, dtype=_dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "mean": self.mean,
                "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """Initializer that generates a truncated normal distribution.

    Like `RandomNormal`, except that values more than two standard
    deviations from the mean are discarded and re-drawn.

    Args:
        mean: Mean of the random values to generate.
        stddev: Standard deviation of the (untruncated) distribution.
        seed: A Python integer (or None), see `RandomInitializer`.
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return _truncated_normal(self._rng(), _shape(shape), self.mean,
                                 self.stddev, _dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "mean": self.mean,
                "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """Random uniform initializer.

    Draws samples from `U[minval, maxval)`.

    Args:
        minval: Lower bound of the range (inclusive).
        maxval: Upper bound of the range (exclusive).
        seed: A Python integer (or None), see `RandomInitializer`.
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        x = self._rng().uniform(self.minval, self.maxval, _shape(shape))
        return np.asarray(x, dtype=_dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "minval": self.minval,
                "maxval": self.maxval}


class VarianceScaling(RandomInitializer):
    """Initializer that adapts its scale to the shape of its input tensors.

    With `distribution="truncated_normal"` or `"untruncated_normal"`,
    samples have `stddev = sqrt(scale / n)` (after truncation), where `n`
    is the fan-in (`mode="fan_in"`), the fan-out (`"fan_out"`) or their
    average (`"fan_avg"`). With `distribution="uniform"`, samples are drawn
    from `[-limit, limit]`, `limit = sqrt(3 * scale / n)`.

    Args:
        scale: Scaling factor (positive float).
        mode: One of `"fan_in"`, `"fan_out"`, `"fan_avg"`.
        distribution: One of `"truncated_normal"`, `"untruncated_normal"`,
            `"uniform"` (`"normal"` means `"truncated_normal"`).
        seed: A Python integer (or None), see `RandomInitializer`.
    """

    def __init__(self, scale=1.0, mode="fan_in",
                 distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        if scale <= 0.0:
            raise ValueError("Argument `scale` must be positive float. "
                             f"Received: scale={scale}")
        allowed_modes = ("fan_in", "fan_out", "fan_avg")
        if mode not in allowed_modes:
            raise ValueError(f"Invalid `mode` argument: {mode!r}. Expected "
                             f"one of {list(allowed_modes)}.")
        distribution = str(distribution).lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        allowed = ("uniform", "truncated_normal", "untruncated_normal")
        if distribution not in allowed:
            raise ValueError(
                f"Invalid `distribution` argument: {distribution!r}. "
                f"Expected one of {list(allowed)}.")
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = list(input_axes) if input_axes is not None else None
        self.output_axes = list(output_axes) if output_axes is not None \
            else None
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        dtype = _dtype(dtype)
        scale = self.scale
        fan_in, fan_out = compute_fans(shape, self.input_axes,
                                       self.output_axes)
        if self.mode == "fan_in":
            scale /= max(1.0, fan_in)
        elif self.mode == "fan_out":
            scale /= max(1.0, fan_out)
        else:
            scale /= max(1.0, (fan_in + fan_out) / 2.0)
        rng = self._rng()
        if self.distribution == "truncated_normal":
            # 0.879... = stddev of the standard normal truncated to [-2, 2].
            stddev = math.sqrt(scale) / 0.87962566103423978
            return _truncated_normal(rng, shape, 0.0, stddev, dtype)
        if self.distribution == "untruncated_normal":
            return np.asarray(rng.standard_normal(shape) * math.sqrt(scale),
                              dtype=dtype)
        limit = math.sqrt(3.0 * scale)
        out = rng.random(shape, dtype=_work_dtype(dtype))
        out *= 2.0 * limit
        out -= limit
        return out.astype(dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale,
                "mode": self.mode, "distribution": self.distribution,
                "input_axes": self.input_axes,
                "output_axes": self.output_axes}


class _FixedVarianceScaling(VarianceScaling):
    _args = None

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(**self._args, seed=seed, input_axes=input_axes,
                         output_axes=output_axes)

    def get_config(self):
        return {"seed": self._init_seed, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


class GlorotUniform(_FixedVarianceScaling):
    """The Glorot uniform initializer, also called Xavier uniform.

    Draws samples from `U[-limit, limit]`,
    `limit = sqrt(6 / (fan_in + fan_out))`. The default kernel initializer
    of Keras layers.

    Args:
        seed: A Python integer (or None), see `RandomInitializer`.
    """
    _args = dict(scale=1.0, mode="fan_avg", distribution="uniform")


class GlorotNormal(_FixedVarianceScaling):
    """The Glorot normal initializer, also called Xavier normal.

    Truncated normal with `stddev = sqrt(2 / (fan_in + fan_out))`.

    Args:
        seed: A Python integer (or None), see `RandomInitializer`.
    """
    _args = dict(scale=1.0, mode="fan_avg", distribution="truncated_normal")


class LecunNormal(_FixedVarianceScaling):
    """Lecun normal initializer: truncated normal, `stddev = sqrt(1 / fan_in)`.

    Args:
        seed: A Python integer (or None), see `RandomInitializer`.
    """
    _args = dict(scale=1.0, mode="fan_in", distribution="truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """Lecun uniform initializer: `U[-limit, limit]`, `limit = sqrt(3 / fan_in)`.

    Args:
        seed: A Python integer (or None), see `RandomInitializer`.
    """
    _args = dict(scale=1.0, mode="fan_in", distribution="uniform")


class HeNormal(_FixedVarianceScaling):
    """He normal initializer: truncated normal, `stddev = sqrt(2 / fan_in)`.

    Args:
        seed: A Python integer (or None), see `RandomInitializer`.
    """
    _args = dict(scale=2.0, mode="fan_in", distribution="truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """He uniform initializer: `U[-limit, limit]`, `limit = sqrt(6 / fan_in)`.

    Args:
        seed: A Python integer (or None), see `RandomInitializer`.
    """
    _args = dict(scale=2.0, mode="fan_in", distribution="uniform")


class Orthogonal(RandomInitializer):
    """Initializer that generates an orthogonal matrix.

    For a shape of rank > 2, the matrix is of shape
    `(prod(shape[:-1]), shape[-1])`, reshaped back. It is the Q factor of
    the QR decomposition of a normal random matrix, with signs fixed by the
    diagonal of R (as Keras does). Also exported as
    `OrthogonalInitializer`; configs name it `"Orthogonal"`, as Keras 3
    writes it.

    Args:
        gain: Multiplicative factor to apply to the orthogonal matrix.
        seed: A Python integer (or None), see `RandomInitializer`.
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. "
                f"Received: shape={shape} of rank {len(shape)}.")
        num_rows = 1
        for dim in shape[:-1]:
            num_rows *= dim
        num_cols = shape[-1]
        flat_shape = (max(num_cols, num_rows), min(num_cols, num_rows))
        a = self._rng().standard_normal(flat_shape)
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if num_rows < num_cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(_dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


OrthogonalInitializer = Orthogonal
IdentityInitializer = Identity
