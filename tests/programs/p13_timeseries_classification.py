"""Timeseries classification from scratch: a fully convolutional network
(Conv1D + BatchNormalization + ReLU, global average pooling) with
`ModelCheckpoint`, `ReduceLROnPlateau` and `EarlyStopping`, the best
model reloaded from its checkpoint.

Source: keras.io/examples/timeseries/timeseries_classification_from_scratch.
Changed: `keras` -> `gkeras`; synthetic sine-vs-square series instead of
FordA, 64 filters -> 8, 500 epochs -> 6 (so BatchNormalization momentum
0.8: its moving statistics must settle within 24 steps).
"""
import os
import tempfile

import numpy as np

import gkeras as keras

keras.utils.set_random_seed(5)
rng = np.random.default_rng(5)
n, length = 160, 50
t = np.linspace(0, 4 * np.pi, length)
y = rng.integers(0, 2, n)
phase = rng.random((n, 1)) * 2 * np.pi
x = np.where(y[:, None] == 0, np.sin(t + phase), np.sign(np.sin(t + phase)))
x = (x + 0.3 * rng.normal(size=x.shape)).astype("float32")
x = x.reshape((x.shape[0], x.shape[1], 1))
x_train, y_train, x_test, y_test = x[:128], y[:128], x[128:], y[128:]
num_classes = len(np.unique(y_train))
idx = np.random.permutation(len(x_train))
x_train = x_train[idx]
y_train = y_train[idx]


def make_model(input_shape):
    input_layer = keras.layers.Input(input_shape)

    conv1 = keras.layers.Conv1D(filters=8, kernel_size=3,
                                padding="same")(input_layer)
    conv1 = keras.layers.BatchNormalization(momentum=0.8)(conv1)
    conv1 = keras.layers.ReLU()(conv1)

    conv2 = keras.layers.Conv1D(filters=8, kernel_size=3,
                                padding="same")(conv1)
    conv2 = keras.layers.BatchNormalization(momentum=0.8)(conv2)
    conv2 = keras.layers.ReLU()(conv2)

    gap = keras.layers.GlobalAveragePooling1D()(conv2)
    output_layer = keras.layers.Dense(num_classes, activation="softmax")(gap)
    return keras.models.Model(inputs=input_layer, outputs=output_layer)


model = make_model(input_shape=x_train.shape[1:])
assert tuple(model.output_shape) == (None, 2)

epochs = 6
batch_size = 32
path = os.path.join(tempfile.mkdtemp(), "best_model.keras")
callbacks = [
    keras.callbacks.ModelCheckpoint(path, save_best_only=True,
                                    monitor="val_loss"),
    keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5,
                                      patience=20, min_lr=0.0001),
    keras.callbacks.EarlyStopping(monitor="val_loss", patience=50,
                                  verbose=0),
]
model.compile(
    optimizer=keras.optimizers.Adam(0.01),
    loss="sparse_categorical_crossentropy",
    metrics=["sparse_categorical_accuracy"],
)
history = model.fit(
    x_train, y_train, batch_size=batch_size, epochs=epochs,
    callbacks=callbacks, validation_split=0.2, verbose=0,
)
h = history.history
assert sorted(h) == ["learning_rate", "loss", "sparse_categorical_accuracy",
                     "val_loss", "val_sparse_categorical_accuracy"], sorted(h)
assert h["loss"][-1] < h["loss"][0]

model = keras.models.load_model(path)
test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
assert h["sparse_categorical_accuracy"][-1] > 0.7, h
# The checkpoint holds the epoch with the lowest validation loss: its
# validation loss, recomputed from the reloaded model, is the minimum.
x_val, y_val = x_train[int(len(x_train) * 0.8):], y_train[int(len(x_train) * 0.8):]
val_loss = model.evaluate(x_val, y_val, verbose=0)[0]
np.testing.assert_allclose(val_loss, min(h["val_loss"]), rtol=1e-4)
