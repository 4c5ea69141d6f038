"""First contact with a GPU: can CuPy compile and run gkeras's kernels here,
and what is this machine (device, driver, CUDA, CuPy)?

`probe_kernels` is what `GKERAS_BACKEND=auto|cupy` runs once when it
chooses CuPy: one NVRTC compile of the tiny `kernels/probe.cu` (cached by
CuPy on disk) and one launch, read back once. A machine where CuPy imports
and sees a GPU but NVRTC is missing or too old for the driver, or the
device cannot run code, fails here with the reason, instead of in the
middle of the first training step.
"""

import numpy as np

from gkeras.backend.gpu.launch import cupy_runtime

__all__ = ["probe_kernels", "device_report"]

_PROBE_N = 7  # odd, below one warp


def _first_line(e):
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}".strip()


def probe_kernels(rt=None):
    """Compiles and runs one small kernel; returns None, or why it failed.

    Args:
        rt: a kernel runtime (default: the CuPy one).

    Returns:
        None when the kernel ran and gave the right numbers, else a one-line
        reason (the exception, e.g. a missing `libnvrtc`, or wrong results).
    """
    try:
        rt = rt or cupy_runtime()
        xp = rt.xp
        x = xp.arange(_PROBE_N, dtype=xp.float32)
        y = xp.zeros(_PROBE_N, dtype=xp.float32)
        rt.launch("probe.cu", "gk_probe", (1,), (32,),
                  (x, y, np.int32(_PROBE_N)))
        got = y.get() if hasattr(y, "get") else np.asarray(y)
    except Exception as e:  # any CUDA/NVRTC/driver failure is the answer
        return _first_line(e)
    want = 2.0 * np.arange(_PROBE_N, dtype=np.float32) + 1.0
    if not np.array_equal(got, want):
        return (f"the probe kernel ran but returned {got.tolist()} instead "
                f"of {want.tolist()}")
    return None


def device_report():
    """Facts about the GPU and the CUDA stack, for `backend.check`.

    Returns:
        A dict of strings: `cupy`, `cuda_runtime`, `cuda_driver`, `nvrtc`,
        `device`, `compute_capability`, `memory`; a value says "unknown
        (...)" when it cannot be read.
    """
    out = {}

    def fmt(v):
        v = int(v)
        return f"{v // 1000}.{(v % 1000) // 10}"

    try:
        import cupy
        out["cupy"] = cupy.__version__
    except Exception as e:
        return {"cupy": f"not importable ({_first_line(e)})"}
    rt = cupy.cuda.runtime
    for key, fn in (("cuda_runtime", lambda: fmt(rt.runtimeGetVersion())),
                    ("cuda_driver", lambda: fmt(rt.driverGetVersion())),
                    ("nvrtc", lambda: ".".join(
                        map(str, cupy.cuda.nvrtc.getVersion())))):
        try:
            out[key] = fn()
        except Exception as e:
            out[key] = f"unknown ({_first_line(e)})"
    try:
        dev = cupy.cuda.Device()
        props = rt.getDeviceProperties(dev.id)
        name = props.get("name", b"")
        out["device"] = (name.decode() if isinstance(name, bytes)
                         else str(name))
        out["compute_capability"] = str(dev.compute_capability)
        out["memory"] = f"{props.get('totalGlobalMem', 0) / 2**30:.1f} GiB"
    except Exception as e:
        out["device"] = f"unknown ({_first_line(e)})"
    return out
