"""Writing your own callbacks: every hook of `fit`/`evaluate`/`predict`
in order, logs in the hooks, early stopping at the minimum loss with
`model.stop_training` and the best weights restored, and a learning-rate
scheduler that sets `model.optimizer.learning_rate`.

Source: keras.io/guides/writing_your_own_callbacks. Changed: `keras` ->
`gkeras`; tiny synthetic regression data instead of MNIST; the callbacks
record what they see instead of printing it.
"""
import numpy as np

import gkeras as keras


def get_model():
    model = keras.Sequential()
    model.add(keras.layers.Dense(1))
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=0.1),
        loss="mean_squared_error",
        metrics=["mean_absolute_error"],
    )
    return model


rng = np.random.default_rng(0)
x_train = rng.random((64, 4)).astype("float32")
y_train = (x_train @ np.array([[1.0], [-2.0], [0.5], [3.0]])).astype("float32")
x_test, y_test = x_train[:16], y_train[:16]

calls = []


class CustomCallback(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        calls.append(("on_train_begin", sorted(logs or {})))

    def on_train_end(self, logs=None):
        calls.append(("on_train_end", sorted(logs)))

    def on_epoch_begin(self, epoch, logs=None):
        calls.append(("on_epoch_begin", epoch))

    def on_epoch_end(self, epoch, logs=None):
        calls.append(("on_epoch_end", epoch, sorted(logs)))

    def on_test_begin(self, logs=None):
        calls.append(("on_test_begin",))

    def on_test_end(self, logs=None):
        calls.append(("on_test_end", sorted(logs)))

    def on_predict_begin(self, logs=None):
        calls.append(("on_predict_begin",))

    def on_predict_end(self, logs=None):
        calls.append(("on_predict_end",))

    def on_train_batch_begin(self, batch, logs=None):
        calls.append(("on_train_batch_begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        calls.append(("on_train_batch_end", batch, sorted(logs)))

    def on_test_batch_begin(self, batch, logs=None):
        calls.append(("on_test_batch_begin", batch))

    def on_test_batch_end(self, batch, logs=None):
        calls.append(("on_test_batch_end", batch, sorted(logs)))

    def on_predict_batch_begin(self, batch, logs=None):
        calls.append(("on_predict_batch_begin", batch))

    def on_predict_batch_end(self, batch, logs=None):
        calls.append(("on_predict_batch_end", batch))


model = get_model()
model.fit(x_train, y_train, batch_size=32, epochs=1, verbose=0,
          callbacks=[CustomCallback()])
keys = ["loss", "mean_absolute_error"]
assert calls == [
    ("on_train_begin", []),
    ("on_epoch_begin", 0),
    ("on_train_batch_begin", 0), ("on_train_batch_end", 0, keys),
    ("on_train_batch_begin", 1), ("on_train_batch_end", 1, keys),
    ("on_epoch_end", 0, keys),
    ("on_train_end", keys),
], calls
calls.clear()
res = model.evaluate(x_test, y_test, batch_size=8, verbose=0,
                     callbacks=[CustomCallback()])
assert calls == [
    ("on_test_begin",),
    ("on_test_batch_begin", 0), ("on_test_batch_end", 0, keys),
    ("on_test_batch_begin", 1), ("on_test_batch_end", 1, keys),
    ("on_test_end", keys),
], calls
calls.clear()
res = model.predict(x_test, batch_size=8, verbose=0,
                    callbacks=[CustomCallback()])
assert calls == [
    ("on_predict_begin",),
    ("on_predict_batch_begin", 0), ("on_predict_batch_end", 0),
    ("on_predict_batch_begin", 1), ("on_predict_batch_end", 1),
    ("on_predict_end",),
], calls


class LossAndErrorPrintingCallback(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(("batch", batch, logs["loss"]))

    def on_test_batch_end(self, batch, logs=None):
        self.seen.append(("test_batch", batch, logs["loss"]))

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(("epoch", epoch, logs["loss"],
                          logs["mean_absolute_error"]))


model = get_model()
cb = LossAndErrorPrintingCallback()
history = model.fit(x_train, y_train, batch_size=64, epochs=3, verbose=0,
                    callbacks=[cb])
# One batch per epoch: the batch log and the epoch log carry the same loss,
# and the History callback recorded the same numbers.
assert [s[0] for s in cb.seen] == ["batch", "epoch"] * 3
for i in range(3):
    assert cb.seen[2 * i][2] == cb.seen[2 * i + 1][2] == \
        history.history["loss"][i]
assert isinstance(cb.seen[0][2], float)


class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
    """Stop training when the loss is at its min, i.e. the loss stops
    decreasing.

    Arguments:
        patience: Number of epochs to wait after min has been hit. After
        this number of no improvement, training stops.
    """

    def __init__(self, patience=0):
        super().__init__()
        self.patience = patience
        # best_weights to store the weights at which the minimum loss occurs.
        self.best_weights = None

    def on_train_begin(self, logs=None):
        # The number of epoch it has waited when loss is no longer minimum.
        self.wait = 0
        # The epoch the training stops at.
        self.stopped_epoch = 0
        # Initialize the best as infinity.
        self.best = np.inf

    def on_epoch_end(self, epoch, logs=None):
        current = logs.get("loss")
        if np.less(current, self.best):
            self.best = current
            self.wait = 0
            # Record the best weights if current results is better (less).
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0:
            self.stopped_at = self.stopped_epoch + 1


model = get_model()
# A learning rate far too large makes the loss blow up after a few epochs.
model.optimizer.learning_rate = 3.0
stopper = EarlyStoppingAtMinLoss(patience=1)
history = model.fit(x_train, y_train, batch_size=64, epochs=30, verbose=0,
                    callbacks=[stopper])
losses = history.history["loss"]
assert len(losses) < 30, losses
assert stopper.stopped_at == len(losses)
# The weights are those after the best epoch's update... which the loss
# logged for the following epoch measured (before its own update).
best = int(np.argmin(losses))
for a, b in zip(model.get_weights(), stopper.best_weights):
    np.testing.assert_array_equal(a, b)
assert stopper.best == losses[best]


LR_SCHEDULE = [
    # (epoch to start, learning rate) tuples
    (2, 0.05),
    (4, 0.01),
]


def lr_schedule(epoch, lr):
    """Helper function to retrieve the scheduled learning rate based on
    epoch."""
    if epoch < LR_SCHEDULE[0][0] or epoch > LR_SCHEDULE[-1][0]:
        return lr
    for i in range(len(LR_SCHEDULE)):
        if epoch == LR_SCHEDULE[i][0]:
            return LR_SCHEDULE[i][1]
    return lr


class CustomLearningRateScheduler(keras.callbacks.Callback):
    """Learning rate scheduler which sets the learning rate according to
    schedule."""

    def __init__(self, schedule):
        super().__init__()
        self.schedule = schedule
        self.used = []

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self.model.optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" '
                             'attribute.')
        # Get the current learning rate from model's optimizer.
        lr = self.model.optimizer.learning_rate
        # Call schedule function to get the scheduled learning rate.
        scheduled_lr = self.schedule(epoch, lr)
        # Set the value back to the optimizer before this epoch starts
        self.model.optimizer.learning_rate = scheduled_lr
        self.used.append(float(np.array(self.model.optimizer.learning_rate)))


model = get_model()
sched = CustomLearningRateScheduler(lr_schedule)
model.fit(x_train, y_train, batch_size=64, epochs=6, verbose=0,
          callbacks=[sched])
np.testing.assert_allclose(sched.used, [0.1, 0.1, 0.05, 0.05, 0.01, 0.01],
                           rtol=1e-6)
