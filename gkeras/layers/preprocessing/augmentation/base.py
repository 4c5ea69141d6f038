"""The base of Keras 3's image augmentation layers (`AutoContrast`,
`MixUp`, `RandomHue`, ...): input handling, factors, value ranges.

A layer draws its random parameters on the host (a few numbers per image,
from its `SeedGenerator`), then transforms the images with gkeras ops, so
the pixel work runs on the device of the images (NumPy or CuPy) and a
seeded layer gives the same result on both. Inputs are an image tensor
(rank 3 or 4) or a dict with `"images"` (and `"labels"`, which the mixing
layers transform); bounding boxes and segmentation masks raise
NotImplementedError.
"""

import numpy as np

from gkeras import ops
from gkeras.backend.config import standardize_data_format
from gkeras.layers.layer import Layer
from gkeras.random import SeedGenerator

__all__ = ["BaseAugmentation", "parse_factor", "parse_value_range",
           "transform_value_range", "saturate_like"]


def _who(layer):
    return f"{type(layer).__name__} layer {layer.name!r}"


def parse_factor(layer, factor, bounds=(-1, 1), name="factor"):
    """Keras's base `_set_factor`: a number `f` becomes `(max(-|f|, lo),
    |f|)`, a pair is sorted; values are checked against `bounds`."""
    err = (f"{_who(layer)}: the `{name}` argument should be a number (or a "
           f"list of two numbers) in the range [{bounds[0]}, {bounds[1]}]. "
           f"Received: {name}={factor!r}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or not all(
                isinstance(v, (int, float, np.number)) for v in factor):
            raise ValueError(err)
        if factor[0] > bounds[1] or factor[1] < bounds[0]:
            raise ValueError(err)
        lower, upper = sorted(float(v) for v in factor)
        return lower, upper
    if isinstance(factor, (int, float, np.number)) and \
            not isinstance(factor, bool):
        if factor < bounds[0] or factor > bounds[1]:
            raise ValueError(err)
        factor = abs(float(factor))
        return max(-factor, bounds[0]), factor
    raise ValueError(err)


def parse_value_range(layer, value_range):
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError(
            f"{_who(layer)}: the `value_range` argument should be a list of "
            f"two numbers. Received: value_range={value_range!r}")
    return sorted(value_range)


def transform_value_range(images, original_range, target_range, dtype):
    """Linearly maps `images` from `original_range` to `target_range`."""
    if original_range[0] == target_range[0] and \
            original_range[1] == target_range[1]:
        return images
    images = ops.cast(images, dtype)
    lo, hi = float(original_range[0]), float(original_range[1])
    tlo, thi = float(target_range[0]), float(target_range[1])
    images = ops.divide(ops.subtract(images, lo), hi - lo)
    return ops.add(ops.multiply(images, thi - tlo), tlo)


def saturate_like(results, dtype):
    """Casts `results` back to an integer `dtype` with rounding and
    saturation (floats pass through)."""
    dtype = np.dtype(dtype)
    if np.dtype(results.dtype) == dtype:
        return results
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        results = ops.clip(ops.round(results), float(info.min),
                           float(info.max))
    return ops.cast(results, dtype)


class BaseAugmentation(Layer):
    """Base class of the Keras 3 image augmentation layers.

    Subclasses implement `get_random_transformation(shape, rng)` (host
    NumPy parameters for a batch of `shape`, channels-last or first as
    `data_format`) and `transform_images(images, transformation)` on a
    rank-4 batch; `transform_labels` for layers that mix labels.

    Args:
        data_format: `"channels_last"` or `"channels_first"`.
        seed: an int seed for the layer's random stream.
        **kwargs: base layer arguments.
    """

    def __init__(self, data_format=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.seed = seed
        self.generator = SeedGenerator(seed)
        self.built = True

    # -- hooks ----------------------------------------------------------
    def get_random_transformation(self, shape, rng):
        return None

    def transform_images(self, images, transformation):
        raise NotImplementedError

    def transform_labels(self, labels, transformation):
        return labels

    def inference_images(self, images):
        return images

    # -- helpers --------------------------------------------------------
    def _rng(self):
        return self.generator.numpy_rng()

    def _hw(self, shape):
        return (shape[1], shape[2]) if self.data_format == \
            "channels_last" else (shape[2], shape[3])

    def _channels(self, shape):
        return shape[-1] if self.data_format == "channels_last" \
            else shape[1]

    def _per_image(self, a):
        """`(batch,)` host values -> a `(batch, 1, 1, 1)` array in the
        compute dtype, broadcastable against the images."""
        return np.asarray(a, self.compute_dtype).reshape(-1, 1, 1, 1)

    def _check_rank(self, x):
        if len(x.shape) not in (3, 4):
            raise ValueError(
                f"{_who(self)}: expected the input image to be rank 3 or 4. "
                f"Received inputs.shape={tuple(x.shape)}")

    # -- call -----------------------------------------------------------
    def call(self, data, training=True):
        labels = None
        if isinstance(data, dict):
            for key in ("bounding_boxes", "segmentation_masks"):
                if key in data:
                    raise NotImplementedError(
                        f"{_who(self)}: `{key}` inputs are not supported "
                        "by gkeras's augmentation layers; pass only "
                        "`images` (and `labels`).")
            images = data["images"]
            labels = data.get("labels")
        else:
            images = data
        self._check_rank(images)
        unbatched = len(images.shape) == 3
        x = ops.expand_dims(images, 0) if unbatched else images
        if training:
            t = self.get_random_transformation(tuple(x.shape), self._rng())
            y = self.transform_images(x, t)
            if labels is not None:
                lab = ops.expand_dims(labels, 0) if unbatched else labels
                lab = self.transform_labels(lab, t)
                labels = ops.squeeze(lab, 0) if unbatched else lab
        else:
            y = self.inference_images(x)
        if unbatched:
            y = ops.squeeze(y, 0)
        if isinstance(data, dict):
            out = dict(data)
            out["images"] = y
            if labels is not None:
                out["labels"] = labels
            return out
        return y

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}
