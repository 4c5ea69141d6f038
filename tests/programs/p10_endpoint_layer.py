"""The endpoint layer pattern: a layer that takes the targets and sample
weights as inputs, adds its loss with `add_loss` and updates its own
accuracy metric, in a model trained with `fit` and no compiled loss; the
layer's metric is logged and reset per epoch like a compiled one.

Source: keras.io/examples/keras_recipes/endpoint_layer_pattern. Changed:
`keras` -> `gkeras`; 764 -> 16 features, small data, the inputs passed
positionally (keyword inputs are issue 17 defect 5, another branch).

Keras reference: none (Keras 3.15 on JAX fails in the layer's
`accuracy_fn.update_state` inside `evaluate`, even with run_eagerly:
"'NoneType' object is not callable"; without the metric the program
passed there, and Keras lists such layer metrics in `model.metrics` as
gkeras does).
"""
import numpy as np

import gkeras as keras
from gkeras import ops


class LogisticEndpoint(keras.layers.Layer):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
        self.accuracy_fn = keras.metrics.BinaryAccuracy()

    def call(self, logits, targets=None, sample_weight=None):
        if targets is not None:
            # Compute the training-time loss value and add it
            # to the layer using `self.add_loss()`.
            loss = self.loss_fn(targets, logits, sample_weight)
            self.add_loss(loss)
            # Log the accuracy as a metric (we could log arbitrary metrics,
            # including different metrics for training and inference.)
            self.accuracy_fn.update_state(targets, logits, sample_weight)
        # Return the inference-time prediction tensor (for `.predict()`).
        return ops.softmax(logits)


inputs = keras.Input(shape=(16,), name="inputs")
targets = keras.Input(shape=(1,), name="targets")
sample_weight = keras.Input(shape=(1,), name="sample_weight")
logits = keras.layers.Dense(1)(inputs)
preds = LogisticEndpoint()(logits, targets, sample_weight)
model = keras.Model(inputs=[inputs, targets, sample_weight], outputs=preds)
assert [t.name for t in model.inputs] == ["inputs", "targets",
                                          "sample_weight"]

rng = np.random.default_rng(0)
x = rng.random((64, 16)).astype("float32")
t = (x[:, :1] > 0.5).astype("float32")
sw = rng.random((64, 1)).astype("float32")
data = {"inputs": x, "targets": t, "sample_weight": sw}

model.compile(keras.optimizers.Adam(0.05))
# The loss logged before the first update is the layer's weighted
# binary cross-entropy, computed here in NumPy.
w, b = [v.astype("float64") for v in model.get_weights()]
z = x @ w + b
bce = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
first = model.evaluate(data, verbose=0, batch_size=64)[0]  # [loss, acc]
np.testing.assert_allclose(first, np.sum(bce * sw) / len(x), rtol=1e-5)

history = model.fit(data, epochs=15, batch_size=32, verbose=0)
losses = history.history["loss"]
assert losses[-1] < 0.9 * losses[0], losses
# The layer's metric is part of the model's metrics and logs.
assert sorted(history.history) == ["binary_accuracy", "loss"]
logs = model.evaluate(data, verbose=0, batch_size=64, return_dict=True)
w, b = [v.astype("float64") for v in model.get_weights()]
z = x @ w + b
# BinaryAccuracy thresholds the logits at 0.5, weighted by sample_weight.
np.testing.assert_allclose(logs["binary_accuracy"],
                           np.sum(((z > 0.5) == t) * sw) / np.sum(sw),
                           rtol=1e-5)
# Softmax over a single logit is 1: the recipe's prediction tensor.
np.testing.assert_allclose(model.predict(data, verbose=0), 1.0)
