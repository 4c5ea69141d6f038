"""`cupy.RawModule` / `cupy.RawKernel` of the stand-in.

The source is compiled by the real NVRTC (with the options CuPy adds:
`-ftz=true`, `-arch=sm_80`, `--device-as-default-execution-space`), so a
kernel that would not compile for CuPy fails here too, and launches run in
`tests/cuda_emu` (g++ build of the same source, fibers for threads) with
strict argument checks: device arrays for pointers, NumPy scalars of the
declared C type, grid and block as tuples of ints.
"""

import hashlib
import os
import sys

import numpy

import standin_counters as _sc
from cupy import _api
from cupy._ndarray import ndarray

_TESTS = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

# What CuPy appends to the user's options (cupy/cuda/compiler.py) for a
# compute capability 8.0 device with NVRTC 12.
CUPY_ADDED_OPTIONS = ("-ftz=true", "-arch=sm_80",
                      "--device-as-default-execution-space")
_COMPILED = set()


def _cache_dir():
    d = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                     f"gkeras_standin_nvrtc_{os.getuid()}")
    os.makedirs(d, exist_ok=True)
    return d


def _nvrtc_check(code, name, options):
    """Compiles with the real NVRTC once per (source, options); a marker
    file remembers successful compiles across processes."""
    from cupy.cuda import nvrtc
    opts = tuple(options) + CUPY_ADDED_OPTIONS
    key = hashlib.sha256(repr((code, opts, nvrtc.getVersion())).encode()
                         ).hexdigest()[:32]
    if key in _COMPILED:
        return
    marker = os.path.join(_cache_dir(), key)
    if not os.path.exists(marker):
        nvrtc.compile_to_cubin(code, name, opts)
        open(marker, "w").close()
    _COMPILED.add(key)


def _dims(v, what):
    if type(v) is not tuple:
        raise TypeError(f"Argument '{what}' has incorrect type (expected "
                        f"tuple, got {type(v).__name__})")
    if not 1 <= len(v) <= 3 or not all(type(d) is int for d in v):
        raise ValueError(f"{what} must be a tuple of 1 to 3 Python ints, "
                         f"got {v!r}")
    return v


class RawKernel:
    """A CUDA kernel from source; launched in the CUDA emulator."""

    def __init__(self, code, name, options=(), backend="nvrtc", *,
                 translate_cucomplex=False, enable_cooperative_groups=False,
                 jitify=False, _module=None):
        self.code, self.name, self.options = code, name, tuple(options)
        self.backend = backend
        self._module = _module
        self._emu = None

    def _kernel(self):
        if self._emu is None:
            from cuda_emu import emu
            if self._module is None:
                _nvrtc_check(self.code, "kern.cu", self.options)
                mod = emu.compile_source(self.code, "kern.cu")
            else:
                mod = self._module._emu_module()
            self._emu = mod.get_function(self.name)
        return self._emu

    def compile(self, log_stream=None):
        self._kernel()

    def __call__(self, grid, block, args, **kwargs):
        bad = set(kwargs) - {"shared_mem", "stream",
                             "enable_cooperative_groups"}
        if bad:
            raise TypeError(f"RawKernel.__call__() got unexpected keyword "
                            f"arguments {sorted(bad)}")
        grid, block = _dims(grid, "grid"), _dims(block, "block")
        if not isinstance(args, (tuple, list)):
            raise TypeError("args must be a tuple")
        host = []
        for a in args:
            if type(a) is ndarray:
                host.append(a._a)
            elif isinstance(a, numpy.ndarray):
                raise TypeError(f"Unsupported type {type(a)}")
            else:
                host.append(a)
        _sc.record("launch", f"RawKernel {self.name}")
        self._kernel()(grid, block, tuple(host),
                       int(kwargs.get("shared_mem", 0)), strict_scalars=True)

    @property
    def attributes(self):
        return {"max_threads_per_block": 1024}

    max_threads_per_block = 1024


class RawModule:
    """A CUDA module from source (`code=`) or a file (`path=`)."""

    def __init__(self, *, code=None, path=None, options=(), backend="nvrtc",
                 translate_cucomplex=False, enable_cooperative_groups=False,
                 name_expressions=None, jitify=False):
        if (code is None) == (path is None):
            raise TypeError("Exactly one of code and path keyword arguments "
                            "must be given.")
        if path is not None:
            raise NotImplementedError("cupy stand-in: RawModule(path=) "
                                      "(cubin/ptx files) is not emulated")
        if name_expressions is not None:
            raise NotImplementedError("cupy stand-in: name_expressions "
                                      "(C++ templates) are not emulated")
        if not isinstance(options, tuple):
            raise TypeError("options must be a tuple")
        self.code, self.options, self.backend = code, options, backend
        self.name_expressions = name_expressions
        self._emu = None
        _nvrtc_check(code, "kern.cu", options)

    def _emu_module(self):
        if self._emu is None:
            from cuda_emu import emu
            self._emu = emu.compile_source(self.code, "kern.cu")
        return self._emu

    def compile(self, log_stream=None):
        self._emu_module()

    def get_function(self, name):
        mod = self._emu_module()
        if name not in mod.names:
            raise RuntimeError(f"CUDA_ERROR_NOT_FOUND: named symbol not "
                               f"found ({name})")
        return RawKernel(self.code, name, self.options, self.backend,
                         _module=self)

    def get_global(self, name):
        raise NotImplementedError("cupy stand-in: module globals are not "
                                  "emulated")


assert _api.entry("cupy", "RawModule") and _api.entry("cupy", "RawKernel")
