"""`gkeras.preprocessing`: data preprocessing utilities (Keras names).

`gkeras.preprocessing.sequence.pad_sequences` (Keras 2 spelling, also
`gkeras.utils.pad_sequences`) and
`gkeras.preprocessing.timeseries_dataset_from_array`,
`image_dataset_from_directory` and `text_dataset_from_directory` (also in
`gkeras.utils`), and `gkeras.preprocessing.image` (Keras 3's
`array_to_img`, `img_to_array`, `load_img`, `save_img`, `smart_resize`,
with the Keras-2 `ImageDataGenerator` family).
"""

from gkeras.preprocessing import image, sequence  # noqa: F401
from gkeras.utils.dataset_utils import timeseries_dataset_from_array
from gkeras.utils.image_dataset_utils import \
    image_dataset_from_directory  # noqa: F401
from gkeras.utils.text_dataset_utils import \
    text_dataset_from_directory  # noqa: F401

__all__ = ["image", "sequence", "image_dataset_from_directory",
           "text_dataset_from_directory", "timeseries_dataset_from_array"]
