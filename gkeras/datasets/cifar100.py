"""CIFAR100 small images classification dataset."""

import os

import numpy as np

from gkeras.datasets._cifar import find_folder
from gkeras.datasets._cifar import load_batch
from gkeras.datasets._cifar import to_data_format
from gkeras.utils.file_utils import get_file

# Where the archive is downloaded from (Keras's own location). Assign
# another folder URL (ending in "/") to use a mirror.
ORIGIN_FOLDER = "https://www.cs.toronto.edu/~kriz/"
FILE_NAME = "cifar-100-python.tar.gz"
FILE_HASH = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"


def load_data(label_mode="fine"):
    """Loads the CIFAR100 dataset.

    This is a dataset of 50,000 32x32 color training images and 10,000 test
    images, labeled over 100 fine-grained classes that are grouped into 20
    coarse-grained classes. See more info at the
    [CIFAR homepage](https://www.cs.toronto.edu/~kriz/cifar.html).

    The archive (161 MB) is downloaded once from
    `ORIGIN_FOLDER + "cifar-100-python.tar.gz"`, checked against its
    sha256 hash, extracted and cached in `~/.gkeras/datasets/` (or under
    `$GKERAS_HOME`).

    Args:
        label_mode: one of `"fine"`, `"coarse"`. If it is `"fine"`, the
            category labels are the fine-grained labels (0-99); if it is
            `"coarse"`, the output labels are the coarse-grained
            superclasses (0-19).

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **`x_train`**: `uint8` array of color images of shape
      `(50000, 32, 32, 3)` (channels last), values 0 to 255.

    **`y_train`**: `int64` array of labels of shape `(50000, 1)` (Keras
      documents uint8 but returns int64; so does gkeras).

    **`x_test`**: `uint8` array of shape `(10000, 32, 32, 3)`.

    **`y_test`**: `int64` array of shape `(10000, 1)`.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = (
        gkeras.datasets.cifar100.load_data(label_mode="coarse"))
    assert x_train.shape == (50000, 32, 32, 3)
    assert y_train.max() == 19
    ```
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(
            '`label_mode` must be one of "fine", "coarse". '
            f"Received: label_mode={label_mode!r}.")

    path = get_file(
        fname="cifar-100-python-target",
        origin=ORIGIN_FOLDER + FILE_NAME,
        extract=True,
        file_hash=FILE_HASH,
    )
    path = find_folder(path, "cifar-100-python", "train")
    label_key = label_mode + "_labels"
    x_train, y_train = load_batch(os.path.join(path, "train"), label_key)
    x_test, y_test = load_batch(os.path.join(path, "test"), label_key)

    # int64, as Keras returns them (the batches hold Python lists).
    y_train = np.asarray(y_train, dtype=np.int64).reshape(-1, 1)
    y_test = np.asarray(y_test, dtype=np.int64).reshape(-1, 1)
    return (to_data_format(x_train), y_train), (to_data_format(x_test), y_test)
