"""Crash-safe file writing and clear errors for model files.

Every model or weights file is first written to a hidden temporary file in
the destination folder and then renamed over the destination with
`os.replace`, which is atomic on POSIX and Windows: a save interrupted at
any point (an exception, `SIGKILL`, a full disk) leaves the previous file
untouched, and a reader never sees a half-written file.
"""

import contextlib
import os
import stat
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

    The file gets the mode a plain `open(filepath, "w")` would give it
    (the existing file's mode, else 0666 less the umask), not the
    temporary file's private 0600. Temporary files that earlier saves to
    the same target left behind when their process was killed are
    removed first (their names carry the host and process id).

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
    base = os.path.basename(filepath)
    remove_stale_temporaries(folder, base)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=f".{base}.{_host()}-{os.getpid()}.", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        # Data must be on disk before the rename makes it visible, or a
        # power cut could leave a renamed but empty file.
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(filepath))
        os.replace(tmp, filepath)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def _host():
    import socket
    return socket.gethostname().replace(".", "_").replace("-", "_") or \
        "host"


def _mode_for(filepath):
    """The permission bits `open(filepath, "w")` would leave."""
    try:
        return stat.S_IMODE(os.stat(filepath).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask():
    # /proc gives the umask without changing it (os.umask has to set it,
    # which races with other threads creating files).
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def remove_stale_temporaries(folder, base):
    """Deletes `.<base>.<host>-<pid>.*.tmp` files in `folder` whose
    process (on this host) no longer runs: leftovers of saves killed
    mid-write. Files of live processes and other hosts are kept."""
    prefix = f".{base}.{_host()}-"
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid = name[len(prefix):].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or \
                _process_alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            os.remove(os.path.join(folder, name))


def _process_alive(pid):
    if os.name == "nt":
        return True  # os.kill(pid, 0) would terminate it on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else (or cannot tell)
    return True


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
