"""Runs independent NumPy work on a few Python threads.

NumPy releases the GIL inside ufuncs, reductions and `matmul`, so blocks
of work that only call those (attention over a block of samples, say) run
truly in parallel on threads. BLAS already threads the large GEMMs; this
is for the element-wise passes and the many small batched products
around them, which NumPy runs on one core. PyTorch and XLA run those on
all of their intra-op threads.

While the workers run, OpenBLAS is asked (`openblas_set_num_threads_local`,
where the loaded OpenBLAS has it; in NumPy's build it sets the process's
BLAS thread count) to run BLAS calls on one thread, and the count is
restored afterwards, so the large GEMMs outside keep all of BLAS's
threads. The blocks already keep every core busy, and a small GEMM handed
to BLAS's threads as well was measured up to 30 times slower on a busy
2-core machine (threads waking and waiting for each other).

The number of workers follows the usual thread variables
(`OMP_NUM_THREADS`, `OPENBLAS_NUM_THREADS`, `MKL_NUM_THREADS`, the first
one set wins) and defaults to the CPUs this process may run on.
`GKERAS_CPU_THREADS` overrides them all; 1 runs everything inline.

Two shapes of work use the one pool: `parallel_map` (blocks of attention)
and `split_rows` (a large element-wise pass cut into parts of the batch:
ReLU, max pooling, col2im, batch normalization). The split was measured on
a quiet 2-core machine: ReLU on 2M floats 0.99 -> 0.59 ms; the BatchNorm
CNN at batch 64 train step 0.86-0.92x and predict 0.76-0.82x of one
thread.
"""

import ctypes
import os
import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["num_threads", "parallel_map", "split_rows"]

_STATE = {"pool": None, "n": None, "pid": None, "blas": False}
_PREFIX = "gkeras-cpu"

# Below this many elements `split_rows` runs inline: a thread hand-off is
# tens of microseconds, more than such a pass saves (batch 1 pays nothing).
MIN_ELEMENTS = 1 << 18


def num_threads():
    """Worker threads used by `parallel_map` (at least 1).

    Returns:
        `GKERAS_CPU_THREADS`, else the first of `OMP_NUM_THREADS`,
        `OPENBLAS_NUM_THREADS`, `MKL_NUM_THREADS` that is set, else the
        number of CPUs available to the process.
    """
    if _STATE["n"] is None:
        n = None
        for var in ("GKERAS_CPU_THREADS", "OMP_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            try:
                n = int(os.environ[var].split(",")[0])
                break
            except (KeyError, ValueError):
                continue
        if n is None:
            try:
                n = len(os.sched_getaffinity(0))
            except AttributeError:  # not on Linux
                n = os.cpu_count() or 1
        _STATE["n"] = max(1, n)
    return _STATE["n"]


def _blas_local_setter():
    """OpenBLAS's per-thread thread-count setter, or None."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f
                     if "openblas" in line.lower() and ".so" in line}
    except OSError:  # not Linux: leave BLAS as it is
        return None
    for path in sorted(paths):
        try:
            fn = ctypes.CDLL(path).openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
        return fn
    return None


def parallel_map(fn, items):
    """`[fn(item) for item in items]`, spread over `num_threads()` threads.

    `fn` must only touch what its item owns (no two items may write the
    same array elements). Exceptions propagate to the caller.

    Args:
        fn: a function of one argument.
        items: a sequence of work items.

    Returns:
        The list of results, in the order of `items`.

    Example:

    >>> parallel_map(lambda i: i * i, range(4))
    [0, 1, 4, 9]
    """
    items = list(items)
    n = num_threads()
    # Inline when there is nothing to share, and inside a worker (waiting
    # there for the pool's other tasks could deadlock it).
    if n == 1 or len(items) < 2 or _in_worker():
        return [fn(it) for it in items]
    pool = _pool(n)
    setter = _STATE["blas"]
    prev = setter(1) if setter is not None else None
    try:
        return list(pool.map(fn, items))
    finally:
        if prev is not None and prev > 1:
            setter(prev)


def split_rows(rows, elements, fn):
    """Runs `fn(start, stop)` over `[0, rows)` in contiguous parts, one a
    thread, and returns when all are done.

    For element-wise passes that NumPy would run on one core. `fn` must
    only write rows `start:stop` of its outputs. Runs inline
    (`fn(0, rows)`) for fewer than `MIN_ELEMENTS` elements, one row, one
    thread, or when called from a worker thread.

    Args:
        rows: the length of the axis to split (usually the batch).
        elements: the size of the work, to decide whether to split.
        fn: the callable.

    Returns:
        None. An exception in any part is raised here.
    """
    n = min(num_threads(), rows)
    if n < 2 or elements < MIN_ELEMENTS or _in_worker():
        fn(0, rows)
        return
    pool = _pool(n)
    cuts = [rows * i // n for i in range(n + 1)]
    futures = [pool.submit(fn, cuts[i], cuts[i + 1]) for i in range(1, n)]
    try:
        fn(cuts[0], cuts[1])
    finally:
        for f in futures:
            f.result()


def _in_worker():
    return threading.current_thread().name.startswith(_PREFIX)


def _pool(n):
    """The shared pool, with at least `n` workers, made in this process."""
    if (_STATE["pool"] is None or _STATE["pid"] != os.getpid()
            or _STATE["pool"]._max_workers < n):
        # A forked child inherits the pool object but not its threads.
        _STATE["pid"] = os.getpid()
        _STATE["pool"] = ThreadPoolExecutor(
            max_workers=n, thread_name_prefix=_PREFIX)
        _STATE["blas"] = _blas_local_setter()
    return _STATE["pool"]
