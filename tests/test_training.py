"""fit / evaluate / predict semantics, logs, progress output, callbacks,
determinism, learning — compared with Keras's documented behaviour and
NumPy recomputation."""

import contextlib
import io
import re

import numpy as np
import pytest

import gkeras as keras
from gkeras.layers import Dense, Dropout


def make_data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 10)).astype("float32")
    w = rng.standard_normal((10, 3))
    y = np.argmax(x @ w, axis=1)
    return x, y


def mlp(n_classes=3, dropout=0.0):
    layers = [keras.Input((10,)), Dense(32, activation="relu")]
    if dropout:
        layers.append(Dropout(dropout))
    layers.append(Dense(n_classes, activation="softmax"))
    return keras.Sequential(layers)


def test_learnable_task_reaches_high_accuracy():
    x, y = make_data(600)
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x[:500], y[:500], epochs=30, batch_size=32, verbose=0)
    loss, acc = model.evaluate(x[500:], y[500:], verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0] / 3
    assert acc > 0.9


def test_same_seed_gives_bit_identical_training():
    x, y = make_data()

    def run():
        keras.backend.clear_session()
        keras.utils.set_random_seed(7)
        model = mlp(dropout=0.3)
        model.compile(optimizer="adam",
                      loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=16, verbose=0)
        return model.get_weights()

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


def test_history_keys_and_evaluate_return_shapes():
    x, y = make_data(100)
    yc = keras.utils.to_categorical(y, 3)
    model = mlp()
    model.compile(optimizer="sgd", loss="categorical_crossentropy",
                  metrics=["accuracy"])
    h = model.fit(x, yc, epochs=2, batch_size=20, validation_split=0.2,
                  verbose=0)
    assert sorted(h.history) == ["accuracy", "loss", "val_accuracy",
                                 "val_loss"]
    assert h.epoch == [0, 1]
    res = model.evaluate(x, yc, verbose=0)
    assert isinstance(res, list) and len(res) == 2
    assert model.metrics_names == ["loss", "accuracy"]
    d = model.evaluate(x, yc, verbose=0, return_dict=True)
    assert set(d) == {"loss", "accuracy"}
    model2 = mlp()
    model2.compile(optimizer="sgd", loss="categorical_crossentropy")
    assert isinstance(model2.evaluate(x, yc, verbose=0), float)


def test_evaluate_matches_numpy_loss_and_accuracy():
    x, y = make_data(70)
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    loss, acc = model.evaluate(x, y, batch_size=32, verbose=0)
    p = model.predict(x, verbose=0).astype(np.float64)
    q = np.clip(p / p.sum(1, keepdims=True), 1e-7, 1 - 1e-7)
    want_loss = -np.log(q[np.arange(len(y)), y]).mean()
    np.testing.assert_allclose(loss, want_loss, rtol=1e-5)
    np.testing.assert_allclose(acc, (p.argmax(1) == y).mean(), rtol=1e-6)


def test_validation_split_takes_last_samples():
    x, y = make_data(50)
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    h = model.fit(x, y, epochs=1, batch_size=50, validation_split=0.2,
                  shuffle=False, verbose=0)
    want = model.evaluate(x[40:], y[40:], verbose=0)
    np.testing.assert_allclose(h.history["val_loss"][0], want, rtol=1e-6)


def test_sample_weight_and_class_weight_scale_the_loss():
    x, y = make_data(40)
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    base = model.evaluate(x, y, verbose=0, batch_size=40)
    sw = np.where(y == 0, 2.0, 0.5)
    weighted = model.evaluate(x, y, sample_weight=sw, verbose=0, batch_size=40)
    p = model.predict(x, verbose=0).astype(np.float64)
    per = -np.log(np.clip(p[np.arange(40), y], 1e-7, 1))
    np.testing.assert_allclose(base, per.mean(), rtol=1e-5)
    np.testing.assert_allclose(weighted, (per * sw).mean(), rtol=1e-5)
    # class_weight: the same weights through fit's first step.
    m1, m2 = mlp(), mlp()
    m2.set_weights(m1.get_weights())
    for m in (m1, m2):
        m.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss="sparse_categorical_crossentropy")
    m1.fit(x, y, batch_size=40, epochs=1, shuffle=False, verbose=0,
           class_weight={0: 2.0, 1: 0.5, 2: 0.5})
    m2.fit(x, y, batch_size=40, epochs=1, shuffle=False, verbose=0,
           sample_weight=sw)
    for a, b in zip(m1.get_weights(), m2.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_generators_pydataset_and_steps():
    x, y = make_data(64)

    def gen():
        while True:
            for i in range(0, 64, 16):
                yield x[i:i + 16], y[i:i + 16]

    class Seq:
        def __init__(self):
            self.epochs_ended = 0

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return x[i * 16:(i + 1) * 16], y[i * 16:(i + 1) * 16]

        def on_epoch_end(self):
            self.epochs_ended += 1

    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    h = model.fit(gen(), steps_per_epoch=4, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2
    seq = Seq()
    model.fit(seq, epochs=3, verbose=0, validation_data=(x, y))
    assert seq.epochs_ended == 3
    assert model.predict(seq, verbose=0).shape == (64, 3)
    with pytest.raises(ValueError, match="`y` should not be passed"):
        model.fit(gen(), y, steps_per_epoch=1, verbose=0)


def test_initial_epoch_and_validation_freq():
    x, y = make_data(32)
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    seen = []
    cb = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append((epoch, sorted(logs))))
    model.fit(x, y, epochs=4, initial_epoch=1, validation_data=(x, y),
              validation_freq=2, callbacks=[cb], verbose=0)
    assert [e for e, _ in seen] == [1, 2, 3]
    assert "val_loss" in seen[0][1] and "val_loss" not in seen[1][1]


def test_callback_hook_order_and_stop_training():
    x, y = make_data(64)
    events = []

    class Recorder(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin {epoch}")

        def on_train_batch_end(self, batch, logs=None):
            events.append(f"batch_end {batch} {sorted(logs)}")
            if batch == 1:
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end {epoch}")

        def on_train_end(self, logs=None):
            events.append("train_end")

    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=5, batch_size=16, callbacks=[Recorder()],
              verbose=0)
    assert events == ["train_begin", "epoch_begin 0",
                      "batch_end 0 ['accuracy', 'loss']",
                      "batch_end 1 ['accuracy', 'loss']", "epoch_end 0",
                      "train_end"]


def test_terminate_on_nan():
    x, y = make_data(64)
    x[20] = np.nan
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        h = model.fit(x, y, epochs=3, batch_size=16, shuffle=False,
                      callbacks=[keras.callbacks.TerminateOnNaN()],
                      verbose=0)
    assert "Batch 1: Invalid loss, terminating training" in out.getvalue()
    assert len(h.history["loss"]) == 1


def _strip_ansi(s):
    return re.sub(r"\x1b\[[0-9;]*m", "", s)


def test_progress_bar_formats_like_keras():
    x, y = make_data(64)
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model.fit(x, y, epochs=2, batch_size=32, verbose=1)
    text = _strip_ansi(out.getvalue())
    assert "Epoch 1/2" in text and "Epoch 2/2" in text
    final = [l for l in text.splitlines() if l.startswith("2/2 ")]
    assert final, text
    assert re.match(r"2/2 ━{20} \d+s \d+(us|ms|s)/step - accuracy: "
                    r"\d\.\d{4} - loss: \d\.\d{4}", final[-1]), final[-1]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model.fit(x, y, epochs=1, batch_size=32, verbose=2)
    line = out.getvalue().strip().splitlines()[-1]
    assert re.match(r"2/2 - \d+s - \d+(us|ms|s)/step - accuracy: \d\.\d{4} "
                    r"- loss: \d\.\d{4}$", line), line
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model.fit(x, y, epochs=1, verbose=0)
    assert out.getvalue() == ""


def test_train_test_predict_on_batch():
    x, y = make_data(16)
    model = mlp()
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    before = model.test_on_batch(x, y)
    model.train_on_batch(x, y)
    after = model.test_on_batch(x, y)
    assert after[0] < before[0]
    np.testing.assert_allclose(model.predict_on_batch(x),
                               model.predict(x, verbose=0), rtol=1e-6)


def test_predict_builds_no_graph():
    model = mlp()
    out = model(np.ones((2, 10), "float32"))
    assert out.creator is None


def test_sequence_mask_reaches_loss_and_metrics():
    inp = keras.Input((5,), dtype="int32")
    h = keras.layers.Embedding(10, 4, mask_zero=True)(inp)
    h = keras.layers.LSTM(3, return_sequences=True)(h)
    model = keras.Model(inp, Dense(1)(h))
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    xi = np.array([[1, 2, 3, 0, 0], [4, 5, 0, 0, 0]])
    y = np.ones((2, 5, 1), "float32")
    p = model.predict(xi, verbose=0)[..., 0].astype(np.float64)
    keep = xi != 0
    loss, mae = model.evaluate(xi, y, verbose=0)
    np.testing.assert_allclose(loss, ((p - 1) ** 2)[keep].mean(), rtol=1e-5)
    np.testing.assert_allclose(mae, np.abs(p - 1)[keep].mean(), rtol=1e-5)


def test_training_steps_do_not_rewalk_the_layer_tree():
    # The trainable variables are cached behind the layer-structure
    # version; nothing a step does may move it, or every step walks the
    # whole layer tree again.
    from gkeras.layers import layer as layer_module
    model = keras.Sequential([keras.Input((4,)),
                               Dense(3, activation="relu"), Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x = np.random.default_rng(0).random((16, 4), dtype=np.float32)
    y = x.sum(1, keepdims=True)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    before = layer_module.STRUCTURE_VERSION[0]
    model.fit(x, y, batch_size=4, epochs=2, verbose=0,
              validation_split=0.25)
    model.train_on_batch(x, y)
    model.evaluate(x, y, verbose=0)
    assert layer_module.STRUCTURE_VERSION[0] == before
