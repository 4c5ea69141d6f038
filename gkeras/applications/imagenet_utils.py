"""Shared helpers of `gkeras.applications`: input shapes, weight files,
`preprocess_input` modes and `decode_predictions`."""

import json
import os

import numpy as np

from gkeras.backend.config import floatx, standardize_data_format

WEIGHTS_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/"
CLASS_INDEX_FILE = "imagenet_class_index.json"
CLASS_INDEX_URL = WEIGHTS_BASE.replace(
    "keras-applications/", "keras-applications/imagenet_class_index.json")
_CLASS_INDEX = None


def models_dir():
    """Folder where ImageNet weight files are looked up
    (`$GKERAS_HOME/models`, default `~/.gkeras/models`)."""
    from gkeras.utils.file_utils import gkeras_home
    return os.path.join(gkeras_home(), "models")


def validate_weights(weights, include_top, classes):
    """Checks the `weights` / `classes` arguments as Keras does."""
    if not (weights in (None, "imagenet") or (
            isinstance(weights, (str, os.PathLike))
            and os.path.exists(weights))):
        raise ValueError(
            "The `weights` argument should be either `None` (random "
            "initialization), `'imagenet'` (pre-training on ImageNet), or "
            f"the path to the weights file to be loaded. Received: "
            f"weights={weights!r}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            'If using `weights="imagenet"` with `include_top=True`, '
            f"`classes` should be 1000. Received: classes={classes}")


def obtain_input_shape(input_shape, default_size, min_size, data_format,
                       require_flatten, weights=None):
    """Returns the model's input shape (without batch), validated."""
    channels_last = data_format == "channels_last"
    if weights == "imagenet" and input_shape is not None and \
            len(input_shape) == 3:
        ch = input_shape[-1] if channels_last else input_shape[0]
        if ch not in (1, 3):
            raise ValueError(
                "The input must have 3 channels when using ImageNet "
                f"weights. Received: input_shape={input_shape}")
    default = (default_size, default_size, 3) if channels_last else \
        (3, default_size, default_size)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and tuple(input_shape) != default:
            raise ValueError(
                "When setting `include_top=True` and loading `imagenet` "
                f"weights, `input_shape` should be {default}. Received: "
                f"input_shape={input_shape}")
        return default
    if input_shape is None:
        if require_flatten:
            return default
        return (None, None, 3) if channels_last else (3, None, None)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError("`input_shape` must be a tuple of three integers. "
                         f"Received: input_shape={input_shape}")
    spatial = input_shape[:2] if channels_last else input_shape[1:]
    for s in spatial:
        if s is not None and s < min_size:
            raise ValueError(
                f"Input size must be at least {min_size}x{min_size}; "
                f"Received: input_shape={input_shape}")
    if require_flatten and None in spatial:
        raise ValueError(
            "If `include_top` is True, you should specify a static "
            f"`input_shape`. Received: input_shape={input_shape}")
    return input_shape


def make_input(input_tensor, shape):
    """The model input: a new Input, or `input_tensor`."""
    from gkeras.layers import Input
    if input_tensor is None:
        return Input(shape=shape), None
    return input_tensor, input_tensor


def finish(model, weights, file_top, file_notop, url_dir, include_top):
    """Loads `weights` into the model (a path, or 'imagenet' from the
    cache) and returns it."""
    if weights is None:
        return model
    if weights == "imagenet":
        fname = file_top if include_top else file_notop
        path = os.path.join(models_dir(), fname)
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"The ImageNet weights for {model.name!r} are not in the "
                f"gkeras cache. gkeras does not download them: get "
                f"{WEIGHTS_BASE}{url_dir}/{fname} and put it at {path} (or "
                "pass its path as `weights=`).")
    else:
        path = os.fspath(weights)
    model.load_weights(path)
    return model


def pooling_head(x, include_top, pooling, classes, classifier_activation,
                 avg_name=None, max_name=None, dense_name="predictions"):
    """The top of a convolutional base: classifier, or optional global
    pooling."""
    from gkeras import layers
    if include_top:
        x = layers.GlobalAveragePooling2D(name=avg_name)(x)
        return layers.Dense(classes, activation=classifier_activation,
                            name=dense_name)(x)
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=avg_name)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=max_name)(x)
    if pooling is not None:
        raise ValueError("`pooling` must be None, 'avg' or 'max'. Received: "
                         f"pooling={pooling!r}")
    return x


def preprocess_input(x, data_format=None, mode="caffe"):
    """Preprocesses a batch of RGB images in 0-255.

    Args:
        x: array (NumPy, float or int) of images.
        data_format: image data format.
        mode: `"caffe"` (RGB -> BGR, minus the ImageNet channel means),
            `"tf"` (scale to -1..1) or `"torch"` (0..1, minus mean, over
            std per channel).

    Returns:
        The preprocessed float array (a new array).
    """
    data_format = standardize_data_format(data_format)
    x = np.array(x, dtype=floatx() if np.asarray(x).dtype.kind != "f"
                 else np.asarray(x).dtype, copy=True)
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    if mode == "torch":
        mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
        x /= 255.0
    elif mode == "caffe":
        x = x[..., ::-1] if data_format == "channels_last" else \
            (x[::-1] if x.ndim == 3 else x[:, ::-1])
        mean, std = [103.939, 116.779, 123.68], None
    else:
        raise ValueError(f"Unknown preprocess mode {mode!r}; expected "
                         "'caffe', 'tf' or 'torch'.")
    shape = [1] * x.ndim
    if data_format == "channels_last":
        shape[-1] = 3
    else:
        shape[-3] = 3
    x = x - np.asarray(mean, x.dtype).reshape(shape)
    if std is not None:
        x = x / np.asarray(std, x.dtype).reshape(shape)
    return np.ascontiguousarray(x)


def _class_index():
    global _CLASS_INDEX
    if _CLASS_INDEX is None:
        candidates = [
            os.path.join(os.path.dirname(__file__), "data", CLASS_INDEX_FILE),
            os.path.join(models_dir(), CLASS_INDEX_FILE)]
        for path in candidates:
            if os.path.exists(path):
                with open(path) as f:
                    _CLASS_INDEX = json.load(f)
                break
        else:
            raise FileNotFoundError(
                "decode_predictions needs the ImageNet class index, which "
                "is not shipped with this gkeras install. Download "
                f"{CLASS_INDEX_URL} and put it at {candidates[1]}.")
    return _CLASS_INDEX


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions into `(class_id, name, score)` tuples.

    Args:
        preds: array `(samples, 1000)` of class probabilities.
        top: how many top classes to return per sample.

    Returns:
        A list (one per sample) of lists of `(class_id, class_name,
        score)`, best first.
    """
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError(
            "`decode_predictions` expects a batch of predictions (i.e. a 2D "
            f"array of shape (samples, 1000)). Received array with shape: "
            f"{preds.shape}")
    index = _class_index()
    results = []
    for pred in preds:
        top_idx = pred.argsort()[-top:][::-1]
        results.append([tuple(index[str(i)]) + (float(pred[i]),)
                        for i in top_idx])
    return results
