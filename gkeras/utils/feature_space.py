"""`keras.utils.FeatureSpace`: one-stop preprocessing of structured data
(a dict of feature columns) into the encoded features a model trains on.

gkeras runs it on NumPy data: `adapt` takes a dict of arrays or lists (or
an iterable of such dict batches), calling it on a dict of arrays returns
the encoded features (a concatenated float32 tensor, or a dict). The
preprocessing is done by gkeras's own layers: Normalization,
Discretization, StringLookup, IntegerLookup, CategoryEncoding, Rescaling,
and Hashing / HashedCrossing for the hashed features and crosses.
"""

import numpy as np

from gkeras import backend
from gkeras import layers
from gkeras import ops
from gkeras.layers.layer import Layer
from gkeras.utils.feature_space_parts import (Cross, Feature, deserialize_part,
                                              hashing_layer, serialize_part,
                                              TFDConcat, TFDIdentity,
                                              to_numpy_column)
from gkeras.utils.naming import auto_name

_FEATURE_TYPES = ("float", "float_normalized", "float_rescaled",
                  "float_discretized", "integer_categorical",
                  "string_categorical", "integer_hashed", "string_hashed")


class FeatureSpace(Layer):
    """One-stop utility for preprocessing and encoding structured data.

    Declare each feature's type; `adapt()` learns the statistics and
    vocabularies from the data; calling the FeatureSpace on a dict of
    feature arrays returns the encoded features, concatenated in one
    float32 tensor (`output_mode="concat"`) or as a dict
    (`output_mode="dict"`). Features are encoded in sorted name order,
    then the crosses.

    Available feature types (strings, or the class methods of the same
    name for non-default arguments):

    - `"float"`: as is; `"float_rescaled"`: `x * scale + offset`;
      `"float_normalized"`: standardised with the adapted mean/variance;
      `"float_discretized"`: bucketised into `num_discretization_bins`
      quantile bins;
    - `"integer_categorical"` / `"string_categorical"`: indexed against
      the adapted vocabulary (one out-of-vocabulary index);
    - `"integer_hashed"` / `"string_hashed"`: hashed into `hashing_dim`
      bins (these need `gkeras.layers.Hashing`);
    - crosses (`crosses=[("a", "b"), ...]` or `FeatureSpace.cross(...)`):
      hashed crossings into `crossing_dim` bins (`layers.HashedCrossing`).

    Categorical features are one-hot encoded by default (`output_mode=
    "int"` keeps the indices, then only `output_mode="dict"` can hold
    them).

    Args:
        features: dict mapping feature names to a type string, a
            `Feature` (from the class methods) or its config.
        output_mode: `"concat"` (default) or `"dict"`.
        crosses: list of tuples of feature names, or `Cross` objects.
        crossing_dim: default number of bins of the crosses. Defaults to
            `32`.
        hashing_dim: default number of bins of hashed features. Defaults
            to `32`.
        num_discretization_bins: default number of bins of discretized
            features. Defaults to `32`.
        name: name of the layer.

    Example:

    ```python
    raw = {"age": np.array([23., 51., 37.]),
           "job": np.array(["a", "b", "a"]),
           "code": np.array([3, 7, 3])}
    fs = gkeras.utils.FeatureSpace(
        features={"age": "float_normalized", "job": "string_categorical",
                  "code": "integer_categorical"},
        output_mode="concat")
    fs.adapt(raw)
    encoded = fs(raw)   # shape (3, 1 + 3 + 3)
    ```
    """

    @classmethod
    def cross(cls, feature_names, crossing_dim, output_mode="one_hot"):
        """A crossing of `feature_names` into `crossing_dim` hash bins."""
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype, preprocessor, output_mode):
        """A feature with a custom preprocessing layer."""
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name=None):
        """A float feature passed through unchanged."""
        name = name or auto_name("float")
        return Feature(dtype="float32",
                       preprocessor=TFDIdentity(
                           dtype="float32", name=f"{name}_preprocessor"),
                       output_mode="float")

    @classmethod
    def float_rescaled(cls, scale=1.0, offset=0.0, name=None):
        """A float feature rescaled to `x * scale + offset`."""
        name = name or auto_name("float_rescaled")
        return Feature(dtype="float32",
                       preprocessor=layers.Rescaling(
                           scale=scale, offset=offset,
                           name=f"{name}_preprocessor"),
                       output_mode="float")

    @classmethod
    def float_normalized(cls, name=None):
        """A float feature standardised with its adapted mean/variance."""
        name = name or auto_name("float_normalized")
        return Feature(dtype="float32",
                       preprocessor=layers.Normalization(
                           axis=-1, name=f"{name}_preprocessor"),
                       output_mode="float")

    @classmethod
    def float_discretized(cls, num_bins, bin_boundaries=None,
                          output_mode="one_hot", name=None):
        """A float feature bucketised into `num_bins` bins (adapted
        quantiles, or the given `bin_boundaries`)."""
        name = name or auto_name("float_discretized")
        # Keras 3.15 passes both to Discretization, which then refuses any
        # `bin_boundaries`; given boundaries fix the bins, so they win.
        if bin_boundaries is not None:
            num_bins = None
        return Feature(dtype="float32",
                       preprocessor=layers.Discretization(
                           num_bins=num_bins, bin_boundaries=bin_boundaries,
                           name=f"{name}_preprocessor"),
                       output_mode=output_mode)

    @classmethod
    def integer_categorical(cls, max_tokens=None, num_oov_indices=1,
                            output_mode="one_hot", name=None):
        """An integer categorical feature (vocabulary learnt by adapt)."""
        name = name or auto_name("integer_categorical")
        return Feature(dtype="int32",
                       preprocessor=layers.IntegerLookup(
                           name=f"{name}_preprocessor", max_tokens=max_tokens,
                           num_oov_indices=num_oov_indices),
                       output_mode=output_mode)

    @classmethod
    def string_categorical(cls, max_tokens=None, num_oov_indices=1,
                           output_mode="one_hot", name=None):
        """A string categorical feature (vocabulary learnt by adapt)."""
        name = name or auto_name("string_categorical")
        return Feature(dtype="string",
                       preprocessor=layers.StringLookup(
                           name=f"{name}_preprocessor", max_tokens=max_tokens,
                           num_oov_indices=num_oov_indices),
                       output_mode=output_mode)

    @classmethod
    def string_hashed(cls, num_bins, output_mode="one_hot", name=None):
        """A string feature hashed into `num_bins` bins."""
        name = name or auto_name("string_hashed")
        return Feature(dtype="string",
                       preprocessor=hashing_layer("Hashing")(
                           name=f"{name}_preprocessor", num_bins=num_bins),
                       output_mode=output_mode)

    @classmethod
    def integer_hashed(cls, num_bins, output_mode="one_hot", name=None):
        """An integer feature hashed into `num_bins` bins."""
        name = name or auto_name("integer_hashed")
        return Feature(dtype="int32",
                       preprocessor=hashing_layer("Hashing")(
                           name=f"{name}_preprocessor", num_bins=num_bins),
                       output_mode=output_mode)

    def __init__(self, features, output_mode="concat", crosses=None,
                 crossing_dim=32, hashing_dim=32, num_discretization_bins=32,
                 name=None):
        super().__init__(name=name)
        if not features:
            raise ValueError(
                "The `features` argument cannot be None or empty.")
        self.crossing_dim = crossing_dim
        self.hashing_dim = hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.features = {n: self._standardize_feature(n, v)
                         for n, v in features.items()}
        self.crosses = []
        for cross in crosses or ():
            if isinstance(cross, dict):
                cross = deserialize_part(cross)
            if not isinstance(cross, Cross):
                if not crossing_dim:
                    raise ValueError(
                        "When specifying `crosses`, the argument "
                        "`crossing_dim` (dimensionality of the crossing "
                        "space) should be specified as well.")
                unknown = [k for k in cross if k not in self.features]
                if unknown:
                    raise ValueError(
                        "All features referenced in the `crosses` argument "
                        "should be present in the `features` dict. Received "
                        f"unknown features: {unknown} in cross {cross}")
                cross = Cross(cross, crossing_dim=crossing_dim)
            self.crosses.append(cross)
        self.crosses_by_name = {c.name: c for c in self.crosses}
        if output_mode not in {"dict", "concat"}:
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of "
                f"{{'dict', 'concat'}}. Received: output_mode={output_mode}")
        self.output_mode = output_mode
        self.preprocessors = {n: f.preprocessor
                              for n, f in self.features.items()}
        self.crossers = {c.name: hashing_layer("HashedCrossing")(
            c.crossing_dim, name=c.name) for c in self.crosses}
        self.one_hot_encoders = {}
        self.concat = None
        self.inputs = None
        self.encoded_features = None
        self._is_adapted = False
        self._sublayers_built = False

    def _standardize_feature(self, name, feature):
        if isinstance(feature, Feature):
            return feature
        if isinstance(feature, dict):
            return deserialize_part(feature)
        if feature == "float":
            return self.float(name=name)
        if feature == "float_normalized":
            return self.float_normalized(name=name)
        if feature == "float_rescaled":
            return self.float_rescaled(name=name)
        if feature == "float_discretized":
            return self.float_discretized(
                name=name, num_bins=self.num_discretization_bins)
        if feature == "integer_categorical":
            return self.integer_categorical(name=name)
        if feature == "string_categorical":
            return self.string_categorical(name=name)
        if feature == "integer_hashed":
            return self.integer_hashed(self.hashing_dim, name=name)
        if feature == "string_hashed":
            return self.string_hashed(self.hashing_dim, name=name)
        raise ValueError(
            f"Invalid feature type for feature {name!r}: {feature!r}. "
            f"Expected one of {list(_FEATURE_TYPES)} or a Feature.")

    # ------------------------------------------------------------- adapt
    def _list_adaptable_preprocessors(self):
        names = []
        for name in self.features:
            pre = self.preprocessors[name]
            if isinstance(pre, layers.Normalization) and \
                    getattr(pre, "input_mean", None) is not None:
                continue
            if isinstance(pre, layers.Discretization) and \
                    pre.num_bins is None:
                continue  # fixed `bin_boundaries`: nothing to learn
            if isinstance(pre, layers.TextVectorization) and \
                    getattr(pre, "_has_input_vocabulary", False):
                continue
            if hasattr(pre, "adapt"):
                names.append(name)
        return names

    @staticmethod
    def _gather(dataset):
        """The whole data as `{name: array}` from a dict of arrays/lists
        or an iterable of dict batches."""
        if isinstance(dataset, dict):
            return dict(dataset)
        if hasattr(dataset, "as_numpy_iterator"):  # a tf.data.Dataset
            dataset = dataset.as_numpy_iterator()
        if isinstance(dataset, (str, bytes, np.ndarray)) or not hasattr(
                dataset, "__iter__"):
            raise ValueError(
                "`adapt()` can only be called on a dict of arrays/lists, or "
                "an iterable (generator, tf.data.Dataset, PyDataset) of such "
                f"dicts. Received instead: {dataset!r} (of type "
                f"{type(dataset)})")
        columns = {}
        for batch in dataset:
            if not isinstance(batch, dict):
                raise ValueError(
                    "`adapt()` expects each batch of the dataset to be a dict "
                    "of feature arrays (map away the targets first). "
                    f"Received a batch of type {type(batch)}")
            for k, v in batch.items():
                columns.setdefault(k, []).append(np.asarray(v))
        if not columns:
            raise ValueError("`adapt()` received an empty dataset.")
        return {k: np.concatenate([np.atleast_1d(x) for x in v], axis=0)
                for k, v in columns.items()}

    def adapt(self, dataset):
        """Learns the statistics and vocabularies of the features.

        Args:
            dataset: a dict mapping each feature name to an array or list
                of values (one per sample), or an iterable of such dicts
                (batches).
        """
        data = self._gather(dataset)
        for name in self._list_adaptable_preprocessors():
            if name not in data:
                raise ValueError(
                    f"`adapt()`: the data has no feature {name!r}. Received "
                    f"features: {sorted(data)}")
            x = to_numpy_column(data[name], self.features[name].dtype)
            if x.ndim in (0, 1):
                x = x.reshape(-1, 1)
            self.preprocessors[name].adapt(x)
        self._is_adapted = True
        self._build_encoders()

    # --------------------------------------------------------- encoding
    def _check_if_adapted(self):
        if not self._is_adapted:
            if not self._list_adaptable_preprocessors():
                self._is_adapted = True
            else:
                raise ValueError(
                    "You need to call `.adapt(dataset)` on the FeatureSpace "
                    "before you can start using it.")

    def _check_if_built(self):
        if not self._sublayers_built:
            self._check_if_adapted()
            self._build_encoders()

    def _names(self):
        return sorted(self.features), sorted(self.crosses_by_name)

    def _cardinality(self, name, preprocessor):
        if isinstance(preprocessor, (layers.IntegerLookup,
                                     layers.StringLookup)):
            return preprocessor.vocabulary_size()
        if isinstance(preprocessor, layers.CategoryEncoding):
            return preprocessor.num_tokens
        if isinstance(preprocessor, layers.Discretization):
            if preprocessor.num_bins is not None:
                return preprocessor.num_bins
            return len(preprocessor.bin_boundaries) + 1
        hashing = tuple(getattr(layers, k) for k in ("Hashing",
                                                     "HashedCrossing")
                        if hasattr(layers, k))
        if hashing and isinstance(preprocessor, hashing):
            return preprocessor.num_bins
        raise ValueError(
            f"Feature '{name}' has `output_mode='one_hot'`. However it isn't "
            "a standard feature and the dimensionality of its output space "
            "is not known, thus it cannot be one-hot encoded. Try using "
            "`output_mode='int'`.")

    def _build_encoders(self):
        """Creates the one-hot encoders (cardinalities are known once
        adapted) and the concatenation."""
        feature_names, cross_names = self._names()
        specs = [(n, self.features[n], self.preprocessors[n])
                 for n in feature_names]
        specs += [(n, self.crosses_by_name[n], self.crossers[n])
                  for n in cross_names]
        self.one_hot_encoders = {}
        for name, spec, pre in specs:
            if spec.output_mode == "one_hot":
                self.one_hot_encoders[name] = layers.CategoryEncoding(
                    num_tokens=self._cardinality(name, pre),
                    output_mode="multi_hot")
            elif self.output_mode == "concat" and spec.output_mode == "int":
                raise ValueError(
                    f"Cannot concatenate features because feature '{name}' "
                    "has not been encoded (it has an integer dtype). "
                    "Consider using `output_mode='dict'`.")
        if self.output_mode == "concat":
            self.concat = TFDConcat(axis=-1)
        self._sublayers_built = True
        self.built = True

    def _preprocess(self, data):
        out = {}
        for name in sorted(self.features):
            if name not in data:
                raise ValueError(
                    f"FeatureSpace {self.name!r}: the input has no feature "
                    f"{name!r}. Expected the features {sorted(self.features)}"
                    f"; received {sorted(data)}.")
            out[name] = self.preprocessors[name](data[name])
        return out

    def _cross(self, preprocessed):
        return {c.name: self.crossers[c.name](
            [preprocessed[n] for n in c.feature_names])
            for c in self.crosses}

    def _merge(self, preprocessed, crossed):
        feature_names, cross_names = self._names()
        merged = [(n, preprocessed[n]) for n in feature_names]
        merged += [(n, crossed[n]) for n in cross_names]
        out = {}
        for name, value in merged:
            encoder = self.one_hot_encoders.get(name)
            if encoder is not None:
                dtype = backend.standardize_dtype(
                    getattr(value, "dtype", "float32"))
                if not dtype.startswith(("int", "uint")):
                    raise ValueError(
                        f"Feature '{name}' has `output_mode='one_hot'`. Thus "
                        "its preprocessor should return an integer dtype. "
                        f"Instead it returns a {dtype} dtype.")
                value = encoder(value)
            elif self.output_mode == "concat":
                value = ops.cast(value, "float32")
            out[name] = value
        if self.output_mode == "concat":
            return self.concat([out[n] for n, _ in merged])
        return out

    def __call__(self, data):
        """Preprocesses and encodes a dict of feature values.

        Args:
            data: dict mapping each feature name to an array or list of
                values (a batch), or to a scalar (a single sample).

        Returns:
            The encoded features: a float32 tensor of shape
            `(batch, encoded_dim)` for `output_mode="concat"`, else a dict
            of tensors (the batch axis dropped for a single sample).
        """
        self._check_if_built()
        if not isinstance(data, dict):
            raise ValueError(
                "A FeatureSpace can only be called with a dict. Received: "
                f"data={data!r} (of type {type(data)})")
        columns = {}
        rebatched = False
        for name, x in data.items():
            dtype = (self.features[name].dtype if name in self.features
                     else None)
            x = to_numpy_column(x, dtype) if dtype else np.asarray(x)
            if x.ndim == 0:
                x = x.reshape(1, 1)
                rebatched = True
            elif x.ndim == 1:
                x = x[:, None]
            columns[name] = x
        preprocessed = self._preprocess(columns)
        merged = self._merge(preprocessed, self._cross(preprocessed))
        if rebatched:
            if self.output_mode == "concat":
                merged = ops.squeeze(merged, axis=0)
            else:
                merged = {k: ops.squeeze(v, axis=0)
                          if len(v.shape) == 2 and v.shape[0] == 1 else v
                          for k, v in merged.items()}
        return merged

    # ---------------------------------------------------- symbolic graph
    def get_inputs(self):
        """The `Input` of each feature, as a dict (for building an
        inference model that takes raw features)."""
        self._check_if_built()
        if self.inputs is None:
            strings = [n for n, f in self.features.items()
                       if f.dtype == "string"]
            if strings:
                raise NotImplementedError(
                    f"FeatureSpace.get_inputs(): the features {strings} are "
                    "strings, and gkeras's functional API has no string "
                    "`Input` yet. Call the FeatureSpace on the data "
                    "(`feature_space(x)`, e.g. in a data pipeline) and build "
                    "the model on `Input(shape=(encoded_dim,))`.")
            self.inputs = {n: layers.Input(shape=(1,), dtype=f.dtype,
                                           name=n)
                           for n, f in self.features.items()}
        return self.inputs

    def get_encoded_features(self):
        """The encoded features as symbolic tensors of `get_inputs()`
        (the input of a training model)."""
        if self.encoded_features is None:
            inputs = self.get_inputs()
            preprocessed = self._preprocess(inputs)
            self.encoded_features = self._merge(
                preprocessed, self._cross(preprocessed))
        return self.encoded_features

    # ------------------------------------------------------------ config
    def get_config(self):
        return {
            "features": {n: serialize_part(f) for n, f in self.features.items()},
            "output_mode": self.output_mode,
            "crosses": [serialize_part(c) for c in self.crosses],
            "crossing_dim": self.crossing_dim,
            "hashing_dim": self.hashing_dim,
            "num_discretization_bins": self.num_discretization_bins,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def save(self, filepath):
        """Not available in gkeras yet (see the message)."""
        raise NotImplementedError(
            "FeatureSpace.save() is not implemented in gkeras: the adapted "
            "vocabularies and statistics are not written to .keras files "
            "yet. Keep the FeatureSpace object (e.g. pickle its config and "
            "re-adapt), or save the model that consumes its output.")

