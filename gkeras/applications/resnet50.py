"""`gkeras.applications.resnet50`: the Keras-2 module path of ResNet50
(`keras.applications.resnet50`)."""

from gkeras.applications.resnet import ResNet50  # noqa: F401
from gkeras.applications.resnet import decode_predictions  # noqa: F401
from gkeras.applications.resnet import preprocess_input  # noqa: F401

__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]
