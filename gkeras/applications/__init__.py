"""`gkeras.applications`: the Keras reference architectures.

Every constructor Keras 3 exports (`VGG16`, `ResNet50V2`,
`EfficientNetB0`, `ConvNeXtTiny`, ...), ported from Keras's own sources:
the same layer names, order, arguments and defaults, so that a weights
file Keras wrote for the same architecture loads by position and by
name. Each family has its module (`gkeras.applications.efficientnet`,
...) with `preprocess_input` and `decode_predictions`, including the
Keras-2 paths (`resnet50`, `vgg16`, `vgg19`, `imagenet_utils`).
"""

from gkeras.applications import convnext  # noqa: F401
from gkeras.applications import densenet  # noqa: F401
from gkeras.applications import efficientnet  # noqa: F401
from gkeras.applications import efficientnet_v2  # noqa: F401
from gkeras.applications import imagenet_utils  # noqa: F401
from gkeras.applications import inception_resnet_v2  # noqa: F401
from gkeras.applications import inception_v3  # noqa: F401
from gkeras.applications import mobilenet  # noqa: F401
from gkeras.applications import mobilenet_v2  # noqa: F401
from gkeras.applications import mobilenet_v3  # noqa: F401
from gkeras.applications import nasnet  # noqa: F401
from gkeras.applications import resnet  # noqa: F401
from gkeras.applications import resnet50  # noqa: F401
from gkeras.applications import resnet_v2  # noqa: F401
from gkeras.applications import vgg16  # noqa: F401
from gkeras.applications import vgg19  # noqa: F401
from gkeras.applications import xception  # noqa: F401
from gkeras.applications.convnext import (  # noqa: F401
    ConvNeXtBase, ConvNeXtLarge, ConvNeXtSmall, ConvNeXtTiny, ConvNeXtXLarge,
)
from gkeras.applications.densenet import (  # noqa: F401
    DenseNet121, DenseNet169, DenseNet201,
)
from gkeras.applications.efficientnet import (  # noqa: F401
    EfficientNetB0, EfficientNetB1, EfficientNetB2, EfficientNetB3,
    EfficientNetB4, EfficientNetB5, EfficientNetB6, EfficientNetB7,
)
from gkeras.applications.efficientnet_v2 import (  # noqa: F401
    EfficientNetV2B0, EfficientNetV2B1, EfficientNetV2B2, EfficientNetV2B3,
    EfficientNetV2L, EfficientNetV2M, EfficientNetV2S,
)
from gkeras.applications.inception_resnet_v2 import (  # noqa: F401
    InceptionResNetV2,
)
from gkeras.applications.inception_v3 import InceptionV3  # noqa: F401
from gkeras.applications.mobilenet import MobileNet  # noqa: F401
from gkeras.applications.mobilenet_v2 import MobileNetV2  # noqa: F401
from gkeras.applications.mobilenet_v3 import (  # noqa: F401
    MobileNetV3Large, MobileNetV3Small,
)
from gkeras.applications.nasnet import NASNetLarge, NASNetMobile  # noqa: F401
from gkeras.applications.resnet import (  # noqa: F401
    ResNet50, ResNet101, ResNet152,
)
from gkeras.applications.resnet_v2 import (  # noqa: F401
    ResNet50V2, ResNet101V2, ResNet152V2,
)
from gkeras.applications.vgg16 import VGG16  # noqa: F401
from gkeras.applications.vgg19 import VGG19  # noqa: F401
from gkeras.applications.xception import Xception  # noqa: F401

__all__ = [
    "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtSmall", "ConvNeXtTiny",
    "ConvNeXtXLarge", "DenseNet121", "DenseNet169", "DenseNet201",
    "EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3",
    "EfficientNetB4", "EfficientNetB5", "EfficientNetB6", "EfficientNetB7",
    "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2",
    "EfficientNetV2B3", "EfficientNetV2L", "EfficientNetV2M",
    "EfficientNetV2S", "InceptionResNetV2", "InceptionV3", "MobileNet",
    "MobileNetV2", "MobileNetV3Large", "MobileNetV3Small", "NASNetLarge",
    "NASNetMobile", "ResNet50", "ResNet101", "ResNet152", "ResNet50V2",
    "ResNet101V2", "ResNet152V2", "VGG16", "VGG19", "Xception", "convnext",
    "densenet", "efficientnet", "efficientnet_v2", "imagenet_utils",
    "inception_resnet_v2", "inception_v3", "mobilenet", "mobilenet_v2",
    "mobilenet_v3", "nasnet", "resnet", "resnet50", "resnet_v2", "vgg16",
    "vgg19", "xception",
]
