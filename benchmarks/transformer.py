"""Train-step time of a 2-block Transformer encoder (Keras-API code).

seq 100, embed 128, 8 heads, ff 512, batch 32, built-in
MultiHeadAttention + LayerNormalization + Dropout. Runs on gkeras, and on
Keras 3 (JAX, then PyTorch backend) when installed, and prints ms/step
and the ratio.

    python benchmarks/transformer.py [--steps 20] [--backends gkeras,jax]
"""

import argparse
import importlib
import os
import subprocess
import sys
import time

import numpy as np

SEQ, EMBED, HEADS, FF, BATCH, CLASSES = 100, 128, 8, 512, 32, 10


def build(keras):
    layers = keras.layers
    inp = keras.Input((SEQ, EMBED))
    x = inp
    for _ in range(2):
        a = layers.MultiHeadAttention(HEADS, EMBED // HEADS, dropout=0.1)(x, x)
        x = layers.LayerNormalization(epsilon=1e-6)(
            layers.add([x, layers.Dropout(0.1)(a)]))
        f = layers.Dense(FF, activation="relu")(x)
        f = layers.Dense(EMBED)(f)
        x = layers.LayerNormalization(epsilon=1e-6)(
            layers.add([x, layers.Dropout(0.1)(f)]))
    x = layers.GlobalAveragePooling1D()(x) if hasattr(
        layers, "GlobalAveragePooling1D") else layers.Lambda(
        lambda t: keras.ops.mean(t, axis=1))(x)
    out = layers.Dense(CLASSES, activation="softmax")(x)
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy")
    return model


def time_backend(name, steps):
    if name == "gkeras":
        keras = importlib.import_module("gkeras")
    else:
        os.environ["KERAS_BACKEND"] = name
        keras = importlib.import_module("keras")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SEQ, EMBED)).astype("float32")
    y = rng.integers(0, CLASSES, BATCH).astype("int32")
    model = build(keras)
    for _ in range(3):  # warm-up (compilation on JAX)
        model.train_on_batch(x, y)
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = model.train_on_batch(x, y)
    float(np.ravel(loss)[0])  # waits for the device
    return (time.perf_counter() - t0) / steps * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--backends", default="gkeras,jax,torch")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(f"{time_backend(args.one, args.steps):.3f}")
        return
    results = {}
    for b in args.backends.split(","):
        if b != "gkeras" and importlib.util.find_spec("keras") is None:
            print(f"{b:>8}: skipped (keras not installed)")
            continue
        # One process per backend: Keras fixes its backend at import.
        r = subprocess.run([sys.executable, __file__, "--one", b,
                            "--steps", str(args.steps)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"{b:>8}: failed: {r.stderr.strip().splitlines()[-1:]}")
            continue
        results[b] = float(r.stdout.strip().splitlines()[-1])
        print(f"{b:>8}: {results[b]:8.1f} ms/step")
    if "gkeras" in results:
        for b, ms in results.items():
            if b != "gkeras":
                print(f"gkeras / keras-{b}: {results['gkeras'] / ms:.2f}x")


if __name__ == "__main__":
    main()
