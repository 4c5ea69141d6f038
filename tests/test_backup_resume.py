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


_SCRIPT = """
import os, signal, sys
import numpy as np
import gkeras
from gkeras import callbacks, layers
work, seed, kill_epoch, kill_batch = sys.argv[1], int(sys.argv[2]), \\
    int(sys.argv[3]), int(sys.argv[4])
gkeras.utils.set_random_seed(seed)
rng = np.random.default_rng(0)
x = rng.normal(size=(80, 5)).astype("float32")
y = np.tanh(x @ rng.normal(size=(5, 2))).astype("float32")
model = gkeras.Sequential([
    gkeras.Input((5,)), layers.GaussianNoise(0.2),
    layers.Dense(12, activation="relu"), layers.Dropout(0.3),
    layers.Dense(2)])
model.compile(optimizer=gkeras.optimizers.Adam(0.01), loss="mse")


class Kill(callbacks.Callback):
    epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == (kill_epoch, kill_batch):
            os.kill(os.getpid(), signal.SIGKILL)


model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[
    callbacks.BackupAndRestore(os.path.join(work, "backup"), save_freq=4),
    Kill()])
np.savez(os.path.join(work, "final.npz"),
         *[w.numpy() for w in model.weights + model.optimizer.variables])
"""


def test_sigkill_then_resume_in_new_process_is_bit_identical(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    script = tmp_path / "train.py"
    script.write_text(_SCRIPT)
    env = {**os.environ, "GKERAS_BACKEND": "numpy", "PYTHONPATH":
           os.path.dirname(os.path.dirname(gkeras.__file__))}

    def run(work, seed, kill=(-1, -1)):
        work.mkdir(exist_ok=True)
        return subprocess.run(
            [sys.executable, str(script), str(work), str(seed),
             str(kill[0]), str(kill[1])], capture_output=True, text=True,
            timeout=300, env=env)
    done = run(tmp_path / "a", 11)
    assert done.returncode == 0, done.stderr
    killed = run(tmp_path / "b", 11, kill=(2, 5))
    assert killed.returncode == -signal.SIGKILL
    resumed = run(tmp_path / "b", 12345)  # another seed: state from backup
    assert resumed.returncode == 0, resumed.stderr
    a = np.load(tmp_path / "a" / "final.npz")
    b = np.load(tmp_path / "b" / "final.npz")
    assert len(a.files) == len(b.files) > 0
    for k in a.files:
        np.testing.assert_array_equal(a[k], b[k])
