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

Two shapes of work use the one pool: `parallel_map` (blocks of attention,
shares of a tall GEMM) and `split_rows` (a large element-wise pass cut
into parts of the batch: ReLU, max pooling, col2im, batch normalization).

A hand-off to a pooled thread is not free, and how much it costs depends
on the machine more than on the work: on bare metal a round trip is about
10 us, on a 2-vCPU KVM guest (where a sleeping vCPU is woken through the
hypervisor) it was measured at 60-90 us, and a split pass pays several of
them (the wake-up, the GIL coming back, the join). There a 256K-element
ReLU took 0.35 ms split against 0.15 ms inline, and splitting only paid
from about 2-4M elements. So the size below which `split_rows` runs inline
is measured once per process (`min_split_elements`: the median no-op round
trip, times the elements a pass covers in that time, with a margin) rather
than fixed.
"""

import ctypes
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

__all__ = ["num_threads", "parallel_map", "split_rows",
           "min_split_elements", "even_parts", "run_parts"]

_STATE = {"pool": None, "n": None, "pid": None, "blas": False,
          "min_elements": None}
_PREFIX = "gkeras-cpu"

# An explicit split threshold (elements); None measures it per process
# (`min_split_elements`). Tests set it to force or forbid splitting.
MIN_ELEMENTS = None

# Bounds of the measured threshold. The floor is what a bare-metal round
# trip of ~10 us justifies; the ceiling keeps the largest passes (a 64x32x
# 32x32 activation is 2M elements, 8M in training's wider layers) split
# even when one measurement came out slow.
_MIN_FLOOR = 1 << 18
_MIN_CEILING = 1 << 23
# Elements per second of hand-off latency at which a split pays, with a
# margin of two: a memory-bound pass covers ~0.6 ns an element on one
# core, a split saves half of that, and costs about five round trips.
_ELEMENTS_PER_SECOND = 3.3e10


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


def even_parts(n, count):
    """`count` contiguous `(start, stop)` ranges covering `range(n)`, their
    sizes differing by at most one.

    Args:
        n: the length to cut.
        count: the number of parts (at least 1).

    Returns:
        A list of `(start, stop)` pairs.

    Example:

    >>> even_parts(5, 2)
    [(0, 2), (2, 5)]
    """
    count = max(1, int(count))
    return [(n * i // count, n * (i + 1) // count) for i in range(count)]


def run_parts(parts, fn):
    """Runs `fn(start, stop)` for each part, every call on ONE BLAS thread.

    For compiled kernels that call BLAS themselves on small products
    (`cblas`): the first part runs here and the others on the pool, one
    a thread; with one part (or one thread, or from a worker) all run
    here. BLAS is set to one thread meanwhile: its own threads cost more
    than they give on such products.

    Args:
        parts: a list of `(start, stop)` pairs (see `even_parts`).
        fn: the callable; it must only write what its part owns.
    """
    if not parts:
        return
    many = len(parts) > 1 and num_threads() > 1 and not _in_worker()
    if many:
        pool = _pool(num_threads())
    if _STATE["blas"] is False:
        _STATE["blas"] = _blas_local_setter()
    setter = _STATE["blas"]
    prev = setter(1) if setter is not None else None
    try:
        if not many:
            for part in parts:
                fn(*part)
            return
        # The first part here: one thread fewer to wake, and the caller
        # works instead of waiting.
        futures = [pool.submit(fn, *part) for part in parts[1:]]
        try:
            fn(*parts[0])
        finally:
            for f in futures:
                f.result()
    finally:
        if prev is not None and prev > 1:
            setter(prev)


def min_split_elements():
    """Elements below which `split_rows` runs a pass inline.

    `MIN_ELEMENTS` when set; else measured once per process from the
    pool's hand-off round trip (median of 15 no-op submissions), so a
    machine with slow thread wake-ups splits only the passes large enough
    to pay for them. With one thread, never split.

    Returns:
        An int number of elements.
    """
    if MIN_ELEMENTS is not None:
        return MIN_ELEMENTS
    if num_threads() < 2:
        return _MIN_CEILING
    if _STATE["min_elements"] is None or _STATE["pid"] != os.getpid():
        pool = _pool(num_threads())
        pool.submit(int).result()  # start the worker before timing it
        trips = []
        for _ in range(15):
            t = time.perf_counter()
            pool.submit(int).result()
            trips.append(time.perf_counter() - t)
        latency = sorted(trips)[len(trips) // 2]
        _STATE["min_elements"] = int(min(_MIN_CEILING, max(
            _MIN_FLOOR, latency * _ELEMENTS_PER_SECOND)))
    return _STATE["min_elements"]


def split_rows(rows, elements, fn):
    """Runs `fn(start, stop)` over `[0, rows)` in contiguous parts, one a
    thread, and returns when all are done.

    For element-wise passes that NumPy would run on one core. `fn` must
    only write rows `start:stop` of its outputs. Runs inline
    (`fn(0, rows)`) for fewer than `min_split_elements()` elements, one
    row, one thread, or when called from a worker thread.

    Args:
        rows: the length of the axis to split (usually the batch).
        elements: the size of the work, to decide whether to split.
        fn: the callable.

    Returns:
        None. An exception in any part is raised here.
    """
    n = min(num_threads(), rows)
    if n < 2 or _in_worker() or elements < min_split_elements():
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
        _STATE["min_elements"] = None
        _STATE["pool"] = ThreadPoolExecutor(
            max_workers=n, thread_name_prefix=_PREFIX)
        _STATE["blas"] = _blas_local_setter()
    return _STATE["pool"]
