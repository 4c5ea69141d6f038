"""Reuters topic classification dataset."""

import json

import numpy as np

from gkeras.datasets._utils import KERAS_DATASETS_FOLDER
from gkeras.datasets._utils import check_test_split
from gkeras.datasets._utils import encode_sequences
from gkeras.datasets._utils import filter_words
from gkeras.datasets._utils import load_npz
from gkeras.datasets._utils import object_array
from gkeras.datasets._utils import require_keys
from gkeras.utils.file_utils import get_file

# Where the files are downloaded from (Keras's own location). Assign
# another folder URL (ending in "/") to use a mirror.
ORIGIN_FOLDER = KERAS_DATASETS_FOLDER
FILE_NAME = "reuters.npz"
FILE_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_FILE_NAME = "reuters_word_index.json"
WORD_INDEX_FILE_HASH = "4d44cc38712099c9e383dc6e5f11a921"  # md5

_LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper",
    "housing", "money-supply", "coffee", "sugar", "trade", "reserves",
    "ship", "cotton", "carcass", "crude", "nat-gas", "cpi", "money-fx",
    "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber",
    "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas",
    "silver", "wpi", "hog", "lead",
)


def load_data(
    path="reuters.npz",
    num_words=None,
    skip_top=0,
    maxlen=None,
    test_split=0.2,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
):
    """Loads the Reuters newswire classification dataset.

    This is a dataset of 11,228 newswires from Reuters, labeled over 46
    topics. Each newswire is encoded as a list of word indexes (integers),
    words indexed by overall frequency in the dataset. As a convention, "0"
    does not stand for a specific word, but is used to encode any unknown
    word.

    The samples are shuffled with `np.random.RandomState(seed)`, then the
    first `int(len * (1 - test_split))` form the training set, as Keras
    does.

    Args:
        path: File name under which to cache the data (relative to
            `~/.gkeras/datasets`).
        num_words: integer or None. Only the `num_words` most frequent
            words are kept; others appear as `oov_char`. Defaults to `None`
            (all words).
        skip_top: skip the top N most frequent words; they appear as
            `oov_char`. Defaults to `0`.
        maxlen: int or None. Sequences of `maxlen` words or more (start
            character included) are dropped, as in Keras. Defaults to
            `None`.
        test_split: Float in `[0, 1)`: fraction of the dataset used as test
            data. Defaults to `0.2`.
        seed: int. Seed for reproducible data shuffling.
        start_char: int. The start of a sequence is marked with this
            character. Defaults to `1`.
        oov_char: int. The out-of-vocabulary character. `None` drops the
            cut words instead.
        index_from: int. Index actual words with this index and higher.

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **`x_train`, `x_test`**: 1-D object arrays of sequences (lists of
      integer word indexes).

    **`y_train`, `y_test`**: integer topic labels (0-45).

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = gkeras.datasets.reuters.load_data(
        num_words=10000, test_split=0.2)
    names = gkeras.datasets.reuters.get_label_names()
    ```
    """
    check_test_split(test_split)
    path = get_file(
        fname=path,
        origin=ORIGIN_FOLDER + FILE_NAME,
        file_hash=FILE_HASH,
    )
    f = load_npz(path)
    require_keys(f, ("x", "y"), path)
    xs, labels = f["x"], f["y"]

    rng = np.random.RandomState(seed)
    indices = np.arange(len(xs))
    rng.shuffle(indices)
    xs = xs[indices]
    labels = labels[indices]

    xs, labels = encode_sequences(xs, labels, maxlen, start_char, index_from)
    if maxlen and not xs:
        raise ValueError(
            f"After filtering for sequences shorter than maxlen={maxlen}, "
            "no sequence was kept. Increase `maxlen`.")
    xs = filter_words(xs, num_words, skip_top, oov_char)
    labels = np.asarray(labels)

    idx = int(len(xs) * (1 - test_split))
    x_train, y_train = object_array(xs[:idx]), np.array(labels[:idx])
    x_test, y_test = object_array(xs[idx:]), np.array(labels[idx:])
    return (x_train, y_train), (x_test, y_test)


def get_word_index(path="reuters_word_index.json"):
    """Retrieves a dict mapping words to their index in the Reuters dataset.

    Actual word indices start from 3, with 3 indices reserved for:
    0 (padding), 1 (start), 2 (oov). E.g. the word index of 'the' is 1, but
    in the training data 'the' is 1 + 3 = 4.

    Args:
        path: File name under which to cache the data (relative to
            `~/.gkeras/datasets`).

    Returns:
        The word index dictionary. Keys are word strings, values are their
        index.

    Example:

    ```python
    word_index = gkeras.datasets.reuters.get_word_index()
    inverted = {i + 3: w for w, i in word_index.items()}
    ```
    """
    path = get_file(
        path,
        origin=ORIGIN_FOLDER + WORD_INDEX_FILE_NAME,
        file_hash=WORD_INDEX_FILE_HASH,
    )
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def get_label_names():
    """Returns the 46 topic names, indexed like the labels of `load_data`.

    Returns:
        A tuple of strings.

    Example:

    >>> gkeras.datasets.reuters.get_label_names()[3]
    'earn'
    """
    return _LABEL_NAMES
