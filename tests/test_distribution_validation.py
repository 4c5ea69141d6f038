"""Issue 17, defect 6 under `gkeras.distribution`: validation inside a
data-parallel `fit` fires `on_test_*` on the fit's callbacks with the
global (all-reduced) logs, equal to a single process's."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "data", "dist_validation_worker.py")


def _mpiexec():
    exe = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return exe if os.path.exists(exe) else shutil.which("mpiexec")


def _skip_reason():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed (pip install gkeras[distributed])"
    if _mpiexec() is None:
        return "no mpiexec on PATH or beside the Python executable"
    return None


@pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))
def test_validation_hooks_in_data_parallel_fit(tmp_path):
    env = dict(os.environ, GKERAS_BACKEND="numpy", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=HERE + os.pathsep + os.path.dirname(HERE))
    single = subprocess.run([sys.executable, WORKER, str(tmp_path),
                             "single"], capture_output=True, text=True,
                            timeout=120, env=env)
    assert single.returncode == 0, single.stderr
    with open(tmp_path / "rank0.json") as f:
        want = json.load(f)
    dist = subprocess.run([_mpiexec(), "-n", "2", sys.executable, WORKER,
                           str(tmp_path)], capture_output=True, text=True,
                          timeout=120, env=env)
    assert dist.returncode == 0, dist.stdout + dist.stderr
    with open(tmp_path / "rank0.json") as f:
        got = json.load(f)
    # Two epochs, each: begin, two validation batches, end.
    kinds = [e[0] for e in want["events"]]
    assert kinds == ["begin", "batch", "batch", "end"] * 2
    def shape(events):
        return [e[:2] if e[0] == "batch" else e[:1] for e in events]
    assert shape(got["events"]) == shape(want["events"])
    np.testing.assert_allclose(
        [e[-1] for e in got["events"] if e[0] != "begin"],
        [e[-1] for e in want["events"] if e[0] != "begin"], rtol=1e-5)
    np.testing.assert_allclose(got["val_loss"], want["val_loss"], rtol=1e-5)
    # on_test_end's loss is the epoch's val_loss.
    np.testing.assert_allclose([e[1] for e in got["events"]
                                if e[0] == "end"], got["val_loss"],
                               rtol=1e-6)
