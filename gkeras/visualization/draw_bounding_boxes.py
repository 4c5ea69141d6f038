"""`draw_bounding_boxes`: draws labelled boxes on images (with OpenCV, as
Keras does)."""

import numpy as np

from gkeras.backend.config import image_data_format
from gkeras.visualization._utils import boxes_to_xyxy, check_batched, \
    to_host


def _cv2():
    try:
        import cv2
    except ImportError:
        raise ImportError(
            "The `draw_bounding_boxes` function requires the `cv2` package "
            "(OpenCV). Please install it with `pip install "
            "opencv-python-headless`.") from None
    return cv2


def draw_bounding_boxes(images, bounding_boxes, bounding_box_format,
                        class_mapping=None, color=(128, 128, 128),
                        line_thickness=2, text_thickness=1, font_scale=1.0,
                        data_format=None):
    """Draws bounding boxes (and class labels) on a batch of images.

    Args:
        images: `(batch, height, width, channels)` images; floats in [0, 1]
            are scaled to [0, 255].
        bounding_boxes: dict with `"boxes"` `(batch, num_boxes, 4)`,
            `"labels"` `(batch, num_boxes)` (-1 marks padding) and
            optionally `"confidences"` `(batch, num_boxes)`.
        bounding_box_format: `"xyxy"`, `"yxyx"`, `"xywh"`, `"center_xywh"`,
            `"center_yxhw"` or their `"rel_"` variants.
        class_mapping: dict class id -> label text drawn by the box.
        color: RGB color of boxes and text.
        line_thickness: box line thickness in pixels.
        text_thickness: text thickness (`line_thickness` when falsy).
        font_scale: text size.
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        A `uint8` NumPy array of the annotated images, shaped like
        `images` (channels last).

    Raises:
        ImportError: without OpenCV (`cv2`).
    """
    cv2 = _cv2()
    class_mapping = class_mapping or {}
    text_thickness = text_thickness or line_thickness
    data_format = data_format or image_data_format()
    images = to_host(images)
    check_batched(images)
    if not isinstance(bounding_boxes, dict):
        raise TypeError("`bounding_boxes` should be a dict. Received: "
                        f"bounding_boxes of type {type(bounding_boxes)}")
    if "boxes" not in bounding_boxes or "labels" not in bounding_boxes:
        raise ValueError("`bounding_boxes` should be a dict containing "
                         "'boxes' and 'labels' keys. Received keys: "
                         f"{sorted(bounding_boxes)}")
    h_axis, w_axis = (1, 2) if data_format == "channels_last" else (2, 3)
    height, width = images.shape[h_axis], images.shape[w_axis]
    if data_format == "channels_first":
        images = np.transpose(images, (0, 2, 3, 1))
    boxes = boxes_to_xyxy(to_host(bounding_boxes["boxes"]),
                          bounding_box_format, height, width)
    labels = to_host(bounding_boxes["labels"])
    confidences = to_host(bounding_boxes["confidences"]) \
        if "confidences" in bounding_boxes else None
    if images.dtype.kind == "f" and images.size > 0:
        images = np.clip(images, 0, 1) * 255 if images.max() <= 1.0 \
            else np.clip(images, 0, 255)
    images = np.ascontiguousarray(images.astype("uint8"))
    out = []
    for i in range(images.shape[0]):
        image = images[i].copy()
        for j in range(boxes.shape[1]):
            c = int(labels[i][j])
            if c == -1:
                continue
            x1, y1, x2, y2 = (int(v) for v in boxes[i, j].astype("int32"))
            cv2.rectangle(image, (x1, y1), (x2, y2), color, line_thickness)
            if c in class_mapping:
                label = class_mapping[c]
                if confidences is not None:
                    label = f"{label} | {confidences[i][j]:.2f}"
                fx, fy = _find_text_location(x1, y1, font_scale,
                                             text_thickness)
                cv2.putText(img=image, text=label, org=(fx, fy),
                            fontFace=cv2.FONT_HERSHEY_SIMPLEX,
                            fontScale=font_scale, color=color,
                            thickness=text_thickness)
        out.append(image)
    return np.stack(out, axis=0)


def _find_text_location(x, y, font_scale, thickness):
    font_height = int(font_scale * 12)
    if y - 8 - 2 * font_height > 0:
        return x, y - 8
    return x + 3, y + 2 * font_height + thickness + 3
