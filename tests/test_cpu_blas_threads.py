"""`backend.cpu.blas_threads`: OpenBLAS's idle-thread timeout set at
import (read back from the library in a fresh process), the opt-outs, and
the call sequence on a stand-in library."""

import json
import os
import subprocess
import sys

import pytest

from gkeras.backend.cpu import blas_threads

PROBE = r"""
import json, os, ctypes
import numpy as np
import gkeras
from gkeras.backend.cpu import blas_threads, cblas
fns = blas_threads._openblas()
a = np.random.default_rng(0).random((300, 300))
ok = bool(np.allclose(a @ a, np.einsum("ij,jk->ik", a, a)))
print(json.dumps({"tuned": blas_threads._STATE["tuned"],
                  "env": os.environ.get("OPENBLAS_THREAD_TIMEOUT"),
                  "timeout": None if fns is None else fns[1](),
                  "gemm_ok": ok}))
"""


def _probe(**env):
    e = dict(os.environ)
    for k in ("OPENBLAS_THREAD_TIMEOUT", "GKERAS_BLAS_TUNING"):
        e.pop(k, None)
    e.update(env)
    e.setdefault("GKERAS_BACKEND", "numpy")
    out = subprocess.run([sys.executable, "-c", PROBE], env=e,
                         capture_output=True, text=True, timeout=120,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture
def openblas():
    if blas_threads._openblas() is None or not sys.platform.startswith(
            "linux"):
        pytest.skip("NumPy's BLAS here is not an OpenBLAS with "
                    "openblas_read_env/blas_thread_init")


def test_import_sets_the_timeout_and_blas_still_works(openblas):
    got = _probe()
    assert got == {"tuned": True, "env": str(blas_threads.THREAD_TIMEOUT),
                   "timeout": blas_threads.THREAD_TIMEOUT, "gemm_ok": True}


def test_opt_out_and_the_users_own_value(openblas):
    got = _probe(GKERAS_BLAS_TUNING="0")
    assert got["tuned"] is False and got["env"] is None
    assert got["timeout"] != blas_threads.THREAD_TIMEOUT and got["gemm_ok"]
    got = _probe(OPENBLAS_THREAD_TIMEOUT="25")
    assert got["tuned"] is False and got["env"] == "25"
    assert got["timeout"] == 25 and got["gemm_ok"]


class _FakeBlas:
    def __init__(self, honours=True):
        self.calls, self.honours, self.value = [], honours, 28

    def fns(self, env):
        def read_env():
            self.calls.append("read_env")
            if self.honours:
                self.value = int(env["OPENBLAS_THREAD_TIMEOUT"])

        def timeout():
            return self.value

        def shutdown():
            self.calls.append("shutdown")
            return 0

        def init():
            self.calls.append("init")
            return 0
        return read_env, timeout, shutdown, init


@pytest.mark.parametrize("honours", [True, False])
def test_call_sequence_on_a_stand_in(honours, monkeypatch):
    env = {}
    fake = _FakeBlas(honours)
    monkeypatch.setitem(blas_threads._STATE, "tuned", None)
    monkeypatch.setattr(blas_threads, "_openblas", lambda: fake.fns(env))
    monkeypatch.setattr(blas_threads.sys, "platform", "linux")
    assert blas_threads.tune_blas_threads(env) is honours
    assert env["OPENBLAS_THREAD_TIMEOUT"] == str(blas_threads.THREAD_TIMEOUT)
    # The threads are restarted only when the library took the value.
    assert fake.calls == (["read_env", "shutdown", "init"] if honours
                          else ["read_env"])
    assert blas_threads.tune_blas_threads(env) is honours   # once only
    assert fake.calls.count("read_env") == 1


@pytest.mark.parametrize("case", ["not_linux", "no_openblas", "opt_out",
                                  "user_value"])
def test_left_alone(case, monkeypatch):
    env = {"GKERAS_BLAS_TUNING": "0"} if case == "opt_out" else (
        {"OPENBLAS_THREAD_TIMEOUT": "7"} if case == "user_value" else {})
    monkeypatch.setitem(blas_threads._STATE, "tuned", None)
    monkeypatch.setattr(blas_threads.sys, "platform",
                        "darwin" if case == "not_linux" else "linux")
    fake = _FakeBlas()
    monkeypatch.setattr(blas_threads, "_openblas",
                        (lambda: None) if case == "no_openblas"
                        else (lambda: fake.fns(env)))
    before = dict(env)
    assert blas_threads.tune_blas_threads(env) is False
    assert env == before and fake.calls == []
