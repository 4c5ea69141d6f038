"""`MaxNumBoundingBoxes`: pads or truncates dense bounding boxes to a
fixed count (Keras 3's layer; images pass through)."""

from gkeras import ops
from gkeras.layers.preprocessing.augmentation.base import BaseAugmentation

__all__ = ["MaxNumBoundingBoxes"]


class MaxNumBoundingBoxes(BaseAugmentation):
    """Ensures a fixed number of bounding boxes per image.

    `inputs["bounding_boxes"]` holds dense `"boxes"` `(batch, n, 4)` and
    `"labels"` `(batch, n)`; both are truncated or padded with
    `fill_value` to `max_number` boxes. Images pass through unchanged.

    Args:
        max_number: the number of boxes to keep.
        fill_value: the padding value of boxes and labels.
        bounding_box_format: the boxes' format (e.g. `"xyxy"`); required
            when bounding boxes are passed, as in Keras.

    Example:
    >>> layer = gkeras.layers.MaxNumBoundingBoxes(
    ...     3, bounding_box_format="xyxy")
    >>> out = layer({"images": np.zeros((1, 4, 4, 3)),
    ...              "bounding_boxes": {"boxes": np.ones((1, 1, 4)),
    ...                                 "labels": np.ones((1, 1))}})
    >>> out["bounding_boxes"]["labels"].numpy()
    array([[ 1., -1., -1.]], dtype=float32)
    """

    def __init__(self, max_number, fill_value=-1, bounding_box_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.max_number = int(max_number)
        self.fill_value = int(fill_value)
        self.bounding_box_format = bounding_box_format

    def _fit(self, x, width):
        n = x.shape[1]
        x = x[:, :self.max_number]
        pad = max(self.max_number - n, 0)
        if pad:
            widths = [(0, 0), (0, pad)] + [(0, 0)] * (len(x.shape) - 2)
            x = ops.pad(x, widths, constant_values=self.fill_value)
        return x

    def call(self, data, training=True):
        if not isinstance(data, dict) or "bounding_boxes" not in data:
            return data["images"] if isinstance(data, dict) else data
        if not self.bounding_box_format:
            raise ValueError(
                "You passed an input with a 'bounding_boxes' key, but you "
                "didn't specify a bounding box format. Pass a "
                "`bounding_box_format` argument to your MaxNumBoundingBoxes "
                "layer, e.g. `bounding_box_format='xyxy'`.")
        boxes = dict(data["bounding_boxes"])
        extra = set(boxes) - {"boxes", "labels"}
        if extra:
            raise KeyError(
                f"There are unsupported keys in `bounding_boxes`: "
                f"{sorted(extra)}. Only `boxes` and `labels` are supported.")
        boxes["boxes"] = self._fit(ops.convert_to_tensor(boxes["boxes"]), 4)
        boxes["labels"] = self._fit(ops.convert_to_tensor(boxes["labels"]),
                                    None)
        return {**data, "bounding_boxes": boxes}

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, dict) and "bounding_boxes" in input_shape:
            bb = dict(input_shape["bounding_boxes"])
            boxes, labels = list(bb["boxes"]), list(bb["labels"])
            boxes[1] = labels[1] = self.max_number
            bb["boxes"], bb["labels"] = boxes, labels
            return {**input_shape, "bounding_boxes": bb}
        return input_shape

    def get_config(self):
        cfg = {**super().get_config(), "max_number": self.max_number}
        if self.bounding_box_format is not None:
            cfg["bounding_box_format"] = self.bounding_box_format
        return cfg
