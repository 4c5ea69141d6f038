"""Sequential, Functional and subclassed models: construction, naming,
weights, summaries, configs — checked against Keras's documented behaviour
and NumPy recomputation."""

import io
import contextlib

import numpy as np
import pytest

import gkeras
import gkeras as keras
from gkeras import layers, ops
from gkeras.layers import Dense, Dropout, Flatten


def np_dense(x, layer, act=lambda v: v):
    k, b = layer.get_weights()
    return act(x @ k + b)


def relu(v):
    return np.maximum(v, 0)


def test_tutorial_sequential_summary_counts_and_names():
    model = gkeras.models.Sequential([
        Flatten(input_shape=(28, 28, 1)), Dense(128, activation="relu"),
        Dense(64, activation="relu"), Dense(10, activation="softmax")])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert 'Model: "sequential"' in text
    for frag in ("flatten (Flatten)", "(None, 784)", "dense (Dense)",
                 "100,480", "dense_1 (Dense)", "8,256", "dense_2 (Dense)",
                 "650", "Total params: 109,386", "Trainable params: 109,386",
                 "Non-trainable params: 0"):
        assert frag in text, frag
    assert [l.name for l in model.layers] == ["flatten", "dense", "dense_1",
                                              "dense_2"]
    assert model.count_params() == 109386


def test_sequential_add_pop_and_deferred_build():
    model = gkeras.Sequential()
    model.add(Dense(4, activation="relu"))
    model.add(Dense(2))
    assert not model.built
    with pytest.raises(ValueError, match="not yet been built"):
        model.summary(print_fn=lambda s: None)
    x = np.random.rand(3, 5).astype("float32")
    y = model(x)
    assert model.built and y.shape == (3, 2)
    l1, l2 = model.layers
    np.testing.assert_allclose(np.asarray(y), np_dense(np_dense(x, l1, relu), l2),
                               rtol=1e-5, atol=1e-6)
    popped = model.pop()
    assert popped is l2 and model(x).shape == (3, 4)


def test_keras3_style_with_input_and_functional_equivalence():
    seq = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3)])
    inputs = keras.Input(shape=(6,))
    outputs = keras.layers.Dense(3)(inputs)
    fun = keras.Model(inputs=inputs, outputs=outputs)
    fun.set_weights(seq.get_weights())
    x = np.random.rand(4, 6).astype("float32")
    np.testing.assert_allclose(seq.predict(x, verbose=0),
                               fun.predict(x, verbose=0), rtol=1e-6)
    assert type(fun).__name__ == "Functional"
    assert isinstance(fun, keras.Model)


def test_functional_multi_io_shared_layer_and_intermediate_model():
    a = keras.Input((4,), name="a")
    b = keras.Input((4,), name="b")
    shared = Dense(3, activation="tanh", name="shared")
    ha, hb = shared(a), shared(b)
    merged = ops.add(ha, hb)
    out1 = Dense(2, activation="softmax", name="cls")(merged)
    out2 = Dense(1, name="reg")(hb)
    model = keras.Model(inputs=[a, b], outputs=[out1, out2])
    assert len(shared._inbound_nodes) == 2
    xa, xb = np.random.rand(5, 4), np.random.rand(5, 4)
    p1, p2 = model.predict([xa, xb], verbose=0)
    k, bias = shared.get_weights()
    h = np.tanh(xa @ k + bias) + np.tanh(xb @ k + bias)
    kc, bc = model.get_layer("cls").get_weights()
    logits = h @ kc + bc
    want = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(p1, want, rtol=1e-5, atol=1e-6)
    kr, br = model.get_layer("reg").get_weights()
    np.testing.assert_allclose(p2, np.tanh(xb @ k + bias) @ kr + br,
                               rtol=1e-5, atol=1e-6)
    # Dict inputs keyed by input names.
    p1d, _ = model.predict({"a": xa, "b": xb}, verbose=0)
    np.testing.assert_allclose(p1d, p1)
    # Intermediate model.
    inter = keras.Model(inputs=model.inputs, outputs=model.get_layer("cls").input)
    np.testing.assert_allclose(inter.predict([xa, xb], verbose=0), h,
                               rtol=1e-5, atol=1e-6)


def test_multi_output_training_with_dict_losses_and_weights():
    inp = keras.Input((3,))
    h = Dense(8, activation="relu")(inp)
    c = Dense(2, activation="softmax", name="c")(h)
    r = Dense(1, name="r")(h)
    model = keras.Model(inp, [c, r])
    model.compile(optimizer="adam",
                  loss={"c": "sparse_categorical_crossentropy", "r": "mse"},
                  loss_weights={"c": 1.0, "r": 0.5},
                  metrics={"c": ["accuracy"]})
    x = np.random.rand(64, 3).astype("float32")
    yc = (x[:, 0] > 0.5).astype("int32")
    yr = x.sum(1, keepdims=True)
    hist = model.fit(x, {"c": yc, "r": yr}, epochs=2, batch_size=16,
                     verbose=0)
    assert set(hist.history) == {"loss", "c_loss", "r_loss", "c_accuracy"}
    res = model.evaluate(x, [yc, yr], verbose=0, return_dict=True)
    # As Keras: per-output losses are logged unweighted (issue 17, 7).
    np.testing.assert_allclose(res["loss"],
                               res["c_loss"] + 0.5 * res["r_loss"],
                               rtol=1e-4)


def test_model_as_layer_autoencoder():
    encoder = keras.Sequential([keras.Input((8,)), Dense(3, activation="relu")],
                               name="encoder")
    decoder = keras.Sequential([keras.Input((3,)), Dense(8)], name="decoder")
    inp = keras.Input((8,))
    auto = keras.Model(inp, decoder(encoder(inp)))
    assert len(auto.weights) == 4
    x = np.random.rand(10, 8).astype("float32")
    want = decoder.predict(encoder.predict(x, verbose=0), verbose=0)
    np.testing.assert_allclose(auto.predict(x, verbose=0), want, rtol=1e-5)
    auto.compile(optimizer="adam", loss="mse")
    before = encoder.get_weights()[0].copy()
    auto.fit(x, x, epochs=1, verbose=0)
    assert not np.allclose(before, encoder.get_weights()[0])


class SubclassedModel(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense1 = Dense(16, activation="relu")
        self.dropout = Dropout(0.5)
        self.blocks = [Dense(8, activation="relu"), Dense(8)]
        self.out = Dense(2, activation="softmax")
        self.seen_training = []

    def call(self, inputs, training=None):
        self.seen_training.append(training)
        x = self.dense1(inputs)
        x = self.dropout(x, training=training)
        for b in self.blocks:
            x = b(x)
        return self.out(x)


def test_subclassed_model_tracks_layers_and_trains():
    model = SubclassedModel()
    x = np.random.rand(40, 5).astype("float32")
    y = (x[:, 0] > 0.5).astype("int32")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert len(model.weights) == 8
    assert True in model.seen_training
    model.seen_training.clear()
    model.predict(x, verbose=0)
    assert model.seen_training == [False] * len(model.seen_training)
    lines = []
    model.summary(print_fn=lines.append)
    assert "Total params: " in "\n".join(lines)


class Scale(layers.Layer):
    """A custom layer: `build` + `add_weight`, `call` with ops, get_config."""

    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros",
                                 name="b")

    def call(self, inputs):
        return ops.tanh(ops.matmul(inputs, self.w) + self.b) * 2.0

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_custom_layer_trains_through_autograd():
    inp = keras.Input((4,))
    out = Scale(2)(inp)
    assert out.shape == (None, 2)
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x = np.random.rand(32, 4).astype("float32")
    y = np.tanh(x[:, :2]) * 2
    l0 = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=20, batch_size=8, verbose=0)
    assert model.evaluate(x, y, verbose=0) < l0 * 0.7
    cfg = model.layers[1].get_config()
    assert cfg["units"] == 2
    clone = Scale.from_config(cfg)
    assert clone.units == 2 and clone.name == model.layers[1].name


def test_automatic_names_and_clear_session():
    assert Dense(1).name == "dense"
    assert Dense(1).name == "dense_1"
    assert Dense(1, name="custom").name == "custom"
    assert layers.Activation("relu").name == "activation"
    keras.backend.clear_session()
    assert Dense(1).name == "dense"


def test_get_set_weights_and_freezing():
    model = keras.Sequential([keras.Input((3,)), Dense(4), Dense(2)])
    w = model.get_weights()
    assert [a.shape for a in w] == [(3, 4), (4,), (4, 2), (2,)]
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 2
    assert len(model.non_trainable_weights) == 2
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.random.rand(8, 3), np.random.rand(8, 2)
    model.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], w[0])
    assert not np.allclose(model.layers[1].get_weights()[0], w[2])


def test_layer_input_output_attributes():
    inp = keras.Input((5,))
    d = Dense(2)
    out = d(inp)
    assert d.input is inp and d.output is out
    assert d.input_shape == (None, 5) and d.output_shape == (None, 2)
    assert d.count_params() == 12


def test_sequential_and_functional_config_round_trip():
    model = keras.Sequential([keras.Input((4,)), Dense(3, activation="relu"),
                              Dropout(0.2), Dense(1, activation="sigmoid")])
    clone = keras.Sequential.from_config(model.get_config())
    assert [type(l).__name__ for l in clone.layers] == ["Dense", "Dropout",
                                                        "Dense"]
    clone.set_weights(model.get_weights())
    x = np.random.rand(3, 4)
    np.testing.assert_allclose(clone.predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6)
    a = keras.Input((4,), name="a")
    h = Dense(3, name="h")(a)
    fun = keras.Model(a, [Dense(2, name="o1")(h), Dense(1, name="o2")(h)])
    json_str = fun.to_json()
    rebuilt = keras.models.model_from_json(json_str)
    rebuilt.set_weights(fun.get_weights())
    for p, q in zip(rebuilt.predict(x, verbose=0), fun.predict(x, verbose=0)):
        np.testing.assert_allclose(p, q, rtol=1e-6)


def test_model_call_eager_returns_tensor_with_numpy():
    model = keras.Sequential([keras.Input((2,)), Dense(1)])
    out = model(np.ones((3, 2), "float32"))
    assert out.numpy().shape == (3, 1)
    assert np.asarray(out).dtype == np.float32
