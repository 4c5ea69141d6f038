"""`gkeras.applications`: the Keras reference architectures.

`VGG16`, `VGG19`, `ResNet50`, `ResNet101`, `ResNet152`, `MobileNetV2`,
with Keras's layer names and weight order (so Keras's published `.h5`
weight files load), and per-family modules (`vgg16`, `vgg19`, `resnet`,
`resnet50`, `mobilenet_v2`) with `preprocess_input` and
`decode_predictions`.
"""

import types

from gkeras.applications import imagenet_utils  # noqa: F401
from gkeras.applications import mobilenet_v2  # noqa: F401
from gkeras.applications import resnet  # noqa: F401
from gkeras.applications import vgg as _vgg
from gkeras.applications.mobilenet_v2 import MobileNetV2  # noqa: F401
from gkeras.applications.resnet import (  # noqa: F401
    ResNet50, ResNet101, ResNet152,
)
from gkeras.applications.vgg import VGG16, VGG19  # noqa: F401


def _family(name, **attrs):
    mod = types.ModuleType(f"gkeras.applications.{name}")
    mod.__dict__.update(attrs)
    return mod


# Keras exposes one module per model (`keras.applications.vgg16`).
vgg16 = _family("vgg16", VGG16=VGG16,
                preprocess_input=_vgg.preprocess_input,
                decode_predictions=_vgg.decode_predictions)
vgg19 = _family("vgg19", VGG19=VGG19,
                preprocess_input=_vgg.preprocess_input,
                decode_predictions=_vgg.decode_predictions)
resnet50 = _family("resnet50", ResNet50=ResNet50,
                   preprocess_input=resnet.preprocess_input,
                   decode_predictions=resnet.decode_predictions)

__all__ = ["MobileNetV2", "ResNet50", "ResNet101", "ResNet152", "VGG16",
           "VGG19", "imagenet_utils", "mobilenet_v2", "resnet", "resnet50",
           "vgg16", "vgg19"]
