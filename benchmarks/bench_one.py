"""Times one model on one framework; prints a JSON line.

Usage: python benchmarks/bench_one.py --framework gkeras|keras-jax|
keras-torch --model mlp --batch 32 [--steps 50]

Timing: warm-up steps first (compilation, allocation), then the median of
per-step wall times measured with `time.perf_counter` around
`train_on_batch` (and `predict_on_batch` for inference).
"""

import argparse
import json
import os
import statistics
import sys
import time


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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--framework", default="gkeras")
    p.add_argument("--model", default="mlp")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    a = p.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from models import MODELS
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
    print(json.dumps({"framework": a.framework, "label": label,
                      "model": a.model, "batch": a.batch,
                      "train_ms": train_s * 1e3, "fit_ms": fit_s * 1e3,
                      "predict_ms": infer_s * 1e3}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
