"""`gkeras.visualization`: drawing boxes and masks on images and plotting
image galleries (Keras 3's `keras.visualization`).

The gallery functions need matplotlib; `draw_bounding_boxes` needs OpenCV
(`cv2`), as in Keras. All of them take NumPy arrays or tensors (CuPy
included: images are brought to the host to be drawn).
"""

from gkeras.visualization.draw_bounding_boxes import \
    draw_bounding_boxes  # noqa: F401
from gkeras.visualization.draw_segmentation_masks import \
    draw_segmentation_masks  # noqa: F401
from gkeras.visualization.plot_bounding_box_gallery import \
    plot_bounding_box_gallery  # noqa: F401
from gkeras.visualization.plot_image_gallery import \
    plot_image_gallery  # noqa: F401
from gkeras.visualization.plot_segmentation_mask_gallery import \
    plot_segmentation_mask_gallery  # noqa: F401

__all__ = ["draw_bounding_boxes", "draw_segmentation_masks",
           "plot_bounding_box_gallery", "plot_image_gallery",
           "plot_segmentation_mask_gallery"]
