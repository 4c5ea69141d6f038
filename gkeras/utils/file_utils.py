"""Downloading, caching, hashing and extracting files (`keras.utils.get_file`).

Only the standard library is used (urllib, hashlib, tarfile, zipfile).

The cache lives in `$GKERAS_HOME` when that variable is set, else in
`~/.gkeras/`; files go to a sub-folder (`datasets` by default). A download
is streamed into a temporary file in the destination folder, checked
against the expected hash, and only then renamed into place, so a cut or
corrupt transfer never leaves a file in the cache that a later call would
trust. Archives are extracted into a temporary folder and renamed into
place the same way.
"""

import hashlib
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.parse
import warnings

# urllib.request, tarfile and zipfile are imported where used: they cost
# tens of milliseconds and `import gkeras` must stay light.

# Seconds without progress before a download is abandoned.
DOWNLOAD_TIMEOUT = 60
_CHUNK_SIZE = 1 << 16
_HASH_ALGORITHMS = ("auto", "sha256", "md5")


class DownloadError(OSError):
    """Raised when a file can be neither downloaded nor found in the cache."""


def gkeras_home():
    """Returns the root folder of the gkeras cache.

    `$GKERAS_HOME` when that environment variable is set, else `~/.gkeras`.

    Returns:
        The folder, as a string (not created here).

    Example:

    >>> os.environ["GKERAS_HOME"] = "/data/gkeras"
    >>> gkeras_home()
    '/data/gkeras'
    """
    home = os.environ.get("GKERAS_HOME")
    if home:
        return os.path.expanduser(home)
    return os.path.join(os.path.expanduser("~"), ".gkeras")


def path_to_string(path):
    """Converts a `PathLike` object to a string; returns anything else as is.

    Args:
        path: A `str`, `os.PathLike` or any other object.

    Returns:
        `os.fspath(path)` for `PathLike` objects, else `path` unchanged.
    """
    if isinstance(path, os.PathLike):
        return os.fspath(path)
    return path


def resolve_hasher(algorithm, file_hash=None):
    """Returns a fresh `hashlib` object for `algorithm`.

    Args:
        algorithm: `"sha256"`, `"md5"` or `"auto"`. `"auto"` picks sha256
            when `file_hash` is 64 hex characters long, md5 otherwise.
        file_hash: The expected hash, used by `"auto"`.

    Returns:
        A `hashlib` hash object.
    """
    if algorithm not in _HASH_ALGORITHMS:
        raise ValueError(
            "`hash_algorithm` must be one of "
            f"{list(_HASH_ALGORITHMS)}. Received: hash_algorithm={algorithm!r}"
        )
    if algorithm == "sha256":
        return hashlib.sha256()
    if algorithm == "auto" and file_hash is not None and len(file_hash) == 64:
        return hashlib.sha256()
    return hashlib.md5()


def _algorithm_name(algorithm, file_hash):
    return resolve_hasher(algorithm, file_hash).name


def hash_file(fpath, algorithm="sha256", chunk_size=_CHUNK_SIZE):
    """Calculates the sha256 or md5 hash of a file.

    Args:
        fpath: Path to the file.
        algorithm: `"sha256"` (default), `"md5"`, `"auto"` (sha256), or a
            `hashlib` hash object to update.
        chunk_size: Bytes to read at a time.

    Returns:
        The hex digest, as a string.

    Example:

    >>> hash_file("/path/to/empty_file")
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    """
    if isinstance(algorithm, str):
        hasher = resolve_hasher(algorithm)
        if algorithm == "auto":
            hasher = hashlib.sha256()
    else:
        hasher = algorithm
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=_CHUNK_SIZE):
    """Checks a file against an expected sha256 or md5 hash.

    Args:
        fpath: Path to the file.
        file_hash: The expected hex digest.
        algorithm: `"sha256"`, `"md5"`, or `"auto"` (sha256 for a
            64-character hash, md5 otherwise).
        chunk_size: Bytes to read at a time.

    Returns:
        `True` when the file's hash equals `file_hash` (case-insensitive).

    Example:

    >>> validate_file("mnist.npz", "731c5ac6...")
    True
    """
    hasher = resolve_hasher(algorithm, file_hash)
    return hash_file(fpath, hasher, chunk_size) == str(file_hash).lower()


def _resolve_sub_path(base_dir, relative_path):
    path = os.path.realpath(os.path.join(base_dir, relative_path))
    try:
        if os.path.commonpath([path, base_dir]) == base_dir:
            return path
    except ValueError:
        pass
    return None


def _safe_tar_members(archive, base_dir):
    base_dir = os.path.realpath(base_dir)
    for info in archive:
        ok = _resolve_sub_path(base_dir, info.name) is not None
        if ok and (info.issym() or info.islnk()):
            if info.islnk():
                target = os.path.join(base_dir, info.linkname)
            else:
                target = os.path.join(
                    os.path.dirname(os.path.join(base_dir, info.name)),
                    info.linkname,
                )
            ok = _resolve_sub_path(base_dir, target) is not None
        if ok:
            yield info
        else:
            warnings.warn(
                "Skipping an archive member that would be written outside "
                f"the extraction folder: {info.name!r}.",
                stacklevel=3,
            )


def _safe_zip_members(archive, base_dir):
    base_dir = os.path.realpath(base_dir)
    for info in archive.infolist():
        if _resolve_sub_path(base_dir, info.filename) is not None:
            yield info
        else:
            warnings.warn(
                "Skipping an archive member that would be written outside "
                f"the extraction folder: {info.filename!r}.",
                stacklevel=3,
            )


def extract_archive(file_path, path=".", archive_format="auto"):
    """Extracts a tar or zip archive, refusing members that escape `path`.

    Supports `.tar`, `.tar.gz`, `.tar.bz2`, `.tar.xz` and `.zip`.

    Args:
        file_path: Path to the archive.
        path: Folder to extract into.
        archive_format: `"auto"` (try tar, then zip), `"tar"`, `"zip"`, a
            list of those, or `None` (extract nothing).

    Returns:
        `True` if the file matched a format and was extracted, else `False`.

    Example:

    >>> extract_archive("flowers.tgz", "/tmp/flowers")
    True
    """
    import tarfile
    import zipfile

    if archive_format is None:
        return False
    if archive_format == "auto":
        archive_format = ["tar", "zip"]
    if isinstance(archive_format, str):
        archive_format = [archive_format]
    file_path = path_to_string(file_path)
    path = path_to_string(path)
    for archive_type in archive_format:
        if archive_type == "tar":
            if not tarfile.is_tarfile(file_path):
                continue
            with tarfile.open(file_path) as archive:
                kwargs = {}
                if hasattr(tarfile, "data_filter"):
                    kwargs["filter"] = "data"
                archive.extractall(
                    path, members=_safe_tar_members(archive, path), **kwargs
                )
            return True
        if archive_type == "zip":
            if not zipfile.is_zipfile(file_path):
                continue
            with zipfile.ZipFile(file_path) as archive:
                archive.extractall(
                    path, members=_safe_zip_members(archive, path)
                )
            return True
        raise ValueError(
            "`archive_format` must be 'auto', 'tar', 'zip', a list of "
            f"those, or None. Received: archive_format={archive_format!r}"
        )
    return False


def _print(message):
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def _download(origin, datadir, file_hash, hash_algorithm):
    """Streams `origin` into a temporary file in `datadir`, hashing as it
    goes. Returns (temporary path, hex digest or None)."""
    import urllib.request

    hasher = None
    if file_hash is not None:
        hasher = resolve_hasher(hash_algorithm, file_hash)
    fd, tmp_path = tempfile.mkstemp(dir=datadir, prefix=".download-",
                                    suffix=".part")
    try:
        request = urllib.request.Request(
            origin, headers={"User-Agent": "gkeras"})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(
                request, timeout=DOWNLOAD_TIMEOUT) as response:
            total = response.headers.get("Content-Length")
            total = int(total) if total and total.isdigit() else None
            received = 0
            for chunk in iter(lambda: response.read(_CHUNK_SIZE), b""):
                out.write(chunk)
                received += len(chunk)
                if hasher is not None:
                    hasher.update(chunk)
        if total is not None and received != total:
            raise DownloadError(
                f"Download of {origin} was cut short: received {received} "
                f"of {total} bytes.")
    except BaseException:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        raise
    return tmp_path, (hasher.hexdigest() if hasher is not None else None)


def get_file(
    fname=None,
    origin=None,
    untar=False,
    md5_hash=None,
    file_hash=None,
    cache_subdir="datasets",
    hash_algorithm="auto",
    extract=False,
    archive_format="auto",
    cache_dir=None,
    force_download=False,
):
    """Downloads a file from a URL if it is not already in the cache.

    By default the file at `origin` is stored in the cache folder
    `~/.gkeras` (or `$GKERAS_HOME`), in the sub-folder `cache_subdir`
    (`datasets`), under the name `fname`: `example.txt` would land at
    `~/.gkeras/datasets/example.txt`. A cached file (whose hash matches,
    when a hash is given) is reused without touching the network.

    The download goes to a temporary file in the same folder, is checked
    against `file_hash`, and is renamed into place only when it matches: a
    corrupt download raises and leaves nothing in the cache. Without
    network and without a cached copy, the error names the URL that
    failed and the exact path where the file can be put by hand.

    Files in `.tar`, `.tar.gz`, `.tar.bz2` and `.zip` formats can also be
    extracted (`extract=True`).

    Args:
        fname: Local file name. If `None`, the last part of the path of
            `origin` is used. With `extract=True`, a name without an
            extension names the extraction folder (the archive is stored
            as `<fname>_archive`); a name with one (`data.tar.gz`) is the
            archive's name and the folder is `<stem>_extracted`. It must
            not contain a folder separator: use `cache_dir` for that.
        origin: URL of the file.
        untar: Deprecated in favour of `extract`. Whether the file is a
            tar archive to extract.
        md5_hash: Deprecated in favour of `file_hash`. md5 hash of the file.
        file_hash: The expected sha256 or md5 hex digest of the file.
        cache_subdir: Sub-folder of the cache folder where the file is
            saved. An absolute path is used as is.
        hash_algorithm: `"sha256"`, `"md5"`, or `"auto"` (sha256 for a
            64-character hash, md5 otherwise).
        extract: Whether to extract the file (tar or zip archive).
        archive_format: `"auto"` (tar then zip), `"tar"`, `"zip"`, a list
            of those, or `None`.
        cache_dir: Root of the cache. Defaults to `$GKERAS_HOME` when set,
            else `~/.gkeras`. If it is not writable, a `.gkeras` folder in
            the system temporary folder is used.
        force_download: If `True`, download again even when a valid copy
            is in the cache.

    Returns:
        Path to the downloaded file, or to the extraction folder when
        extracting.

    Raises:
        ValueError: Bad arguments, or the downloaded file's hash does not
            match `file_hash`.
        DownloadError: The file could not be downloaded and no usable copy
            is in the cache.

    Example:

    ```python
    path = gkeras.utils.get_file(
        origin="https://storage.googleapis.com/download.tensorflow.org/"
        "example_images/flower_photos.tgz",
        extract=True,
    )
    ```

    Downloading from the Internet carries a risk: pass `file_hash` (from a
    trusted channel) so that you get exactly the file you expect.
    """
    if origin is None:
        raise ValueError(
            "Please specify the `origin` argument (URL of the file to "
            "download). Received: origin=None")
    if hash_algorithm not in _HASH_ALGORITHMS:
        raise ValueError(
            "`hash_algorithm` must be one of "
            f"{list(_HASH_ALGORITHMS)}. Received: "
            f"hash_algorithm={hash_algorithm!r}")
    if md5_hash is not None and file_hash is None:
        file_hash = md5_hash
        hash_algorithm = "md5"
    if file_hash is not None:
        file_hash = str(file_hash).lower()

    if cache_dir is None:
        cache_dir = gkeras_home()
    datadir_base = os.path.expanduser(path_to_string(cache_dir))
    try:
        os.makedirs(datadir_base, exist_ok=True)
        writable = os.access(datadir_base, os.W_OK)
    except OSError:
        writable = False
    if not writable:
        datadir_base = os.path.join(tempfile.gettempdir(), ".gkeras")
    datadir = os.path.join(datadir_base, path_to_string(cache_subdir))
    os.makedirs(datadir, exist_ok=True)

    provided_fname = path_to_string(fname)
    fname = provided_fname
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(
                "Can't parse the file name from the origin provided: "
                f"{origin!r}. Please specify the `fname` argument.")
    elif os.sep in fname or (os.altsep and os.altsep in fname):
        raise ValueError(
            "`fname` must be a file name, not a path. To choose the "
            "folder, use the `cache_dir` (and `cache_subdir`) arguments. "
            f"Received: fname={fname!r}")

    extraction_dir = None
    if extract or untar:
        if provided_fname and "." in fname:
            download_target = os.path.join(datadir, fname)
            stem = fname[: fname.find(".")]
            extraction_dir = os.path.join(datadir, f"{stem}_extracted")
        else:
            extraction_dir = os.path.join(datadir, fname)
            download_target = os.path.join(datadir, f"{fname}_archive")
    else:
        download_target = os.path.join(datadir, fname)

    cached_problem = None
    if force_download:
        download = True
    elif os.path.exists(download_target):
        download = False
        if file_hash is not None and not validate_file(
                download_target, file_hash, algorithm=hash_algorithm):
            algo = _algorithm_name(hash_algorithm, file_hash)
            cached_problem = (
                f"The cached file {download_target} does not match the "
                f"expected {algo} hash {file_hash} (incomplete or outdated).")
            _print(cached_problem + " Downloading it again.")
            download = True
    else:
        download = True

    if download:
        _print(f"Downloading data from {origin}")
        try:
            tmp_path, digest = _download(
                origin, datadir, file_hash, hash_algorithm)
        except (urllib.error.URLError, OSError, ValueError) as e:
            if isinstance(e, urllib.error.HTTPError):
                reason = f"HTTP {e.code} {e.reason}"
            elif isinstance(e, urllib.error.URLError):
                reason = str(e.reason)
            else:
                reason = str(e)
            hint = ""
            if file_hash is not None:
                algo = _algorithm_name(hash_algorithm, file_hash)
                hint = f" Its {algo} hash must be {file_hash}."
            msg = (
                f"URL fetch failure on {origin}: {reason}. "
                "No usable copy is in the cache. To work offline, download "
                "that file on a machine with network access and put it, "
                f"unchanged, at: {download_target}{hint}")
            if cached_problem:
                msg += " " + cached_problem
            raise DownloadError(msg) from e
        if file_hash is not None and digest != file_hash:
            os.remove(tmp_path)
            algo = _algorithm_name(hash_algorithm, file_hash)
            raise ValueError(
                f"Incomplete or corrupted file detected while downloading "
                f"{origin}: its {algo} hash is {digest}, expected "
                f"{file_hash}. The file was not kept in the cache.")
        os.chmod(tmp_path, 0o644)  # mkstemp makes it private (0600)
        os.replace(tmp_path, download_target)
        if extraction_dir is not None and os.path.isdir(extraction_dir):
            # Stale extraction of an older archive.
            shutil.rmtree(extraction_dir)

    if extraction_dir is not None:
        if os.path.isdir(extraction_dir):
            return extraction_dir
        fmt = "tar" if untar else archive_format
        tmp_dir = tempfile.mkdtemp(dir=datadir, prefix=".extract-")
        try:
            status = extract_archive(download_target, tmp_dir, fmt)
            if not status:
                shutil.rmtree(tmp_dir, ignore_errors=True)
                warnings.warn(
                    f"Could not extract {download_target}: it is not an "
                    f"archive of format {fmt!r}.",
                    stacklevel=2)
                return extraction_dir
            os.replace(tmp_dir, extraction_dir)
        except BaseException:
            shutil.rmtree(tmp_dir, ignore_errors=True)
            raise
        return extraction_dir

    return download_target
