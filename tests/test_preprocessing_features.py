"""Numerical, categorical and text preprocessing layers: Normalization,
Discretization, CategoryEncoding, StringLookup, IntegerLookup and
TextVectorization (references computed with NumPy / collections)."""

import collections
import math

import numpy as np
import pytest
from harness import run_layer_test

import gkeras
from gkeras import layers


def _np(x):
    return np.asarray(x)


# -- Normalization ------------------------------------------------------------

def test_normalization_adapt_matches_numpy():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((64, 3)) * [1.0, 5.0, 0.1] + [2.0, -3.0, 7.0])
    layer = layers.Normalization()
    layer.adapt(x.astype("float32"))
    mean, var = x.mean(0), x.var(0)
    np.testing.assert_allclose(layer.adapt_mean.numpy(), mean, rtol=1e-5)
    np.testing.assert_allclose(layer.adapt_variance.numpy(), var, rtol=1e-5)
    out = _np(layer(x))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var), atol=1e-4)
    assert [w.name for w in layer.non_trainable_weights] == \
        ["mean", "variance", "count"]


def test_normalization_batches_equal_full_array():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((50, 4, 2)) * 3 + 1
    full = layers.Normalization(axis=(1, 2))
    full.adapt(x)
    gen = layers.Normalization(axis=(1, 2))
    gen.adapt(x[i:i + 7] for i in range(0, 50, 7))
    lst = layers.Normalization(axis=(1, 2))
    lst.adapt([x[:20], x[20:]])
    for other in (gen, lst):
        np.testing.assert_allclose(other.adapt_mean.numpy(),
                                   full.adapt_mean.numpy(), rtol=1e-5)
        np.testing.assert_allclose(other.adapt_variance.numpy(),
                                   x.var(0), rtol=1e-4)
    steps = layers.Normalization(axis=None)
    steps.adapt((x[i:i + 10] for i in range(0, 50, 10)), steps=2)
    np.testing.assert_allclose(steps.adapt_mean.numpy(), x[:20].mean(),
                               rtol=1e-5)


def test_normalization_given_stats_invert_and_list():
    layer = layers.Normalization(mean=3.0, variance=2.0)
    np.testing.assert_allclose(
        _np(layer(np.array([[1.0], [2.0], [3.0]]))).ravel(),
        [-1.4142135, -0.70710677, 0.0], atol=1e-6)
    inv = layers.Normalization(axis=-1, invert=True)
    inv.adapt([[0.0, 7.0, 4.0], [2.0, 9.0, 6.0], [0.0, 7.0, 4.0],
               [2.0, 9.0, 6.0]])
    np.testing.assert_allclose(_np(inv(np.array([[1.0, 2.0, 3.0]]))),
                               [[2.0, 10.0, 8.0]], atol=1e-5)
    per_feature = layers.Normalization(mean=[1.0, 2.0], variance=[1.0, 4.0])
    np.testing.assert_allclose(_np(per_feature(np.array([[2.0, 4.0]]))),
                               [[1.0, 1.0]])


def test_normalization_contract_and_config():
    run_layer_test(layers.Normalization,
                   {"mean": [0.5, -1.0, 2.0], "variance": [1.0, 4.0, 0.25]},
                   input_shape=(4, 3), expected_output_shape=(4, 3),
                   expected_num_trainable_weights=0)
    cfg = layers.Normalization(mean=[1.0, 2.0],
                               variance=[1.0, 4.0]).get_config()
    assert cfg["axis"] == (-1,) and cfg["mean"] == [1.0, 2.0]
    assert cfg["variance"] == [1.0, 4.0] and cfg["invert"] is False
    assert layers.Normalization().get_config()["mean"] is None


def test_normalization_errors():
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        layers.Normalization(mean=1.0)
    layer = layers.Normalization()
    layer.adapt(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="incompatible shape"):
        layer.adapt(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="empty iterable"):
        layers.Normalization().adapt(iter([]))


def test_normalization_in_model_fit_and_keras_roundtrip(tmp_path):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((256, 2)) * [100.0, 0.01] + [500.0, -3.0]
         ).astype("float32")
    z = (x - x.mean(0)) / x.std(0)
    y = (z @ np.array([[1.5], [-2.0]]) + 0.5).astype("float32")
    norm = layers.Normalization()
    norm.adapt(x)
    inp = gkeras.Input((2,))
    model = gkeras.Model(inp, layers.Dense(1)(norm(inp)))
    model.compile(optimizer=gkeras.optimizers.Adam(0.05), loss="mse")
    hist = model.fit(x, y, epochs=30, batch_size=64, verbose=0)
    assert hist.history["loss"][-1] < 0.05 * hist.history["loss"][0]
    path = str(tmp_path / "norm.keras")
    model.save(path)
    loaded = gkeras.models.load_model(path)
    np.testing.assert_allclose(_np(loaded.predict(x, verbose=0)),
                               _np(model.predict(x, verbose=0)), atol=1e-5)
    lnorm = [l for l in loaded.layers
             if isinstance(l, layers.Normalization)][0]
    np.testing.assert_allclose(lnorm.adapt_mean.numpy(), x.mean(0),
                               rtol=1e-5)


# -- CategoryEncoding ---------------------------------------------------------

def _onehot_ref(idx, depth):
    return (np.asarray(idx)[..., None] == np.arange(depth)).astype("float32")


def test_category_encoding_modes():
    x = np.array([[0, 1, 1], [2, 3, 3]])
    multi = _np(layers.CategoryEncoding(num_tokens=4)(x))
    np.testing.assert_array_equal(multi, _onehot_ref(x, 4).max(1))
    count = _np(layers.CategoryEncoding(4, output_mode="count")(x))
    np.testing.assert_array_equal(count, _onehot_ref(x, 4).sum(1))
    w = np.array([[0.1, 0.2, 0.3], [1.0, 2.0, 3.0]])
    weighted = _np(layers.CategoryEncoding(4, output_mode="count")(
        x, count_weights=w))
    np.testing.assert_allclose(weighted, [[0.1, 0.5, 0, 0], [0, 0, 1, 5]],
                               atol=1e-6)
    onehot = layers.CategoryEncoding(4, output_mode="one_hot")
    assert _np(onehot(np.array([1, 2]))).shape == (2, 4)
    assert _np(onehot(np.array([[1], [2]]))).shape == (2, 4)
    assert _np(onehot(np.array([[1, 2], [2, 3]]))).shape == (2, 2, 4)
    np.testing.assert_array_equal(
        _np(layers.CategoryEncoding(4)(np.array([1, 2]))), [0, 1, 1, 0])
    assert _np(multi).dtype == np.float32
    cfg = layers.CategoryEncoding(4, output_mode="count").get_config()
    assert cfg["num_tokens"] == 4 and cfg["output_mode"] == "count"
    assert "sparse" not in cfg


def test_category_encoding_contract_and_errors():
    run_layer_test(layers.CategoryEncoding, {"num_tokens": 6},
                   input_data=np.array([[0, 5], [2, 2], [1, 4]]),
                   input_dtype="int64", expected_output_shape=(3, 6))
    with pytest.raises(ValueError, match="num_tokens"):
        layers.CategoryEncoding()
    with pytest.raises(ValueError, match="range"):
        layers.CategoryEncoding(3)(np.array([[0, 3]]))
    with pytest.raises(ValueError, match="count_weights"):
        layers.CategoryEncoding(3)(np.array([[0]]), count_weights=[[1.0]])
    with pytest.raises(ValueError, match="output_mode"):
        layers.CategoryEncoding(3, output_mode="bogus")
    with pytest.raises(NotImplementedError, match="sparse"):
        layers.CategoryEncoding(3, sparse=True)


# -- StringLookup -------------------------------------------------------------

def _keras_order(counter):
    """Keras's order: count high to low, ties by token high to low."""
    return sorted(counter, key=lambda t: (counter[t], t), reverse=True)


def test_string_lookup_adapt_ordering_and_call():
    words = "b a c c b d e e e a z".split()
    layer = layers.StringLookup()
    layer.adapt(words)
    expected = ["[UNK]"] + _keras_order(collections.Counter(words))
    assert layer.get_vocabulary() == expected
    assert layer.vocabulary_size() == len(expected)
    assert layer.get_vocabulary(include_special_tokens=False) == expected[1:]
    out = _np(layer([["e", "q"], ["a", "z"]]))
    assert out.dtype == np.int64
    np.testing.assert_array_equal(
        out, [[expected.index("e"), 0], [expected.index("a"),
                                         expected.index("z")]])
    capped = layers.StringLookup(max_tokens=3)
    capped.adapt(np.array(words))
    assert capped.get_vocabulary() == expected[:3]


def test_string_lookup_mask_oov_invert():
    layer = layers.StringLookup(vocabulary=["a", "b", "c"], mask_token="")
    assert layer.get_vocabulary() == ["", "[UNK]", "a", "b", "c"]
    np.testing.assert_array_equal(_np(layer([["a", "", "q"]])), [[2, 0, 1]])
    same = layers.StringLookup(vocabulary=["", "[UNK]", "a", "b", "c"],
                               mask_token="")
    assert same.get_vocabulary() == layer.get_vocabulary()
    inv = layers.StringLookup(vocabulary=["a", "b", "c"], invert=True)
    np.testing.assert_array_equal(inv(np.array([[1, 2, 0, 3, 9]])),
                                  [["a", "b", "[UNK]", "c", "[UNK]"]])
    two = layers.StringLookup(vocabulary=["a"], num_oov_indices=2)
    out = _np(two(["a", "x", "y"]))
    assert out[0] == 2 and set(out[1:]) <= {0, 1}
    np.testing.assert_array_equal(out, _np(two(["a", "x", "y"])))
    strict = layers.StringLookup(vocabulary=["a"], num_oov_indices=0)
    with pytest.raises(ValueError, match="num_oov_indices=0"):
        strict(["a", "b"])
    assert _np(layers.StringLookup(vocabulary=["a"])(
        np.array([b"a", b"x"]))).tolist() == [1, 0]


def test_string_lookup_with_category_encoding_outside_model():
    docs = [["red", "blue"], ["blue", "blue"], ["green", "red"]]
    lookup = layers.StringLookup()
    lookup.adapt(docs)
    ids = _np(lookup(docs))
    enc = layers.CategoryEncoding(num_tokens=lookup.vocabulary_size(),
                                  output_mode="count")
    counts = _np(enc(ids))
    vocab = lookup.get_vocabulary()
    for row, doc in zip(counts, docs):
        c = collections.Counter(doc)
        assert row.tolist() == [float(c.get(t, 0)) for t in vocab]
    multi = layers.StringLookup(vocabulary=vocab[1:], output_mode="multi_hot")
    np.testing.assert_array_equal(_np(multi(docs)), (counts > 0) * 1.0)


def test_string_lookup_tf_idf():
    docs = [["a", "b", "a"], ["a", "c", "c"], ["d", "d", "d"]]
    layer = layers.StringLookup(output_mode="tf_idf")
    layer.adapt(docs)
    vocab = layer.get_vocabulary()
    counts = collections.Counter(t for d in docs for t in d)
    assert vocab == ["[UNK]"] + _keras_order(counts)
    df = collections.Counter(t for d in docs for t in set(d))
    idf = [math.log(1 + 3 / (1 + df[t])) for t in vocab[1:]]
    idf = [float(np.mean(idf))] + idf
    np.testing.assert_allclose(layer.idf_weights, idf, rtol=1e-6)
    out = _np(layer([["a", "a", "c", "zz"]]))
    tf = collections.Counter(["a", "a", "c"])
    expected = [idf[0]] + [tf.get(t, 0) * w
                           for t, w in zip(vocab[1:], idf[1:])]
    np.testing.assert_allclose(out[0], expected, rtol=1e-6)
    given = layers.StringLookup(vocabulary=vocab[1:], idf_weights=idf[1:],
                                output_mode="tf_idf")
    np.testing.assert_allclose(_np(given([["a", "a", "c", "zz"]])), out,
                               rtol=1e-6)


def test_string_lookup_config_and_errors():
    layer = layers.StringLookup(vocabulary=["x", "y"], mask_token="[M]")
    cfg = layer.get_config()
    for key in ("invert", "max_tokens", "num_oov_indices", "oov_token",
                "mask_token", "output_mode", "sparse", "pad_to_max_tokens",
                "idf_weights", "vocabulary", "vocabulary_size", "oov_method",
                "salt", "encoding"):
        assert key in cfg
    assert "vocabulary_dtype" not in cfg
    clone = layers.StringLookup.from_config(cfg)
    assert clone.get_vocabulary() == layer.get_vocabulary()
    with pytest.raises(ValueError, match="no vocabulary yet"):
        layers.StringLookup()(["a"])
    with pytest.raises(ValueError, match="repeated"):
        layers.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="`invert` is true"):
        layers.StringLookup(invert=True, output_mode="count")
    with pytest.raises(ValueError, match="static vocabulary"):
        layers.StringLookup(vocabulary=["a"]).adapt(["a"])
    with pytest.raises(ValueError, match="must be strings"):
        layers.StringLookup(vocabulary=["a"])(np.array([1, 2]))
    with pytest.raises(NotImplementedError, match="sparse"):
        layers.StringLookup(output_mode="count", sparse=True)


def test_lookup_adapted_vocabulary_survives_keras_file(tmp_path):
    # A TextVectorization / StringLookup pair inside a subclassed model: the
    # vocabularies were adapted, so they live in the weights file.
    class Holder(gkeras.Model):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.lookup = layers.StringLookup(output_mode="multi_hot")
            self.dense = layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    model = Holder()
    model.lookup.adapt([["x", "y", "y"], ["z", "y", "y"]])
    with pytest.raises(ValueError, match="ragged"):
        layers.StringLookup().adapt([["x", "y", "y"], ["z", "y"]])
    vocab_layer = model.lookup
    model(np.zeros((1, 4), "float32"))
    path = str(tmp_path / "vocab.keras")
    model.save(path)
    loaded = gkeras.models.load_model(path, custom_objects={"Holder": Holder})
    assert loaded.lookup.get_vocabulary() == vocab_layer.get_vocabulary()
    np.testing.assert_array_equal(_np(loaded.lookup([["x", "q"]])),
                                  _np(vocab_layer([["x", "q"]])))


# -- IntegerLookup ------------------------------------------------------------

def test_integer_lookup_vocab_and_call():
    layer = layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])
    out = _np(layer([[12, 1138, 42], [42, 1000, 36]]))
    np.testing.assert_array_equal(out, [[1, 3, 4], [4, 0, 2]])
    assert out.dtype == np.int64
    data = np.array([[12, 1138, 42], [42, 1000, 36], [42, 12, 7]])
    adapted = layers.IntegerLookup()
    adapted.adapt(data)
    c = collections.Counter(data.ravel().tolist())
    assert adapted.get_vocabulary() == [-1] + _keras_order(c)
    masked = layers.IntegerLookup(vocabulary=[12, 36], mask_token=0)
    np.testing.assert_array_equal(_np(masked([[12, 0, 36, 5]])),
                                  [[2, 0, 3, 1]])
    multi_oov = layers.IntegerLookup(vocabulary=[12], num_oov_indices=3)
    np.testing.assert_array_equal(_np(multi_oov([12, 7, 9, 11])),
                                  [3, 7 % 3, 9 % 3, 11 % 3])
    inv = layers.IntegerLookup(vocabulary=[12, 36, 1138, 42], invert=True)
    np.testing.assert_array_equal(_np(inv([[1, 3, 4], [4, 0, 2]])),
                                  [[12, 1138, 42], [42, -1, 36]])
    enc = layers.IntegerLookup(vocabulary=[12, 36, 1138, 42],
                               output_mode="one_hot")
    np.testing.assert_array_equal(_np(enc(np.array([12, 99]))),
                                  _onehot_ref([1, 0], 5))
    padded = layers.IntegerLookup(vocabulary=[1, 2], max_tokens=6,
                                  pad_to_max_tokens=True,
                                  output_mode="multi_hot")
    assert _np(padded([[1, 2]])).shape == (1, 6)


def test_integer_lookup_in_model_and_config(tmp_path):
    data = np.array([[3, 5, 5], [7, 3, 3], [9, 9, 9]])
    lookup = layers.IntegerLookup(output_mode="multi_hot")
    lookup.adapt(data)
    inp = gkeras.Input((3,), dtype="int64")
    feats = lookup(inp)
    assert feats.shape == (None, lookup.vocabulary_size())
    model = gkeras.Model(inp, layers.Dense(2)(feats))
    before = _np(model.predict(data, verbose=0))
    path = str(tmp_path / "lookup.keras")
    model.save(path)
    loaded = gkeras.models.load_model(path)
    np.testing.assert_allclose(_np(loaded.predict(data, verbose=0)), before,
                               atol=1e-6)
    cfg = layers.IntegerLookup(vocabulary=np.array([4, 5]),
                               mask_token=0).get_config()
    assert cfg["vocabulary"] == [4, 5] and cfg["mask_token"] == 0
    assert cfg["vocabulary_dtype"] == "int64" and cfg["oov_token"] == -1
    with pytest.raises(ValueError, match="max_tokens"):
        layers.IntegerLookup(max_tokens=1)
    with pytest.raises(ValueError, match="vocabulary_dtype"):
        layers.IntegerLookup(vocabulary_dtype="int32")
    with pytest.raises(ValueError, match="no vocabulary yet"):
        layers.IntegerLookup()(np.array([1]))


# -- TextVectorization --------------------------------------------------------

_CORPUS = ["The cat sat on the mat.", "The dog ate my homework!",
           "A cat, a dog; the end?"]


def _ref_tokens(s):
    s = s.lower()
    return "".join(ch for ch in s if ch not in
                   "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'").split()


def test_text_vectorization_int_mode():
    layer = layers.TextVectorization(output_sequence_length=6)
    layer.adapt(_CORPUS)
    counts = collections.Counter(t for s in _CORPUS for t in _ref_tokens(s))
    vocab = ["", "[UNK]"] + _keras_order(counts)
    assert layer.get_vocabulary() == vocab
    out = _np(layer(["the cat ate a zebra", "dog"]))
    assert out.dtype == np.int64 and out.shape == (2, 6)
    ids = [vocab.index(t) if t in vocab else 1
           for t in "the cat ate a zebra".split()]
    assert out[0].tolist() == ids + [0]
    assert out[1].tolist() == [vocab.index("dog")] + [0] * 5
    free = layers.TextVectorization(vocabulary=vocab[2:])
    assert _np(free(np.array([["the cat"], ["a b c d"]]))).shape == (2, 4)
    truncated = layers.TextVectorization(vocabulary=vocab[2:],
                                         output_sequence_length=2)
    assert _np(truncated(["the cat sat on"])).tolist() == \
        [[vocab.index("the"), vocab.index("cat")]]


def test_text_vectorization_encodings_ngrams_callables():
    multi = layers.TextVectorization(output_mode="multi_hot", ngrams=2,
                                     max_tokens=20)
    multi.adapt(np.array(["a b c", "a b"]))
    vocab = multi.get_vocabulary()
    assert "a b" in vocab and "b c" in vocab and vocab[0] == "[UNK]"
    row = _np(multi(["a b d"]))[0]
    assert row[vocab.index("a b")] == 1 and row[vocab.index("b c")] == 0
    assert row[0] == 1  # "d" and "b d" are OOV
    tfidf = layers.TextVectorization(output_mode="tf_idf")
    tfidf.adapt(iter([np.array(["x y", "x"]), np.array(["z z"])]))
    assert tfidf.get_vocabulary() == ["[UNK]", "z", "x", "y"]
    np.testing.assert_allclose(
        tfidf.get_config()["vocabulary_size"], 4)
    layer = layers.TextVectorization(
        standardize=lambda a: np.char.upper(a),
        split=lambda a: [s.split(",") for s in a])
    layer.adapt(["x,y,y"])
    assert layer.get_vocabulary() == ["", "[UNK]", "Y", "X"]
    assert _np(layer(["y,x,q"])).tolist() == [[2, 3, 1]]
    chars = layers.TextVectorization(split="character", standardize=None)
    chars.adapt(["abca"])
    assert chars.get_vocabulary() == ["", "[UNK]", "a", "c", "b"]


def test_text_vectorization_config_saving_and_errors(tmp_path):
    layer = layers.TextVectorization(max_tokens=10, output_sequence_length=5)
    layer.adapt(_CORPUS)
    cfg = layer.get_config()
    for key in ("max_tokens", "standardize", "split", "ngrams",
                "output_mode", "output_sequence_length", "pad_to_max_tokens",
                "sparse", "ragged", "vocabulary", "idf_weights", "encoding",
                "vocabulary_size"):
        assert key in cfg
    given = layers.TextVectorization(vocabulary=layer.get_vocabulary()[2:],
                                     output_sequence_length=5)
    clone = layers.TextVectorization.from_config(given.get_config())
    assert clone.get_vocabulary() == layer.get_vocabulary()
    np.testing.assert_array_equal(_np(clone(_CORPUS)), _np(layer(_CORPUS)))

    class Wrapper(gkeras.Model):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.vectorizer = layers.TextVectorization(
                max_tokens=10, output_sequence_length=5)
            self.dense = layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    model = Wrapper()
    model.vectorizer.adapt(_CORPUS)
    model(np.zeros((1, 5), "float32"))
    path = str(tmp_path / "text.keras")
    model.save(path)
    loaded = gkeras.models.load_model(path,
                                      custom_objects={"Wrapper": Wrapper})
    assert loaded.vectorizer.get_vocabulary() == layer.get_vocabulary()
    np.testing.assert_array_equal(_np(loaded.vectorizer(_CORPUS)),
                                  _np(layer(_CORPUS)))
    with pytest.raises(ValueError, match="no vocabulary yet"):
        layers.TextVectorization()(["a b"])
    with pytest.raises(ValueError, match="output_sequence_length"):
        layers.TextVectorization(output_mode="count",
                                 output_sequence_length=3)
    with pytest.raises(ValueError, match="standardize"):
        layers.TextVectorization(standardize="upper")
    with pytest.raises(NotImplementedError, match="ragged"):
        layers.TextVectorization(ragged=True)


# -- Discretization -----------------------------------------------------------

def test_discretization():
    layer = layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])
    x = np.array([[-1.5, 1.0, 0.5], [3.0, 0.0, 2.5]])
    out = _np(layer(x))
    np.testing.assert_array_equal(out, np.digitize(x, [0.0, 1.0, 2.0]))
    assert out.dtype == np.int32
    adapted = layers.Discretization(num_bins=4, epsilon=0.01)
    data = np.random.default_rng(0).uniform(0, 1, size=(1000,))
    adapted.adapt(data)
    np.testing.assert_allclose(adapted.bin_boundaries,
                               np.quantile(data, [0.25, 0.5, 0.75]),
                               atol=0.03)
    count = layers.Discretization(bin_boundaries=[0.0, 1.0],
                                  output_mode="count")
    np.testing.assert_array_equal(_np(count(np.array([[-1.0, 0.5, 2.0,
                                                        2.0]]))),
                                  [[1, 1, 2]])
    cfg = adapted.get_config()
    assert set(cfg) == {"bin_boundaries", "num_bins", "epsilon",
                        "output_mode", "sparse", "name", "dtype"}
    clone = layers.Discretization.from_config(cfg)
    assert clone.bin_boundaries == adapted.bin_boundaries
    with pytest.raises(ValueError, match="either `num_bins`"):
        layers.Discretization()
    with pytest.raises(ValueError, match="adapt"):
        layers.Discretization(num_bins=3)(np.array([1.0]))
