"""`plot_segmentation_mask_gallery`: images next to their true and
predicted masks."""

import functools

import numpy as np

from gkeras.backend.config import image_data_format
from gkeras.visualization._utils import check_batched, to_host
from gkeras.visualization.draw_segmentation_masks import \
    draw_segmentation_masks
from gkeras.visualization.plot_image_gallery import plot_image_gallery


def plot_segmentation_mask_gallery(images, num_classes, value_range=(0, 255),
                                   y_true=None, y_pred=None,
                                   color_mapping=None, blend=True, alpha=0.8,
                                   ignore_index=-1, data_format=None,
                                   **kwargs):
    """Plots one row per image: the image, then its true and predicted
    masks drawn over it.

    Args:
        images: `(batch, height, width, channels)` images.
        num_classes: number of segmentation classes.
        value_range: the images' value range.
        y_true, y_pred: integer masks `(batch, height, width, 1)`.
        color_mapping, blend, alpha, ignore_index: as
            `draw_segmentation_masks`.
        data_format: `"channels_last"` or `"channels_first"`.
        **kwargs: passed to `plot_image_gallery` (`path`, `show`, ...).
    """
    data_format = data_format or image_data_format()
    images = to_host(images)
    check_batched(images)
    if data_format == "channels_first":
        images = np.transpose(images, (0, 2, 3, 1))
    batch_size = images.shape[0]
    cols = 1 + (y_true is not None) + (y_pred is not None)
    draw = functools.partial(
        draw_segmentation_masks, num_classes=num_classes,
        color_mapping=color_mapping, alpha=alpha, ignore_index=ignore_index,
        blend=blend, data_format="channels_last")
    drawn = []
    for masks in (y_true, y_pred):
        if masks is None:
            drawn.append(None)
            continue
        masks = to_host(masks)
        if data_format == "channels_first" and masks.ndim == 4:
            masks = np.transpose(masks, (0, 2, 3, 1))
        drawn.append(draw(images, masks.astype("int32")))
    gallery = []
    for i in range(batch_size):
        gallery.append(images[i])
        gallery.extend(d[i] for d in drawn if d is not None)
    return plot_image_gallery(np.stack(gallery, axis=0),
                              value_range=value_range, rows=batch_size,
                              cols=cols, data_format="channels_last",
                              **kwargs)
