"""BackupAndRestore resumes bit for bit (CPU): a run interrupted and
resumed in a fresh model (even under another global seed) ends with the
same weights and optimizer state as an uninterrupted run, with Dropout,
GaussianNoise and shuffling, for `save_freq="epoch"` and `save_freq=N`."""

import numpy as np
import pytest

import gkeras
from gkeras import callbacks, layers

pytest.importorskip("h5py")


class _Crash(callbacks.Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt("simulated crash")


def _data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(72, 6)).astype("float32")
    y = (x @ rng.normal(size=(6, 3))).astype("float32")
    return x, y


def _fresh(seed):
    gkeras.backend.clear_session()
    gkeras.utils.set_random_seed(seed)
    model = gkeras.Sequential([
        gkeras.Input((6,)), layers.GaussianNoise(0.3),
        layers.Dense(16, activation="relu"), layers.Dropout(0.4),
        layers.Dense(3)])
    model.compile(optimizer=gkeras.optimizers.Adam(0.01), loss="mse")
    return model


def _state(model):
    return [v.numpy() for v in model.weights + model.optimizer.variables]


@pytest.mark.parametrize("save_freq,crash", [
    ("epoch", (2, 3)), (4, (2, 6)), (5, (1, 2))])
def test_resume_is_bit_identical_with_random_layers(tmp_path, save_freq,
                                                    crash):
    x, y = _data()
    ref = _fresh(21)
    ref.fit(x, y, epochs=4, batch_size=8, verbose=0)
    backup = str(tmp_path / "backup")
    model = _fresh(21)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[
            callbacks.BackupAndRestore(backup, save_freq=save_freq),
            _Crash(*crash)])
    # The new process may seed differently: the backup holds every state.
    model = _fresh(999)
    model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[
        callbacks.BackupAndRestore(backup, save_freq=save_freq)])
    for a, b in zip(_state(ref), _state(model)):
        np.testing.assert_array_equal(a, b)
    assert int(model.optimizer.iterations.numpy()) == 4 * 9


def test_mid_epoch_resume_skips_trained_batches(tmp_path):
    x, y = _data()
    backup = str(tmp_path / "backup")
    model = _fresh(5)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[
            callbacks.BackupAndRestore(backup, save_freq=3), _Crash(1, 7)])
    model = _fresh(5)
    seen = []
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[
        callbacks.BackupAndRestore(backup, save_freq=3),
        callbacks.LambdaCallback(
            on_train_batch_begin=lambda b, l: seen.append(b))])
    # Backup after batch 5 of epoch 1: batches 6-8, then epoch 2.
    assert seen == [6, 7, 8] + list(range(9))
