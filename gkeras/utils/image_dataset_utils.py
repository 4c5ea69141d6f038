"""`image_dataset_from_directory`: batches of images read from class
sub-folders (Keras's directory layout), as a `PyDataset`."""

import math
import os

import numpy as np

from gkeras.backend.config import standardize_data_format
from gkeras.utils import image_utils
from gkeras.utils.py_dataset import PyDataset

__all__ = ["image_dataset_from_directory", "ImageDirectoryDataset"]

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def index_directory(directory, labels, formats, class_names=None,
                    shuffle=True, seed=None, follow_links=False):
    """Lists the files of `directory` and their labels (Keras's rules).

    Returns:
        (file_paths, labels or None, class_names)
    """
    if not os.path.isdir(directory):
        raise ValueError(f"`directory` {directory!r} does not exist or is "
                         "not a directory.")
    if labels == "inferred":
        subdirs = sorted(d for d in os.listdir(directory)
                         if os.path.isdir(os.path.join(directory, d)))
        if class_names is not None:
            if sorted(class_names) != sorted(set(class_names)) or \
                    set(class_names) != set(subdirs):
                raise ValueError(
                    "The `class_names` passed do not match the names of the "
                    f"subdirectories of the target directory. Expected: "
                    f"{subdirs} (or a reordering). Received: "
                    f"class_names={class_names}")
            subdirs = list(class_names)
        class_names = subdirs
        walk_dirs = [os.path.join(directory, d) for d in subdirs]
    else:
        walk_dirs = [directory]
        class_names = class_names or []
    paths, label_ids = [], []
    for ci, d in enumerate(walk_dirs):
        found = []
        for root, _, files in os.walk(d, followlinks=follow_links):
            for fname in files:
                if fname.lower().endswith(formats):
                    found.append(os.path.join(root, fname))
        found.sort()
        paths.extend(found)
        label_ids.extend([ci] * len(found))
    if labels == "inferred":
        out_labels = np.asarray(label_ids, dtype="int32")
    elif labels is None:
        out_labels = None
    else:
        out_labels = np.asarray(labels)
        if len(out_labels) != len(paths):
            raise ValueError(
                "Expected the lengths of `labels` to match the number of "
                f"files in the target directory. len(labels) is "
                f"{len(out_labels)} while we found {len(paths)} files in "
                f"directory {directory!r}.")
    paths = np.asarray(paths, dtype=object)
    if shuffle:
        rng = np.random.RandomState(
            np.random.randint(1e6) if seed is None else seed)
        order = rng.permutation(len(paths))
        paths = paths[order]
        if out_labels is not None:
            out_labels = out_labels[order]
    return list(paths), out_labels, class_names


def _split(paths, labels, validation_split, subset):
    n_val = int(validation_split * len(paths))
    if subset == "training":
        sl = slice(0, len(paths) - n_val)
    else:
        sl = slice(len(paths) - n_val, None)
    return paths[sl], None if labels is None else labels[sl]


class DirectoryDataset(PyDataset):
    """Batches of `(samples, labels)` read from the files of a directory of
    class sub-folders; subclasses say how one file is read (`_load`) and
    how samples are stacked (`_stack`).

    Attributes:
        class_names: the class names, in label order.
        file_paths: the files, in the (shuffled) order used.
    """

    def __init__(self, file_paths, labels, class_names, label_mode,
                 batch_size, shuffle, seed):
        super().__init__()
        self.file_paths = list(file_paths)
        self.labels = labels
        self.class_names = class_names
        self.label_mode = label_mode
        self.batch_size = batch_size
        self.shuffle = shuffle
        self._order = np.arange(len(self.file_paths))
        self._rng = np.random.RandomState(seed)

    def __len__(self):
        if self.batch_size is None:
            return len(self.file_paths)
        return math.ceil(len(self.file_paths) / self.batch_size)

    def on_epoch_end(self):
        if self.shuffle:
            self._order = self._rng.permutation(len(self.file_paths))

    def _load(self, path):
        raise NotImplementedError

    def _stack(self, samples):
        return np.stack(samples)

    def _labels(self, idx):
        y = self.labels[idx]
        if self.label_mode == "int":
            return y.astype("int32")
        if self.label_mode == "binary":
            return y.astype("float32").reshape(-1, 1)
        if self.label_mode == "categorical":
            return np.eye(len(self.class_names), dtype="float32")[y]
        return None

    def __getitem__(self, index):
        if self.batch_size is None:
            idx = self._order[index:index + 1]
        else:
            idx = self._order[index * self.batch_size:
                              (index + 1) * self.batch_size]
        x = self._stack([self._load(self.file_paths[i]) for i in idx])
        y = None if self.labels is None or self.label_mode is None \
            else self._labels(idx)
        if self.batch_size is None:
            x = x[0]
            y = None if y is None else y[0]
        return x if y is None else (x, y)


class ImageDirectoryDataset(DirectoryDataset):
    """Batches of `(images, labels)` read from image files (see
    `image_dataset_from_directory`)."""

    def __init__(self, file_paths, labels, class_names, label_mode,
                 color_mode, batch_size, image_size, shuffle, seed,
                 interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio,
                 data_format):
        super().__init__(file_paths, labels, class_names, label_mode,
                         batch_size, shuffle, seed)
        self.color_mode = color_mode
        self.image_size = tuple(image_size)
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.data_format = data_format

    def _load(self, path):
        img = image_utils.load_img(path, color_mode=self.color_mode)
        x = image_utils.img_to_array(img, data_format="channels_last")
        h, w = self.image_size
        if self.crop_to_aspect_ratio:
            x = image_utils.smart_resize(x, (h, w), self.interpolation)
        elif self.pad_to_aspect_ratio:
            ih, iw = x.shape[:2]
            th = max(ih, int(iw * h / w))
            tw = max(iw, int(ih * w / h))
            padded = np.zeros((th, tw, x.shape[2]), x.dtype)
            y0, x0 = (th - ih) // 2, (tw - iw) // 2
            padded[y0:y0 + ih, x0:x0 + iw] = x
            x = image_utils._resize_array(padded, (h, w), self.interpolation)
        elif x.shape[:2] != (h, w):
            x = image_utils._resize_array(x, (h, w), self.interpolation)
        if self.data_format == "channels_first":
            x = x.transpose(2, 0, 1)
        return x.astype("float32")


def image_dataset_from_directory(
        directory, labels="inferred", label_mode="int", class_names=None,
        color_mode="rgb", batch_size=32, image_size=(256, 256), shuffle=True,
        seed=None, validation_split=None, subset=None,
        interpolation="bilinear", follow_links=False,
        crop_to_aspect_ratio=False, pad_to_aspect_ratio=False,
        data_format=None, verbose=True):
    """Generates a dataset of image batches from a directory of class
    sub-folders (`main/class_a/*.jpg`, `main/class_b/*.jpg`).

    Args:
        directory: the main directory.
        labels: `"inferred"` (from the sub-folder names), None (no labels),
            or a list of integer labels, one per file in sorted order.
        label_mode: `"int"`, `"categorical"` (one-hot), `"binary"` (float
            0/1, two classes only) or None.
        class_names: explicit order of the class sub-folders.
        color_mode: `"grayscale"`, `"rgb"` or `"rgba"`.
        batch_size: batch size, or None for single images.
        image_size: `(height, width)` images are resized to.
        shuffle: shuffle the files (once with `seed`, then every epoch).
        seed: seed for shuffling and the validation split.
        validation_split: fraction of the files kept for validation.
        subset: `"training"`, `"validation"` or `"both"` (with
            `validation_split`).
        interpolation: resize method (`"bilinear"`, `"nearest"`,
            `"bicubic"`, `"lanczos"`, ...).
        follow_links: follow symbolic links into sub-folders.
        crop_to_aspect_ratio: crop the centre to the target aspect ratio
            before resizing.
        pad_to_aspect_ratio: pad to the target aspect ratio before
            resizing.
        data_format: image data format of the batches.
        verbose: print how many files and classes were found.

    Returns:
        An `ImageDirectoryDataset` (a `PyDataset` yielding `(images,
        labels)`, with `class_names`), or a pair of them for
        `subset="both"`.

    Example:
    >>> train = image_dataset_from_directory("photos", image_size=(64, 64),
    ...     validation_split=0.2, subset="training", seed=1)
    >>> model.fit(train, epochs=3)
    """
    image_utils.require_pil()
    label_mode = check_directory_args(labels, label_mode, validation_split,
                                      subset, shuffle, seed, "image")
    if color_mode not in ("rgb", "rgba", "grayscale"):
        raise ValueError('`color_mode` must be one of {"rgb", "rgba", '
                         f'"grayscale"}}. Received: color_mode={color_mode!r}')
    data_format = standardize_data_format(data_format)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, labs, class_names = index_for_dataset(
        directory, labels, ALLOWLIST_FORMATS, class_names, shuffle, seed,
        follow_links, label_mode, verbose)

    def make(p, l):
        return ImageDirectoryDataset(
            p, l, class_names, label_mode, color_mode, batch_size,
            image_size, shuffle, seed, interpolation, crop_to_aspect_ratio,
            pad_to_aspect_ratio, data_format)

    return make_subsets(make, paths, labs, validation_split, subset,
                        verbose)


def check_directory_args(labels, label_mode, validation_split, subset,
                         shuffle, seed, kind):
    """The argument checks shared by `image_dataset_from_directory` and
    `text_dataset_from_directory`; returns the effective `label_mode`."""
    if labels not in ("inferred", None) and not isinstance(
            labels, (list, tuple, np.ndarray)):
        raise ValueError(
            "`labels` argument should be a list/tuple of integer labels, of "
            f"the same size as the number of {kind} files in the target "
            "directory. If you wish to infer the labels from the "
            "subdirectory names in the target directory, pass "
            f'`labels="inferred"`. Received: labels={labels!r}')
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(
            '`label_mode` argument must be one of "int", "categorical", '
            f'"binary", or None. Received: label_mode={label_mode!r}')
    if labels is None:
        label_mode = None
    if validation_split is not None:
        if not 0 < validation_split < 1:
            raise ValueError("`validation_split` must be between 0 and 1, "
                             f"received: {validation_split}")
        if subset not in ("training", "validation", "both"):
            raise ValueError(
                "If `validation_split` is set, `subset` must be one of "
                f'"training", "validation", "both". Received: {subset!r}')
        if shuffle and seed is None:
            raise ValueError(
                "If using `validation_split` and shuffling the data, you "
                "must provide a `seed` argument, to make sure that there is "
                "no overlap between the training and validation subset.")
    elif subset is not None:
        raise ValueError("`subset` is only valid with `validation_split`.")
    return label_mode


def index_for_dataset(directory, labels, formats, class_names, shuffle, seed,
                      follow_links, label_mode, verbose):
    """`index_directory` plus the binary-label check and the Keras
    "Found N files" message."""
    paths, labs, class_names = index_directory(
        directory, labels, formats, class_names=class_names,
        shuffle=shuffle, seed=seed, follow_links=follow_links)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(
            'When passing `label_mode="binary"`, there must be exactly 2 '
            f"class_names. Received: class_names={class_names}")
    if verbose:
        print(f"Found {len(paths)} files belonging to {len(class_names)} "
              "classes.")
    return paths, labs, class_names


def make_subsets(make, paths, labels, validation_split, subset, verbose):
    """One dataset, or the training/validation subset(s) asked for."""
    if validation_split is None:
        return make(paths, labels)
    parts = {s: _split(paths, labels, validation_split, s)
             for s in ("training", "validation")}
    if verbose:
        for s in ("training", "validation"):
            if subset in (s, "both"):
                print(f"Using {len(parts[s][0])} files for {s}.")
    if subset == "both":
        return make(*parts["training"]), make(*parts["validation"])
    return make(*parts[subset])
