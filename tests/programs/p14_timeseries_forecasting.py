"""Timeseries forecasting: windows cut by
`keras.utils.timeseries_dataset_from_array`, an LSTM regressor trained on
them with a validation set, predictions for the next value.

Source: keras.io/examples/timeseries/timeseries_weather_forecasting.
Changed: `keras` -> `gkeras`; a synthetic two-feature signal instead of
the Jena climate CSV, LSTM(32) -> LSTM(8), fewer epochs.

Keras reference: none (Keras's timeseries_dataset_from_array requires
TensorFlow).
"""
import numpy as np

import gkeras as keras

keras.utils.set_random_seed(11)
rng = np.random.default_rng(11)
steps = 400
t = np.arange(steps, dtype="float64")
temperature = np.sin(2 * np.pi * t / 24) + 0.1 * rng.normal(size=steps)
pressure = np.cos(2 * np.pi * t / 24) + 0.1 * rng.normal(size=steps)
features = np.stack([temperature, pressure], axis=1).astype("float32")

split_fraction = 0.75
train_split = int(split_fraction * steps)
mean = features[:train_split].mean(axis=0)
std = features[:train_split].std(axis=0)
features = (features - mean) / std

past = 12
future = 1
sequence_length = past
batch_size = 32
train_data = features[:train_split]
val_data = features[train_split:]

# Target: the temperature `future` steps after each window.
x_train = train_data[:-future]
y_train = train_data[past + future - 1:, :1]
dataset_train = keras.utils.timeseries_dataset_from_array(
    x_train, y_train, sequence_length=sequence_length, batch_size=batch_size)
x_val = val_data[:-future]
y_val = val_data[past + future - 1:, :1]
dataset_val = keras.utils.timeseries_dataset_from_array(
    x_val, y_val, sequence_length=sequence_length, batch_size=batch_size)

for batch in dataset_train:
    inputs, targets = batch
    break
inputs, targets = np.asarray(inputs), np.asarray(targets)
assert inputs.shape == (batch_size, sequence_length, 2)
assert targets.shape == (batch_size, 1)
# Window i is rows i..i+past-1, its target the row after it.
np.testing.assert_array_equal(inputs[3], x_train[3:3 + past])
np.testing.assert_array_equal(targets[3], train_data[3 + past, :1])

inputs = keras.layers.Input(shape=(inputs.shape[1], inputs.shape[2]))
lstm_out = keras.layers.LSTM(8)(inputs)
outputs = keras.layers.Dense(1)(lstm_out)
model = keras.Model(inputs=inputs, outputs=outputs)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
              loss="mse")
history = model.fit(dataset_train, epochs=5, validation_data=dataset_val,
                    verbose=0)
val_loss = history.history["val_loss"]
assert val_loss[-1] < val_loss[0], val_loss
# Better than predicting "same as the last step" on this periodic signal.
windows = np.stack([x_val[i:i + past] for i in range(len(x_val) - past + 1)])
pred = model.predict(windows, verbose=0)
truth = val_data[past:, :1]
naive = windows[:, -1, :1]
mse = np.mean((pred[:len(truth)] - truth) ** 2)
assert mse < np.mean((naive[:len(truth)] - truth) ** 2), mse
