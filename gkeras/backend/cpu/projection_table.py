"""A table of `embeddings @ kernel` rows for Embedding -> recurrent-layer
inference, checked against the current weights on every use.

An `Embedding` feeding an `LSTM` computes, at every call, each token's
embedding row times the LSTM's input kernel: the projection GEMM is the
largest single cost of the tutorial model's `predict` (1600 x 128 @
128 x 512 per thread part: 3.6 ms of a part's ~10 on one thread). The
product depends only on the token id and the two weights, so inference
may look the rows up in a table instead, as a gather.

The table is filled lazily: a row is computed (one GEMM over the rows a
call needs that are missing or stale) the first time its id is seen,
and is trusted afterwards only while its inputs are unchanged, checked
by VALUE at every call: the kernel against a snapshot (one 256 KiB
comparison at the tutorial's size), and each id's embedding row against
the snapshot taken when its table row was computed (one row compare an
id, in a compiled pass that skips repeated ids). So every write path --
an optimizer's in-place update, `assign`, `set_weights`, loading,
writing into `.numpy()` memory -- is seen without any versioning, and a
stale row is never used. Comparisons are bitwise (a NaN row equals its
own snapshot; `-0.0` and `0.0` differ, which only costs a recompute).

The rows of a table are those BLAS gives for the same products computed
in another grouping of rows, so the values can differ from the
per-call projection in the last bit (tests compare with float32
tolerance). Memory: the table (`V x G` floats) and the snapshot (`V x F`)
are allocated untouched; only rows of ids seen become resident. A table
over `MAX_BYTES` is not made (callers keep the GEMM).
"""

import threading

import numpy as np

from gkeras.backend.cpu import jit

__all__ = ["ProjectionTable", "MAX_BYTES"]

# The table and the embedding snapshot together, allocated (virtual)
# size; above it the per-call projection runs instead.
MAX_BYTES = 1 << 28


@jit.kernel
def _stale_ids(ids, emb, snap, valid, stamp, gen, todo):
    """Collects in `todo` each distinct id of `ids` whose table row is
    missing or whose embedding row differs from its snapshot (bitwise,
    as uint32); returns how many. `stamp[id] == gen` marks ids already
    looked at in this call."""
    n = 0
    F = emb.shape[1]
    for k in range(ids.shape[0]):
        t = ids[k]
        if stamp[t] == gen:
            continue
        stamp[t] = gen
        same = valid[t]
        if same:
            er = emb[t]
            sr = snap[t]
            for j in range(F):
                if er[j] != sr[j]:
                    same = False
                    break
        if not same:
            todo[n] = t
            n += 1
    return n


class ProjectionTable:
    """`emb @ kernel` rows by token id, refreshed from the current weights.

    Args:
        vocab: the embedding's row count `V`.
        features: the embedding width `F` (the kernel's rows).
        width: the kernel's columns `G` (4 units for an LSTM).

    Example:

    >>> t = ProjectionTable(100, 8, 32)
    >>> table = t.rows_for(ids, emb, kernel)   # under `t.lock`
    >>> z = table[ids]                          # == emb[ids] @ kernel
    """

    def __init__(self, vocab, features, width):
        self.shape = (int(vocab), int(features), int(width))
        self.lock = threading.Lock()
        self._table = None

    @staticmethod
    def fits(vocab, features, width):
        """Whether a table of this size is made (see `MAX_BYTES`).

        Returns:
            True when `vocab * (features + width)` float32 values fit.
        """
        return 4 * int(vocab) * (int(features) + int(width)) <= MAX_BYTES

    def _allocate(self, dtype):
        V, F, G = self.shape
        self._table = np.empty((V, G), dtype)
        self._snap = np.empty((V, F), dtype)
        self._kernel = None
        self._valid = np.zeros(V, np.bool_)
        self._stamp = np.zeros(V, np.int64)
        self._gen = 0

    def rows_for(self, ids, emb, kernel):
        """The table, with the rows of every id in `ids` current.

        Call under `self.lock`, and keep holding it while the returned
        table is read: another call may rewrite rows.

        Args:
            ids: integer array of token ids, all in `[0, V)` (checked by
                the caller).
            emb: the `(V, F)` embedding matrix (C-contiguous).
            kernel: the `(F, G)` input kernel (C-contiguous, `emb`'s
                dtype).

        Returns:
            The `(V, G)` table; rows of ids not in `ids` may be stale.
        """
        V, F, G = self.shape
        if emb.shape != (V, F) or kernel.shape != (F, G):
            raise ValueError(
                f"ProjectionTable: expected a ({V}, {F}) embedding and a "
                f"({F}, {G}) kernel. Received: {emb.shape} and "
                f"{kernel.shape}")
        if self._table is None or self._table.dtype != emb.dtype:
            self._allocate(emb.dtype)
        bits = np.uint32 if emb.dtype.itemsize == 4 else np.uint64
        if self._kernel is None or not np.array_equal(
                self._kernel.view(bits), kernel.view(bits)):
            self._valid[:] = False
            self._kernel = kernel.copy()
        self._gen += 1
        flat = ids.reshape(-1)
        todo = np.empty(min(flat.size, V), np.int64)
        n = _stale_ids(flat, emb.view(bits), self._snap.view(bits),
                       self._valid, self._stamp, self._gen, todo)
        if n:
            todo = todo[:n]
            rows = emb[todo]
            self._table[todo] = rows @ self._kernel
            self._snap[todo] = rows
            self._valid[todo] = True
        return self._table
