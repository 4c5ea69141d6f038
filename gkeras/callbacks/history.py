"""`History`: records the logs of every epoch (returned by `fit`)."""

from gkeras.callbacks.callback import Callback


class History(Callback):
    """Records events into a `History` object.

    `fit` returns it; `history.history` maps each metric name (`loss`,
    `accuracy`, `val_loss`, ...) to its value at each epoch, and
    `history.epoch` lists the epochs.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)
        self.model.history = self
