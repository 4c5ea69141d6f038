"""`LearningRateScheduler`: sets the learning rate at each epoch."""

import numpy as np

from gkeras.callbacks.callback import Callback
from gkeras.utils.progbar import print_msg


def _current_lr(model):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError('Optimizer must have a "learning_rate" attribute.')
    lr = optimizer.learning_rate
    return float(np.asarray(lr.numpy() if hasattr(lr, "numpy") else lr))


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate at the start of each epoch.

    Args:
        schedule: a function `schedule(epoch, lr) -> new_lr` (epoch is
            0-based, `lr` the current rate), or `schedule(epoch) -> new_lr`.
        verbose: 1 prints the rate it sets.

    Example:

    ```python
    scheduler = gkeras.callbacks.LearningRateScheduler(
        lambda epoch: 0.001 * 0.1 ** (epoch // 30))
    model.fit(x, y, epochs=100, callbacks=[scheduler])
    ```
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise ValueError("LearningRateScheduler: `schedule` must be a "
                             f"function of the epoch. Received: {schedule!r}")
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = _current_lr(self.model)
        try:
            learning_rate = self.schedule(epoch, lr)
        except TypeError:  # the one-argument form `schedule(epoch)`
            learning_rate = self.schedule(epoch)
        if isinstance(learning_rate, np.ndarray) and learning_rate.ndim == 0:
            learning_rate = learning_rate.item()
        if isinstance(learning_rate, (int, np.integer)) and not isinstance(
                learning_rate, bool):
            learning_rate = float(learning_rate)
        if not isinstance(learning_rate, (float, np.floating)):
            raise ValueError("The output of the `schedule` function should "
                             f"be a float. Got: {learning_rate}")
        self.model.optimizer.learning_rate = float(learning_rate)
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: LearningRateScheduler setting "
                      f"learning rate to {learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _current_lr(self.model)
