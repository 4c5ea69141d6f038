"""Every `kernels/*.cu` compiles for the GPUs gkeras supports, cleanly.

- nvcc, device code only (`-cubin`), for sm_70, sm_80 and sm_90, warnings
  as errors. An architecture the installed nvcc no longer supports (CUDA 13
  dropped sm_70) is skipped with the reason, and the oldest architecture it
  does support is compiled instead. Skipped only when nvcc is absent.
- NVRTC compatibility (what `cupy.RawModule` uses at run time): no host
  headers (`#include <...>`), no includes of files outside `kernels/`, and
  a real NVRTC compile to a CUBIN for sm_70, sm_80 and sm_90 with the
  options of `gkeras/backend/gpu/_module.py`, through the
  `nvidia-cuda-nvrtc-cu12` wheel of the test extra (skipped only where no
  libnvrtc loads).
- Every `extern "C" __global__` entry point carries a header comment (the
  launch layout, shapes and limits), as DESIGN.md asks.
- Half precision: the kernels include `kernels/half.cuh`; NVRTC compiles
  the text `read_kernel` gives CuPy (includes inlined, half.cuh's own
  __half / __nv_bfloat16 definitions since NVRTC has no CUDA headers),
  nvcc the file itself (the toolkit's cuda_fp16.h / cuda_bf16.h). So both
  the real headers' API and NVRTC's stand-ins are checked, for every
  architecture: the bfloat16 entry points compile for sm_70 too (integer
  rounding there, cvt.rn.bf16.f32 from sm_80).

New kernel families are picked up by the glob automatically.
"""

import ctypes
import ctypes.util
import functools
import glob
import os
import re
import shutil
import subprocess

import pytest

from gkeras.backend.gpu._module import NVRTC_OPTIONS
from gkeras.backend.kernel_source import read_kernel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNELS = sorted(glob.glob(os.path.join(ROOT, "kernels", "*.cu")))
ARCHS = ("sm_70", "sm_80", "sm_90")
NVCC = shutil.which("nvcc") or (
    "/usr/local/cuda/bin/nvcc" if os.path.exists("/usr/local/cuda/bin/nvcc")
    else None)
ENTRY_RE = re.compile(r'extern\s+"C"\s+__global__')



def test_there_are_kernels():
    assert KERNELS, "no kernels/*.cu found"


@functools.lru_cache(maxsize=None)
def _supported_archs():
    r = subprocess.run([NVCC, "--list-gpu-arch"], capture_output=True,
                       text=True)
    return {a.replace("compute_", "sm_") for a in r.stdout.split()}


def _nvcc(path, arch, tmp_path):
    out = tmp_path / (os.path.basename(path) + f".{arch}.cubin")
    cmd = [NVCC, "-cubin", f"-arch={arch}", "-std=c++17",
           "--Werror", "all-warnings", "-Xptxas", "-Werror",
           path, "-o", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    text = (r.stdout + r.stderr).strip()
    assert r.returncode == 0 and "warning" not in text.lower(), (
        f"nvcc -arch={arch} {os.path.relpath(path, ROOT)} failed:\n{text}")


@pytest.mark.skipif(NVCC is None, reason="nvcc not found")
@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("path", KERNELS,
                         ids=[os.path.basename(k) for k in KERNELS])
def test_nvcc_compiles(path, arch, tmp_path):
    supported = _supported_archs()
    if arch not in supported:
        oldest = min(supported, key=lambda a: int(a[3:]))
        if int(oldest[3:]) > int(arch[3:]) and arch == ARCHS[0]:
            # Compile for the oldest the toolkit has, then skip honestly.
            _nvcc(path, oldest, tmp_path)
        pytest.skip(f"this nvcc does not support {arch} (oldest: {oldest})")
    _nvcc(path, arch, tmp_path)


@pytest.mark.parametrize("path", KERNELS,
                         ids=[os.path.basename(k) for k in KERNELS])
def test_nvrtc_compatible_source(path):
    with open(path, encoding="utf-8") as f:
        src = f.read()
    name = os.path.basename(path)
    host = re.findall(r'^\s*#\s*include\s*<([^>]+)>', src, re.M)
    assert not host, (f"{name} includes host headers {host}; NVRTC has none. "
                      "Use builtins (e.g. __int_as_float(0x7f800000) for inf)")
    for inc in re.findall(r'^\s*#\s*include\s*"([^"]+)"', src, re.M):
        assert os.path.isfile(os.path.join(ROOT, "kernels", inc)), (
            f"{name} includes {inc!r}, which is not in kernels/")
    assert ENTRY_RE.search(src), f"{name} has no extern \"C\" __global__"
    lines = src.splitlines()
    for i, line in enumerate(lines):
        if ENTRY_RE.search(line):
            j = i - 1
            while j >= 0 and not lines[j].strip():
                j -= 1
            assert j >= 0 and lines[j].strip().startswith(("//", "*", "/*")), (
                f"{name}:{i + 1}: entry point without a header comment "
                "(grid/block layout, shapes, limits)")


HEADERS = sorted(glob.glob(os.path.join(ROOT, "kernels", "*.cuh")))


@pytest.mark.parametrize("path", HEADERS,
                         ids=[os.path.basename(k) for k in HEADERS])
def test_headers_include_cuda_headers_only_outside_nvrtc(path):
    """A `.cuh` may include the toolkit's fp16/bf16 headers for nvcc, but
    only where NVRTC (`__CUDACC_RTC__`) and the emulator do not see them."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    guarded = []
    for line in lines:
        t = line.strip()
        if t.startswith("#if"):
            guarded.append("__CUDACC_RTC__" in t or "__CUDA_EMU__" in t)
        elif t.startswith("#endif"):
            guarded.pop()
        m = re.match(r'#\s*include\s*<([^>]+)>', t)
        if m:
            assert m.group(1) in ("cuda_fp16.h", "cuda_bf16.h"), t
            assert any(guarded), f"{t} is not behind __CUDACC_RTC__"


def test_kernel_source_inlines_headers():
    src = read_kernel("conv.cu")
    assert '#include "half.cuh"' not in src
    assert "GKERAS_HALF_CUH" in src and "im2col_bf16" in src


@pytest.mark.parametrize("path", KERNELS,
                         ids=[os.path.basename(k) for k in KERNELS])
def test_16bit_twins_sit_behind_their_type_macro(path):
    """Every `*_f16` / `*_bf16` entry point is inside `#if GK_F16` /
    `#if GK_BF16` (so `_module.py` can compile the float32 entry points
    without them), and no other entry point is."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    stack = []
    for i, line in enumerate(lines):
        t = line.strip()
        if t.startswith("#if"):
            stack.append(t)
        elif t.startswith("#endif"):
            stack.pop()
        m = re.search(r'extern\s+"C"\s+__global__\s+void\s+(\w+)', line)
        if not m:
            continue
        name = m.group(1)
        macros = [s for s in stack if s.startswith("#if GK_")]
        want = ("#if GK_F16" if name.endswith("_f16") else "#if GK_BF16"
                if name.endswith("_bf16") else None)
        where = f"{os.path.basename(path)}:{i + 1} {name}"
        assert macros == ([want] if want else []), (where, macros)


def _nvrtc_ptx(lib, src, name, opts):
    prog = ctypes.c_void_p()
    assert lib.nvrtcCreateProgram(ctypes.byref(prog), src, name.encode(), 0,
                                  None, None) == 0
    arr = (ctypes.c_char_p * len(opts))(*[o.encode() for o in opts])
    try:
        rc = lib.nvrtcCompileProgram(prog, len(opts), arr)
        size = ctypes.c_size_t()
        lib.nvrtcGetPTXSize(prog, ctypes.byref(size))
        ptx = ctypes.create_string_buffer(size.value)
        lib.nvrtcGetPTX(prog, ptx)
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(prog))
    assert rc == 0, f"NVRTC failed on {name} with {opts}"
    return ptx.value.decode(errors="replace")


def test_module_options_select_one_element_type():
    """The options `_module.py` compiles each entry point with keep only
    that entry point's element type (checked in the PTX of conv.cu)."""
    from gkeras.backend.gpu._module import options_for
    lib = _load_nvrtc()
    if lib is None:
        pytest.skip("libnvrtc not found (pip install nvidia-cuda-nvrtc-cu12)")
    src = read_kernel("conv.cu").encode()
    for entry, present, absent in (
            ("im2col_f32", ["im2col_f32"], ["im2col_f16", "im2col_bf16"]),
            ("im2col_f16", ["im2col_f32", "im2col_f16"], ["im2col_bf16"]),
            ("col2im_bf16", ["col2im_bf16"], ["col2im_f16"])):
        ptx = _nvrtc_ptx(lib, src, "conv.cu", list(options_for(entry))
                         + ["--gpu-architecture=compute_80"])
        for n in present:
            assert f".entry {n}(" in ptx, (entry, n)
        for n in absent:
            assert f".entry {n}(" not in ptx, (entry, n)


def _nvrtc_candidates():
    """Where libnvrtc may live: the `nvidia-cuda-nvrtc-cu12` wheel the test
    extra installs (what CuPy itself loads from), then a CUDA toolkit."""
    try:
        import nvidia.cuda_nvrtc
        for d in nvidia.cuda_nvrtc.__path__:
            yield from sorted(glob.glob(os.path.join(d, "lib", "libnvrtc.so*")))
    except ImportError:
        pass
    yield ctypes.util.find_library("nvrtc")
    for d in ("/usr/local/cuda/lib64",
              "/usr/local/cuda/targets/x86_64-linux/lib"):
        yield from sorted(glob.glob(os.path.join(d, "libnvrtc.so*")))


@functools.lru_cache(maxsize=None)
def _load_nvrtc():
    for n in _nvrtc_candidates():
        if not n or "builtins" in os.path.basename(n):
            continue
        try:
            return ctypes.CDLL(n)
        except OSError:
            pass
    return None


def _nvrtc_archs(lib):
    n = ctypes.c_int()
    if lib.nvrtcGetNumSupportedArchs(ctypes.byref(n)) != 0:
        return set()
    archs = (ctypes.c_int * n.value)()
    lib.nvrtcGetSupportedArchs(archs)
    return {f"sm_{a}" for a in archs}


# NVRTC 12.x warns on every compile for sm_70/72; that warning is about the
# toolkit's future, not about our source.
_DEPRECATED_ARCH = re.compile(r"[^\n]*Architectures prior to[^\n]*deprecated[^\n]*")


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("path", KERNELS,
                         ids=[os.path.basename(k) for k in KERNELS])
def test_nvrtc_compiles(path, arch):
    """A real NVRTC compile down to a CUBIN (so ptxas runs too), with the
    options `gkeras/backend/gpu/_module.py` gives `cupy.RawModule`. NVRTC
    12 still targets sm_70, which nvcc 13 dropped; no warnings allowed."""
    lib = _load_nvrtc()
    if lib is None:
        pytest.skip("libnvrtc not found (pip install nvidia-cuda-nvrtc-cu12)")
    if arch not in _nvrtc_archs(lib):
        pytest.skip(f"this NVRTC does not support {arch}")
    src = read_kernel(os.path.basename(path)).encode()
    prog = ctypes.c_void_p()
    assert lib.nvrtcCreateProgram(ctypes.byref(prog), src,
                                  os.path.basename(path).encode(), 0, None,
                                  None) == 0
    opts = [o.encode() for o in NVRTC_OPTIONS] + [
        f"--gpu-architecture={arch}".encode()]
    arr = (ctypes.c_char_p * len(opts))(*opts)
    try:
        rc = lib.nvrtcCompileProgram(prog, len(opts), arr)
        size = ctypes.c_size_t()
        lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        lib.nvrtcGetProgramLog(prog, log)
        cubin = ctypes.c_size_t()
        cubin_rc = lib.nvrtcGetCUBINSize(prog, ctypes.byref(cubin))
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(prog))
    text = _DEPRECATED_ARCH.sub("", log.value.decode(errors="replace"))
    text = text.strip()
    name = os.path.basename(path)
    assert rc == 0, f"NVRTC ({arch}) failed on {name}:\n{text}"
    assert "warning" not in text.lower(), (
        f"NVRTC ({arch}) warns on {name}:\n{text}")
    assert cubin_rc == 0 and cubin.value > 0, (
        f"NVRTC ({arch}) produced no CUBIN for {name}")
