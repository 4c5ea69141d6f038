"""Loads `kernels/*.cu` into CuPy RawModules, once per process, and keeps
the entry-point handles.

`cupy.RawModule.get_function` builds a new `RawKernel` (a dict lookup plus
a Python object, and a `cuModuleGetFunction` the first time) on every call;
a training step launches dozens of kernels, so the handles are cached per
(file, entry point, options) and a launch is one dict lookup.
"""

import functools

from gkeras.backend.kernel_source import read_kernel

# NVRTC options for every kernel file; tests/test_kernels_compile.py compiles
# each file with exactly these for sm_70/80/90.
NVRTC_OPTIONS = ("-std=c++17",)

# The 16-bit twins (`*_f16`, `*_bf16`, see kernels/half.cuh) are compiled
# only into a module of their own type, so a float32 model compiles what it
# did before they existed and a float16 one never compiles bfloat16 code.
_TYPE_OPTIONS = {
    "f16": ("-DGK_BF16=0",),
    "bf16": ("-DGK_F16=0",),
    None: ("-DGK_F16=0", "-DGK_BF16=0"),
}


def options_for(name):
    """The NVRTC options that compile entry point `name`: `NVRTC_OPTIONS`
    plus the macros selecting its element type's twins."""
    kind = None
    if name.endswith("_f16"):
        kind = "f16"
    elif name.endswith("_bf16"):
        kind = "bf16"
    return NVRTC_OPTIONS + _TYPE_OPTIONS[kind]

_KERNELS = {}


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


def get_kernel(filename, name, options=None):
    """Returns the `cupy.RawKernel` entry point `name` of `kernels/<filename>`.

    The handle is looked up once per (file, entry point, options) and
    cached for the process.

    Args:
        filename: e.g. `"conv.cu"`.
        name: the `extern "C"` entry point.
        options: NVRTC options, a tuple; default `options_for(name)`.

    Returns:
        The `cupy.RawKernel`.
    """
    key = (filename, name, options)
    kernel = _KERNELS.get(key)
    if kernel is None:
        if options is None:
            options = options_for(name)
        kernel = raw_module(filename, tuple(options)).get_function(name)
        _KERNELS[key] = kernel
    return kernel


def clear_kernel_cache():
    """Forgets the compiled modules and kernel handles (tests, or after a
    device reset)."""
    _KERNELS.clear()
    raw_module.cache_clear()
