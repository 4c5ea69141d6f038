"""MobileNetV2 (Sandler et al., 2018), with Keras's layer names."""

from gkeras.applications import imagenet_utils as iu
from gkeras.backend.config import image_data_format

__all__ = ["MobileNetV2", "preprocess_input", "decode_predictions"]


def _make_divisible(v, divisor, min_value=None):
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:  # never round down by more than 10%
        new_v += divisor
    return new_v


def _correct_pad(x, kernel_size):
    """Padding so a stride-2 'valid' conv matches TF's 'same' alignment."""
    cl = image_data_format() == "channels_last"
    size = x.shape[1:3] if cl else x.shape[2:4]
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2,
                                             1 - size[1] % 2)
    c = (kernel_size // 2, kernel_size // 2)
    return ((c[0] - adjust[0], c[0]), (c[1] - adjust[1], c[1]))


def _relu6(name):
    from gkeras import layers
    if hasattr(layers, "ReLU"):
        return layers.ReLU(6.0, name=name)
    return layers.Activation("relu6", name=name)


def _bn(axis, name):
    from gkeras import layers
    return layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999,
                                     name=name)


def _inverted_res_block(inputs, expansion, stride, alpha, filters, block_id):
    from gkeras import layers
    axis = 3 if image_data_format() == "channels_last" else 1
    in_channels = inputs.shape[axis]
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = f"block_{block_id}_"
    if block_id:
        x = layers.Conv2D(expansion * in_channels, kernel_size=1,
                          padding="same", use_bias=False, activation=None,
                          name=prefix + "expand")(x)
        x = _bn(axis, prefix + "expand_BN")(x)
        x = _relu6(prefix + "expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=_correct_pad(x, 3),
                                 name=prefix + "pad")(x)
    x = layers.DepthwiseConv2D(kernel_size=3, strides=stride,
                               activation=None, use_bias=False,
                               padding="same" if stride == 1 else "valid",
                               name=prefix + "depthwise")(x)
    x = _bn(axis, prefix + "depthwise_BN")(x)
    x = _relu6(prefix + "depthwise_relu")(x)
    x = layers.Conv2D(pointwise_filters, kernel_size=1, padding="same",
                      use_bias=False, activation=None,
                      name=prefix + "project")(x)
    x = _bn(axis, prefix + "project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=prefix + "add")([inputs, x])
    return x


_BLOCKS = [  # (filters, stride, expansion), block ids 0..16
    (16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6),
    (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6),
    (96, 1, 6), (160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6)]


def MobileNetV2(input_shape=None, alpha=1.0, include_top=True,
                weights="imagenet", input_tensor=None, pooling=None,
                classes=1000, classifier_activation="softmax"):
    """Instantiates the MobileNetV2 architecture (3,538,984 parameters with
    the top, alpha 1.0).

    Args:
        input_shape: shape without batch (default `(224, 224, 3)`; at least
            32x32).
        alpha: width multiplier (ImageNet weights exist for 0.35, 0.5,
            0.75, 1.0, 1.3, 1.4).
        include_top: include the classifier at the top.
        weights: None (random), `"imagenet"` (the Keras weight file, from
            the gkeras cache), or the path of a Keras weights `.h5` file.
        input_tensor: optional tensor (`Input()`) to use as image input.
        pooling: with `include_top=False`: None, `"avg"` or `"max"`.
        classes: number of classes (with the top).
        classifier_activation: activation of the top layer.

    Returns:
        A Functional `Model` named `"mobilenetv2_{alpha:.2f}_{rows}"`.

    Example:
    >>> model = MobileNetV2(weights=None, input_shape=(96, 96, 3),
    ...                     include_top=False, pooling="avg")
    """
    from gkeras import layers
    from gkeras.models import Model
    iu.validate_weights(weights, include_top, classes)
    if weights == "imagenet" and alpha not in (0.35, 0.5, 0.75, 1.0, 1.3,
                                               1.4):
        raise ValueError(
            "If imagenet weights are being loaded, alpha must be one of "
            f"`0.35`, `0.50`, `0.75`, `1.0`, `1.3` or `1.4` only. Received: "
            f"alpha={alpha}")
    if input_shape is None and input_tensor is None:
        input_shape = (224, 224, 3) if image_data_format() == \
            "channels_last" else (3, 224, 224)
    shape = iu.obtain_input_shape(
        input_shape if input_tensor is None else tuple(input_tensor.shape[1:]),
        224, 32, image_data_format(), include_top,
        None if weights != "imagenet" else weights)
    img_input, _ = iu.make_input(input_tensor, shape)
    cl = image_data_format() == "channels_last"
    rows = shape[0] if cl else shape[1]
    axis = 3 if cl else 1
    x = layers.Conv2D(_make_divisible(32 * alpha, 8), kernel_size=3,
                      strides=(2, 2), padding="same", use_bias=False,
                      name="Conv1")(img_input)
    x = _bn(axis, "bn_Conv1")(x)
    x = _relu6("Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_res_block(x, filters=filters, alpha=alpha,
                                stride=stride, expansion=expansion,
                                block_id=block_id)
    last = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = _bn(axis, "Conv_1_bn")(x)
    x = _relu6("out_relu")(x)
    x = iu.pooling_head(x, include_top, pooling, classes,
                        classifier_activation)
    model = Model(img_input, x, name=f"mobilenetv2_{alpha:0.2f}_{rows}")
    suffix = f"{float(alpha)}_{rows}"
    return iu.finish(
        model, weights,
        f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{suffix}.h5",
        f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{suffix}"
        "_no_top.h5", "mobilenet_v2", include_top)


def preprocess_input(x, data_format=None):
    """MobileNetV2 preprocessing ("tf"): scales 0-255 pixels to -1..1."""
    return iu.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions; see
    `imagenet_utils.decode_predictions`."""
    return iu.decode_predictions(preds, top=top)
