"""Functional models that apply ops to symbolic tensors (`x + y`,
`x * 2.0`, `ops.concatenate`) save and load as Keras 3 does: each op is a
`keras.src.ops.*` class (`Add`, `Multiply`, `Concatenate`) with its
non-tensor arguments in its config (issue 16 part 2).

The reference is a real Keras 3.15.1 file and config
(tests/fixtures/symbolic_ops, written by its make_fixture.py).
"""

import json
import os
import zipfile

import numpy as np
import pytest

import gkeras as keras
from gkeras import ops

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures",
                   "symbolic_ops")


def _keras_reference():
    with open(os.path.join(FIX, "keras_symbolic_ops_config.json")) as f:
        return json.load(f)["config"]


def _build():
    a = keras.Input((3,), name="a")
    b = keras.Input((3,), name="b")
    s = a + b
    t = s * 2.0
    u = ops.concatenate([t, a], axis=-1)
    out = keras.layers.Dense(2, name="dense")(u)
    return keras.Model([a, b], out, name="symbolic_ops")


def test_loads_the_file_keras_wrote():
    io = np.load(os.path.join(FIX, "keras_symbolic_ops_io.npz"))
    model = keras.models.load_model(
        os.path.join(FIX, "keras_symbolic_ops.keras"))
    y = model.predict([io["xa"], io["xb"]], verbose=0)
    np.testing.assert_allclose(y, io["y"], rtol=1e-5, atol=1e-6)


def test_config_matches_keras_layout():
    keras.backend.clear_session()
    ref = {e["name"]: e for e in _keras_reference()["layers"]}
    got = {e["name"]: e for e in _build().get_config()["layers"]}
    for name in ("add", "multiply", "concatenate"):
        for key in ("module", "class_name", "config", "registered_name",
                    "inbound_nodes"):
            assert got[name][key] == ref[name][key], (name, key)


def test_save_load_roundtrip_keeps_numbers(tmp_path):
    keras.backend.clear_session()
    model = _build()
    path = str(tmp_path / "m.keras")
    model.save(path)
    with zipfile.ZipFile(path) as z:
        cfg = json.loads(z.read("config.json"))
    names = [e["class_name"] for e in cfg["config"]["layers"]]
    assert names == ["InputLayer", "InputLayer", "Add", "Multiply",
                     "Concatenate", "Dense"]
    loaded = keras.models.load_model(path)
    rng = np.random.default_rng(1)
    xa, xb = (rng.normal(size=(5, 3)).astype("float32") for _ in range(2))
    # Independent reference: the math in float64 from the weights.
    w, bias = (np.float64(v) for v in model.get_weights())
    want = np.concatenate([(xa + xb) * 2.0, xa], axis=-1) @ w + bias
    np.testing.assert_allclose(loaded.predict([xa, xb], verbose=0), want,
                               rtol=1e-5, atol=1e-5)


def test_op_without_keras_class_says_so(tmp_path):
    a = keras.Input((4,))
    out = keras.layers.Dense(2)(a[:, 1:])   # GetItem: slices not written
    model = keras.Model(a, out)
    with pytest.raises(NotImplementedError, match="no Keras op class"):
        model.save(str(tmp_path / "m.keras"))


def test_unknown_op_class_in_a_file_is_refused():
    from gkeras.ops.symbolic import SymbolicOp
    with pytest.raises(ValueError, match="Unknown op class 'Evil'"):
        SymbolicOp.from_keras_config({"module": "keras.src.ops.numpy",
                                      "class_name": "Evil", "config": {}})
    with pytest.raises(ValueError, match="unexpected config keys"):
        SymbolicOp.from_keras_config({"module": "keras.src.ops.numpy",
                                      "class_name": "Concatenate",
                                      "config": {"name": "c", "fn": "x"}})


def test_generic_deserializer_entry_point():
    """`keras_operation_class` serves serialization's class lookup: ops
    modules only (Keras-2's "Add" without a module is the merging layer)."""
    from gkeras.ops.symbolic import SymbolicOp, keras_operation_class
    assert keras_operation_class("Add", None) is None
    assert keras_operation_class("Add", "keras.layers") is None
    cls = keras_operation_class("Concatenate", "keras.src.ops.numpy")
    op = cls.from_config({"name": "concatenate_7", "axis": 1})
    assert isinstance(op, SymbolicOp) and op.name == "concatenate_7"
    assert op.static == {"axis": 1} and op.op_name == "concatenate"
    a = np.ones((2, 2), "float32")
    np.testing.assert_array_equal(ops.convert_to_numpy(op([a, a])),
                                  np.ones((2, 4), "float32"))
    assert op._keras_serialized()["class_name"] == "Concatenate"
