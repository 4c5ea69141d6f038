"""Test configuration: the NumPy backend by default, `gpu` tests skipped
cleanly where CuPy or a CUDA device is missing."""

import os

import pytest

os.environ.setdefault("GKERAS_BACKEND", "numpy")


def _gpu_available():
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    if _gpu_available():
        return
    skip = pytest.mark.skip(reason="needs CuPy and a visible CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_names():
    """Each test starts with fresh automatic layer names and a fixed seed."""
    import gkeras
    gkeras.backend.clear_session()
    gkeras.utils.set_random_seed(1234)
    yield


@pytest.fixture
def jit_on(monkeypatch):
    """Runs a test with the optional CPU JIT switched on whatever
    `GKERAS_CPU_JIT` the suite runs under: the JIT kernels' own tests
    compare them with the NumPy path (`jit.disabled()`) themselves, so
    they must run even when the suite runs the NumPy paths."""
    monkeypatch.delenv("GKERAS_CPU_JIT", raising=False)
