"""Input checks on device data without a sync inside a training step.

Some checks need a value that lives on the GPU (the largest token id an
`Embedding` receives, the largest label a sparse loss sees). Reading it at
once costs a device-to-host synchronisation per call, which stalls the
step. Inside the training/evaluation loops (`deferring`) a check instead
keeps a small running maximum on the device; the loop `flush`es once per
epoch, reading all pending maxima with one batched transfer, and raises
the check's error then. Outside the loops, and for NumPy arrays, checks
run at once.

Example:

>>> def report(v):  # v: host array of the maxima
...     if v[0] >= 10:
...         raise ValueError(f"id {v[0]} >= 10")
>>> check_max(layer, xp.stack([ids.max(), -ids.min()]), report)
"""

import numpy as np

from gkeras import backend

# key -> [device array of running maxima, report(host maxima)]
_PENDING = {}
_DEPTH = [0]


def check_max(key, values, report):
    """Checks `values` (a 1-d array) now or, on the device inside a loop,
    at the next `flush()`.

    Args:
        key: identifies the check (e.g. the layer); the elementwise maximum
            of `values` over the calls with one key is checked.
        values: 1-d NumPy or CuPy array of integers.
        report: `report(host_values)` raises when the values are bad.
    """
    if not backend.is_cupy_array(values):
        report(np.asarray(values))
        return
    if _DEPTH[0] == 0:
        report(backend.to_numpy(values))
        return
    entry = _PENDING.get(key)
    if entry is None:
        _PENDING[key] = [values, report]
    else:
        xp = backend.get_array_module(values)
        entry[0] = xp.maximum(entry[0], values)


def deferring(iterable):
    """Yields from `iterable` with device checks deferred to `flush()`.

    Args:
        iterable: the batches of a training/evaluation loop.
    """
    if _DEPTH[0] == 0:
        _PENDING.clear()  # left over from a loop an exception ended
    _DEPTH[0] += 1
    try:
        yield from iterable
    finally:
        _DEPTH[0] -= 1


def flush():
    """Reads every pending check back with one transfer and raises the
    first failing check's error."""
    if not _PENDING:
        return
    entries = list(_PENDING.values())
    _PENDING.clear()
    xp = backend.get_array_module(entries[0][0])
    flat = xp.concatenate([xp.ravel(v).astype(xp.int64) for v, _ in entries])
    host = backend.to_numpy(flat)
    i = 0
    for v, report in entries:
        report(host[i:i + v.size])
        i += v.size
