"""Shared helpers of `gkeras.applications` (`keras.applications.
imagenet_utils`): input shapes, `preprocess_input` modes,
`decode_predictions`, and fetching the published weight files.

Ported from Keras 3's `keras/src/applications/imagenet_utils.py`, with
gkeras's own weight-file lookup: a file already in the gkeras cache (or
in Keras's `~/.keras/models`) is used as is, a download goes through
`gkeras.utils.get_file` (hash check, atomic rename), and without network
the error says where to put the file by hand and how to pass it.
"""

import json
import os
import warnings

import numpy as np

from gkeras import activations
from gkeras import backend
from gkeras import ops
from gkeras.utils import file_utils

CLASS_INDEX = None
CLASS_INDEX_PATH = (
    "https://storage.googleapis.com/download.tensorflow.org/"
    "data/imagenet_class_index.json"
)
CLASS_INDEX_FILE = "imagenet_class_index.json"
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"
# Where Keras publishes the application weights; every family's
# `BASE_WEIGHTS_PATH` starts with it.
KERAS_WEIGHTS_BASE = \
    "https://storage.googleapis.com/tensorflow/keras-applications/"
_KERAS_WEIGHTS_BASE_OLD = "https://storage.googleapis.com/keras-applications/"
# Environment variable naming a mirror of `KERAS_WEIGHTS_BASE` (same
# folder layout), e.g. an intranet server or a local folder served over
# http.
BASE_URL_ENV = "GKERAS_APPLICATIONS_BASE_URL"

PREPROCESS_INPUT_DOC = """
  Preprocesses a tensor or Numpy array encoding a batch of images.

  Usage example with `applications.MobileNet`:

  ```python
  i = gkeras.layers.Input([None, None, 3], dtype="uint8")
  x = ops.cast(i, "float32")
  x = gkeras.applications.mobilenet.preprocess_input(x)
  core = gkeras.applications.MobileNet()
  x = core(x)
  model = gkeras.Model(inputs=[i], outputs=[x])
  result = model(image)
  ```

  Args:
    x: A floating point `numpy.array` or a backend-native tensor,
      3D or 4D with 3 color
      channels, with values in the range [0, 255].
      The preprocessed data are written over the input data
      if the data types are compatible. To avoid this
      behaviour, `numpy.copy(x)` can be used.
    data_format: Optional data format of the image tensor/array. None, means
      the global setting `gkeras.backend.image_data_format()` is used
      (unless you changed it, it uses "channels_last").{mode}
      Defaults to `None`.

  Returns:
      Preprocessed array with type `float32`.
      {ret}

  Raises:
      {error}
  """

PREPROCESS_INPUT_MODE_DOC = """
    mode: One of "caffe", "tf" or "torch".
      - caffe: will convert the images from RGB to BGR,
          then will zero-center each color channel with
          respect to the ImageNet dataset,
          without scaling.
      - tf: will scale pixels between -1 and 1,
          sample-wise.
      - torch: will scale pixels between 0 and 1 and then
          will normalize each channel with respect to the
          ImageNet dataset.
      Defaults to `"caffe"`.
  """

PREPROCESS_INPUT_DEFAULT_ERROR_DOC = """
    ValueError: In case of unknown `mode` or `data_format` argument."""

PREPROCESS_INPUT_ERROR_DOC = """
    ValueError: In case of unknown `data_format` argument."""

PREPROCESS_INPUT_RET_DOC_TF = """
      The inputs pixel values are scaled between -1 and 1, sample-wise."""

PREPROCESS_INPUT_RET_DOC_TORCH = """
      The input pixels values are scaled between 0 and 1 and each channel is
      normalized with respect to the ImageNet dataset."""

PREPROCESS_INPUT_RET_DOC_CAFFE = """
      The images are converted from RGB to BGR, then each color channel is
      zero-centered with respect to the ImageNet dataset, without scaling."""


def preprocess_input(x, data_format=None, mode="caffe"):
    """Preprocesses a tensor or Numpy array encoding a batch of images."""
    if mode not in {"caffe", "tf", "torch"}:
        raise ValueError(
            "Expected mode to be one of `caffe`, `tf` or `torch`. "
            f"Received: mode={mode}"
        )

    if data_format is None:
        data_format = backend.image_data_format()
    elif data_format not in {"channels_first", "channels_last"}:
        raise ValueError(
            "Expected data_format to be one of `channels_first` or "
            f"`channels_last`. Received: data_format={data_format}"
        )

    if isinstance(x, np.ndarray):
        return _preprocess_numpy_input(x, data_format=data_format, mode=mode)
    return _preprocess_tensor_input(x, data_format=data_format, mode=mode)


preprocess_input.__doc__ = PREPROCESS_INPUT_DOC.format(
    mode=PREPROCESS_INPUT_MODE_DOC,
    ret="",
    error=PREPROCESS_INPUT_DEFAULT_ERROR_DOC,
)


def _class_index():
    """The ImageNet class index: shipped copy, gkeras cache, Keras cache,
    or downloaded into the gkeras cache."""
    global CLASS_INDEX
    if CLASS_INDEX is None:
        fpath = get_weights_file(CLASS_INDEX_FILE, CLASS_INDEX_PATH,
                                 cache_subdir="models",
                                 file_hash=CLASS_INDEX_HASH,
                                 what="decode_predictions needs the ImageNet "
                                      "class index")
        with open(fpath) as f:
            CLASS_INDEX = json.load(f)
    return CLASS_INDEX


def decode_predictions(preds, top=5):
    """Decodes the prediction of an ImageNet model.

    Args:
        preds: NumPy array encoding a batch of predictions.
        top: Integer, how many top-guesses to return. Defaults to `5`.

    Returns:
        A list of lists of top class prediction tuples
        `(class_name, class_description, score)`.
        One list of tuples per sample in batch input.

    Raises:
        ValueError: In case of invalid shape of the `pred` array
            (must be 2D).
    """
    if len(preds.shape) != 2 or preds.shape[1] != 1000:
        raise ValueError(
            "`decode_predictions` expects "
            "a batch of predictions "
            "(i.e. a 2D array of shape (samples, 1000)). "
            f"Received array with shape: {preds.shape}"
        )
    index = _class_index()
    results = []
    preds = ops.convert_to_numpy(preds)
    for pred in preds:
        top_indices = pred.argsort()[-top:][::-1]
        result = [tuple(index[str(i)]) + (pred[i],) for i in top_indices]
        result.sort(key=lambda x: x[2], reverse=True)
        results.append(result)
    return results


def _preprocess_numpy_input(x, data_format, mode):
    """Preprocesses a NumPy array encoding a batch of images (in place for
    a float array, as Keras does)."""
    if not issubclass(x.dtype.type, np.floating):
        x = x.astype(backend.floatx(), copy=False)

    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    elif mode == "torch":
        x /= 255.0
        mean = [0.485, 0.456, 0.406]
        std = [0.229, 0.224, 0.225]
    else:
        if data_format == "channels_first":
            # 'RGB'->'BGR'
            if len(x.shape) == 3:
                x = x[::-1, ...]
            else:
                x = x[:, ::-1, ...]
        else:
            # 'RGB'->'BGR'
            x = x[..., ::-1]
        mean = [103.939, 116.779, 123.68]
        std = None

    # Zero-center by mean pixel
    if data_format == "channels_first":
        if len(x.shape) == 3:
            for c in range(3):
                x[c, :, :] -= mean[c]
                if std is not None:
                    x[c, :, :] /= std[c]
        else:
            for c in range(3):
                x[:, c, :, :] -= mean[c]
                if std is not None:
                    x[:, c, :, :] /= std[c]
    else:
        for c in range(3):
            x[..., c] -= mean[c]
            if std is not None:
                x[..., c] /= std[c]
    return x


def _preprocess_tensor_input(x, data_format, mode):
    """Preprocesses a backend tensor (NumPy- or CuPy-backed) encoding a
    batch of images; returns a new tensor."""
    x = ops.convert_to_tensor(x)
    ndim = len(x.shape)

    if mode == "tf":
        x = x / 127.5
        x = x - 1.0
        return x
    elif mode == "torch":
        x = x / 255.0
        mean = [0.485, 0.456, 0.406]
        std = [0.229, 0.224, 0.225]
    else:
        if data_format == "channels_first":
            # 'RGB'->'BGR'
            if len(x.shape) == 3:
                x = ops.stack([x[i, ...] for i in (2, 1, 0)], axis=0)
            else:
                x = ops.stack([x[:, i, :] for i in (2, 1, 0)], axis=1)
        else:
            # 'RGB'->'BGR'
            x = ops.stack([x[..., i] for i in (2, 1, 0)], axis=-1)
        mean = [103.939, 116.779, 123.68]
        std = None

    mean_tensor = ops.convert_to_tensor(-np.array(mean), dtype=x.dtype)

    # Zero-center by mean pixel
    if data_format == "channels_first":
        if len(x.shape) == 3:
            mean_tensor = ops.reshape(mean_tensor, (3, 1, 1))
        else:
            mean_tensor = ops.reshape(mean_tensor, (1, 3) + (1,) * (ndim - 2))
    else:
        mean_tensor = ops.reshape(mean_tensor, (1,) * (ndim - 1) + (3,))
    x = x + mean_tensor
    if std is not None:
        std_tensor = ops.convert_to_tensor(np.array(std), dtype=x.dtype)
        if data_format == "channels_first":
            std_tensor = ops.reshape(std_tensor, (-1, 1, 1))
        x = x / std_tensor
    return x


def obtain_input_shape(
    input_shape,
    default_size,
    min_size,
    data_format,
    require_flatten,
    weights=None,
):
    """Computes/validates a model's input shape.

    Args:
      input_shape: Either None (will return the default network input shape),
        or a user-provided shape to be validated.
      default_size: Default input width/height for the model.
      min_size: Minimum input width/height accepted by the model.
      data_format: Image data format to use.
      require_flatten: Whether the model is expected to
        be linked to a classifier via a Flatten layer.
      weights: One of `None` (random initialization)
        or 'imagenet' (pre-training on ImageNet).
        If weights='imagenet' input channels must be equal to 3.

    Returns:
      An integer shape tuple (may include None entries).

    Raises:
      ValueError: In case of invalid argument values.
    """
    if input_shape is not None:
        input_shape = tuple(input_shape)
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        if data_format == "channels_first":
            if input_shape[0] not in {1, 3}:
                warnings.warn(
                    "This model usually expects 1 or 3 input channels. "
                    "However, it was passed an input_shape "
                    f"with {input_shape[0]} input channels.",
                    stacklevel=2,
                )
            default_shape = (input_shape[0], default_size, default_size)
        else:
            if input_shape[-1] not in {1, 3}:
                warnings.warn(
                    "This model usually expects 1 or 3 input channels. "
                    "However, it was passed an input_shape "
                    f"with {input_shape[-1]} input channels.",
                    stacklevel=2,
                )
            default_shape = (default_size, default_size, input_shape[-1])
    else:
        if data_format == "channels_first":
            default_shape = (3, default_size, default_size)
        else:
            default_shape = (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None:
            if input_shape != default_shape:
                raise ValueError(
                    "When setting `include_top=True` "
                    "and loading `imagenet` weights, "
                    f"`input_shape` should be {default_shape}.  "
                    f"Received: input_shape={input_shape}"
                )
        return default_shape
    if input_shape:
        if len(input_shape) != 3:
            raise ValueError(
                "`input_shape` must be a tuple of three integers. "
                f"Received: input_shape={input_shape}"
            )
        if data_format == "channels_first":
            channels, spatial = input_shape[0], input_shape[1:]
        else:
            channels, spatial = input_shape[-1], input_shape[:2]
        if channels != 3 and weights == "imagenet":
            raise ValueError(
                "The input must have 3 channels; Received "
                f"`input_shape={input_shape}`"
            )
        if any(s is not None and s < min_size for s in spatial):
            raise ValueError(
                f"Input size must be at least {min_size}"
                f"x{min_size}; Received: "
                f"input_shape={input_shape}"
            )
    else:
        if require_flatten:
            input_shape = default_shape
        else:
            if data_format == "channels_first":
                input_shape = (3, None, None)
            else:
                input_shape = (None, None, 3)
    if require_flatten:
        if None in input_shape:
            raise ValueError(
                "If `include_top` is True, "
                "you should specify a static `input_shape`. "
                f"Received: input_shape={input_shape}"
            )
    return input_shape


def correct_pad(inputs, kernel_size):
    """Returns a tuple for zero-padding for 2D convolution with downsampling.

    Args:
      inputs: Input tensor.
      kernel_size: An integer or tuple/list of 2 integers.

    Returns:
      A tuple.
    """
    img_dim = 2 if backend.image_data_format() == "channels_first" else 1
    input_size = inputs.shape[img_dim : (img_dim + 2)]
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    if input_size[0] is None:
        adjust = (1, 1)
    else:
        adjust = (1 - input_size[0] % 2, 1 - input_size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return (
        (correct[0] - adjust[0], correct[0]),
        (correct[1] - adjust[1], correct[1]),
    )


def validate_activation(classifier_activation, weights):
    """Checks that `classifier_activation` is compatible with `weights`.

    Args:
      classifier_activation: str or callable activation function
      weights: The pretrained weights to load.

    Raises:
      ValueError: if an activation other than `None` or `softmax` are used with
        pretrained weights.
    """
    if weights is None:
        return

    classifier_activation = activations.get(classifier_activation)
    if classifier_activation not in {
        activations.get("softmax"),
        activations.get(None),
    }:
        raise ValueError(
            "Only `None` and `softmax` activations are allowed "
            "for the `classifier_activation` argument when using "
            "pretrained weights, with `include_top=True`; Received: "
            f"classifier_activation={classifier_activation}"
        )


def weights_file_exists(weights):
    """True when `weights` (the constructors' `weights=` argument) names an
    existing local file."""
    return isinstance(weights, (str, os.PathLike)) and os.path.exists(weights)


def get_source_inputs(tensor):
    """Returns the list of input tensors necessary to compute `tensor`.

    Args:
        tensor: a symbolic tensor (output of a layer, or an `Input`).

    Returns:
        The list of `Input` tensors (sources) `tensor` is computed from.
    """
    history = getattr(tensor, "_keras_history", None)
    if history is None:
        return [tensor]
    operation, node_index = history[0], history[1]
    node = operation._inbound_nodes[node_index]
    if not node.input_tensors:
        return [tensor]
    sources = []
    for t in node.input_tensors:
        for s in get_source_inputs(t):
            if not any(s is x for x in sources):
                sources.append(s)
    return sources


def models_dir():
    """Folder of the gkeras cache where ImageNet weight files are kept
    (`$GKERAS_HOME/models`, default `~/.gkeras/models`)."""
    return os.path.join(file_utils.gkeras_home(), "models")


def _keras_models_dir():
    base = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras")
    return os.path.join(base, "models")


def weights_origin(origin):
    """`origin` (a Keras weights URL) on the mirror named by
    `$GKERAS_APPLICATIONS_BASE_URL`, when it is set."""
    mirror = os.environ.get(BASE_URL_ENV)
    if mirror:
        # EfficientNet's files sit one level up, outside `tensorflow/`.
        for base in (KERAS_WEIGHTS_BASE, _KERAS_WEIGHTS_BASE_OLD):
            if origin.startswith(base):
                return mirror.rstrip("/") + "/" + origin[len(base):]
    return origin


class WeightsNotAvailableError(FileNotFoundError):
    """A published weight file is not in the cache and could not be
    downloaded."""


def get_weights_file(fname, origin, cache_subdir="models", file_hash=None,
                     what=None):
    """Returns the local path of a published Keras weights file.

    Looks in the gkeras cache (`$GKERAS_HOME/models`), then in Keras's own
    cache (`~/.keras/models`), and otherwise downloads `origin` (from the
    mirror `$GKERAS_APPLICATIONS_BASE_URL` when set) into the gkeras cache
    with `gkeras.utils.get_file`, checking `file_hash`.

    Args:
        fname: the file name (as Keras names it).
        origin: the Keras URL of the file.
        cache_subdir: sub-folder of the gkeras cache.
        file_hash: expected md5 or sha256 hex digest, or None.
        what: what needs the file, for the error message.

    Returns:
        The path of the file.

    Raises:
        WeightsNotAvailableError: (a `FileNotFoundError`) the file is in no
            cache and the download failed; the message gives the URL, the
            path to put the file at, and how to pass a file directly.
        ValueError: a downloaded file does not match `file_hash`.
    """
    cache_dir = os.path.join(file_utils.gkeras_home(), cache_subdir)
    local = os.path.join(cache_dir, fname)
    if not os.path.exists(local):
        keras_copy = os.path.join(_keras_models_dir(), fname)
        if cache_subdir == "models" and os.path.exists(keras_copy) and (
                file_hash is None
                or file_utils.validate_file(keras_copy, file_hash)):
            return keras_copy
    url = weights_origin(origin)
    try:
        return file_utils.get_file(fname, url, cache_subdir=cache_subdir,
                                   file_hash=file_hash)
    except file_utils.DownloadError as e:
        how = ("You can also pass a local copy of the file directly: "
               f"`weights='/path/to/{fname}'`. " if what is None else "")
        raise WeightsNotAvailableError(
            f"{what or 'The pretrained weights'}: {e} "
            + (f"(That URL is the mirror of {origin}.) " if url != origin
               else "")
            + f"{how}To download from a mirror of {KERAS_WEIGHTS_BASE} "
            f"(same folder layout), set ${BASE_URL_ENV}."
        ) from e
