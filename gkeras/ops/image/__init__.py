"""`gkeras.ops.image`: image operations (Keras 3's `keras.ops.image`).

All ops run on NumPy and CuPy arrays and gkeras Tensors, record graph
nodes on symbolic `KerasTensor`s, and are differentiable with respect to
the images where Keras's are (the random field of `elastic_transform` and
the homography of `perspective_transform` are not differentiated).
"""

from gkeras.ops.image.color import (  # noqa: F401
    hsv_to_rgb, rgb_to_grayscale, rgb_to_hsv,
)
from gkeras.ops.image.filters import (  # noqa: F401
    gaussian_blur, sobel_edges, ssim,
)
from gkeras.ops.image.patches import (  # noqa: F401
    crop_images, extract_patches, extract_patches_3d, pad_images,
)
from gkeras.ops.image.resize import resize, scale_and_translate  # noqa
from gkeras.ops.image.warp import (  # noqa: F401
    affine_transform, elastic_transform, map_coordinates,
    perspective_transform,
)

__all__ = [
    "affine_transform", "crop_images", "elastic_transform",
    "extract_patches", "extract_patches_3d", "gaussian_blur", "hsv_to_rgb",
    "map_coordinates", "pad_images", "perspective_transform", "resize",
    "rgb_to_grayscale", "rgb_to_hsv", "scale_and_translate", "sobel_edges",
    "ssim",
]
