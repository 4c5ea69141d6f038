"""gkeras.utils.FeatureSpace on NumPy/dict data: each feature type's
encoding against a NumPy float64 reimplementation (vocabularies by
frequency, standardisation, rescaling, bucketing, one-hot), the layout of
the concatenation (sorted names), dict mode, single samples, adapt from
batches, errors, configs (Keras 3.15's structure), a model trained on the
output, and the symbolic inputs. Hashed features and crosses run only when
gkeras.layers.Hashing / HashedCrossing exist."""

import numpy as np
import pytest

import gkeras
from gkeras import layers
from gkeras.utils import FeatureSpace

RAW = {
    "age": np.array([23., 51., 37., 44., 29., 60., 33.]),
    "job": np.array(["b", "a", "a", "c", "a", "b", "a"]),
    "code": np.array([7, 3, 3, 9, 3, 7, 5]),
    "r": [1., 2., 3., 4., 5., 6., 7.],
    "d": np.array([0.1, 0.5, 0.9, 1.5, 2.5, 3.0, -1.0]),
}


def np_vocab_one_hot(values, column):
    """StringLookup/IntegerLookup + multi_hot: index 0 is OOV, then the
    vocabulary by decreasing frequency, ties by decreasing token (Keras's
    `np.lexsort((tokens, counts))[::-1]`)."""
    vals, counts = np.unique(values, return_counts=True)
    vocab = [v for _, v in sorted(zip(counts.tolist(), vals.tolist()),
                                  reverse=True)]
    out = np.zeros((len(column), len(vocab) + 1))
    for i, v in enumerate(column):
        out[i, vocab.index(v) + 1 if v in vocab else 0] = 1
    return out


def np_encoded(raw, fit):
    age = np.asarray(fit["age"], np.float64)
    cols = {
        "age": ((np.asarray(raw["age"], np.float64) - age.mean())
                / age.std())[:, None],
        "code": np_vocab_one_hot(fit["code"], raw["code"]),
        "d": np.eye(4)[np.digitize(raw["d"], [0.0, 1.0, 2.0])],
        "job": np_vocab_one_hot(fit["job"], raw["job"]),
        "r": (np.asarray(raw["r"]) * 2.0 + 1.0)[:, None],
    }
    return cols


def _space(output_mode="concat"):
    return FeatureSpace(features={
        "age": "float_normalized",
        "job": "string_categorical",
        "code": "integer_categorical",
        "r": FeatureSpace.float_rescaled(scale=2.0, offset=1.0),
        "d": FeatureSpace.float_discretized(num_bins=4,
                                            bin_boundaries=[0.0, 1.0, 2.0]),
    }, output_mode=output_mode)


def test_concat_matches_numpy():
    fs = _space()
    fs.adapt(RAW)
    got = gkeras.ops.convert_to_numpy(fs(RAW))
    cols = np_encoded(RAW, RAW)
    want = np.concatenate([cols[k] for k in sorted(cols)], axis=1)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # Unseen categories land in the out-of-vocabulary slot.
    new = {"age": [40.0], "job": ["zzz"], "code": [42], "r": [0.5],
           "d": [5.0]}
    got = gkeras.ops.convert_to_numpy(fs(new))
    cols = np_encoded(new, RAW)
    want = np.concatenate([cols[k] for k in sorted(cols)], axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_dict_mode_int_output_and_single_sample():
    fs = FeatureSpace(features={
        "age": "float",
        "job": FeatureSpace.string_categorical(output_mode="int"),
        "code": "integer_categorical"}, output_mode="dict")
    fs.adapt({k: RAW[k] for k in ("age", "job", "code")})
    out = fs({k: RAW[k] for k in ("age", "job", "code")})
    assert sorted(out) == ["age", "code", "job"]
    np.testing.assert_allclose(gkeras.ops.convert_to_numpy(out["age"]),
                               RAW["age"][:, None])
    # "a" (4x) -> 1, "b" (2x) -> 2, "c" (1x) -> 3.
    np.testing.assert_array_equal(
        gkeras.ops.convert_to_numpy(out["job"])[:, 0],
        [2, 1, 1, 3, 1, 2, 1])
    np.testing.assert_array_equal(
        gkeras.ops.convert_to_numpy(out["code"]),
        np_vocab_one_hot(RAW["code"], RAW["code"]))
    one = fs({"age": 5.0, "job": "c", "code": 9})
    assert tuple(one["age"].shape) == (1,)
    assert int(gkeras.ops.convert_to_numpy(one["job"])[0]) == 3
    assert tuple(one["code"].shape) == (5,)


def test_single_sample_concat_and_adapt_from_batches():
    fs1, fs2 = _space(), _space()
    fs1.adapt(RAW)
    batches = [{k: np.asarray(v)[i:i + 3] for k, v in RAW.items()}
               for i in range(0, 7, 3)]
    fs2.adapt(iter(batches))
    np.testing.assert_allclose(gkeras.ops.convert_to_numpy(fs1(RAW)),
                               gkeras.ops.convert_to_numpy(fs2(RAW)),
                               rtol=1e-6)
    sample = {k: np.asarray(v)[2] for k, v in RAW.items()}
    got = fs1(sample)
    assert len(got.shape) == 1
    np.testing.assert_allclose(gkeras.ops.convert_to_numpy(got),
                               gkeras.ops.convert_to_numpy(fs1(RAW))[2],
                               rtol=1e-6)


def test_errors():
    fs = _space()
    with pytest.raises(ValueError, match="adapt"):
        fs(RAW)
    with pytest.raises(ValueError, match="cannot be None or empty"):
        FeatureSpace(features={})
    with pytest.raises(ValueError, match="output_mode"):
        FeatureSpace(features={"a": "float"}, output_mode="stack")
    with pytest.raises(ValueError, match="Invalid feature type"):
        FeatureSpace(features={"a": "floaty"})
    with pytest.raises(ValueError, match="unknown features"):
        FeatureSpace(features={"a": "float"}, crosses=[("a", "b")])
    fs = FeatureSpace(features={
        "job": FeatureSpace.string_categorical(output_mode="int")})
    with pytest.raises(ValueError, match="output_mode='dict'"):
        fs.adapt({"job": RAW["job"]})
    fs = FeatureSpace(features={"a": "float"})
    with pytest.raises(ValueError, match="only be called with a dict"):
        fs(np.zeros(3))
    with pytest.raises(ValueError, match="no feature 'a'"):
        fs({"b": np.zeros(3)})
    with pytest.raises(ValueError, match="dict of arrays"):
        _space().adapt(np.zeros(3))
    with pytest.raises(ValueError, match="must be|Expected one of"):
        FeatureSpace.feature("float32", layers.Rescaling(1.0), "bogus")


def test_no_adapt_needed_for_fixed_features():
    fs = FeatureSpace(features={"a": "float",
                                "b": FeatureSpace.float_rescaled(0.5)})
    out = gkeras.ops.convert_to_numpy(fs({"a": [1.0, 2.0], "b": [4.0, 8.0]}))
    np.testing.assert_allclose(out, [[1.0, 2.0], [2.0, 4.0]])


def test_config_structure_and_round_trip():
    fs = _space()
    cfg = fs.get_config()
    assert set(cfg) == {"features", "output_mode", "crosses", "crossing_dim",
                        "hashing_dim", "num_discretization_bins"}
    # Keras 3.15.1 writes these (read off keras.saving.serialize_keras_object
    # of a FeatureSpace with a "float" feature).
    f = FeatureSpace(features={"f": "float"}).get_config()["features"]["f"]
    assert f["module"] == "keras.src.layers.preprocessing.feature_space"
    assert f["class_name"] == f["registered_name"] == "Feature"
    assert f["config"]["dtype"] == "float32"
    assert f["config"]["output_mode"] == "float"
    assert f["config"]["preprocessor"]["class_name"] == "TFDIdentity"
    assert f["config"]["preprocessor"]["config"]["name"] == "f_preprocessor"
    norm = cfg["features"]["age"]["config"]["preprocessor"]
    assert norm["class_name"] == "Normalization"
    assert norm["config"]["name"] == "age_preprocessor"
    again = FeatureSpace.from_config(cfg)
    assert again.get_config() == cfg
    again.adapt(RAW)
    fs.adapt(RAW)
    np.testing.assert_allclose(gkeras.ops.convert_to_numpy(again(RAW)),
                               gkeras.ops.convert_to_numpy(fs(RAW)))
    with pytest.raises(NotImplementedError, match="save"):
        fs.save("x.keras")


def test_symbolic_numeric_inputs_and_training():
    data = {k: RAW[k] for k in ("age", "code", "r", "d")}
    fs = FeatureSpace(features={
        "age": "float_normalized", "code": "integer_categorical",
        "r": "float", "d": FeatureSpace.float_discretized(num_bins=3)})
    fs.adapt(data)
    encoded = fs.get_encoded_features()
    dim = fs(data).shape[-1]
    assert tuple(encoded.shape) == (None, dim)
    hidden = layers.Dense(4, activation="relu")(encoded)
    out = layers.Dense(1, activation="sigmoid")(hidden)
    inference = gkeras.Model(fs.get_inputs(), out)
    training = gkeras.Sequential([gkeras.Input((dim,)), layers.Dense(1)])
    x = gkeras.ops.convert_to_numpy(fs(data))
    y = (RAW["age"] > 40).astype("float32")
    training.compile(optimizer="adam", loss="mse")
    training.fit(x, y, epochs=2, verbose=0)
    pred = inference.predict({k: np.asarray(v)[:, None]
                              for k, v in data.items()}, verbose=0)
    assert pred.shape == (7, 1)
    # The symbolic graph computes what the eager FeatureSpace computes.
    probe = gkeras.Model(fs.get_inputs(), encoded)
    np.testing.assert_allclose(
        probe.predict({k: np.asarray(v)[:, None] for k, v in data.items()},
                      verbose=0), x, rtol=1e-5, atol=1e-6)


def test_string_inputs_symbolic_not_implemented():
    fs = _space()
    fs.adapt(RAW)
    with pytest.raises(NotImplementedError, match="string"):
        fs.get_inputs()


needs_hashing = pytest.mark.skipif(
    not (hasattr(layers, "Hashing") and hasattr(layers, "HashedCrossing")),
    reason="gkeras.layers.Hashing / HashedCrossing are not in this build "
           "(being added by another change); hashed features and crosses "
           "need them")


@needs_hashing
def test_hashed_features_and_crosses():
    fs = FeatureSpace(features={
        "job": "string_hashed", "code": "integer_hashed",
        "age": "float"}, crosses=[("job", "code")], crossing_dim=8,
        hashing_dim=16, output_mode="dict")
    fs.adapt({k: RAW[k] for k in ("job", "code", "age")})
    out = fs({k: RAW[k] for k in ("job", "code", "age")})
    assert sorted(out) == ["age", "code", "job", "job_X_code"]
    assert tuple(out["job"].shape) == (7, 16)
    assert tuple(out["job_X_code"].shape) == (7, 8)
    for k in ("job", "code", "job_X_code"):
        rows = gkeras.ops.convert_to_numpy(out[k])
        np.testing.assert_array_equal(rows.sum(axis=1), 1)
    # Equal inputs hash to equal bins.
    job = gkeras.ops.convert_to_numpy(out["job"])
    np.testing.assert_array_equal(job[1], job[2])
    cfg = fs.get_config()
    assert cfg["crosses"][0]["class_name"] == "Cross"
    assert FeatureSpace.from_config(cfg).crosses[0].name == "job_X_code"
