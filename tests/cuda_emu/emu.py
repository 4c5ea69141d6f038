"""CUDA-on-CPU: compile a `kernels/*.cu` file with g++ and launch its entry
points on NumPy arrays, with the call convention of `cupy.RawKernel`.

This is how gkeras checks its CUDA kernels on machines without a GPU (see
DESIGN.md, "Verifying kernels without a GPU"). The `.cu` source is compiled
as C++17 after `cuda_emu.h` (next to this file), which provides
`threadIdx`/`blockIdx`/`blockDim`/`gridDim`, `__shared__` and
`extern __shared__` memory, `__syncthreads()` as a real barrier, the warp
shuffles and votes, atomics and the fast-math intrinsics. A block's threads
run as fibers, so barriers and shuffles behave as on the hardware; a barrier
that only some threads reach raises `EmuError` (deadlock) instead of hanging.

API:

    from tests.cuda_emu import emu

    mod = emu.load("pool.cu")            # kernels/pool.cu, compiled once
    k = mod.get_function("maxpool_fwd")  # like cupy.RawModule.get_function
    k(grid, block, (x, y, np.int32(n), ...), shared_mem=0)

    # or everything in one go:
    emu.launch("pool.cu", "maxpool_fwd", grid, block, args, shared_mem=0)

    # a runtime for wrapper code written against `gkeras.backend.gpu.launch`:
    rt = emu.EmuRuntime()                # rt.xp is numpy
    rt.launch("pool.cu", "maxpool_fwd", grid, block, args, shared_mem=0)

- `grid`, `block`: ints or tuples of up to 3 ints (CUDA limits checked:
  at most 1024 threads a block, block z <= 64, grid y/z <= 65535).
- `args`: one per kernel parameter, in order. Pointer parameters take
  C-contiguous NumPy arrays whose dtype matches the pointee (`float*` needs
  float32, `int*` int32, `long long*` int64, ...) or None (NULL). The kernel
  works on guarded copies; non-const arrays are written back in place after
  the launch, so outputs appear in the arrays passed, as with CuPy. Bytes
  around every buffer are checked after the launch: a write out of bounds
  raises `EmuError` naming the parameter, and reads out of bounds see NaN.
  Scalar parameters take NumPy scalars of exactly the declared type
  (`np.int32` for `int`, `np.float32` for `float`, ...), which is what CuPy
  needs too: CuPy passes a Python int as int64 and a Python float as double.
  Python ints/floats/bools are converted to the declared type unless
  `strict_scalars=True` (then, as on CuPy, they are only accepted for
  `long long`/`double`/`bool` parameters) -- use strict mode when the args
  are the same tuple the GPU wrapper passes to CuPy.
- `shared_mem`: bytes of dynamic shared memory (`extern __shared__`); at
  most 48 KiB unless `max_dynamic_shared` says otherwise. It is filled with
  0xff (NaN) before every block, as uninitialised memory.
- keyword options: `order` ("forward", "reverse" or "random": the order in
  which a block's threads are run between barriers; race bugs show up in
  one order or another), `seed` (for "random"), `workers` (OS threads
  running blocks concurrently; default 1), `strict_scalars`.

Each entry point's parameter types are read from the compiled code itself
(`cuda_emu::signature_of`), so the launcher checks every argument against
the declared C type. Compiled libraries are cached by content hash in
`$GKERAS_CUDA_EMU_CACHE` (default: `<tmp>/gkeras_cuda_emu_<uid>`), so a test
session compiles each `.cu` once.

`__half` / `__nv_bfloat16` pointers take NumPy float16 / `ml_dtypes.bfloat16`
arrays (cuda_emu_fp16.h: conversions rounding to nearest even, arithmetic
correctly rounded). `#include "x.cuh"` lines are inlined before compiling,
as `gkeras.backend.kernel_source.read_kernel` does for NVRTC.

Limits: no PTX `asm`, no texture/surface objects, no dynamic
parallelism, no cooperative groups; `__shared__` variables keep their values
between blocks (not zeroed; the GPU does not zero them either).
"""

import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading

import numpy as np

__all__ = ["EmuError", "EmuModule", "EmuKernel", "EmuRuntime", "load",
           "launch", "compile_source", "entry_points", "have_compiler"]

_HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = os.path.join(_HERE, "cuda_emu.h")
# Everything HEADER pulls in, for the cache key.
HEADERS = (HEADER, os.path.join(_HERE, "cuda_emu_fp16.h"))
CXX = os.environ.get("CXX", "g++")
CXXFLAGS = ("-std=c++17", "-O2", "-shared", "-fPIC", "-fno-strict-aliasing",
            "-Wall", "-Wno-unknown-pragmas", "-Wno-unused-variable",
            "-Wno-unused-function", "-Werror=return-type",
            "-Wno-unused-but-set-variable", "-pthread")
GUARD = 256  # bytes checked on each side of every buffer
MAX_THREADS = 1024


class EmuError(RuntimeError):
    """A kernel misbehaved under emulation (deadlock, bad argument,
    out-of-bounds write) or failed to compile."""


def have_compiler():
    """True when the C++ compiler used by the emulator is on PATH."""
    return shutil.which(CXX) is not None


# ------------------------------------------------------------- source rewrite
_ENTRY_RE = re.compile(
    r'extern\s+"C"\s+__global__\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?'
    r'void\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?(\w+)\s*\(([^)]*)\)',
    re.S)
_EXTERN_SHARED_RE = re.compile(
    r'extern\s+__shared__\s+(?:__align__\s*\(\s*\d+\s*\)\s*)?'
    r'((?:const\s+|volatile\s+)*[\w:]+(?:\s*<[^;>]*>)?)\s*'
    r'(?:__align__\s*\(\s*\d+\s*\)\s*)?(\w+)\s*\[\s*\]\s*;')


def _strip_comments(src):
    """Blanks comments (keeping newlines) so regexes do not see them."""
    def blank(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    return re.sub(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\])*"',
                  lambda m: m.group(0) if m.group(0).startswith('"')
                  else blank(m), src, flags=re.S)


def entry_points(src):
    """Returns [(name, [param declarations])] of the `extern "C" __global__`
    functions in CUDA source `src`, in order of appearance."""
    out = []
    for m in _ENTRY_RE.finditer(_strip_comments(src)):
        params = [p.strip() for p in m.group(2).split(",") if p.strip()]
        if params == ["void"]:
            params = []
        out.append((m.group(1), params))
    return out


def _param_name(decl):
    m = re.search(r"(\w+)\s*(?:\[\s*\])?\s*$", decl)
    return m.group(1) if m else decl


def _rewrite(src):
    """Turns `extern __shared__ T name[];` into a pointer to the block's
    dynamic shared memory; drops a `static` before `__shared__`."""
    clean = _strip_comments(src)
    pieces, last = [], 0
    for m in _EXTERN_SHARED_RE.finditer(clean):
        depth = clean.count("{", 0, m.start()) - clean.count("}", 0,
                                                             m.start())
        typ, name = m.group(1), m.group(2)
        if depth > 0:
            rep = (f"{typ}* const {name} = "
                   f"reinterpret_cast<{typ}*>(::cuda_emu::dyn_smem());")
        else:
            rep = (f"\n#undef {name}\n#define {name} "
                   f"(reinterpret_cast<{typ}*>(::cuda_emu::dyn_smem()))\n")
            line = clean.count("\n", 0, m.end()) + 1
            rep += f'#line {line}\n'
        pieces.append(src[last:m.start()])
        pieces.append(rep)
        last = m.end()
    pieces.append(src[last:])
    out = "".join(pieces)
    return re.sub(r"\bstatic\s+__shared__\b", "__shared__", out)


def _translation_unit(src, filename):
    entries = entry_points(src)
    lines = [f'#include "{HEADER}"', f'#line 1 "{filename}"', _rewrite(src),
             "", "// ---- cuda_emu trampolines (generated)"]
    for name, _ in entries:
        lines.append(f'extern "C" void __emu_tramp_{name}(void** a) '
                     f'{{ ::cuda_emu::invoke({name}, a); }}')
        lines.append(f'extern "C" const char* __emu_sig_{name}() {{ '
                     f'static std::string s = ::cuda_emu::signature_of({name});'
                     f' return s.c_str(); }}')
    return "\n".join(lines) + "\n", entries


# ------------------------------------------------------------------ compiling
_LOCK = threading.Lock()
_MODULES = {}


def _cache_dir():
    d = os.environ.get("GKERAS_CUDA_EMU_CACHE") or os.path.join(
        tempfile.gettempdir(), f"gkeras_cuda_emu_{os.getuid()}")
    os.makedirs(d, exist_ok=True)
    return d


def compile_source(src, filename="<kernel>.cu", extra_flags=()):
    """Compiles CUDA source text for the emulator; returns an `EmuModule`.

    Args:
        src: the CUDA C source (what `kernels/<name>.cu` holds).
        filename: shown in compiler messages.
        extra_flags: more g++ flags (e.g. `("-DTILE=16",)`, `("-O0", "-g")`).

    Returns:
        An `EmuModule`.

    Raises:
        EmuError: when g++ is missing or the source does not compile (the
            compiler's message is included).
    """
    tu, entries = _translation_unit(src, filename)
    header = b""
    for h in HEADERS:
        with open(h, "rb") as f:
            header += f.read()
    key = hashlib.sha256(tu.encode() + header + repr(
        (CXX, CXXFLAGS, tuple(extra_flags))).encode()).hexdigest()[:24]
    with _LOCK:
        if key in _MODULES:
            return _MODULES[key]
        if not have_compiler():
            raise EmuError(f"the CUDA emulator needs a C++ compiler ({CXX!r}"
                           " not found on PATH)")
        d = _cache_dir()
        so = os.path.join(d, f"{key}.so")
        if not os.path.exists(so):
            cpp = os.path.join(d, f"{key}.{os.getpid()}.cpp")
            tmp_so = os.path.join(d, f"{key}.{os.getpid()}.so")
            with open(cpp, "w") as f:
                f.write(tu)
            cmd = [CXX, *CXXFLAGS, *extra_flags, cpp, "-o", tmp_so]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                raise EmuError(f"g++ could not compile {filename} for the "
                               f"CUDA emulator:\n{r.stderr[-6000:]}")
            os.replace(tmp_so, so)
            os.unlink(cpp)
        mod = EmuModule(ctypes.CDLL(so), entries, filename)
        _MODULES[key] = mod
        return mod


def load(filename, extra_flags=()):
    """Compiles (once) and returns `kernels/<filename>` as an `EmuModule`.

    Args:
        filename: a kernel file name such as `"conv.cu"`, or a path to any
            `.cu` file.
        extra_flags: more g++ flags.
    """
    from gkeras.backend.kernel_source import expand_includes, kernel_path
    if os.path.sep in filename or os.path.isfile(filename):
        path = filename
    else:
        path = kernel_path(filename)
    with open(path, encoding="utf-8") as f:
        src = f.read()
    # `#include "half.cuh"` is inlined as for NVRTC (gkeras.backend.
    # kernel_source.read_kernel), so both compile the same text.
    src = expand_includes(src, os.path.dirname(os.path.abspath(path)),
                          os.path.basename(path))
    return compile_source(src, os.path.basename(path), extra_flags)


# ------------------------------------------------------------------ launching
_SCALAR_CTYPES = {
    "i1": ctypes.c_int8, "i2": ctypes.c_int16, "i4": ctypes.c_int32,
    "i8": ctypes.c_int64, "u1": ctypes.c_uint8, "u2": ctypes.c_uint16,
    "u4": ctypes.c_uint32, "u8": ctypes.c_uint64, "f4": ctypes.c_float,
    "f8": ctypes.c_double, "b1": ctypes.c_bool,
}
_C_NAMES = {"i1": "signed char", "i2": "short", "i4": "int",
            "i8": "long long", "u1": "unsigned char", "u2": "unsigned short",
            "u4": "unsigned int", "u8": "unsigned long long", "f4": "float",
            "f8": "double", "b1": "bool", "H2": "__half",
            "B2": "__nv_bfloat16"}


def _dims(v, what):
    if isinstance(v, (int, np.integer)):
        v = (int(v),)
    v = tuple(int(a) for a in v)
    if not 1 <= len(v) <= 3 or any(a < 1 for a in v):
        raise EmuError(f"{what} must be 1 to 3 positive ints, got {v}")
    return v + (1,) * (3 - len(v))


class EmuKernel:
    """One entry point of an `EmuModule`; call it like a `cupy.RawKernel`."""

    def __init__(self, module, name, params):
        self.module, self.name = module, name
        lib = module.lib
        sig = getattr(lib, f"__emu_sig_{name}")
        sig.restype = ctypes.c_char_p
        self.codes = sig().decode().split(",") if sig() else []
        self.param_names = [_param_name(p) for p in params]
        if len(self.param_names) != len(self.codes):
            self.param_names = [f"arg{i}" for i in range(len(self.codes))]
        self._tramp = ctypes.cast(getattr(lib, f"__emu_tramp_{name}"),
                                  ctypes.c_void_p)

    def __repr__(self):
        return f"<EmuKernel {self.module.filename}:{self.name}{self.codes}>"

    def _convert(self, i, code, a, strict):
        pname = f"{self.name}: parameter {i} ({self.param_names[i]!r})"
        if code.startswith("P"):
            if a is None:
                return ctypes.c_void_p(None), None
            if not isinstance(a, np.ndarray):
                raise EmuError(f"{pname} is a pointer; expected a NumPy "
                               f"array or None, got {type(a).__name__}")
            if not a.flags.c_contiguous:
                raise EmuError(f"{pname}: the array must be C-contiguous "
                               "(kernels index flat memory); got strides "
                               f"{a.strides} for shape {a.shape}")
            elem = code[3:]
            kind, size = elem[0], int(elem[1:])
            if kind in "HB":
                want = "float16" if kind == "H" else "bfloat16"
                if a.dtype.name != want:
                    raise EmuError(
                        f"{pname} points to {_C_NAMES[elem]}; expected a "
                        f"{want} array, got dtype {a.dtype}")
            dk = {"f": "f", "i": "i", "u": "u", "b": "b"}.get(kind)
            if dk and not (a.dtype.kind == dk and a.dtype.itemsize == size):
                if not (kind == "u" and size == 1 and a.dtype.itemsize == 1):
                    raise EmuError(
                        f"{pname} points to {_C_NAMES.get(elem, elem)}; "
                        f"expected an array of that type, got dtype "
                        f"{a.dtype}")
            buf = np.empty(a.nbytes + 2 * GUARD + 64, np.uint8)
            off = (-buf.ctypes.data) % 64
            buf[:] = 0xFF
            start = off + GUARD
            buf[start:start + a.nbytes] = a.reshape(-1).view(np.uint8)
            ptr = ctypes.c_void_p(buf.ctypes.data + start)
            return ptr, (buf, start, a, code[1] == "m", i)
        if code in ("H2", "B2"):
            return self._half_scalar(pname, code, a), None
        ctype = _SCALAR_CTYPES.get(code)
        if ctype is None:
            raise EmuError(f"{pname}: struct parameters by value "
                           f"({code}) are not supported by the launcher")
        if isinstance(a, np.ndarray) and a.ndim == 0:
            a = a[()]
        if isinstance(a, np.generic):
            want = np.dtype(ctype)
            if code == "b1":
                want = np.dtype(np.bool_)
            if a.dtype != want:
                raise EmuError(f"{pname} is {_C_NAMES[code]}; got a NumPy "
                               f"{a.dtype} scalar (use np.{want.name})")
            return ctype(a.item()), None
        if isinstance(a, (bool, int, float)):
            if strict and not (
                    (isinstance(a, bool) and code == "b1")
                    or (type(a) is int and code == "i8")
                    or (type(a) is float and code == "f8")):
                raise EmuError(
                    f"{pname} is {_C_NAMES[code]} but got a Python "
                    f"{type(a).__name__}: CuPy would pass it as "
                    f"{'int64' if type(a) is int else 'double'}. Pass "
                    f"np.{np.dtype(ctype).name}(...)")
            if code[0] in "iu" and not isinstance(a, (int, bool)):
                raise EmuError(f"{pname} is {_C_NAMES[code]}; got "
                               f"{type(a).__name__} {a!r}")
            if code[0] in "iu":
                lo, hi = ((-(1 << (8 * int(code[1:]) - 1)),
                           1 << (8 * int(code[1:]) - 1)) if code[0] == "i"
                          else (0, 1 << (8 * int(code[1:]))))
                if not lo <= int(a) < hi:
                    raise EmuError(f"{pname}: {a} does not fit in "
                                   f"{_C_NAMES[code]}")
            return ctype(a), None
        raise EmuError(f"{pname} is {_C_NAMES[code]}; got "
                       f"{type(a).__name__}")

    @staticmethod
    def _half_scalar(pname, code, a):
        """A `__half`/`__nv_bfloat16` by value: its 16 bits. Takes a NumPy
        float16 / ml_dtypes bfloat16 scalar (what CuPy would need)."""
        want = "float16" if code == "H2" else "bfloat16"
        if isinstance(a, np.ndarray) and a.ndim == 0:
            a = a[()]
        if not (isinstance(a, np.generic) and a.dtype.name == want):
            raise EmuError(f"{pname} is {_C_NAMES[code]}; expected a "
                           f"{want} scalar, got {type(a).__name__} {a!r}")
        return ctypes.c_uint16(int(np.asarray(a).view(np.uint16)))

    def __call__(self, grid, block, args, shared_mem=0, *, order="forward",
                 seed=0, workers=1, strict_scalars=False,
                 max_dynamic_shared=48 * 1024, stack_size=128 * 1024):
        """Launches the kernel over `grid` x `block`; see the module
        docstring. Outputs are written into the arrays passed."""
        g, b = _dims(grid, "grid"), _dims(block, "block")
        nthreads = b[0] * b[1] * b[2]
        if nthreads > MAX_THREADS or b[2] > 64:
            raise EmuError(f"{self.name}: block {b} exceeds CUDA limits "
                           "(<= 1024 threads, z <= 64)")
        if g[1] > 65535 or g[2] > 65535 or g[0] > 2 ** 31 - 1:
            raise EmuError(f"{self.name}: grid {g} exceeds CUDA limits")
        if shared_mem > max_dynamic_shared:
            raise EmuError(f"{self.name}: shared_mem={shared_mem} bytes "
                           f"exceeds {max_dynamic_shared}")
        args = tuple(args)
        if len(args) != len(self.codes):
            raise EmuError(
                f"{self.name} takes {len(self.codes)} arguments "
                f"({', '.join(self.param_names)}), got {len(args)}")
        orders = {"forward": 0, "reverse": 1, "random": 2}
        if order not in orders:
            raise EmuError(f"order must be one of {sorted(orders)}, "
                           f"got {order!r}")
        holders, bufs = [], []
        for i, (code, a) in enumerate(zip(self.codes, args)):
            c, buf = self._convert(i, code, a, strict_scalars)
            holders.append(c)
            if buf is not None:
                bufs.append(buf)
        argv = (ctypes.c_void_p * max(1, len(holders)))(
            *[ctypes.cast(ctypes.pointer(h), ctypes.c_void_p)
              for h in holders])
        err = ctypes.create_string_buffer(4096)
        fn = self.module.lib.cuda_emu_launch
        rc = fn(self._tramp, argv, (ctypes.c_uint * 3)(*g),
                (ctypes.c_uint * 3)(*b), ctypes.c_ulonglong(shared_mem),
                ctypes.c_int(workers), ctypes.c_int(orders[order]),
                ctypes.c_ulonglong(seed), ctypes.c_ulonglong(stack_size),
                err, ctypes.c_int(len(err)))
        if rc != 0:
            raise EmuError(f"{self.module.filename}:{self.name} grid={g} "
                           f"block={b}: {err.value.decode()}")
        for buf, start, a, writable, i in bufs:
            n = a.nbytes
            if not (np.all(buf[start - GUARD:start] == 0xFF)
                    and np.all(buf[start + n:start + n + GUARD] == 0xFF)):
                raise EmuError(
                    f"{self.name} wrote out of bounds of parameter {i} "
                    f"({self.param_names[i]!r}, {a.size} elements)")
            if writable:
                a.reshape(-1).view(np.uint8)[:] = buf[start:start + n]
            elif not np.array_equal(buf[start:start + n],
                                    a.reshape(-1).view(np.uint8)):
                raise EmuError(f"{self.name} wrote into const parameter "
                               f"{i} ({self.param_names[i]!r})")


class EmuModule:
    """A compiled `.cu` file; the emulator's `cupy.RawModule`."""

    def __init__(self, lib, entries, filename):
        self.lib, self.filename = lib, filename
        self.entries = dict(entries)
        self._kernels = {}
        lib.cuda_emu_launch.restype = ctypes.c_int
        lib.cuda_emu_launch.argtypes = [
            ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
            ctypes.c_void_p, ctypes.c_ulonglong, ctypes.c_int, ctypes.c_int,
            ctypes.c_ulonglong, ctypes.c_ulonglong, ctypes.c_char_p,
            ctypes.c_int]

    @property
    def names(self):
        """Names of the `extern "C" __global__` entry points."""
        return list(self.entries)

    def get_function(self, name):
        """Returns the `EmuKernel` for entry point `name`."""
        if name not in self.entries:
            raise EmuError(f"{self.filename} has no entry point {name!r}; "
                           f"it has {self.names}")
        if name not in self._kernels:
            self._kernels[name] = EmuKernel(self, name, self.entries[name])
        return self._kernels[name]


def launch(filename, name, grid, block, args, shared_mem=0, **options):
    """Compiles `kernels/<filename>` (cached) and launches entry `name`."""
    load(filename).get_function(name)(grid, block, args, shared_mem,
                                      **options)


class EmuRuntime:
    """Kernel runtime for GPU wrapper code, on NumPy + the emulator.

    Mirrors `gkeras.backend.gpu.launch.CupyRuntime`: `xp` is the array
    module, `launch(filename, name, grid, block, args, shared_mem)` runs a
    kernel. Scalars are checked strictly (exact NumPy types), since the
    wrapper passes the same tuple to CuPy. `launches` records every
    (filename, name, grid, block, shared_mem) for tests that check
    coverage.
    """

    xp = np

    def __init__(self, order="forward", workers=1, strict_scalars=True,
                 compute_capability=90):
        self.order, self.workers = order, workers
        # What `CupyRuntime.compute_capability` reports on the GPU.
        self.compute_capability = int(compute_capability)
        self.strict_scalars = strict_scalars
        self.launches = []

    def launch(self, filename, name, grid, block, args, shared_mem=0):
        self.launches.append((filename, name, tuple(np.atleast_1d(grid)),
                              tuple(np.atleast_1d(block)), shared_mem))
        load(filename).get_function(name)(
            grid, block, args, shared_mem, order=self.order,
            workers=self.workers, strict_scalars=self.strict_scalars)
