"""`BackupAndRestore`: resumes a training run that was interrupted."""

import json
import os
import shutil

from gkeras.callbacks.callback import Callback


class BackupAndRestore(Callback):
    """Backs up the training state so an interrupted `fit` can resume.

    At the end of every epoch (or every `save_freq` batches) the model's
    weights and its optimizer's variables are written to
    `backup_dir/latest.weights.h5`, and the number of completed epochs to
    `backup_dir/training_metadata.json`. With them go every random state a
    training step draws from (Python's, NumPy's and gkeras's global
    generators, each layer's `SeedGenerator`: Dropout, GaussianNoise,
    recurrent dropout, augmentation) and the seed that fixes each epoch's
    shuffling order. When `fit` starts again with the same callback (in a
    new process, after a crash or `SIGKILL`), it restores all of it and
    training continues where the backup was taken (with `save_freq=N`, in
    the middle of the epoch, skipping the batches already trained on):
    on the CPU the resumed run's weights equal those of an uninterrupted
    run bit for bit, with Dropout, noise and shuffling, whatever seed the
    new process set. (On the GPU the restored run is deterministic but
    CuPy's random streams are re-seeded, so not bit-identical. With
    `save_freq=N`, the metrics logged for the resumed epoch cover the
    batches run after the resume.)

    Both files are written to temporary names and renamed into place; the
    epoch count is also stored inside the weights file, so weights and
    epoch always agree even if the process dies between the two writes.

    Args:
        backup_dir: folder for the backup (created if needed). Use one
            folder per training run.
        save_freq: `"epoch"`, or an integer: back up every that many
            batches (the run then restarts the interrupted epoch from the
            state of the last backup).
        double_checkpoint: also keep the previous backup
            (`*.bkp`), used if the latest one cannot be read.
        delete_checkpoint: delete `backup_dir` when training finishes.

    Example:

    ```python
    callback = gkeras.callbacks.BackupAndRestore(backup_dir="/tmp/backup")
    model.fit(x, y, epochs=10, callbacks=[callback])
    ```
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and not (isinstance(save_freq, int)
                                         and save_freq > 0):
            raise ValueError(
                "Invalid value for argument `save_freq`. Received: "
                f"save_freq={save_freq}. Expected either 'epoch' or an "
                "integer value.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        self._step_in_epoch = 0
        self._weights_path = os.path.join(self.backup_dir,
                                          "latest.weights.h5")
        self._training_metadata_path = os.path.join(
            self.backup_dir, "training_metadata.json")
        self._prev_weights_path = self._weights_path + ".bkp"
        self._prev_training_metadata_path = \
            self._training_metadata_path + ".bkp"

    def on_train_begin(self, logs=None):
        try:
            self._load_model()
        except (OSError, ValueError):
            # The latest backup is unreadable: fall back to the previous.
            if not os.path.exists(self._prev_weights_path):
                raise
            shutil.copyfile(self._prev_weights_path, self._weights_path)
            if os.path.exists(self._prev_training_metadata_path):
                shutil.copyfile(self._prev_training_metadata_path,
                                self._training_metadata_path)
            elif os.path.exists(self._training_metadata_path):
                os.remove(self._training_metadata_path)
            self._load_model()

    def _load_model(self):
        if not self.model.built:
            raise ValueError(
                "To use the BackupAndRestore callback, your model must be "
                f"built before you call `fit()`. Model {self.model.name!r} "
                "is unbuilt. You can build it beforehand by calling it on a "
                "batch of data.")
        if not os.path.exists(self._weights_path):
            return
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and not optimizer.built:
            # Slots must exist before their saved values can be loaded.
            optimizer.build(self.model.trainable_weights)
        state = self._stored_state()
        self.model.load_weights(self._weights_path)
        epoch = self._stored_epoch()
        if epoch is not None:
            self._current_epoch = epoch
            self.model._initial_epoch = epoch
        if state is not None:
            from gkeras.callbacks import rng_state
            rng_state.restore(self.model, state["rng"])
            self.model._fit_seed = state["fit_seed"]
            self.model._initial_step = state["step_in_epoch"]
            self._batches_seen_since_last_saving = state["since_save"]
            self._last_batch_seen = state["step_in_epoch"] - 1

    def _stored_state(self):
        """The random states and position saved with the weights (None in
        a backup written by Keras or an older gkeras)."""
        from gkeras.saving.file_io import open_h5_for_reading
        with open_h5_for_reading(self._weights_path, "backup") as f:
            raw = f.attrs.get("training_state")
        if raw is None:
            return None
        return json.loads(raw.decode("utf8") if isinstance(raw, bytes)
                          else raw)

    def _stored_epoch(self):
        from gkeras.saving.file_io import open_h5_for_reading
        with open_h5_for_reading(self._weights_path, "backup") as f:
            meta = f.attrs.get("training_metadata")
        if meta is None and os.path.exists(self._training_metadata_path):
            with open(self._training_metadata_path) as f:
                meta = f.read()
        if meta is None:
            return None
        if isinstance(meta, bytes):
            meta = meta.decode("utf8")
        return int(json.loads(meta)["epoch"])

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch
        resumed = epoch == getattr(self.model, "_initial_epoch", None)
        self._step_in_epoch = getattr(self.model, "_initial_step", 0) \
            if resumed else 0

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        self._step_in_epoch = 0
        if self.save_freq == "epoch":
            self._save_model()

    def on_train_batch_end(self, batch, logs=None):
        self._step_in_epoch = batch + 1
        if self._should_save_on_batch(batch):
            self._save_model()

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

    def _save_model(self):
        from gkeras.saving import weights_h5
        from gkeras.saving.file_io import atomic_path, h5py_module
        if not _is_chief():
            return  # distributed: every rank restores, rank 0 alone writes
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for src, dst in ((self._weights_path, self._prev_weights_path),
                             (self._training_metadata_path,
                              self._prev_training_metadata_path)):
                if os.path.exists(src):
                    with atomic_path(dst) as tmp:
                        shutil.copyfile(src, tmp)
        meta = json.dumps({"epoch": self._current_epoch,
                           "batch": self._last_batch_seen})
        from gkeras.callbacks import rng_state
        state = json.dumps({
            "rng": rng_state.capture(self.model),
            "fit_seed": getattr(self.model, "_fit_seed", None),
            "step_in_epoch": getattr(self, "_step_in_epoch", 0),
            "since_save": self._batches_seen_since_last_saving})
        h5py = h5py_module()
        with atomic_path(self._weights_path) as tmp:
            with h5py.File(tmp, "w") as f:
                weights_h5.write(self.model, f)
                f.attrs["training_metadata"] = meta
                f.attrs["training_state"] = state
        with atomic_path(self._training_metadata_path) as tmp:
            with open(tmp, "w") as f:
                f.write(meta)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and _is_chief() and \
                os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)


def _is_chief():
    """False on the non-zero ranks of a `gkeras.distribution` job."""
    from gkeras.models.model import _is_chief as chief
    return chief()
