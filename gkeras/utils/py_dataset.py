"""`PyDataset` (Keras 3) / `Sequence` (Keras 2): batches by index.

A subclass implements `__len__` (number of batches) and `__getitem__(i)`
(batch `i`, as `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`);
`fit`, `evaluate` and `predict` take it directly. With `workers > 1` the
batches of an epoch are produced ahead of the training step by a pool of
threads (or of processes with `use_multiprocessing=True`), at most
`max_queue_size` in flight, and handed over in index order.
"""

import collections
import multiprocessing
from concurrent import futures

__all__ = ["PyDataset", "Sequence", "iterate_batches"]


class PyDataset:
    """Base class for datasets that produce batches by index.

    Subclass it and implement `__getitem__(index)` (returns batch `index`)
    and `__len__()` (the number of batches per epoch); optionally
    `on_epoch_begin()` / `on_epoch_end()` (e.g. to reshuffle).

    Args:
        workers: Number of workers producing batches in parallel (threads,
            or processes with `use_multiprocessing=True`). 1: batches are
            produced in the training loop's thread.
        use_multiprocessing: Use worker processes instead of threads
            (for Python-heavy `__getitem__` that holds the GIL). The dataset
            must be usable in a forked process; each epoch starts fresh
            workers, so changes made by `on_epoch_end` reach them.
        max_queue_size: Maximum number of batches prepared ahead.

    Example:

    ```python
    class Batches(gkeras.utils.PyDataset):
        def __init__(self, x, y, batch_size, **kwargs):
            super().__init__(**kwargs)
            self.x, self.y, self.batch_size = x, y, batch_size

        def __len__(self):
            return math.ceil(len(self.x) / self.batch_size)

        def __getitem__(self, idx):
            s = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
            return self.x[s], self.y[s]

    model.fit(Batches(x, y, 32, workers=4), epochs=3)
    ```
    """

    def __init__(self, workers=1, use_multiprocessing=False,
                 max_queue_size=10):
        self._workers = _check_int(workers, "workers", minimum=0)
        self._use_multiprocessing = bool(use_multiprocessing)
        self._max_queue_size = _check_int(max_queue_size, "max_queue_size",
                                          minimum=1)

    # Subclasses that forget `super().__init__()` still work (Keras warns
    # there too); these fall back to the defaults.
    @property
    def workers(self):
        """Number of parallel workers (1: none)."""
        return self.__dict__.get("_workers", 1)

    @workers.setter
    def workers(self, value):
        self._workers = _check_int(value, "workers", minimum=0)

    @property
    def use_multiprocessing(self):
        """Whether workers are processes rather than threads."""
        return self.__dict__.get("_use_multiprocessing", False)

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = bool(value)

    @property
    def max_queue_size(self):
        """Maximum number of batches prepared ahead of the consumer."""
        return self.__dict__.get("_max_queue_size", 10)

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = _check_int(value, "max_queue_size", minimum=1)

    def __getitem__(self, index):
        """Returns batch `index` (implement in the subclass)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `__getitem__(index)` "
            "returning one batch.")

    def __len__(self):
        """Returns the number of batches (implement in the subclass)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `__len__()` returning the "
            "number of batches per epoch.")

    @property
    def num_batches(self):
        """Number of batches per epoch (`len(self)`)."""
        return len(self)

    def on_epoch_begin(self):
        """Called at the start of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch (e.g. to reshuffle)."""

    def __iter__(self):
        """Iterates over the batches of one epoch, in order."""
        for i in range(len(self)):
            yield self[i]


Sequence = PyDataset


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or \
            value < minimum:
        raise ValueError(
            f"PyDataset argument `{name}` must be an integer >= {minimum}. "
            f"Received: {name}={value!r}")
    return value


# The dataset a worker process reads from: set once per process when the
# pool starts (inherited through fork, not pickled per batch).
_WORKER_DATASET = None


def _init_worker(dataset):
    global _WORKER_DATASET
    _WORKER_DATASET = dataset


def _get_in_worker(index):
    return _WORKER_DATASET[index]


def iterate_batches(dataset, order):
    """Yields `dataset[i]` for `i` in `order`, in that order.

    Uses the dataset's `workers`, `use_multiprocessing` and
    `max_queue_size` (when it has them): with more than one worker the
    batches are produced ahead by a pool, at most `max_queue_size` pending.

    Args:
        dataset: an object with `__getitem__` (a PyDataset or any
            Sequence-like object).
        order: the batch indices of the epoch.

    Yields:
        The batches.
    """
    workers = getattr(dataset, "workers", 1) or 1
    if workers <= 1:
        for i in order:
            yield dataset[int(i)]
        return
    queue_size = max(int(getattr(dataset, "max_queue_size", 10) or 1), 1)
    if getattr(dataset, "use_multiprocessing", False):
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context(
            "fork" if "fork" in methods else None)
        pool = futures.ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=_init_worker,
            initargs=(dataset,))
        submit = (lambda i: pool.submit(_get_in_worker, i))
    else:
        pool = futures.ThreadPoolExecutor(max_workers=workers,
                                          thread_name_prefix="gkeras-data")
        submit = (lambda i: pool.submit(dataset.__getitem__, i))
    pending = collections.deque()
    it = iter(order)
    try:
        for i in it:
            pending.append(submit(int(i)))
            if len(pending) >= queue_size:
                break
        while pending:
            batch = pending.popleft().result()
            nxt = next(it, None)
            if nxt is not None:
                pending.append(submit(int(nxt)))
            yield batch
    finally:
        for f in pending:
            f.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
