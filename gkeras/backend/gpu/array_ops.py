"""Small array helpers whose NumPy and CuPy spellings differ (scatter-add,
erf, random generators). `backend.cpu.array_ops` has the same names."""

__all__ = ["scatter_add", "erf", "default_rng", "special_function",
           "scipy_linalg_function"]


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
