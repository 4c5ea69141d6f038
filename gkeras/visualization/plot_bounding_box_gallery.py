"""`plot_bounding_box_gallery`: a grid of images with true and predicted
boxes."""

import functools

import numpy as np

from gkeras.backend.config import image_data_format
from gkeras.visualization._utils import check_batched, to_host
from gkeras.visualization.draw_bounding_boxes import draw_bounding_boxes
from gkeras.visualization.plot_image_gallery import plot_image_gallery


def plot_bounding_box_gallery(images, bounding_box_format, y_true=None,
                              y_pred=None, value_range=(0, 255),
                              true_color=(0, 188, 212),
                              pred_color=(255, 235, 59), line_thickness=2,
                              font_scale=1.0, text_thickness=None,
                              class_mapping=None, ground_truth_mapping=None,
                              prediction_mapping=None, legend=False,
                              legend_handles=None, rows=None, cols=None,
                              data_format=None, **kwargs):
    """Plots a gallery of images with their bounding boxes drawn.

    Args:
        images: `(batch, height, width, channels)` images.
        bounding_box_format: the boxes' format (see `draw_bounding_boxes`).
        y_true, y_pred: dicts of `"boxes"`, `"labels"` (and
            `"confidences"`) drawn in `true_color` / `pred_color`.
        value_range: the images' value range.
        true_color, pred_color: RGB colors.
        line_thickness, font_scale, text_thickness: drawing sizes.
        class_mapping: dict class id -> name for both;
            `ground_truth_mapping` / `prediction_mapping` override it.
        legend: add a Ground Truth / Prediction legend.
        legend_handles: custom legend handles (not with `legend`).
        rows, cols: grid size.
        data_format: `"channels_last"` or `"channels_first"`.
        **kwargs: passed to `plot_image_gallery` (`path`, `show`, ...).
    """
    try:
        from matplotlib import patches
    except ImportError:
        raise ImportError(
            "The `plot_bounding_box_gallery` function requires the "
            "`matplotlib` package. Please install it with `pip install "
            "matplotlib`.") from None
    prediction_mapping = prediction_mapping or class_mapping
    ground_truth_mapping = ground_truth_mapping or class_mapping
    data_format = data_format or image_data_format()
    images = to_host(images)
    check_batched(images)
    if data_format == "channels_first":
        images = np.transpose(images, (0, 2, 3, 1))
    draw = functools.partial(
        draw_bounding_boxes, bounding_box_format=bounding_box_format,
        line_thickness=line_thickness, text_thickness=text_thickness,
        font_scale=font_scale, data_format="channels_last")
    plotted = images
    if y_true is not None:
        plotted = draw(plotted, y_true, color=true_color,
                       class_mapping=ground_truth_mapping)
    if y_pred is not None:
        plotted = draw(plotted, y_pred, color=pred_color,
                       class_mapping=prediction_mapping)
    if legend:
        if legend_handles:
            raise ValueError(
                "Only pass `legend` OR `legend_handles` to "
                "`gkeras.visualization.plot_bounding_box_gallery()`.")
        legend_handles = [
            patches.Patch(color=np.array(true_color) / 255.0,
                          label="Ground Truth"),
            patches.Patch(color=np.array(pred_color) / 255.0,
                          label="Prediction")]
    return plot_image_gallery(plotted, value_range=value_range,
                              legend_handles=legend_handles, rows=rows,
                              cols=cols, data_format="channels_last",
                              **kwargs)
