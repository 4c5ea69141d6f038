"""`gkeras.tree`, `gkeras.backend.result_type` and the Keras-2 legacy
serialization, against outputs recorded from Keras 3.15.1 (kept as data in
tests/data, with the scripts that recorded them)."""

import io
import json
import os
import sys

import pytest

import gkeras
from gkeras import tree

DATA = os.path.join(os.path.dirname(__file__), "data")
sys.path.insert(0, DATA)
import tree_cases  # noqa: E402


def test_tree_matches_keras_outputs():
    out = io.StringIO()
    tree_cases.run(tree, print=lambda *a: print(*a, file=out))
    with open(os.path.join(DATA, "keras_tree_outputs.txt")) as f:
        expected = f.read().splitlines()
    assert out.getvalue().splitlines() == expected


def test_tree_errors_and_reachability():
    assert gkeras.tree is tree
    with pytest.raises(ValueError, match="Could not pack"):
        tree.pack_sequence_as([0, 0], [1])
    with pytest.raises(ValueError, match="at least one structure"):
        tree.map_structure(len)
    with pytest.raises(TypeError, match="callable"):
        tree.traverse(3, [1])
    with pytest.warns(DeprecationWarning):
        tree.assert_same_structure([1], [2], check_types=True)


def test_result_type_matches_keras_on_every_pair():
    with open(os.path.join(DATA, "keras_result_type.json")) as f:
        expected = json.load(f)
    types = ["bool", "uint8", "uint16", "uint32", "int8", "int16", "int32",
             "int64", "bfloat16", "float16", "float32", "float64",
             "complex64", int, float, bool]
    names = {int: "int", float: "float", bool: "bool"}
    checked = 0
    for i, a in enumerate(types):
        for b in types[i:]:
            key = f"{names.get(a, a)}|{names.get(b, b)}"
            try:
                got = gkeras.backend.result_type(a, b)
            except ValueError:
                got = "ERR"
            assert got == expected[key], key
            checked += 1
    assert checked == 136
    assert gkeras.backend.result_type() == expected["none"] == "float32"
    assert gkeras.backend.result_type("int8", "uint8", float) == \
        expected["3"]
    with pytest.raises(ValueError, match="float8"):
        gkeras.backend.result_type("float8_e4m3fn", "float32")


def test_dtype_predicates_and_uid():
    assert gkeras.backend.is_int_dtype("uint16")
    assert not gkeras.backend.is_int_dtype("float32")
    gkeras.backend.clear_session()
    assert [gkeras.backend.get_uid("blk") for _ in range(3)] == [1, 2, 3]
    assert gkeras.backend.get_uid() == 1
    # The counter is the one layer names use, as in Keras.
    gkeras.backend.get_uid("dense")
    assert gkeras.layers.Dense(1).name == "dense_1"


# Recorded from Keras 3.15.1 (keras.legacy.saving.serialize_keras_object).
KERAS_LEGACY_L2 = {"class_name": "L2", "config": {"l2": 0.1}}
KERAS_LEGACY_DENSE_KEYS = [
    "name", "trainable", "dtype", "units", "activation", "use_bias",
    "kernel_initializer", "bias_initializer", "kernel_regularizer",
    "bias_regularizer", "kernel_constraint", "bias_constraint",
    "quantization_config"]


def test_legacy_serialization_format():
    from gkeras.legacy.saving import (deserialize_keras_object,
                                      serialize_keras_object)
    assert gkeras.utils.legacy.serialize_keras_object is \
        serialize_keras_object
    assert serialize_keras_object(gkeras.regularizers.L2(0.1)) == \
        KERAS_LEGACY_L2
    cfg = serialize_keras_object(gkeras.layers.Dense(
        3, name="dd", kernel_regularizer=gkeras.regularizers.L1(0.5)))
    assert cfg["class_name"] == "Dense"
    assert [k for k in cfg["config"] if k in KERAS_LEGACY_DENSE_KEYS] == \
        [k for k in KERAS_LEGACY_DENSE_KEYS if k in cfg["config"]]
    assert cfg["config"]["kernel_regularizer"]["config"] == {"l1": 0.5}
    assert serialize_keras_object(gkeras.activations.relu) == "relu"
    reg = deserialize_keras_object(
        {"class_name": "L2", "config": {"l2": 0.25}},
        module_objects={"L2": gkeras.regularizers.L2})
    assert isinstance(reg, gkeras.regularizers.L2)
    assert reg.get_config() == {"l2": 0.25}
    with pytest.raises(ValueError, match="Unknown object: 'L2'"):
        deserialize_keras_object({"class_name": "L2", "config": {}})
    with pytest.raises(ValueError, match="class_name"):
        deserialize_keras_object({"config": {}})
