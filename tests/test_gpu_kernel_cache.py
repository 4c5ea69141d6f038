"""Kernel handles are fetched from `cupy.RawModule` once per (file, entry
point), not on every launch (backend/gpu/_module.py, launch.py).

A minimal fake `cupy` module counts `RawModule` constructions and
`get_function` calls; it only has to stand in for the two names
`_module.py` uses.
"""

import sys
import types

import numpy as np
import pytest

from gkeras.backend.gpu import _module, launch


class _FakeKernel:
    def __init__(self, log, name):
        self.log, self.name = log, name

    def __call__(self, grid, block, args, shared_mem=0):
        assert type(grid) is tuple and type(block) is tuple
        assert all(type(a) is int for a in grid + block)
        self.log.append(("launch", self.name, grid, block, shared_mem))


@pytest.fixture
def fake_cupy(monkeypatch):
    log = []

    class RawModule:
        def __init__(self, code, options=(), name_expressions=None):
            assert "extern \"C\"" in code
            log.append(("module", options))

        def get_function(self, name):
            log.append(("get_function", name))
            return _FakeKernel(log, name)

    mod = types.ModuleType("cupy")
    mod.RawModule = RawModule
    monkeypatch.setitem(sys.modules, "cupy", mod)
    _module.clear_kernel_cache()
    yield log
    _module.clear_kernel_cache()


def test_handles_are_cached_per_file_and_entry_point(fake_cupy):
    rt = launch.CupyRuntime()
    for _ in range(5):
        rt.launch("softmax.cu", "softmax_fwd", (3,), (128,), ())
        rt.launch("softmax.cu", "softmax_bwd", np.array([2, 1]),
                  (np.int64(64),), (), shared_mem=16)
        rt.launch("pool.cu", "maxpool_fwd", 4, 32, ())
    kinds = [e[0] for e in fake_cupy]
    assert kinds.count("module") == 2          # one per file
    assert kinds.count("get_function") == 3    # one per entry point
    assert kinds.count("launch") == 15
    launches = [e for e in fake_cupy if e[0] == "launch"]
    # Grids and blocks reach CuPy as tuples of Python ints, whatever form
    # the wrapper used.
    assert launches[1][2:] == ((2, 1), (64,), 16)
    assert launches[2][2:] == ((4,), (32,), 0)


def test_clear_kernel_cache_forgets_handles(fake_cupy):
    rt = launch.CupyRuntime()
    rt.launch("softmax.cu", "softmax_fwd", (1,), (32,), ())
    _module.clear_kernel_cache()
    rt.launch("softmax.cu", "softmax_fwd", (1,), (32,), ())
    assert [e[0] for e in fake_cupy].count("get_function") == 2
