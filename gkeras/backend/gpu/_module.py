"""Loads `kernels/*.cu` into CuPy RawModules, once per process."""

import functools

from gkeras.backend.kernel_source import read_kernel

# NVRTC options for every kernel file; tests/test_kernels_compile.py compiles
# each file with exactly these for sm_70/80/90.
NVRTC_OPTIONS = ("-std=c++17",)


@functools.lru_cache(maxsize=None)
def raw_module(filename, options=NVRTC_OPTIONS, name_expressions=None):
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


def get_kernel(filename, name, options=NVRTC_OPTIONS):
    """Returns the `cupy.RawKernel` entry point `name` of `kernels/<filename>`."""
    return raw_module(filename, tuple(options)).get_function(name)
