"""Reads the public names and signatures of real CuPy from its source and
writes them as data for the CuPy stand-in (`tests/cupy_standin/cupy_api.json`).

The stand-in may only offer what real CuPy offers, in every version gkeras
supports, so this keeps the names present in *both* source trees given and,
for a function, only the parameters both versions accept.

Python files are read with `ast`; Cython files (`.pyx`, where CuPy defines
`ndarray`, the ufuncs and `cupy.random.Generator`) with a small parser of
`def`/`cpdef` headers, since they are not Python syntax.

Usage (sources from `pip download cupy==13.6.0 --no-deps --no-binary :all:`
and the same for 14.x, unpacked):

    python tools/extract_api.py /tmp/cupy-13.6.0 /tmp/cupy-14.2.0 \
        > tests/cupy_standin/cupy_api.json
"""

import ast
import json
import os
import re
import sys

# Namespaces gkeras touches (and the stand-in provides): module -> file.
MODULES = ("cupy", "cupy.random", "cupy.linalg", "cupy.fft", "cupyx",
           "cupyx.scipy.special", "cupyx.scipy.ndimage")
# Classes whose methods the stand-in checks: (qualified name, file, class).
CLASSES = (
    ("cupy.ndarray", "cupy/_core/core.pyx", "_ndarray_base"),
    ("cupy.ufunc", "cupy/_core/_kernel.pyx", "ufunc"),
    ("cupy.random.Generator", "cupy/random/_generator_api.pyx", "Generator"),
    ("cupy.RawModule", "cupy/_core/raw.pyx", "RawModule"),
    ("cupy.RawKernel", "cupy/_core/raw.pyx", "RawKernel"),
)
_UFUNC_MAKERS = ("create_ufunc", "create_math_ufunc", "create_arithmetic",
                 "create_comparison", "_create_ufunc", "ufunc", "_GUFunc",
                 "create_reduction_func")


def _module_file(root, modname):
    base = os.path.join(root, *modname.split("."))
    for cand in (base + ".py", base + ".pyx",
                 os.path.join(base, "__init__.py")):
        if os.path.isfile(cand):
            return cand
    return None


def _split_params(text):
    """Splits a parameter list at top-level commas."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return [p.strip() for p in out if p.strip()]


def _cython_params(text):
    """Parameters of a Cython header: [(name, kind, has_default)]."""
    params, kwonly = [], False
    for p in _split_params(text):
        p = re.sub(r"\s+", " ", p)
        if p == "*":
            kwonly = True
            continue
        has_default = "=" in p
        head = p.split("=")[0].strip()
        if head.startswith("**"):
            params.append((head[2:].split()[-1], "VAR_KEYWORD", False))
            continue
        if head.startswith("*"):
            params.append((head[1:].split()[-1], "VAR_POSITIONAL", False))
            kwonly = True
            continue
        name = head.split()[-1].lstrip("*")
        if name.endswith(")"):  # `object (x)` style, never in practice
            continue
        params.append((name, "KEYWORD_ONLY" if kwonly else
                       "POSITIONAL_OR_KEYWORD", has_default))
    return params


def _ast_params(fn):
    a = fn.args
    out = []
    pos = a.posonlyargs + a.args
    ndef = len(a.defaults)
    for i, p in enumerate(pos):
        kind = ("POSITIONAL_ONLY" if i < len(a.posonlyargs)
                else "POSITIONAL_OR_KEYWORD")
        out.append((p.arg, kind, i >= len(pos) - ndef))
    if a.vararg:
        out.append((a.vararg.arg, "VAR_POSITIONAL", False))
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        out.append((p.arg, "KEYWORD_ONLY", d is not None))
    if a.kwarg:
        out.append((a.kwarg.arg, "VAR_KEYWORD", False))
    return out


def _header(src, name):
    """Finds `def name(...)`/`cpdef ... name(...)` in Cython source and
    returns its parameter text."""
    m = re.search(r"^\s*c?p?def\s+(?:[\w.\[\]]+\s+)*" + re.escape(name)
                  + r"\s*\(", src, re.M)
    if m is None:
        return None
    i, depth = m.end(), 1
    j = i
    while depth and j < len(src):
        depth += {"(": 1, ")": -1}.get(src[j], 0)
        j += 1
    return src[i:j - 1]


def _resolve(root, modname, name, seen=None):
    """Returns the API entry for `name` as seen from module `modname`."""
    seen = seen or set()
    if (modname, name) in seen:
        return None
    seen.add((modname, name))
    if modname.split(".")[0] == "numpy":
        return {"kind": "numpy", "target": f"{modname}.{name}"}
    path = _module_file(root, modname)
    if path is None:
        return None
    with open(path, encoding="utf-8") as f:
        src = f.read()
    if path.endswith(".pyx"):
        if re.search(r"^cdef class " + re.escape(name) + r"\b", src, re.M):
            return {"kind": "class"}
        m = re.search(r"^(?:cdef (?:\w+ )?)?" + re.escape(name)
                      + r"\s*=\s*([\w.]+)(\(?)", src, re.M)
        if m:
            maker = m.group(1).split(".")[-1]
            if not m.group(2) and maker != name:  # `add = _add`
                return _resolve(root, modname, maker, seen) or {
                    "kind": "object"}
            return {"kind": "ufunc" if maker in _UFUNC_MAKERS else "object"}
        text = _header(src, name)
        if text is not None:
            return {"kind": "function", "params": _cython_params(text)}
        for m in re.finditer(r"^from ([\w.]+) (?:c?import) (.+)$", src, re.M):
            if name in [n.strip() for n in m.group(2).split(",")]:
                return _resolve(root, m.group(1), name, seen)
        return None
    tree = ast.parse(src)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return {"kind": "function", "params": _ast_params(node)}
        if isinstance(node, ast.ClassDef) and node.name == name:
            return {"kind": "class"}
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name
                for t in node.targets):
            v = node.value
            if isinstance(v, ast.Call):
                f = v.func
                maker = f.attr if isinstance(f, ast.Attribute) else getattr(
                    f, "id", "")
                return {"kind": "ufunc" if maker in _UFUNC_MAKERS
                        else "object"}
            if isinstance(v, ast.Attribute) and isinstance(v.value, ast.Name):
                if v.value.id in ("_core", "core"):
                    return _resolve(root, "cupy._core", v.attr, seen) or {
                        "kind": "ufunc"}
                if v.value.id in ("numpy", "_numpy"):
                    return {"kind": "numpy", "target": f"numpy.{v.attr}"}
            if isinstance(v, ast.Name):
                return _resolve(root, modname, v.id, seen) or {
                    "kind": "object"}
            return {"kind": "object"}
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    mod = node.module
                    if node.level:
                        pkg = modname if path.endswith("__init__.py") else \
                            modname.rsplit(".", 1)[0]
                        for _ in range(node.level - 1):
                            pkg = pkg.rsplit(".", 1)[0]
                        mod = f"{pkg}.{mod}"
                    sub = _module_file(root, f"{mod}.{alias.name}")
                    if sub is not None and sub.endswith("__init__.py"):
                        return {"kind": "module"}
                    return _resolve(root, mod, alias.name, seen) or (
                        {"kind": "module"} if sub else None)
    return None


def _public_names(root, modname):
    path = _module_file(root, modname)
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        names.add(n.id)
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                names.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names.add(alias.asname)
    out = {}
    for n in sorted(names):
        if n.startswith("_") and n != "__version__":
            continue
        entry = _resolve(root, modname, n) or {"kind": "object"}
        out[n] = entry
    if modname == "cupy.random":
        out["Generator"] = {"kind": "class"}  # module __getattr__
    return out


def _class_methods(root, relpath, cls):
    with open(os.path.join(root, relpath), encoding="utf-8") as f:
        src = f.read()
    m = re.search(r"^(?:cdef )?class " + re.escape(cls) + r"\b.*$", src,
                  re.M)
    if m is None:
        raise SystemExit(f"{relpath}: no class {cls}")
    body = src[m.end():]
    end = re.search(r"^(?:cdef |cpdef |def |class |@|[A-Za-z_]\w* = )", body,
                    re.M)
    body = body[:end.start()] if end else body
    out = {}
    for m in re.finditer(r"^    (?:@property\s*\n    )?(c?p?def)\s+"
                         r"(?:[\w.\[\]]+\s+)*(\w+)\s*\(", body, re.M):
        name = m.group(2)
        if name.startswith("_") and not (name.startswith("__")
                                         and name.endswith("__")):
            continue
        if m.group(1) == "cdef":
            continue
        text = _header(body[m.start():], name)
        params = _cython_params(text)[1:]  # drop self
        out[name] = {"kind": "method", "params": params}
    for m in re.finditer(r"^    property (\w+)\s*:", body, re.M):
        out[m.group(1)] = {"kind": "property"}
    for m in re.finditer(r"^    @property\s*\n    def (\w+)", body, re.M):
        out[m.group(1)] = {"kind": "property"}
    pxd = os.path.join(root, relpath[:-4] + ".pxd")
    if os.path.isfile(pxd):  # `cdef readonly object dtype` attributes
        with open(pxd, encoding="utf-8") as f:
            for m in re.finditer(r"^\s+readonly [\w.]+ ([a-z]\w*)\s*$",
                                 f.read(), re.M):
                out[m.group(1)] = {"kind": "property"}
    return out


def _extract(root):
    api = {m: _public_names(root, m) for m in MODULES}
    for qual, rel, cls in CLASSES:
        api[qual] = _class_methods(root, rel, cls)
    return api


def _intersect_params(a, b):
    names_b = {p[0]: p for p in b}
    out = []
    for p in a:
        q = names_b.get(p[0])
        if q is not None and q[1] == p[1]:
            # A default only if both versions have one: stricter of the two.
            out.append([p[0], p[1], bool(p[2] and q[2])])
    return out


def intersect(old, new):
    """Names present in both API dicts; parameters common to both."""
    out = {}
    for space in sorted(set(old) & set(new)):
        a, b = old[space], new[space]
        out[space] = {}
        for n in sorted(set(a) & set(b)):
            ea, eb = a[n], b[n]
            if "params" in ea and "params" in eb:
                out[space][n] = {"kind": ea["kind"],
                                 "params": _intersect_params(ea["params"],
                                                             eb["params"])}
            else:
                out[space][n] = eb if ea.get("kind") == eb.get("kind") else {
                    "kind": "object"}
    return out


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    apis = [_extract(root) for root in argv[1:]]
    result = apis[0]
    for other in apis[1:]:
        result = intersect(result, other)
    versions = []
    for root in argv[1:]:
        with open(os.path.join(root, "cupy", "_version.py")) as f:
            versions.append(re.search(r"'([\d.]+\w*)'", f.read()).group(1))
    json.dump({"cupy_versions": versions, "api": result}, sys.stdout,
              indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)
