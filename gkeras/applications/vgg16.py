"""VGG16 (Simonyan & Zisserman, 2014): `gkeras.applications.vgg16`.

Ported from Keras 3.15's `keras/src/applications/vgg16.py`: the
same constructors, arguments, defaults, layer names and order (so
weight files Keras writes load by position and by name), plus this
family's `preprocess_input` and `decode_predictions`.
"""

from gkeras.applications import _vgg
from gkeras.applications import imagenet_utils

WEIGHTS_PATH = (
    "https://storage.googleapis.com/tensorflow/keras-applications/"
    "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5"
)
WEIGHTS_PATH_NO_TOP = (
    "https://storage.googleapis.com/tensorflow/"
    "keras-applications/vgg16/"
    "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
)


def VGG16(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="vgg16",
):
    return _vgg.build_vgg(
        (2, 2, 3, 3, 3),
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name,
        imagenet_files=(
            ("vgg16_weights_tf_dim_ordering_tf_kernels.h5", WEIGHTS_PATH,
             "64373286793e3c8b2b4e3219cbf3544b"),
            ("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
             WEIGHTS_PATH_NO_TOP,
             "6d6bbae143d832006294945121d1f1fc"),
        ),
    )


VGG16.__doc__ = _vgg.DOCSTRING.format(model="VGG16", module="vgg16")


def preprocess_input(x, data_format=None):
    return imagenet_utils.preprocess_input(
        x, data_format=data_format, mode="caffe"
    )


def decode_predictions(preds, top=5):
    return imagenet_utils.decode_predictions(preds, top=top)


preprocess_input.__doc__ = imagenet_utils.PREPROCESS_INPUT_DOC.format(
    mode="",
    ret=imagenet_utils.PREPROCESS_INPUT_RET_DOC_CAFFE,
    error=imagenet_utils.PREPROCESS_INPUT_ERROR_DOC,
)
decode_predictions.__doc__ = imagenet_utils.decode_predictions.__doc__
