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


def standin_available():
    """True when the stand-in can run: a C++ compiler for the CUDA
    emulator and a loadable NVRTC (the test extra's nvidia-cuda-nvrtc-cu12
    wheel). Sets `standin_available.reason` otherwise."""
    import ctypes
    import glob
    from cuda_emu import emu
    if not emu.have_compiler():
        standin_available.reason = "no C++ compiler for the CUDA emulator"
        return False
    libs = []
    try:
        import nvidia.cuda_nvrtc as m
        for d in m.__path__:
            libs += glob.glob(os.path.join(d, "lib", "libnvrtc.so*"))
    except ImportError:
        pass
    for lib in libs + ["libnvrtc.so"]:
        if "builtins" in lib:
            continue
        try:
            ctypes.CDLL(lib)
            return True
        except OSError:
            continue
    standin_available.reason = ("libnvrtc not found (pip install "
                                "nvidia-cuda-nvrtc-cu12)")
    return False


standin_available.reason = ""
