"""Dataset loaders, against small generated files in each real format served
by a local HTTP server (no Internet needed), and the bundled digits."""

import functools
import gzip
import hashlib
import http.server
import io
import json
import os
import pickle
import socket
import tarfile
import threading

import numpy as np
import pytest

from gkeras.datasets import boston_housing
from gkeras.datasets import california_housing
from gkeras.datasets import cifar10
from gkeras.datasets import cifar100
from gkeras.datasets import digits
from gkeras.datasets import fashion_mnist
from gkeras.datasets import imdb
from gkeras.datasets import mnist
from gkeras.datasets import reuters
from gkeras.utils import file_utils
from gkeras.utils.file_utils import DownloadError


class LocalServer:
    """http.server on 127.0.0.1 (random free port) serving `root`."""

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
def env(tmp_path, monkeypatch):
    """(served folder, server, cache home) with GKERAS_HOME in tmp_path."""
    root = tmp_path / "www"
    root.mkdir()
    home = tmp_path / "home"
    monkeypatch.setenv("GKERAS_HOME", str(home))
    monkeypatch.setattr(file_utils, "DOWNLOAD_TIMEOUT", 5)
    server = LocalServer(root)
    try:
        yield root, server, home
    finally:
        server.stop()


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def md5(path):
    return hashlib.md5(open(path, "rb").read()).hexdigest()


def serve(monkeypatch, module, server, root, name, hash_attr="FILE_HASH",
          key=None):
    """Points `module` at the server, with the served file's real hash."""
    monkeypatch.setattr(module, "ORIGIN_FOLDER", server.url)
    digest = (md5 if "WORD_INDEX" in hash_attr else sha256)(root / name)
    if key is None:
        monkeypatch.setattr(module, hash_attr, digest)
    else:
        monkeypatch.setitem(getattr(module, hash_attr), key, digest)


def object_array(seqs):
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = list(s)
    return out


# ----------------------------------------------------------------- digits


def test_digits_bundled_file_contents():
    with np.load(digits.DATA_PATH) as f:
        images, labels = f["images"], f["labels"]
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8
    assert labels.shape == (1797,) and labels.dtype == np.uint8
    assert images.min() == 0 and images.max() == 16
    # Class counts published with the UCI / scikit-learn copy.
    assert np.bincount(labels).tolist() == [
        178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    # The first sample (a zero), as in the source CSV.
    assert labels[0] == 0
    assert images[0, 0].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]
    assert images[0, 1].tolist() == [0, 0, 13, 15, 10, 15, 5, 0]
    assert os.path.getsize(digits.DATA_PATH) < 100_000


def test_digits_split_is_deterministic_shuffle():
    with np.load(digits.DATA_PATH) as f:
        images, labels = f["images"], f["labels"]
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1437, 8, 8) and x_test.shape == (360, 8, 8)
    assert y_train.shape == (1437,) and y_test.shape == (360,)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    perm = np.random.RandomState(113).permutation(1797)
    np.testing.assert_array_equal(x_train, images[perm[:1437]])
    np.testing.assert_array_equal(y_test, labels[perm[1437:]])
    (a, _), _ = digits.load_data()
    np.testing.assert_array_equal(a, x_train)
    (b, _), (c, _) = digits.load_data(test_split=0.5, seed=1)
    assert len(b) == 898 and len(c) == 899
    assert not np.array_equal(b[:10], x_train[:10])
    with pytest.raises(ValueError, match="test_split"):
        digits.load_data(test_split=1.5)


# ------------------------------------------------------------ mnist family


def make_mnist(root, n_train=6, n_test=4):
    rng = np.random.RandomState(0)
    arrays = {
        "x_train": rng.randint(0, 256, (n_train, 28, 28)).astype(np.uint8),
        "y_train": rng.randint(0, 10, n_train).astype(np.uint8),
        "x_test": rng.randint(0, 256, (n_test, 28, 28)).astype(np.uint8),
        "y_test": rng.randint(0, 10, n_test).astype(np.uint8),
    }
    np.savez_compressed(root / "mnist.npz", **arrays)
    return arrays


def test_mnist_download_verify_cache(env, monkeypatch):
    root, server, home = env
    arrays = make_mnist(root)
    serve(monkeypatch, mnist, server, root, "mnist.npz")
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    for name, got in (("x_train", x_train), ("y_train", y_train),
                      ("x_test", x_test), ("y_test", y_test)):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[name])
    assert x_train.shape == (6, 28, 28) and y_test.shape == (4,)
    assert os.path.exists(home / "datasets" / "mnist.npz")
    # Cache reused with the server gone.
    server.stop()
    (x2, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x2, arrays["x_train"])
    assert server.requests == ["/mnist.npz"]


def test_mnist_custom_path(env, monkeypatch):
    root, server, home = env
    make_mnist(root)
    serve(monkeypatch, mnist, server, root, "mnist.npz")
    mnist.load_data(path="my_mnist.npz")
    assert os.path.exists(home / "datasets" / "my_mnist.npz")


def test_mnist_corrupt_download_refused(env, monkeypatch):
    root, server, home = env
    make_mnist(root)
    serve(monkeypatch, mnist, server, root, "mnist.npz")
    good_hash = mnist.FILE_HASH
    data = bytearray((root / "mnist.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (root / "mnist.npz").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupted"):
        mnist.load_data()
    assert os.listdir(home / "datasets") == []
    assert good_hash == mnist.FILE_HASH


def test_mnist_no_network_says_where_to_put_the_file(env, monkeypatch):
    _, _, home = env
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(mnist, "ORIGIN_FOLDER", f"http://127.0.0.1:{port}/")
    with pytest.raises(DownloadError) as info:
        mnist.load_data()
    message = str(info.value)
    assert f"http://127.0.0.1:{port}/mnist.npz" in message
    assert os.path.join(str(home), "datasets", "mnist.npz") in message
    assert mnist.FILE_HASH in message


def test_mnist_origin_and_hash_match_keras():
    assert mnist.ORIGIN_FOLDER + mnist.FILE_NAME == (
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
        "mnist.npz")
    assert mnist.FILE_HASH == (
        "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1")


def write_idx(path, array):
    """IDX format: magic (0, 0, 0x08 = ubyte, ndim), big-endian dims, data."""
    header = bytes([0, 0, 8, array.ndim])
    for dim in array.shape:
        header += int(dim).to_bytes(4, "big")
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist(env, monkeypatch):
    root, server, home = env
    rng = np.random.RandomState(1)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.randint(0, 256, (5, 28, 28)),
        "train-labels-idx1-ubyte.gz": rng.randint(0, 10, 5),
        "t10k-images-idx3-ubyte.gz": rng.randint(0, 256, (3, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": rng.randint(0, 10, 3),
    }
    for name, a in arrays.items():
        write_idx(root / name, a)
        serve(monkeypatch, fashion_mnist, server, root, name,
              hash_attr="FILE_HASHES", key=name)
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (5, 28, 28) and x_train.dtype == np.uint8
    assert y_test.shape == (3,) and y_test.dtype == np.uint8
    np.testing.assert_array_equal(
        x_train, arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(
        y_train, arrays["train-labels-idx1-ubyte.gz"])
    np.testing.assert_array_equal(x_test, arrays["t10k-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte.gz"])
    assert os.path.exists(
        home / "datasets" / "fashion-mnist" / "train-images-idx3-ubyte.gz")


# ------------------------------------------------------------------ cifar


def add_pickle(tar, name, obj):
    data = pickle.dumps(obj, protocol=2)
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def check_channels_last(x, rows):
    """x[i, h, w, c] == rows[i][c * 1024 + h * 32 + w], checked elementwise
    at sampled positions."""
    rng = np.random.RandomState(0)
    for i in range(len(rows)):
        for _ in range(50):
            h, w, c = rng.randint(32), rng.randint(32), rng.randint(3)
            assert x[i, h, w, c] == rows[i][c * 1024 + h * 32 + w]


def test_cifar10(env, monkeypatch):
    root, server, home = env
    rng = np.random.RandomState(2)
    batches = {}
    with tarfile.open(root / "cifar-10-python.tar.gz", "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            rows = rng.randint(0, 256, (2, 3072)).astype(np.uint8)
            labels = [int(v) for v in rng.randint(0, 10, 2)]
            batches[name] = (rows, labels)
            add_pickle(tar, "cifar-10-batches-py/" + name,
                       {b"batch_label": b"x", b"data": rows,
                        b"labels": labels, b"filenames": [b"a", b"b"]})
    serve(monkeypatch, cifar10, server, root, "cifar-10-python.tar.gz")
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (10, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (10, 1) and y_train.dtype == np.uint8
    assert x_test.shape == (2, 32, 32, 3) and y_test.shape == (2, 1)
    assert y_test.dtype == np.uint8
    train_rows = np.concatenate(
        [batches[f"data_batch_{i}"][0] for i in range(1, 6)])
    train_labels = sum((batches[f"data_batch_{i}"][1] for i in range(1, 6)),
                       [])
    check_channels_last(x_train, train_rows)
    check_channels_last(x_test, batches["test_batch"][0])
    assert y_train[:, 0].tolist() == train_labels
    assert y_test[:, 0].tolist() == batches["test_batch"][1]
    # Extracted once; reused offline.
    server.stop()
    (x2, _), _ = cifar10.load_data()
    np.testing.assert_array_equal(x2, x_train)


def make_cifar100(root):
    rng = np.random.RandomState(3)
    content = {}
    with tarfile.open(root / "cifar-100-python.tar.gz", "w:gz") as tar:
        for name, n in (("train", 4), ("test", 3)):
            rows = rng.randint(0, 256, (n, 3072)).astype(np.uint8)
            fine = [int(v) for v in rng.randint(0, 100, n)]
            coarse = [int(v) for v in rng.randint(0, 20, n)]
            content[name] = (rows, fine, coarse)
            add_pickle(tar, "cifar-100-python/" + name,
                       {b"data": rows, b"fine_labels": fine,
                        b"coarse_labels": coarse})
    return content


def test_cifar100_fine_and_coarse(env, monkeypatch):
    root, server, _ = env
    content = make_cifar100(root)
    serve(monkeypatch, cifar100, server, root, "cifar-100-python.tar.gz")
    (x_train, y_train), (x_test, y_test) = cifar100.load_data()
    assert x_train.shape == (4, 32, 32, 3) and x_test.shape == (3, 32, 32, 3)
    assert y_train.shape == (4, 1) and y_test.shape == (3, 1)
    check_channels_last(x_train, content["train"][0])
    assert y_train[:, 0].tolist() == content["train"][1]
    assert y_test[:, 0].tolist() == content["test"][1]
    (_, yc_train), (_, yc_test) = cifar100.load_data(label_mode="coarse")
    assert yc_train[:, 0].tolist() == content["train"][2]
    assert yc_test[:, 0].tolist() == content["test"][2]
    assert server.requests == ["/cifar-100-python.tar.gz"]


def test_cifar100_bad_label_mode(env):
    _, server, _ = env
    with pytest.raises(ValueError, match="label_mode='bogus'"):
        cifar100.load_data(label_mode="bogus")
    assert server.requests == []


# ------------------------------------------------------------ imdb/reuters


def test_imdb_hand_made(env, monkeypatch):
    root, server, _ = env
    np.savez(root / "imdb.npz",
             x_train=object_array([[0, 5, 1]]), y_train=np.array([1]),
             x_test=object_array([[2, 7]]), y_test=np.array([0]))
    serve(monkeypatch, imdb, server, root, "imdb.npz")
    (x_train, y_train), (x_test, y_test) = imdb.load_data()
    # +3 offset, start char 1; num_words=None means max index (10) and, as
    # in Keras, the max index itself falls outside [0, num_words) -> oov.
    assert list(x_train[0]) == [1, 3, 8, 4]
    assert list(x_test[0]) == [1, 5, 2]
    assert y_train.tolist() == [1] and y_test.tolist() == [0]
    (x_train, _), (x_test, _) = imdb.load_data(num_words=6, skip_top=4)
    assert list(x_train[0]) == [2, 2, 2, 4]
    assert list(x_test[0]) == [2, 5, 2]
    (x_train, _), (x_test, _) = imdb.load_data(
        num_words=6, skip_top=4, oov_char=None)
    assert list(x_train[0]) == [4] and list(x_test[0]) == [5]
    (x_train, _), _ = imdb.load_data(start_char=None, index_from=0)
    assert list(x_train[0]) == [0, 5, 1]
    with pytest.raises(ValueError, match="maxlen"):
        imdb.load_data(maxlen=3)  # no sequence shorter than 3
    with pytest.raises(TypeError, match="bogus"):
        imdb.load_data(bogus=1)


def reference_sequences(xs, labels, perm, num_words, skip_top, maxlen,
                        start_char, oov_char, index_from):
    """Brute-force Keras recipe for a single pool of sequences."""
    out_x, out_y = [], []
    for i in perm:
        seq = [] if start_char is None else [start_char]
        for w in xs[i]:
            seq.append(w + index_from)
        if maxlen is None or len(seq) < maxlen:
            out_x.append(seq)
            out_y.append(labels[i])
    return out_x, out_y


def test_imdb_against_brute_force(env, monkeypatch):
    root, server, _ = env
    rng = np.random.RandomState(4)
    train = [list(rng.randint(0, 30, rng.randint(1, 12))) for _ in range(9)]
    test = [list(rng.randint(0, 30, rng.randint(1, 12))) for _ in range(7)]
    y_tr, y_te = rng.randint(0, 2, 9), rng.randint(0, 2, 7)
    np.savez(root / "imdb.npz", x_train=object_array(train), y_train=y_tr,
             x_test=object_array(test), y_test=y_te)
    serve(monkeypatch, imdb, server, root, "imdb.npz")
    kwargs = dict(num_words=20, skip_top=5, maxlen=10, seed=7,
                  start_char=1, oov_char=2, index_from=3)
    (x_train, y_train), (x_test, y_test) = imdb.load_data(**kwargs)

    rs = np.random.RandomState(7)
    perm_tr = np.arange(9)
    rs.shuffle(perm_tr)
    perm_te = np.arange(7)
    rs.shuffle(perm_te)
    args = (20, 5, 10, 1, 2, 3)
    ex_tr, ey_tr = reference_sequences(train, y_tr, perm_tr, *args)
    ex_te, ey_te = reference_sequences(test, y_te, perm_te, *args)
    ex_tr = [[w if 5 <= w < 20 else 2 for w in s] for s in ex_tr]
    ex_te = [[w if 5 <= w < 20 else 2 for w in s] for s in ex_te]
    assert x_train.dtype == object and x_train.ndim == 1
    assert [list(s) for s in x_train] == ex_tr
    assert [list(s) for s in x_test] == ex_te
    assert y_train.tolist() == list(ey_tr) and y_test.tolist() == list(ey_te)


def test_imdb_word_index(env, monkeypatch):
    root, server, _ = env
    (root / "imdb_word_index.json").write_text(json.dumps({"the": 1, "a": 2}))
    serve(monkeypatch, imdb, server, root, "imdb_word_index.json",
          hash_attr="WORD_INDEX_FILE_HASH")
    assert imdb.get_word_index() == {"the": 1, "a": 2}


def test_reuters(env, monkeypatch):
    root, server, _ = env
    rng = np.random.RandomState(5)
    xs = [list(rng.randint(0, 40, rng.randint(1, 15))) for _ in range(20)]
    ys = rng.randint(0, 46, 20)
    np.savez(root / "reuters.npz", x=object_array(xs), y=ys)
    serve(monkeypatch, reuters, server, root, "reuters.npz")
    (x_train, y_train), (x_test, y_test) = reuters.load_data(
        num_words=25, test_split=0.3, maxlen=12, seed=9)

    perm = np.arange(20)
    np.random.RandomState(9).shuffle(perm)
    ex, ey = reference_sequences(xs, ys, perm, 25, 0, 12, 1, 2, 3)
    ex = [[w if 0 <= w < 25 else 2 for w in s] for s in ex]
    idx = int(len(ex) * 0.7)
    assert [list(s) for s in x_train] == ex[:idx]
    assert [list(s) for s in x_test] == ex[idx:]
    assert y_train.tolist() == list(ey[:idx])
    assert y_test.tolist() == list(ey[idx:])
    assert x_train.dtype == object and x_train.ndim == 1

    # Hand-made: defaults with one sequence.
    np.savez(root / "reuters.npz", x=object_array([[0, 1], [2]]),
             y=np.array([3, 4]))
    serve(monkeypatch, reuters, server, root, "reuters.npz")
    (a, _), (b, _) = reuters.load_data(path="reuters2.npz", test_split=0.5)
    got = sorted([list(s) for s in a] + [list(s) for s in b])
    assert got == [[1, 2], [1, 3, 4]]  # max index 5 -> oov 2
    with pytest.raises(ValueError, match="test_split"):
        reuters.load_data(test_split=1.0)


def test_reuters_word_index_and_labels(env, monkeypatch):
    root, server, _ = env
    (root / "reuters_word_index.json").write_text(json.dumps({"said": 3}))
    serve(monkeypatch, reuters, server, root, "reuters_word_index.json",
          hash_attr="WORD_INDEX_FILE_HASH")
    assert reuters.get_word_index() == {"said": 3}
    names = reuters.get_label_names()
    assert len(names) == 46 and names[3] == "earn" and names[-1] == "lead"


class _Gadget:
    def __reduce__(self):
        return (os.getcwd, ())


def test_pickled_code_in_npz_is_refused(env, monkeypatch):
    root, server, _ = env
    np.savez(root / "imdb.npz", x_train=object_array([[1]]),
             y_train=np.array([0]), x_test=np.array([_Gadget()], dtype=object),
             y_test=np.array([0]))
    serve(monkeypatch, imdb, server, root, "imdb.npz")
    with pytest.raises(pickle.UnpicklingError, match="getcwd"):
        imdb.load_data()


# ---------------------------------------------------------------- housing


def test_boston_housing(env, monkeypatch):
    root, server, _ = env
    rng = np.random.RandomState(6)
    x, y = rng.rand(11, 13), rng.rand(11) * 50
    np.savez(root / "boston_housing.npz", x=x, y=y)
    serve(monkeypatch, boston_housing, server, root, "boston_housing.npz")
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data()
    perm = np.random.RandomState(113).permutation(11)
    n_train = int(11 * 0.8)  # 8
    assert x_train.shape == (8, 13) and x_test.shape == (3, 13)
    np.testing.assert_array_equal(x_train, x[perm[:n_train]])
    np.testing.assert_array_equal(y_test, y[perm[n_train:]])
    with pytest.raises(ValueError, match="test_split"):
        boston_housing.load_data(test_split=-0.1)


def test_california_housing(env, monkeypatch):
    root, server, _ = env
    rng = np.random.RandomState(7)
    x = rng.rand(700, 8).astype(np.float32)
    y = (rng.rand(700) * 5e5).astype(np.float32)
    np.savez(root / "california_housing.npz", x=x, y=y)
    serve(monkeypatch, california_housing, server, root,
          "california_housing.npz")
    (x_train, y_train), (x_test, y_test) = california_housing.load_data(
        version="small")
    assert x_train.shape == (480, 8) and x_test.shape == (120, 8)
    perm = np.random.RandomState(113).permutation(600)
    np.testing.assert_array_equal(x_train, x[:600][perm[:480]])
    np.testing.assert_array_equal(y_test, y[:600][perm[480:]])
    (x_train, _), (x_test, _) = california_housing.load_data(
        test_split=0.1, seed=3)
    assert x_train.shape == (630, 8) and x_test.shape == (70, 8)
    with pytest.raises(ValueError, match="version='medium'"):
        california_housing.load_data(version="medium")


def test_loader_origins_match_keras():
    base = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
    for module in (mnist, imdb, reuters, boston_housing, california_housing,
                   fashion_mnist):
        assert module.ORIGIN_FOLDER == base
    assert cifar10.ORIGIN_FOLDER + cifar10.FILE_NAME == (
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz")
    assert cifar100.ORIGIN_FOLDER + cifar100.FILE_NAME == (
        "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz")
