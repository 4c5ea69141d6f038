"""VGG16 and VGG19 (Simonyan & Zisserman, 2014), with Keras's layer names."""

from gkeras.applications import imagenet_utils as iu
from gkeras.backend.config import image_data_format

__all__ = ["VGG16", "VGG19", "preprocess_input", "decode_predictions"]


def _vgg(convs_per_block, name, include_top, weights, input_tensor,
         input_shape, pooling, classes, classifier_activation):
    from gkeras import layers
    from gkeras.models import Model
    iu.validate_weights(weights, include_top, classes)
    shape = iu.obtain_input_shape(input_shape, 224, 32, image_data_format(),
                                  include_top, weights)
    img_input, given = iu.make_input(input_tensor, shape)
    x = img_input
    for b, (n, filters) in enumerate(zip(convs_per_block,
                                         (64, 128, 256, 512, 512)), start=1):
        for c in range(1, n + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu",
                              padding="same", name=f"block{b}_conv{c}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2),
                                name=f"block{b}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = layers.Dense(classes, activation=classifier_activation,
                         name="predictions")(x)
    else:
        x = iu.pooling_head(x, False, pooling, classes, None)
    model = Model(img_input, x, name=name)
    return iu.finish(model, weights,
                     f"{name}_weights_tf_dim_ordering_tf_kernels.h5",
                     f"{name}_weights_tf_dim_ordering_tf_kernels_notop.h5",
                     name, include_top)


def VGG16(include_top=True, weights="imagenet", input_tensor=None,
          input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax"):
    """Instantiates the VGG16 architecture (138,357,544 parameters with
    the top).

    Args:
        include_top: include the 3 fully-connected layers at the top.
        weights: None (random), `"imagenet"` (the Keras weight file, from
            the gkeras cache), or the path of a Keras weights `.h5` file.
        input_tensor: optional tensor (`Input()`) to use as image input.
        input_shape: shape without batch; default `(224, 224, 3)` with the
            top, `(None, None, 3)` without (at least 32x32).
        pooling: with `include_top=False`: None (4D output), `"avg"` or
            `"max"` global pooling.
        classes: number of classes (with the top).
        classifier_activation: activation of the top layer.

    Returns:
        A Functional `Model` named `"vgg16"`.

    Example:
    >>> base = VGG16(weights=None, include_top=False,
    ...              input_shape=(224, 224, 3))
    """
    return _vgg((2, 2, 3, 3, 3), "vgg16", include_top, weights,
                input_tensor, input_shape, pooling, classes,
                classifier_activation)


def VGG19(include_top=True, weights="imagenet", input_tensor=None,
          input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax"):
    """Instantiates the VGG19 architecture (143,667,240 parameters with
    the top). Arguments as `VGG16`."""
    return _vgg((2, 2, 4, 4, 4), "vgg19", include_top, weights,
                input_tensor, input_shape, pooling, classes,
                classifier_activation)


def preprocess_input(x, data_format=None):
    """VGG preprocessing ("caffe"): RGB -> BGR, minus the ImageNet channel
    means; input in 0-255."""
    return iu.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions; see
    `imagenet_utils.decode_predictions`."""
    return iu.decode_predictions(preds, top=top)
