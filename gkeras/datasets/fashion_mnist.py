"""Fashion-MNIST dataset."""

import gzip
import os

import numpy as np

from gkeras.datasets._utils import KERAS_DATASETS_FOLDER
from gkeras.utils.file_utils import get_file

# Where the files are downloaded from (Keras's own location). Assign
# another folder URL (ending in "/") to use a mirror.
ORIGIN_FOLDER = KERAS_DATASETS_FOLDER
# SHA-256 of each file.
FILE_HASHES = {
    "train-labels-idx1-ubyte.gz": (
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"
    ),
    "train-images-idx3-ubyte.gz": (
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"
    ),
}
FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)


def _read_idx(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset).copy()


def load_data():
    """Loads the Fashion-MNIST dataset.

    This is a dataset of 60,000 28x28 grayscale images of 10 fashion
    categories, along with a test set of 10,000 images. It can be used as
    a drop-in replacement for MNIST.

    The classes are:

    | Label | Description |
    |:-----:|-------------|
    |   0   | T-shirt/top |
    |   1   | Trouser     |
    |   2   | Pullover    |
    |   3   | Dress       |
    |   4   | Coat        |
    |   5   | Sandal      |
    |   6   | Shirt       |
    |   7   | Sneaker     |
    |   8   | Bag         |
    |   9   | Ankle boot  |

    The four gzipped IDX files are downloaded once from `ORIGIN_FOLDER`,
    checked against their sha256 hashes and cached in
    `~/.gkeras/datasets/fashion-mnist/` (or under `$GKERAS_HOME`).

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **`x_train`**: `uint8` array of shape `(60000, 28, 28)`.

    **`y_train`**: `uint8` array of labels (0-9) of shape `(60000,)`.

    **`x_test`**: `uint8` array of shape `(10000, 28, 28)`.

    **`y_test`**: `uint8` array of shape `(10000,)`.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = (
        gkeras.datasets.fashion_mnist.load_data())
    assert x_train.shape == (60000, 28, 28)
    ```

    License: the copyright for Fashion-MNIST is held by Zalando SE.
    Fashion-MNIST is licensed under the [MIT license](
    https://github.com/zalandoresearch/fashion-mnist/blob/master/LICENSE).
    """
    dirname = os.path.join("datasets", "fashion-mnist")
    paths = [
        get_file(
            fname,
            origin=ORIGIN_FOLDER + fname,
            cache_subdir=dirname,
            file_hash=FILE_HASHES[fname],
        )
        for fname in FILES
    ]
    y_train = _read_idx(paths[0], 8)
    x_train = _read_idx(paths[1], 16).reshape(len(y_train), 28, 28)
    y_test = _read_idx(paths[2], 8)
    x_test = _read_idx(paths[3], 16).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)
