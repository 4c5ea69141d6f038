"""MNIST handwritten digits dataset."""

from gkeras.datasets._utils import KERAS_DATASETS_FOLDER
from gkeras.datasets._utils import load_npz
from gkeras.datasets._utils import require_keys
from gkeras.utils.file_utils import get_file

# Where the file is downloaded from (Keras's own location). Assign another
# folder URL (ending in "/") to use a mirror.
ORIGIN_FOLDER = KERAS_DATASETS_FOLDER
FILE_NAME = "mnist.npz"
FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path="mnist.npz"):
    """Loads the MNIST dataset.

    This is a dataset of 60,000 28x28 grayscale images of the 10 digits,
    along with a test set of 10,000 images. More info can be found at the
    [MNIST homepage](http://yann.lecun.com/exdb/mnist/).

    The file (11 MB) is downloaded once from
    `ORIGIN_FOLDER + "mnist.npz"`, checked against its sha256 hash and
    cached in `~/.gkeras/datasets/` (or `$GKERAS_HOME/datasets/`). Offline,
    put `mnist.npz` there by hand.

    Args:
        path: File name under which to cache the dataset locally
            (relative to `~/.gkeras/datasets`).

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **`x_train`**: `uint8` array of grayscale images of shape
      `(60000, 28, 28)`, pixel values 0 to 255.

    **`y_train`**: `uint8` array of digit labels (0-9) of shape `(60000,)`.

    **`x_test`**: `uint8` array of shape `(10000, 28, 28)`.

    **`y_test`**: `uint8` array of shape `(10000,)`.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = gkeras.datasets.mnist.load_data()
    assert x_train.shape == (60000, 28, 28)
    assert y_test.shape == (10000,)
    ```

    License: Yann LeCun and Corinna Cortes hold the copyright of MNIST,
    a derivative work of the NIST datasets, made available under the
    [Creative Commons Attribution-Share Alike 3.0 license](
    https://creativecommons.org/licenses/by-sa/3.0/).
    """
    path = get_file(
        fname=path,
        origin=ORIGIN_FOLDER + FILE_NAME,
        file_hash=FILE_HASH,
    )
    f = load_npz(path)
    require_keys(f, ("x_train", "y_train", "x_test", "y_test"), path)
    return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
