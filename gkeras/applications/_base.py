"""The prologue and epilogue every `gkeras.applications` family shares.

Keras 3.15 repeats these steps in each application module: turning
`input_tensor`/`input_shape` into the model's image input, the
`include_top` classifier versus the `pooling` head, collecting the source
inputs of `input_tensor` into the `Functional` model, and loading the
`weights`. The families call these helpers instead, so the steps (and the
layer names they create, which weight files rely on) live in one place.
"""

from gkeras import backend
from gkeras import layers
from gkeras.applications import imagenet_utils
from gkeras.models import Functional


def image_input(input_tensor, input_shape):
    """Returns the image input tensor of an application model.

    Args:
        input_tensor: the constructor's `input_tensor` argument: `None`,
            a Keras tensor (used as is), or another tensor (wrapped in an
            `Input` layer).
        input_shape: the shape `imagenet_utils.obtain_input_shape` decided.

    Returns:
        The symbolic tensor the model's layers are applied to.

    Example:

    >>> x = image_input(None, (32, 32, 3))
    >>> x.shape
    (None, 32, 32, 3)
    """
    if input_tensor is None:
        return layers.Input(shape=input_shape)
    if not backend.is_keras_tensor(input_tensor):
        return layers.Input(tensor=input_tensor, shape=input_shape)
    return input_tensor


def check_input_tensor_shape(input_tensor, input_shape):
    """Checks that `input_shape` agrees with `input_tensor` when both are
    given (the MobileNetV2/V3 constructors accept both).

    Args:
        input_tensor: the constructor's `input_tensor` argument.
        input_shape: the constructor's `input_shape` argument.

    Raises:
        ValueError: `input_tensor` is not a Keras tensor, or its width
            differs from `input_shape`'s.
    """
    if input_shape is None or input_tensor is None:
        return
    try:
        is_input_t_tensor = backend.is_keras_tensor(input_tensor)
    except ValueError:
        try:
            is_input_t_tensor = backend.is_keras_tensor(
                imagenet_utils.get_source_inputs(input_tensor)
            )
        except ValueError:
            raise ValueError(
                f"input_tensor: {input_tensor} "
                "is not type input_tensor. "
                f"Received `type(input_tensor)={type(input_tensor)}`"
            )
    if not is_input_t_tensor:
        raise ValueError(
            "input_tensor is not a Keras tensor; "
            f"Received `input_tensor={input_tensor}`"
        )
    if backend.image_data_format() == "channels_first":
        if input_tensor.shape[1] != input_shape[1]:
            raise ValueError(
                "input_shape[1] must equal shape(input_tensor)[1] "
                "when `image_data_format` is `channels_first`; "
                f"Received `input_tensor.shape={input_tensor.shape}`, "
                f"`input_shape={input_shape}`"
            )
    elif input_tensor.shape[2] != input_shape[1]:
        raise ValueError(
            "input_tensor.shape[2] must equal input_shape[1]; "
            f"Received `input_tensor.shape={input_tensor.shape}`, "
            f"`input_shape={input_shape}`"
        )


def global_pooling(x, pooling, avg_name=None, max_name=None):
    """Applies the `pooling` head of a model built with `include_top=False`.

    Args:
        x: the output of the last convolutional block.
        pooling: `None` (return `x`), `"avg"` or `"max"`.
        avg_name: name of the `GlobalAveragePooling2D` layer (`None` lets
            Keras number it, as several families do).
        max_name: name of the `GlobalMaxPooling2D` layer.

    Returns:
        The pooled tensor, or `x` when `pooling` is neither.
    """
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=avg_name)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=max_name)(x)
    return x


def check_weights(weights, include_top, classes):
    """Checks an application's `weights` and `classes` arguments, as every
    Keras application does before building.

    Args:
        weights: `None`, `"imagenet"` or the path of a weights file.
        include_top: whether the classifier is built.
        classes: number of classes.

    Raises:
        ValueError: `weights` is none of those, or ImageNet weights with
            the classifier but `classes` other than 1000.
    """
    if not (weights in {"imagenet", None}
            or imagenet_utils.weights_file_exists(weights)):
        raise ValueError(
            "The `weights` argument should be either "
            "`None` (random initialization), 'imagenet' "
            "(pre-training on ImageNet), "
            "or the path to the weights file to be loaded.  Received: "
            f"weights={weights}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            "If using `weights='imagenet'` with `include_top=True`, "
            "`classes` should be 1000.  "
            f"Received classes={classes}")


def predictions(x, classes, classifier_activation, weights,
                name="predictions", **dense_kwargs):
    """Adds the classifier `Dense` layer, after checking its activation.

    Args:
        x: the (flat) features.
        classes: number of classes.
        classifier_activation: activation of the layer; with pretrained
            `weights` only `None` or `"softmax"` are allowed.
        weights: the constructor's `weights` argument.
        name: name of the layer.
        **dense_kwargs: further `Dense` arguments (initializers).

    Returns:
        The model's class scores.
    """
    imagenet_utils.validate_activation(classifier_activation, weights)
    return layers.Dense(classes, activation=classifier_activation,
                        name=name, **dense_kwargs)(x)


def pooled_classifier(x, include_top, pooling, classes,
                      classifier_activation, weights, top_pool_name="avg_pool",
                      pooling_names=(None, None)):
    """The head most families share: global average pooling then
    `predictions` when `include_top`, else the `pooling` head.

    Args:
        x: the output of the last convolutional block.
        include_top: whether to add the classifier.
        pooling: `None`, `"avg"` or `"max"` (when not `include_top`).
        classes: number of classes (when `include_top`).
        classifier_activation: activation of the classifier.
        weights: the constructor's `weights` argument.
        top_pool_name: name of the classifier's `GlobalAveragePooling2D`.
        pooling_names: names of the `"avg"` and `"max"` pooling layers
            (`None` lets Keras number them).

    Returns:
        The model's output tensor.
    """
    if include_top:
        x = layers.GlobalAveragePooling2D(name=top_pool_name)(x)
        return predictions(x, classes, classifier_activation, weights)
    return global_pooling(x, pooling, *pooling_names)


def build_model(input_tensor, img_input, outputs, name):
    """Creates the `Functional` model of an application.

    When `input_tensor` was given, the model's inputs are the sources it
    is computed from, so any layers before it become part of the model.

    Args:
        input_tensor: the constructor's `input_tensor` argument.
        img_input: the tensor `image_input` returned.
        outputs: the model's output tensor.
        name: the model's name.

    Returns:
        The `Functional` model.
    """
    if input_tensor is not None:
        inputs = imagenet_utils.get_source_inputs(input_tensor)
    else:
        inputs = img_input
    return Functional(inputs, outputs, name=name)


def load_weights(model, weights, imagenet_file=None):
    """Loads the constructor's `weights` into `model`.

    Args:
        model: the application model.
        weights: `None` (keep the random initialization), `"imagenet"`,
            or the path of a weights file.
        imagenet_file: for `weights="imagenet"`, the published file as a
            `(fname, origin, file_hash)` tuple (`file_hash` may be `None`).

    Returns:
        `model`.

    Raises:
        ValueError: `weights="imagenet"` but `imagenet_file` is `None` (no
            published weights for this configuration).
    """
    if weights == "imagenet":
        if imagenet_file is None:
            raise ValueError(
                f"Model {model.name!r}: no published ImageNet weights for "
                "this configuration; pass `weights=None` or the path of a "
                "weights file.")
        fname, origin, file_hash = imagenet_file
        model.load_weights(imagenet_utils.get_weights_file(
            fname, origin, cache_subdir="models", file_hash=file_hash))
    elif weights is not None:
        model.load_weights(weights)
    return model
