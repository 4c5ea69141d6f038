"""Checks that an HDF5 file read as a model/weights file holds only its own
data.

HDF5 can make a dataset read its bytes from other files (external
storage, virtual datasets) and a group entry point into another file
(external links): a crafted weights file would then copy any readable
local file into a model's weights. Soft links are refused too, as Keras
3.15 does. The whole tree is checked when the file is opened, before any
value is read. Datasets that declare far more bytes than they store (a
chunked, compressed "shape bomb") are refused before they are allocated.
"""

import math

from gkeras.saving.file_io import ModelFileError, h5py_module, label

# A dataset above this many declared bytes must store at least 1/100th of
# them: Keras and gkeras write weights uncompressed (ratio 1), and real
# compressed weights stay far below 100:1, while a bomb declares gigabytes
# and stores almost nothing.
BOMB_FLOOR_BYTES = 1 << 26  # 64 MiB
MAX_EXPANSION = 100


def _refuse(what, name, filepath):
    raise ModelFileError(
        f"Not allowed: {what} {name!r} in {label(filepath)}. Model and "
        "weights files may only hold their own data; HDF5 external links, "
        "soft links, external storage and virtual datasets are refused "
        "because they would read other files.")


def check_dataset(dataset, name, filepath):
    """Raises `ModelFileError` for a dataset that reads other files or
    declares a size out of proportion with what it stores.

    Returns:
        `(declared bytes, stored bytes)` of the dataset.
    """
    if dataset.external:
        _refuse(f"external dataset (storage in {dataset.external[0][0]!r})",
                name, filepath)
    if dataset.is_virtual:
        _refuse("virtual dataset", name, filepath)
    shape = dataset.shape or ()
    declared = math.prod(shape) * dataset.dtype.itemsize
    stored = dataset.id.get_storage_size()
    _check_expansion(declared, stored, f"dataset {name!r}", filepath)
    return declared, stored


def _check_expansion(declared, stored, what, filepath):
    if declared > BOMB_FLOOR_BYTES and declared > MAX_EXPANSION * stored:
        raise ModelFileError(
            f"Not allowed: {what} in {label(filepath)} declares {declared} "
            f"bytes but stores only {stored}; refusing to load a potential "
            "decompression bomb.")


def check_h5_tree(h5file, filepath=None):
    """Walks every link of an open h5py File and raises `ModelFileError`
    for the first one that is not a plain hard link to a group or a
    self-contained dataset.

    Args:
        h5file: an open h5py File (or Group).
        filepath: the file's path, for the error message.
    """
    h5py = h5py_module()
    problems = []
    totals = [0, 0]

    def visit(name, link):
        if isinstance(link, h5py.ExternalLink):
            problems.append((f"external link (to {link.filename!r})", name))
            return True
        if isinstance(link, h5py.SoftLink):
            problems.append((f"soft link (to {link.path!r})", name))
            return True
        if not isinstance(link, h5py.HardLink):
            problems.append(("link of unknown kind", name))
            return True
        obj = h5file.get(name)
        if isinstance(obj, h5py.Dataset):
            try:
                declared, stored = check_dataset(obj, name, filepath)
                totals[0] += declared
                totals[1] += stored
            except ModelFileError as e:
                problems.append(e)
                return True
        return None

    h5file.visititems_links(visit)
    if problems:
        first = problems[0]
        if isinstance(first, ModelFileError):
            raise first
        _refuse(first[0], first[1], filepath)
    # Many datasets each under the floor must not add up to a bomb.
    _check_expansion(totals[0], totals[1], "the file's datasets together",
                     filepath)
