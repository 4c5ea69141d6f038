"""Records Keras's public names, namespace by namespace, as JSON data for
tests/test_api_names.py.

Run with a real Keras 3 installed (any backend), from the repository root:

    KERAS_BACKEND=jax python tests/data/record_keras_public_names.py

It writes tests/data/keras_public_names.json: {"keras_version": ...,
"namespaces": {"keras.layers": [names...], ...}}. A namespace is a package
of Keras's generated public API (a directory with `__init__.py` outside
`keras/src`); its names are those not starting with `_`, the public
sub-namespaces included, Keras's private `src` package left out.
"""

import importlib
import json
import os
import types

import keras

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "keras_public_names.json")


def public_namespaces():
    root = os.path.dirname(keras.__file__)
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        parts = [] if rel == "." else rel.split(os.sep)
        if parts and (parts[0] in ("src", "_tf_keras") or
                      parts[-1] == "__pycache__"):
            dirnames[:] = []
            continue
        if "__init__.py" in filenames:
            found.append(".".join(["keras"] + parts))
    return sorted(found)


def public_names(module_name):
    module = importlib.import_module(module_name)
    names = []
    for name in dir(module):
        if name.startswith("_"):
            continue
        value = getattr(module, name)
        if name == "src" or isinstance(value, types.ModuleType) and not \
                value.__name__.startswith(module_name + "."):
            continue  # Keras's private package, or a module used inside
        names.append(name)
    return sorted(names)


def main():
    data = {"keras_version": keras.__version__,
            "namespaces": {ns: public_names(ns)
                           for ns in public_namespaces()}}
    with open(OUT, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    total = sum(len(v) for v in data["namespaces"].values())
    print(f"{len(data['namespaces'])} namespaces, {total} names -> {OUT}")


if __name__ == "__main__":
    main()
