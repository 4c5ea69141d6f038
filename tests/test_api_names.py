"""gkeras's public names against Keras 3.15's, namespace by namespace.

The Keras list is data: tests/data/keras_public_names.json, recorded from a
real Keras by tests/data/record_keras_public_names.py. Every name there must
be reachable in the matching gkeras namespace (`keras.layers.Dense` ->
`gkeras.layers.Dense`), except:

- EXEMPT: names issue 17 leaves out (TensorFlow/JAX/PyTorch-specific or
  Keras-internal; gkeras raises a clear NotImplementedError where a user
  can reach them), `keras.applications` (its own issue) and the
  mixed-precision names (their own issue);
- PENDING: names other helpers are building on their branches right now.
  The lead empties this table when merging them.
"""

import importlib
import json
import os

import pytest

DATA = os.path.join(os.path.dirname(__file__), "data",
                    "keras_public_names.json")

with open(DATA) as _f:
    KERAS = json.load(_f)

# Whole namespaces left out (prefix match).
EXEMPT_NAMESPACES = (
    "keras.applications",      # applications issue
    "keras.export",            # TF SavedModel / ONNX export
    "keras.quantizers",        # quantization
    "keras.distillation",      # Keras-internal distillation API
    "keras.utils.bounding_boxes",
)

EXEMPT = {
    "keras": {"export", "quantizers", "Quantizer", "distillation", "remat",
              "RematScope", "StatelessScope", "SymbolicScope",
              "applications"},
    "keras.layers": {"TFSMLayer", "JaxLayer", "FlaxLayer",
                     "TorchModuleWrapper"},
    "keras.utils": {"bounding_boxes", "audio_dataset_from_directory"},
    "keras.config": {"set_backend", "is_nnx_enabled"},
    "keras.saving": {"KerasFileEditor"},
}

# Names other branches were building; empty since they merged. A name
# may enter only with a comment naming the branch that builds it.
PENDING = {}


def _gkeras_module(keras_ns):
    return "gkeras" + keras_ns[len("keras"):]


def _exempt_namespace(ns):
    return any(ns == p or ns.startswith(p + ".") for p in EXEMPT_NAMESPACES)


def _missing(ns):
    try:
        module = importlib.import_module(_gkeras_module(ns))
    except ImportError:
        return set(KERAS["namespaces"][ns])
    return {n for n in KERAS["namespaces"][ns] if not hasattr(module, n)}


NAMESPACES = sorted(ns for ns in KERAS["namespaces"]
                    if not _exempt_namespace(ns))


def test_recorded_list_is_keras_3_15():
    assert KERAS["keras_version"].startswith("3.15")
    # The recorded data is whole: a sample of namespaces and names.
    assert len(KERAS["namespaces"]["keras.ops"]) == 341
    assert "Dense" in KERAS["namespaces"]["keras.layers"]
    assert "keras.ops.linalg" in KERAS["namespaces"]


@pytest.mark.parametrize("ns", NAMESPACES)
def test_namespace_has_every_keras_name(ns):
    pending = PENDING.get(ns, set())
    if pending == "*":
        pytest.skip(f"{ns}: pending on another branch (PENDING table)")
    missing = _missing(ns) - EXEMPT.get(ns, set()) - pending
    assert not missing, (
        f"{_gkeras_module(ns)} lacks Keras 3.15 names: {sorted(missing)}")


def test_pending_and_exempt_tables_name_real_keras_names():
    # A typo in the tables would hide a missing name.
    for table in (EXEMPT, PENDING):
        for ns, names in table.items():
            assert ns in KERAS["namespaces"], ns
            if names != "*":
                assert names <= set(KERAS["namespaces"][ns]), (
                    ns, sorted(names - set(KERAS["namespaces"][ns])))
