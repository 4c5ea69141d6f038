"""Runs the scenarios of `scenarios.py` on the backend of this process
and pickles `{name: {"values": ..., "counts": ..., "error": ...}}`.

Usage: python -m standin_suite.runner OUT.pkl [name ...]
(with `tests/` and, for CuPy, `tests/cupy_standin` on `sys.path`).
"""

import os
import pickle
import sys
import time
import traceback

import numpy as np


def _host(v):
    import gkeras
    if isinstance(v, dict):
        return {k: _host(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_host(x) for x in v)
    if isinstance(v, (int, float, str, bool, type(None))):
        return v
    return np.asarray(gkeras.ops.convert_to_numpy(v))


def run(names=None):
    from standin_suite import families, scenarios
    out = {}
    for name, fn in {**scenarios.SCENARIOS, **families.FAMILIES}.items():
        if names and name not in names:
            continue
        ctx = scenarios.Context()
        t = time.time()
        try:
            values = fn(ctx)
            out[name] = {"values": _host(values), "counts": ctx.counts,
                         "error": None}
        except Exception:
            out[name] = {"values": None, "counts": ctx.counts,
                         "error": traceback.format_exc()[-4000:]}
        out[name]["seconds"] = time.time() - t
    return out


def main(argv):
    res = run(set(argv[2:]) or None)
    with open(argv[1], "wb") as f:
        pickle.dump(res, f)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    main(sys.argv)
