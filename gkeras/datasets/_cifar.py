"""Reading the CIFAR-10/100 python pickle batches (not public API)."""

import os

import numpy as np

from gkeras.datasets._utils import load_pickle


def load_batch(fpath, label_key="labels"):
    """Reads one CIFAR batch file.

    Args:
        fpath: Path of the pickled batch.
        label_key: Key of the labels in the batch dictionary (`"labels"`
            for CIFAR-10, `"fine_labels"`/`"coarse_labels"` for CIFAR-100).

    Returns:
        A tuple `(data, labels)`: `data` uint8 of shape `(n, 3, 32, 32)`,
        `labels` a list or array of ints.
    """
    d = load_pickle(fpath, encoding="bytes")
    d = {(k.decode("utf8") if isinstance(k, bytes) else k): v
         for k, v in d.items()}
    if "data" not in d or label_key not in d:
        raise ValueError(
            f"The CIFAR batch {fpath} lacks the keys 'data' and "
            f"{label_key!r} (found {sorted(d)}). The cached archive is not "
            "the expected dataset; delete it and load again.")
    data = np.asarray(d["data"], dtype=np.uint8)
    data = data.reshape(data.shape[0], 3, 32, 32)
    return data, d[label_key]


def find_folder(extraction_dir, name, marker):
    """The folder holding `marker`: `extraction_dir/name` as the archive
    lays it out, or `extraction_dir` itself."""
    candidate = os.path.join(extraction_dir, name)
    if os.path.exists(os.path.join(candidate, marker)):
        return candidate
    if os.path.exists(os.path.join(extraction_dir, marker)):
        return extraction_dir
    raise FileNotFoundError(
        f"Could not find {marker!r} in {candidate} after extracting the "
        "CIFAR archive. Delete the folder (and the archive beside it) and "
        "load again.")


def to_data_format(x):
    """channels_last unless gkeras is configured for channels_first."""
    try:
        from gkeras.backend.config import image_data_format
        data_format = image_data_format()
    except ImportError:
        data_format = "channels_last"
    if data_format == "channels_last":
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    return x
