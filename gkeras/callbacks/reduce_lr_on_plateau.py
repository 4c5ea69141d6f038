"""`ReduceLROnPlateau`: lowers the learning rate when a metric stalls."""

import warnings

import numpy as np

from gkeras.callbacks._monitor import scalar
from gkeras.callbacks.callback import Callback
from gkeras.callbacks.learning_rate_scheduler import _current_lr
from gkeras.utils.progbar import print_msg


class ReduceLROnPlateau(Callback):
    """Reduces the learning rate when a metric has stopped improving.

    After `patience` epochs without improvement the rate is multiplied by
    `factor` (not below `min_lr`), then the callback waits `cooldown`
    epochs before watching again.

    Args:
        monitor: quantity to monitor (default `"val_loss"`).
        factor: multiplier of the rate, `new_lr = lr * factor` (< 1).
        patience: epochs without improvement before reducing.
        verbose: 1 prints a line when the rate is reduced.
        mode: `"auto"`, `"min"` or `"max"` (auto: max when the name holds
            "acc", min otherwise).
        min_delta: smallest change that counts as an improvement.
        cooldown: epochs to wait after a reduction.
        min_lr: lower bound of the rate.
        **kwargs: `epsilon`, the Keras-2 name of `min_delta`.

    Example:

    ```python
    reduce_lr = gkeras.callbacks.ReduceLROnPlateau(
        monitor="val_loss", factor=0.2, patience=5, min_lr=0.001)
    model.fit(x, y, validation_split=0.2, callbacks=[reduce_lr])
    ```
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10,
                 verbose=0, mode="auto", min_delta=1e-4, cooldown=0,
                 min_lr=0.0, **kwargs):
        super().__init__()
        if "epsilon" in kwargs:
            min_delta = kwargs.pop("epsilon")
            warnings.warn("`epsilon` argument is deprecated and will be "
                          "removed, use `min_delta` instead.", stacklevel=2)
        if kwargs:
            raise TypeError("ReduceLROnPlateau got unexpected keyword "
                            f"arguments {sorted(kwargs)}.")
        self.monitor = monitor
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor "
                             f">= 1.0. Received factor={factor}")
        self.factor = factor
        self.min_lr = min_lr
        self.min_delta = min_delta
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0
        self.best = 0
        self.mode = mode
        self._reset()

    def _reset(self):
        if self.mode not in ("auto", "min", "max"):
            warnings.warn(f"Learning rate reduction mode {self.mode} is "
                          "unknown, fallback to auto mode.", stacklevel=2)
            self.mode = "auto"
        if self.mode == "min" or (self.mode == "auto" and
                                  "acc" not in self.monitor):
            self._better = lambda a, b: a < b - self.min_delta
            self.best = np.inf
        else:
            self._better = lambda a, b: a > b + self.min_delta
            self.best = -np.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self):
        """Whether the callback is waiting after a reduction."""
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _current_lr(self.model)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                "Learning rate reduction is conditioned on metric "
                f"`{self.monitor}` which is not available. Available metrics "
                f"are: {','.join(list(logs.keys()))}.", stacklevel=2)
            return
        current = scalar(current)
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._better(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = _current_lr(self.model)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print_msg(f"\nEpoch {epoch + 1}: ReduceLROnPlateau "
                                  f"reducing learning rate to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
