"""What custom `train_step`/`test_step`/`predict_step` overrides receive
and what their returned logs become, as in Keras 3
(`data_adapter_utils.pack_x_y_sample_weight`,
`Trainer._get_metrics_result_or_logs`, `_pythonify_logs`).

Regressions found by the keras.io programs in tests/programs (VAE: `fit(x)`
with `self.encoder(data)`; customizing-fit guide: `x, y = data`).
"""
import numpy as np
import pytest

import gkeras as keras
from gkeras.models.data_adapter import pack_x_y_sample_weight


class Recorder(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.seen = []
        self.tracker = keras.metrics.Mean(name="custom")

    def call(self, x):
        return self.dense(x)

    def _record(self, data):
        self.seen.append(type(data).__name__ + (
            str(len(data)) if isinstance(data, tuple) else ""))

    def train_step(self, data):
        self._record(data)
        self.tracker.update_state(1.0)
        return {"custom": self.tracker.result(), "nested": {"inner": 2.0}}

    def test_step(self, data):
        self._record(data)
        return {"custom": 3.0}

    def predict_step(self, data):
        self._record(data)
        return self(data if not isinstance(data, tuple) else data[0])


@pytest.mark.parametrize("kw,want", [
    ({}, "ndarray"),
    ({"y": np.ones((4, 1))}, "tuple2"),
    ({"y": np.ones((4, 1)), "sample_weight": np.ones(4)}, "tuple3"),
])
def test_steps_receive_packed_data(kw, want):
    m = Recorder()
    m.compile(optimizer="sgd")
    x = np.ones((4, 3), "float32")
    m.fit(x, batch_size=4, epochs=1, verbose=0, **kw)
    m.evaluate(x, batch_size=4, verbose=0, **kw)
    assert m.seen == [want, want]
    m.seen.clear()
    m.predict(x, batch_size=4, verbose=0)
    assert m.seen == ["ndarray"]


def test_x_alone_unpacks_for_builtin_steps():
    # A list x without targets is wrapped as (x,), so the built-in steps
    # still see one (multi-input) x.
    inp = [keras.Input((2,)), keras.Input((3,))]
    out = keras.layers.Dense(1)(keras.layers.concatenate(inp))
    m = keras.Model(inp, out)
    m.compile(optimizer="sgd", loss="mse")
    xs = [np.ones((5, 2), "float32"), np.ones((5, 3), "float32")]
    assert m.predict(xs, verbose=0).shape == (5, 1)
    assert pack_x_y_sample_weight(xs) == (xs,)
    assert pack_x_y_sample_weight(xs[0]) is xs[0]
    assert pack_x_y_sample_weight(1, 2) == (1, 2)
    assert pack_x_y_sample_weight(1, 2, 3) == (1, 2, 3)


def test_custom_step_logs_reach_history_and_evaluate():
    m = Recorder()
    m.compile(optimizer="sgd")
    x = np.ones((4, 3), "float32")
    h = m.fit(x, batch_size=2, epochs=2, verbose=0)
    # The step's own keys (nested dicts flattened), not the model's
    # metrics (`custom` alone).
    assert h.history == {"custom": [1.0, 1.0], "inner": [2.0, 2.0]}
    assert m.evaluate(x, verbose=0, return_dict=True) == {"custom": 3.0}


class GuideModel(keras.Model):
    """The customizing-fit guide's first train_step, verbatim but for the
    tape."""

    def train_step(self, data):
        x, y = data
        with keras.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def test_compiled_metrics_reached_through_model_metrics_on_first_batch():
    inputs = keras.Input((3,))
    model = GuideModel(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse",
                  metrics=["mae"])
    # Before any batch the compiled metrics appear under Keras 3's name.
    assert [m.name for m in model.metrics] == ["loss", "compile_metrics"]
    rng = np.random.default_rng(0)
    x = rng.random((8, 3)).astype("float32")
    y = rng.random((8, 1)).astype("float32")
    w, b = [v.astype("float64") for v in model.get_weights()]
    h = model.fit(x, y, batch_size=4, epochs=1, verbose=0).history
    pred = x @ w + b                      # lr 0: weights stay put
    assert sorted(h) == ["loss", "mae"]
    np.testing.assert_allclose(h["mae"], [np.mean(np.abs(pred - y))],
                               rtol=1e-5)
    np.testing.assert_allclose(h["loss"], [np.mean((pred - y) ** 2)],
                               rtol=1e-5)
    assert [m.name for m in model.metrics] == ["loss", "mae"]
