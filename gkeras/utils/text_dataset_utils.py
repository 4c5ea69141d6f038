"""`text_dataset_from_directory`: batches of strings from class folders."""

import numpy as np

from gkeras.utils.image_dataset_utils import (DirectoryDataset,
                                              check_directory_args,
                                              index_for_dataset, make_subsets)


class TextDirectoryDataset(DirectoryDataset):
    """Batches of `(texts, labels)` read from `.txt` files (see
    `text_dataset_from_directory`); texts are a 1-D object array of str."""

    def __init__(self, file_paths, labels, class_names, label_mode,
                 batch_size, shuffle, seed, max_length, encoding):
        super().__init__(file_paths, labels, class_names, label_mode,
                         batch_size, shuffle, seed)
        self.max_length = max_length
        self.encoding = encoding

    def _load(self, path):
        with open(path, encoding=self.encoding, errors="replace") as f:
            text = f.read()
        if self.max_length is not None:
            text = text[:self.max_length]
        return text

    def _stack(self, samples):
        out = np.empty(len(samples), dtype=object)
        out[:] = samples
        return out


def text_dataset_from_directory(
        directory, labels="inferred", label_mode="int", class_names=None,
        batch_size=32, max_length=None, shuffle=True, seed=None,
        validation_split=None, subset=None, follow_links=False,
        verbose=True, encoding="utf-8"):
    """Generates a dataset of text batches from a directory of class
    sub-folders of `.txt` files (`main/class_a/*.txt`, ...).

    Args:
        directory: the main directory.
        labels: `"inferred"` (from the sub-folder names), None, or a list
            of integer labels, one per file in sorted order.
        label_mode: `"int"`, `"categorical"`, `"binary"` or None.
        class_names: explicit order of the class sub-folders.
        batch_size: batch size, or None for single texts.
        max_length: keep at most this many characters of each text.
        shuffle: shuffle the files (once with `seed`, then every epoch).
        seed: seed for shuffling and the validation split.
        validation_split: fraction of the files kept for validation.
        subset: `"training"`, `"validation"` or `"both"`.
        follow_links: follow symbolic links into sub-folders.
        verbose: print how many files and classes were found.
        encoding: text encoding of the files.

    Returns:
        A `TextDirectoryDataset` (a `PyDataset` yielding `(texts, labels)`,
        with `class_names`), or a pair for `subset="both"`.

    Example:
    >>> train = text_dataset_from_directory("aclImdb/train", batch_size=32,
    ...     validation_split=0.2, subset="training", seed=1337)
    """
    label_mode = check_directory_args(labels, label_mode, validation_split,
                                      subset, shuffle, seed, "text")
    if max_length is not None and (not isinstance(max_length, int)
                                   or max_length <= 0):
        raise ValueError("`max_length` must be a positive integer or None. "
                         f"Received: max_length={max_length!r}")
    if seed is None:
        seed = np.random.randint(1e6)
    paths, labs, class_names = index_for_dataset(
        directory, labels, (".txt",), class_names, shuffle, seed,
        follow_links, label_mode, verbose)

    def make(p, l):
        return TextDirectoryDataset(p, l, class_names, label_mode,
                                    batch_size, shuffle, seed, max_length,
                                    encoding)

    return make_subsets(make, paths, labs, validation_split, subset,
                        verbose)
