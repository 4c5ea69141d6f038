"""Small array helpers whose NumPy and CuPy spellings differ (scatter-add,
erf, random generators). `backend.cpu.array_ops` has the same names."""

__all__ = ["scatter_add", "erf", "default_rng", "special_function",
           "scipy_linalg_function", "scatter_reduce"]


def scatter_add(dst, index, values):
    """`dst[index] += values` with repeated indices accumulated, in place.

    Deterministic (no atomics for float32/float64: `kernels/scatter.cu`
    sums each index's values in their original order, as `numpy.add.at`).

    Args:
        dst: the CuPy array to add into.
        index: an index expression (array or tuple of arrays).
        values: values broadcastable to `dst[index]`.
    """
    from gkeras.backend.gpu.launch import cupy_runtime
    from gkeras.backend.gpu.scatter import _scatter_add
    _scatter_add(cupy_runtime(), dst, index, values)


def erf(x):
    """The error function, element-wise, on the GPU."""
    import cupyx.scipy.special
    return cupyx.scipy.special.erf(x)


def default_rng(seed):
    """A CuPy random `Generator` on the GPU, seeded with an int."""
    import cupy
    return cupy.random.default_rng(int(seed))


def special_function(name):
    """`cupyx.scipy.special.<name>` (None where CuPy lacks it)."""
    import cupyx.scipy.special
    return getattr(cupyx.scipy.special, name, None)


def scipy_linalg_function(name):
    """`cupyx.scipy.linalg.<name>` (None where CuPy lacks it)."""
    import cupyx.scipy.linalg
    return getattr(cupyx.scipy.linalg, name, None)


def scatter_reduce(dst, index, values, reduction):
    """`dst[index] = reduction(dst[index], values)` with repeated indices
    combined, in place (`"max"`, `"min"` or `"prod"`).

    Max and min use `cupyx.scatter_max/min`; CuPy has no scatter product,
    so `"prod"` runs on the host (a copy each way).
    """
    import cupy
    import cupyx
    if reduction == "max":
        cupyx.scatter_max(dst, index, values)
    elif reduction == "min":
        cupyx.scatter_min(dst, index, values)
    else:
        import numpy as np
        host = cupy.asnumpy(dst)
        idx = tuple(cupy.asnumpy(i) if hasattr(i, "get") else i
                    for i in index) if isinstance(index, tuple) else (
            cupy.asnumpy(index) if hasattr(index, "get") else index)
        np.multiply.at(host, idx, cupy.asnumpy(values))
        dst[...] = cupy.asarray(host)
