"""Global numeric settings: float type, fuzz factor, image data format.

These mirror `keras.config` (Keras 3) and the Keras-2 `keras.backend`
getters/setters of the same names.
"""

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_VALID_FLOATX = ("float16", "float32", "float64")


def floatx():
    """Returns the default float type, as a string (e.g. `"float32"`).

    Returns:
        The current default float type.

    Example:
    >>> gkeras.config.floatx()
    'float32'
    """
    return _FLOATX


def set_floatx(value):
    """Sets the default float type.

    Args:
        value: One of `"float16"`, `"float32"`, `"float64"`.
    """
    global _FLOATX
    value = str(value)
    if value not in _VALID_FLOATX:
        raise ValueError(
            f"Unknown `floatx` value: {value!r}. Expected one of "
            f"{list(_VALID_FLOATX)}.")
    _FLOATX = value


def epsilon():
    """Returns the fuzz factor used in numeric expressions (default 1e-7)."""
    return _EPSILON


def set_epsilon(value):
    """Sets the fuzz factor used in numeric expressions.

    Args:
        value: A float.
    """
    global _EPSILON
    _EPSILON = float(value)


def image_data_format():
    """Returns the default image data format: `"channels_last"` or
    `"channels_first"`."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format):
    """Sets the default image data format.

    Args:
        data_format: `"channels_last"` or `"channels_first"`.
    """
    global _IMAGE_DATA_FORMAT
    data_format = str(data_format).lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of 'channels_first', "
            f"'channels_last'. Received: data_format={data_format!r}")
    _IMAGE_DATA_FORMAT = data_format


def standardize_data_format(data_format):
    """Returns `data_format` validated, or the global default when None."""
    if data_format is None:
        return image_data_format()
    data_format = str(data_format).lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of 'channels_first', "
            f"'channels_last'. Received: data_format={data_format!r}")
    return data_format
