"""CIFAR10 small images classification dataset."""

import os

import numpy as np

from gkeras.datasets._cifar import find_folder
from gkeras.datasets._cifar import load_batch
from gkeras.datasets._cifar import to_data_format
from gkeras.utils.file_utils import get_file

# Where the archive is downloaded from (Keras's own location). Assign
# another folder URL (ending in "/") to use a mirror.
ORIGIN_FOLDER = "https://www.cs.toronto.edu/~kriz/"
FILE_NAME = "cifar-10-python.tar.gz"
FILE_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


def load_data():
    """Loads the CIFAR10 dataset.

    This is a dataset of 50,000 32x32 color training images and 10,000 test
    images, labeled over 10 categories. See more info at the
    [CIFAR homepage](https://www.cs.toronto.edu/~kriz/cifar.html).

    The classes are:

    | Label | Description |
    |:-----:|-------------|
    |   0   | airplane    |
    |   1   | automobile  |
    |   2   | bird        |
    |   3   | cat         |
    |   4   | deer        |
    |   5   | dog         |
    |   6   | frog        |
    |   7   | horse       |
    |   8   | ship        |
    |   9   | truck       |

    The archive (163 MB) is downloaded once from
    `ORIGIN_FOLDER + "cifar-10-python.tar.gz"`, checked against its sha256
    hash, extracted and cached in `~/.gkeras/datasets/` (or under
    `$GKERAS_HOME`); offline, put the archive there by hand as
    `cifar-10-batches-py_archive`.

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **`x_train`**: `uint8` array of color images of shape
      `(50000, 32, 32, 3)` (channels last, or `(50000, 3, 32, 32)` when
      the image data format is `"channels_first"`), values 0 to 255.

    **`y_train`**: `uint8` array of labels (0-9) of shape `(50000, 1)`.

    **`x_test`**: `uint8` array of shape `(10000, 32, 32, 3)`.

    **`y_test`**: `uint8` array of shape `(10000, 1)`.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = gkeras.datasets.cifar10.load_data()
    assert x_train.shape == (50000, 32, 32, 3)
    assert y_train.shape == (50000, 1)
    ```
    """
    dirname = "cifar-10-batches-py"
    path = get_file(
        fname=dirname,
        origin=ORIGIN_FOLDER + FILE_NAME,
        untar=True,
        file_hash=FILE_HASH,
    )
    path = find_folder(path, dirname, "data_batch_1")

    xs, ys = [], []
    for i in range(1, 6):
        x, y = load_batch(os.path.join(path, f"data_batch_{i}"))
        xs.append(x)
        ys.append(np.asarray(y, dtype=np.uint8))
    x_train = np.concatenate(xs)
    y_train = np.concatenate(ys)
    x_test, y_test = load_batch(os.path.join(path, "test_batch"))
    y_test = np.asarray(y_test, dtype=np.uint8)

    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(y_test, (len(y_test), 1))
    return (to_data_format(x_train), y_train), (to_data_format(x_test), y_test)
