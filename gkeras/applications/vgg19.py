"""VGG19 (Simonyan & Zisserman, 2014): `gkeras.applications.vgg19`.

Ported from Keras 3.15's `keras/src/applications/vgg19.py`: the
same constructors, arguments, defaults, layer names and order (so
weight files Keras writes load by position and by name), plus this
family's `preprocess_input` and `decode_predictions`.
"""

from gkeras.applications import _vgg
from gkeras.applications import imagenet_utils

WEIGHTS_PATH = (
    "https://storage.googleapis.com/tensorflow/keras-applications/"
    "vgg19/vgg19_weights_tf_dim_ordering_tf_kernels.h5"
)
WEIGHTS_PATH_NO_TOP = (
    "https://storage.googleapis.com/tensorflow/"
    "keras-applications/vgg19/"
    "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
)


def VGG19(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="vgg19",
):
    return _vgg.build_vgg(
        (2, 2, 4, 4, 4),
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name,
        imagenet_files=(
            ("vgg19_weights_tf_dim_ordering_tf_kernels.h5", WEIGHTS_PATH,
             "cbe5617147190e668d6c5d5026f83318"),
            ("vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
             WEIGHTS_PATH_NO_TOP,
             "253f8cb515780f3b799900260a226db6"),
        ),
    )


VGG19.__doc__ = _vgg.DOCSTRING.format(model="VGG19", module="vgg19")


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
