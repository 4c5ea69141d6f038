"""The built-in callbacks as their API docs use them: `ModelCheckpoint`
with a formatted file name and `save_weights_only`, `EarlyStopping` with
`restore_best_weights`, `CSVLogger`, `BackupAndRestore` resuming an
interrupted `fit`, `TerminateOnNaN`, `LambdaCallback` and `History`.

Source: keras.io/api/callbacks/ (model_checkpoint, early_stopping,
csv_logger, backup_and_restore, terminate_on_nan, lambda_callback).
Changed: `keras` -> `gkeras`; small data; the interrupting callback of
the BackupAndRestore example raises a RuntimeError as there.
"""
import csv
import os
import tempfile

import numpy as np

import gkeras as keras

keras.utils.set_random_seed(30)
tmp = tempfile.mkdtemp()
rng = np.random.default_rng(30)
x = rng.random((64, 4)).astype("float32")
y = (x @ np.array([[1.0], [-1.0], [2.0], [0.5]])).astype("float32")


def get_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse",
                  metrics=["mae"])
    return model


# ModelCheckpoint: weights saved every epoch with the epoch and val_loss
# in the name.
model = get_model()
checkpoint_filepath = os.path.join(tmp, "ckpt",
                                   "{epoch:02d}-{val_loss:.2f}.weights.h5")
model_checkpoint_callback = keras.callbacks.ModelCheckpoint(
    filepath=checkpoint_filepath, monitor="val_loss", mode="min",
    save_weights_only=True)
h = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0,
              callbacks=[model_checkpoint_callback]).history
names = sorted(os.listdir(os.path.join(tmp, "ckpt")))
assert names == [f"{e + 1:02d}-{v:.2f}.weights.h5"
                 for e, v in enumerate(h["val_loss"])], names
# The last checkpoint holds the final weights.
fresh = get_model()
fresh.load_weights(os.path.join(tmp, "ckpt", names[-1]))
np.testing.assert_allclose(fresh.predict(x, verbose=0),
                           model.predict(x, verbose=0), rtol=1e-6)

# EarlyStopping: stops when the loss stops improving by min_delta, and
# restores the weights of the best epoch.
model = get_model()
best_weights = {}


def remember(epoch, logs):
    best_weights[epoch] = (logs["loss"], model.get_weights())


callback = keras.callbacks.EarlyStopping(monitor="loss", patience=2,
                                         min_delta=10.0,
                                         restore_best_weights=True)
history = model.fit(x, y, epochs=10, batch_size=64, verbose=0,
                    callbacks=[keras.callbacks.LambdaCallback(
                        on_epoch_end=remember), callback])
# No epoch improves on the first by 10: patience 2 stops after epoch 3.
assert len(history.history["loss"]) == 3, history.history
assert callback.stopped_epoch == 2
for a, b in zip(model.get_weights(), best_weights[0][1]):
    np.testing.assert_array_equal(a, b)

# CSVLogger: one row per epoch with the logs.
csv_path = os.path.join(tmp, "training.log")
model = get_model()
h = model.fit(x, y, epochs=2, verbose=0,
              callbacks=[keras.callbacks.CSVLogger(csv_path)]).history
with open(csv_path) as f:
    rows = list(csv.DictReader(f))
assert [int(r["epoch"]) for r in rows] == [0, 1]
np.testing.assert_allclose([float(r["loss"]) for r in rows], h["loss"],
                           rtol=1e-6)
# Without validation, Keras still writes `val_` columns, as "NA".
assert list(rows[0]) == ["epoch", "loss", "mae", "val_loss", "val_mae"]
assert rows[0]["val_loss"] == "NA"


# BackupAndRestore: an interrupted fit resumes at the epoch it reached.
class InterruptingCallback(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 4:
            raise RuntimeError("Interrupting!")


callback = keras.callbacks.BackupAndRestore(
    backup_dir=os.path.join(tmp, "backup"))
model = get_model()
try:
    model.fit(x, y, epochs=10, batch_size=16,
              callbacks=[callback, InterruptingCallback()], verbose=0)
except RuntimeError:
    pass
history = model.fit(x, y, epochs=10, batch_size=16, callbacks=[callback],
                    verbose=0)
assert len(history.history["loss"]) == 6

# TerminateOnNaN: a learning rate that overflows stops training.
model = get_model()
model.optimizer.learning_rate = 1e6
history = model.fit(x, y, epochs=20, batch_size=8, verbose=0,
                    callbacks=[keras.callbacks.TerminateOnNaN()])
assert len(history.history["loss"]) < 20
assert model.stop_training
