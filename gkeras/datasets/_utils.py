"""Helpers shared by the dataset loaders (not public API).

The IMDB and Reuters `.npz` files hold ragged sequences as object arrays,
and the CIFAR batches are Python pickles; both need unpickling. They are
read with an unpickler that only rebuilds NumPy arrays, so a tampered file
cannot run code through a pickle `__reduce__` gadget.
"""

import io
import pickle
import zipfile

import numpy as np

# Tensorflow's public bucket that Keras downloads its datasets from.
KERAS_DATASETS_FOLDER = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
)

_ALLOWED_PICKLE_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),
    }
)


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that only resolves the globals NumPy arrays need."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"Refusing to deserialize `{module}.{name}` while loading a "
            "dataset: only NumPy arrays are allowed. The file may be "
            "corrupted or malicious; delete it from the cache and retry.")


def load_pickle(path, encoding="bytes"):
    """Loads a pickle file that holds only NumPy arrays and Python builtins."""
    with open(path, "rb") as f:
        return RestrictedUnpickler(f, encoding=encoding).load()


def _load_npy_member(fp):
    try:
        return np.lib.format.read_array(fp, allow_pickle=False)
    except ValueError:
        # Object array: skip the header and unpickle with restrictions.
        fp.seek(0)
        version = np.lib.format.read_magic(fp)
        if version[0] == 1:
            np.lib.format.read_array_header_1_0(fp)
        elif version[0] in (2, 3):
            np.lib.format.read_array_header_2_0(fp)
        else:
            raise ValueError(f"Unsupported `.npy` format version {version}.")
        return RestrictedUnpickler(fp, encoding="latin1").load()


def load_npz(path):
    """Loads every array of an `.npz` file into a dict, unpickling safely."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            with archive.open(info) as raw:
                buffer = io.BytesIO(raw.read())
            arrays[info.filename[: -len(".npy")]] = _load_npy_member(buffer)
    return arrays


def require_keys(arrays, keys, path):
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise ValueError(
            f"The file {path} lacks the arrays {missing} (found "
            f"{sorted(arrays)}). It is not the expected dataset file; "
            "delete it and load again.")


def check_test_split(test_split):
    if not isinstance(test_split, (int, float, np.integer, np.floating)) or \
            isinstance(test_split, bool) or not 0 <= test_split < 1:
        raise ValueError(
            "`test_split` must be a float in [0, 1) (the fraction of the "
            f"data kept for testing). Received: test_split={test_split!r}")


def shuffle_and_split(x, y, test_split, seed):
    """Shuffles with `np.random.RandomState(seed)`, then puts the first
    `int(len(x) * (1 - test_split))` samples in the training set."""
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x))
    rng.shuffle(indices)
    x = x[indices]
    y = y[indices]
    n_train = int(len(x) * (1 - test_split))
    return (np.array(x[:n_train]), np.array(y[:n_train])), (
        np.array(x[n_train:]), np.array(y[n_train:]))


def remove_long_seq(maxlen, seq, label):
    """Keeps the sequences shorter than `maxlen` (strictly, as Keras)."""
    new_seq, new_label = [], []
    for x, y in zip(seq, label):
        if len(x) < maxlen:
            new_seq.append(x)
            new_label.append(y)
    return new_seq, new_label


def object_array(sequences):
    """A 1-D object array of lists, even when all lists have one length."""
    out = np.empty(len(sequences), dtype=object)
    for i, s in enumerate(sequences):
        out[i] = s
    return out


def encode_sequences(xs, labels, maxlen, start_char, index_from):
    """The word-index transformation shared by IMDB and Reuters."""
    if start_char is not None:
        xs = [[start_char] + [int(w) + index_from for w in x] for x in xs]
    elif index_from:
        xs = [[int(w) + index_from for w in x] for x in xs]
    else:
        xs = [[int(w) for w in x] for x in xs]
    if maxlen:
        xs, labels = remove_long_seq(maxlen, xs, labels)
    return xs, labels


def filter_words(xs, num_words, skip_top, oov_char):
    if not num_words:
        num_words = max(max(x) for x in xs if len(x)) if any(
            len(x) for x in xs) else 0
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x]
                for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]
