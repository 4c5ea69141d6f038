"""Random state: one seed makes CPU runs bit-identical."""

import random as _pyrandom

import numpy as np

_RNG = np.random.default_rng()
_SEEDED = None


def set_random_seed(seed):
    """Sets the seed of every random generator gkeras uses.

    Seeds Python's `random`, NumPy's global generator and gkeras's own
    generator (weight initializers, dropout masks, shuffling). Two runs of
    the same program with the same seed give bit-identical weights and
    training on the CPU.

    Args:
        seed: a non-negative integer.

    Example:
    >>> gkeras.utils.set_random_seed(812)
    """
    global _RNG, _SEEDED
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError("`seed` must be a non-negative integer. "
                         f"Received: seed={seed!r}")
    seed = int(seed)
    _pyrandom.seed(seed)
    np.random.seed(seed % (2 ** 32))
    _RNG = np.random.default_rng(seed)
    _SEEDED = seed


def global_rng():
    """The NumPy `Generator` behind unseeded initializers and shuffling."""
    return _RNG


def make_rng(seed=None):
    """A NumPy `Generator`: from `seed` when given, else drawn from the
    global generator (so it still follows `set_random_seed`)."""
    if seed is None:
        return np.random.default_rng(int(_RNG.integers(0, 2 ** 63 - 1)))
    return np.random.default_rng(int(seed))


def draw_seed():
    """A fresh 32-bit integer seed from the global generator."""
    return int(_RNG.integers(0, 2 ** 31 - 1))
