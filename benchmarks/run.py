"""Runs the benchmark suite: every model on gkeras and on each installed
peer (Keras 3 on JAX and PyTorch, plain PyTorch eager), one subprocess each, and prints per-step
times and gkeras/peer ratios; `--json PATH` writes the results.

Usage: python benchmarks/run.py [--models mlp cnn] [--steps 50]
                                [--repeats 3]

With `--repeats N` every framework runs N times per model, interleaved
(gkeras, peer, gkeras, peer, ...), and each time is the median of its N
runs: on a shared machine whose speed drifts by tens of percent over a
minute, one back-to-back pair of runs can land in different phases.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = [("mlp", 32), ("mlp", 256), ("cnn", 64), ("lstm", 32),
         ("transformer", 32)]
FRAMEWORKS = ["gkeras", "keras-jax", "keras-torch", "torch"]
# Timed predicts over the rows inside each run (main's --predict-rows-repeats).
PREDICT_ROWS_REPEATS = 3


def run_case(framework, model, batch, steps, predict_rows=0):
    cmd = [sys.executable, os.path.join(HERE, "bench_one.py"),
           "--framework", framework, "--model", model, "--batch", str(batch),
           "--steps", str(steps), "--predict-rows", str(predict_rows),
           "--predict-rows-repeats", str(PREDICT_ROWS_REPEATS)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
    if proc.returncode != 0 or not lines:
        err = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return {"framework": framework, "model": model, "batch": batch,
                "error": err}
    return json.loads(lines[-1])


def run_interleaved(frameworks, model, batch, steps, repeats,
                    predict_rows=0):
    """Each framework `repeats` times, interleaved; one row per framework
    with the median of each time (and every run's times under `runs`)."""
    runs = {f: [] for f in frameworks}
    for _ in range(repeats):
        for f in frameworks:
            runs[f].append(run_case(f, model, batch, steps, predict_rows))
    rows = []
    for f in frameworks:
        ok = [r for r in runs[f] if "error" not in r]
        if not ok:
            rows.append(runs[f][-1])
            continue
        row = dict(ok[-1])
        for key in ("train_ms", "fit_ms", "predict_ms", "predict_rows_ms"):
            if key in row:
                row[key] = statistics.median(r[key] for r in ok)
        row["runs"] = [{k: r[k] for k in ("train_ms", "fit_ms", "predict_ms",
                                           "predict_rows_ms") if k in r}
                       for r in ok]
        rows.append(row)
    return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--models", nargs="*", default=None)
    p.add_argument("--frameworks", nargs="*", default=FRAMEWORKS)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--json", default=None)
    p.add_argument("--predict-rows", type=int, default=0,
                   help="also time predict over this many rows")
    p.add_argument("--predict-rows-repeats", type=int, default=3,
                   help="timed predicts over the rows per run (median)")
    a = p.parse_args()
    global PREDICT_ROWS_REPEATS
    PREDICT_ROWS_REPEATS = max(1, a.predict_rows_repeats)
    cases = [c for c in CASES if a.models is None or c[0] in a.models]
    info = {"python": platform.python_version(),
            "machine": platform.machine(), "cpus": os.cpu_count(),
            "threads": {k: os.environ.get(k) for k in (
                "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "MKL_NUM_THREADS")}, "repeats": max(1, a.repeats)}
    results = []
    print(f"{'model':12s} {'batch':>5s} {'framework':12s} {'train ms':>9s} "
          f"{'fit ms':>8s} {'predict ms':>10s} {'train ratio':>11s} "
          f"{'fit ratio':>9s}")
    for model, batch in cases:
        rows = run_interleaved(a.frameworks, model, batch, a.steps,
                               max(1, a.repeats), a.predict_rows)
        base = next((r for r in rows if r["framework"] == "gkeras"
                     and "train_ms" in r), None)
        for r in rows:
            results.append(r)
            if "error" in r:
                print(f"{model:12s} {batch:5d} {r['framework']:12s} "
                      f"{'-':>9s} {'-':>10s}  ({r['error'][:60]})")
                continue
            ratio = (base["train_ms"] / r["train_ms"]) if base else float(
                "nan")
            fratio = (base["fit_ms"] / r["fit_ms"]) if base else float("nan")
            print(f"{model:12s} {batch:5d} {r['framework']:12s} "
                  f"{r['train_ms']:9.2f} {r['fit_ms']:8.2f} "
                  f"{r['predict_ms']:10.2f} {ratio:11.2f} {fratio:9.2f}")
    print("train = train_on_batch, fit = per step inside fit(); ratio = "
          "gkeras time / framework time (below 1: gkeras faster)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"info": info, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
