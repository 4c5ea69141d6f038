"""Times one model on one framework; prints a JSON line.

Usage: python benchmarks/bench_one.py --framework gkeras|keras-jax|
keras-torch|torch --model mlp --batch 32 [--steps 50] [--predict-rows N]
[--seq L] [--no-fit] [--max-seconds S]

Timing: warm-up steps first (compilation, allocation), then the median of
per-step wall times measured with `time.perf_counter` around
`train_on_batch` (and `predict_on_batch` for inference). `torch` is plain
PyTorch eager (benchmarks/torch_models.py): `zero_grad`/forward/backward/
`Adam.step` with the loss read back as `train_on_batch` returns it, and
`eval()` + `inference_mode` for inference. With `--predict-rows N` the
time of `predict` over N rows (PyTorch: a batched forward loop) is
reported too. `--seq L` sets the sequence length of the LSTM and
Transformer models; `--no-fit` skips the `fit` timing and `--max-seconds S`
stops each timed loop after S seconds (at least 3 steps), which keeps the
large sizes of the scaling tables cheap.

Every row carries `peak_mib`: the process's peak resident memory (VmHWM)
over the run minus its resident memory after the framework's imports (the
peak is reset there through /proc/self/clear_refs), so it counts the
model, its data and the working memory of the steps; None where /proc is
missing.
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
        # numba (the optional CPU JIT) is imported lazily on the first
        # kernel; like torch's runtime set-up it belongs to the baseline,
        # not to the model's memory.
        from gkeras.backend.cpu import jit
        jit.enabled()
        return k, f"gkeras {k.__version__} ({k.backend.backend()})"
    backend = {"keras-jax": "jax", "keras-torch": "torch"}[name]
    os.environ["KERAS_BACKEND"] = backend
    import keras as k
    return k, f"keras {k.__version__} ({backend})"


def median_time(fn, steps, warmup, max_seconds=None):
    """Median wall time of `fn` over `steps` calls after `warmup` calls;
    with `max_seconds`, stops once the timed calls took that long (after
    at least 3)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        if max_seconds and len(times) >= 3 and sum(times) > max_seconds:
            break
    return statistics.median(times)


def _status_kib(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def reset_peak_memory():
    """Resets this process's VmHWM to its current RSS; returns that RSS
    in KiB (None without /proc)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:  # older kernels: the peak then includes the imports
        pass
    return _status_kib("VmRSS")


def peak_mib(baseline_kib):
    """Peak RSS since `reset_peak_memory` minus its baseline, MiB."""
    peak = _status_kib("VmHWM")
    if peak is None or baseline_kib is None:
        return None
    return round((peak - baseline_kib) / 1024, 1)


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
    torch.zeros(1) + 1  # the runtime's lazy set-up belongs to the baseline
    baseline = reset_peak_memory()
    twin = torch_models.build(a.model, a.batch, "cpu",
                              **({"seq": a.seq} if a.seq else {}))
    train_s = median_time(twin.train_step, a.steps, a.warmup, a.max_seconds)
    infer_s = median_time(twin.predict, a.steps, a.warmup, a.max_seconds)
    row = {"framework": "torch",
           "label": f"PyTorch {torch.__version__} eager (cpu, "
                    f"{torch.get_num_threads()} threads)",
           "model": a.model, "batch": a.batch, "train_ms": train_s * 1e3,
           "predict_ms": infer_s * 1e3}
    if a.seq:
        row["seq"] = a.seq
    if not a.no_fit:
        twin.fit_epoch()
        row["fit_ms"] = _median_of(twin.fit_epoch, 3) / len(twin.xs) * 1e3
    if a.predict_rows:
        torch_models.predict_rows(twin, a.batch, a.batch)
        row["predict_rows"] = a.predict_rows
        row["predict_rows_ms"] = _median_of(
            lambda: torch_models.predict_rows(twin, a.predict_rows,
                                              a.batch),
            a.predict_rows_repeats) * 1e3
    row["peak_mib"] = peak_mib(baseline)
    return row


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--framework", default="gkeras")
    p.add_argument("--model", default="mlp")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--predict-rows", type=int, default=0)
    p.add_argument("--predict-rows-repeats", type=int, default=3,
                   help="timed predicts over the rows (their median)")
    p.add_argument("--seq", type=int, default=None,
                   help="sequence length (lstm, transformer only)")
    p.add_argument("--no-fit", action="store_true",
                   help="skip the per-step time inside fit()")
    p.add_argument("--max-seconds", type=float, default=None,
                   help="stop each timed loop after this long (>= 3 steps)")
    a = p.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from models import MODELS, SEQ_MODELS
    if a.seq and a.model not in SEQ_MODELS:
        p.error(f"--seq applies to {', '.join(SEQ_MODELS)}, not {a.model}")
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
    # The backend's lazy set-up (JAX's client, gkeras's allocator) belongs
    # to the baseline, not to the model's memory.
    np.asarray(k.ops.add(k.ops.ones((1,)), 1.0))
    baseline = reset_peak_memory()
    model, x, y, loss = MODELS[a.model](
        k, a.batch, **({"seq": a.seq} if a.seq else {}))
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

    train_s = median_time(train, a.steps, a.warmup, a.max_seconds)
    infer_s = median_time(infer, a.steps, a.warmup, a.max_seconds)
    row = {"framework": a.framework, "label": label, "model": a.model,
           "batch": a.batch, "train_ms": train_s * 1e3,
           "predict_ms": infer_s * 1e3}
    if a.seq:
        row["seq"] = a.seq
    if not a.no_fit:
        # Per-step time inside fit() (Keras-JAX compiles its fit loop): one
        # warm-up epoch, then the median over three timed epochs.
        model.fit(x, y, batch_size=a.batch, epochs=1, verbose=0,
                  shuffle=False)
        row["fit_ms"] = statistics.median(
            _timed_fit(model, x, y, a.batch) for _ in range(3)) / n * 1e3
    if a.predict_rows:
        reps = -(-a.predict_rows // x.shape[0])
        xr = np.concatenate([x] * reps)[:a.predict_rows]
        model.predict(xr[:a.batch], batch_size=a.batch, verbose=0)
        row["predict_rows"] = a.predict_rows
        row["predict_rows_ms"] = _median_of(
            lambda: model.predict(xr, batch_size=a.batch, verbose=0),
            a.predict_rows_repeats) * 1e3
    row["peak_mib"] = peak_mib(baseline)
    print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
