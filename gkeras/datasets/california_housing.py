"""California housing price regression dataset."""

from gkeras.datasets._utils import KERAS_DATASETS_FOLDER
from gkeras.datasets._utils import check_test_split
from gkeras.datasets._utils import load_npz
from gkeras.datasets._utils import require_keys
from gkeras.datasets._utils import shuffle_and_split
from gkeras.utils.file_utils import get_file

# Where the file is downloaded from (Keras's own location). Assign another
# folder URL (ending in "/") to use a mirror.
ORIGIN_FOLDER = KERAS_DATASETS_FOLDER
FILE_NAME = "california_housing.npz"
FILE_HASH = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"


def load_data(
    version="large", path="california_housing.npz", test_split=0.2, seed=113
):
    """Loads the California Housing dataset.

    This dataset was obtained from the [StatLib repository](
    https://www.dcc.fc.up.pt/~ltorgo/Regression/cal_housing.html). It is a
    continuous regression dataset with 20,640 samples of 8 features each,
    derived from the 1990 U.S. census, one row per census block group. The
    target is the median house value of the block group, in dollars.

    The 8 input features are: MedInc (median income), HouseAge (median
    house age), AveRooms and AveBedrms (average rooms and bedrooms per
    household), Population, AveOccup (average household members),
    Latitude and Longitude.

    Args:
        version: `"small"` or `"large"`. The small version contains the
            first 600 samples, the large version all 20,640. The small
            version is an approximate replacement for the deprecated
            `boston_housing` dataset.
        path: File name under which to cache the dataset locally
            (relative to `~/.gkeras/datasets`).
        test_split: fraction of the data to reserve as test set, in
            `[0, 1)`.
        seed: Random seed for shuffling the data before computing the test
            split.

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **`x_train`, `x_test`**: float arrays of shape `(num_samples, 8)`.

    **`y_train`, `y_test`**: float arrays of shape `(num_samples,)`: house
      values in dollars (typically between 25,000 and 500,000).

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = (
        gkeras.datasets.california_housing.load_data(version="small"))
    assert x_train.shape == (480, 8)
    ```
    """
    if version not in ("small", "large"):
        raise ValueError(
            "Argument `version` must be one of 'small', 'large'. "
            f"Received: version={version!r}")
    check_test_split(test_split)
    path = get_file(
        path,
        origin=ORIGIN_FOLDER + FILE_NAME,
        file_hash=FILE_HASH,
    )
    f = load_npz(path)
    require_keys(f, ("x", "y"), path)
    x, y = f["x"], f["y"]
    if version == "small":
        x = x[:600]
        y = y[:600]
    return shuffle_and_split(x, y, test_split, seed)
