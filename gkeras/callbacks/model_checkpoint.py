"""`ModelCheckpoint`: saves the model or its weights during training."""

import math
import os
import warnings

from gkeras.callbacks._monitor import monitor_direction, scalar
from gkeras.callbacks.callback import Callback
from gkeras.utils.progbar import print_msg


class ModelCheckpoint(Callback):
    """Saves the model (or its weights) at some frequency.

    Files are written to a temporary name and renamed into place, so a
    checkpoint on disk is always complete, even if training is killed
    while it saves.

    Args:
        filepath: where to save; may contain format fields filled from the
            epoch (1-based) and the logs, e.g.
            `"weights.{epoch:02d}-{val_loss:.2f}.keras"` (and `{batch}` when
            saving per batch). Must end in `.keras` or `.h5`, or in
            `.weights.h5` with `save_weights_only=True`.
        monitor: the log value to compare with `save_best_only`.
        verbose: 1 prints a line when saving.
        save_best_only: only save when `monitor` improved; the latest best
            model is then never overwritten by a worse one.
        save_weights_only: save only the weights (`model.save_weights`).
        mode: `"auto"`, `"min"` or `"max"`: the direction of improvement.
        save_freq: `"epoch"`, or an integer: save every that many batches.
        initial_value_threshold: the value `monitor` must beat for a first
            save with `save_best_only`.

    Example:

    ```python
    checkpoint = gkeras.callbacks.ModelCheckpoint(
        "best_model.h5", save_best_only=True, monitor="val_loss")
    model.fit(x, y, validation_split=0.2, callbacks=[checkpoint])
    ```
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0,
                 save_best_only=False, save_weights_only=False, mode="auto",
                 save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        self.monitor = monitor
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        self.best = initial_value_threshold
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"ModelCheckpoint mode '{mode}' is unknown, "
                          "fallback to auto mode.", stacklevel=2)
            mode = "auto"
        self.mode = mode
        self._sign = None
        if save_freq != "epoch" and not (isinstance(save_freq, int)
                                         and save_freq > 0):
            raise ValueError(
                f"Unrecognized save_freq: {save_freq}. Expected save_freq "
                "are 'epoch' or integer values")
        if save_weights_only:
            if not self.filepath.endswith(".weights.h5"):
                raise ValueError(
                    "When using `save_weights_only=True` in "
                    "`ModelCheckpoint`, the filepath provided must end in "
                    "`.weights.h5` (Keras weights format). Received: "
                    f"filepath={self.filepath}")
        elif not self.filepath.endswith((".keras", ".h5", ".hdf5")):
            raise ValueError(
                "The filepath provided must end in `.keras` (Keras model "
                "format) or `.h5` (legacy HDF5). Received: "
                f"filepath={self.filepath}")

    def _direction(self):
        if self._sign is None:
            self._sign = monitor_direction(self.model, self.monitor,
                                           self.mode)
            if self.best is None:
                self.best = math.inf if self._sign == "min" else -math.inf
        return self._sign

    def _improved(self, current):
        if self._direction() == "min":
            return current < self.best
        return current > self.best

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _should_save_on_batch(self, batch):
        if self.save_freq == "epoch":
            return False
        if batch <= self._last_batch_seen:  # a new epoch
            add = batch + 1
        else:
            add = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _write(self, filepath):
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)

    def _save_model(self, epoch, batch, logs):
        logs = dict(logs or {})
        filepath = self._get_file_path(epoch, batch, logs)
        if os.path.isdir(filepath):
            raise IOError(
                "Please specify a non-directory filepath for "
                "ModelCheckpoint. Filepath used is an existing directory: "
                f"{filepath}")
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if not self.save_best_only:
            if self.verbose > 0:
                print_msg(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            self._write(filepath)
            return
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} "
                          "available, skipping.", stacklevel=2)
            return
        current = scalar(current)
        self._direction()
        if self._improved(current):
            if self.verbose > 0:
                print_msg(f"\nEpoch {epoch + 1}: {self.monitor} improved "
                          f"from {self.best:.5f} to {current:.5f}, saving "
                          f"model to {filepath}")
            self.best = current
            self._write(filepath)
        elif self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: {self.monitor} did not improve "
                      f"from {self.best:.5f}")

    def _get_file_path(self, epoch, batch, logs):
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1,
                                        **logs)
        except (KeyError, IndexError, ValueError) as e:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}".'
                f" Reason: {e!r}. Available fields: epoch, "
                f"{'batch, ' if batch is not None else ''}"
                f"{', '.join(sorted(logs))}") from None
