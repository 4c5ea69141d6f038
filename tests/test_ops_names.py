"""gkeras exports every keras.ops name (and the ops.numpy, ops.nn,
ops.linalg, ops.core namespaces and the activations) that Keras 3.15 does,
compared with Keras's lists kept as data (recorded by
tests/fixtures/keras_api/record_ops.py)."""

import importlib
import json
import os

import pytest

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures",
                    "keras_api")
with open(os.path.join(HERE, "ops_names_keras315.json")) as f:
    NAMES = json.load(f)["names"]


NAMESPACES = {
    "ops": "gkeras.ops",
    "ops.numpy": "gkeras.ops.numpy",
    "ops.nn": "gkeras.ops.nn",
    "ops.linalg": "gkeras.ops.linalg",
    "ops.core": "gkeras.ops.core",
    "ops.image": "gkeras.ops.image",
    "activations": "gkeras.activations",
}


@pytest.mark.parametrize("keras_ns", sorted(NAMESPACES))
def test_namespace_has_every_keras_name(keras_ns):
    mod = importlib.import_module(NAMESPACES[keras_ns])
    missing = [n for n in NAMES[keras_ns] if not hasattr(mod, n)]
    assert not missing, f"{NAMESPACES[keras_ns]} lacks {missing}"
    listed = set(dir(mod))
    assert not [n for n in NAMES[keras_ns] if n not in listed]


@pytest.mark.parametrize("keras_ns", ["ops.numpy", "ops.nn", "ops.linalg",
                                      "ops.core"])
def test_namespaces_alias_the_same_functions(keras_ns):
    import gkeras.ops
    mod = importlib.import_module(NAMESPACES[keras_ns])
    for n in NAMES[keras_ns]:
        assert getattr(mod, n) is getattr(gkeras.ops, n), n


def test_namespaces_are_reachable_as_attributes():
    import gkeras
    from gkeras import ops
    assert ops.numpy.__name__ == "gkeras.ops.numpy"
    assert ops.linalg.__name__ == "gkeras.ops.linalg"
    assert ops.nn.__name__ == "gkeras.ops.nn"
    assert gkeras.ops is ops
    with pytest.raises(AttributeError, match="no attribute 'not_an_op'"):
        ops.numpy.not_an_op


with open(os.path.join(HERE, "ops_signatures_keras315.json")) as f:
    SIGNATURES = json.load(f)["signatures"]

# Deliberate differences from Keras's signatures, with the reason.
SIGNATURE_EXCEPTIONS = {
    # gkeras keeps NumPy's `initial` (as Keras's own `max`/`min` have).
    "amax", "amin",
    # gkeras's default step is the 1 Keras's None stands for.
    "arange",
    # Keras's **kwargs carry backend-specific options gkeras has none of.
    "einsum",
    # gkeras names Keras's `rms_scaling` keyword (Keras takes it via
    # **kwargs) explicitly.
    "layer_normalization",
}


def _sig(fn):
    import inspect
    return [[p.name, None if p.default is inspect.Parameter.empty
             else repr(p.default), p.kind.name]
            for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", sorted(set(SIGNATURES)
                                        - SIGNATURE_EXCEPTIONS))
def test_signature_matches_keras(name):
    import gkeras.activations
    import gkeras.ops
    if name.startswith("activations."):
        fn = getattr(gkeras.activations, name.split(".", 1)[1])
    else:
        fn = getattr(gkeras.ops, name)
    got = [p[:2] for p in _sig(fn)]
    want = [p[:2] for p in SIGNATURES[name]]
    assert got == want, f"ops.{name}: gkeras {got} vs Keras {want}"
