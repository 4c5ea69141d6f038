"""`draw_segmentation_masks`: colors the classes of segmentation masks
over images."""

import numpy as np

from gkeras.backend.config import image_data_format
from gkeras.visualization._utils import check_batched, to_host


def draw_segmentation_masks(images, segmentation_masks, num_classes=None,
                            color_mapping=None, alpha=0.8, blend=True,
                            ignore_index=-1, data_format=None):
    """Draws segmentation masks on images.

    Pixels of class `c` (`0 <= c < num_classes`) take the color of class
    `c`; with `blend`, the colors are mixed with the image with opacity
    `alpha` and pixels equal to `ignore_index` keep the image.

    Args:
        images: `(batch, height, width, channels)` images (channels first
            with `data_format="channels_first"`).
        segmentation_masks: integer masks, `(batch, height, width, 1)` or
            `(batch, height, width)`.
        num_classes: number of classes; inferred as the masks' maximum
            value when None (as Keras does).
        color_mapping: dict class index -> RGB color; a default palette
            when None.
        alpha: mask opacity in [0, 1] when blending.
        blend: mix the masks with the images (True) or paint them over.
        ignore_index: the class left undrawn when blending.
        data_format: `"channels_last"` or `"channels_first"` (default
            `image_data_format()`).

    Returns:
        A NumPy array of the images with the masks drawn (`uint8` when
        blended, float32 otherwise).
    """
    data_format = data_format or image_data_format()
    images = to_host(images)
    masks = to_host(segmentation_masks)
    check_batched(images)
    if data_format == "channels_first":
        images = np.transpose(images, (0, 2, 3, 1))
        if masks.ndim == 4:
            masks = np.transpose(masks, (0, 2, 3, 1))
    if masks.ndim == 3:
        masks = masks[..., None]
    if masks.dtype.kind not in "iu":
        raise TypeError("`segmentation_masks` must be in integer dtype. "
                        f"Received: segmentation_masks.dtype={masks.dtype}")
    images = images.astype("float32")
    if num_classes is None:
        num_classes = int(masks.max())
    if color_mapping is None:
        colors = _generate_color_palette(num_classes)
    else:
        colors = [color_mapping[i] for i in range(num_classes)]
    valid = masks[..., 0] != ignore_index
    drawn = images.copy()
    for c, color in enumerate(colors):
        drawn[masks[..., 0] == c] = np.asarray(color, dtype="float32")
    if blend:
        out = images * (1 - alpha) + drawn * alpha
        out = np.where(valid[..., None], out, images)
        return out.astype("uint8")
    return drawn


def _generate_color_palette(num_classes):
    palette = np.array([2 ** 25 - 1, 2 ** 15 - 1, 2 ** 21 - 1])
    return [((i * palette) % 255).tolist() for i in range(num_classes)]
