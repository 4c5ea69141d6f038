"""IMDB sentiment classification dataset."""

import json

import numpy as np

from gkeras.datasets._utils import KERAS_DATASETS_FOLDER
from gkeras.datasets._utils import encode_sequences
from gkeras.datasets._utils import filter_words
from gkeras.datasets._utils import load_npz
from gkeras.datasets._utils import object_array
from gkeras.datasets._utils import require_keys
from gkeras.utils.file_utils import get_file

# Where the files are downloaded from (Keras's own location). Assign
# another folder URL (ending in "/") to use a mirror.
ORIGIN_FOLDER = KERAS_DATASETS_FOLDER
FILE_NAME = "imdb.npz"
FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_FILE_NAME = "imdb_word_index.json"
WORD_INDEX_FILE_HASH = "bfafd718b763782e994055a2d397834f"  # md5


def load_data(
    path="imdb.npz",
    num_words=None,
    skip_top=0,
    maxlen=None,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
    **kwargs,
):
    """Loads the [IMDB dataset](https://ai.stanford.edu/~amaas/data/sentiment/).

    This is a dataset of 25,000 movie reviews from IMDB, labeled by
    sentiment (positive/negative). Reviews have been preprocessed, and each
    review is encoded as a list of word indexes (integers). Words are
    indexed by overall frequency in the dataset, so that for instance the
    integer "3" encodes the 3rd most frequent word in the data. This allows
    quick filtering such as "only consider the top 10,000 most common
    words, but eliminate the top 20 most common words".

    As a convention, "0" does not stand for a specific word, but is used to
    encode the pad token.

    The training and test sets are each shuffled with one
    `np.random.RandomState(seed)` (training first), as Keras does.

    Args:
        path: File name under which to cache the data (relative to
            `~/.gkeras/datasets`).
        num_words: integer or None. Only the `num_words` most frequent
            words are kept; any less frequent word appears as `oov_char`.
            If None, all words are kept. Defaults to `None`.
        skip_top: skip the top N most frequent words (which may not be
            informative); they appear as `oov_char`. Defaults to `0`.
        maxlen: int or None. Maximum sequence length: sequences of
            `maxlen` words or more (start character included) are dropped,
            as in Keras. Defaults to `None` (keep all).
        seed: int. Seed for reproducible data shuffling.
        start_char: int. The start of a sequence is marked with this
            character. 0 is usually the padding character. Defaults to `1`.
        oov_char: int. The out-of-vocabulary character: words cut out by
            `num_words` or `skip_top` are replaced with it. `None` drops
            them instead.
        index_from: int. Index actual words with this index and higher.

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **`x_train`, `x_test`**: 1-D object arrays of sequences, which are
      lists of indexes (integers). With `num_words`, the largest index is
      `num_words - 1`; with `maxlen`, the longest sequence is shorter than
      `maxlen`.

    **`y_train`, `y_test`**: integer label arrays (1 or 0).

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = gkeras.datasets.imdb.load_data(
        num_words=10000)
    x_train = gkeras.preprocessing.sequence.pad_sequences(x_train, maxlen=200)
    ```

    **Note**: The 'out of vocabulary' character is only used for words that
    were present in the training set but did not make the `num_words` cut.
    Words seen only in the test set are simply skipped.
    """
    if kwargs:
        raise TypeError(
            f"Unrecognized keyword arguments for `imdb.load_data`: "
            f"{sorted(kwargs)}.")
    path = get_file(
        fname=path,
        origin=ORIGIN_FOLDER + FILE_NAME,
        file_hash=FILE_HASH,
    )
    f = load_npz(path)
    require_keys(f, ("x_train", "y_train", "x_test", "y_test"), path)
    x_train, labels_train = f["x_train"], f["y_train"]
    x_test, labels_test = f["x_test"], f["y_test"]

    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train = x_train[indices]
    labels_train = labels_train[indices]

    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test = x_test[indices]
    labels_test = labels_test[indices]

    x_train, labels_train = encode_sequences(
        x_train, labels_train, maxlen, start_char, index_from)
    x_test, labels_test = encode_sequences(
        x_test, labels_test, maxlen, start_char, index_from)
    if maxlen and (not x_train or not x_test):
        raise ValueError(
            f"After filtering for sequences shorter than maxlen={maxlen}, "
            "no sequence was kept. Increase `maxlen`.")

    xs = x_train + x_test
    labels = np.concatenate([np.asarray(labels_train),
                             np.asarray(labels_test)])
    xs = filter_words(xs, num_words, skip_top, oov_char)

    idx = len(x_train)
    x_train, y_train = object_array(xs[:idx]), labels[:idx]
    x_test, y_test = object_array(xs[idx:]), labels[idx:]
    return (x_train, y_train), (x_test, y_test)


def get_word_index(path="imdb_word_index.json"):
    """Retrieves a dict mapping words to their index in the IMDB dataset.

    Args:
        path: File name under which to cache the data (relative to
            `~/.gkeras/datasets`).

    Returns:
        The word index dictionary. Keys are word strings, values are their
        index (before the `index_from` offset of `load_data`).

    Example:

    ```python
    start_char, oov_char, index_from = 1, 2, 3
    (x_train, _), _ = gkeras.datasets.imdb.load_data(
        start_char=start_char, oov_char=oov_char, index_from=index_from)
    word_index = gkeras.datasets.imdb.get_word_index()
    inverted = {i + index_from: w for w, i in word_index.items()}
    inverted[start_char] = "[START]"
    inverted[oov_char] = "[OOV]"
    text = " ".join(inverted[i] for i in x_train[0])
    ```
    """
    path = get_file(
        fname=path,
        origin=ORIGIN_FOLDER + WORD_INDEX_FILE_NAME,
        file_hash=WORD_INDEX_FILE_HASH,
    )
    with open(path, encoding="utf-8") as f:
        return json.load(f)
