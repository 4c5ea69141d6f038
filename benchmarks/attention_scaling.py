"""Attention time and peak memory against the sequence length.

gkeras's `ops.dot_product_attention` (forward, and forward + backward
through a `GradientTape`) next to PyTorch's
`torch.nn.functional.scaled_dot_product_attention` (forward, and forward
+ `backward`), self-attention shapes `(batch, seq, heads, key_dim)`,
float32, no mask, default threads.

Each (framework, sequence) pair runs in a fresh subprocess, the
frameworks interleaved. Peak memory is the growth of the process's peak
resident set (`VmHWM`, reset through `/proc/self/clear_refs`) over the
first forward + backward at that size, after a warm-up at a tiny size
(library set-up): what the attention itself holds at its peak, inputs
excluded. Times are medians of `repeats` calls after that. A quadratic
attention would need `batch * heads * seq**2 * 4` bytes for one score
matrix (512 MiB at seq 4096, 8 heads); blockwise attention needs memory
linear in the sequence.

Usage: python benchmarks/attention_scaling.py [--seq 64 256 1024 4096]
[--batch 1] [--heads 8] [--key-dim 16] [--repeats 3]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMEWORKS = ("gkeras", "torch")


def _status_kib(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    return 0


def _reset_peak():
    """Resets VmHWM to the current RSS; False where that is impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _gkeras_fns(batch, seq, heads, key_dim):
    os.environ.setdefault("GKERAS_BACKEND", "numpy")
    import numpy as np

    import gkeras
    from gkeras import ops
    from gkeras.ops.engine import GradientTape

    rng = np.random.default_rng(0)
    shape = (batch, seq, heads, key_dim)
    qkv = [rng.standard_normal(shape, dtype=np.float32) for _ in range(3)]
    dout = rng.standard_normal(shape, dtype=np.float32)

    def fwd():
        return ops.dot_product_attention(*qkv)

    def fwd_bwd():
        ts = [ops.convert_to_tensor(a) for a in qkv]
        with GradientTape() as tape:
            for t in ts:
                tape.watch(t)
            out = ops.dot_product_attention(*ts)
        return tape.gradient(out, ts, output_gradients=dout)

    return fwd, fwd_bwd, f"gkeras {gkeras.__version__} (numpy)"


def _torch_fns(batch, seq, heads, key_dim):
    import torch
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(0)
    shape = (batch, heads, seq, key_dim)
    qkv = [torch.randn(shape, generator=g) for _ in range(3)]
    dout = torch.randn(shape, generator=g)

    def fwd():
        with torch.inference_mode():
            return F.scaled_dot_product_attention(*qkv)

    def fwd_bwd():
        ts = [a.clone().requires_grad_(True) for a in qkv]
        out = F.scaled_dot_product_attention(*ts)
        out.backward(dout)
        return [t.grad for t in ts]

    return fwd, fwd_bwd, (f"PyTorch {torch.__version__} "
                          f"({torch.get_num_threads()} threads)")


def measure(framework, seq, batch=1, heads=8, key_dim=16, repeats=3):
    """One row, measured in this process (call it in a fresh one).

    Args:
        framework: `"gkeras"` or `"torch"`.
        seq: sequence length (queries = keys).
        batch, heads, key_dim: the attention's other sizes.
        repeats: timed calls (median).

    Returns:
        `{"framework", "seq", "fwd_ms", "fwd_bwd_ms", "peak_mib"}`.
    """
    make = _gkeras_fns if framework == "gkeras" else _torch_fns
    for fn in make(batch, 8, heads, key_dim)[:2]:  # library set-up
        fn()
    fwd, fwd_bwd, _ = make(batch, seq, heads, key_dim)
    peak = None
    if _reset_peak():
        base = _status_kib("VmRSS")
        fwd_bwd()
        peak = (_status_kib("VmHWM") - base) / 1024.0
    times = {}
    for name, fn in (("fwd_ms", fwd), ("fwd_bwd_ms", fwd_bwd)):
        fn()
        ts = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        times[name] = statistics.median(ts) * 1e3
    return {"framework": framework, "seq": int(seq),
            "fwd_ms": times["fwd_ms"], "fwd_bwd_ms": times["fwd_bwd_ms"],
            "peak_mib": peak}


def attention_scaling_rows(seq_lens=(64, 256, 1024, 4096), batch=1, heads=8,
                           key_dim=16, repeats=3):
    """Time and peak memory of gkeras and PyTorch attention per length.

    Each measurement runs in a fresh subprocess of this interpreter (which
    needs gkeras and torch importable); a framework that fails to run
    gives a row with None values and an `"error"` entry.

    Args:
        seq_lens: sequence lengths (queries = keys).
        batch, heads, key_dim: the attention's other sizes.
        repeats: timed calls per measurement (median).

    Returns:
        A list of dicts with keys `framework`, `seq`, `fwd_ms`,
        `fwd_bwd_ms`, `peak_mib` (MiB over the inputs), in the order
        measured (gkeras and torch alternating).
    """
    rows = []
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (_ROOT, env.get("PYTHONPATH")) if p)
    for i, seq in enumerate(seq_lens):
        order = FRAMEWORKS if i % 2 == 0 else FRAMEWORKS[::-1]
        for fw in order:
            cmd = [sys.executable, os.path.abspath(__file__), "--child", fw,
                   "--seq", str(seq), "--batch", str(batch), "--heads",
                   str(heads), "--key-dim", str(key_dim), "--repeats",
                   str(repeats)]
            res = subprocess.run(cmd, capture_output=True, text=True,
                                 env=env)
            try:
                rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
            except (IndexError, ValueError):
                rows.append({"framework": fw, "seq": int(seq),
                             "fwd_ms": None, "fwd_bwd_ms": None,
                             "peak_mib": None,
                             "error": (res.stderr or "no output")[-300:]})
    return rows


def _fmt(x, spec):
    return "-" if x is None else format(x, spec)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seq", type=int, nargs="+",
                    default=[64, 256, 1024, 4096])
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--key-dim", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--child", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        print(json.dumps(measure(a.child, a.seq[0], a.batch, a.heads,
                                 a.key_dim, a.repeats)))
        return
    rows = attention_scaling_rows(tuple(a.seq), a.batch, a.heads, a.key_dim,
                                  a.repeats)
    print(f"batch {a.batch}, {a.heads} heads, key_dim {a.key_dim}, float32;"
          " peak = growth of peak RSS over one forward+backward")
    print(f"{'framework':<10}{'seq':>6}{'fwd ms':>10}{'fwd+bwd ms':>12}"
          f"{'peak MiB':>10}{'scores MiB':>12}")
    for r in rows:
        quad = a.batch * a.heads * r["seq"] ** 2 * 4 / 2 ** 20
        print(f"{r['framework']:<10}{r['seq']:>6}"
              f"{_fmt(r['fwd_ms'], '10.2f')}{_fmt(r['fwd_bwd_ms'], '12.2f')}"
              f"{_fmt(r['peak_mib'], '10.1f')}{quad:>12.1f}"
              + (f"  error: {r['error']!r}" if "error" in r else ""))


if __name__ == "__main__":
    main()
