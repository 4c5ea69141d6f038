"""Keeps freed NumPy buffers in the process heap between training steps.

A training step allocates and frees the same large arrays every time
(im2col patches, activations, their gradients: megabytes each). glibc
serves such blocks with `mmap` and hands them back to the kernel on
`free`, so every step pays a page fault for each fresh 4 KiB page it
touches (about a fifth of the BatchNorm CNN's CPU step, measured).
Raising glibc's mmap and trim thresholds keeps those pages mapped and
reused, which is what PyTorch's and JAX's own caching allocators do for
their tensors. The process then keeps up to `TRIM_BYTES` of freed heap
instead of returning it at once.

Only glibc (Linux) is tuned; elsewhere, or when the user set glibc's own
`MALLOC_MMAP_THRESHOLD_`/`MALLOC_TRIM_THRESHOLD_` variables, or set
`GKERAS_MALLOC_TUNING=0`, nothing is changed.
"""

import ctypes
import ctypes.util
import os
import sys

__all__ = []

# glibc's mallopt parameter numbers (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks below this come from the heap (a 64x32x32x32 float32 activation
# is 8 MiB, the largest CNN tutorial im2col about 19 MiB).
MMAP_BYTES = 32 << 20   # glibc accepts at most HEAP_MAX_SIZE / 2 = 32 MiB
TRIM_BYTES = 1 << 30

_STATE = {"tuned": None}


def tune_allocator(environ=None):
    """Raises glibc's mmap/trim thresholds once per process (see module doc).

    Args:
        environ: the environment to read the opt-outs from (default
            `os.environ`).

    Returns:
        True when the thresholds were set (now or by an earlier call),
        False when this platform or the environment leaves them alone.
    """
    if _STATE["tuned"] is not None:
        return _STATE["tuned"]
    env = os.environ if environ is None else environ
    if (not sys.platform.startswith("linux")
            or env.get("GKERAS_MALLOC_TUNING", "1") == "0"
            or "MALLOC_MMAP_THRESHOLD_" in env
            or "MALLOC_TRIM_THRESHOLD_" in env):
        _STATE["tuned"] = False
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):    # musl and others: no mallopt
        _STATE["tuned"] = False
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    ok = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_BYTES)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_BYTES))
    _STATE["tuned"] = ok
    return ok
