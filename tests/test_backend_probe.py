"""`GKERAS_BACKEND=auto` falls back to NumPy, with one warning line, when
CuPy imports and sees a GPU but cannot compile or run a kernel; `cupy`
raises with the reason (backend/__init__.py, backend/gpu/probe.py).

A fake `cupy` module (NumPy arrays, a `RawModule` whose behaviour each test
chooses) stands in for a GPU machine with a broken or a working CUDA stack.
"""

import sys
import types
import warnings

import numpy as np
import pytest

import gkeras.backend as B
from gkeras.backend.gpu import _module, probe


def _fake_cupy(monkeypatch, behaviour):
    class RawModule:
        def __init__(self, code, options=(), name_expressions=None):
            if behaviour == "no-nvrtc":
                raise RuntimeError("CuPy failed to load libnvrtc.so.12: "
                                   "OSError: cannot open shared object file"
                                   "\nsecond line of the traceback")

        def get_function(self, name):
            assert name == "gk_probe"

            def kernel(grid, block, args, shared_mem=0):
                x, y, n = args
                assert type(n) is np.int32 and grid == (1,)
                y[:n] = 2 * x[:n] + (1 if behaviour == "ok" else 0)
            return kernel

    cupy = types.ModuleType("cupy")
    cupy.RawModule = RawModule
    cupy.arange, cupy.zeros, cupy.float32 = np.arange, np.zeros, np.float32
    cupy.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(
        getDeviceCount=lambda: 1))
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setattr(B, "_BACKEND", None)
    monkeypatch.setattr(B, "_CUPY", None)
    monkeypatch.setattr(B, "FALLBACK_REASON", None)
    _module.clear_kernel_cache()


@pytest.fixture(autouse=True)
def _clean():
    yield
    _module.clear_kernel_cache()


def test_auto_falls_back_with_one_warning_line(monkeypatch):
    _fake_cupy(monkeypatch, "no-nvrtc")
    monkeypatch.setenv("GKERAS_BACKEND", "auto")
    with pytest.warns(RuntimeWarning) as rec:
        assert B.backend() == "numpy"
    assert len(rec) == 1
    msg = str(rec[0].message)
    assert "\n" not in msg
    assert "libnvrtc" in msg and "NumPy backend" in msg
    assert B.FALLBACK_REASON.startswith("RuntimeError: CuPy failed to load")
    # Decided once: no second probe, no second warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert B.backend() == "numpy"


def test_cupy_raises_with_the_reason(monkeypatch):
    _fake_cupy(monkeypatch, "no-nvrtc")
    monkeypatch.setenv("GKERAS_BACKEND", "cupy")
    with pytest.raises(RuntimeError, match="cannot compile or run gkeras's "
                       "CUDA kernels.*libnvrtc"):
        B.backend()


def test_wrong_results_are_a_failure_too(monkeypatch):
    _fake_cupy(monkeypatch, "wrong")
    assert "instead of" in probe.probe_kernels()


def test_working_stack_chooses_cupy(monkeypatch):
    _fake_cupy(monkeypatch, "ok")
    monkeypatch.setenv("GKERAS_BACKEND", "auto")
    monkeypatch.setattr("gkeras.backend.gpu.math_mode.apply_tf32",
                        lambda enabled: False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert B.backend() == "cupy"
    assert B.FALLBACK_REASON is None


def test_probe_kernel_runs_in_the_emulator():
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    try:
        from cuda_emu import emu
        if not emu.have_compiler():
            pytest.skip("no g++")
    finally:
        sys.path.pop(0)
    assert probe.probe_kernels(emu.EmuRuntime(order="reverse")) is None
