"""The TensorFloat-32 switch (`gkeras.config.enable_tensor_float_32_
execution`): off by default, `GKERAS_TF32` at startup, mapped to CuPy's
cuBLAS float32 compute type and `CUPY_TF32`.

A fake `cupy` module stands in for the two things the switch touches
(`cupy.cuda.Device().compute_capability` and
`cupy._core._routines_linalg.set_compute_type`, whose constants are CuPy's
own: DEFAULT = 1, TF32 = 7, from cupy/_core/_routines_linalg.pxd).
"""

import sys
import types

import numpy as np
import pytest

import gkeras
from gkeras.backend import config
from gkeras.backend.gpu import math_mode


@pytest.fixture
def restore(monkeypatch):
    saved = config._TF32[0]
    monkeypatch.delenv("CUPY_TF32", raising=False)
    yield monkeypatch
    config._TF32[0] = saved


def _fake_cupy(monkeypatch, cc):
    calls = []
    cupy = types.ModuleType("cupy")
    cupy.cuda = types.SimpleNamespace(
        Device=lambda: types.SimpleNamespace(compute_capability=cc))
    core = types.ModuleType("cupy._core")
    linalg = types.ModuleType("cupy._core._routines_linalg")
    linalg.COMPUTE_TYPE_DEFAULT, linalg.COMPUTE_TYPE_TF32 = 1, 7
    linalg.set_compute_type = lambda dtype, mode: calls.append(
        (np.dtype(dtype), mode))
    core._routines_linalg = linalg
    cupy._core = core
    for name, mod in (("cupy", cupy), ("cupy._core", core),
                      ("cupy._core._routines_linalg", linalg)):
        monkeypatch.setitem(sys.modules, name, mod)
    return calls


def test_default_is_off_and_env_turns_it_on(restore):
    config._TF32[0] = None
    restore.delenv("GKERAS_TF32", raising=False)
    assert gkeras.config.tensor_float_32_execution_enabled() is False
    config._TF32[0] = None
    restore.setenv("GKERAS_TF32", "1")
    assert gkeras.config.tensor_float_32_execution_enabled() is True


def test_switch_sets_cublas_compute_type_on_ampere(restore):
    calls = _fake_cupy(restore, "90")
    gkeras.config.enable_tensor_float_32_execution(True)
    assert gkeras.config.tensor_float_32_execution_enabled() is True
    assert calls[-1] == (np.dtype(np.float32), 7)
    import os
    assert os.environ["CUPY_TF32"] == "1"
    gkeras.config.enable_tensor_float_32_execution(False)
    assert calls[-1] == (np.dtype(np.float32), 1)
    assert os.environ["CUPY_TF32"] == "0"


def test_older_gpus_stay_in_full_float32(restore):
    calls = _fake_cupy(restore, "75")
    assert math_mode.apply_tf32(True) is False
    assert calls == [(np.dtype(np.float32), 1)]


def test_without_cupy_only_the_flag_and_env_change(restore):
    restore.setitem(sys.modules, "cupy", None)  # `import cupy` fails
    assert math_mode.apply_tf32(True) is False
    import os
    assert os.environ["CUPY_TF32"] == "1"
