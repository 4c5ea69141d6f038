"""The optional JIT layer (backend/cpu/jit.py): switching, compiling,
and the error when numba is missing."""

import threading

import numpy as np
import pytest

from gkeras.backend.cpu import jit

numba = pytest.importorskip("numba")


@jit.kernel
def _axpy_into(a, x, y, out):
    for i in range(x.shape[0]):
        out[i] = a * x[i] + y[i]


def test_kernel_compiles_and_matches_numpy():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 1001)).astype("float32")
    out = np.empty_like(x)
    _axpy_into(np.float32(1.5), x, y, out)
    ref = 1.5 * x.astype(np.float64) + y
    np.testing.assert_allclose(out, ref, rtol=1e-6, atol=1e-6)


def test_nan_and_inf_propagate():
    x = np.array([np.nan, np.inf, -np.inf, 1.0], "float32")
    out = np.empty_like(x)
    _axpy_into(np.float32(2.0), x, np.zeros(4, "float32"), out)
    assert np.isnan(out[0]) and out[1] == np.inf and out[2] == -np.inf
    assert out[3] == 2.0


def test_env_variable_and_disabled_block(monkeypatch):
    monkeypatch.delenv("GKERAS_CPU_JIT", raising=False)
    assert jit.enabled()
    with jit.disabled():
        assert not jit.enabled()
        with jit.disabled():
            assert not jit.enabled()
        assert not jit.enabled()
    assert jit.enabled()
    for value in ("0", "off", "False", " no ", "OFF\n"):
        monkeypatch.setenv("GKERAS_CPU_JIT", value)
        assert not jit.enabled()
    monkeypatch.setenv("GKERAS_CPU_JIT", "1")
    assert jit.enabled()
    # Where os.environ has no raw mapping to read: os.environ.get.
    monkeypatch.setattr(jit, "_ENV_KEY", None)
    assert jit.enabled()
    monkeypatch.setenv("GKERAS_CPU_JIT", "0")
    assert not jit.enabled()
    monkeypatch.delenv("GKERAS_CPU_JIT")
    assert jit.enabled()


def test_disabled_is_per_thread(jit_on):
    seen = []
    with jit.disabled():
        t = threading.Thread(target=lambda: seen.append(jit.enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_missing_numba_is_off_and_calls_explain(monkeypatch):
    monkeypatch.setitem(jit._STATE, "imported", True)
    monkeypatch.setitem(jit._STATE, "numba", None)
    assert not jit.enabled()

    @jit.kernel
    def f(x):
        return x
    with pytest.raises(RuntimeError, match=r"'f'.*gkeras\[cpu-jit\]"):
        f(1)


def test_no_cache_location_compiles_without_cache(monkeypatch):
    real = numba.njit
    seen = []

    def njit(**options):
        seen.append(options["cache"])
        if options["cache"]:
            raise RuntimeError("cannot cache function 'f': no locator "
                               "available for file 'x.py'")
        return real(**options)
    monkeypatch.setattr(numba, "njit", njit)

    @jit.kernel
    def twice(x):
        return 2 * x
    assert twice(21) == 42
    assert seen == [True, False]


def test_other_compile_errors_propagate(monkeypatch):
    def njit(**options):
        raise RuntimeError("something else")
    monkeypatch.setattr(numba, "njit", njit)

    @jit.kernel
    def f(x):
        return x
    with pytest.raises(RuntimeError, match="something else"):
        f(1)
