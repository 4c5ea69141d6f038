"""The input pipeline's last hop on the GPU: host batches -> pinned memory
-> the device, asynchronously, a few batches ahead.

`prefetch_to_device` takes an iterator of host batches (nested
tuples/lists/dicts of NumPy arrays, `HostGather` descriptions, CuPy arrays
or other leaves) and yields the same structures with every host array
replaced by a CuPy array. For each batch it

1. gathers every host leaf straight into a page-locked (pinned) buffer
   (`HostGather`: `np.take(..., out=pinned)` for a shuffled index, one copy
   for a slice), so the DMA engine can read it without a staging copy;
2. issues the host-to-device copies on a side stream (`ndarray.set(...,
   stream=side)`), which return at once;
3. records an event after them; the consumer's stream waits on that event
   (`wait_event`: a device-side wait, the host never blocks) right before
   the batch is handed over.

It keeps `depth` batches in flight, so while the GPU runs step k the host
already gathers batch k+1 and its copy overlaps the step. Pinned buffers
are recycled once their copy's event is done, and a new one is allocated
instead of waiting when it is not (up to a bound, then it waits for the
oldest copy, which finished long ago in any steady state).

Written against real CuPy's API (`cupy.cuda.alloc_pinned_memory`,
`cupy.cuda.Stream`, `Stream.record`, `Stream.wait_event`, `Event.done`,
`ndarray.set(arr, stream=)`); a CuPy module without these gets plain
synchronous `cupy.asarray` copies.
"""

import collections

import numpy as np

__all__ = ["HostGather", "prefetch_to_device"]


class HostGather:
    """A batch leaf not yet gathered: rows `index` of host array `array`.

    Args:
        array: the NumPy array (first axis: samples).
        index: a slice or an integer index array into the first axis.
    """

    __slots__ = ("array", "index", "shape")

    def __init__(self, array, index):
        self.array = array
        self.index = index
        if isinstance(index, slice):
            n = len(range(*index.indices(array.shape[0])))
        else:
            n = len(index)
        self.shape = (n,) + tuple(array.shape[1:])

    @property
    def dtype(self):
        return self.array.dtype

    def gather_into(self, out):
        """Writes the rows into `out` (shaped `self.shape`)."""
        if isinstance(self.index, slice):
            np.copyto(out, self.array[self.index])
        else:
            np.take(self.array, self.index, axis=0, out=out)

    def numpy(self):
        """The rows as a new NumPy array."""
        return self.array[self.index]


def _map(fn, s):
    if isinstance(s, dict):
        return {k: _map(fn, v) for k, v in s.items()}
    if isinstance(s, (list, tuple)):
        return type(s)(_map(fn, v) for v in s)
    if s is None:
        return None
    return fn(s)


def _is_host(a):
    return isinstance(a, (np.ndarray, HostGather))


class _PinnedPool:
    """Page-locked host buffers by (nbytes), reused once their copy is done."""

    def __init__(self, cp, max_per_size):
        self.cp = cp
        self.max_per_size = max_per_size
        self.free = collections.defaultdict(list)   # nbytes -> [buffer]
        self.busy = collections.deque()              # (event, [(n, buf)])
        self.allocated = collections.Counter()

    def _reclaim(self, wait=False):
        while self.busy and (wait or self.busy[0][0].done):
            event, bufs = self.busy.popleft()
            if wait:
                event.synchronize()
                wait = False
            for n, buf in bufs:
                self.free[n].append(buf)

    def get(self, nbytes):
        self._reclaim()
        if not self.free[nbytes] and self.allocated[nbytes] >= \
                self.max_per_size and self.busy:
            # Every buffer of this size is still being copied: wait for the
            # oldest copy (issued `depth` batches ago) rather than grow.
            self._reclaim(wait=True)
        if self.free[nbytes]:
            return self.free[nbytes].pop()
        self.allocated[nbytes] += 1
        return self.cp.cuda.alloc_pinned_memory(max(1, nbytes))

    def release_after(self, event, bufs):
        self.busy.append((event, bufs))


class _Prefetcher:
    def __init__(self, cp, depth):
        self.cp = cp
        self.depth = depth
        self.stream = cp.cuda.Stream(non_blocking=True)
        self.pool = _PinnedPool(cp, max_per_size=2 * depth + 2)

    def issue(self, batch):
        """Gathers into pinned memory and issues the copies; returns
        `(device batch, event)`."""
        cp, used = self.cp, []

        def to_device(a):
            if not _is_host(a):
                return a
            shape, dtype = tuple(a.shape), np.dtype(a.dtype)
            n = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            mem = self.pool.get(n)
            used.append((n, mem))
            host = np.frombuffer(mem, dtype, int(np.prod(shape, dtype=np.int64))
                                 ).reshape(shape)
            if isinstance(a, HostGather):
                a.gather_into(host)
            else:
                np.copyto(host, a)
            dev = cp.empty(shape, dtype)
            dev.set(host, stream=self.stream)
            return dev

        out = _map(to_device, batch)
        event = self.stream.record()
        self.pool.release_after(event, used)
        return out, event

    def run(self, batches):
        pending = collections.deque()
        it = iter(batches)
        exhausted = False
        while True:
            while not exhausted and len(pending) < self.depth:
                try:
                    pending.append(self.issue(next(it)))
                except StopIteration:
                    exhausted = True
            if not pending:
                return
            batch, event = pending.popleft()
            # The step's stream waits for the copies on the device; the
            # host goes on at once.
            self.cp.cuda.get_current_stream().wait_event(event)
            yield batch


def _capable(cp):
    cuda = getattr(cp, "cuda", None)
    return all(hasattr(cuda, n) for n in ("alloc_pinned_memory", "Stream",
                                           "get_current_stream"))


def prefetch_to_device(batches, depth=2, cp=None):
    """Yields the batches of `batches` with their host arrays on the GPU,
    copied asynchronously from pinned memory, `depth` batches ahead.

    Args:
        batches: an iterable of nested structures whose leaves are NumPy
            arrays, `HostGather`s, CuPy arrays or other values (passed
            through).
        depth: batches in flight (>= 1).
        cp: the CuPy module (default: `import cupy`).

    Returns:
        A generator of device batches, in order.

    Example:

    >>> for x, y in prefetch_to_device(host_batches):
    ...     train_step(x, y)
    """
    if cp is None:
        import cupy as cp
    if depth < 1:
        raise ValueError(f"prefetch_to_device: depth must be >= 1. "
                         f"Received: depth={depth}")
    if not _capable(cp):
        return _plain(batches, cp)
    return _Prefetcher(cp, depth).run(batches)


def _plain(batches, cp):
    for batch in batches:
        yield _map(lambda a: cp.asarray(a.numpy() if isinstance(
            a, HostGather) else a) if _is_host(a) else a, batch)
