"""Times one model on one framework; prints a JSON line.

Usage: python benchmarks/bench_one.py --framework gkeras|keras-jax|
keras-torch|torch --model mlp --batch 32 [--steps 50] [--predict-rows N]

Timing: warm-up steps first (compilation, allocation), then the median of
per-step wall times measured with `time.perf_counter` around
`train_on_batch` (and `predict_on_batch` for inference). `torch` is plain
PyTorch eager (benchmarks/torch_models.py): `zero_grad`/forward/backward/
`Adam.step` with the loss read back as `train_on_batch` returns it, and
`eval()` + `inference_mode` for inference. With `--predict-rows N` the
time of `predict` over N rows (PyTorch: a batched forward loop) is
reported too.
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np


def load_framework(name):
    if name == "gkeras":
        os.environ.setdefault("GKERAS_BACKEND", "auto")
        import gkeras as k
        return k, f"gkeras {k.__version__} ({k.backend.backend()})"
    backend = {"keras-jax": "jax", "keras-torch": "torch"}[name]
    os.environ["KERAS_BACKEND"] = backend
    import keras as k
    return k, f"keras {k.__version__} ({backend})"


def median_time(fn, steps, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _timed_fit(model, x, y, batch):
    t = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
    return time.perf_counter() - t


def _median_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_torch(a):
    """The plain-PyTorch twin timed like the Keras-API frameworks."""
    import torch
    import torch_models
    twin = torch_models.build(a.model, a.batch, "cpu")
    train_s = median_time(twin.train_step, a.steps, a.warmup)
    infer_s = median_time(twin.predict, a.steps, a.warmup)
    twin.fit_epoch()
    fit_s = _median_of(twin.fit_epoch, 3) / len(twin.xs)
    row = {"framework": "torch",
           "label": f"PyTorch {torch.__version__} eager (cpu, "
                    f"{torch.get_num_threads()} threads)",
           "model": a.model, "batch": a.batch, "train_ms": train_s * 1e3,
           "fit_ms": fit_s * 1e3, "predict_ms": infer_s * 1e3}
    if a.predict_rows:
        torch_models.predict_rows(twin, a.batch, a.batch)
        row["predict_rows"] = a.predict_rows
        row["predict_rows_ms"] = _median_of(
            lambda: torch_models.predict_rows(twin, a.predict_rows,
                                              a.batch), 3) * 1e3
    return row


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--framework", default="gkeras")
    p.add_argument("--model", default="mlp")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--predict-rows", type=int, default=0)
    a = p.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from models import MODELS
    if a.framework == "torch":
        try:
            row = bench_torch(a)
        except ImportError as e:
            row = {"framework": "torch", "model": a.model, "batch": a.batch,
                   "error": f"not installed: {e}"}
        print(json.dumps(row))
        return 0
    try:
        k, label = load_framework(a.framework)
    except ImportError as e:
        print(json.dumps({"framework": a.framework, "model": a.model,
                          "batch": a.batch, "error": f"not installed: {e}"}))
        return 0
    model, x, y, loss = MODELS[a.model](k, a.batch)
    model.compile(optimizer="adam", loss=loss)
    n = x.shape[0] // a.batch
    state = {"i": 0}

    def train():
        i = state["i"] % n
        state["i"] += 1
        model.train_on_batch(x[i * a.batch:(i + 1) * a.batch],
                             y[i * a.batch:(i + 1) * a.batch])

    def infer():
        model.predict_on_batch(x[:a.batch])

    train_s = median_time(train, a.steps, a.warmup)
    infer_s = median_time(infer, a.steps, a.warmup)
    # Per-step time inside fit() (Keras-JAX compiles its fit loop): one
    # warm-up epoch, then the median over three timed epochs.
    model.fit(x, y, batch_size=a.batch, epochs=1, verbose=0, shuffle=False)
    fit_s = statistics.median(
        _timed_fit(model, x, y, a.batch) for _ in range(3)) / n
    row = {"framework": a.framework, "label": label, "model": a.model,
           "batch": a.batch, "train_ms": train_s * 1e3,
           "fit_ms": fit_s * 1e3, "predict_ms": infer_s * 1e3}
    if a.predict_rows:
        reps = -(-a.predict_rows // x.shape[0])
        xr = np.concatenate([x] * reps)[:a.predict_rows]
        model.predict(xr[:a.batch], batch_size=a.batch, verbose=0)
        row["predict_rows"] = a.predict_rows
        row["predict_rows_ms"] = _median_of(
            lambda: model.predict(xr, batch_size=a.batch, verbose=0), 3) * 1e3
    print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
