"""Times one training step of the tutorial CNN (issue 3) on gkeras and,
when installed, on Keras 3 with the JAX and PyTorch backends.

    python benchmarks/cnn.py [--batch 64] [--steps 10]

Prints ms/step for each framework and the ratios to gkeras; frameworks
that are not installed are skipped with a note. The Keras backends run in
subprocesses (KERAS_BACKEND is read once per process).
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

MODEL_CODE = """
def build(keras):
    L = keras.layers
    return keras.Sequential([
        keras.Input((32, 32, 3)),
        L.Conv2D(32, (3, 3), padding='same'), L.BatchNormalization(),
        L.Activation('relu'), L.MaxPooling2D((2, 2)),
        L.Conv2D(64, (3, 3), padding='same'), L.BatchNormalization(),
        L.Activation('relu'), L.MaxPooling2D((2, 2)),
        L.Conv2D(128, (3, 3), padding='same'), L.BatchNormalization(),
        L.Activation('relu'), L.MaxPooling2D((2, 2)),
        L.Flatten(), L.Dense(128, activation='relu'),
        L.Dense(10, activation='softmax')])
"""


def time_steps(keras, batch, steps):
    """ms per `train_on_batch` of the tutorial CNN (median of `steps`)."""
    scope = {}
    exec(MODEL_CODE, scope)
    model = scope["build"](keras)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, batch).astype("int32")
    for _ in range(3):                          # warm-up / compilation
        model.train_on_batch(x, y)
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        model.train_on_batch(x, y)
        times.append(time.perf_counter() - t)
    return 1000 * float(np.median(times))


def conv_gflops(batch):
    """Forward+backward FLOPs of the three convs (2 * MACs, x3 for the
    data and kernel gradients; the first layer's data grad is skipped)."""
    total = 0.0
    for i, (hw, cin, cout) in enumerate(((32, 3, 32), (16, 32, 64),
                                         (8, 64, 128))):
        macs = batch * hw * hw * 9 * cin * cout
        total += 2 * macs * (2 if i == 0 else 3)
    return total / 1e9


def blas_gflops():
    """Measured float32 GEMM rate of NumPy's BLAS (the CPU ceiling)."""
    a = np.random.rand(1024, 1024).astype("float32")
    a @ a
    t = time.perf_counter()
    for _ in range(10):
        a @ a
    return 10 * 2 * 1024 ** 3 / (time.perf_counter() - t) / 1e9


def _child(backend, batch, steps):
    os.environ["KERAS_BACKEND"] = backend
    import keras
    print(json.dumps({"ms": time_steps(keras, batch, steps)}))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--child", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        return _child(a.child, a.batch, a.steps)
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir))
    import gkeras
    ms = time_steps(gkeras, a.batch, a.steps)
    device = gkeras.backend.backend()
    print(f"gkeras ({device}): {ms:8.1f} ms/step  (batch {a.batch}, "
          "32x32x3, tutorial CNN)")
    if device == "numpy":
        ceil = blas_gflops()
        print(f"  NumPy BLAS sgemm ceiling: {ceil:.1f} GFLOP/s; conv FLOPs "
              f"per step: {conv_gflops(a.batch):.2f} GFLOP -> "
              f"{conv_gflops(a.batch) / (ms / 1000):.1f} GFLOP/s over the "
              "whole step")
    for backend in ("jax", "torch"):
        try:
            out = subprocess.run(
                [sys.executable, __file__, "--child", backend, "--batch",
                 str(a.batch), "--steps", str(a.steps)],
                capture_output=True, text=True, timeout=600)
            other = json.loads(out.stdout.strip().splitlines()[-1])["ms"]
        except Exception:
            print(f"keras-{backend}: not available (keras/{backend} not "
                  "installed or failed to run); skipped")
            continue
        print(f"keras-{backend}: {other:8.1f} ms/step   gkeras/keras-"
              f"{backend} = {ms / other:.2f}x")


if __name__ == "__main__":
    main()
