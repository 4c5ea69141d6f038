"""`python -m gkeras.backend.check` on this CPU-only machine: it must say
that no GPU was found, run the NumPy path of every primitive case, list
every kernel entry point of `kernels/*.cu` with a verdict, train each
tutorial model, and end with a PASS verdict and exit status 0.
"""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from gkeras.backend import check

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_check_runs_on_a_cpu_only_machine():
    env = dict(os.environ, GKERAS_BACKEND="auto")
    r = subprocess.run([sys.executable, "-m", "gkeras.backend.check",
                        "--steps", "2"], capture_output=True, text=True,
                       env=env, cwd=ROOT, timeout=600)
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    assert "backend: numpy" in out
    assert "No GPU found" in out
    for name, _, _ in check.CASES:
        assert re.search(rf"^  {re.escape(name)}\s+numpy path ok", out,
                         re.M), name
    entries = check.entry_points()
    assert entries["optimizers.cu"][:3] == ["sgd_mt_f32", "adam_mt_f32",
                                            "rmsprop_mt_f32"]
    for f, names in entries.items():
        for n in names:
            assert re.search(rf"^  {re.escape(f)}:{n}\s+not run \(no GPU\)",
                             out, re.M), (f, n)
    for m in check.MODELS:
        line = re.search(rf"^  {m}\s+numpy ok: loss ([\d.]+) -> ([\d.]+)",
                         out, re.M)
        assert line, m
    assert out.strip().splitlines()[-1].startswith(
        "Verdict: PASS (CPU only, no GPU found")


def test_compare_catches_mismatches():
    a = np.ones((2, 3), np.float32)
    assert check._compare([a], [a], 1e-4)[0] is None
    assert "max error" in check._compare([a + 1e-2], [a], 1e-4)[0]
    assert "shape" in check._compare([a[:1]], [a], 1e-4)[0]
    ints = np.arange(4)
    assert "entries differ" in check._compare([ints + (ints == 2)], [ints],
                                              0.0)[0]
    assert "None" in check._compare([None], [a], 1e-4)[0]


@pytest.mark.parametrize("name", ["mlp", "transformer"])
def test_models_build(name):
    model, x, y, loss = check._build_model(name)
    assert model.predict_on_batch(x).shape == y.shape
