"""ResNet50/101/152 (He et al., 2015; v1), with Keras's layer names."""

from gkeras.applications import imagenet_utils as iu
from gkeras.backend.config import image_data_format

__all__ = ["ResNet50", "ResNet101", "ResNet152", "preprocess_input",
           "decode_predictions"]


def _block(x, filters, stride=1, conv_shortcut=True, name=None):
    from gkeras import layers
    bn_axis = 3 if image_data_format() == "channels_last" else 1

    def bn(t, suffix):
        return layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5,
                                         name=f"{name}_{suffix}_bn")(t)

    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride,
                                 name=f"{name}_0_conv")(x)
        shortcut = bn(shortcut, "0")
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(bn(x, "1"))
    x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(bn(x, "2"))
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = bn(x, "3")
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def _stack(x, filters, blocks, stride1=2, name=None):
    x = _block(x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = _block(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def _resnet(blocks, name, include_top, weights, input_tensor, input_shape,
            pooling, classes, classifier_activation):
    from gkeras import layers
    from gkeras.models import Model
    iu.validate_weights(weights, include_top, classes)
    shape = iu.obtain_input_shape(input_shape, 224, 32, image_data_format(),
                                  include_top, weights)
    img_input, _ = iu.make_input(input_tensor, shape)
    bn_axis = 3 if image_data_format() == "channels_last" else 1
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)),
                             name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=True, name="conv1_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5,
                                  name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = _stack(x, 64, blocks[0], stride1=1, name="conv2")
    x = _stack(x, 128, blocks[1], name="conv3")
    x = _stack(x, 256, blocks[2], name="conv4")
    x = _stack(x, 512, blocks[3], name="conv5")
    x = iu.pooling_head(x, include_top, pooling, classes,
                        classifier_activation, avg_name="avg_pool",
                        max_name="max_pool")
    model = Model(img_input, x, name=name)
    return iu.finish(model, weights,
                     f"{name}_weights_tf_dim_ordering_tf_kernels.h5",
                     f"{name}_weights_tf_dim_ordering_tf_kernels_notop.h5",
                     "resnet", include_top)


_DOC = """Instantiates the {n} architecture ({p} parameters with the top).

    Args:
        include_top: include the classifier (global average pooling and a
            Dense layer) at the top.
        weights: None (random), `"imagenet"` (the Keras weight file, from
            the gkeras cache), or the path of a Keras weights `.h5` file.
        input_tensor: optional tensor (`Input()`) to use as image input.
        input_shape: shape without batch; default `(224, 224, 3)` with the
            top, `(None, None, 3)` without (at least 32x32).
        pooling: with `include_top=False`: None, `"avg"` or `"max"`.
        classes: number of classes (with the top).
        classifier_activation: activation of the top layer.

    Returns:
        A Functional `Model` named `"{lower}"`.

    Example:
    >>> model = {n}(weights=None, input_shape=(64, 64, 3),
    ...             include_top=False, pooling="avg")
    """


def ResNet50(include_top=True, weights="imagenet", input_tensor=None,
             input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax"):
    return _resnet((3, 4, 6, 3), "resnet50", include_top, weights,
                   input_tensor, input_shape, pooling, classes,
                   classifier_activation)


def ResNet101(include_top=True, weights="imagenet", input_tensor=None,
              input_shape=None, pooling=None, classes=1000,
              classifier_activation="softmax"):
    return _resnet((3, 4, 23, 3), "resnet101", include_top, weights,
                   input_tensor, input_shape, pooling, classes,
                   classifier_activation)


def ResNet152(include_top=True, weights="imagenet", input_tensor=None,
              input_shape=None, pooling=None, classes=1000,
              classifier_activation="softmax"):
    return _resnet((3, 8, 36, 3), "resnet152", include_top, weights,
                   input_tensor, input_shape, pooling, classes,
                   classifier_activation)


ResNet50.__doc__ = _DOC.format(n="ResNet50", p="25,636,712",
                               lower="resnet50")
ResNet101.__doc__ = _DOC.format(n="ResNet101", p="44,707,176",
                                lower="resnet101")
ResNet152.__doc__ = _DOC.format(n="ResNet152", p="60,419,944",
                                lower="resnet152")


def preprocess_input(x, data_format=None):
    """ResNet preprocessing ("caffe"): RGB -> BGR, minus the ImageNet
    channel means; input in 0-255."""
    return iu.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions; see
    `imagenet_utils.decode_predictions`."""
    return iu.decode_predictions(preds, top=top)
