"""Loads `kernels/*.cu` into CuPy RawModules, once per process."""

import functools

from gkeras.backend.kernel_source import read_kernel


@functools.lru_cache(maxsize=None)
def raw_module(filename, options=("-std=c++17",), name_expressions=None):
    """Returns the compiled `cupy.RawModule` for `kernels/<filename>`.

    Compiled with NVRTC on first use and cached for the process (CuPy also
    caches the binary on disk across processes).

    Args:
        filename: e.g. `"conv.cu"`.
        options: NVRTC options, a tuple (hashable for the cache).
        name_expressions: optional tuple of template instantiations.
    """
    import cupy

    return cupy.RawModule(code=read_kernel(filename), options=tuple(options),
                          name_expressions=name_expressions)


def get_kernel(filename, name, options=("-std=c++17",)):
    """Returns the `cupy.RawKernel` entry point `name` of `kernels/<filename>`."""
    return raw_module(filename, tuple(options)).get_function(name)
