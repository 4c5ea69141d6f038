"""Crafted model files, tried as an attacker would: loading must never run
code a file names, never read other files, never expand a bomb.

Each code payload writes a marker file when it runs; each test asserts the
marker never appears and the error says what was refused and how to opt
in. File-reading payloads point HDF5 at a "secret" file of known values;
the tests assert the load fails before any value is read and the model
never receives the secret. Formats: `.keras`, legacy `.h5` and
`.weights.h5`, with `safe_mode` on and, where it changes anything, off.
"""

import io
import json
import os
import sys
import zipfile

import numpy as np
import pytest

import gkeras
from gkeras import layers

h5py = pytest.importorskip("h5py")

SECRET_VALUE = 42.0


# -- helpers ----------------------------------------------------------------

def _dense_model():
    return gkeras.Sequential([gkeras.Input((3,)), layers.Dense(2, name="d")])


def _functional_model():
    inp = gkeras.Input((3,), name="inp")
    out = layers.Dense(2, name="d")(inp)
    return gkeras.Model(inp, out, name="f")


def _read_zip(path):
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _edit_keras_config(path, edit):
    members = _read_zip(path)
    cfg = json.loads(members["config.json"])
    edit(cfg)
    members["config.json"] = json.dumps(cfg).encode()
    _write_zip(path, members)


def _edit_h5_config(path, edit):
    with h5py.File(path, "r+") as f:
        cfg = json.loads(f.attrs["model_config"])
        edit(cfg)
        f.attrs["model_config"] = json.dumps(cfg)


def _save(model, tmp_path, fmt):
    path = str(tmp_path / f"model.{fmt}")
    model.save(path)
    return path


def _edit_config(path, edit):
    if path.endswith(".keras"):
        _edit_keras_config(path, edit)
    else:
        _edit_h5_config(path, edit)


@pytest.fixture
def payload_module(tmp_path, monkeypatch):
    """A module whose import (and whose function) writes a marker file;
    importable by name, as an attacker's installed package would be."""
    marker = tmp_path / "MARKER_import"
    pkg = tmp_path / "site"
    pkg.mkdir()
    (pkg / "gk_evil_payload.py").write_text(
        f"open({str(marker)!r}, 'w').write('imported')\n"
        "def run(x, **kwargs):\n"
        f"    open({str(marker)!r}, 'w').write('called')\n"
        "    return x\n")
    monkeypatch.syspath_prepend(str(pkg))
    yield "gk_evil_payload", marker
    sys.modules.pop("gk_evil_payload", None)


def _lambda_entry(module, name, layer_name="evil"):
    return {"module": "keras.layers", "class_name": "Lambda",
            "config": {"name": layer_name, "trainable": True,
                       "dtype": "float32",
                       "function": {"module": module,
                                    "class_name": "function",
                                    "config": name,
                                    "registered_name": "function"},
                       "arguments": {}},
            "registered_name": None}


def _add_lambda_to_sequential(entry):
    def edit(cfg):
        cfg["config"]["layers"].append(entry)
    return edit


# -- 1. no import or call of what a file names, outside the allow-list --------

@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_lambda_cannot_import_a_module_the_file_names(tmp_path, fmt,
                                                      payload_module):
    module, marker = payload_module
    path = _save(_dense_model(), tmp_path, fmt)
    _edit_config(path, _add_lambda_to_sequential(_lambda_entry(module,
                                                               "run")))
    with pytest.raises(ValueError) as err:
        gkeras.models.load_model(path)
    msg = str(err.value)
    assert "gk_evil_payload.run" in msg and "Lambda layer 'evil'" in msg
    assert "safe_mode=False" in msg and "custom_objects" in msg
    assert not marker.exists()
    assert module not in sys.modules


@pytest.mark.parametrize("module,name", [
    ("os", "system"), ("builtins", "exec"), ("subprocess", "check_call"),
    ("gkeras.models", "load_model"), ("gkeras.utils", "get_file"),
    ("keras.saving", "load_model"), ("gkeras.activations", "deserialize"),
    ("keras.losses", "get"), ("gkeras.metrics", "deserialize")])
def test_lambda_refuses_non_tensor_functions(tmp_path, module, name):
    path = _save(_dense_model(), tmp_path, "keras")
    _edit_config(path, _add_lambda_to_sequential(_lambda_entry(module,
                                                               name)))
    with pytest.raises(ValueError, match="safe_mode=False"):
        gkeras.models.load_model(path)


def test_lambda_named_function_opt_ins(tmp_path, payload_module):
    """`custom_objects` (with safe_mode on) and `safe_mode=False` are the
    two documented ways to load a Lambda naming the user's function."""
    module, marker = payload_module
    path = _save(_dense_model(), tmp_path, "keras")
    _edit_config(path, _add_lambda_to_sequential(_lambda_entry(module,
                                                               "run")))

    def mine(x):
        return x * 2.0
    model = gkeras.models.load_model(path, custom_objects={"run": mine})
    assert not marker.exists()
    x = np.ones((1, 3), "float32")
    kernel, bias = model.layers[0].get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               2 * (x @ kernel + bias), rtol=1e-6)
    gkeras.models.load_model(path, safe_mode=False)
    assert marker.exists()  # the user opted in: the named module ran


def test_lambda_with_activation_function_loads_in_safe_mode(tmp_path):
    model = gkeras.Sequential([gkeras.Input((3,)),
                               layers.Lambda(gkeras.activations.relu)])
    path = _save(model, tmp_path, "keras")
    loaded = gkeras.models.load_model(path)
    x = np.array([[1.0, -2.0, 3.0]], "float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0),
                               np.maximum(x, 0))


def test_lambda_with_gkeras_op_loads_in_safe_mode(tmp_path):
    model = gkeras.Sequential([gkeras.Input((3,)),
                               layers.Lambda(gkeras.ops.square)])
    path = _save(model, tmp_path, "keras")
    loaded = gkeras.models.load_model(path)
    x = np.array([[1.0, -2.0, 3.0]], "float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), x ** 2)
    # Keras writes the module of the op's source file.
    _edit_config(path, lambda cfg: cfg["config"]["layers"][-1]["config"][
        "function"].update(module="keras.src.ops.numpy"))
    loaded = gkeras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), x ** 2)


def _bytecode_file(tmp_path, marker, fmt="keras"):
    """A model file whose Lambda bytecode writes `marker` when run (which
    a load does: the Lambda infers its output shape by running)."""
    fn = eval(f"lambda x, _p={str(marker)!r}: "
              "(open(_p, 'w').write('pwned'), x)[1]")
    model = gkeras.Sequential([gkeras.Input((3,)), layers.Lambda(fn)])
    path = str(tmp_path / f"inner.{fmt}")
    model.save(path)
    os.remove(marker)
    return path


@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_bytecode_payload_is_live(tmp_path, fmt):
    """The payload used below does run when the user opts in, so the
    tests asserting its marker never appears can fail."""
    marker = tmp_path / "MARKER_bytecode"
    inner = _bytecode_file(tmp_path, marker, fmt)
    gkeras.models.load_model(inner, safe_mode=False)
    assert marker.exists()


@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_lambda_bytecode_refused_in_safe_mode(tmp_path, fmt):
    marker = tmp_path / "MARKER_bytecode"
    inner = _bytecode_file(tmp_path, marker, fmt)
    with pytest.raises(ValueError, match="safe_mode=False"):
        gkeras.models.load_model(inner)
    assert not marker.exists()


# -- 2. only modelling classes are deserialized ------------------------------

NON_MODELLING = ["load_model", "model_from_json", "clone_model",
                 "deserialize", "get_file", "save_model"]


def _functional_call_entry(name, inner_path):
    return {"module": "keras", "class_name": name,
            "config": {"name": "evil"}, "registered_name": None,
            "name": "evil",
            "inbound_nodes": [{"args": [inner_path],
                               "kwargs": {"safe_mode": False,
                                          "compile": False}}]}


@pytest.mark.parametrize("safe_mode", [True, False])
@pytest.mark.parametrize("fmt", ["keras", "h5"])
@pytest.mark.parametrize("name", NON_MODELLING)
def test_functional_config_cannot_call_library_functions(tmp_path, fmt,
                                                         safe_mode, name):
    """A layer entry naming `load_model` once made the rebuild call it
    with the file's arguments (here: an inner file with bytecode and
    `safe_mode=False`), even with the outer `safe_mode=True`."""
    marker = tmp_path / "MARKER_bytecode"
    inner = _bytecode_file(tmp_path, marker)
    path = _save(_functional_model(), tmp_path, fmt)

    def edit(cfg):
        cfg["config"]["layers"].append(_functional_call_entry(name, inner))
    _edit_config(path, edit)
    with pytest.raises(ValueError) as err:
        gkeras.models.load_model(path, safe_mode=safe_mode)
    assert name in str(err.value)
    assert "custom_objects" in str(err.value)
    assert not marker.exists()


@pytest.mark.parametrize("name", NON_MODELLING + ["Functional"])
def test_sequential_layer_list_takes_only_layers(tmp_path, name):
    marker = tmp_path / "MARKER_bytecode"
    inner = _bytecode_file(tmp_path, marker)
    path = _save(_dense_model(), tmp_path, "keras")
    entry = {"module": "keras", "class_name": name,
             "config": inner if name != "Functional" else {
                 "name": "x", "layers": [], "input_layers": [],
                 "output_layers": []},
             "registered_name": None}
    _edit_config(path, _add_lambda_to_sequential(entry))
    with pytest.raises(ValueError):
        gkeras.models.load_model(path, safe_mode=False)
    assert not marker.exists()


def test_top_level_config_must_name_a_modelling_class(tmp_path):
    path = _save(_dense_model(), tmp_path, "keras")
    marker = tmp_path / "MARKER_bytecode"
    inner = _bytecode_file(tmp_path, marker)
    _edit_config(path, lambda cfg: cfg.update(
        class_name="load_model", module="keras.models", config=inner))
    with pytest.raises(ValueError, match="load_model"):
        gkeras.models.load_model(path)
    assert not marker.exists()


def test_model_from_json_and_layer_deserialize_refuse_functions(tmp_path):
    cfg = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "get_file", "config": {"fname": "x"}}]}}
    with pytest.raises(ValueError, match="get_file"):
        gkeras.models.model_from_json(json.dumps(cfg))
    with pytest.raises(ValueError, match="load_model"):
        gkeras.layers.deserialize({"class_name": "load_model",
                                   "config": {}})


def test_builtin_functions_and_classes_still_resolve():
    from gkeras.saving import deserialize_keras_object
    assert deserialize_keras_object(
        {"module": "keras.activations", "class_name": "function",
         "config": "relu", "registered_name": "function"}) is \
        gkeras.activations.relu
    assert deserialize_keras_object(
        {"module": "builtins", "class_name": "function",
         "config": "mean_squared_error"}) is \
        gkeras.losses.mean_squared_error
    layer = deserialize_keras_object(
        {"module": "keras.layers", "class_name": "Dense",
         "config": {"units": 3}})
    assert isinstance(layer, layers.Dense) and layer.units == 3


def test_registered_objects_still_load(tmp_path):
    @gkeras.saving.register_keras_serializable(package="SecTest")
    class Twice(layers.Layer):
        def call(self, x):
            return x * 2.0

    model = gkeras.Sequential([gkeras.Input((3,)), Twice()])
    path = _save(model, tmp_path, "keras")
    loaded = gkeras.models.load_model(path)
    x = np.ones((1, 3), "float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), 2 * x)


def test_vocabulary_file_named_by_a_config_is_not_read(tmp_path):
    """A StringLookup config naming a local file would copy it into the
    model (Keras 3.15 refuses it under safe mode too)."""
    secret = tmp_path / "secret.txt"
    secret.write_text("password1\npassword2\n")
    direct = layers.StringLookup(vocabulary=str(secret))
    assert "password1" in direct.get_vocabulary()  # the user's own call
    model = gkeras.Sequential([gkeras.Input((3,)), layers.Dense(2)])
    path = _save(model, tmp_path, "keras")
    entry = {"module": "keras.layers", "class_name": "StringLookup",
             "config": {"name": "lookup", "vocabulary": str(secret)},
             "registered_name": None}

    def edit(cfg):
        cfg["config"]["layers"].insert(1, entry)
    _edit_config(path, edit)
    with pytest.raises(ValueError, match="vocabulary file"):
        gkeras.models.load_model(path)
    with pytest.raises(ValueError, match="vocabulary file"):
        gkeras.models.model_from_json(json.dumps(json.loads(
            _read_zip(path)["config.json"])))
    with pytest.raises(ValueError, match="vocabulary file"):
        gkeras.layers.deserialize(entry)


def test_clone_model_rebuilds_the_users_own_lambda():
    model = gkeras.Sequential([gkeras.Input((3,)),
                               layers.Lambda(lambda x: x * 3.0)])
    clone = gkeras.models.clone_model(model)
    x = np.ones((1, 3), "float32")
    np.testing.assert_allclose(clone.predict(x, verbose=0), 3 * x)


# -- 3. no HDF5 external storage, links or virtual datasets ------------------

def _secret_raw(tmp_path, n):
    path = tmp_path / "secret.bin"
    np.full(n, SECRET_VALUE, "float32").tofile(path)
    return str(path)


def _secret_h5(tmp_path, shape):
    path = str(tmp_path / "secret.h5")
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=np.full(shape, SECRET_VALUE,
                                              "float32"))
    return path


def _plant(f, key, kind, tmp_path, shape):
    """Replaces dataset `key` of an open h5py File by an attack."""
    del f[key]
    if kind == "external":
        n = int(np.prod(shape))
        f.create_dataset(key, shape=shape, dtype="float32",
                         external=[(_secret_raw(tmp_path, n), 0, 4 * n)])
    elif kind == "external_link":
        f[key] = h5py.ExternalLink(_secret_h5(tmp_path, shape), "/data")
    elif kind == "soft_link":
        f.create_dataset(key + "_elsewhere",
                         data=np.full(shape, SECRET_VALUE, "float32"))
        f[key] = h5py.SoftLink("/" + key.lstrip("/") + "_elsewhere")
    elif kind == "virtual":
        layout = h5py.VirtualLayout(shape=shape, dtype="float32")
        layout[...] = h5py.VirtualSource(_secret_h5(tmp_path, shape),
                                         "data", shape=shape)
        f.create_virtual_dataset(key, layout)
    else:
        raise AssertionError(kind)


ATTACKS = ["external", "external_link", "soft_link", "virtual"]
KERNEL_SHAPE = (3, 2)


def _kernel_key_weights_h5(f):
    return "layers/dense/vars/0" if "layers/dense/vars/0" in f else \
        next(f"layers/{k}/vars/0" for k in f["layers"])


def _assert_refused(err):
    assert "Not allowed" in str(err.value)


def _assert_untouched(model, before):
    for w, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(w, b)
        assert not np.any(w == SECRET_VALUE)


@pytest.mark.parametrize("kind", ATTACKS)
def test_weights_h5_refuses_external_data(tmp_path, kind):
    model = _dense_model()
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    with h5py.File(path, "r+") as f:
        _plant(f, _kernel_key_weights_h5(f), kind, tmp_path, KERNEL_SHAPE)
    before = model.get_weights()
    with pytest.raises(ValueError) as err:
        model.load_weights(path)
    _assert_refused(err)
    _assert_untouched(model, before)


@pytest.mark.parametrize("safe_mode", [True, False])
@pytest.mark.parametrize("kind", ATTACKS)
def test_legacy_h5_refuses_external_data(tmp_path, kind, safe_mode):
    model = _dense_model()
    path = _save(model, tmp_path, "h5")
    with h5py.File(path, "r+") as f:
        names = [n.decode() if isinstance(n, bytes) else n
                 for n in f["model_weights/d"].attrs["weight_names"]]
        _plant(f, f"model_weights/d/{names[0]}", kind, tmp_path,
               KERNEL_SHAPE)
    with pytest.raises(ValueError) as err:
        gkeras.models.load_model(path, safe_mode=safe_mode)
    _assert_refused(err)
    before = model.get_weights()
    with pytest.raises(ValueError) as err:
        model.load_weights(path)
    _assert_refused(err)
    _assert_untouched(model, before)


def _keras_with_planted_weights(tmp_path, kind):
    model = _dense_model()
    path = _save(model, tmp_path, "keras")
    members = _read_zip(path)
    wpath = tmp_path / "inner.weights.h5"
    wpath.write_bytes(members["model.weights.h5"])
    with h5py.File(wpath, "r+") as f:
        _plant(f, _kernel_key_weights_h5(f), kind, tmp_path, KERNEL_SHAPE)
    members["model.weights.h5"] = wpath.read_bytes()
    _write_zip(path, members)
    return model, path


@pytest.mark.parametrize("safe_mode", [True, False])
@pytest.mark.parametrize("kind", ATTACKS)
def test_keras_archive_refuses_external_data(tmp_path, kind, safe_mode):
    model, path = _keras_with_planted_weights(tmp_path, kind)
    with pytest.raises(ValueError) as err:
        gkeras.models.load_model(path, safe_mode=safe_mode)
    _assert_refused(err)
    before = model.get_weights()
    with pytest.raises(ValueError) as err:
        model.load_weights(path)
    _assert_refused(err)
    _assert_untouched(model, before)


def test_h5_shape_bomb_refused_before_allocation(tmp_path):
    model = _dense_model()
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    with h5py.File(path, "r+") as f:
        # 1 GiB declared, nothing stored (never written, compressed chunks).
        f.create_dataset("layers/dense/vars/bomb", shape=(1 << 28,),
                         dtype="float32", chunks=(1 << 20,),
                         compression="gzip")
    with pytest.raises(ValueError, match="decompression bomb"):
        model.load_weights(path)


def test_h5_bomb_split_over_many_datasets_refused(tmp_path):
    model = _dense_model()
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    with h5py.File(path, "r+") as f:
        for i in range(40):  # 40 x 32 MiB declared, nothing stored
            f.create_dataset(f"layers/dense/vars/b{i}", shape=(1 << 23,),
                             dtype="float32", chunks=(1 << 20,),
                             compression="gzip")
    before = model.get_weights()
    with pytest.raises(ValueError, match="datasets together"):
        model.load_weights(path)
    _assert_untouched(model, before)


# -- 4. the .keras zip: read by name in memory, sizes checked -----------------

def test_zip_bomb_gets_a_clear_error(tmp_path):
    path = _save(_dense_model(), tmp_path, "keras")
    members = _read_zip(path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("metadata.json", members["metadata.json"])
        zf.writestr("config.json", members["config.json"])
        # 80 MiB of zeros deflate to ~80 KiB (about 1000:1).
        with zf.open("model.weights.h5", "w") as out:
            chunk = bytes(1 << 20)
            for _ in range(80):
                out.write(chunk)
    with pytest.raises(ValueError, match="decompression bomb") as err:
        gkeras.models.load_model(path)
    assert "model.weights.h5" in str(err.value)


def test_keras_archive_is_never_extracted(tmp_path, monkeypatch):
    model = _dense_model()
    path = _save(model, tmp_path, "keras")

    def refuse(*a, **k):
        raise AssertionError("a .keras member was extracted to disk")
    monkeypatch.setattr(zipfile.ZipFile, "extract", refuse)
    monkeypatch.setattr(zipfile.ZipFile, "extractall", refuse)
    before = set(os.listdir(tmp_path))
    loaded = gkeras.models.load_model(path)
    loaded.load_weights(path)
    assert set(os.listdir(tmp_path)) == before
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_deflated_keras_file_within_limits_loads(tmp_path):
    model = _dense_model()
    path = _save(model, tmp_path, "keras")
    _write_zip(path, _read_zip(path), zipfile.ZIP_DEFLATED)
    loaded = gkeras.models.load_model(path)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_keras_file_object_is_checked_too(tmp_path):
    _, path = _keras_with_planted_weights(tmp_path, "external")
    with open(path, "rb") as f:
        data = io.BytesIO(f.read())
    with pytest.raises(ValueError, match="Not allowed"):
        gkeras.models.load_model(data)
