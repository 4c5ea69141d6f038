"""`Hashing` and `HashedCrossing`: categorical features to hash bins, with
Keras's (TensorFlow's) hashes, so the same values land in the same bins.

Hashing happens on the host (strings live there); the bins are returned
as a tensor of the backend.
"""

import numpy as np

from gkeras import backend
from gkeras.layers.layer import Layer
from gkeras.layers.preprocessing.hash_functions import (
    cross_hash_bucket, hash_bucket_fast, hash_bucket_strong)
from gkeras.layers.preprocessing.preprocessing_utils import (
    as_array, check_no_sparse, check_output_mode, encode_indices, to_output)
from gkeras.ops.symbolic import KerasTensor

__all__ = ["Hashing", "HashedCrossing"]


def _python_values(a):
    """The elements of a host array as Python str/bytes/int."""
    if a.dtype.kind == "f":
        # Keras casts float inputs to int64 before hashing their text.
        a = a.astype(np.int64)
    return a


def _map_unique(a, fn):
    """Applies `fn` once per distinct value of `a` (hashing is slow in
    pure Python; categorical data repeats)."""
    flat = a.reshape(-1)
    if flat.dtype == object:
        keys = {}
        out = np.empty(flat.shape, np.int64)
        for i, v in enumerate(flat):
            if isinstance(v, np.generic):
                v = v.item()
            h = keys.get(v)
            if h is None:
                h = keys[v] = fn(v)
            out[i] = h
        return out.reshape(a.shape)
    uniq, inv = np.unique(flat, return_inverse=True)
    table = np.array([fn(v.item()) for v in uniq], np.int64)
    return table[inv.reshape(-1)].reshape(a.shape)


class Hashing(Layer):
    """A preprocessing layer which hashes and bins categorical features.

    Strings are hashed with FarmHash64 (`tf.strings.to_hash_bucket_fast`),
    or with SipHash64 keyed by `salt` (`to_hash_bucket_strong`); integers
    are hashed through their decimal text and floats are first cast to
    int64, as Keras does. With `mask_value`, masked entries map to bin 0
    and the others to `1 + hash % (num_bins - 1)`.

    Args:
        num_bins: number of hash bins (including the mask bin).
        mask_value: a value mapped to bin 0, or None.
        salt: an int or a pair of ints: use the keyed (strong) hash.
        output_mode: `"int"` (default), `"one_hot"`, `"multi_hot"` or
            `"count"`.
        sparse: must be False (gkeras has no sparse tensors).
        **kwargs: base layer arguments (`name`, `dtype`).

    Returns:
        int64 bin indices (`"int"`), or float encodings of `num_bins`.

    Example:
    >>> layer = gkeras.layers.Hashing(num_bins=3)
    >>> layer([['A'], ['B'], ['C'], ['D'], ['E']]).numpy().ravel()
    array([1, 0, 1, 1, 2])
    """

    def __init__(self, num_bins, mask_value=None, salt=None,
                 output_mode="int", sparse=False, **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" \
                else backend.floatx()
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError(
                "The `num_bins` for `Hashing` cannot be `None` or "
                f"non-positive values. Received: num_bins={num_bins}.")
        if output_mode == "int" and str(self.dtype) not in ("int32",
                                                            "int64"):
            raise ValueError(
                'When `output_mode="int"`, `dtype` should be an integer '
                f"type, 'int32' or 'int64'. Received: dtype="
                f"{kwargs['dtype']}")
        check_output_mode("Hashing", output_mode,
                          ("int", "one_hot", "multi_hot", "count"))
        if sparse and output_mode == "int":
            raise ValueError(
                "`sparse` may only be true if `output_mode` is "
                '`"one_hot"`, `"multi_hot"`, or `"count"`. '
                f"Received: sparse={sparse} and output_mode={output_mode}")
        check_no_sparse("Hashing", sparse)
        self.num_bins = int(num_bins)
        self.mask_value = mask_value
        self.strong_hash = salt is not None
        self.output_mode = output_mode
        self.sparse = sparse
        self.salt = None
        if salt is not None:
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                self.salt = list(salt)
            elif isinstance(salt, int):
                self.salt = [salt, salt]
            else:
                raise ValueError(
                    "The `salt` argument for `Hashing` can only be a tuple "
                    "of size 2 integers, or a single integer. Received: "
                    f"salt={salt}.")
        self.built = True

    def _bins(self, values):
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask = values == self.mask_value
        vals = _python_values(values)
        if self.strong_hash:
            salt = self.salt
            out = _map_unique(vals,
                              lambda v: hash_bucket_strong(v, bins, salt))
        else:
            out = _map_unique(vals, lambda v: hash_bucket_fast(v, bins))
        if mask is not None:
            out = np.where(mask, 0, out + 1)
        return out

    def call(self, inputs):
        x = as_array(inputs, "Hashing")
        if self.output_mode == "one_hot" and x.ndim and x.shape[-1] == 1:
            x = x[..., 0]
        idx = self._bins(x)
        if self.output_mode == "int":
            return to_output(idx, self.dtype)
        return to_output(encode_indices(idx, self.output_mode,
                                        self.num_bins, layer="Hashing"),
                         self.dtype)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_bins,)
        return tuple(input_shape[:-1]) + (self.num_bins,)

    def compute_output_spec(self, inputs):
        return KerasTensor(self.compute_output_shape(inputs.shape),
                           dtype=self.dtype)

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins,
                "salt": self.salt, "mask_value": self.mask_value,
                "output_mode": self.output_mode, "sparse": self.sparse}


class HashedCrossing(Layer):
    """A preprocessing layer which crosses features with hashing.

    Each row's features are combined as `tf.sparse.cross_hashed` does
    (FarmHash64 of strings, integers as is, chained with
    `FingerprintCat64` from the key 0xDECAFCAFFE), then binned modulo
    `num_bins`.

    Args:
        num_bins: number of hash bins.
        output_mode: `"int"` (default) or `"one_hot"`.
        sparse: must be False (gkeras has no sparse tensors).
        name: layer name.
        dtype: output dtype (int64 for `"int"` by default).

    Returns:
        The crossed bins, shaped like one input (`"int"`), or their
        one-hot encoding.

    Example:
    >>> layer = gkeras.layers.HashedCrossing(num_bins=5)
    >>> feat1 = np.array(['A', 'B', 'A', 'B', 'A'])
    >>> feat2 = np.array([101, 101, 101, 102, 102])
    >>> layer((feat1, feat2)).numpy()
    array([1, 4, 1, 1, 3])
    """

    def __init__(self, num_bins, output_mode="int", sparse=False, name=None,
                 dtype=None, **kwargs):
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype, **kwargs)
        check_output_mode("HashedCrossing", output_mode, ("int", "one_hot"))
        if sparse:
            raise ValueError(
                "`sparse=True` can only be used with the TensorFlow backend.")
        self.num_bins = int(num_bins)
        self.output_mode = output_mode
        self.sparse = sparse
        self.built = True

    def _check(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                "`HashedCrossing` should be called on a list or tuple of "
                f"inputs. Received: inputs={inputs!r}")
        if len(inputs) < 2:
            raise ValueError(
                "`HashedCrossing` should be called on at least two inputs. "
                f"Received: inputs={inputs!r}")
        arrays = [as_array(x, "HashedCrossing") for x in inputs]
        first = arrays[0].shape
        if len(first) > 2 or (len(first) == 2 and first[-1] != 1):
            raise ValueError(
                "All `HashedCrossing` inputs should have shape `()`, "
                "`(batch_size)` or `(batch_size, 1)`. Received shapes: "
                f"{[a.shape for a in arrays]}")
        if not all(a.shape == first for a in arrays[1:]):
            raise ValueError(
                "All `HashedCrossing` inputs should have equal shape. "
                f"Received shapes: {[a.shape for a in arrays]}")
        for a in arrays:
            if a.dtype.kind not in "iuUSO":
                raise ValueError(
                    "HashedCrossing: inputs must be integers or strings "
                    f"(as tf.sparse.cross_hashed). Received dtype {a.dtype}")
        return arrays

    def call(self, inputs):
        arrays = self._check(inputs)
        shape = arrays[0].shape
        cols = [a.reshape(-1) for a in arrays]
        rows = []
        for i in range(cols[0].shape[0]):
            rows.append(cross_hash_bucket(
                [c[i].item() if isinstance(c[i], np.generic) else c[i]
                 for c in cols], self.num_bins))
        out = np.asarray(rows, np.int64).reshape(shape)
        if self.output_mode == "int":
            return to_output(out, self.dtype)
        return to_output(encode_indices(out, "one_hot", self.num_bins,
                                        layer="HashedCrossing"),
                         self.compute_dtype)

    def compute_output_shape(self, input_shape):
        if (len(input_shape) != 2 or not isinstance(input_shape[0], tuple)
                or not isinstance(input_shape[1], tuple)):
            raise ValueError("Expected as input a list/tuple of 2 tensors. "
                             f"Received input_shape={input_shape}")
        first = tuple(input_shape[0])
        if self.output_mode == "int":
            return first
        if not first:
            return (self.num_bins,)
        if first[-1] != 1:
            return first + (self.num_bins,)
        return first[:-1] + (self.num_bins,)

    def compute_output_spec(self, inputs):
        shapes = [tuple(x.shape) for x in inputs]
        return KerasTensor(self.compute_output_shape(shapes[:2]),
                           dtype=self.dtype)

    def get_config(self):
        return {"num_bins": self.num_bins, "output_mode": self.output_mode,
                "sparse": self.sparse, "name": self.name,
                "dtype": self.dtype}
