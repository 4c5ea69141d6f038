"""Every random state a training step draws from, as JSON and back
(used by `BackupAndRestore` to resume a run bit for bit).

The states are: Python's `random`, NumPy's global generator, gkeras's
global generator (`gkeras.utils.set_random_seed`), and the
`SeedGenerator` of every layer (Dropout, GaussianNoise, recurrent
dropout, augmentation...), keyed by the layer's place in the model's
object tree, so a model rebuilt in a new process finds its own.
"""

import random as _pyrandom

import numpy as np


def _seed_generators(model):
    """(key, SeedGenerator) pairs in a stable, structural order."""
    from gkeras.random import SeedGenerator
    from gkeras.saving.weights_h5 import walk
    for path, obj in walk(model):
        attrs = getattr(obj, "__dict__", {})
        for attr in sorted(attrs):
            value = attrs[attr]
            if isinstance(value, SeedGenerator):
                yield f"{path}/{attr}", value


def _jsonable(state):
    if isinstance(state, dict):
        return {k: _jsonable(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return [_jsonable(v) for v in state]
    if isinstance(state, np.ndarray):
        return state.tolist()
    if isinstance(state, np.generic):
        return state.item()
    return state


def capture(model):
    """The random states of the process and of `model`'s layers, as a
    JSON-compatible dict."""
    from gkeras.utils import random_utils
    return {
        "python": _jsonable(_pyrandom.getstate()),
        "numpy_global": _jsonable(np.random.get_state()),
        "gkeras_global": _jsonable(
            random_utils.global_rng().bit_generator.state),
        "layers": {key: _jsonable(gen.numpy_rng().bit_generator.state)
                   for key, gen in _seed_generators(model)},
    }


def restore(model, state):
    """Puts back the states `capture` returned.

    Raises:
        ValueError: when the model's random layers do not match the saved
            ones (a different architecture).
    """
    from gkeras.utils import random_utils
    version, internal, gauss = state["python"]
    _pyrandom.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = state["numpy_global"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos,
                         has_gauss, cached))
    random_utils.global_rng().bit_generator.state = state["gkeras_global"]
    saved = state["layers"]
    current = dict(_seed_generators(model))
    if set(saved) != set(current):
        raise ValueError(
            "The backup's random layers do not match the model: saved "
            f"{sorted(saved)}, the model has {sorted(current)}.")
    for key, gen in current.items():
        gen.numpy_rng().bit_generator.state = saved[key]
        # A CuPy stream is re-seeded from the restored NumPy stream.
        gen._cp = None
