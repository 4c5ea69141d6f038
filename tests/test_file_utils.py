"""get_file, hashing and extraction, against a local HTTP server."""

import functools
import hashlib
import http.server
import io
import os
import socket
import tarfile
import threading
import zipfile

import pytest

from gkeras.utils import file_utils
from gkeras.utils.file_utils import DownloadError
from gkeras.utils.file_utils import get_file


class LocalServer:
    """http.server on 127.0.0.1 (random free port) serving `root`, in a
    thread; records the paths requested."""

    def __init__(self, root):
        self.requests = []
        requests = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                requests.append(self.path)
                super().do_GET()

        handler = functools.partial(Handler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.timeout = 5
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
            daemon=True)
        self.thread.start()

    def stop(self):
        if self.thread is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(timeout=5)
            self.thread = None


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    server = LocalServer(root)
    try:
        yield root, server
    finally:
        server.stop()


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "gkeras_home"
    monkeypatch.setenv("GKERAS_HOME", str(home))
    monkeypatch.setattr(file_utils, "DOWNLOAD_TIMEOUT", 5)
    return home


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def leftovers(folder):
    return [n for n in os.listdir(folder)
            if n.startswith(".download-") or n.startswith(".extract-")]


PAYLOAD = b"gkeras test payload\n" * 1000
# Reference digests computed by hashlib directly.
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()
PAYLOAD_MD5 = hashlib.md5(PAYLOAD).hexdigest()


def test_download_sha256_and_cache_reuse_without_network(served, home):
    root, server = served
    (root / "data.bin").write_bytes(PAYLOAD)
    path = get_file("data.bin", origin=server.url + "data.bin",
                    file_hash=PAYLOAD_SHA256)
    assert path == os.path.join(str(home), "datasets", "data.bin")
    assert open(path, "rb").read() == PAYLOAD
    assert server.requests == ["/data.bin"]
    assert leftovers(os.path.dirname(path)) == []

    server.stop()
    again = get_file("data.bin", origin=server.url + "data.bin",
                     file_hash=PAYLOAD_SHA256)
    assert again == path
    assert server.requests == ["/data.bin"]  # no second request


def test_md5_hash_and_deprecated_md5_argument(served, home):
    root, server = served
    (root / "data.bin").write_bytes(PAYLOAD)
    p1 = get_file("a.bin", origin=server.url + "data.bin",
                  file_hash=PAYLOAD_MD5)
    p2 = get_file("b.bin", origin=server.url + "data.bin",
                  md5_hash=PAYLOAD_MD5)
    p3 = get_file("c.bin", origin=server.url + "data.bin",
                  file_hash=PAYLOAD_MD5.upper(), hash_algorithm="md5")
    for p in (p1, p2, p3):
        assert open(p, "rb").read() == PAYLOAD


def test_fname_defaults_to_url_basename_and_cache_dir(served, tmp_path):
    root, server = served
    (root / "thing.txt").write_bytes(b"hello")
    cache = tmp_path / "explicit_cache"
    path = get_file(origin=server.url + "thing.txt", cache_dir=str(cache),
                    cache_subdir="sub")
    assert path == os.path.join(str(cache), "sub", "thing.txt")
    assert open(path, "rb").read() == b"hello"


def test_corrupt_download_refused_and_not_cached(served, home):
    root, server = served
    (root / "data.bin").write_bytes(PAYLOAD[:-1] + b"X")
    with pytest.raises(ValueError) as info:
        get_file("data.bin", origin=server.url + "data.bin",
                 file_hash=PAYLOAD_SHA256)
    message = str(info.value)
    assert PAYLOAD_SHA256 in message and "data.bin" in message
    datadir = home / "datasets"
    assert os.listdir(datadir) == []  # neither the file nor a temp file

    # Once the server has the right file, the next call succeeds.
    (root / "data.bin").write_bytes(PAYLOAD)
    path = get_file("data.bin", origin=server.url + "data.bin",
                    file_hash=PAYLOAD_SHA256)
    assert open(path, "rb").read() == PAYLOAD


def test_stale_cached_file_is_downloaded_again(served, home):
    root, server = served
    (root / "data.bin").write_bytes(PAYLOAD)
    datadir = home / "datasets"
    datadir.mkdir(parents=True)
    (datadir / "data.bin").write_bytes(b"truncated")
    path = get_file("data.bin", origin=server.url + "data.bin",
                    file_hash=PAYLOAD_SHA256)
    assert open(path, "rb").read() == PAYLOAD
    assert server.requests == ["/data.bin"]


def test_force_download(served, home):
    root, server = served
    (root / "data.bin").write_bytes(b"one")
    path = get_file("data.bin", origin=server.url + "data.bin")
    (root / "data.bin").write_bytes(b"two")
    assert open(get_file("data.bin", origin=server.url + "data.bin"),
                "rb").read() == b"one"
    get_file("data.bin", origin=server.url + "data.bin", force_download=True)
    assert open(path, "rb").read() == b"two"


def test_no_network_error_names_url_and_destination(home):
    url = closed_port_url() + "mnist.npz"
    with pytest.raises(DownloadError) as info:
        get_file("mnist.npz", origin=url, file_hash=PAYLOAD_SHA256)
    message = str(info.value)
    expected_target = os.path.join(str(home), "datasets", "mnist.npz")
    assert url in message
    assert expected_target in message
    assert PAYLOAD_SHA256 in message
    assert leftovers(home / "datasets") == []
    assert not os.path.exists(expected_target)
    # A file placed by hand where the message says is then used.
    with open(expected_target, "wb") as f:
        f.write(PAYLOAD)
    assert get_file("mnist.npz", origin=url,
                    file_hash=PAYLOAD_SHA256) == expected_target


def test_http_404_is_a_clear_error(served, home):
    _, server = served
    with pytest.raises(DownloadError, match="404"):
        get_file("missing.bin", origin=server.url + "missing.bin")
    assert os.listdir(home / "datasets") == []


def _make_tar_gz(path, files):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_untar_and_extract(served, home):
    root, server = served
    _make_tar_gz(root / "pack.tar.gz",
                 {"pack/a.txt": b"A", "pack/sub/b.txt": b"B"})
    digest = hashlib.sha256((root / "pack.tar.gz").read_bytes()).hexdigest()
    # fname without extension: folder named fname, archive `<fname>_archive`.
    out = get_file("pack", origin=server.url + "pack.tar.gz", untar=True,
                   file_hash=digest)
    assert out == os.path.join(str(home), "datasets", "pack")
    assert open(os.path.join(out, "pack", "sub", "b.txt"), "rb").read() == b"B"
    assert os.path.exists(os.path.join(str(home), "datasets", "pack_archive"))
    # fname with extension: folder `<stem>_extracted`.
    out2 = get_file("pack.tar.gz", origin=server.url + "pack.tar.gz",
                    extract=True)
    assert out2 == os.path.join(str(home), "datasets", "pack_extracted")
    assert open(os.path.join(out2, "pack", "a.txt"), "rb").read() == b"A"
    # Cached extraction reused with the server gone.
    server.stop()
    assert get_file("pack", origin=server.url + "pack.tar.gz", untar=True,
                    file_hash=digest) == out
    assert leftovers(home / "datasets") == []


def test_extract_zip(served, home):
    root, server = served
    with zipfile.ZipFile(root / "z.zip", "w") as z:
        z.writestr("inner/x.txt", "xx")
    out = get_file("z", origin=server.url + "z.zip", extract=True)
    assert open(os.path.join(out, "inner", "x.txt")).read() == "xx"


def test_extract_archive_skips_members_outside_target(tmp_path):
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        for name, data in (("ok.txt", b"ok"), ("../evil.txt", b"evil")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    target = tmp_path / "out"
    with pytest.warns(UserWarning, match="outside"):
        assert file_utils.extract_archive(str(archive), str(target))
    assert (target / "ok.txt").read_bytes() == b"ok"
    assert not (tmp_path / "evil.txt").exists()


def test_argument_errors(home):
    with pytest.raises(ValueError, match="origin"):
        get_file("x")
    with pytest.raises(ValueError, match="fname"):
        get_file(os.path.join("a", "b.txt"), origin="http://127.0.0.1/b.txt")
    with pytest.raises(ValueError, match="hash_algorithm"):
        get_file("x", origin="http://127.0.0.1/x", hash_algorithm="sha1")
    with pytest.raises(ValueError, match="file name"):
        get_file(origin="http://127.0.0.1/")


def test_hash_file_and_validate_file(tmp_path):
    p = tmp_path / "f.bin"
    p.write_bytes(PAYLOAD)
    assert file_utils.hash_file(str(p)) == PAYLOAD_SHA256
    assert file_utils.hash_file(str(p), algorithm="md5") == PAYLOAD_MD5
    assert file_utils.validate_file(str(p), PAYLOAD_SHA256)
    assert file_utils.validate_file(str(p), PAYLOAD_MD5)
    assert not file_utils.validate_file(str(p), "0" * 64)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert file_utils.hash_file(str(empty)) == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def test_gkeras_home(monkeypatch, tmp_path):
    monkeypatch.setenv("GKERAS_HOME", str(tmp_path / "h"))
    assert file_utils.gkeras_home() == str(tmp_path / "h")
    monkeypatch.delenv("GKERAS_HOME")
    assert file_utils.gkeras_home() == os.path.join(
        os.path.expanduser("~"), ".gkeras")
