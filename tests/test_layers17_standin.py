"""The CuPy path of `ops.image`, the fft family, adaptive pooling and the
audio/augmentation layers, on the strict CuPy stand-in
(tests/cupy_standin, which refuses implicit host conversion and NumPy
operands): every case must run on device arrays and match NumPy."""

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "cupy_standin")


def test_layers17_ops_and_layers_on_the_cupy_standin():
    if not os.path.isdir(os.path.join(STANDIN, "cupy")):
        pytest.skip("tests/cupy_standin (the CuPy stand-in of issue 16) is "
                    "not in this checkout")
    env = dict(os.environ, GKERAS_BACKEND="cupy", OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([STANDIN, os.path.dirname(HERE)]))
    r = subprocess.run([sys.executable,
                        os.path.join(HERE, "standin_layers17_check.py")],
                       env=env, capture_output=True, text=True, timeout=300)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    assert "failures: 0" in out, out[-4000:]
    assert out.count(" ok ") >= 50, out[-4000:]
