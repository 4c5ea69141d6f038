"""Locates the CUDA sources of `kernels/` (no CuPy needed).

The sources live in the top-level `kernels/` folder of the source tree and
ship inside the wheel as the package `gkeras._kernels`. An editable install
or a source checkout finds them beside the package; an installed copy finds
them inside it.
"""

import os

_HERE = os.path.dirname(os.path.abspath(__file__))
_CANDIDATES = (
    os.path.join(_HERE, os.pardir, "_kernels"),            # installed wheel
    os.path.join(_HERE, os.pardir, os.pardir, "kernels"),  # source tree
)


def kernels_dir():
    """Returns the folder holding the `.cu` files.

    Raises:
        FileNotFoundError: when neither the installed package data nor the
            source tree's `kernels/` folder is present.
    """
    for cand in _CANDIDATES:
        cand = os.path.normpath(cand)
        if os.path.isdir(cand) and any(
                f.endswith(".cu") for f in os.listdir(cand)):
            return cand
    raise FileNotFoundError(
        "gkeras could not find its CUDA kernel sources: looked in "
        + ", ".join(os.path.normpath(c) for c in _CANDIDATES)
        + ". Reinstall gkeras (`pip install gkeras[gpu]`).")


def kernel_path(name):
    """Returns the absolute path of `kernels/<name>` (e.g. `"conv.cu"`)."""
    path = os.path.join(kernels_dir(), name)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"CUDA kernel source {name!r} not found in "
                                f"{kernels_dir()}")
    return path


def read_kernel(name):
    """Returns the text of `kernels/<name>`."""
    with open(kernel_path(name), encoding="utf-8") as f:
        return f.read()
