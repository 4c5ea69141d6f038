"""`gkeras.random`: random tensors and `SeedGenerator` (Keras 3 names).

Random numbers are drawn with NumPy's PCG64 generator on the CPU. Under
the CuPy backend, large draws (dropout masks) are made on the GPU with a
CuPy generator seeded from the same stream, so no host-to-device copy
happens inside a training step.
"""

import numpy as np

from gkeras import backend
from gkeras.ops.engine import Tensor
from gkeras.utils import random_utils


class SeedGenerator:
    """A stateful source of random streams (one per layer that needs one).

    Args:
        seed: an int; None draws one from the global generator, so
            `gkeras.utils.set_random_seed` still makes runs repeatable.
        name: accepted for Keras compatibility.

    Example:
    >>> gen = gkeras.random.SeedGenerator(1337)
    >>> x = gkeras.random.normal((2, 3), seed=gen)
    """

    def __init__(self, seed=None, name=None, **kwargs):
        if seed is None:
            seed = random_utils.draw_seed()
        if not isinstance(seed, (int, np.integer)):
            raise ValueError("SeedGenerator: `seed` must be an integer. "
                             f"Received: seed={seed!r}")
        self.seed = int(seed)
        self.name = name or "seed_generator"
        self._np = np.random.default_rng(self.seed)
        self._cp = None

    def numpy_rng(self):
        """The NumPy `Generator` of this stream."""
        return self._np

    def cupy_rng(self):
        """A CuPy `Generator` seeded from this stream (created lazily)."""
        if self._cp is None:
            from gkeras.backend import gpu
            self._cp = gpu.default_rng(int(self._np.integers(0, 2 ** 63 - 1)))
        return self._cp

    def get_config(self):
        return {"seed": self.seed}


def _rng(seed, xp=np):
    if isinstance(seed, SeedGenerator):
        return seed.numpy_rng() if xp is np else seed.cupy_rng()
    if seed is None:
        gen = random_utils.global_rng()
        if xp is np:
            return gen
        from gkeras.backend import gpu
        return gpu.default_rng(int(gen.integers(0, 2 ** 63 - 1)))
    if xp is np:
        return np.random.default_rng(int(seed))
    from gkeras.backend import gpu
    return gpu.default_rng(int(seed))


def uniform_array(shape, seed, xp, dtype="float32"):
    """Raw uniform [0, 1) array on the module `xp` (used by dropout)."""
    rng = _rng(seed, xp)
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        dt = np.dtype("float32")
    return rng.random(tuple(shape), dtype=dt)


def _out(a, dtype):
    dtype = backend.standardize_dtype(dtype)
    return Tensor(backend.to_device(a.astype(dtype, copy=False)))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Uniform random values in `[minval, maxval)`."""
    a = _rng(seed).uniform(minval, maxval, size=tuple(shape))
    return _out(a, dtype)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normally distributed random values."""
    return _out(_rng(seed).normal(mean, stddev, size=tuple(shape)), dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal values re-drawn until within two standard deviations."""
    rng = _rng(seed)
    a = rng.normal(0.0, 1.0, size=tuple(shape))
    bad = np.abs(a) > 2
    while bad.any():
        a[bad] = rng.normal(0.0, 1.0, size=int(bad.sum()))
        bad = np.abs(a) > 2
    return _out(a * stddev + mean, dtype)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Random integers in `[minval, maxval)`."""
    return _out(_rng(seed).integers(minval, maxval, size=tuple(shape)), dtype)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Draws class ids from the categorical distributions given by logits."""
    lg = backend.to_numpy(logits.data if isinstance(logits, Tensor)
                          else logits).astype("float64")
    p = np.exp(lg - lg.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    rng = _rng(seed)
    out = np.stack([rng.choice(p.shape[-1], size=num_samples, p=row)
                    for row in p])
    return _out(out, dtype)


def shuffle(x, axis=0, seed=None):
    """Shuffles a tensor along an axis."""
    a = backend.to_numpy(x.data if isinstance(x, Tensor) else x)
    perm = _rng(seed).permutation(a.shape[axis])
    return Tensor(backend.to_device(np.take(a, perm, axis=axis)))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Inverted dropout (see `gkeras.ops.dropout`)."""
    from gkeras.ops.nn import dropout as _dropout
    return _dropout(inputs, rate, noise_shape=noise_shape, seed=seed)


def _param(x):
    """A distribution parameter as a float64 NumPy value (tensors, lists
    and scalars; broadcast against `shape` by NumPy)."""
    if isinstance(x, Tensor):
        x = x.data
    return np.asarray(backend.to_numpy(x), dtype="float64")


def gamma(shape, alpha, dtype=None, seed=None):
    """Draws from Gamma distributions of shape parameter `alpha` (scale 1).

    Args:
        shape: the output shape.
        alpha: the concentration (float or tensor broadcastable to
            `shape`), > 0.
        dtype: a float dtype (default `floatx()`).
        seed: an int, a `SeedGenerator`, or None.

    Returns:
        A tensor of `shape`.

    Example:
    >>> gkeras.random.gamma((2, 3), alpha=2.0, seed=1).shape
    (2, 3)
    """
    a = _param(alpha)
    if np.any(a <= 0):
        raise ValueError("gamma: `alpha` must be > 0. Received: "
                         f"alpha={alpha!r}")
    return _out(_rng(seed).gamma(a, 1.0, size=tuple(shape)), dtype)


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Draws the number of successes of `counts` trials of probability
    `probabilities`.

    Args:
        shape: the output shape.
        counts: number of trials (int/float or tensor broadcastable to
            `shape`), >= 0.
        probabilities: success probability in [0, 1] (float or tensor).
        dtype: the output dtype (default `floatx()`, as in Keras).
        seed: an int, a `SeedGenerator`, or None.

    Returns:
        A tensor of `shape` holding counts.

    Example:
    >>> gkeras.random.binomial((4,), counts=10, probabilities=0.5, seed=1)
    """
    n, p = _param(counts), _param(probabilities)
    if np.any(n < 0) or np.any((p < 0) | (p > 1)):
        raise ValueError(
            "binomial: expected `counts` >= 0 and `probabilities` in "
            f"[0, 1]. Received: counts={counts!r}, "
            f"probabilities={probabilities!r}")
    draw = _rng(seed).binomial(np.round(n).astype("int64"), p,
                               size=tuple(shape))
    return _out(draw, dtype)


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Draws from Beta distributions (values in [0, 1]).

    Args:
        shape: the output shape.
        alpha: first concentration (float or tensor), > 0.
        beta: second concentration (float or tensor), > 0.
        dtype: a float dtype (default `floatx()`).
        seed: an int, a `SeedGenerator`, or None.

    Returns:
        A tensor of `shape`.

    Example:
    >>> gkeras.random.beta((3,), alpha=2.0, beta=5.0, seed=1).shape
    (3,)
    """
    a, b = _param(alpha), _param(beta)
    if np.any(a <= 0) or np.any(b <= 0):
        raise ValueError(
            "beta: `alpha` and `beta` must be > 0. Received: "
            f"alpha={alpha!r}, beta={beta!r}")
    return _out(_rng(seed).beta(a, b, size=tuple(shape)), dtype)
