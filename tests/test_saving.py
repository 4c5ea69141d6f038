"""Saving and loading in Keras's three formats (`.h5`, `.weights.h5`,
`.keras`): interop with files written by the real Keras 3.15
(../shared/fixtures/keras), layout of the files gkeras writes compared
with Keras's, round trips of every model kind, crash safety and errors on
bad files."""

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import gkeras
from gkeras import layers

h5py = pytest.importorskip("h5py")

from keras_fixtures import FIXTURES, case_names


CASES = case_names(mixed=False)


def _fixture(case):
    z = np.load(os.path.join(FIXTURES, case + ".npz"))
    meta = json.loads(str(z["meta"]))
    missing = sorted({l["class_name"] for l in meta["layers"]
                      if not hasattr(gkeras.layers, l["class_name"])})
    if missing:
        pytest.skip(f"gkeras does not implement {missing} yet")
    return z, meta


def _one_or_list(v):
    return v[0] if len(v) == 1 else v


def _xy(z, meta):
    return (_one_or_list([z[k] for k in meta["input_keys"]]),
            _one_or_list([z[k] for k in meta["target_keys"]]))


def _indexed(z, prefix):
    out, i = [], 0
    while f"{prefix}_{i:03d}" in z:
        out.append(z[f"{prefix}_{i:03d}"])
        i += 1
    return out


def _check_predictions(model, z, meta):
    x, _ = _xy(z, meta)
    pred = model.predict(x, verbose=0)
    preds = [pred] if len(meta["output_keys"]) == 1 else list(pred)
    for got, key in zip(preds, meta["output_keys"]):
        np.testing.assert_allclose(got, z[key], atol=2e-6, rtol=1e-5)


def _keras_config(case):
    with zipfile.ZipFile(os.path.join(FIXTURES, case + ".keras")) as zf:
        return json.loads(zf.read("config.json"))


# -- files written by Keras load in gkeras ------------------------------------

@pytest.mark.parametrize("ext", [".h5", ".keras"])
@pytest.mark.parametrize("case", CASES)
def test_load_model_from_keras_file(case, ext):
    z, meta = _fixture(case)
    model = gkeras.models.load_model(os.path.join(FIXTURES, case + ext))
    _check_predictions(model, z, meta)
    # The compiled state comes back: plain SGD with the stored rate...
    assert type(model.optimizer).__name__ == "SGD"
    assert model.optimizer.momentum == 0.0
    np.testing.assert_allclose(float(model.optimizer.learning_rate.numpy()),
                               np.float32(z["lr"]))
    assert int(model.optimizer.iterations.numpy()) == 0
    if not meta["train_check"]:
        return
    # ...and the model trains at once (no recompiling), reproducing
    # Keras's step.
    x, y = _xy(z, meta)
    loss = model.train_on_batch(x, y)
    loss = loss[0] if isinstance(loss, list) else loss
    np.testing.assert_allclose(loss, float(z["loss"]), rtol=1e-5, atol=1e-6)
    after = _indexed(z, "trainable_after")
    assert len(model.trainable_weights) == len(after)
    for w, want in zip(model.trainable_weights, after):
        np.testing.assert_allclose(w.numpy(), want, atol=2e-6, rtol=1e-5)
    assert int(model.optimizer.iterations.numpy()) == 1


@pytest.mark.parametrize("case", CASES)
def test_load_weights_from_keras_weights_file(case):
    z, meta = _fixture(case)
    model = gkeras.models.model_from_json(json.dumps(_keras_config(case)))
    before = [w.numpy().copy() for w in model.weights]
    model.load_weights(os.path.join(FIXTURES, case + ".weights.h5"))
    for w, want in zip(model.weights, _indexed(z, "weight")):
        np.testing.assert_array_equal(w.numpy(), want)
    assert any(not np.array_equal(b, w.numpy())
               for b, w in zip(before, model.weights))
    _check_predictions(model, z, meta)


@pytest.mark.parametrize("case", CASES)
def test_load_legacy_weights_by_order_and_by_name(case):
    z, meta = _fixture(case)
    path = os.path.join(FIXTURES, case + ".h5")
    for by_name in (False, True):
        model = gkeras.models.model_from_json(
            json.dumps(_keras_config(case)))
        model.load_weights(path, by_name=by_name)
        _check_predictions(model, z, meta)


# -- files written by gkeras have Keras's layout -------------------------------

# Weightless sub-layers Keras keeps inside a layer and gkeras's layer does
# not (yet): their empty groups are left out of the comparison. The
# weights themselves are compared in full.
_KNOWN_EMPTY_GROUPS = ("/_dropout_layer", "/_softmax")


def _tree(path):
    """{entry: description} of an HDF5 file, normalised where Keras allows
    two spellings (weight paths with or without the model prefix inside
    legacy layer groups; the integer width of `iteration`)."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if any(g in "/" + name for g in _KNOWN_EMPTY_GROUPS):
                return
            parts = name.split("/")
            if parts[0] == "model_weights" and len(parts) > 2:
                # model_weights/<layer>/<w.path...>: keep layer and leaf.
                name = "/".join([parts[0], parts[1], "...", parts[-1]])
            if isinstance(obj, h5py.Dataset):
                kind = obj.dtype.kind
                out[name] = ("dataset", obj.shape,
                             "int" if kind in "iu" else str(obj.dtype))
            else:
                out.setdefault(name, ("group",))
            out[name + "@"] = tuple(sorted(obj.attrs.keys()))
        f.visititems(visit)
        out["/@"] = tuple(sorted(f.attrs.keys()))
    return out


def _gkeras_twin(case, z, meta):
    """The fixture's model built in gkeras from its config, with Keras's
    weights, compiled like Keras's."""
    model = gkeras.models.model_from_json(json.dumps(_keras_config(case)))
    model.set_weights(_indexed(z, "weight"))
    loss = _one_or_list(meta["loss_names"])
    model.compile(optimizer=gkeras.optimizers.SGD(learning_rate=float(
        z["lr"])), loss=loss, loss_weights=meta["loss_weights"])
    return model


@pytest.mark.parametrize("case", CASES)
def test_written_files_have_keras_layout(case, tmp_path):
    z, meta = _fixture(case)
    model = _gkeras_twin(case, z, meta)
    model.save(tmp_path / "m.h5")
    model.save_weights(tmp_path / "m.weights.h5")
    model.save(tmp_path / "m.keras")
    assert _tree(tmp_path / "m.h5") == _tree(os.path.join(FIXTURES,
                                                          case + ".h5"))
    want = _tree(os.path.join(FIXTURES, case + ".weights.h5"))
    assert _tree(tmp_path / "m.weights.h5") == want
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == ["metadata.json",
                                               "config.json",
                                               "model.weights.h5"]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
        cfg = json.loads(zf.read("config.json"))
        (tmp_path / "inner.weights.h5").write_bytes(
            zf.read("model.weights.h5"))
        meta_json = json.loads(zf.read("metadata.json"))
    assert set(meta_json) == {"keras_version", "date_saved"}
    assert _tree(tmp_path / "inner.weights.h5") == want
    keras_cfg = _keras_config(case)
    assert set(cfg) == set(keras_cfg)
    assert (cfg["module"], cfg["class_name"], cfg["registered_name"]) == (
        keras_cfg["module"], keras_cfg["class_name"],
        keras_cfg["registered_name"])
    assert set(cfg["compile_config"]) == set(keras_cfg["compile_config"])
    assert cfg["compile_config"]["optimizer"]["class_name"] == "SGD"
    # The legacy file's JSON attributes have Keras's keys.
    with h5py.File(tmp_path / "m.h5", "r") as ours, h5py.File(
            os.path.join(FIXTURES, case + ".h5"), "r") as theirs:
        assert set(json.loads(ours.attrs["training_config"])) == set(
            json.loads(theirs.attrs["training_config"]))
        ours_cfg = json.loads(ours.attrs["model_config"])
        theirs_cfg = json.loads(theirs.attrs["model_config"])
        assert ours_cfg["class_name"] == theirs_cfg["class_name"]
        assert [(l["class_name"], sorted(l)) for l in
                ours_cfg["config"]["layers"]] == \
            [(l["class_name"], sorted(l)) for l in
             theirs_cfg["config"]["layers"]]
        assert list(ours["model_weights"].attrs["layer_names"]) == list(
            theirs["model_weights"].attrs["layer_names"])
    # And gkeras reads back what it wrote.
    for name in ("m.h5", "m.keras"):
        _check_predictions(gkeras.models.load_model(tmp_path / name), z,
                           meta)


# -- round trips ---------------------------------------------------------------

def _seq():
    model = gkeras.Sequential([gkeras.Input((5,)),
                               layers.Dense(7, activation="relu"),
                               layers.Flatten(),
                               layers.Dense(3, activation="softmax")])
    return model


def _functional():
    a = gkeras.Input((4,), name="a")
    b = gkeras.Input((3,), name="b")
    shared = layers.Dense(6, activation="tanh", name="shared")
    ha = shared(layers.Dense(6, name="pa")(a))
    hb = shared(layers.Dense(6, name="pb")(b))
    out1 = layers.Dense(2, name="out1")(ha)
    out2 = layers.Dense(1, activation="sigmoid", name="out2")(hb)
    return gkeras.Model([a, b], [out1, out2])


def _data(rng, model):
    if isinstance(model.inputs, list) and len(model.inputs) == 2:
        x = [rng.normal(size=(16, 4)).astype("float32"),
             rng.normal(size=(16, 3)).astype("float32")]
        y = [rng.normal(size=(16, 2)).astype("float32"),
             (rng.random((16, 1)) > 0.5).astype("float32")]
    else:
        x = rng.normal(size=(16, 5)).astype("float32")
        y = np.eye(3, dtype="float32")[rng.integers(0, 3, 16)]
    return x, y


def _compile(model):
    if len(model.outputs) == 2:
        model.compile(optimizer=gkeras.optimizers.Adam(1e-2),
                      loss=["mse", "binary_crossentropy"],
                      loss_weights=[1.0, 0.5], metrics=[["mae"], ["accuracy"]])
    else:
        model.compile(optimizer=gkeras.optimizers.Adam(1e-2),
                      loss="categorical_crossentropy", metrics=["accuracy"])


@pytest.mark.parametrize("build", [_seq, _functional])
@pytest.mark.parametrize("ext", [".keras", ".h5"])
def test_round_trip_restores_training_state(build, ext, tmp_path):
    """Saved after some Adam steps, the reloaded model continues training
    exactly as the original does (slots and iteration count included)."""
    rng = np.random.default_rng(0)
    model = build()
    _compile(model)
    x, y = _data(rng, model)
    for _ in range(3):
        model.train_on_batch(x, y)
    model.save(tmp_path / ("m" + ext))
    loaded = gkeras.models.load_model(tmp_path / ("m" + ext))
    assert type(loaded).__name__ == type(model).__name__
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]
    assert int(loaded.optimizer.iterations.numpy()) == 3
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(model.predict(x, verbose=0) if len(model.outputs) == 1
                    else model.predict(x, verbose=0),
                    loaded.predict(x, verbose=0)):
        np.testing.assert_array_equal(a, b)
    # Metrics accumulate across train_on_batch calls (as in Keras); start
    # both from zero so the returned logs compare.
    model.reset_metrics()
    loaded.reset_metrics()
    r1 = model.train_on_batch(x, y)
    r2 = loaded.train_on_batch(x, y)
    np.testing.assert_allclose(r1, r2, rtol=1e-6)
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert loaded.metrics_names == model.metrics_names


@pytest.mark.parametrize("build", [_seq, _functional])
def test_to_json_round_trip(build):
    model = build()
    clone = gkeras.models.model_from_json(model.to_json())
    assert json.loads(clone.to_json()) == json.loads(model.to_json())
    assert [w.shape for w in clone.weights] == [w.shape for w in
                                                model.weights]


@gkeras.saving.register_keras_serializable(package="TestSaving")
class ScaleShift(layers.Layer):
    """Test layer: y = x * scale + shift, with a constructor argument."""

    def __init__(self, init_scale=2.0, **kwargs):
        super().__init__(**kwargs)
        self.init_scale = init_scale

    def build(self, input_shape):
        self.scale = self.add_weight(
            name="scale", shape=(input_shape[-1],),
            initializer=gkeras.initializers.Constant(self.init_scale))
        self.shift = self.add_weight(name="shift", shape=(input_shape[-1],),
                                     initializer="zeros")

    def call(self, x):
        return x * self.scale + self.shift

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "init_scale": self.init_scale}


class Unregistered(ScaleShift):
    """The same layer, reachable only through `custom_objects`."""


class TwoTower(gkeras.Model):
    """A subclassed model with a list of layers and a nested layer."""

    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.towers = [layers.Dense(units), layers.Dense(units)]
        self.head = layers.Dense(1)

    def call(self, x):
        return self.head(self.towers[0](x) + self.towers[1](x))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@pytest.mark.parametrize("ext", [".keras", ".h5"])
def test_custom_layer_round_trip(ext, tmp_path):
    x = np.random.default_rng(1).normal(size=(3, 4)).astype("float32")
    inp = gkeras.Input((4,))
    out = Unregistered(3.0)(ScaleShift(0.5)(inp))
    model = gkeras.Model(inp, out)
    model.layers[1].shift.assign(np.arange(4, dtype="float32"))
    path = tmp_path / ("c" + ext)
    model.save(path)
    with pytest.raises(ValueError, match="Unregistered"):
        gkeras.models.load_model(path)
    loaded = gkeras.models.load_model(
        path, custom_objects={"Unregistered": Unregistered})
    np.testing.assert_allclose(loaded.predict(x, verbose=0),
                               (x * 0.5 + np.arange(4)) * 3.0, rtol=1e-6)
    assert isinstance(loaded.layers[1], ScaleShift)
    assert loaded.layers[2].init_scale == 3.0


def test_subclassed_model_weights_and_keras_file(tmp_path):
    x = np.random.default_rng(2).normal(size=(5, 3)).astype("float32")
    model = TwoTower(units=4)
    want = model.predict(x, verbose=0)
    model.save_weights(tmp_path / "t.weights.h5")
    with h5py.File(tmp_path / "t.weights.h5", "r") as f:
        # Attributes walked in name order, lists named by class counter.
        assert sorted(f.keys()) == ["head", "towers", "vars"]
        assert sorted(f["towers"].keys()) == ["dense", "dense_1"]
        assert f["head/vars"].attrs["name"] == model.head.name
    other = TwoTower(units=4)
    other(x)
    assert not np.allclose(other.predict(x, verbose=0), want)
    other.load_weights(tmp_path / "t.weights.h5")
    np.testing.assert_array_equal(other.predict(x, verbose=0), want)
    # The whole model, through custom_objects and build_config.
    model.save(tmp_path / "t.keras")
    loaded = gkeras.models.load_model(tmp_path / "t.keras",
                                      custom_objects={"TwoTower": TwoTower})
    assert isinstance(loaded, TwoTower) and loaded.units == 4
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), want)
    clone = gkeras.models.model_from_json(
        model.to_json(), custom_objects={"TwoTower": TwoTower})
    assert isinstance(clone, TwoTower)


def test_legacy_weights_by_name_and_skip_mismatch(tmp_path):
    x = np.random.default_rng(3).normal(size=(2, 5)).astype("float32")
    src = gkeras.Sequential([gkeras.Input((5,)),
                             layers.Dense(4, name="first"),
                             layers.Dense(2, name="second")])
    src.save_weights(tmp_path / "w.h5")
    with h5py.File(tmp_path / "w.h5", "r") as f:
        assert list(f.attrs["layer_names"]) == ["first", "second"]
    # by_name: layers found by name, whatever their order and extra layers.
    inp = gkeras.Input((5,))
    h = layers.Dense(4, name="first")(inp)
    h = layers.Dense(2, name="second")(h)
    out = layers.Dense(2, name="extra")(h)
    tgt = gkeras.Model(inp, out)
    tgt.load_weights(tmp_path / "w.h5", by_name=True)
    for name in ("first", "second"):
        for a, b in zip(src.get_layer(name).weights,
                        tgt.get_layer(name).weights):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    # Topological order: a model with a different layer count is refused.
    with pytest.raises(ValueError, match="Layer count mismatch"):
        tgt.load_weights(tmp_path / "w.h5")
    # skip_mismatch: the layer whose shape differs is left alone.
    diff = gkeras.Sequential([gkeras.Input((5,)),
                              layers.Dense(4, name="first"),
                              layers.Dense(3, name="second")])
    keep = diff.get_layer("second").kernel.numpy().copy()
    with pytest.raises(ValueError, match="second"):
        diff.load_weights(tmp_path / "w.h5", by_name=True)
    with pytest.warns(UserWarning, match="second"):
        diff.load_weights(tmp_path / "w.h5", by_name=True,
                          skip_mismatch=True)
    np.testing.assert_array_equal(diff.get_layer("second").kernel.numpy(),
                                  keep)
    np.testing.assert_array_equal(diff.get_layer("first").kernel.numpy(),
                                  src.get_layer("first").kernel.numpy())
    del x


def test_weights_h5_skip_mismatch(tmp_path):
    src = _seq()
    src.save_weights(tmp_path / "s.weights.h5")
    other = gkeras.Sequential([gkeras.Input((5,)), layers.Dense(7),
                               layers.Flatten(), layers.Dense(4)])
    with pytest.raises(ValueError, match="shape"):
        other.load_weights(tmp_path / "s.weights.h5")
    with pytest.warns(UserWarning, match="Skipped loading"):
        other.load_weights(tmp_path / "s.weights.h5", skip_mismatch=True)
    np.testing.assert_array_equal(other.layers[0].kernel.numpy(),
                                  src.layers[0].kernel.numpy())


def test_lambda_refused_unless_unsafe(tmp_path):
    model = gkeras.Sequential([gkeras.Input((3,)),
                               layers.Lambda(lambda t: t * 2.0 + 1.0)])
    x = np.ones((2, 3), dtype="float32")
    for ext in (".keras", ".h5"):
        path = tmp_path / ("l" + ext)
        model.save(path)
        with pytest.raises(ValueError, match="safe_mode=False"):
            gkeras.models.load_model(path)
        loaded = gkeras.models.load_model(path, safe_mode=False)
        np.testing.assert_allclose(loaded.predict(x, verbose=0), 3.0)


# -- safety and errors ---------------------------------------------------------

@pytest.mark.parametrize("name", ["m.h5", "m.keras", "m.weights.h5"])
def test_failed_save_leaves_previous_file_intact(name, tmp_path,
                                                 monkeypatch):
    model = _seq()
    path = tmp_path / name
    if name.endswith(".weights.h5"):
        model.save_weights(path)
    else:
        model.save(path)
    before = path.read_bytes()
    model.layers[0].kernel.assign(np.zeros((5, 7), "float32"))
    from gkeras.saving import weights_h5, legacy_h5
    calls = []

    def explode(*a, **k):
        calls.append(1)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(weights_h5, "_WriteStore",
                        type("Boom", (dict,), {"__setitem__": explode}))
    monkeypatch.setattr(legacy_h5, "_host", explode)
    with pytest.raises(RuntimeError, match="disk on fire"):
        if name.endswith(".weights.h5"):
            model.save_weights(path)
        else:
            model.save(path)
    assert calls
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [name]


def test_overwrite_false(tmp_path):
    model = _seq()
    model.save(tmp_path / "m.keras")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        model.save(tmp_path / "m.keras", overwrite=False)


def test_bad_files_give_clear_errors(tmp_path):
    model = _seq()
    model.save(tmp_path / "good.h5")
    model.save(tmp_path / "good.keras")
    model.save_weights(tmp_path / "good.weights.h5")
    data = (tmp_path / "good.h5").read_bytes()
    (tmp_path / "trunc.h5").write_bytes(data[: len(data) // 2])
    (tmp_path / "junk.h5").write_bytes(b"not a model at all" * 10)
    (tmp_path / "trunc.keras").write_bytes(
        (tmp_path / "good.keras").read_bytes()[:300])
    for bad in ("trunc.h5", "junk.h5", "trunc.keras"):
        with pytest.raises(ValueError, match=bad.replace(".", r"\.")):
            gkeras.models.load_model(tmp_path / bad)
    with pytest.raises(FileNotFoundError, match="missing.keras"):
        gkeras.models.load_model(tmp_path / "missing.keras")
    # A weights-only file given to load_model.
    with pytest.raises(ValueError, match="No model config"):
        gkeras.models.load_model(tmp_path / "good.weights.h5")
    # An HDF5 file with a config but without its weights group.
    with h5py.File(tmp_path / "partial.h5", "w") as f:
        with h5py.File(tmp_path / "good.h5", "r") as g:
            f.attrs["model_config"] = g.attrs["model_config"]
    with pytest.raises(ValueError, match="model_weights"):
        gkeras.models.load_model(tmp_path / "partial.h5")
    # A legacy group whose dataset went missing.
    with h5py.File(tmp_path / "holed.h5", "w") as f:
        with h5py.File(tmp_path / "good.h5", "r") as g:
            for k, v in g.attrs.items():
                f.attrs[k] = v
            g.copy("model_weights", f)
        layer = f["model_weights"].attrs["layer_names"][0]
        layer = layer.decode() if isinstance(layer, bytes) else layer
        names = f["model_weights"][layer].attrs["weight_names"]
        first = names[0].decode() if isinstance(names[0], bytes) else \
            names[0]
        del f["model_weights"][layer][first]
    with pytest.raises(ValueError, match="holed.h5.*missing"):
        gkeras.models.load_model(tmp_path / "holed.h5")
    # A zip without config.json.
    with zipfile.ZipFile(tmp_path / "nocfg.keras", "w") as zf:
        zf.writestr("metadata.json", "{}")
    with pytest.raises(ValueError, match="config.json"):
        gkeras.models.load_model(tmp_path / "nocfg.keras")
    # A foreign HDF5 file given to load_weights.
    with h5py.File(tmp_path / "foreign.weights.h5", "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(ValueError, match="foreign.weights.h5"):
        model.load_weights(tmp_path / "foreign.weights.h5")
    with pytest.raises(ValueError, match="extension"):
        model.save(tmp_path / "model.txt")


def test_import_is_light():
    code = ("import sys, gkeras, gkeras.callbacks, gkeras.models; "
            "print('h5py' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True,
                         env={**os.environ, "GKERAS_BACKEND": "numpy"})
    assert out.stdout.strip() == "False"
