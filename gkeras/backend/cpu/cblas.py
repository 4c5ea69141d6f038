"""The loaded OpenBLAS's `sgemm`/`dgemm`, callable from JIT kernels.

A NumPy `matmul` called from Python holds the GIL between calls, so a loop
of small GEMMs and compiled element-wise passes (an RNN's steps) on two
threads hands the GIL back and forth at every call; on a 2-vCPU VM each
hand-over is a futex wake-up (tens of us). Calling BLAS from inside a
`nogil` numba kernel runs the whole loop as ONE compiled call per thread
with no GIL traffic. Measured (1 thread): a 16x128 @ 128x512 sgemm costs
31.7 us from a kernel against 34.0 us through `np.matmul`.

The library is the OpenBLAS NumPy itself loaded (found in
`/proc/self/maps`, as `parallel` finds its thread setter), so there is
one BLAS with one thread count. Its CBLAS symbols are looked up by name
(`scipy_cblas_sgemm64_`, `cblas_sgemm64_`, `scipy_cblas_sgemm`,
`cblas_sgemm`); the integer width (ILP64 or LP64) is the library's own
(`openblas_get_config()` says `USE64BITINT`, or the symbol ends in
`64_`). Without such a library (another NumPy build, MKL, Accelerate,
not Linux) `available()` is False and callers keep their NumPy path.

Contract of the kernel-side functions (`kernel_functions()`): row-major
CBLAS, `C = alpha * op(A) @ op(B) + beta * C` with `op(A)` `(m, k)`,
`op(B)` `(k, n)`, `C` `(m, n)`; pointers are byte addresses
(`a.ctypes.data` plus `offset * itemsize`), leading dimensions in
elements (the row stride: `lda >= k` without transpose, `>= m` with it).
`m == 0` or `n == 0` does nothing; `k == 0` gives `beta * C`. With
`beta == 0` C is overwritten (NaN in C does not propagate, as with
`np.matmul(..., out=C)`). The caller keeps the arrays alive and sizes
them; BLAS does not check bounds.

The kernels compile with numba's disk cache: the function pointers are
kernel arguments (`handle()`), never compile-time constants, so a cached
kernel stays valid in a new process.
"""

import ctypes
import threading

import numpy as np

from gkeras.backend.cpu import jit

__all__ = ["available", "handle", "kernel_functions", "gemm",
           "set_num_threads_local"]

ROW_MAJOR = 101
NO_TRANS = 111
TRANS = 112

_STATE = {"lib": False, "fns": None}
_LOCK = threading.Lock()

# (sgemm, dgemm, integer width) name triples, most specific first.
_SYMBOLS = (("scipy_cblas_sgemm64_", "scipy_cblas_dgemm64_", 64),
            ("cblas_sgemm64_", "cblas_dgemm64_", 64),
            ("scipy_cblas_sgemm", "scipy_cblas_dgemm", None),
            ("cblas_sgemm", "cblas_dgemm", None))


def _openblas_paths():
    try:
        with open("/proc/self/maps") as f:
            return sorted({line.split()[-1] for line in f
                           if "openblas" in line.lower() and ".so" in line})
    except OSError:  # not Linux
        return []


def _ilp64(lib, width):
    if width is not None:
        return width == 64
    try:
        cfg = lib.openblas_get_config
    except AttributeError:
        return None
    cfg.argtypes, cfg.restype = [], ctypes.c_char_p
    return b"USE64BITINT" in (cfg() or b"")


def _load():
    """`(sgemm address, dgemm address, ilp64, threads setter)` of
    NumPy's OpenBLAS, or None."""
    if _STATE["lib"] is not False:
        return _STATE["lib"]
    with _LOCK:
        if _STATE["lib"] is not False:
            return _STATE["lib"]
        np.dot(np.ones((2, 2)), np.ones((2, 2)))  # BLAS mapped by now
        found = None
        for path in _openblas_paths():
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for s_name, d_name, width in _SYMBOLS:
                try:
                    s, d = getattr(lib, s_name), getattr(lib, d_name)
                except AttributeError:
                    continue
                ilp64 = _ilp64(lib, width)
                if ilp64 is None:
                    continue
                setter = getattr(lib, "openblas_set_num_threads_local",
                                 None)
                if setter is not None:
                    setter.argtypes = [ctypes.c_int]
                    setter.restype = ctypes.c_int
                addr = ctypes.cast(s, ctypes.c_void_p).value
                daddr = ctypes.cast(d, ctypes.c_void_p).value
                found = (addr, daddr, ilp64, setter)
                break
            if found:
                break
        _STATE["lib"] = found
    return found


def available():
    """Whether kernels can call BLAS directly (`handle()` is usable).

    Returns:
        True when the JIT is enabled and NumPy's BLAS is an OpenBLAS with
        CBLAS `sgemm`/`dgemm` symbols.

    Example:

    >>> from gkeras.backend.cpu import cblas
    >>> isinstance(cblas.available(), bool)
    True
    """
    return jit.enabled() and _load() is not None


def handle():
    """The kernel argument that carries the BLAS entry points.

    Returns:
        An int64 array `[sgemm address, dgemm address, ilp64 (0/1)]`,
        passed to kernels that call `kernel_functions()`'s gemm. Only
        valid when `available()`.
    """
    s, d, ilp64, _ = _load()
    return np.array([s, d, int(ilp64)], np.int64)


def set_num_threads_local(n):
    """OpenBLAS's `openblas_set_num_threads_local(n)` (in NumPy's build
    it sets the thread count BLAS calls use from now on).

    Args:
        n: threads, at least 1.

    Returns:
        The previous count, or None when the library lacks the setter.
    """
    lib = _load()
    if lib is None or lib[3] is None:
        return None
    return lib[3](int(n))


def _build():
    """Compiles the kernel-side gemm functions (numba imported here)."""
    numba = jit._numba()
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils  # noqa: F401 - numba's codegen helpers

    def _intrinsic(int_bits):
        ity = ir.IntType(int_bits)
        i32 = ir.IntType(32)
        vp = ir.IntType(8).as_pointer()

        @numba.extending.intrinsic
        def call(typingctx, fn, ta, tb, m, n, k, alpha, a, lda, b, ldb,
                 beta, c, ldc):
            fty = alpha
            sig = types.void(types.int64, types.int64, types.int64,
                             types.int64, types.int64, types.int64, fty,
                             types.int64, types.int64, types.int64,
                             types.int64, fty, types.int64, types.int64)

            def codegen(context, builder, signature, args):
                lt = context.get_value_type(fty)
                fnty = ir.FunctionType(ir.VoidType(), [
                    i32, i32, i32, ity, ity, ity, lt, vp, ity, vp, ity, lt,
                    vp, ity])
                f = builder.inttoptr(args[0], fnty.as_pointer())

                def iv(v):
                    return builder.trunc(v, ity) if int_bits < 64 else v

                builder.call(f, [
                    ir.Constant(i32, ROW_MAJOR), builder.trunc(args[1], i32),
                    builder.trunc(args[2], i32), iv(args[3]), iv(args[4]),
                    iv(args[5]), args[6], builder.inttoptr(args[7], vp),
                    iv(args[8]), builder.inttoptr(args[9], vp),
                    iv(args[10]), args[11], builder.inttoptr(args[12], vp),
                    iv(args[13])])
                return context.get_dummy_value()
            return sig, codegen
        return call

    call64, call32 = _intrinsic(64), _intrinsic(32)
    njit = numba.njit(inline="always")

    def make(which, cast):
        def gemm_nb(h, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb,
                    beta, c, ldc):
            if m <= 0 or n <= 0:
                return
            ta = TRANS if trans_a else NO_TRANS
            tb = TRANS if trans_b else NO_TRANS
            # k == 0 still needs legal leading dimensions (>= 1).
            lda = max(lda, 1)
            ldb = max(ldb, 1)
            if h[2]:
                call64(h[which], ta, tb, m, n, k, cast(alpha), a, lda, b,
                       ldb, cast(beta), c, ldc)
            else:
                call32(h[which], ta, tb, m, n, k, cast(alpha), a, lda, b,
                       ldb, cast(beta), c, ldc)
        return njit(gemm_nb)

    return make(0, np.float32), make(1, np.float64)


def kernel_functions():
    """`(sgemm, dgemm)` for numba kernels (call only when `available()`).

    Each is `gemm(h, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb,
    beta, c, ldc)`: `h` is `handle()`, `trans_*` booleans, `a`, `b`, `c`
    byte addresses (`arr.ctypes.data`), the rest as in the module's
    contract. Kernels bind them through a module global set before their
    first compilation, as they do `jit_tanh.inlined()`.

    Returns:
        Two numba functions compiled `inline="always"`.
    """
    if _STATE["fns"] is None:
        with _LOCK:
            if _STATE["fns"] is None:
                _STATE["fns"] = _build()
    return _STATE["fns"]


_sgemm_nb = None
_dgemm_nb = None


@jit.kernel
def _sgemm_kernel(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    _sgemm_nb(h, ta, tb, m, n, k, alpha, a.ctypes.data, lda, b.ctypes.data,
              ldb, beta, c.ctypes.data, ldc)


@jit.kernel
def _dgemm_kernel(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    _dgemm_nb(h, ta, tb, m, n, k, alpha, a.ctypes.data, lda, b.ctypes.data,
              ldb, beta, c.ctypes.data, ldc)


def _operand(x, isz):
    """`(array whose data pointer starts x, transposed?, leading dim)`
    for a 2-D operand with one unit-stride axis, or None."""
    s0, s1 = x.strides
    r, c = x.shape
    if x.size == 0:  # any strides; BLAS reads nothing
        return False, max(c, 1)
    if s1 == isz and (r <= 1 or (s0 % isz == 0 and s0 >= c * isz)):
        return False, max(s0 // isz if r > 1 else c, 1)
    if s0 == isz and (c <= 1 or (s1 % isz == 0 and s1 >= r * isz)):
        return True, max(s1 // isz if c > 1 else r, 1)
    return None


def gemm(a, b, out, alpha=1.0, beta=0.0):
    """`out = alpha * a @ b + beta * out` through the kernel-side BLAS call
    (for tests and for callers outside kernels).

    Args:
        a: `(m, k)` float32 or float64 array with one unit-stride axis (a
            row-major block, possibly with a larger row stride, or the
            transpose of one).
        b: `(k, n)` likewise, same dtype.
        out: `(m, n)` array of the dtype, rows of unit stride, written.
        alpha, beta: scalars.

    Returns:
        `out`.

    Raises:
        ValueError: for shapes, dtypes or layouts BLAS cannot take.
    """
    if not available():
        raise RuntimeError("cblas.gemm: no kernel-callable BLAS here; "
                           "check `cblas.available()` first")
    if a.dtype != b.dtype or a.dtype != out.dtype or \
            a.dtype not in (np.float32, np.float64):
        raise ValueError(f"cblas.gemm: expected float32 or float64 operands "
                         f"of one dtype. Received: {a.dtype}, {b.dtype}, "
                         f"{out.dtype}")
    if a.ndim != 2 or b.ndim != 2 or out.ndim != 2 or \
            a.shape[1] != b.shape[0] or \
            out.shape != (a.shape[0], b.shape[1]):
        raise ValueError(f"cblas.gemm: shapes do not chain. Received: "
                         f"{a.shape} @ {b.shape} -> {out.shape}")
    isz = a.itemsize
    la, lb, lc = _operand(a, isz), _operand(b, isz), _operand(out, isz)
    if la is None or lb is None or lc is None or lc[0]:
        raise ValueError("cblas.gemm: an operand has no unit-stride axis "
                         "(or `out` is not row-major)")
    m, k = a.shape
    n = b.shape[1]
    global _sgemm_nb, _dgemm_nb
    if _sgemm_nb is None:
        _sgemm_nb, _dgemm_nb = kernel_functions()
    f = _sgemm_kernel if a.dtype == np.float32 else _dgemm_kernel
    f(handle(), la[0], lb[0], m, n, k, float(alpha), a, la[1], b, lb[1],
      float(beta), out, max(lc[1], n, 1))
    return out
