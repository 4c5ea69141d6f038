"""Locates the CUDA sources of `kernels/` (no CuPy needed).

The sources live in the top-level `kernels/` folder of the source tree and
ship inside the wheel as the package `gkeras._kernels`. An editable install
or a source checkout finds them beside the package; an installed copy finds
them inside it.
"""

import os
import re

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


_INCLUDE_RE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"[^\n]*$', re.M)


def expand_includes(src, directory, filename="<kernel>", _seen=None):
    """Inlines the `#include "file"` lines of CUDA source `src`.

    NVRTC, as `cupy.RawModule` drives it, has no include path for our own
    headers (`kernels/half.cuh`), and the CUDA emulator compiles the text
    from a cache folder; inlining gives both exactly the source nvcc sees.
    Each header is inlined once (include-guard semantics); `#line`
    directives keep compiler messages pointing at the right file and line.

    Args:
        src: the source text.
        directory: the folder the quoted includes are relative to.
        filename: the name of `src`, for the `#line` directives.

    Returns:
        The source with every quoted include replaced by the file's text.

    Raises:
        FileNotFoundError: when an included file does not exist.
    """
    seen = set() if _seen is None else _seen
    out, last = [], 0
    for m in _INCLUDE_RE.finditer(src):
        path = os.path.normpath(os.path.join(directory, m.group(1)))
        out.append(src[last:m.start()])
        last = m.end()
        if path in seen:
            continue
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"{filename} includes {m.group(1)!r}, which is not in "
                f"{directory}")
        seen.add(path)
        with open(path, encoding="utf-8") as f:
            inner = f.read()
        line = src.count("\n", 0, m.end()) + 1
        out.append(f'#line 1 "{m.group(1)}"\n')
        out.append(expand_includes(inner, os.path.dirname(path), m.group(1),
                                   seen))
        out.append(f'\n#line {line + 1} "{filename}"')
    out.append(src[last:])
    return "".join(out)


def read_kernel(name):
    """Returns the text of `kernels/<name>`, with its `#include "..."`
    headers (e.g. `half.cuh`) inlined (see `expand_includes`)."""
    path = kernel_path(name)
    with open(path, encoding="utf-8") as f:
        return expand_includes(f.read(), os.path.dirname(path), name)
