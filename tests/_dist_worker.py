"""Worker for tests/test_distribution.py, launched as
`mpiexec -n N python _dist_worker.py MODE OUTDIR` (and imported by the
test for the single-process references: the model builders and data
live here so both sides train the very same thing)."""

import os
import sys
import time

import numpy as np

LR = 0.05
STEPS = 3


def data(kind):
    rng = np.random.default_rng(7)
    if kind == "mlp":
        x = rng.normal(size=(24, 6)).astype("float32")
        y = rng.integers(0, 3, size=(24,))
    elif kind.startswith("cnn"):
        x = rng.normal(size=(8, 6, 6, 2)).astype("float32")
        y = rng.integers(0, 3, size=(8,))
    else:  # lstm
        x = rng.normal(size=(8, 5, 3)).astype("float32")
        y = rng.integers(0, 3, size=(8,))
    return x, y


def build(kind, seed=3):
    import gkeras as keras
    from gkeras import layers
    keras.utils.set_random_seed(seed)
    if kind == "mlp":
        model = keras.Sequential([
            keras.Input((6,)), layers.Dense(16, activation="tanh"),
            layers.Dense(3, activation="softmax")])
    elif kind.startswith("cnn"):
        sync = kind == "cnn_sync"
        model = keras.Sequential([
            keras.Input((6, 6, 2)), layers.Conv2D(4, 3),
            layers.BatchNormalization(synchronized=sync, momentum=0.9),
            layers.Activation("relu"), layers.Flatten(),
            layers.Dense(3, activation="softmax")])
    else:
        model = keras.Sequential([
            keras.Input((5, 3)), layers.LSTM(4),
            layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.SGD(LR),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(kind, verbose=0):
    """STEPS full-batch steps (global batch = all samples, no shuffle)."""
    x, y = data(kind)
    model = build(kind)
    hist = model.fit(x, y, batch_size=len(x), epochs=STEPS, shuffle=False,
                     verbose=verbose)
    return model, hist.history


def equivalence(out, rank):
    """Training, evaluate and predict results of every model kind."""
    import gkeras as keras
    from gkeras import distribution as D
    res = {}
    for kind in ("mlp", "cnn", "cnn_sync", "lstm"):
        model, hist = train(kind)
        for i, w in enumerate(model.get_weights()):
            res[f"{kind}/w{i}"] = w
        for k, v in hist.items():
            res[f"{kind}/h_{k}"] = np.array(v)
    # Uneven shards (12 -> 6/6, 1 < 2 ranks -> the tiny path) in
    # evaluate/predict, and fit with batches that do not divide.
    x, y = data("mlp")
    x, y = x[:13], y[:13]
    model = build("mlp")
    hist = model.fit(x, y, batch_size=5, epochs=2, shuffle=True, verbose=0)
    res["tail/h_loss"] = np.array(hist.history["loss"])
    res["tail/eval"] = np.array(model.evaluate(x, y, batch_size=4,
                                               verbose=0))
    res["tail/pred"] = model.predict(x, batch_size=4, verbose=0)
    for i, w in enumerate(model.get_weights()):
        res[f"tail/w{i}"] = w
    res["devices"] = np.array(D.list_devices())
    res["size"] = np.array(D.size())
    np.savez(os.path.join(out, f"eq_rank{rank}.npz"), **res)


def files(out, rank):
    """Saving and printing happen on rank 0 only."""
    import gkeras as keras
    sys.stdout = open(os.path.join(out, f"stdout_rank{rank}.txt"), "w")
    x, y = data("mlp")
    model = build("mlp")
    cbs = []
    if hasattr(keras.callbacks, "ModelCheckpoint"):
        cbs.append(keras.callbacks.ModelCheckpoint(
            os.path.join(out, f"ckpt_rank{rank}.weights.h5"),
            save_weights_only=True))
    if hasattr(keras.callbacks, "CSVLogger"):
        cbs.append(keras.callbacks.CSVLogger(
            os.path.join(out, f"log_rank{rank}.csv")))
    model.fit(x, y, batch_size=8, epochs=2, verbose=1, callbacks=cbs)
    model.save_weights(os.path.join(out, f"w_rank{rank}.weights.h5"))
    model.save(os.path.join(out, f"m_rank{rank}.keras"))
    sys.stdout.flush()


class _Fail:
    """Callback that kills / hangs / raises on rank 1 after two steps."""

    def __new__(cls, how):
        import gkeras as keras

        class Fail(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                from gkeras import distribution as D
                if D.rank() != 1 or batch < 2:
                    return
                if how == "kill":
                    import signal
                    os.kill(os.getpid(), signal.SIGKILL)
                elif how == "hang":
                    time.sleep(300)
                else:
                    raise RuntimeError("rank 1 failed on purpose")
        return Fail()


def failure(out, rank, how):
    x, y = data("mlp")
    x = np.repeat(x, 40, axis=0)
    y = np.repeat(y, 40, axis=0)
    model = build("mlp")
    model.fit(x, y, batch_size=8, epochs=50, verbose=0,
              callbacks=[_Fail(how)])
    print(f"DONE rank {rank}", flush=True)


def main():
    mode, out = sys.argv[1], sys.argv[2]
    from gkeras import distribution as D
    D.set_distribution(D.DataParallel())
    rank = D.rank()
    if mode == "equivalence":
        equivalence(out, rank)
    elif mode == "files":
        files(out, rank)
    else:
        failure(out, rank, mode)


if __name__ == "__main__":
    main()
