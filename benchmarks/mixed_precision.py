"""Times the tutorial models under float32, mixed_float16 and
mixed_bfloat16 dtype policies (issue 18).

    python benchmarks/mixed_precision.py [--models mlp cnn lstm transformer]
        [--batch 32] [--steps 5] [--policies float32 mixed_float16 ...]
        [--json out.json]

For each model and policy: the global policy is set before the model is
built (as Keras's mixed precision guide does), the model is compiled with
Adam (wrapped in a LossScaleOptimizer under mixed_float16, as `compile`
does), and the median ms of `train_on_batch` and of `predict_on_batch`
over `--steps` batches is printed, with the ratio to float32.

On the CPU, half precision is not faster: NumPy has no half-precision
GEMM (and no bfloat16 at all), so gkeras computes each primitive in
float32 and rounds its result, paying the casts on top. The point of the
CPU numbers is that mixed precision runs correctly at a bounded cost; the
speed comes from the GPU's tensor cores (see gpu_bench.sh).
"""

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _models_module():
    spec = importlib.util.spec_from_file_location(
        "bench_models", os.path.join(HERE, "models.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def time_model(keras, builder, policy, batch, steps):
    """(train ms, predict ms, optimizer class, output dtype), medians."""
    keras.mixed_precision.set_global_policy(policy)
    try:
        model, x, y, loss = builder(keras, batch)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    model.compile(optimizer="adam", loss=loss)
    xb, yb = x[:batch], y[:batch]
    model.train_on_batch(xb, yb)                # build + warm-up
    out = model.predict_on_batch(xb)
    train, pred = [], []
    for i in range(steps):
        sl = slice((i % (len(x) // batch)) * batch,
                   (i % (len(x) // batch) + 1) * batch)
        t = time.perf_counter()
        model.train_on_batch(x[sl], y[sl])
        train.append(time.perf_counter() - t)
        t = time.perf_counter()
        model.predict_on_batch(x[sl])
        pred.append(time.perf_counter() - t)
    return (1e3 * statistics.median(train), 1e3 * statistics.median(pred),
            type(model.optimizer).__name__, str(out.dtype))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+",
                   default=["mlp", "cnn", "lstm", "transformer"])
    p.add_argument("--policies", nargs="+",
                   default=["float32", "mixed_float16", "mixed_bfloat16"])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--json", help="also write the results to this file")
    args = p.parse_args(argv)
    sys.path.insert(0, os.path.dirname(HERE))
    import gkeras
    models = _models_module().MODELS
    rows = []
    print(f"gkeras {gkeras.__version__} on {gkeras.backend.backend()}, "
          f"batch {args.batch}, median of {args.steps} steps")
    print(f"{'model':12s} {'policy':15s} {'train ms':>9s} {'x f32':>6s} "
          f"{'predict ms':>10s} {'x f32':>6s}  optimizer / output dtype")
    for name in args.models:
        base = None
        for policy in args.policies:
            tr, pr, opt, dt = time_model(gkeras, models[name], policy,
                                         args.batch, args.steps)
            if policy == "float32":
                base = (tr, pr)
            rt = f"{tr / base[0]:6.2f}" if base else "     -"
            rp = f"{pr / base[1]:6.2f}" if base else "     -"
            print(f"{name:12s} {policy:15s} {tr:9.1f} {rt} {pr:10.1f} {rp}"
                  f"  {opt} / {dt}", flush=True)
            rows.append({"model": name, "policy": policy, "batch": args.batch,
                         "train_ms": tr, "predict_ms": pr, "optimizer": opt,
                         "output_dtype": dt})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
