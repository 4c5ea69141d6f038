"""The `gpu` / `gpu-cuda13` extras install what CuPy needs to compile and
run gkeras's kernels on a machine with only an NVIDIA driver (DESIGN.md,
issue 16 part 4): CuPy with its CUDA toolkit wheels, NVRTC (RawModule),
cuBLAS (GEMMs), cuRAND (device RNG), the CUDA runtime.

The wheel names are data read from PyPI (2026-12): CUDA 12 wheels carry a
`-cu12` suffix; CUDA 13 dropped it (`nvidia-cublas-cu13` is a deprecated
stub pointing at `nvidia-cublas`).
"""

import configparser
import os

from packaging.requirements import Requirement

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

NEEDED = {
    "gpu": {"cupy-cuda12x", "nvidia-cuda-nvrtc-cu12", "nvidia-cublas-cu12",
            "nvidia-curand-cu12", "nvidia-cuda-runtime-cu12"},
    "gpu-cuda13": {"cupy-cuda13x", "nvidia-cuda-nvrtc", "nvidia-cublas",
                   "nvidia-curand", "nvidia-cuda-runtime"},
}


def _extras():
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(ROOT, "setup.cfg"))
    out = {}
    for name, value in cfg["options.extras_require"].items():
        out[name] = [Requirement(line) for line in value.splitlines()
                     if line.strip()]
    return out


def test_gpu_extras_bring_the_cuda_toolkit_wheels():
    extras = _extras()
    for extra, needed in NEEDED.items():
        reqs = {r.name: r for r in extras[extra]}
        assert needed <= set(reqs), (extra, sorted(needed - set(reqs)))
        cupy = reqs[next(n for n in reqs if n.startswith("cupy-"))]
        # CuPy 14 finds the pip-installed toolkit (cuda-pathfinder) and has
        # the [ctk] extra; 13.x needs a system CUDA toolkit.
        assert "ctk" in cupy.extras
        assert not cupy.specifier.contains("13.6.0")
        assert cupy.specifier.contains("14.2.0")


def test_cuda12_and_cuda13_extras_do_not_mix():
    extras = _extras()
    assert not any(r.name.endswith("-cu12") or r.name == "cupy-cuda12x"
                   for r in extras["gpu-cuda13"])
    assert not any(r.name == "cupy-cuda13x" for r in extras["gpu"])
