"""A failed `load_weights` or `set_weights` leaves the model untouched:
every variable is read and checked before any is assigned, and the error
names the first mismatching layer/variable with expected vs found (Keras
assigns layer by layer and leaves a half-loaded model)."""

import numpy as np
import pytest

import gkeras
from gkeras import layers

pytest.importorskip("h5py")


def _model(last_units, name_last="out"):
    return gkeras.Sequential([
        gkeras.Input((5,)), layers.Dense(4, name="hidden"),
        layers.Dense(last_units, name=name_last)])


def _source(tmp_path, ext):
    src = _model(3)
    src.set_weights([np.full(w.shape, 7.0, "float32")
                     for w in src.get_weights()])
    path = str(tmp_path / f"src.{ext}")
    if ext == "keras":
        src.save(path)
    else:
        src.save_weights(path)
    return path


def _snapshot(model):
    return [w.copy() for w in model.get_weights()]


def _assert_unchanged(model, before):
    after = model.get_weights()
    assert len(after) == len(before)
    for a, b in zip(after, before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("ext", ["weights.h5", "keras", "h5"])
def test_shape_mismatch_in_last_layer_leaves_model_untouched(tmp_path, ext):
    path = _source(tmp_path, ext)
    target = _model(2)  # the first layer matches, the last does not
    before = _snapshot(target)
    with pytest.raises(ValueError) as err:
        target.load_weights(path)
    msg = str(err.value)
    assert "out" in msg
    assert "(4, 2)" in msg and "(4, 3)" in msg
    _assert_unchanged(target, before)


def test_by_name_mismatch_leaves_model_untouched(tmp_path):
    path = _source(tmp_path, "h5")
    target = _model(2)
    before = _snapshot(target)
    with pytest.raises(ValueError, match="out") as err:
        target.load_weights(path, by_name=True)
    assert "(4, 2)" in str(err.value) and "(4, 3)" in str(err.value)
    _assert_unchanged(target, before)


def test_by_name_count_mismatch_leaves_model_untouched(tmp_path):
    src = gkeras.Sequential([gkeras.Input((5,)),
                             layers.Dense(4, name="hidden"),
                             layers.Dense(3, name="out", use_bias=False)])
    path = str(tmp_path / "src.h5")
    src.save_weights(path)
    target = _model(3)
    before = _snapshot(target)
    with pytest.raises(ValueError, match="'out'.*expects 2 weights.*1"):
        target.load_weights(path, by_name=True)
    _assert_unchanged(target, before)


@pytest.mark.parametrize("ext", ["weights.h5", "keras", "h5"])
def test_skip_mismatch_loads_matching_layers_only(tmp_path, ext):
    path = _source(tmp_path, ext)
    target = _model(2)
    out_before = [w.copy() for w in target.layers[-1].get_weights()]
    with pytest.warns(UserWarning, match="out|Skip"):
        if ext == "h5":
            target.load_weights(path, by_name=True, skip_mismatch=True)
        else:
            target.load_weights(path, skip_mismatch=True)
    for w in target.layers[0].get_weights():
        np.testing.assert_array_equal(w, 7.0)
    for a, b in zip(target.layers[-1].get_weights(), out_before):
        np.testing.assert_array_equal(a, b)


def test_layer_count_mismatch_with_skip_mismatch_touches_nothing(tmp_path):
    path = _source(tmp_path, "h5")
    target = gkeras.Sequential([gkeras.Input((5,)), layers.Dense(4),
                                layers.Dense(4), layers.Dense(3)])
    before = _snapshot(target)
    with pytest.raises(ValueError, match="Layer count mismatch"):
        target.load_weights(path, skip_mismatch=True)
    _assert_unchanged(target, before)


class _Broken(layers.Layer):
    """A user layer whose own loader fails after others were loaded."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],),
                                 initializer="ones")

    def call(self, x):
        return x * self.w

    def load_own_variables(self, store):
        self.w.assign(np.full(self.w.shape, 9.0, "float32"))
        raise ValueError("broken loader")


def test_failing_custom_loader_restores_everything(tmp_path):
    src = gkeras.Sequential([gkeras.Input((5,)), layers.Dense(4),
                             _Broken()])
    src.set_weights([np.full(w.shape, 7.0, "float32")
                     for w in src.get_weights()])
    path = str(tmp_path / "m.weights.h5")
    src.save_weights(path)
    target = gkeras.Sequential([gkeras.Input((5,)), layers.Dense(4),
                                _Broken()])
    before = _snapshot(target)
    with pytest.raises(ValueError, match="broken loader"):
        target.load_weights(path)
    _assert_unchanged(target, before)


def test_set_weights_checks_everything_first():
    model = _model(3)
    before = _snapshot(model)
    bad = [np.full(w.shape, 5.0, "float32") for w in before]
    bad[-1] = np.full(before[-1].shape, "x")  # right shape, wrong dtype
    with pytest.raises(ValueError, match="weight #3") as err:
        model.set_weights(bad)
    assert "out/bias" in str(err.value)
    _assert_unchanged(model, before)
    bad[-1] = np.zeros((4,), "float32")
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        model.set_weights(bad)
    _assert_unchanged(model, before)


def test_optimizer_set_weights_checks_everything_first():
    model = _model(3)
    model.compile(optimizer="adam", loss="mse")
    model.optimizer.build(model.trainable_weights)
    before = [v.numpy().copy() for v in model.optimizer.variables]
    bad = [np.full(b.shape, 3.0, b.dtype) for b in before]
    bad[-1] = np.zeros((7,), before[-1].dtype)
    with pytest.raises(ValueError, match="No variable was changed"):
        model.optimizer.set_weights(bad)
    with pytest.raises(ValueError, match="received 2 weights"):
        model.optimizer.set_weights(bad[:2])
    for v, b in zip(model.optimizer.variables, before):
        np.testing.assert_array_equal(v.numpy(), b)
