"""The VGG network builder `vgg16` and `vgg19` share.

The two differ only in how many convolutions each of the five blocks has
(and in their published weight files), so one builder takes that
configuration; the layer names and order are those of Keras 3.15's
`vgg16.py` / `vgg19.py`.
"""

from gkeras import backend
from gkeras import layers
from gkeras.applications import _base
from gkeras.applications import imagenet_utils

_FILTERS = (64, 128, 256, 512, 512)

# The constructors' docstring (Keras's vgg16 and vgg19 docstrings differ
# only in the model's name).
DOCSTRING = """Instantiates the {model} model.

    Reference:
    - [Very Deep Convolutional Networks for Large-Scale Image Recognition](
    https://arxiv.org/abs/1409.1556) (ICLR 2015)

    For image classification use cases, see
    [this page for detailed examples](
      https://keras.io/api/applications/#usage-examples-for-image-classification-models).

    For transfer learning use cases, make sure to read the
    [guide to transfer learning & fine-tuning](
      https://keras.io/guides/transfer_learning/).

    The default input size for this model is 224x224.

    Note: each Keras Application expects a specific kind of input preprocessing.
    For {model}, call `gkeras.applications.{module}.preprocess_input` on your
    inputs before passing them to the model.
    `{module}.preprocess_input` will convert the input images from RGB to BGR,
    then will zero-center each color channel with respect to the ImageNet
    dataset, without scaling.

    Args:
        include_top: whether to include the 3 fully-connected
            layers at the top of the network.
        weights: one of `None` (random initialization),
            `"imagenet"` (pre-training on ImageNet),
            or the path to the weights file to be loaded.
        input_tensor: optional Keras tensor
            (i.e. output of `layers.Input()`)
            to use as image input for the model.
        input_shape: optional shape tuple, only to be specified
            if `include_top` is `False` (otherwise the input shape
            has to be `(224, 224, 3)`
            (with `channels_last` data format) or
            `(3, 224, 224)` (with `"channels_first"` data format).
            It should have exactly 3 input channels,
            and width and height should be no smaller than 32.
            E.g. `(200, 200, 3)` would be one valid value.
        pooling: Optional pooling mode for feature extraction
            when `include_top` is `False`.
            - `None` means that the output of the model will be
                the 4D tensor output of the
                last convolutional block.
            - `avg` means that global average pooling
                will be applied to the output of the
                last convolutional block, and thus
                the output of the model will be a 2D tensor.
            - `max` means that global max pooling will
                be applied.
        classes: optional number of classes to classify images
            into, only to be specified if `include_top` is `True`, and
            if no `weights` argument is specified.
        classifier_activation: A `str` or callable. The activation function to
            use on the "top" layer. Ignored unless `include_top=True`. Set
            `classifier_activation=None` to return the logits of the "top"
            layer.  When loading pretrained weights, `classifier_activation`
            can only be `None` or `"softmax"`.
        name: The name of the model (string).

    Returns:
        A `Model` instance.
    """


def build_vgg(
    convs_per_block,
    include_top,
    weights,
    input_tensor,
    input_shape,
    pooling,
    classes,
    classifier_activation,
    name,
    imagenet_files,
):
    """Builds a VGG model (the body of `VGG16` and `VGG19`).

    Args:
        convs_per_block: number of 3x3 convolutions in each of the five
            blocks, e.g. `(2, 2, 3, 3, 3)` for VGG16.
        include_top, weights, input_tensor, input_shape, pooling, classes,
            classifier_activation, name: as in `VGG16`.
        imagenet_files: `(top, no_top)`, each a `(fname, origin, file_hash)`
            tuple naming the published ImageNet weights.

    Returns:
        A `Model` instance.
    """
    _base.check_weights(weights, include_top, classes)

    input_shape = imagenet_utils.obtain_input_shape(
        input_shape,
        default_size=224,
        min_size=32,
        data_format=backend.image_data_format(),
        require_flatten=include_top,
        weights=weights,
    )
    img_input = _base.image_input(input_tensor, input_shape)

    x = img_input
    for block, (filters, convs) in enumerate(
            zip(_FILTERS, convs_per_block), start=1):
        for conv in range(1, convs + 1):
            x = layers.Conv2D(
                filters, (3, 3), activation="relu", padding="same",
                name=f"block{block}_conv{conv}",
            )(x)
        x = layers.MaxPooling2D(
            (2, 2), strides=(2, 2), name=f"block{block}_pool")(x)

    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = _base.predictions(x, classes, classifier_activation, weights)
    else:
        x = _base.global_pooling(x, pooling)

    model = _base.build_model(input_tensor, img_input, x, name)
    return _base.load_weights(
        model, weights, imagenet_files[0 if include_top else 1])
