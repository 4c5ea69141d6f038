"""The Functional API guide: an MNIST-style MLP, trained, evaluated, saved
and reloaded.

Source: keras.io/guides/functional_api ("Training, evaluation, and
inference", "Save and serialize"). Changed: `keras` -> `gkeras`; 28x28
MNIST -> 8x8 synthetic digits (class = the brightest quadrant-row block),
so it runs in a fraction of a second.
"""
import os
import tempfile

import numpy as np

import gkeras as keras
from gkeras import layers

rng = np.random.default_rng(0)
num_classes = 4
x_train = rng.random((512, 8, 8)).astype("float32") * 0.5
y_train = rng.integers(0, num_classes, 512)
for i, c in enumerate(y_train):
    x_train[i, 2 * c:2 * c + 2, :] += 1.0      # the class lights up two rows
x_test, y_test = x_train[400:], y_train[400:]
x_train, y_train = x_train[:400], y_train[:400]

inputs = keras.Input(shape=(64,))
dense = layers.Dense(32, activation="relu")
x = dense(inputs)
x = layers.Dense(32, activation="relu")(x)
outputs = layers.Dense(num_classes)(x)
model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")

assert model.name == "mnist_model"
assert [l.__class__.__name__ for l in model.layers] == [
    "InputLayer", "Dense", "Dense", "Dense"]
assert model.count_params() == (64 * 32 + 32) + (32 * 32 + 32) + (32 * 4 + 4)
assert tuple(model.output_shape) == (None, num_classes)

x_train = x_train.reshape(400, 64).astype("float32")
x_test = x_test.reshape(112, 64).astype("float32")

model.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer=keras.optimizers.RMSprop(learning_rate=3e-3),
    metrics=["accuracy"],
)
history = model.fit(x_train, y_train, batch_size=64, epochs=4,
                    validation_split=0.2, verbose=0)
assert sorted(history.history) == ["accuracy", "loss", "val_accuracy",
                                   "val_loss"]
assert len(history.history["loss"]) == 4
assert history.history["loss"][-1] < history.history["loss"][0]

test_scores = model.evaluate(x_test, y_test, verbose=0)
assert len(test_scores) == 2
assert test_scores[1] > 0.9, test_scores     # chance is 0.25

# The evaluated loss is the mean sparse cross-entropy of the logits.
logits = model.predict(x_test, verbose=0).astype("float64")
logp = logits - logits.max(axis=1, keepdims=True)
logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
ref_loss = -logp[np.arange(len(y_test)), y_test].mean()
np.testing.assert_allclose(test_scores[0], ref_loss, rtol=1e-4)
np.testing.assert_allclose(test_scores[1],
                           (logits.argmax(1) == y_test).mean(), rtol=1e-6)

path = os.path.join(tempfile.mkdtemp(), "my_model.keras")
model.save(path)
del model
# Recreate the exact same model purely from the file:
model = keras.models.load_model(path)
np.testing.assert_allclose(model.predict(x_test, verbose=0), logits,
                           rtol=1e-5, atol=1e-6)
# The optimizer state came back too: evaluating gives the same numbers.
np.testing.assert_allclose(model.evaluate(x_test, y_test, verbose=0),
                           test_scores, rtol=1e-5)
