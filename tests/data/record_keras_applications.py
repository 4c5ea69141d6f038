"""Records what the real Keras builds for every `keras.applications`
constructor, as data for `tests/test_applications_families.py`.

Run with the reference Keras (JAX backend), from the repository root:

    KERAS_BACKEND=jax /work/kref/bin/python \
        tests/data/record_keras_applications.py

It writes `tests/data/keras_applications.json`: for each case (a
constructor and its arguments, `weights=None`, a small input size the
family allows) the model name, the parameter counts (total / trainable /
non-trainable) with the top, every layer's name, class and weight shapes,
the output shape with the top, and without the top for `pooling` None,
`"avg"` and `"max"` (with the parameter counts of the headless model).
Under `"_preprocess"`: each family module's `preprocess_input` applied
to a fixed batch, both data formats.
"""

import json
import os
import sys
import time

import numpy as np

import keras
from keras import applications as A

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "keras_applications.json")

# (case id, constructor, extra kwargs, input size)
CASES = [
    ("VGG16", "VGG16", {}, 32),
    ("VGG19", "VGG19", {}, 32),
    ("ResNet50", "ResNet50", {}, 32),
    ("ResNet101", "ResNet101", {}, 32),
    ("ResNet152", "ResNet152", {}, 32),
    ("ResNet50V2", "ResNet50V2", {}, 32),
    ("ResNet101V2", "ResNet101V2", {}, 32),
    ("ResNet152V2", "ResNet152V2", {}, 32),
    ("MobileNet", "MobileNet", {}, 32),
    ("MobileNet_a050", "MobileNet", {"alpha": 0.5, "depth_multiplier": 2},
     40),
    ("MobileNetV2", "MobileNetV2", {}, 32),
    ("MobileNetV2_a035", "MobileNetV2", {"alpha": 0.35}, 40),
    ("MobileNetV2_a140", "MobileNetV2", {"alpha": 1.4}, 32),
    ("MobileNetV3Small", "MobileNetV3Small", {}, 32),
    ("MobileNetV3Small_min", "MobileNetV3Small", {"minimalistic": True}, 32),
    ("MobileNetV3Large", "MobileNetV3Large", {}, 32),
    ("MobileNetV3Large_a075_nopre", "MobileNetV3Large",
     {"alpha": 0.75, "include_preprocessing": False}, 40),
    ("DenseNet121", "DenseNet121", {}, 32),
    ("DenseNet169", "DenseNet169", {}, 32),
    ("DenseNet201", "DenseNet201", {}, 32),
    ("InceptionV3", "InceptionV3", {}, 75),
    ("InceptionResNetV2", "InceptionResNetV2", {}, 75),
    ("Xception", "Xception", {}, 71),
    ("EfficientNetB0", "EfficientNetB0", {}, 32),
    ("EfficientNetB1", "EfficientNetB1", {}, 32),
    ("EfficientNetB2", "EfficientNetB2", {}, 32),
    ("EfficientNetB3", "EfficientNetB3", {}, 32),
    ("EfficientNetB4", "EfficientNetB4", {}, 32),
    ("EfficientNetB5", "EfficientNetB5", {}, 32),
    ("EfficientNetB6", "EfficientNetB6", {}, 32),
    ("EfficientNetB7", "EfficientNetB7", {}, 32),
    ("EfficientNetV2B0", "EfficientNetV2B0", {}, 32),
    ("EfficientNetV2B0_nopre", "EfficientNetV2B0",
     {"include_preprocessing": False}, 32),
    ("EfficientNetV2B1", "EfficientNetV2B1", {}, 32),
    ("EfficientNetV2B2", "EfficientNetV2B2", {}, 32),
    ("EfficientNetV2B3", "EfficientNetV2B3", {}, 32),
    ("EfficientNetV2S", "EfficientNetV2S", {}, 32),
    ("EfficientNetV2M", "EfficientNetV2M", {}, 32),
    ("EfficientNetV2L", "EfficientNetV2L", {}, 32),
    ("ConvNeXtTiny", "ConvNeXtTiny", {}, 32),
    ("ConvNeXtTiny_nopre", "ConvNeXtTiny", {"include_preprocessing": False},
     32),
    ("ConvNeXtSmall", "ConvNeXtSmall", {}, 32),
    ("ConvNeXtBase", "ConvNeXtBase", {}, 32),
    ("ConvNeXtLarge", "ConvNeXtLarge", {}, 32),
    ("ConvNeXtXLarge", "ConvNeXtXLarge", {}, 32),
    ("NASNetMobile", "NASNetMobile", {}, 32),
    ("NASNetLarge", "NASNetLarge", {}, 32),
]


def _shape(s):
    return [None if d is None else int(d) for d in s]


def _counts(model):
    tr = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    ntr = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return {"total": tr + ntr, "trainable": tr, "non_trainable": ntr}


def record(case, fn, kwargs, size):
    ctor = getattr(A, fn)
    shape = (size, size, 3)
    keras.backend.clear_session()
    m = ctor(weights=None, input_shape=shape, **kwargs)
    entry = {
        "constructor": fn, "kwargs": kwargs, "input_shape": list(shape),
        "name": m.name, "params": _counts(m),
        "output_shape": _shape(m.output.shape),
        "layers": [[l.name, l.__class__.__name__,
                    [list(map(int, w.shape)) for w in l.weights]]
                   for l in m.layers],
        "weight_paths": [w.path for w in m.weights],
        "notop": {},
    }
    del m
    for pooling in (None, "avg", "max"):
        keras.backend.clear_session()
        m = ctor(weights=None, input_shape=shape, include_top=False,
                 pooling=pooling, **kwargs)
        entry["notop"][str(pooling)] = {
            "output_shape": _shape(m.output.shape), "params": _counts(m),
            "n_layers": len(m.layers), "last_layer": m.layers[-1].name}
        del m
    return entry


MODULES = ["convnext", "densenet", "efficientnet", "efficientnet_v2",
           "inception_resnet_v2", "inception_v3", "mobilenet",
           "mobilenet_v2", "mobilenet_v3", "nasnet", "resnet", "resnet50",
           "resnet_v2", "vgg16", "vgg19", "xception"]


def preprocess_input_x():
    """The fixed batch the `preprocess_input` records are made from."""
    return (np.arange(2 * 2 * 3 * 3, dtype="float64").reshape(2, 2, 3, 3)
            * 7.0 % 256.0).astype("float32")


def record_preprocess():
    x = preprocess_input_x()
    out = {}
    for name in MODULES:
        mod = getattr(A, name)
        last = mod.preprocess_input(x.copy())
        first = mod.preprocess_input(x.transpose(0, 3, 1, 2).copy(),
                                     data_format="channels_first")
        out[name] = {"channels_last": np.asarray(last).tolist(),
                     "channels_first": np.asarray(first).tolist()}
    return out


def main():
    only = set(sys.argv[1:])
    data = {}
    if os.path.exists(OUT):
        with open(OUT) as f:
            data = json.load(f)
    data["_meta"] = {"keras_version": keras.__version__,
                     "backend": keras.backend.backend()}
    if "_preprocess" not in data or "_preprocess" in only:
        data["_preprocess"] = record_preprocess()
    for case, fn, kwargs, size in CASES:
        if only and case not in only:
            continue
        if case in data and not only:
            continue
        t = time.time()
        data[case] = record(case, fn, kwargs, size)
        print(f"{case}: {data[case]['params']['total']:,} params, "
              f"{time.time() - t:.1f}s", flush=True)
        with open(OUT, "w") as f:
            json.dump(data, f, separators=(",", ":"))
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
