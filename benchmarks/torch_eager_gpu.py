"""The tutorial models on gkeras (CuPy backend) against the same models in
plain PyTorch eager (cuDNN), on one GPU: training-step time per model.

    python benchmarks/torch_eager_gpu.py [--models mlp cnn lstm gru transformer]
                                         [--steps 30] [--out FILE.md]
    python benchmarks/torch_eager_gpu.py --dry-run   # CPU, tiny, any machine

Both sides train the same architecture (benchmarks/models.py for gkeras,
a line-for-line PyTorch twin here) with Adam on data already on the
device, and read the loss back once per step (`float(...)` / `.item()`),
so each step ends with one device sync on both sides. Timing: 5 warm-up
steps, then the median of `--steps` per-step wall times. PyTorch runs with
its defaults (cuDNN on, TF32 off for matmul) and gkeras with TF32 off, so
both do full float32 GEMMs. Prints a markdown table; `--out` also writes it.
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

BATCH = {"mlp": 256, "cnn": 64, "lstm": 32, "gru": 32, "transformer": 32}


def _median_step(step, steps, warmup=5):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


# ------------------------------------------------------------------ gkeras

def gkeras_step(name, batch):
    """A zero-argument training step of the gkeras model on device data."""
    import gkeras as k
    import models as tutorial
    if name == "gru":
        L = k.layers
        model = k.Sequential([
            k.Input((100,), dtype="int32"), L.Embedding(20000, 128),
            L.GRU(128), L.Dense(1, activation="sigmoid")])
        rng = np.random.default_rng(0)
        x = rng.integers(1, 20000, (batch, 100)).astype("int32")
        y = rng.integers(0, 2, (batch, 1)).astype("float32")
        loss = "binary_crossentropy"
    else:
        model, x, y, loss = getattr(tutorial, name)(k, batch)
        x, y = x[:batch], y[:batch]
    model.compile(optimizer=k.optimizers.Adam(1e-3), loss=loss)
    xp = k.backend.get_xp()
    x, y = xp.asarray(x), xp.asarray(y)
    return lambda: float(model.train_on_batch(x, y))


# ----------------------------------------------------------------- PyTorch

def torch_step(name, batch, device, amp_dtype=None):
    """The PyTorch twin of the tutorial model (benchmarks/torch_models.py),
    one training step on one batch already on the device.

    With `amp_dtype` (`torch.float16` / `torch.bfloat16`) the forward pass
    and the loss run under `torch.autocast` (PyTorch AMP), float16 with a
    `GradScaler`, as the PyTorch AMP recipe does.
    """
    import torch
    import torch_models
    twin = torch_models.build(name, batch, device, batches=1)
    if amp_dtype is not None:
        return _amp_step(torch, twin.model, twin.opt, twin.loss_fn,
                         twin.xs[0], twin.ys[0], device, amp_dtype)
    return twin.train_step


def _amp_step(torch, model, opt, loss_fn, x, y, device, amp_dtype):
    kind = str(device).split(":")[0]
    scaler = None
    if amp_dtype == torch.float16:
        amp = getattr(torch, "amp", None)
        scaler = (amp.GradScaler(kind) if hasattr(amp, "GradScaler")
                  else torch.cuda.amp.GradScaler())

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device_type=kind, dtype=amp_dtype):
            loss = loss_fn(model(x), y)
        if scaler is None:
            loss.backward()
            opt.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        return loss.item()
    return step


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="*",
                   default=["mlp", "cnn", "lstm", "gru", "transformer"])
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--out")
    p.add_argument("--dry-run", action="store_true",
                   help="CPU, batch 2, 2 steps (checks the script itself)")
    a = p.parse_args(argv)
    if a.dry_run:
        os.environ["GKERAS_BACKEND"] = "numpy"
        a.steps = 2
    try:
        import torch
        device = ("cuda" if torch.cuda.is_available() and not a.dry_run
                  else "cpu")
        torch_label = f"PyTorch {torch.__version__} eager ({device})"
    except ImportError:
        torch, device, torch_label = None, None, "PyTorch: not installed"
    import gkeras
    lines = [f"gkeras backend: {gkeras.backend.backend()}; {torch_label}", "",
             "| model | batch | gkeras ms/step | PyTorch ms/step | ratio |",
             "|---|---:|---:|---:|---:|"]
    print("\n".join(lines), flush=True)
    for name in a.models:
        batch = 2 if a.dry_run else BATCH[name]
        cells = [name, str(batch)]
        try:
            gk = _median_step(gkeras_step(name, batch), a.steps,
                              1 if a.dry_run else 5)
            cells.append(f"{gk:.2f}")
        except Exception as e:
            gk = None
            cells.append(f"failed: {type(e).__name__}: {e}")
        if torch is None:
            cells.append("-")
            pt = None
        else:
            try:
                pt = _median_step(torch_step(name, batch, device), a.steps,
                                  1 if a.dry_run else 5)
                cells.append(f"{pt:.2f}")
            except Exception as e:
                pt = None
                cells.append(f"failed: {type(e).__name__}: {e}")
        cells.append(f"{gk / pt:.2f}" if gk and pt else "-")
        line = "| " + " | ".join(cells) + " |"
        lines.append(line)
        print(line, flush=True)
    lines += ["", "ratio = gkeras / PyTorch (below 1: gkeras faster)."]
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
