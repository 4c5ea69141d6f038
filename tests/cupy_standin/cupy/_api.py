"""The names and signatures of real CuPy (`../cupy_api.json`, written by
`tools/extract_api.py` from the CuPy 13.6 and 14.x sources), and the
argument binding against them."""

import inspect
import json
import os

import numpy

_HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(os.path.dirname(_HERE), "cupy_api.json")) as _f:
    _DATA = json.load(_f)
API = _DATA["api"]
VERSIONS = _DATA["cupy_versions"]

_KINDS = {k: getattr(inspect.Parameter, k) for k in (
    "POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD", "VAR_POSITIONAL",
    "KEYWORD_ONLY", "VAR_KEYWORD")}
_SIGS = {}


def entry(space, name):
    """The API entry of `space.name` ("cupy", "cupy.ndarray", ...) or None."""
    return API.get(space, {}).get(name)


def signature(space, name):
    """An `inspect.Signature` for a function/method entry, or None."""
    key = (space, name)
    if key not in _SIGS:
        e = entry(space, name)
        sig = None
        if e is not None and "params" in e:
            params = []
            for pname, kind, has_default in e["params"]:
                params.append(inspect.Parameter(
                    pname, _KINDS[kind],
                    default=None if has_default else inspect.Parameter.empty))
            try:
                sig = inspect.Signature(params)
            except ValueError:  # non-default after default in Cython
                sig = inspect.Signature([
                    p.replace(default=None) if p.kind in (
                        p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) else p
                    for p in params])
        _SIGS[key] = sig
    return _SIGS[key]


def bind(space, name, args, kwargs):
    """Raises TypeError, as Python would in CuPy, when the call does not
    bind to CuPy's signature of `space.name`."""
    sig = signature(space, name)
    if sig is None:
        return
    try:
        sig.bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"{space}.{name}(): {e} (CuPy's signature: "
                        f"{name}{sig})") from None


def names(space):
    return set(API.get(space, {}))


UFUNC_KWARGS = ("out", "dtype", "casting")


def is_ufunc(space, name):
    e = entry(space, name)
    if e is None:
        return False
    if e["kind"] == "ufunc":
        return True
    return e["kind"] == "object" and isinstance(
        getattr(numpy, name, None), numpy.ufunc)
