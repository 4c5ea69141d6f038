"""Device work per training step of the tutorial models on the CuPy path,
counted by the CuPy stand-in (tests/cupy_standin) on a CPU-only machine:
device-to-host syncs, custom kernel launches, host-to-device copies and
other device operations (CuPy calls), per steady-state step.

Counts, not times: what a GPU would be asked to do. Run:

    python benchmarks/standin_counts.py            # verbose=0 and 1
    python benchmarks/standin_counts.py --json out.json

The script re-runs itself in a subprocess with `GKERAS_BACKEND=cupy` and
the stand-in on `sys.path` (gkeras is taken from this checkout).
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
STANDIN = os.path.join(ROOT, "tests", "cupy_standin")
KINDS = ("sync", "launch", "h2d", "op")


def _models(k, batch):
    """The tutorial models of benchmarks/models.py, at sizes the CUDA
    emulator runs in seconds, plus a GRU."""
    import numpy as np
    L = k.layers
    rng = np.random.default_rng(0)
    n = batch * 6
    out = {}
    out["mlp"] = (k.Sequential([k.Input((784,)),
                                L.Dense(128, activation="relu"),
                                L.Dense(64, activation="relu"),
                                L.Dense(10, activation="softmax")]),
                  rng.random((n, 784), dtype=np.float32),
                  rng.integers(0, 10, n), "sparse_categorical_crossentropy")
    out["cnn"] = (k.Sequential([
        k.Input((16, 16, 3)), L.Conv2D(8, 3, padding="same"),
        L.BatchNormalization(), L.Activation("relu"), L.MaxPooling2D(2),
        L.Conv2D(16, 3, padding="same"), L.BatchNormalization(),
        L.Activation("relu"), L.MaxPooling2D(2), L.Flatten(),
        L.Dense(32, activation="relu"), L.Dense(10, activation="softmax")]),
        rng.random((n, 16, 16, 3), dtype=np.float32),
        rng.integers(0, 10, n), "sparse_categorical_crossentropy")
    out["lstm"] = (k.Sequential([k.Input((20,), dtype="int32"),
                                 L.Embedding(2000, 32), L.LSTM(32),
                                 L.Dense(1, activation="sigmoid")]),
                   rng.integers(1, 2000, (n, 20)).astype("int32"),
                   rng.integers(0, 2, (n, 1)).astype("float32"),
                   "binary_crossentropy")
    out["gru"] = (k.Sequential([k.Input((20,), dtype="int32"),
                                L.Embedding(2000, 32), L.GRU(32),
                                L.Dense(1, activation="sigmoid")]),
                  rng.integers(1, 2000, (n, 20)).astype("int32"),
                  rng.integers(0, 2, (n, 1)).astype("float32"),
                  "binary_crossentropy")
    inputs = k.Input((16, 32))
    x = inputs
    att = L.MultiHeadAttention(num_heads=4, key_dim=8)(x, x)
    x = L.LayerNormalization(epsilon=1e-6)(L.Add()([x, att]))
    ff = L.Dense(64, activation="relu")(x)
    x = L.LayerNormalization(epsilon=1e-6)(L.Add()([x, L.Dense(32)(ff)]))
    x = L.GlobalAveragePooling1D()(x)
    out["transformer"] = (k.Model(inputs, L.Dense(2, activation="softmax")(
        x)), rng.standard_normal((n, 16, 32)).astype("float32"),
        rng.integers(0, 2, n), "sparse_categorical_crossentropy")
    return out


def _measure(batch, verbose):
    import contextlib
    import io

    import gkeras as k
    import standin_counters as sc

    class Steps(k.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.snaps = []

        def on_train_batch_begin(self, b, logs=None):
            self.snaps.append(sc.snapshot())

        def on_epoch_end(self, epoch, logs=None):
            self.snaps.append(sc.snapshot())

    results = {}
    for name, (model, x, y, loss) in _models(k, batch).items():
        k.utils.set_random_seed(0)
        model.compile("adam", loss, metrics=["accuracy"])
        cb = Steps()
        with contextlib.redirect_stdout(io.StringIO()):
            model.fit(x, y, batch_size=batch, epochs=1, verbose=verbose,
                      callbacks=[cb])
        # Steady state: the first step builds and compiles; the last
        # interval holds the epoch-end work.
        steps = [{kind: b[kind] - a[kind] for kind in KINDS}
                 for a, b in zip(cb.snaps[1:-2], cb.snaps[2:-1])]
        results[name] = {kind: max(s[kind] for s in steps) for kind in KINDS}
    return results


# Measured with this script at 86e0c35 (main before the stand-in work of
# issue 16: Embedding's id check and one float() per logged value synced,
# the loss tracker's count was copied every step).
BEFORE = {
    "verbose=0": {
        "mlp": {"sync": 0, "launch": 1, "h2d": 4, "op": 96},
        "cnn": {"sync": 0, "launch": 22, "h2d": 4, "op": 210},
        "lstm": {"sync": 2, "launch": 42, "h2d": 4, "op": 241},
        "gru": {"sync": 2, "launch": 42, "h2d": 4, "op": 224},
        "transformer": {"sync": 0, "launch": 11, "h2d": 4, "op": 212}},
    "verbose=1": {
        "mlp": {"sync": 2, "launch": 1, "h2d": 4, "op": 106},
        "cnn": {"sync": 2, "launch": 22, "h2d": 4, "op": 220},
        "lstm": {"sync": 4, "launch": 42, "h2d": 4, "op": 251},
        "gru": {"sync": 4, "launch": 42, "h2d": 4, "op": 234},
        "transformer": {"sync": 2, "launch": 11, "h2d": 4, "op": 222}}}


def measure(batch=4):
    """Runs the counting subprocess; returns `{mode: {model: counts}}`."""
    env = dict(os.environ, GKERAS_BACKEND="cupy", OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(
        [p for p in (os.environ.get("GKERAS_ROOT", ROOT), STANDIN,
                     os.environ.get("PYTHONPATH")) if p])
    r = subprocess.run([sys.executable, os.path.abspath(__file__),
                        "--_child", "--batch", str(batch)], env=env,
                       capture_output=True, text=True)
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("COUNTS")]
    if r.returncode or not line:
        if "libnvrtc not found" in r.stderr:
            # The stand-in compiles every kernel with NVRTC, which comes
            # with the test extra, not with the peers' environment.
            raise RuntimeError(
                "the CuPy stand-in compiles each CUDA kernel with NVRTC, "
                f"which {sys.executable} cannot load: install the test "
                "extra there (pip install -e \".[test]\") and rerun")
        raise RuntimeError(r.stdout[-3000:] + r.stderr[-5000:])
    return json.loads(line[-1][len("COUNTS"):])


def markdown_section(after=None):
    """The RESULTS.md section: counts per step before and after."""
    after = after or measure()
    out = ["## Device work per training step (CuPy path)", "",
           "Counted (not timed) by `benchmarks/standin_counts.py` on the "
           "strict CuPy stand-in (`tests/cupy_standin`): device-to-host "
           "syncs, custom kernel launches, host-to-device copies (the "
           "batch's x and y, the optimizer's scalar table) and other CuPy "
           "calls per steady-state training step; batch 4, Adam, tutorial "
           "models at emulator size. Before = 86e0c35. The few extra ops "
           "after are the device-side range checks of sparse labels and "
           "token ids, read once per epoch instead of synced per step.", "",
           "| model | verbose | syncs before | syncs after | launches "
           "before | launches after | H2D before | H2D after | ops before "
           "| ops after |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"
           "---:|"]
    for mode in ("verbose=0", "verbose=1"):
        for name, a in after[mode].items():
            b = BEFORE[mode].get(name, {})
            out.append(f"| {name} | {mode[8:]} | " + " | ".join(
                f"{b.get(k, '-')} | {a[k]}" for k in KINDS) + " |")
    return out + [""]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--json", help="also write the numbers to this file")
    p.add_argument("--_child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._child:
        out = {f"verbose={v}": _measure(args.batch, v) for v in (0, 1)}
        print("COUNTS" + json.dumps(out))
        return
    try:
        counts = measure(args.batch)
    except RuntimeError as e:
        sys.exit(str(e))
    print(f"Device work per training step on the CuPy path (CuPy stand-in, "
          f"batch {args.batch}, Adam, max over steady-state steps)")
    for mode, per_model in counts.items():
        print(f"\n{mode}")
        print(f"{'model':<12}" + "".join(f"{k:>8}" for k in KINDS))
        for name, c in per_model.items():
            print(f"{name:<12}" + "".join(f"{c[k]:>8}" for k in KINDS))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(counts, f, indent=1)


if __name__ == "__main__":
    main()
