"""Splits large element-wise NumPy work over the CPU cores.

NumPy runs each element-wise pass on one core while BLAS uses them all,
so on a 2-core machine the CNN step's passes (ReLU, max pooling, col2im)
left a core idle. NumPy releases the GIL inside its loops, so two Python
threads working on the two halves of the batch run in parallel: ReLU on
2M floats 0.99 -> 0.59 ms with 2 threads (measured on a quiet 2-core
machine). Work below `MIN_ELEMENTS` runs inline (batch 1 pays nothing).

The number of threads is `GKERAS_CPU_THREADS` (default 1: no split).
Not on by default yet: on the shared 2-core test machine the split only
paid while the other core was idle (ReLU 0.58-0.67x); with other
processes on the cores it cost 1.0-1.4x per pass, and no quiet window was
found to measure whole training steps. Measure with
`GKERAS_CPU_THREADS=2` before making it the default.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = []

# Below this many elements a split costs more than it saves (a thread
# hand-off is tens of microseconds).
MIN_ELEMENTS = 1 << 18

_STATE = {"pool": None, "threads": None}
_LOCK = threading.Lock()


def cpu_threads(environ=None):
    """How many threads `split_rows` uses (see the module docstring).

    Args:
        environ: the environment to read (default `os.environ`).

    Returns:
        `GKERAS_CPU_THREADS` as an int >= 1 (1 when unset or invalid).
    """
    env = os.environ if environ is None else environ
    try:
        return max(1, int(env.get("GKERAS_CPU_THREADS", "1").strip()))
    except ValueError:
        return 1


def _pool():
    with _LOCK:
        if _STATE["pool"] is None:
            _STATE["pool"] = ThreadPoolExecutor(
                max_workers=_STATE["threads"] - 1,
                thread_name_prefix="gkeras-cpu")
        return _STATE["pool"]


def split_rows(rows, elements, fn):
    """Runs `fn(start, stop)` over `[0, rows)` in contiguous parts, one a
    thread, and returns when all are done.

    `fn` must only write rows `start:stop` of its outputs. Runs inline
    (`fn(0, rows)`) for fewer than `MIN_ELEMENTS` elements, one row, one
    thread, or when called from a worker thread.

    Args:
        rows: the length of the axis to split (usually the batch).
        elements: the size of the work, to decide whether to split.
        fn: the callable.

    Returns:
        None. An exception in any part is raised here.
    """
    if _STATE["threads"] is None:
        _STATE["threads"] = cpu_threads()
    n = min(_STATE["threads"], rows)
    if (n < 2 or elements < MIN_ELEMENTS
            or threading.current_thread().name.startswith("gkeras-cpu")):
        fn(0, rows)
        return
    pool = _pool()
    cuts = [rows * i // n for i in range(n + 1)]
    futures = [pool.submit(fn, cuts[i], cuts[i + 1]) for i in range(1, n)]
    try:
        fn(cuts[0], cuts[1])
    finally:
        for f in futures:
            f.result()
