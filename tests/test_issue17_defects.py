"""Issue 17, defects 1, 2, 4, 5, 6, 7: each test follows the code path of the
real Keras program that met the defect. Expected values are NumPy float64
math or numbers recorded from Keras 3.15.1 (JAX backend), kept here as data.
"""

import numpy as np
import pytest

import gkeras
from gkeras import layers, ops


def _np_dense(x, layer, relu=False):
    w, b = (v.astype(np.float64) for v in layer.get_weights())
    y = x.astype(np.float64) @ w + b
    return np.maximum(y, 0) if relu else y


# -- defect 1: layers[0].output of a Sequential built by add() ---------------

def _intermediate(model, x):
    extractor = gkeras.Model(inputs=model.input,
                             outputs=model.layers[0].output)
    return extractor.predict(x, verbose=0)


def test_intermediate_output_recipe_after_add_fit_and_load(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 3)).astype("float32")
    y = rng.normal(size=(6, 2)).astype("float32")
    model = gkeras.Sequential()
    model.add(layers.Dense(4, activation="relu", input_shape=(3,)))
    model.add(layers.Dense(3))
    model.add(layers.Dense(2))
    # Each add() rebuilt the graph: the first layer was called 3 times.
    assert len(model.layers[0]._inbound_nodes) == 3
    # Keras 3 answers with the first call's tensor.
    assert model.layers[0].output.shape == (None, 4)
    np.testing.assert_allclose(
        _intermediate(model, x), _np_dense(x, model.layers[0], relu=True),
        rtol=1e-5, atol=1e-6)

    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=2, batch_size=3, verbose=0)
    after_fit = _intermediate(model, x)
    np.testing.assert_allclose(
        after_fit, _np_dense(x, model.layers[0], relu=True),
        rtol=1e-5, atol=1e-6)

    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = gkeras.models.load_model(path)
    np.testing.assert_allclose(_intermediate(loaded, x), after_fit,
                               rtol=1e-6, atol=1e-7)


def test_every_layer_output_recipe_with_input_first():
    # The "visualize intermediate activations" recipe: one output per layer.
    model = gkeras.Sequential([gkeras.Input((5,)), layers.Dense(4),
                               layers.Dense(2)])
    model.add(layers.Dense(1))
    outs = [layer.output for layer in model.layers]
    extractor = gkeras.Model(inputs=model.inputs, outputs=outs)
    x = np.random.default_rng(1).normal(size=(2, 5)).astype("float32")
    got = extractor.predict(x, verbose=0)
    h = x.astype(np.float64)
    for layer, g in zip(model.layers, got):
        h = _np_dense(h, layer)
        np.testing.assert_allclose(g, h, rtol=1e-5, atol=1e-6)


def test_output_of_a_never_called_layer_raises():
    with pytest.raises(AttributeError, match="never been called"):
        layers.Dense(2).output


# -- defect 2: Sequential([functional_base, Flatten, Dense, Dense]) ---------

# Keras 3.15.1 summary rows and counts for the same model (recorded).
KERAS_D2_ROWS = [("functional (Functional)", "(None, 6, 6, 4)", "112"),
                 ("flatten (Flatten)", "(None, 144)", "0"),
                 ("dense (Dense)", "(None, 5)", "725"),
                 ("dense_1 (Dense)", "(None, 2)", "12")]
KERAS_D2_COUNTS = {"Total params": "849 (3.32 KB)",
                   "Trainable params": "737 (2.88 KB)",
                   "Non-trainable params": "112 (448.00 B)"}


def _transfer_model():
    inp = gkeras.Input((8, 8, 3))
    base = gkeras.Model(inp, layers.Conv2D(4, 3)(inp))
    base.trainable = False
    return gkeras.Sequential([base, layers.Flatten(), layers.Dense(5),
                              layers.Dense(2)])


def test_sequential_on_functional_base_is_built_at_once(capsys):
    model = _transfer_model()
    assert model.built
    assert model.input_shape == (None, 8, 8, 3)
    assert model.output_shape == (None, 2)
    model.summary()
    text = capsys.readouterr().out
    for name, shape, params in KERAS_D2_ROWS:
        row = [line for line in text.splitlines() if name in line]
        assert row, (name, text)
        assert shape in row[0] and row[0].rstrip("│ ").endswith(params), row
    for key, value in KERAS_D2_COUNTS.items():
        assert f" {key}: {value}" in text, (key, text)
    assert "unbuilt" not in text and "?" not in text
    # Independent count: conv 3*3*3*4+4, head 144*5+5 + 5*2+2.
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == \
        144 * 5 + 5 + 5 * 2 + 2
    assert sum(int(np.prod(w.shape)) for w in
               model.non_trainable_weights) == 3 * 3 * 3 * 4 + 4


def test_frozen_base_stays_frozen_in_fit():
    model = _transfer_model()
    base_before = [w.copy() for w in model.layers[0].get_weights()]
    head_before = model.layers[2].get_weights()[0].copy()
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(2)
    model.fit(rng.normal(size=(4, 8, 8, 3)), rng.normal(size=(4, 2)),
              epochs=1, verbose=0)
    for a, b in zip(base_before, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(head_before, model.layers[2].get_weights()[0])


# -- defect 4: compute_loss override without `training` ----------------------

class _OldStyleLossModel(gkeras.Model):
    """A Keras-3.2-era override: no `training` argument."""

    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(1)
        self.seen = []

    def call(self, x):
        return self.dense(x)

    def compute_loss(self, x, y, y_pred, sample_weight, allow_empty=False):
        self.seen.append("called")
        return ops.mean(ops.abs(y_pred - y))


def test_compute_loss_override_without_training_in_fit_and_evaluate():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(8, 2)).astype("float32")
    y = rng.normal(size=(8, 1)).astype("float32")
    model = _OldStyleLossModel()
    model.compile(optimizer="sgd")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    loss = model.evaluate(x, y, batch_size=8, verbose=0)
    expected = np.mean(np.abs(_np_dense(x, model.dense) - y))
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    assert len(model.seen) == 2


def test_compute_loss_override_with_training_gets_the_flag():
    flags = []

    class M(_OldStyleLossModel):
        def compute_loss(self, x, y, y_pred, sample_weight, training=True):
            flags.append(training)
            return ops.mean(ops.abs(y_pred - y))

    model = M()
    model.compile(optimizer="sgd")
    x = np.ones((4, 2), "float32")
    model.fit(x, x[:, :1], epochs=1, batch_size=4, verbose=0)
    model.evaluate(x, x[:, :1], batch_size=4, verbose=0)
    assert flags == [True, False]


# -- defect 5: keyword inputs (the endpoint-layer guide) ---------------------

class LogisticEndpoint(layers.Layer):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.loss_fn = gkeras.losses.BinaryCrossentropy(from_logits=True)

    def call(self, logits, targets=None, sample_weight=None):
        if targets is not None:
            self.add_loss(self.loss_fn(targets, logits, sample_weight))
        return ops.softmax(logits)


def _np_bce_logits(t, z, sw):
    per = np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))),
                  axis=-1)
    return np.sum(per * sw.reshape(-1)) / per.shape[0]


def _endpoint_data():
    rng = np.random.default_rng(4)
    return {"inputs": rng.random((3, 3)).astype("float32"),
            "targets": rng.random((3, 10)).astype("float32"),
            "sample_weight": rng.random((3, 1)).astype("float32")}


def test_endpoint_layer_called_with_keywords_in_functional_model():
    inputs = gkeras.Input(shape=(3,), name="inputs")
    targets = gkeras.Input(shape=(10,), name="targets")
    sample_weight = gkeras.Input(shape=(1,), name="sample_weight")
    dense = layers.Dense(10)
    preds = LogisticEndpoint()(logits=dense(inputs), targets=targets,
                               sample_weight=sample_weight)
    model = gkeras.Model([inputs, targets, sample_weight], preds)
    # The targets and weights are tracked in the graph; the layer order
    # is Keras 3.15.1's (recorded).
    assert [l.name for l in model.layers] == [
        "inputs", "dense", "sample_weight", "targets", "logistic_endpoint"]
    model.compile(optimizer="adam")
    data = _endpoint_data()
    loss = model.evaluate(data, verbose=0)
    z = _np_dense(data["inputs"], dense)
    np.testing.assert_allclose(
        loss, _np_bce_logits(data["targets"], z, data["sample_weight"]),
        rtol=1e-5)
    model.fit(data, epochs=1, verbose=0)


def test_endpoint_layer_called_with_keywords_in_subclassed_model():
    class M(gkeras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(10)
            self.endpoint = LogisticEndpoint()

        def call(self, data):
            return self.endpoint(logits=self.dense(data["inputs"]),
                                 targets=data["targets"],
                                 sample_weight=data["sample_weight"])

    model = M()
    model.compile(optimizer="adam")
    data = _endpoint_data()
    out = model(data)
    z = _np_dense(data["inputs"], model.dense)
    e = np.exp(z - z.max(-1, keepdims=True))
    np.testing.assert_allclose(out.numpy(), e / e.sum(-1, keepdims=True),
                               rtol=1e-5, atol=1e-7)
    model.fit(data, epochs=1, verbose=0)


def test_first_argument_by_name_on_builtin_layer():
    d = layers.Dense(2)
    x = np.ones((1, 3), "float32")
    np.testing.assert_allclose(d(inputs=x).numpy(), _np_dense(x, d),
                               rtol=1e-6)
    with pytest.raises(ValueError, match="called without inputs"):
        d(training=False)


# -- defect 6: validation fires on_test_* on the fit's callbacks -------------

# Recorded from Keras 3.15.1: fit(4 samples, batch_size=2, epochs=2,
# validation_data=3 samples).
KERAS_D6_EVENTS = [
    "on_train_begin", "on_epoch_begin:0", "on_train_batch_begin:0",
    "on_train_batch_end:0", "on_train_batch_begin:1", "on_train_batch_end:1",
    "on_test_begin", "on_test_batch_begin:0", "on_test_batch_end:0",
    "on_test_batch_begin:1", "on_test_batch_end:1", "on_test_end",
    "on_epoch_end:0", "on_epoch_begin:1", "on_train_batch_begin:0",
    "on_train_batch_end:0", "on_train_batch_begin:1", "on_train_batch_end:1",
    "on_test_begin", "on_test_batch_begin:0", "on_test_batch_end:0",
    "on_test_batch_begin:1", "on_test_batch_end:1", "on_test_end",
    "on_epoch_end:1", "on_train_end"]

_HOOKS = ["on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
          "on_test_begin", "on_test_end", "on_train_batch_begin",
          "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end"]


def _recorder(events, test_end_logs):
    class Rec(gkeras.callbacks.Callback):
        pass

    def make(hook):
        def fn(self, *args, logs=None):
            if hook == "on_test_end":
                test_end_logs.append(dict(args[0] if args else logs))
            events.append(f"{hook}:{args[0]}" if args and isinstance(
                args[0], int) else hook)
        return fn
    for hook in _HOOKS:
        setattr(Rec, hook, make(hook))
    return Rec()


def test_fit_validation_fires_test_hooks_like_keras(capsys):
    events, test_end_logs = [], []
    model = gkeras.Sequential([gkeras.Input((2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.arange(8, dtype="float32").reshape(4, 2) / 8
    y = np.ones((4, 1), "float32")
    history = model.fit(x, y, batch_size=2, epochs=2,
                        validation_data=(x[:3], y[:3]),
                        callbacks=[_recorder(events, test_end_logs)],
                        verbose=1)
    assert events == KERAS_D6_EVENTS
    # on_test_end gets unprefixed logs; the epoch logs carry them as val_*.
    assert [sorted(l) for l in test_end_logs] == [["loss"], ["loss"]]
    np.testing.assert_allclose([l["loss"] for l in test_end_logs],
                               history.history["val_loss"], rtol=1e-6)
    # The progress bar shows validation only in the epoch line.
    out = capsys.readouterr().out
    assert out.count("val_loss") == 2


# -- defect 7: per-output losses are logged unweighted -----------------------

def test_loss_weights_apply_to_total_only():
    inp = gkeras.Input((3,))
    a = layers.Dense(1, name="a")(inp)
    b = layers.Dense(2, name="b")(inp)
    model = gkeras.Model(inp, [a, b])
    model.compile(optimizer="sgd", loss=["mse", "mae"],
                  loss_weights=[0.3, 2.0])
    rng = np.random.default_rng(5)
    x = rng.normal(size=(5, 3)).astype("float32")
    ya = rng.normal(size=(5, 1)).astype("float32")
    yb = rng.normal(size=(5, 2)).astype("float32")
    logs = model.evaluate(x, [ya, yb], batch_size=5, verbose=0,
                          return_dict=True)
    la = np.mean((_np_dense(x, model.get_layer("a")) - ya) ** 2)
    lb = np.mean(np.abs(_np_dense(x, model.get_layer("b")) - yb))
    np.testing.assert_allclose(logs["a_loss"], la, rtol=1e-5)
    np.testing.assert_allclose(logs["b_loss"], lb, rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], 0.3 * la + 2.0 * lb, rtol=1e-5)
