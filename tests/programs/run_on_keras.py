"""Runs the programs on the real Keras 3, to confirm they are valid Keras
and that its behaviour passes the same assertions.

Usage (a Keras 3 environment, e.g. JAX backend):

    KERAS_BACKEND=jax python tests/programs/run_on_keras.py [p01_*.py ...]

Each program is run in its own process with `gkeras` changed back to
`keras` in its text. Programs whose docstring says `Keras reference: none`
(those written against gkeras's TensorFlow-style `GradientTape`, which
Keras 3 has only under TensorFlow) are skipped and listed as such.
"""
import glob
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main(names):
    paths = ([os.path.join(HERE, n) for n in names] if names else
             sorted(glob.glob(os.path.join(HERE, "p[0-9]*.py"))))
    failed = 0
    for path in paths:
        src = open(path).read()
        name = os.path.basename(path)
        if "Keras reference: none" in src:
            print(f"SKIP {name} (no Keras-3 spelling of this program)")
            continue
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write(src.replace("gkeras", "keras"))
        t0 = time.time()
        r = subprocess.run([sys.executable, f.name], capture_output=True,
                           text=True)
        os.unlink(f.name)
        status = "PASS" if r.returncode == 0 else "FAIL"
        failed += r.returncode != 0
        print(f"{status} {name} ({time.time() - t0:.1f} s)")
        if r.returncode:
            print(r.stderr[-2000:])
    return failed


if __name__ == "__main__":
    sys.exit(1 if main(sys.argv[1:]) else 0)
