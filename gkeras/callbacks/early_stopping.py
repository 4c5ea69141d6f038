"""`EarlyStopping`: stops training when a monitored metric stops
improving."""

import warnings

from gkeras.callbacks._monitor import monitor_direction, scalar
from gkeras.callbacks.callback import Callback
from gkeras.utils.progbar import print_msg


class EarlyStopping(Callback):
    """Stops training when a monitored metric has stopped improving.

    Each epoch, the monitored value is compared with the best so far; after
    `patience` epochs without an improvement larger than `min_delta`,
    `model.stop_training` is set.

    Args:
        monitor: quantity to monitor (default `"val_loss"`).
        min_delta: smallest change that counts as an improvement.
        patience: epochs without improvement before stopping.
        verbose: 1 prints a message when the callback acts.
        mode: `"min"`, `"max"` or `"auto"` (from the metric: losses go
            down, accuracies up).
        baseline: the value to reach; training stops if the model shows no
            improvement over it within `patience` epochs.
        restore_best_weights: at the end, restore the weights of the best
            epoch (of the last epoch when False).
        start_from_epoch: epochs to wait before starting to monitor.

    Example:

    ```python
    callback = gkeras.callbacks.EarlyStopping(monitor="loss", patience=3)
    history = model.fit(x, y, epochs=10, callbacks=[callback], verbose=0)
    ```
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0,
                 verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor = monitor
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(min_delta)
        self.wait = 0
        self.stopped_epoch = 0
        self.restore_best_weights = restore_best_weights
        self.best_weights = None
        self.start_from_epoch = start_from_epoch
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"EarlyStopping mode {mode} is unknown, fallback "
                          "to auto mode.", stacklevel=2)
            mode = "auto"
        self.mode = mode
        self._sign = None
        self.best = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        if self._sign == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def on_epoch_end(self, epoch, logs=None):
        if self._sign is None:
            self._sign = monitor_direction(self.model, self.monitor,
                                           self.mode)
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # The first monitored epoch is the best one so far.
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(
                    current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print_msg("Restoring model weights from the end of the best "
                          f"epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        """The monitored value from `logs` (a warning when absent)."""
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` "
                "which is not available. Available metrics are: "
                f"{','.join(list(logs.keys()))}", stacklevel=2)
            return None
        return scalar(value)
