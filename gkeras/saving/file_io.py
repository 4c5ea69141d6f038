"""Crash-safe file writing and clear errors for model files.

Every model or weights file is first written to a hidden temporary file in
the destination folder and then renamed over the destination with
`os.replace`, which is atomic on POSIX and Windows: a save interrupted at
any point (an exception, `SIGKILL`, a full disk) leaves the previous file
untouched, and a reader never sees a half-written file.
"""

import contextlib
import os
import tempfile

# The Keras release whose file layouts gkeras writes; Keras reads the
# `keras_version` attribute to decide on legacy conversions.
KERAS_VERSION = "3.15.1"
BACKEND_NAME = "gkeras"


class ModelFileError(ValueError):
    """A model/weights file that is corrupt, truncated or not a Keras file.

    Subclasses `ValueError`, which Keras raises in the same situations.
    """


def h5py_module():
    """Imports h5py on first use (keeps `import gkeras` light)."""
    try:
        import h5py
    except ImportError:
        raise ImportError(
            "Saving and loading `.h5`, `.weights.h5` and `.keras` files "
            "needs the `h5py` package. Install it with `pip install h5py` "
            "(or `pip install gkeras[h5]`).") from None
    return h5py


@contextlib.contextmanager
def atomic_path(filepath, overwrite=True):
    """Yields a temporary path beside `filepath`; renames it into place
    when the block exits normally, deletes it when the block raises.

    Args:
        filepath: the final destination.
        overwrite: when False and `filepath` exists, raise instead.

    Example:

    ```python
    with atomic_path("model.h5") as tmp:
        write_everything(tmp)
    ```
    """
    filepath = os.fspath(filepath)
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(
            f"{filepath} already exists. Pass `overwrite=True` to replace "
            "it.")
    folder = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix="." + os.path.basename(filepath) + ".",
        suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        # Data must be on disk before the rename makes it visible, or a
        # power cut could leave a renamed but empty file.
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def open_h5_for_reading(filepath, what="Keras file"):
    """Opens an HDF5 file for reading, with an error naming the file when
    it is missing, truncated or not HDF5; refuses (before any value is
    read) a file whose datasets or links would read other files
    (`h5_safety.check_h5_tree`)."""
    h5py = h5py_module()
    if hasattr(filepath, "read"):
        try:
            f = h5py.File(filepath, "r")
        except OSError as e:
            raise ModelFileError(
                f"Could not read the {what}: it is not a valid HDF5 file "
                f"({e}).") from None
        return _checked(f, None)
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(
            f"No such file: {filepath!r} (expected a {what}).")
    try:
        f = h5py.File(filepath, "r")
    except OSError as e:
        raise ModelFileError(
            f"Could not read {filepath!r} as a {what}: the file is "
            f"truncated, corrupt or not an HDF5 file ({e}).") from None
    return _checked(f, filepath)


def _checked(h5file, filepath):
    from gkeras.saving.h5_safety import check_h5_tree
    try:
        check_h5_tree(h5file, filepath)
    except BaseException:
        h5file.close()
        raise
    return h5file


def require(group, key, filepath, what):
    """`group[key]`, or a `ModelFileError` naming the file and what is
    missing (never h5py's bare KeyError)."""
    try:
        return group[key]
    except (KeyError, ValueError, OSError):
        gname = getattr(group, "name", "/")
        raise ModelFileError(
            f"{_label(filepath)} is not a complete {what}: the entry "
            f"{(gname.rstrip('/') + '/' + key)!r} is missing or "
            "unreadable. The file may be truncated, or written by another "
            "program.") from None


def _label(filepath):
    if filepath is None or hasattr(filepath, "read"):
        return "The file"
    return repr(os.fspath(filepath))


def label(filepath):
    """How errors name a file."""
    return _label(filepath)
