"""Times `keras.applications` on gkeras and, when available, on Keras 3
with the JAX backend (issue 19): building each model with `weights=None`
and a 224x224x3 input, and `predict` of one 224x224 image.

    python benchmarks/applications.py [--all] [--models ResNet50,...]
        [--repeats 3] [--keras-python PATH] [--json out.json]
        [--markdown out.md]

By default one member per family is timed (`--all`: all 40
constructors). Build time = wall time of the constructor call, after one
warm-up build of a small model in the same process (imports and first-use
costs excluded), median of `--repeats` builds. Predict = median of
`--repeats` `predict_on_batch` calls on one image after a warm-up call
(which, for Keras-JAX, includes its compilation and is reported
separately as "first predict"). Each framework runs in its own
subprocess, one model per process, so memory from one model does not
weigh on the next. The Keras side runs with the interpreter named by
`--keras-python` (default `$GKERAS_REFERENCE_KERAS_PYTHON`); it is skipped
with a note when none is given.
"""

import argparse
import json
import os
import platform
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FAMILY_MEMBERS = [
    "VGG16", "ResNet50", "ResNet50V2", "MobileNet", "MobileNetV2",
    "MobileNetV3Large", "DenseNet121", "InceptionV3", "InceptionResNetV2",
    "Xception", "EfficientNetB0", "EfficientNetV2S", "ConvNeXtTiny",
    "NASNetMobile"]

ALL = [
    "VGG16", "VGG19", "ResNet50", "ResNet101", "ResNet152", "ResNet50V2",
    "ResNet101V2", "ResNet152V2", "MobileNet", "MobileNetV2",
    "MobileNetV3Small", "MobileNetV3Large", "DenseNet121", "DenseNet169",
    "DenseNet201", "InceptionV3", "InceptionResNetV2", "Xception",
    "EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3",
    "EfficientNetB4", "EfficientNetB5", "EfficientNetB6", "EfficientNetB7",
    "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2",
    "EfficientNetV2B3", "EfficientNetV2S", "EfficientNetV2M",
    "EfficientNetV2L", "ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase",
    "ConvNeXtLarge", "ConvNeXtXLarge", "NASNetMobile", "NASNetLarge"]

# Runs in the measuring subprocess; `keras` is gkeras or Keras.
MEASURE = r"""
import gc, json, sys, time
import numpy as np
name, repeats, framework = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if framework == "gkeras":
    import gkeras as keras
else:
    import keras
A = keras.applications
A.MobileNetV2(weights=None, input_shape=(32, 32, 3))   # warm-up build
builds = []
for _ in range(repeats):
    keras.backend.clear_session()
    gc.collect()
    t = time.perf_counter()
    model = getattr(A, name)(weights=None, input_shape=(224, 224, 3))
    builds.append(time.perf_counter() - t)
x = np.random.default_rng(0).uniform(0, 255, (1, 224, 224, 3)).astype(
    "float32")
t = time.perf_counter()
model.predict_on_batch(x)
first = time.perf_counter() - t
preds = []
for _ in range(repeats):
    t = time.perf_counter()
    model.predict_on_batch(x)
    preds.append(time.perf_counter() - t)
print(json.dumps({"params": int(model.count_params()),
                  "build_s": float(np.median(builds)),
                  "first_predict_s": first,
                  "predict_s": float(np.median(preds))}))
"""


def measure(python, framework, name, repeats):
    """Runs one model's measurement in a fresh `python`; a dict, or
    {"error": ...}."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep +
               os.environ.get("PYTHONPATH", ""))
    if framework == "keras-jax":
        env.update(KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    res = subprocess.run([python, "-c", MEASURE, name, str(repeats),
                          framework], capture_output=True, text=True,
                         env=env, timeout=3600)
    if res.returncode != 0:
        return {"error": res.stderr.strip().splitlines()[-1:]}
    return json.loads(res.stdout.strip().splitlines()[-1])


def keras_version(python):
    res = subprocess.run([python, "-c", "import keras, jax; print("
                          "keras.__version__, jax.__version__)"],
                         capture_output=True, text=True,
                         env=dict(os.environ, KERAS_BACKEND="jax"))
    return res.stdout.strip() if res.returncode == 0 else None


def markdown(results, meta):
    """The results as a Markdown section."""
    lines = [
        "## keras.applications: build and predict (224x224)", "",
        f"- command: `{meta['command']}`",
        f"- machine: {meta['machine']}; load average before "
        f"{meta['load_before']}, after {meta['load_after']} (a shared "
        "machine inflates absolute times)",
        f"- Keras: {meta['keras'] or 'not run'}", "",
        "Build = constructor call with `weights=None`, "
        "`input_shape=(224, 224, 3)` (median); predict = "
        "`predict_on_batch` of one image (median after a warm-up call; "
        "first = the warm-up call, which includes JAX's compilation).", "",
        "| model | params | gkeras build s | keras-jax build s | "
        "gkeras predict ms | keras-jax predict ms | keras-jax first "
        "predict s |",
        "|---|---:|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        g, k = r.get("gkeras", {}), r.get("keras-jax", {})

        def f(d, key, scale=1.0, fmt="{:.2f}"):
            return fmt.format(d[key] * scale) if key in d else \
                ("error" if "error" in d else "-")
        lines.append(
            f"| {name} | {g.get('params', k.get('params', '-')):,} | "
            f"{f(g, 'build_s')} | {f(k, 'build_s')} | "
            f"{f(g, 'predict_s', 1000, '{:.1f}')} | "
            f"{f(k, 'predict_s', 1000, '{:.1f}')} | "
            f"{f(k, 'first_predict_s')} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--all", action="store_true",
                   help="all 40 constructors (default: one per family)")
    p.add_argument("--models", default=None,
                   help="comma-separated constructor names")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--keras-python",
                   default=os.environ.get("GKERAS_REFERENCE_KERAS_PYTHON"))
    p.add_argument("--json", default=None)
    p.add_argument("--markdown", default=None)
    args = p.parse_args(argv)
    names = args.models.split(",") if args.models else (
        ALL if args.all else FAMILY_MEMBERS)
    load_before = tuple(round(v, 2) for v in os.getloadavg())
    kver = keras_version(args.keras_python) if args.keras_python else None
    if args.keras_python and kver is None:
        print(f"note: {args.keras_python} has no Keras+JAX; Keras skipped")
    elif not args.keras_python:
        print("note: no --keras-python / GKERAS_REFERENCE_KERAS_PYTHON; "
              "Keras-JAX skipped")
    results = {}
    for name in names:
        r = {"gkeras": measure(sys.executable, "gkeras", name,
                               args.repeats)}
        if kver:
            r["keras-jax"] = measure(args.keras_python, "keras-jax", name,
                                     args.repeats)
        results[name] = r
        print(name, json.dumps(r), flush=True)
    meta = {"command": "python benchmarks/applications.py " +
            " ".join(argv if argv is not None else sys.argv[1:]),
            "machine": f"{platform.processor() or platform.machine()}, "
                       f"{os.cpu_count()} logical CPUs",
            "load_before": load_before,
            "load_after": tuple(round(v, 2) for v in os.getloadavg()),
            "keras": f"keras {kver.replace(' ', ', jax ')}" if kver
            else None}
    text = markdown(results, meta)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    return results


if __name__ == "__main__":
    main()
