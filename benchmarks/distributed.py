"""Data-parallel step time and scaling efficiency, 1 vs N processes.

Trains the same MLP (and a small CNN) with `DataParallel` on a fixed
global batch (strong scaling) under `mpiexec -n 1` and `mpiexec -n N`,
and also without any distribution, then prints the step time, the time
spent in the fused all-reduce, and the scaling efficiency
`T(1) / (N * T(N))`. Run from the repository root:

    python benchmarks/distributed.py [--procs 2] [--batch 256] [--steps 30]

On the NumPy backend each process runs its BLAS with
`OMP_NUM_THREADS = cores / N` (or `--threads`), so 1 process uses every
core too: the comparison is process parallelism against BLAS threading on
the same machine. Timings on a shared machine are noisy: compare runs
taken back to back. With CuPy (one GPU per process) the all-reduce goes over NCCL.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np


def _model(kind):
    import gkeras as keras
    from gkeras import layers
    keras.utils.set_random_seed(0)
    if kind == "mlp":
        m = keras.Sequential([keras.Input((784,)),
                              layers.Dense(1024, activation="relu"),
                              layers.Dense(1024, activation="relu"),
                              layers.Dense(10, activation="softmax")])
        shape = (784,)
    else:
        m = keras.Sequential([keras.Input((28, 28, 1)),
                              layers.Conv2D(32, 3, activation="relu"),
                              layers.MaxPooling2D(),
                              layers.Conv2D(64, 3, activation="relu"),
                              layers.MaxPooling2D(), layers.Flatten(),
                              layers.Dense(10, activation="softmax")])
        shape = (28, 28, 1)
    m.compile(keras.optimizers.SGD(0.01), "sparse_categorical_crossentropy")
    return m, shape


def worker(kind, batch, steps, distributed):
    """Runs inside each process; rank 0 prints one JSON line."""
    from gkeras import distribution as D
    if distributed:
        D.set_distribution(D.DataParallel())
    model, shape = _model(kind)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch,) + shape).astype("float32")
    y = rng.integers(0, 10, size=(batch,))
    reduce_time = [0.0]
    if distributed:
        comm = D.distribution().comm
        orig = comm.allreduce_sum_

        def timed(buf):
            t = time.perf_counter()
            out = orig(buf)
            reduce_time[0] += time.perf_counter() - t
            return out
        comm.allreduce_sum_ = timed
    for _ in range(3):
        model.train_on_batch(x, y)
    reduce_time[0] = 0.0
    t0 = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    dt = (time.perf_counter() - t0) / steps
    if D.rank() == 0:
        n_params = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        print(json.dumps({"step_ms": dt * 1e3,
                          "allreduce_ms": reduce_time[0] / steps * 1e3,
                          "params": n_params, "procs": D.size()}),
              flush=True)


THREADS = [0]


def _run(kind, procs, batch, steps, distributed):
    cores = os.cpu_count() or 1
    threads = THREADS[0] or max(1, cores // procs)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads))
    cmd = [sys.executable, __file__, "--worker", kind, str(batch),
           str(steps), "1" if distributed else "0"]
    if distributed:
        mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
        if not os.path.exists(mpiexec):
            mpiexec = shutil.which("mpiexec")
        cmd = [mpiexec, "-n", str(procs)] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, env=env,
                         timeout=600)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    line = [l for l in out.stdout.splitlines() if l.startswith("{")][-1]
    return json.loads(line)


def main(argv=None):
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--worker":
        kind, batch, steps, dist = sys.argv[2:6]
        return worker(kind, int(batch), int(steps), dist == "1")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--models", default="mlp,cnn")
    ap.add_argument("--threads", type=int, default=0,
                    help="BLAS threads per process (0: cores / procs)")
    args = ap.parse_args(argv)
    THREADS[0] = args.threads
    print(f"global batch {args.batch}, {os.cpu_count()} cores, "
          f"{args.steps} steps")
    print(f"{'model':5} {'setup':22} {'step ms':>9} {'allreduce ms':>13} "
          f"{'efficiency':>10}")
    for kind in args.models.split(","):
        base = _run(kind, 1, args.batch, args.steps, False)
        one = _run(kind, 1, args.batch, args.steps, True)
        many = _run(kind, args.procs, args.batch, args.steps, True)
        print(f"{kind:5} {'no distribution':22} {base['step_ms']:9.2f} "
              f"{'-':>13} {'':>10}")
        print(f"{kind:5} {'DataParallel, 1 proc':22} {one['step_ms']:9.2f} "
              f"{one['allreduce_ms']:13.3f} {'':>10}")
        eff = one["step_ms"] / (args.procs * many["step_ms"])
        print(f"{kind:5} {f'DataParallel, {args.procs} procs':22} "
              f"{many['step_ms']:9.2f} {many['allreduce_ms']:13.3f} "
              f"{eff:10.2f}")
        print(f"      ({base['params']:,} parameters = "
              f"{base['params'] * 4 / 1e6:.1f} MB all-reduced per step)")


if __name__ == "__main__":
    main()
