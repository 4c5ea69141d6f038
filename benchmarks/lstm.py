"""The tutorial LSTM train step: Embedding(20000, 128) -> LSTM(128) ->
Dense(1, sigmoid), sequence 100, batch 32, Adam, binary cross-entropy.

Usage: python benchmarks/lstm.py [--steps 20] [--batch 32]

Runs gkeras always; Keras 3 on JAX / PyTorch (through bench_one.py, each in
its own process) and a plain PyTorch nn.LSTM (cuDNN on a GPU) when they are
installed. Prints the median ms per train step and the ratios to gkeras.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _torch_ms(batch, steps, warmup):
    try:
        import torch
    except ImportError:
        return None
    dev = "cuda" if torch.cuda.is_available() else "cpu"

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(20000, 128)
            self.lstm = torch.nn.LSTM(128, 128, batch_first=True)
            self.out = torch.nn.Linear(128, 1)

        def forward(self, x):
            _, (h, _) = self.lstm(self.emb(x))
            return torch.sigmoid(self.out(h[-1]))

    net = Net().to(dev)
    opt = torch.optim.Adam(net.parameters())
    x = torch.randint(1, 20000, (batch, 100), device=dev)
    y = torch.randint(0, 2, (batch, 1), device=dev).float()
    loss_fn = torch.nn.BCELoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        if dev == "cuda":
            torch.cuda.synchronize()

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def _bench_one(framework, batch, steps, warmup):
    cmd = [sys.executable, os.path.join(HERE, "bench_one.py"),
           "--framework", framework, "--model", "lstm", "--batch",
           str(batch), "--steps", str(steps), "--warmup", str(warmup)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True,
                             timeout=1800).stdout.strip().splitlines()
        return json.loads(out[-1]) if out else {"error": "no output"}
    except Exception as e:  # a missing or broken framework
        return {"error": str(e)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    a = p.parse_args()
    rows = {}
    for fw in ("gkeras", "keras-jax", "keras-torch"):
        r = _bench_one(fw, a.batch, a.steps, a.warmup)
        if "train_ms" in r:
            rows[fw] = r["train_ms"]
        else:
            print(f"{fw}: skipped ({r.get('error')})")
    t = _torch_ms(a.batch, a.steps, a.warmup)
    if t is not None:
        rows["pytorch nn.LSTM"] = t
    base = rows.get("gkeras")
    for name, ms in rows.items():
        ratio = f"  ({ms / base:.2f}x gkeras)" if base else ""
        print(f"{name:18s} {ms:9.2f} ms/step{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
