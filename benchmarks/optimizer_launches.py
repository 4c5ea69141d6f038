"""Kernel launches per optimizer step, per tutorial model: before and after
the fused multi-tensor update (kernels/optimizers.cu).

Counted, not timed, so it runs anywhere (no GPU needed):

- before: the per-variable path, which on CuPy issues one element-wise
  kernel per ufunc. Every ufunc call (reductions included) of one
  `optimizer.apply` on an array is counted by running it on NumPy arrays
  viewed as a counting ndarray subclass (in-place operators included),
  plus one launch per weight-decayed variable (`_apply_weight_decay`).
  Operations on 0-d results (the global norm's sqrt, minimum, ...) are
  not seen, so the clipping row is a lower bound.
- after: the launches the fused GPU dispatch issues for the same step,
  recorded by a runtime that counts `launch` calls (the dispatch code is
  the real one; only the launch is not executed).

    python benchmarks/optimizer_launches.py [--markdown]
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import gkeras  # noqa: E402
from gkeras.optimizers import _fused, base_optimizer  # noqa: E402

import models as tutorial  # noqa: E402


def gru(k, batch):
    """Embedding(20000,128) -> GRU(128) -> Dense(1): the LSTM model with a
    GRU cell."""
    L = k.layers
    model = k.Sequential([
        k.Input((100,), dtype="int32"), L.Embedding(20000, 128),
        L.GRU(128), L.Dense(1, activation="sigmoid")])
    return model, None, None, "binary_crossentropy"


MODELS = {"mlp": tutorial.mlp, "cnn": tutorial.cnn, "lstm": tutorial.lstm,
          "gru": gru, "transformer": tutorial.transformer}

OPTIMIZERS = {
    "Adam": lambda: gkeras.optimizers.Adam(),
    "AdamW": lambda: gkeras.optimizers.AdamW(),
    "SGD(momentum=0.9)": lambda: gkeras.optimizers.SGD(momentum=0.9),
    "RMSprop": lambda: gkeras.optimizers.RMSprop(),
    "Adam(global_clipnorm=1)": lambda: gkeras.optimizers.Adam(
        global_clipnorm=1.0),
    "Adam(clipnorm=1)": lambda: gkeras.optimizers.Adam(clipnorm=1.0),
}


class _Counting(np.ndarray):
    calls = 0

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _Counting.calls += 1
        inputs = [i.view(np.ndarray) if isinstance(i, _Counting) else i
                  for i in inputs]
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(
                o, _Counting) else o for o in out)
        result = getattr(ufunc, method)(*inputs, **kwargs)
        # In-place operators rebind the name to what is returned: hand back
        # the counting `out`, so later `tmp *= x` are counted too.
        return out[0] if out is not None and len(out) == 1 else result


def _before(opt, variables, grads):
    blocks = opt._blocks

    def counting_blocks(*args):
        for piece in blocks(*args):
            yield tuple(a.view(_Counting) for a in piece)

    opt._blocks = counting_blocks
    _Counting.calls = 0
    # Whole arrays, as on the GPU (the CPU path cuts large variables into
    # cache-sized blocks, which would multiply the count).
    saved = base_optimizer._BLOCKED_ABOVE
    base_optimizer._BLOCKED_ABOVE = 1 << 62
    try:
        # Gradients counted too (clipping works on them before the blocks).
        opt.apply([g.view(_Counting) for g in grads], variables)
    finally:
        base_optimizer._BLOCKED_ABOVE = saved
    decayed = 0
    if opt.weight_decay is not None:
        decayed = sum(opt._use_weight_decay(v) for v in variables)
    del opt._blocks
    return _Counting.calls + decayed


class _CountingRuntime:
    xp = np

    def __init__(self):
        self.launches = 0

    def launch(self, *args, **kwargs):
        self.launches += 1


def _after(opt, variables, grads):
    rt = _CountingRuntime()
    saved = _fused.runtime_for
    _fused.runtime_for = lambda a: rt if isinstance(a, np.ndarray) else None
    try:
        opt.apply(grads, variables)
    finally:
        _fused.runtime_for = saved
    return rt.launches


def count(model_name, opt_name):
    """Returns `(n_variables, before, after)` for one model/optimizer."""
    gkeras.utils.set_random_seed(0)
    model = MODELS[model_name](gkeras, 2)[0]
    variables = model.trainable_variables
    grads = [np.ones(v.shape, v.dtype) * 1e-3 for v in variables]
    opt = OPTIMIZERS[opt_name]()
    opt.build(variables)
    before = _before(opt, variables, grads)
    after = _after(opt, variables, grads)
    return len(variables), before, after


def markdown_section():
    """The "Optimizer launches per step" section of benchmarks/RESULTS.md
    (a list of lines)."""
    out = ["## Optimizer launches per step", "",
           "Kernel launches of one `optimizer.apply` on the CuPy backend, "
           "counted (not timed) by `benchmarks/optimizer_launches.py`: "
           "before = the per-variable element-wise path (one launch per "
           "ufunc, as CuPy issues them), after = the fused multi-tensor "
           "update of `kernels/optimizers.cu` (all float32 variables, weight "
           "decay included, in one launch). Both leave out the one fill that "
           "advances the `iterations` counter (a device write, no host "
           "read). With `global_clipnorm` or `clipnorm` the fused path adds "
           "two launches (sums of squares, scales), the per-variable path "
           "a few per variable (a lower bound: the count misses the "
           "operations on 0-d norms). EMA and gradient accumulation add their own launches "
           "to both.", "",
           "| model | optimizer | trainable variables | launches before | "
           "launches after |", "|---|---|---:|---:|---:|"]
    for m in MODELS:
        for o in OPTIMIZERS:
            n, before, after = count(m, o)
            out.append(f"| {m} | {o} | {n} | {before} | {after} |")
    return out + [""]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--markdown", action="store_true")
    args = p.parse_args(argv)
    if args.markdown:
        print("\n".join(markdown_section()))
        return
    for m in MODELS:
        for o in OPTIMIZERS:
            print("{:12s} {:18s} vars={:3d} before={:4d} after={}".format(
                m, o, *count(m, o)))


if __name__ == "__main__":
    main()
