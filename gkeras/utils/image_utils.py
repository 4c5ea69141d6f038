"""Image file helpers (Keras names): `load_img`, `img_to_array`,
`array_to_img`, `save_img`, `smart_resize`.

They need Pillow, an optional dependency: `pip install gkeras[image]`.
Pillow and SciPy are imported on first use only.
"""

import io
import os

import numpy as np

from gkeras.backend.config import floatx, standardize_data_format

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img",
           "smart_resize"]

_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box",
                   "lanczos")


def require_pil():
    """Returns the `PIL.Image` module, or raises an ImportError that names
    the `image` extra."""
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError(
            "This gkeras image utility needs Pillow, which is not installed "
            f"({e}). Install the image extra: `pip install gkeras[image]` "
            "(or `pip install Pillow`).") from None
    return Image


def _pil_interpolation(name):
    Image = require_pil()
    if name not in _INTERPOLATIONS:
        raise ValueError(
            f"Invalid interpolation {name!r}. Expected one of "
            f"{list(_INTERPOLATIONS)}.")
    return getattr(Image.Resampling if hasattr(Image, "Resampling")
                   else Image, name.upper())


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """Converts a 3D array to a PIL image.

    Args:
        x: array of shape `(height, width, channels)` (channels_last) or
            `(channels, height, width)`, with 1, 3 or 4 channels.
        data_format: `"channels_last"` or `"channels_first"` (default: the
            global image data format).
        scale: rescale values to `[0, 255]` (from their min/max).
        dtype: dtype used for the conversion (default `floatx()`).

    Returns:
        A `PIL.Image.Image`.

    Example:
    >>> img = array_to_img(np.random.rand(32, 32, 3))
    """
    Image = require_pil()
    data_format = standardize_data_format(data_format)
    x = np.asarray(x, dtype=dtype or floatx())
    if x.ndim != 3:
        raise ValueError(
            "Expected an image array of rank 3 (a single image). Received "
            f"an array of shape {x.shape}.")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        x_max = np.max(x)
        if x_max != 0:
            x = x / x_max
        x = x * 255
    channels = x.shape[2]
    if channels == 4:
        return Image.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return Image.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:
            # 16/32-bit grayscale: Pillow's 32-bit integer mode.
            return Image.fromarray(x[:, :, 0].astype("int32"), "I")
        return Image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}. Expected 1, "
                     "3 or 4 channels.")


def img_to_array(img, data_format=None, dtype=None):
    """Converts a PIL image to a 3D NumPy array.

    Args:
        img: a PIL image.
        data_format: `"channels_last"` (height, width, channels) or
            `"channels_first"` (default: the global image data format).
        dtype: dtype of the result (default `floatx()`).

    Returns:
        A 3D array.
    """
    data_format = standardize_data_format(data_format)
    x = np.asarray(img, dtype=dtype or floatx())
    if x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    elif x.ndim == 2:
        x = x[None] if data_format == "channels_first" else x[..., None]
    else:
        raise ValueError(f"Unsupported image shape: {x.shape}")
    return x


def save_img(path, x, data_format=None, file_format=None, scale=True,
             **kwargs):
    """Saves an image array to a file.

    Args:
        path: file path or file object.
        x: a 3D image array.
        data_format: image data format of `x`.
        file_format: format name for Pillow (default: from the extension).
        scale: rescale values to `[0, 255]`.
        **kwargs: passed to `PIL.Image.save`.
    """
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and (file_format == "jpg" or file_format == "jpeg"
                               or str(path).lower().endswith((".jpg",
                                                              ".jpeg"))):
        img = img.convert("RGB")
    if file_format == "jpg":
        file_format = "jpeg"
    img.save(path, format=file_format, **kwargs)


def load_img(path, color_mode="rgb", target_size=None,
             interpolation="nearest", keep_aspect_ratio=False):
    """Loads an image file into a PIL image.

    Args:
        path: file path (str or pathlib.Path) or a binary file object.
        color_mode: `"grayscale"`, `"rgb"` or `"rgba"`.
        target_size: `(height, width)` to resize to, or None.
        interpolation: resampling method: `"nearest"`, `"bilinear"`,
            `"bicubic"`, `"hamming"`, `"box"` or `"lanczos"`.
        keep_aspect_ratio: crop the centre to the target aspect ratio
            before resizing.

    Returns:
        A PIL image.

    Example:
    >>> img = load_img("cat.jpg", target_size=(224, 224))
    >>> x = img_to_array(img)[None]
    """
    Image = require_pil()
    if isinstance(path, io.BytesIO) or hasattr(path, "read"):
        img = Image.open(path)
    elif isinstance(path, (str, bytes, os.PathLike)):
        path = os.fspath(path)
        if isinstance(path, bytes):
            path = path.decode()
        if not os.path.exists(path):
            raise FileNotFoundError(f"load_img: no such file: {path!r}")
        with open(path, "rb") as f:
            img = Image.open(io.BytesIO(f.read()))
    else:
        raise TypeError("load_img: `path` must be a path or a file object. "
                        f"Received: {type(path).__name__}")
    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):
            img = img.convert("L")
    elif color_mode == "rgba":
        if img.mode != "RGBA":
            img = img.convert("RGBA")
    elif color_mode == "rgb":
        if img.mode != "RGB":
            img = img.convert("RGB")
    else:
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba". '
                         f"Received: color_mode={color_mode!r}")
    if target_size is not None:
        width_height = (int(target_size[1]), int(target_size[0]))
        if img.size != width_height:
            resample = _pil_interpolation(interpolation)
            if keep_aspect_ratio:
                width, height = img.size
                target_w, target_h = width_height
                crop_height = (width * target_h) // target_w
                crop_width = (height * target_w) // target_h
                crop_height = min(height, crop_height)
                crop_width = min(width, crop_width)
                x0 = (width - crop_width) // 2
                y0 = (height - crop_height) // 2
                img = img.crop((x0, y0, x0 + crop_width, y0 + crop_height))
            img = img.resize(width_height, resample)
    return img


def smart_resize(x, size, interpolation="bilinear", data_format=None):
    """Resizes an image (or batch) to `size`, cropping the centre to the
    target aspect ratio first so the content is not distorted.

    Args:
        x: a 3D image or 4D batch (NumPy).
        size: `(height, width)`.
        interpolation: a Pillow resampling method name.
        data_format: image data format of `x`.

    Returns:
        The resized array (float32).
    """
    data_format = standardize_data_format(data_format)
    x = np.asarray(x)
    if x.ndim not in (3, 4):
        raise ValueError("smart_resize expects a 3D image or a 4D batch. "
                         f"Received shape {x.shape}.")
    batch = x if x.ndim == 4 else x[None]
    if data_format == "channels_first":
        batch = batch.transpose(0, 2, 3, 1)
    h, w = batch.shape[1:3]
    th, tw = int(size[0]), int(size[1])
    crop_h = min(h, int(w * th / tw))
    crop_w = min(w, int(h * tw / th))
    y0, x0 = (h - crop_h) // 2, (w - crop_w) // 2
    batch = batch[:, y0:y0 + crop_h, x0:x0 + crop_w]
    out = np.stack([_resize_array(im, (th, tw), interpolation)
                    for im in batch])
    if data_format == "channels_first":
        out = out.transpose(0, 3, 1, 2)
    return out if x.ndim == 4 else out[0]


def _resize_array(img, size, interpolation):
    """Resizes one (h, w, c) array per channel with Pillow's float mode."""
    Image = require_pil()
    resample = _pil_interpolation(interpolation)
    chans = [np.asarray(Image.fromarray(
        np.ascontiguousarray(img[:, :, c], dtype=np.float32), "F").resize(
            (size[1], size[0]), resample)) for c in range(img.shape[2])]
    return np.stack(chans, axis=-1).astype(np.float32)
