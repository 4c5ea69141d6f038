"""Optional JIT compilation (numba) of fused element-wise CPU passes.

NumPy runs every element-wise operation as its own pass over memory: a
BatchNorm + ReLU over a (64, 32, 32, 32) activation is three passes of
8 MB in and out each. A loop compiled by numba does them in one pass,
measured on this project's 2-core machine (1 thread, 2M floats):
`x * s + b` then ReLU in NumPy 2.97 ms, fused 0.35-0.46 ms; a call to a
compiled kernel costs ~0.25 us. That gap is what the JIT is for; NumPy
stays the reference path that every fused kernel is tested against, and
the only path when numba is absent.

numba is an optional extra (`pip install "gkeras[cpu-jit]"`). Kernels are
used when it imports and `GKERAS_CPU_JIT` is not `0`; `GKERAS_CPU_JIT=0`
(or `jit.disabled()` in code) runs the NumPy path. Kernels compile on
first use (~0.1-1 s each) and are cached on disk by numba afterwards.
numba checks a cached kernel against its own source file only: a kernel
that inlines a function from another module (`cnn_jit`'s im2col in
`conv_blocks`, `attention_blocks.exp_row` in `attention_jit`) keeps the
old copy after only that other module is edited, until numba's cache
(`__pycache__/*.nbi`, `*.nbc`, or `NUMBA_CACHE_DIR`) is cleared. An
installed release is unaffected (every file is new).

Kernels are compiled `nogil`, so `parallel.split_rows` can run parts of
one pass on the shared thread pool: one pool, one thread count, rather
than numba's own threading layer beside it. The floating-point flags
allow contraction and reassociation (vectorised sums) but not `nnan` or
`ninf`, so NaN and infinities propagate as they do in NumPy.
"""

import contextlib
import os
import threading

__all__ = ["enabled", "disabled", "kernel", "inline", "FASTMATH"]

# No `nnan`/`ninf`: those let LLVM assume NaN and inf never occur, which
# would change what a NaN input gives (ReLU(NaN), max-pool ties).
FASTMATH = frozenset({"contract", "reassoc", "nsz", "arcp"})

_STATE = {"numba": None, "imported": False}


class _Local(threading.local):
    # A class default: a missing per-thread attribute would make every
    # `enabled()` raise and catch an AttributeError inside getattr
    # (~0.4 us).
    off = 0


_LOCAL = _Local()


def _numba():
    """The numba module, or None when it is not installed or fails to
    import (an unsupported NumPy version, say)."""
    if not _STATE["imported"]:
        _STATE["imported"] = True
        try:
            import numba
        except Exception:  # noqa: BLE001 - any import failure: no JIT
            numba = None
        _STATE["numba"] = numba
    return _STATE["numba"]


def enabled():
    """Whether the fused JIT kernels are used on this thread.

    Returns:
        True when numba imports, `GKERAS_CPU_JIT` is not `0` and no
        `disabled()` block is active.

    Example:

    >>> from gkeras.backend.cpu import jit
    >>> with jit.disabled():
    ...     jit.enabled()
    False
    """
    if _LOCAL.off or not _env_allows():
        return False
    return _numba() is not None


# `os.environ` keeps its raw mapping in step with every change (as
# `monkeypatch.setenv` makes); reading it directly and parsing each raw
# value once costs ~0.1 us against ~1.3 us for `os.environ.get` and the
# parse, on every fused kernel call.
_ENVIRON = getattr(os.environ, "_data", None)
_ENV_KEY = os.environ.encodekey("GKERAS_CPU_JIT") if _ENVIRON is not None \
    and hasattr(os.environ, "encodekey") else None
_ENV_PARSED = {}


def _env_allows():
    """Whether `GKERAS_CPU_JIT` (read now) leaves the JIT on."""
    if _ENV_KEY is None:
        return _parse_env(os.environ.get("GKERAS_CPU_JIT"))
    raw = _ENVIRON.get(_ENV_KEY)
    allowed = _ENV_PARSED.get(raw)
    if allowed is None:
        allowed = _parse_env(None if raw is None else
                             os.environ.decodevalue(raw))
        _ENV_PARSED[raw] = allowed
    return allowed


def _parse_env(value):
    return value is None or value.strip().lower() not in (
        "0", "false", "no", "off")


@contextlib.contextmanager
def disabled():
    """A block in which this thread runs the NumPy reference paths.

    Tests compare the fused kernels with the NumPy path through it.

    Example:

    >>> from gkeras.backend.cpu import jit
    >>> with jit.disabled():
    ...     pass  # every CPU primitive here runs plain NumPy
    """
    _LOCAL.off = getattr(_LOCAL, "off", 0) + 1
    try:
        yield
    finally:
        _LOCAL.off -= 1


class _Kernel:
    """A Python function compiled by numba on its first call."""

    def __init__(self, fn, options):
        self.py_func = fn
        self._options = options
        self._compiled = None
        self._lock = threading.Lock()
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__

    def __call__(self, *args):
        f = self._compiled
        if f is None:
            f = self._compile()
        return f(*args)

    def dispatcher(self):
        """The compiled numba dispatcher (compiling it on first use), for
        hot loops that call a kernel many times per step: it skips this
        wrapper's Python call (~0.3 us)."""
        f = self._compiled
        return f if f is not None else self._compile()

    def _compile(self):
        numba = _numba()
        if numba is None:
            raise RuntimeError(
                f"JIT kernel '{self.__name__}' called without numba; "
                "check `gkeras.backend.cpu.jit.enabled()` first or "
                "install it with `pip install \"gkeras[cpu-jit]\"`")
        with self._lock:
            if self._compiled is None:
                try:
                    f = numba.njit(**self._options)(self.py_func)
                except RuntimeError as e:
                    if not self._options.get("cache") or \
                            "cannot cache" not in str(e):
                        raise
                    # No writable cache location (a read-only install and
                    # home): compile in memory on every run instead.
                    options = dict(self._options, cache=False)
                    f = numba.njit(**options)(self.py_func)
                self._compiled = f
        return self._compiled


def kernel(fn=None, *, fastmath=FASTMATH, cache=True, error_model=None):
    """Marks a loop function as a JIT kernel, compiled on first call.

    The function must be numba-compilable (`nopython` mode) and should
    only write into output arrays passed to it. Callers check `enabled()`
    and otherwise run their NumPy path.

    Args:
        fn: the function (or use `@kernel(...)` with arguments).
        fastmath: numba `fastmath` flags (`FASTMATH`: no `nnan`/`ninf`).
        cache: cache the compiled code on disk.
        error_model: numba's `error_model`; `"numpy"` makes a float
            division by zero give inf/NaN as NumPy does instead of raising
            `ZeroDivisionError`, and lets LLVM vectorise a loop that
            divides (numba's default `"python"` check keeps it scalar: a
            rational tanh measured 2.8 vs 0.26 ns per element). None:
            numba's default.

    Returns:
        A callable with the function's signature.

    Example:

    >>> @kernel
    ... def scale_into(x, s, out):
    ...     for i in range(x.shape[0]):
    ...         out[i] = x[i] * s
    """
    options = {"nogil": True, "cache": cache, "fastmath": set(fastmath)}
    if error_model is not None:
        options["error_model"] = error_model
    if fn is None:
        return lambda f: _Kernel(f, options)
    return _Kernel(fn, options)


_INLINED = {}
_INLINE_LOCK = threading.Lock()


def inline(fn, error_model=None):
    """`fn` compiled by numba for inlining into kernels (`inline="always"`,
    the kernels' `FASTMATH`), once per process.

    For plain-Python row passes that several kernels share (a softmax row,
    a normalized row, `tanh`): a kernel calls it through a module global
    bound before the kernel's first compilation, since numba resolves
    globals at compile time. Call only when `enabled()`. A kernel cached
    on disk goes stale when only the module of an inlined function from
    ANOTHER module is edited (module docstring); keep such helpers beside
    their kernels where possible.

    Args:
        fn: the plain Python function.
        error_model: numba's `error_model` (`"numpy"`: float division by
            zero gives inf/NaN and the loop may vectorise).

    Returns:
        The numba dispatcher.

    Example:

    >>> def twice(x):
    ...     return x + x
    >>> twice_nb = inline(twice)   # bind to a global, then use in kernels
    """
    key = (fn, error_model)
    f = _INLINED.get(key)
    if f is None:
        with _INLINE_LOCK:
            f = _INLINED.get(key)
            if f is None:
                options = {"inline": "always", "fastmath": set(FASTMATH)}
                if error_model is not None:
                    options["error_model"] = error_model
                f = _INLINED[key] = _numba().njit(**options)(fn)
    return f
