"""Model-level scenarios run on the NumPy backend and, in a subprocess,
on the CuPy stand-in (tests/cupy_standin), then compared
(tests/test_cupy_standin.py, tests/test_standin_defects.py)."""

import os
import subprocess
import sys

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(TESTS)
STANDIN = os.path.join(TESTS, "cupy_standin")


def standin_env():
    """The environment of a process running gkeras on the stand-in."""
    env = dict(os.environ)
    env["GKERAS_BACKEND"] = "cupy"
    env["OMP_NUM_THREADS"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(
        [ROOT, TESTS, STANDIN] + [p for p in env.get(
            "PYTHONPATH", "").split(os.pathsep) if p])
    return env


def run_in_standin(argv, timeout=300):
    """Runs `python *argv` under the stand-in (cwd tests/); returns the
    completed process."""
    return subprocess.run([sys.executable, *argv], env=standin_env(),
                          cwd=TESTS, capture_output=True, text=True,
                          timeout=timeout)
