"""The pieces a `FeatureSpace` is declared with: `Feature`, `Cross`, the
identity/concatenation layers Keras names `TFDIdentity`/`TFDConcat`, and
their (de)serialization in Keras 3.15's file layout."""

import numpy as np

from gkeras import backend
from gkeras import layers
from gkeras import ops
from gkeras.layers.layer import Layer

_FEATURE_MODULE = "keras.src.layers.preprocessing.feature_space"


def hashing_layer(kind):
    """`layers.Hashing` / `layers.HashedCrossing`, looked up when a feature
    needs it (they are optional until that layer lands in gkeras)."""
    cls = getattr(layers, kind, None)
    if cls is None:
        raise NotImplementedError(
            f"This FeatureSpace needs `gkeras.layers.{kind}` (for hashed "
            "features or feature crosses), which this gkeras build does not "
            "have yet. Use `integer_categorical` / `string_categorical` "
            "features instead, or a gkeras version that ships it.")
    return cls


def serialize_part(obj):
    if isinstance(obj, (Feature, Cross, TFDIdentity, TFDConcat)):
        return {"module": _FEATURE_MODULE,
                "class_name": type(obj).__name__,
                "config": obj.get_config(),
                "registered_name": type(obj).__name__}
    from gkeras.saving.serialization import serialize_keras_object
    return serialize_keras_object(obj)


def deserialize_part(config):
    if not isinstance(config, dict):
        return config
    name = config.get("class_name")
    local = {"Feature": Feature, "Cross": Cross,
             "TFDIdentity": TFDIdentity, "TFDConcat": TFDConcat}
    if name in local:
        return local[name].from_config(dict(config.get("config") or {}))
    return layers.deserialize(config)


class Cross:
    """A crossing of features for `FeatureSpace` (see
    `FeatureSpace.cross`).

    Args:
        feature_names: names of the features to cross.
        crossing_dim: number of hash bins of the crossed feature.
        output_mode: `"one_hot"` (default) or `"int"`.
    """

    def __init__(self, feature_names, crossing_dim, output_mode="one_hot"):
        if output_mode not in {"int", "one_hot"}:
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of "
                f"{{'int', 'one_hot'}}. Received: output_mode={output_mode}")
        self.feature_names = tuple(feature_names)
        self.crossing_dim = crossing_dim
        self.output_mode = output_mode

    @property
    def name(self):
        """The crossed feature's name: `"a_X_b"`."""
        return "_X_".join(self.feature_names)

    def get_config(self):
        return {"feature_names": self.feature_names,
                "crossing_dim": self.crossing_dim,
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Feature:
    """One feature of a `FeatureSpace`: its input dtype, its preprocessing
    layer and how it is encoded (see `FeatureSpace.feature`).

    Args:
        dtype: the input dtype (`"float32"`, `"int32"`, `"string"`, ...).
        preprocessor: a preprocessing layer (or its config dict).
        output_mode: `"int"`, `"one_hot"` or `"float"`.
    """

    def __init__(self, dtype, preprocessor, output_mode):
        if output_mode not in {"int", "one_hot", "float"}:
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of "
                "{'int', 'one_hot', 'float'}. Received: "
                f"output_mode={output_mode}")
        self.dtype = dtype
        if isinstance(preprocessor, dict):
            preprocessor = deserialize_part(preprocessor)
        self.preprocessor = preprocessor
        self.output_mode = output_mode

    def get_config(self):
        return {"dtype": self.dtype,
                "preprocessor": serialize_part(self.preprocessor),
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class TFDIdentity(Layer):
    """The identity preprocessor of `"float"` features (Keras's
    `TFDIdentity`)."""

    def call(self, x):
        return x

    def compute_output_shape(self, input_shape):
        return input_shape


class TFDConcat(Layer):
    """Concatenation of the encoded features (Keras's `TFDConcat`)."""

    def __init__(self, axis, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, xs):
        return ops.concatenate(list(xs), axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def to_numpy_column(x, dtype):
    """A feature column as a NumPy array of the feature's dtype."""
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    x = backend.to_numpy(x) if backend.is_cupy_array(x) else x
    if dtype == "string":
        arr = np.asarray(x)
        if arr.dtype.kind == "S":
            arr = np.char.decode(arr, "utf-8")
        return arr if arr.dtype.kind in "UO" else arr.astype(str)
    return np.asarray(x, dtype=dtype)
