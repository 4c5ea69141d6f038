"""`a.T @ b` for tall operands (the kernel gradients of convolutions and
of Dense layers over many rows), split along the long axis.

A kernel gradient sums over every output position: for a convolution,
`patches.T @ dy` with `(N*H*W, K)` patches and `(N*H*W, F)` gradients,
where the summed axis (65536 rows for the CNN's first layer at batch 64)
dwarfs the `(K, F)` result (27 x 32). OpenBLAS threads a GEMM over the
result's rows and columns, which such a product barely has, so one call
on 2 threads ran these at a fraction of the machine. Cutting the long
axis in one part a thread (each part a single-threaded GEMM on the shared
pool) and adding the partial products fills every core. Measured on the
2-vCPU machine, same run, medians, ms: 65536x27 by 65536x32 7.6 -> 2.7;
16384x288 by 16384x64 25.7 -> 13.5; 4096x576 by 4096x128 12.3 -> 8.0.

The partial sums are added in a fixed order, so a result depends only on
the thread count, not on timing.
"""

import numpy as np

from gkeras.backend.cpu.parallel import num_threads, parallel_map

__all__ = ["at_b"]

# Split only products of at least this many multiply-adds (below it one
# call finishes in well under the ~100 us a hand-off can cost) ...
MIN_FLOPS = 1 << 23
# ... and only when the summed axis is this many times the longer side of
# the result: a squarer product is one OpenBLAS already threads well.
MIN_ASPECT = 8


def at_b(a, b):
    """Returns `a.T @ b` for 2-D `a` `(M, K)` and `b` `(M, N)`.

    Args:
        a: a 2-D NumPy array.
        b: a 2-D NumPy array with as many rows as `a`.

    Returns:
        The `(K, N)` product, in NumPy's result dtype.

    Example:

    >>> a = np.ones((6, 2), "float32"); b = np.ones((6, 3), "float32")
    >>> at_b(a, b)[0, 0]
    6.0
    """
    m, k = a.shape
    n = b.shape[1]
    threads = min(num_threads(), m)
    if (threads < 2 or m * k * n < MIN_FLOPS
            or m < MIN_ASPECT * max(k, n)):
        return a.T @ b
    cuts = [m * i // threads for i in range(threads + 1)]
    parts = parallel_map(lambda i: a[cuts[i]:cuts[i + 1]].T
                         @ b[cuts[i]:cuts[i + 1]], range(threads))
    out = parts[0]
    for p in parts[1:]:
        out += p
    return out
