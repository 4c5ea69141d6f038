"""Training callbacks: EarlyStopping, ModelCheckpoint, LearningRateScheduler,
ReduceLROnPlateau, CSVLogger, TensorBoard (event files read back with an
independent decoder), BackupAndRestore (incl. a SIGKILLed subprocess),
RemoteMonitor."""

import csv
import http.server
import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import threading
import urllib.parse

import numpy as np
import pytest

import gkeras
from gkeras import callbacks, layers

pytest.importorskip("h5py")


def _model(lr=0.05, optimizer=None):
    model = gkeras.Sequential([gkeras.Input((4,)),
                               layers.Dense(8, activation="tanh"),
                               layers.Dense(1)])
    model.compile(optimizer=optimizer or gkeras.optimizers.SGD(lr),
                  loss="mse", metrics=["mae"])
    return model


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [0.0]], "float32")).astype(
        "float32")
    return x, y


class _Script(callbacks.Callback):
    """Feeds the callbacks under test a scripted sequence of epoch logs."""


class _FakeModel:
    def __init__(self):
        self.stop_training = False
        self.metrics = []
        self.w = 0
        self.optimizer = gkeras.optimizers.SGD(0.1)

    def get_weights(self):
        return [self.w]

    def set_weights(self, w):
        self.w = w[0]


def _drive(cb, values, key="val_loss"):
    """Runs `cb` over epochs whose `key` takes `values`; returns the epoch
    at which `stop_training` was set (or None) and the fake model."""
    model = _FakeModel()
    cb.set_model(model)
    cb.on_train_begin()
    stopped = None
    for epoch, v in enumerate(values):
        model.w = epoch
        cb.on_epoch_end(epoch, {key: v})
        if model.stop_training:
            stopped = epoch
            break
    cb.on_train_end()
    return stopped, model


# -- EarlyStopping -------------------------------------------------------------

def test_early_stopping_patience_min_delta_and_restore(capsys):
    es = callbacks.EarlyStopping(patience=2, min_delta=0.1, verbose=1,
                                 restore_best_weights=True)
    # 0.95 is not better than 1.0 by more than min_delta.
    stopped, model = _drive(es, [1.0, 0.5, 0.45, 0.44, 0.3])
    assert stopped == 3 and es.best_epoch == 1
    assert model.w == 1  # weights of the best epoch restored
    out = capsys.readouterr().out
    assert "Epoch 4: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 2." in out


def test_early_stopping_mode_baseline_start_epoch():
    stopped, _ = _drive(callbacks.EarlyStopping(monitor="val_accuracy",
                                                patience=1),
                        [0.5, 0.6, 0.55, 0.4], key="val_accuracy")
    assert stopped == 2  # auto mode maximises accuracy
    stopped, _ = _drive(callbacks.EarlyStopping(patience=2, baseline=0.1),
                        [0.9, 0.95, 0.97])
    assert stopped == 1  # never beat the baseline within patience
    stopped, _ = _drive(callbacks.EarlyStopping(patience=0,
                                                start_from_epoch=2),
                        [1.0, 2.0, 3.0, 2.5, 4.0])
    assert stopped == 4  # epochs 0-1 ignored; would stop at 1 otherwise
    with pytest.raises(ValueError, match="mode='max'"):
        _drive(callbacks.EarlyStopping(monitor="weird"), [1.0], key="weird")
    with pytest.warns(UserWarning, match="not available"):
        _drive(callbacks.EarlyStopping(), [1.0], key="loss")


def test_early_stopping_in_fit():
    model = _model(lr=0.0)  # no progress at all: stop after patience
    x, y = _data()
    hist = model.fit(x, y, epochs=10, batch_size=16, verbose=0,
                     callbacks=[callbacks.EarlyStopping(monitor="loss",
                                                        patience=2)])
    assert len(hist.history["loss"]) == 3


# -- ModelCheckpoint -----------------------------------------------------------

def test_model_checkpoint_format_fields_and_best_only(tmp_path, capsys):
    model = _model()
    x, y = _data()
    path = str(tmp_path / "ck-{epoch:02d}-{val_loss:.2f}.keras")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0,
              validation_split=0.25,
              callbacks=[callbacks.ModelCheckpoint(path)])
    names = sorted(os.listdir(tmp_path))
    assert [n[:6] for n in names] == ["ck-01-", "ck-02-"]
    assert all(n.endswith(".keras") for n in names)
    loaded = gkeras.models.load_model(tmp_path / names[-1])
    np.testing.assert_array_equal(loaded.predict(x, verbose=0),
                                  model.predict(x, verbose=0))
    # save_best_only: scripted values, Keras's messages.
    best = tmp_path / "best.weights.h5"
    ck = callbacks.ModelCheckpoint(str(best), save_best_only=True,
                                   save_weights_only=True, verbose=1,
                                   initial_value_threshold=0.8)
    ck.set_model(model)
    ck.on_epoch_end(0, {"val_loss": 0.9})
    assert not best.exists()
    ck.on_epoch_end(1, {"val_loss": 0.5})
    stamp = best.stat().st_mtime_ns
    ck.on_epoch_end(2, {"val_loss": 0.7})
    assert best.stat().st_mtime_ns == stamp
    out = capsys.readouterr().out
    assert "Epoch 1: val_loss did not improve from 0.80000" in out
    assert ("Epoch 2: val_loss improved from 0.80000 to 0.50000, saving "
            f"model to {best}") in out


def test_model_checkpoint_save_freq_batches_and_errors(tmp_path):
    model = _model()
    x, y = _data()
    path = str(tmp_path / "b{epoch}-{batch}.weights.h5")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False,
              callbacks=[callbacks.ModelCheckpoint(
                  path, save_weights_only=True, save_freq=2)])
    assert sorted(os.listdir(tmp_path)) == ["b1-2.weights.h5",
                                            "b1-4.weights.h5"]
    with pytest.raises(ValueError, match=".weights.h5"):
        callbacks.ModelCheckpoint("x.keras", save_weights_only=True)
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.ModelCheckpoint("x.keras", save_freq="often")
    ck = callbacks.ModelCheckpoint(str(tmp_path / "{nope}.keras"))
    ck.set_model(model)
    with pytest.raises(KeyError, match="nope"):
        ck.on_epoch_end(0, {"loss": 1.0})


# -- learning rate callbacks -------------------------------------------------------

def test_learning_rate_scheduler_both_signatures(capsys):
    x, y = _data()
    seen = []
    for schedule in (lambda epoch: 0.1 * 0.5 ** epoch,
                     lambda epoch, lr: 0.1 if epoch == 0 else lr * 0.5):
        model = _model()
        probe = callbacks.LambdaCallback(
            on_epoch_begin=lambda e, logs, m=model: seen.append(
                float(m.optimizer.learning_rate.numpy())))
        hist = model.fit(x, y, epochs=3, batch_size=32, verbose=0,
                         callbacks=[callbacks.LearningRateScheduler(
                             schedule, verbose=1), probe])
        np.testing.assert_allclose(hist.history["learning_rate"],
                                   [0.1, 0.05, 0.025], rtol=1e-6)
    np.testing.assert_allclose(seen, [0.1, 0.05, 0.025] * 2, rtol=1e-6)
    assert ("Epoch 2: LearningRateScheduler setting learning rate to 0.05."
            in capsys.readouterr().out)
    with pytest.raises(ValueError, match="float"):
        model = _model()
        model.fit(x, y, epochs=1, verbose=0, callbacks=[
            callbacks.LearningRateScheduler(lambda e: "fast")])


def test_reduce_lr_on_plateau(capsys):
    cb = callbacks.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1,
                                     min_lr=0.02, verbose=1)
    model = _FakeModel()
    cb.set_model(model)
    cb.on_train_begin()
    lrs = []
    for epoch, v in enumerate([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5]):
        logs = {"val_loss": v}
        cb.on_epoch_end(epoch, logs)
        lrs.append(round(float(model.optimizer.learning_rate.numpy()), 6))
        assert "learning_rate" in logs
    # patience 2 -> epoch 2 halves; the one cooldown epoch (3) still counts
    # towards the next wait, as in Keras -> epoch 4 halves; epoch 6 hits
    # the 0.02 floor; epoch 7 improves.
    assert lrs == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02]
    assert "Epoch 3: ReduceLROnPlateau reducing learning rate to 0.05" in \
        capsys.readouterr().out
    with pytest.raises(ValueError, match="factor"):
        callbacks.ReduceLROnPlateau(factor=1.5)


# -- CSVLogger -----------------------------------------------------------------

def test_csv_logger_rows_and_append(tmp_path):
    path = tmp_path / "log.csv"
    model = _model()
    x, y = _data()
    hist = model.fit(x, y, epochs=2, batch_size=16, verbose=0,
                     callbacks=[callbacks.CSVLogger(path)])
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert [r["epoch"] for r in rows] == ["0", "1"]
    np.testing.assert_allclose([float(r["loss"]) for r in rows],
                               hist.history["loss"], rtol=1e-6)
    assert rows[0]["val_loss"] == "NA"
    model.fit(x, y, epochs=1, batch_size=16, verbose=0,
              callbacks=[callbacks.CSVLogger(path, separator=";",
                                             append=True)])
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and lines[-1].startswith("0;")


# -- TensorBoard ---------------------------------------------------------------

def _crc32c(data):
    # Bitwise reference, independent of the table-driven writer.
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def _unmask(m):
    rot = (m - 0xA282EAD8) & 0xFFFFFFFF
    return ((rot << 15) | (rot >> 17)) & 0xFFFFFFFF


def _records(path):
    data = open(path, "rb").read()
    out, i = [], 0
    while i < len(data):
        (n,) = struct.unpack_from("<Q", data, i)
        (hcrc,) = struct.unpack_from("<I", data, i + 8)
        assert _unmask(hcrc) == _crc32c(data[i:i + 8])
        payload = data[i + 12:i + 12 + n]
        (dcrc,) = struct.unpack_from("<I", data, i + 12 + n)
        assert _unmask(dcrc) == _crc32c(payload)
        out.append(payload)
        i += 16 + n
    return out


def _fields(buf):
    """Minimal protobuf decoder: {field: [values]}."""
    out, i = {}, 0
    while i < len(buf):
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(buf, i)
        elif wire == 1:
            v = struct.unpack_from("<d", buf, i)[0]
            i += 8
        elif wire == 5:
            v = struct.unpack_from("<f", buf, i)[0]
            i += 4
        else:
            n, i = _varint(buf, i)
            v = buf[i:i + n]
            i += n
        out.setdefault(field, []).append(v)
    return out


def _varint(buf, i):
    shift = n = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def _summaries(folder):
    (name,) = os.listdir(folder)
    assert name.startswith("events.out.tfevents.")
    records = _records(os.path.join(folder, name))
    assert _fields(records[0])[3] == [b"brain.Event:2"]
    out = []
    for rec in records[1:]:
        ev = _fields(rec)
        for value in _fields(ev[5][0]).get(1, []):
            v = _fields(value)
            out.append((ev[2][0], v[1][0].decode(), v))
    return out


def test_tensorboard_event_files(tmp_path):
    model = _model()
    x, y = _data()
    tb = callbacks.TensorBoard(log_dir=tmp_path, histogram_freq=1,
                               write_images=True, update_freq=2)
    hist = model.fit(x, y, epochs=2, batch_size=16, verbose=0,
                     validation_split=0.25, callbacks=[tb])
    train = _summaries(tmp_path / "train")
    scalars = {(s, t): v[2][0] for s, t, v in train if 2 in v}
    for epoch in range(2):
        for key in ("loss", "mae"):
            np.testing.assert_allclose(scalars[(epoch, "epoch_" + key)],
                                       hist.history[key][epoch], rtol=1e-6)
        np.testing.assert_allclose(scalars[(epoch, "epoch_learning_rate")],
                                   0.05, rtol=1e-6)
    # 3 batches an epoch, update_freq=2: global batches 2, 4, 6.
    assert sorted(s for s, t in scalars if t == "batch_loss") == [2, 4, 6]
    tags = {t for _, t, _ in train}
    kernel = model.layers[0].kernel
    histo = [v for s, t, v in train if t == kernel.path + "/histogram"]
    assert len(histo) == 2
    h = _fields(histo[-1][5][0])
    assert h[3][0] == kernel.numpy().size
    np.testing.assert_allclose(h[1][0], kernel.numpy().min(), rtol=1e-6)
    counts = struct.unpack(f"<{len(h[7][0]) // 8}d", h[7][0])
    assert sum(counts) == kernel.numpy().size
    image = [v for s, t, v in train if t == kernel.path + "/image"][0]
    img = _fields(image[4][0])
    assert (img[1][0], img[2][0]) == (4, 8)
    assert img[4][0].startswith(b"\x89PNG")
    assert "keras" in tags and "model_summary" in tags
    graph = [v for s, t, v in train if t == "keras"][0]
    tensor = _fields(graph[8][0])
    assert json.loads(tensor[8][0])["class_name"] == "Sequential"
    plugin = _fields(_fields(graph[9][0])[1][0])
    assert plugin[1][0] == b"graph_keras_model"
    val = {(s, t): v[2][0] for s, t, v in _summaries(tmp_path / "validation")}
    np.testing.assert_allclose(val[(1, "epoch_loss")],
                               hist.history["val_loss"][1], rtol=1e-6)
    with pytest.raises(NotImplementedError, match="profile_batch"):
        callbacks.TensorBoard(profile_batch=2)


# -- BackupAndRestore ------------------------------------------------------------

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


def _fresh(seed=7):
    gkeras.backend.clear_session()
    gkeras.utils.set_random_seed(seed)
    return _model(optimizer=gkeras.optimizers.SGD(0.05, momentum=0.9))


def test_backup_and_restore_resumes_in_process(tmp_path):
    x, y = _data()
    ref = _fresh()
    ref.fit(x, y, epochs=4, batch_size=16, verbose=0)
    backup = str(tmp_path / "backup")
    model = _fresh()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=4, batch_size=16, verbose=0, callbacks=[
            callbacks.BackupAndRestore(backup), _Crash(2, 1)])
    assert json.load(open(os.path.join(backup,
                                       "training_metadata.json"))) == {
        "epoch": 2, "batch": 0}
    model = _fresh()
    epochs = []
    hist = model.fit(x, y, epochs=4, batch_size=16, verbose=0, callbacks=[
        callbacks.BackupAndRestore(backup),
        callbacks.LambdaCallback(on_epoch_begin=lambda e, l: epochs.append(
            e))])
    assert epochs == [2, 3] and hist.epoch == [2, 3]
    assert int(model.optimizer.iterations.numpy()) == 16
    for a, b in zip(ref.weights + ref.optimizer.variables,
                    model.weights + model.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not os.path.exists(backup)  # delete_checkpoint=True
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.BackupAndRestore(backup, save_freq="sometimes")


_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    os.environ["GKERAS_BACKEND"] = "numpy"
    import gkeras
    from gkeras import callbacks, layers
    work, kill_epoch, kill_batch = sys.argv[1], int(sys.argv[2]), \\
        int(sys.argv[3])
    gkeras.utils.set_random_seed(11)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 4)).astype("float32")
    y = np.tanh(x @ rng.normal(size=(4, 2))).astype("float32")
    model = gkeras.Sequential([gkeras.Input((4,)),
                               layers.Dense(16, activation="relu"),
                               layers.Dense(2)])
    model.compile(optimizer=gkeras.optimizers.Adam(0.01), loss="mse")

    class Kill(callbacks.Callback):
        epoch = 0
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
        def on_train_batch_end(self, batch, logs=None):
            if (self.epoch, batch) == (kill_epoch, kill_batch):
                os.kill(os.getpid(), signal.SIGKILL)

    model.fit(x, y, epochs=5, batch_size=16, verbose=0, callbacks=[
        callbacks.BackupAndRestore(os.path.join(work, "backup")),
        callbacks.ModelCheckpoint(os.path.join(work, "ck.keras"),
                                  save_freq=1),
        Kill()])
    np.savez(os.path.join(work, "final.npz"),
             *[w.numpy() for w in model.weights + model.optimizer.variables])
""")


def _run(script, work, kill_epoch=-1, kill_batch=-1):
    return subprocess.run(
        [sys.executable, str(script), str(work), str(kill_epoch),
         str(kill_batch)], capture_output=True, text=True, timeout=120,
        env={**os.environ, "GKERAS_BACKEND": "numpy"})


def test_sigkill_mid_epoch_then_resume_matches_uninterrupted(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(_SCRIPT)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    done = _run(script, tmp_path / "a")
    assert done.returncode == 0, done.stderr
    killed = _run(script, tmp_path / "b", kill_epoch=2, kill_batch=3)
    assert killed.returncode == -signal.SIGKILL
    # Every checkpoint file present after the kill is complete.
    ck = tmp_path / "b" / "ck.keras"
    loaded = gkeras.models.load_model(ck)
    assert int(loaded.optimizer.iterations.numpy()) == 2 * 6 + 4
    gkeras.models.Sequential.from_config(loaded.get_config()).load_weights(
        tmp_path / "b" / "backup" / "latest.weights.h5")
    assert not os.path.exists(tmp_path / "b" / "final.npz")
    resumed = _run(script, tmp_path / "b")
    assert resumed.returncode == 0, resumed.stderr
    a = np.load(tmp_path / "a" / "final.npz")
    b = np.load(tmp_path / "b" / "final.npz")
    assert len(a.files) == len(b.files) == 2 * 2 + 2 + 2 * 4
    for k in a.files:
        np.testing.assert_array_equal(a[k], b[k])
    assert not os.path.exists(tmp_path / "b" / "backup")


# -- RemoteMonitor ---------------------------------------------------------------

def test_remote_monitor_posts_to_local_server():
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        root = f"http://127.0.0.1:{server.server_address[1]}"
        model = _model()
        x, y = _data()
        hist = model.fit(x, y, epochs=2, batch_size=32, verbose=0,
                         callbacks=[callbacks.RemoteMonitor(root=root)])
        cb = callbacks.RemoteMonitor(root=root, path="/j",
                                     send_as_json=True)
        cb.set_model(model)
        cb.on_epoch_end(5, {"loss": np.float32(0.5)})
    finally:
        server.shutdown()
        server.server_close()
    assert len(received) == 3
    path, ctype, body = received[0]
    assert path == "/publish/epoch/end/"
    data = json.loads(urllib.parse.parse_qs(body.decode())["data"][0])
    assert data["epoch"] == 0
    np.testing.assert_allclose(data["loss"], hist.history["loss"][0])
    assert received[2][0] == "/j" and received[2][1] == "application/json"
    assert json.loads(received[2][2]) == {"epoch": 5, "loss": 0.5}
    with pytest.warns(UserWarning, match="Could not reach"):
        cb = callbacks.RemoteMonitor(root="http://127.0.0.1:9")
        cb.on_epoch_end(0, {})
