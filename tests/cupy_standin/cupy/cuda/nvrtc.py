"""`cupy.cuda.nvrtc` of the stand-in: the real NVRTC library (the
`nvidia-cuda-nvrtc-cu12` wheel) through ctypes."""

import ctypes
import glob
import os


class NVRTCError(RuntimeError):
    pass


_LIB = None


def _lib():
    global _LIB
    if _LIB is None:
        cands = []
        try:
            import nvidia.cuda_nvrtc as m
            for d in m.__path__:
                cands += sorted(glob.glob(os.path.join(d, "lib",
                                                       "libnvrtc.so*")))
        except ImportError:
            pass
        cands += ["libnvrtc.so", "libnvrtc.so.12"]
        for c in cands:
            if "builtins" in os.path.basename(c):
                continue
            try:
                _LIB = ctypes.CDLL(c)
                break
            except OSError:
                continue
        if _LIB is None:
            raise NVRTCError("NVRTC_ERROR: libnvrtc not found (pip install "
                             "nvidia-cuda-nvrtc-cu12)")
    return _LIB


def getVersion():
    major, minor = ctypes.c_int(), ctypes.c_int()
    _lib().nvrtcVersion(ctypes.byref(major), ctypes.byref(minor))
    return major.value, minor.value


def compile_to_cubin(source, name, options):
    """Compiles CUDA source with NVRTC; returns the CUBIN bytes or raises
    with NVRTC's log (what `cupy.RawModule` raises as CompileException)."""
    lib = _lib()
    prog = ctypes.c_void_p()
    rc = lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(),
                                name.encode(), 0, None, None)
    if rc != 0:
        raise NVRTCError(f"nvrtcCreateProgram failed ({rc})")
    try:
        opts = [o.encode() for o in options]
        arr = (ctypes.c_char_p * len(opts))(*opts)
        rc = lib.nvrtcCompileProgram(prog, len(opts), arr)
        size = ctypes.c_size_t()
        lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        lib.nvrtcGetProgramLog(prog, log)
        if rc != 0:
            raise NVRTCError(f"{name}: NVRTC compile failed with options "
                             f"{options}:\n{log.value.decode(errors='replace')}")
        n = ctypes.c_size_t()
        lib.nvrtcGetCUBINSize(prog, ctypes.byref(n))
        buf = ctypes.create_string_buffer(n.value)
        lib.nvrtcGetCUBIN(prog, buf)
        return buf.raw
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(prog))
