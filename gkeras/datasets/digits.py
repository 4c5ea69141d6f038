"""UCI handwritten digits (8x8), bundled with gkeras: works offline.

Source: the "Optical Recognition of Handwritten Digits" data set of the UCI
Machine Learning Repository (E. Alpaydin, C. Kaynak, 1998),
https://archive.ics.uci.edu/dataset/80, licensed under Creative Commons
Attribution 4.0 International (CC BY 4.0). The 1,797 images are the copy
that scikit-learn ships (`sklearn/datasets/data/digits.csv.gz`, the UCI
test set), converted unchanged to `data/digits.npz` (arrays `images`,
uint8 `(1797, 8, 8)` with values 0..16, and `labels`, uint8 `(1797,)`).

Citation: Alpaydin, E. & Kaynak, C. (1998). Optical Recognition of
Handwritten Digits [Dataset]. UCI Machine Learning Repository.
https://doi.org/10.24432/C50P49.
"""

import os

import numpy as np

from gkeras.datasets._utils import check_test_split
from gkeras.datasets._utils import shuffle_and_split

DATA_PATH = os.path.join(os.path.dirname(__file__), "data", "digits.npz")
NUM_SAMPLES = 1797


def load_data(test_split=0.2, seed=113):
    """Loads the UCI handwritten digits dataset (bundled, no download).

    1,797 grayscale 8x8 images of the digits 0-9 (about 180 of each),
    whose pixels count the "on" pixels of a 4x4 block of a 32x32 bitmap,
    so they range from 0 to 16 (not 255). A small, offline stand-in for
    MNIST: divide by 16 to scale to [0, 1].

    The split is deterministic: the samples are shuffled with
    `np.random.RandomState(seed)` and the first
    `int(1797 * (1 - test_split))` go to the training set, the rest to the
    test set (with the defaults, 1,437 training and 360 test images), the
    same recipe as `boston_housing.load_data`.

    Args:
        test_split: Fraction of the data to reserve as test set, in
            `[0, 1)`. Defaults to `0.2`.
        seed: Random seed for shuffling before the split. Defaults to `113`.

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **`x_train`, `x_test`**: `uint8` arrays of shape `(num_samples, 8, 8)`,
      values 0 to 16.

    **`y_train`, `y_test`**: `uint8` arrays of digit labels (0-9) of shape
      `(num_samples,)`.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = gkeras.datasets.digits.load_data()
    assert x_train.shape == (1437, 8, 8)
    assert x_test.shape == (360, 8, 8)
    x_train = x_train.astype("float32") / 16.0
    ```

    License: CC BY 4.0, UCI Machine Learning Repository (see the module
    docstring for the citation).
    """
    check_test_split(test_split)
    with np.load(DATA_PATH, allow_pickle=False) as f:
        images, labels = f["images"], f["labels"]
    return shuffle_and_split(images, labels, test_split, seed)
