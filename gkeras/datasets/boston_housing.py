"""Boston housing price regression dataset."""

from gkeras.datasets._utils import KERAS_DATASETS_FOLDER
from gkeras.datasets._utils import check_test_split
from gkeras.datasets._utils import load_npz
from gkeras.datasets._utils import require_keys
from gkeras.datasets._utils import shuffle_and_split
from gkeras.utils.file_utils import get_file

# Where the file is downloaded from (Keras's own location). Assign another
# folder URL (ending in "/") to use a mirror.
ORIGIN_FOLDER = KERAS_DATASETS_FOLDER
FILE_NAME = "boston_housing.npz"
FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """Loads the Boston Housing dataset.

    This is a dataset taken from the StatLib library which is maintained at
    Carnegie Mellon University.

    **WARNING:** This dataset has an ethical problem: the authors of this
    dataset included a variable, "B", that may appear to assume that racial
    self-segregation influences house prices. As such, we strongly
    discourage the use of this dataset, unless in the context of
    illustrating ethical issues in data science and machine learning.

    Samples contain 13 attributes of houses at different locations around
    the Boston suburbs in the late 1970s. Targets are the median values of
    the houses at a location (in k$).

    Args:
        path: File name under which to cache the dataset locally
            (relative to `~/.gkeras/datasets`).
        test_split: fraction of the data to reserve as test set, in
            `[0, 1)`.
        seed: Random seed for shuffling the data before computing the test
            split.

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **x_train, x_test**: float arrays of shape `(num_samples, 13)`.

    **y_train, y_test**: float arrays of shape `(num_samples,)`: the home
      prices in k$ (typically between 10 and 50).

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = (
        gkeras.datasets.boston_housing.load_data())
    assert x_train.shape == (404, 13)
    ```
    """
    check_test_split(test_split)
    path = get_file(
        path,
        origin=ORIGIN_FOLDER + FILE_NAME,
        file_hash=FILE_HASH,
    )
    f = load_npz(path)
    require_keys(f, ("x", "y"), path)
    return shuffle_and_split(f["x"], f["y"], test_split, seed)
