"""Training & evaluation with the built-in methods: custom loss functions
and a `Loss` subclass, a `Metric` subclass with state variables, class
weights and sample weights, `validation_data`, `evaluate` numbers.

Source: keras.io/guides/training_with_built_in_methods. Changed: `keras`
-> `gkeras`; 8x8 synthetic digits (4 classes) instead of MNIST.
"""
import numpy as np

import gkeras as keras
from gkeras import layers, ops

keras.utils.set_random_seed(8)
rng = np.random.default_rng(8)
y_train = rng.integers(0, 4, 256)
x_train = rng.random((256, 8, 8)).astype("float32") * 0.5
for i, c in enumerate(y_train):
    x_train[i, 2 * c:2 * c + 2] += 1.0
x_train = x_train.reshape(-1, 64)
x_val, y_val = x_train[-64:], y_train[-64:]
x_train, y_train = x_train[:-64], y_train[:-64]


def get_uncompiled_model():
    inputs = keras.Input(shape=(64,), name="digits")
    x = layers.Dense(32, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(32, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(4, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    return model


def get_compiled_model():
    model = get_uncompiled_model()
    model.compile(
        optimizer="rmsprop",
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    return model


model = get_compiled_model()
history = model.fit(x_train, y_train, batch_size=32, epochs=4,
                    validation_data=(x_val, y_val), verbose=0)
assert sorted(history.history) == [
    "loss", "sparse_categorical_accuracy", "val_loss",
    "val_sparse_categorical_accuracy"]
results = model.evaluate(x_val, y_val, batch_size=32, verbose=0)
assert results[1] > 0.6, results   # chance: 0.25
predictions = model.predict(x_val[:3], verbose=0)
assert predictions.shape == (3, 4)
np.testing.assert_allclose(predictions.sum(1), 1.0, rtol=1e-5)


def custom_mean_squared_error(y_true, y_pred):
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


model = get_uncompiled_model()
model.compile(optimizer=keras.optimizers.Adam(), loss=custom_mean_squared_error)
# We need to one-hot encode the labels to use MSE
y_train_one_hot = ops.one_hot(y_train, num_classes=4)
model.fit(x_train, y_train_one_hot, batch_size=64, epochs=1, verbose=0)
p = model.predict(x_val, verbose=0).astype("float64")
oh_val = np.eye(4)[y_val]
np.testing.assert_allclose(
    model.evaluate(x_val, ops.one_hot(y_val, num_classes=4), verbose=0,
                   batch_size=64),
    np.mean((oh_val - p) ** 2), rtol=1e-5)


class CustomMSE(keras.losses.Loss):
    def __init__(self, regularization_factor=0.1, name="custom_mse"):
        super().__init__(name=name)
        self.regularization_factor = regularization_factor

    def call(self, y_true, y_pred):
        mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
        reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
        return mse + reg * self.regularization_factor

    def get_config(self):
        return {"regularization_factor": self.regularization_factor,
                "name": self.name}


model = get_uncompiled_model()
model.compile(optimizer=keras.optimizers.Adam(), loss=CustomMSE())
model.fit(x_train, y_train_one_hot, batch_size=64, epochs=1, verbose=0)
p = model.predict(x_val, verbose=0).astype("float64")
np.testing.assert_allclose(
    model.evaluate(x_val, oh_val, verbose=0, batch_size=64),
    np.mean(np.mean((oh_val - p) ** 2, -1) + 0.1 * np.mean((0.5 - p) ** 2, -1)),
    rtol=1e-5)
assert CustomMSE.from_config(CustomMSE(0.3).get_config()) \
    .regularization_factor == 0.3


class CategoricalTruePositives(keras.metrics.Metric):
    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(
            shape=(), name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
        values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
        values = ops.cast(values, "float32")
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, "float32")
            values = ops.multiply(values, sample_weight)
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives

    def reset_state(self):
        # The state of the metric will be reset at the start of each epoch.
        self.true_positives.assign(0.0)


model = get_uncompiled_model()
model.compile(
    optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
    loss=keras.losses.SparseCategoricalCrossentropy(),
    metrics=[CategoricalTruePositives()],
)
history = model.fit(x_train, y_train, batch_size=64, epochs=3, verbose=0)
assert "categorical_true_positives" in history.history
p = model.predict(x_val, verbose=0)
logs = model.evaluate(x_val, y_val.reshape(-1, 1), batch_size=16, verbose=0,
                      return_dict=True)
# Summed over the 4 batches of evaluate (reset at its start only).
assert logs["categorical_true_positives"] == np.sum(p.argmax(1) == y_val)

# Class weights and sample weights. With a zero learning rate the weights
# stay put, so the epoch's logged loss is the weighted loss of the initial
# model, computed here in NumPy.
class_weight = {0: 1.0, 1: 1.0, 2: 2.0, 3: 0.5}
model = get_uncompiled_model()
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0),
              loss="sparse_categorical_crossentropy")
p0 = model.predict(x_train, verbose=0).astype("float64")
ce = -np.log(np.clip(p0[np.arange(len(y_train)), y_train], 1e-7, 1 - 1e-7))
w = np.array([class_weight[c] for c in y_train])
h = model.fit(x_train, y_train, class_weight=class_weight,
              batch_size=len(x_train), epochs=1, verbose=0).history
np.testing.assert_allclose(h["loss"][0], np.sum(ce * w) / len(ce), rtol=1e-5)

sample_weight = np.ones(shape=(len(y_train),))
sample_weight[y_train == 2] = 2.0
h = model.fit(x_train, y_train, sample_weight=sample_weight,
              batch_size=len(x_train), epochs=1, verbose=0).history
np.testing.assert_allclose(h["loss"][0],
                           np.sum(ce * sample_weight) / len(ce), rtol=1e-5)
