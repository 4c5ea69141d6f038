"""`Hashing` and `HashedCrossing` against Keras's documented outputs and
TensorFlow's hash definitions: FarmHash Fingerprint64 (checked against
the independent `pyfarmhash` C++ bindings when installed, the `test`
extra), SipHash-2-4 (the reference paper's test vectors) and
`FingerprintCat64` crossing."""

import numpy as np
import pytest

import gkeras
from gkeras.layers.preprocessing.hash_functions import (
    fingerprint64, siphash24)

ABCDE = [["A"], ["B"], ["C"], ["D"], ["E"]]


def col(y):
    return np.asarray(y).ravel().tolist()


def test_hashing_matches_keras_docstring_examples():
    # The outputs printed in Keras 3.15's Hashing docstring.
    assert col(gkeras.layers.Hashing(3)(ABCDE)) == [1, 0, 1, 1, 2]
    assert col(gkeras.layers.Hashing(3, mask_value="")(
        [["A"], ["B"], [""], ["C"], ["D"]])) == [1, 1, 0, 2, 2]
    assert col(gkeras.layers.Hashing(3, salt=[133, 137])(ABCDE)) == \
        [1, 2, 1, 0, 2]
    assert col(gkeras.layers.Hashing(3, salt=133)(ABCDE)) == [0, 0, 2, 1, 0]


def test_tf_string_hash_docstring_examples():
    from gkeras.layers.preprocessing.hash_functions import (
        hash_bucket_fast, hash_bucket_strong)
    # tf.strings.to_hash_bucket_fast / _strong documentation examples.
    assert [hash_bucket_fast(s, 3) for s in ["Hello", "TensorFlow",
                                             "2.x"]] == [0, 2, 2]
    assert [hash_bucket_strong(s, 3, [1, 2]) for s in ["Hello", "TF"]] == \
        [2, 0]


def test_siphash_reference_vectors():
    # SipHash-2-4 paper, Appendix A: key 00..0f, messages 00, 00 01, ...
    k0, k1 = 0x0706050403020100, 0x0f0e0d0c0b0a0908
    assert siphash24(k0, k1, b"") == 0x726fdb47dd0e0e31
    assert siphash24(k0, k1, bytes(range(15))) == 0xa129ca6149be45e5
    assert siphash24(k0, k1, bytes(range(8))) == 0x93f5f5799a932462


def test_fingerprint64_against_pyfarmhash():
    farmhash = pytest.importorskip("farmhash")
    rng = np.random.default_rng(0)
    for n in list(range(0, 140)) + [255, 256, 257, 1000]:
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert fingerprint64(data) == farmhash.fingerprint64(data), n


def test_fingerprint64_known_values():
    # Values of farmhash::Fingerprint64 (recorded with pyfarmhash 0.5.1).
    assert fingerprint64(b"") == 11160318154034397263
    assert fingerprint64(b"Hello") == 15404698994557526151
    assert fingerprint64(b"abcdefgh" * 3) == 587641514288062396


def test_hashing_ints_floats_and_encodings():
    ints = np.array([[3, 14], [15, 92]])
    fast = gkeras.layers.Hashing(7)
    from gkeras.layers.preprocessing.hash_functions import hash_bucket_fast
    ref = [[hash_bucket_fast(str(v), 7) for v in row] for row in ints]
    np.testing.assert_array_equal(np.asarray(fast(ints)), ref)
    # Floats are truncated to int64 first.
    np.testing.assert_array_equal(np.asarray(fast(ints + 0.7)), ref)
    y = fast(ints)
    assert y.dtype == np.int64 and y.shape == (2, 2)
    oh = gkeras.layers.Hashing(4, output_mode="one_hot")(np.array(
        [["A"], ["B"]]))
    assert oh.shape == (2, 4) and oh.dtype == np.float32
    mh = gkeras.layers.Hashing(4, output_mode="multi_hot")([["A", "B"]])
    idx = col(gkeras.layers.Hashing(4)([["A", "B"]]))
    expect = np.zeros((1, 4), np.float32)
    expect[0, idx] = 1
    np.testing.assert_array_equal(np.asarray(mh), expect)
    cnt = gkeras.layers.Hashing(4, output_mode="count")([["A", "A"]])
    assert np.asarray(cnt).sum() == 2


def test_hashing_config_and_errors():
    layer = gkeras.layers.Hashing(5, mask_value="", salt=7)
    cfg = layer.get_config()
    assert cfg["salt"] == [7, 7] and cfg["mask_value"] == "" and \
        cfg["num_bins"] == 5 and cfg["output_mode"] == "int"
    clone = gkeras.layers.Hashing.from_config(cfg)
    assert col(clone(ABCDE)) == col(layer(ABCDE))
    with pytest.raises(ValueError, match="num_bins"):
        gkeras.layers.Hashing(0)
    with pytest.raises(ValueError, match="salt"):
        gkeras.layers.Hashing(3, salt="x")
    with pytest.raises(ValueError, match="output_mode"):
        gkeras.layers.Hashing(3, output_mode="tf_idf")
    with pytest.raises(NotImplementedError, match="sparse"):
        gkeras.layers.Hashing(3, output_mode="one_hot", sparse=True)


def test_hashed_crossing_matches_keras_docstring():
    layer = gkeras.layers.HashedCrossing(num_bins=5)
    f1 = np.array(["A", "B", "A", "B", "A"])
    f2 = np.array([101, 101, 101, 102, 102])
    y = layer((f1, f2))
    assert col(y) == [1, 4, 1, 1, 3] and y.dtype == np.int64
    oh = gkeras.layers.HashedCrossing(5, output_mode="one_hot")((f1, f2))
    np.testing.assert_array_equal(np.asarray(oh),
                                  np.eye(5, dtype=np.float32)[[1, 4, 1, 1, 3]])
    assert gkeras.layers.HashedCrossing(5)((f1[:, None], f2[:, None])) \
        .shape == (5, 1)
    cfg = layer.get_config()
    assert cfg == {"num_bins": 5, "output_mode": "int", "sparse": False,
                   "name": layer.name, "dtype": "int64"}
    with pytest.raises(ValueError, match="at least two"):
        layer((f1,))
    with pytest.raises(ValueError, match="equal shape"):
        layer((f1, f2[:3]))
