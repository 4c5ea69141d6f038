"""Shortens how long OpenBLAS's idle threads spin-wait after a call.

After every threaded call, OpenBLAS's worker threads keep spinning for
`2**THREAD_TIMEOUT` CPU cycles (by default 2**28: about 0.1 s at 2.6
GHz) before they sleep, so that the next BLAS call finds them awake. In
a deep-learning step the next thing is often not BLAS but gkeras's own
compiled kernels running one part a thread (attention, LSTM inference,
the fused convolutions): they then share a core with a spinning BLAS
thread. Measured on the 2-vCPU machine (same process, medians): the
Transformer's attention inference 3.0 ms alone, 6.0 ms right after a
GEMM; with a timeout of 2**20 cycles (about 0.4 ms) 3.3 ms. Whole
models, separate processes, interleaved: Transformer b32 predict 37.1 ->
30.3 ms, train ~100 -> ~85-99 ms; CNN b64 predict 15.2 -> 9.1 ms.

OpenBLAS reads `OPENBLAS_THREAD_TIMEOUT` when it loads, which has
happened by the time gkeras is imported (NumPy loads it), so the
variable is set for the process and OpenBLAS is asked to read its
environment again and restart its threads (`openblas_read_env`,
`blas_thread_shutdown_`, `blas_thread_init`, all exported by NumPy's
OpenBLAS). Nothing is changed when the user set the variable, with
`GKERAS_BLAS_TUNING=0`, off Linux, or without an OpenBLAS that exports
those functions (MKL, Accelerate).
"""

import ctypes
import os
import sys

__all__ = ["tune_blas_threads"]

# 2**20 cycles: long enough to bridge back-to-back GEMMs (a Dense layer's
# forward, its backward), short enough that the threads are asleep a
# fraction of a millisecond into a stretch of non-BLAS work.
THREAD_TIMEOUT = 20

_STATE = {"tuned": None}


def _openblas():
    """NumPy's OpenBLAS with the entry points this needs, or None."""
    from gkeras.backend.cpu import cblas  # its library search, shared
    import numpy as np
    np.dot(np.ones((2, 2)), np.ones((2, 2)))  # BLAS mapped by now
    for path in cblas._openblas_paths():
        try:
            lib = ctypes.CDLL(path)
            fns = (lib.openblas_read_env, lib.openblas_thread_timeout,
                   lib.blas_thread_shutdown_, lib.blas_thread_init)
        except (OSError, AttributeError):
            continue
        for f in fns:
            f.argtypes = []
            f.restype = ctypes.c_int
        fns[0].restype = None
        return fns
    return None


def tune_blas_threads(environ=None):
    """Sets OpenBLAS's idle-thread timeout once per process (see module
    doc).

    Args:
        environ: the environment to read the opt-outs from and set the
            variable in (default `os.environ`).

    Returns:
        True when OpenBLAS now runs with `THREAD_TIMEOUT` (set here or by
        an earlier call), False when it was left alone.
    """
    if _STATE["tuned"] is not None:
        return _STATE["tuned"]
    env = os.environ if environ is None else environ
    if (not sys.platform.startswith("linux")
            or env.get("GKERAS_BLAS_TUNING", "1") == "0"
            or "OPENBLAS_THREAD_TIMEOUT" in env):
        _STATE["tuned"] = False
        return False
    fns = _openblas()
    if fns is None:
        _STATE["tuned"] = False
        return False
    read_env, timeout, shutdown, init = fns
    env["OPENBLAS_THREAD_TIMEOUT"] = str(THREAD_TIMEOUT)
    read_env()
    if timeout() != THREAD_TIMEOUT:   # this build ignores the variable
        _STATE["tuned"] = False
        return False
    # The threads read the timeout when they start: restart them.
    shutdown()
    init()
    _STATE["tuned"] = True
    return True
