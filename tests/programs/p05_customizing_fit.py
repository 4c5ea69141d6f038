"""Customizing what happens in `fit()`: a `train_step` override that uses
the compiled loss and metrics, a lower-level one with its own trackers
and no compiled loss, sample weights, and a `test_step` override.

Source: keras.io/guides/custom_train_step_in_tensorflow (the Keras 3
guide). Changed: `keras` -> `gkeras`, `tf.GradientTape` ->
`gkeras.GradientTape`; 256 samples instead of 1000.

Keras reference: none (TensorFlow-style GradientTape).
"""
import numpy as np

import gkeras as keras
from gkeras import GradientTape


class CustomModel(keras.Model):
    def train_step(self, data):
        # Unpack the data. Its structure depends on your model and
        # on what you pass to `fit()`.
        x, y = data
        with GradientTape() as tape:
            y_pred = self(x, training=True)  # Forward pass
            # Compute the loss value
            # (the loss function is configured in `compile()`)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        # Compute gradients
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        # Update weights
        self.optimizer.apply(gradients, trainable_vars)
        # Update metrics (includes the metric that tracks the loss)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        # Return a dict mapping metric names to current value
        return {m.name: m.result() for m in self.metrics}


rng = np.random.default_rng(0)
x = rng.random((256, 32)).astype("float32")
w_true = rng.normal(size=(32, 1)).astype("float32")
y = x @ w_true * 0.2

inputs = keras.Input(shape=(32,))
outputs = keras.layers.Dense(1)(inputs)
model = CustomModel(inputs, outputs)
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse",
              metrics=["mae"])
history = model.fit(x, y, epochs=3, verbose=0)
h = history.history
assert sorted(h) == ["loss", "mae"], h
assert h["loss"][-1] < h["loss"][0]
# The built-in test_step evaluates the same compiled loss and metric.
pred = model.predict(x, verbose=0).astype("float64")
loss, mae = model.evaluate(x, y, verbose=0)
np.testing.assert_allclose(loss, np.mean((pred - y) ** 2), rtol=1e-4)
np.testing.assert_allclose(mae, np.mean(np.abs(pred - y)), rtol=1e-4)


# Going lower-level: no compiled loss, the model's own trackers.
class CustomModel2(keras.Model):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = keras.losses.MeanSquaredError()

    def train_step(self, data):
        x, y = data
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.loss_fn(y, y_pred)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply(gradients, trainable_vars)
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(),
                "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        # Listed here so that `reset_states()` is called on them at the
        # start of each epoch.
        return [self.loss_tracker, self.mae_metric]


inputs = keras.Input(shape=(32,))
outputs = keras.layers.Dense(1)(inputs)
model = CustomModel2(inputs, outputs)
model.compile(optimizer=keras.optimizers.SGD(0.05))
# One epoch of one batch of SGD: the logged loss is the loss before the
# update, and the update is w -= lr * dL/dw, both checked in NumPy.
w0, b0 = [v.astype("float64") for v in model.get_weights()]
h = model.fit(x, y, epochs=1, batch_size=256, verbose=0).history
pred0 = x @ w0 + b0
np.testing.assert_allclose(h["loss"][0], np.mean((pred0 - y) ** 2), rtol=1e-5)
np.testing.assert_allclose(h["mae"][0], np.mean(np.abs(pred0 - y)), rtol=1e-5)
grad_pred = 2 * (pred0 - y) / len(x)
w1, b1 = model.get_weights()
np.testing.assert_allclose(w1, w0 - 0.05 * x.T @ grad_pred, rtol=1e-4,
                           atol=1e-6)
np.testing.assert_allclose(b1, b0 - 0.05 * grad_pred.sum(0), rtol=1e-4,
                           atol=1e-6)


# Supporting sample_weight and class_weight.
class CustomModel3(keras.Model):
    def train_step(self, data):
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            sample_weight = None
            x, y = data
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred,
                                     sample_weight=sample_weight)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply(gradients, trainable_vars)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


inputs = keras.Input(shape=(32,))
outputs = keras.layers.Dense(1)(inputs)
model = CustomModel3(inputs, outputs)
model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse",
              metrics=["mae"])
sw = rng.random((256, 1)).astype("float32")
w0, b0 = [v.astype("float64") for v in model.get_weights()]
h = model.fit(x, y, sample_weight=sw, epochs=1, batch_size=256,
              verbose=0).history
pred0 = x @ w0 + b0
err = (pred0 - y) ** 2
# Keras's "sum_over_batch_size": weighted sum over the batch size.
np.testing.assert_allclose(h["loss"][0], np.sum(err * sw) / len(x),
                           rtol=1e-5)
# `metrics=` are unweighted (`weighted_metrics=` take the weights): the
# compiled metrics ignore the sample_weight this loop hands them.
np.testing.assert_allclose(h["mae"][0], np.mean(np.abs(pred0 - y)),
                           rtol=1e-5)
results = model.evaluate(x, y, verbose=0, return_dict=True)
pred = model.predict(x, verbose=0).astype("float64")
assert sorted(results) == ["loss", "mae"]
np.testing.assert_allclose(results["loss"], np.mean((pred - y) ** 2),
                           rtol=1e-4)
