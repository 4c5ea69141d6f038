"""Event counters of the CuPy stand-in (`tests/cupy_standin/cupy`).

Every device-to-host synchronisation, host-to-device copy, custom kernel
launch and other device operation the stand-in sees is counted here, with
the gkeras `file:line` that caused it (the innermost frame inside the
`gkeras` package), so a test can assert e.g. "no sync inside a training
step" and say where one came from.

Kept outside the `cupy` package so that `cupy` itself offers only the names
real CuPy has.

Example:
    import standin_counters as sc
    sc.reset()
    model.train_on_batch(x, y)
    assert sc.count("sync") == 0, sc.where("sync")
"""

import collections
import os
import sys

KINDS = ("sync", "h2d", "launch", "op", "float64")

_GKERAS = os.sep + "gkeras" + os.sep
_events = collections.defaultdict(collections.Counter)
# Raise instead of counting, for these kinds (a test's choice).
strict = set()
enabled = True


class StandinSyncError(RuntimeError):
    """Raised when an event of a kind in `strict` happens."""


def _caller():
    f = sys._getframe(2)
    first = None
    while f is not None:
        fn = f.f_code.co_filename
        if _GKERAS in fn and "cupy_standin" not in fn:
            i = fn.rfind(_GKERAS)
            return f"{fn[i + 1:]}:{f.f_lineno}"
        if first is None and "cupy_standin" not in fn:
            first = f"{os.path.basename(fn)}:{f.f_lineno}"
        f = f.f_back
    return first or "?"


def record(kind, what):
    """Counts one event of `kind` ("sync", "h2d", "launch", "op",
    "float64") described by `what` (e.g. "float()", "RawKernel adam")."""
    if not enabled:
        return
    where = _caller()
    _events[kind][(where, what)] += 1
    if kind in strict:
        raise StandinSyncError(f"CuPy stand-in: {kind} event {what!r} at "
                               f"{where} while {kind!r} events are strict")


def reset():
    """Forgets every event counted so far."""
    _events.clear()


def count(kind):
    """Number of events of `kind` since the last `reset()`."""
    return sum(_events[kind].values())


def where(kind):
    """`{(file:line, what): n}` of the events of `kind`."""
    return dict(_events[kind])


def snapshot():
    """`{kind: count}` for every kind."""
    return {k: count(k) for k in KINDS}
