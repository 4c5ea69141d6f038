"""Times the tutorial models under float32, mixed_float16 and
mixed_bfloat16 dtype policies (issue 18).

    python benchmarks/mixed_precision.py [--models mlp cnn lstm transformer]
        [--batch 32] [--steps 5] [--policies float32 mixed_float16 ...]
        [--json out.json]
    python benchmarks/mixed_precision.py --vs-torch-amp [--out FILE.md]
        # on a GPU: gkeras (CuPy) against PyTorch AMP (torch.autocast)

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


def vs_torch_amp(models, policies, steps, out=None, dry_run=False):
    """gkeras under each policy against PyTorch with `torch.autocast` in
    the matching dtype (float32: no autocast): ms per training step, both
    on data already on the device, one loss read-back per step each
    (benchmarks/torch_eager_gpu.py's protocol and models)."""
    import torch_eager_gpu as te
    try:
        import torch
        device = "cuda" if torch.cuda.is_available() and not dry_run \
            else "cpu"
        label = f"PyTorch {torch.__version__} ({device})"
    except ImportError:
        torch, device, label = None, None, "PyTorch: not installed"
    import gkeras
    lines = [f"gkeras backend: {gkeras.backend.backend()}; {label}", "",
             "| model | batch | policy | gkeras ms/step | PyTorch AMP "
             "ms/step | ratio |", "|---|---:|---|---:|---:|---:|"]
    print("\n".join(lines), flush=True)
    for name in models:
        batch = 2 if dry_run else te.BATCH[name]
        for policy in policies:
            cells = [name, str(batch), policy]
            gkeras.mixed_precision.set_global_policy(policy)
            try:
                gk = te._median_step(te.gkeras_step(name, batch), steps,
                                     1 if dry_run else 5)
                cells.append(f"{gk:.2f}")
            except Exception as e:
                gk = None
                cells.append(f"failed: {type(e).__name__}: {e}"[:160])
            finally:
                gkeras.mixed_precision.set_global_policy("float32")
            pt = None
            if torch is None:
                cells.append("-")
            else:
                amp = {"mixed_float16": torch.float16,
                       "mixed_bfloat16": torch.bfloat16}.get(policy)
                try:
                    pt = te._median_step(te.torch_step(
                        name, batch, device, amp_dtype=amp), steps,
                        1 if dry_run else 5)
                    cells.append(f"{pt:.2f}")
                except Exception as e:
                    cells.append(f"failed: {type(e).__name__}: {e}"[:160])
            cells.append(f"{gk / pt:.2f}" if gk and pt else "-")
            lines.append("| " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    lines += ["", "ratio = gkeras / PyTorch (below 1: gkeras faster). "
              "gkeras has no bfloat16 on CuPy (NotImplementedError)."]
    if out:
        with open(out, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+",
                   default=["mlp", "cnn", "lstm", "transformer"])
    p.add_argument("--policies", nargs="+",
                   default=["float32", "mixed_float16", "mixed_bfloat16"])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--vs-torch-amp", action="store_true",
                   help="time against PyTorch AMP (torch.autocast) instead")
    p.add_argument("--out", help="with --vs-torch-amp: markdown table file")
    p.add_argument("--dry-run", action="store_true",
                   help="with --vs-torch-amp: CPU, batch 2, 2 steps")
    args = p.parse_args(argv)
    sys.path.insert(0, os.path.dirname(HERE))
    sys.path.insert(0, HERE)
    if args.vs_torch_amp:
        if args.dry_run:
            os.environ["GKERAS_BACKEND"] = "numpy"
        return vs_torch_amp(args.models, args.policies,
                            2 if args.dry_run else args.steps, args.out,
                            args.dry_run)
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
