"""Vocabulary lookup layers: `StringLookup` and `IntegerLookup` over a shared
`_IndexLookup` (Keras's index layout: mask, OOV buckets, tokens).

Strings stay NumPy arrays: gkeras tensors are numeric.
"""

import json
import zlib

import numpy as np

from gkeras.layers.layer import Layer
from gkeras.layers.preprocessing.preprocessing_utils import (
    as_array, check_no_sparse, check_output_mode, encode_indices,
    encoded_shape, is_batch_iterable, take_batches, to_host, to_output)
from gkeras.ops.symbolic import KerasTensor

__all__ = ["IntegerLookup", "StringLookup"]


class _IndexLookup(Layer):
    """Maps tokens to indices (and back) from a learned or given vocabulary.

    Index layout (Keras's): `[mask (int mode only)] [OOV buckets] [tokens]`.
    Subclasses define the token type: `_to_tokens` (array of inputs) and
    `_token_value` (one Python token).
    """

    _vocab_dtype = None  # numpy dtype used for token arrays

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token,
                 vocabulary_dtype, vocabulary=None, idf_weights=None,
                 invert=False, output_mode="int", sparse=False,
                 pad_to_max_tokens=False, oov_method="floormod", salt=None,
                 name=None, **kwargs):
        cls_name = type(self).__name__
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(
                f"{cls_name}: if `max_tokens` is set, it must be greater "
                f"than 1. Received: max_tokens={max_tokens}")
        if num_oov_indices is None or num_oov_indices < 0:
            raise ValueError(
                f"{cls_name}: `num_oov_indices` must be >= 0. Received: "
                f"num_oov_indices={num_oov_indices}")
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        check_output_mode(cls_name, output_mode,
                    ("int", "one_hot", "multi_hot", "count", "tf_idf"))
        if invert and output_mode != "int":
            raise ValueError(
                f"{cls_name}: `output_mode` must be `'int'` when `invert` is "
                f"true. Received: output_mode={output_mode!r}")
        if sparse and output_mode == "int":
            raise ValueError(
                f"{cls_name}: `sparse` may only be true if `output_mode` is "
                "`'one_hot'`, `'multi_hot'`, `'count'` or `'tf_idf'`. "
                f"Received: sparse={sparse} and output_mode={output_mode!r}")
        check_no_sparse(cls_name, sparse)
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(
                f"{cls_name}: `idf_weights` should only be set if "
                "`output_mode` is `'tf_idf'`. Received: idf_weights="
                f"{idf_weights} and output_mode={output_mode!r}")
        frozen = kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary",
                                          vocabulary is not None)
        kwargs.pop("dtype", None)
        kwargs.pop("trainable", None)
        super().__init__(name=name, **kwargs)
        self.invert = bool(invert)
        self.max_tokens = max_tokens
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = None if mask_token is None else \
            self._token_value(mask_token)
        self.oov_token = None if oov_token is None else \
            self._token_value(oov_token)
        self.output_mode = output_mode
        self.sparse = sparse
        self.pad_to_max_tokens = pad_to_max_tokens
        self.vocabulary_dtype = vocabulary_dtype
        self.oov_method = oov_method
        self.salt = salt
        self._frozen_vocab_size = frozen
        self.input_vocabulary = vocabulary if not isinstance(vocabulary, str) \
            else None
        if isinstance(self.input_vocabulary, np.ndarray):
            self.input_vocabulary = self.input_vocabulary.tolist()
        self.input_idf_weights = idf_weights
        self._has_input_vocabulary = has_input_vocabulary
        self._tokens = None          # learned/given tokens, no specials
        self._index = {}
        self.idf_weights = None      # float32 NumPy array (tf_idf only)
        self.reset_state()
        if output_mode == "tf_idf" and has_input_vocabulary and \
                idf_weights is None:
            raise ValueError(
                f"{cls_name}: when specifying the `vocabulary` argument in "
                "TF-IDF output mode, the `idf_weights` argument must also be "
                "provided.")
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # -- token handling ------------------------------------------------------

    def _token_value(self, t):
        raise NotImplementedError

    def _to_tokens(self, x):
        raise NotImplementedError

    def _oov_start_index(self):
        return 1 if self.mask_token is not None and \
            self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    # -- vocabulary ----------------------------------------------------------

    def vocabulary_size(self):
        """The vocabulary size, mask and OOV indices included."""
        n = 0 if self._tokens is None else len(self._tokens)
        return n + self._token_start_index()

    def get_vocabulary(self, include_special_tokens=True):
        """Returns the vocabulary as a list, in index order.

        Args:
            include_special_tokens: if True, the mask and OOV tokens are
                included, so a token's list position is its index.
        """
        tokens = [] if self._tokens is None else list(self._tokens)
        specials = [self.mask_token] * self._oov_start_index() + \
            [self.oov_token] * self.num_oov_indices
        vocab = specials + tokens
        if not include_special_tokens:
            vocab = vocab[self._token_start_index():]
        return vocab

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the vocabulary (and IDF weights for `"tf_idf"`) directly.

        Args:
            vocabulary: a list/tuple/1D array of tokens, or the path of a
                text file with one token per line. It may start with the
                special tokens (mask, OOV) in index order.
            idf_weights: a 1D array of IDF weights, one per token; required
                with `output_mode="tf_idf"`, refused otherwise.
        """
        name = type(self).__name__
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError(
                    f"{name}: `idf_weights` must be set if output_mode is "
                    "'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError(
                f"{name}: `idf_weights` should only be set if output_mode is "
                f"'tf_idf'. Received: output_mode={self.output_mode!r} and "
                f"idf_weights={idf_weights}")
        if isinstance(vocabulary, str):
            from gkeras.saving import in_safe_mode
            if in_safe_mode():
                # A model file naming a local file would copy it into the
                # model (and into every later save of it).
                raise ValueError(
                    f"{name}: requested the loading of a vocabulary file "
                    "outside of the model file. This carries a potential "
                    "risk of loading arbitrary and sensitive files and thus "
                    "it is disallowed by default. If you trust the source of "
                    "the model file, pass `safe_mode=False` to the loading "
                    f"function. Vocabulary file: {vocabulary!r}")
            if self.output_mode == "tf_idf":
                raise ValueError(
                    f"{name}: output_mode 'tf_idf' does not support loading "
                    "a vocabulary from file.")
            try:
                with open(vocabulary, encoding="utf-8") as f:
                    lines = f.read().splitlines()
            except OSError:
                raise ValueError(
                    f"{name}: vocabulary file {vocabulary} does not exist."
                ) from None
            while lines and lines[-1] == "":
                lines.pop()
            vocabulary = lines
        vocabulary = [self._token_value(t) for t in np.asarray(
            to_host(vocabulary), dtype=object).reshape(-1)] if not isinstance(
                vocabulary, (list, tuple)) else \
            [self._token_value(t) for t in vocabulary]
        if not vocabulary:
            raise ValueError(
                f"{name}: cannot set an empty vocabulary. Received: "
                f"vocabulary={vocabulary}")
        token_start = self._token_start_index()
        specials = [self.mask_token] * self._oov_start_index() + \
            [self.oov_token] * self.num_oov_indices
        found_specials = vocabulary[:token_start] == specials
        tokens = vocabulary[token_start:] if found_specials else vocabulary
        seen, repeated = set(), []
        for t in tokens:
            if t in seen and t not in repeated:
                repeated.append(t)
            seen.add(t)
        if repeated:
            raise ValueError(
                f"{name}: the passed vocabulary has at least one repeated "
                f"term. Please uniquify your dataset. The repeated terms "
                f"are: {repeated}")
        if self.mask_token is not None and self.mask_token in seen:
            raise ValueError(
                f"{name}: found reserved mask token {self.mask_token!r} at "
                "an unexpected location in `vocabulary`. Either remove all "
                "mask and OOV tokens, or include them only at the start of "
                f"the vocabulary in precisely this order: {specials}.")
        if self.oov_token is not None and self.invert and \
                self.oov_token in seen:
            raise ValueError(
                f"{name}: found reserved OOV token {self.oov_token!r} at an "
                "unexpected location in `vocabulary`. Either remove all mask "
                "and OOV tokens, or include them only at the start of the "
                f"vocabulary in precisely this order: {specials}.")
        new_size = token_start + len(tokens)
        if self.max_tokens is not None and new_size > self.max_tokens:
            raise ValueError(
                f"{name}: attempted to set a vocabulary larger than the "
                f"maximum vocab size. Received vocabulary size is "
                f"{new_size}; `max_tokens` is {self.max_tokens}.")
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            w = np.asarray(to_host(idf_weights), dtype=np.float64)
            if w.ndim != 1:
                raise ValueError(
                    f"{name}: TF-IDF data must be a 1-index array. Received "
                    f"idf_weights of shape {w.shape}")
            if len(w) != len(vocabulary):
                raise ValueError(
                    f"{name}: `idf_weights` must be the same length as "
                    f"vocabulary. len(idf_weights) is {len(w)}; "
                    f"len(vocabulary) is {len(vocabulary)}")
            front = 0 if found_specials else token_start
            front_value = 0 if found_specials else np.average(w)
            back = self.max_tokens - front - len(w) \
                if self.pad_to_max_tokens and self.max_tokens else 0
            self.idf_weights = np.pad(
                w, (front, back), "constant",
                constant_values=(front_value, 0)).astype(np.float32)

    def _set_tokens(self, tokens):
        self._tokens = list(tokens)
        start = self._token_start_index()
        self._index = {t: i + start for i, t in enumerate(self._tokens)}
        self._frozen_vocab_size = self.vocabulary_size()

    # -- adapt ---------------------------------------------------------------

    def reset_state(self):
        self._counts = {}
        self._doc_counts = {}
        self._num_documents = 0

    def adapt(self, data, steps=None):
        """Learns the vocabulary from the tokens of `data`.

        Tokens are sorted by count, ties broken by token order, high to
        low, as in Keras; `max_tokens` truncates the result.

        Args:
            data: a NumPy array or (nested) list of tokens, or an iterable /
                generator yielding batches. In a single array every row is a
                document (for `"tf_idf"`); a 1D array is a column of
                one-token documents.
            steps: the number of batches to draw from an iterable.
        """
        self.reset_state()
        if is_batch_iterable(data):
            batches = take_batches(data, steps)
            for batch in batches:
                self.update_state(batch)
        else:
            x = self._to_tokens(data)
            if x.ndim == 1:
                x = x[:, None]
            self.update_state(x)
        self.finalize_state()

    def update_state(self, data):
        if self._has_input_vocabulary:
            raise ValueError(
                f"{type(self).__name__}: cannot adapt layer {self.name!r} "
                "after setting a static vocabulary via the `vocabulary` "
                "argument.")
        x = self._to_tokens(data)
        if x.ndim <= 1:
            x = x.reshape(1, -1)
        toks, counts = np.unique(x.reshape(-1), return_counts=True)
        for t, c in zip(toks.tolist(), counts.tolist()):
            self._counts[t] = self._counts.get(t, 0) + c
        if self.output_mode == "tf_idf":
            for row in x:
                for t in np.unique(row.reshape(-1)).tolist():
                    self._doc_counts[t] = self._doc_counts.get(t, 0) + 1
            self._num_documents += x.shape[0]

    def finalize_state(self):
        if self._has_input_vocabulary or not self._counts:
            return
        for special in (self.mask_token, self.oov_token):
            self._counts.pop(special, None)
        toks = list(self._counts)
        tok_arr = np.array(toks, dtype=self._vocab_dtype)
        counts = np.array([self._counts[t] for t in toks], dtype=np.int64)
        order = np.lexsort((tok_arr, counts))[::-1]
        if self.max_tokens:
            order = order[:self.max_tokens - self._token_start_index()]
        tokens = [toks[i] for i in order]
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            dc = np.array([self._doc_counts.get(t, 0) for t in tokens],
                          dtype=np.float64)
            idf = np.log(1 + self._num_documents / (1 + dc))
            idf = idf.astype(np.float32)
            front = np.full(self._token_start_index(),
                            idf.mean() if idf.size else 0, np.float32)
            idf = np.concatenate([front, idf])
            if self.pad_to_max_tokens and self.max_tokens is not None:
                idf = np.pad(idf, (0, self.max_tokens - idf.size))
            self.idf_weights = idf.astype(np.float32)
        self.reset_state()

    # -- call ----------------------------------------------------------------

    def _oov_buckets(self, tokens):
        raise NotImplementedError

    def _lookup(self, x):
        """int64 indices of the token array `x` (-1 for masked entries in
        the encoding modes)."""
        flat = x.reshape(-1)
        uniq, inverse = np.unique(flat, return_inverse=True)
        default = self._oov_start_index() if self.num_oov_indices == 1 \
            else -1
        ids = np.array([self._index.get(t, default) for t in uniq.tolist()],
                       dtype=np.int64)
        if self.num_oov_indices == 0 and (ids == -1).any():
            oov = [t for t, i in zip(uniq.tolist(), ids) if i == -1
                   and t != self.mask_token]
            if oov:
                raise ValueError(
                    f"{type(self).__name__}: when `num_oov_indices=0` all "
                    "inputs should be in vocabulary, found OOV values "
                    f"{oov[:10]}, consider setting `num_oov_indices=1`.")
        elif self.num_oov_indices > 1:
            miss = ids == -1
            if miss.any():
                ids[miss] = self._oov_buckets(uniq[miss]) + \
                    self._oov_start_index()
        if self.mask_token is not None:
            ids[np.array([t == self.mask_token for t in uniq.tolist()],
                         dtype=bool)] = 0 if self.output_mode == "int" else -1
        return ids[inverse].reshape(x.shape)

    def _invert_lookup(self, x):
        vocab = self.get_vocabulary()
        table = np.array(vocab + [self.oov_token], dtype=object)
        idx = np.asarray(x).astype(np.int64)
        keep = (idx >= self._token_start_index()) & (idx < len(vocab))
        if self.mask_token is not None:
            keep |= idx == 0
        return table[np.where(keep, idx, len(vocab))]

    def _require_vocabulary(self):
        if self._tokens is None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: the layer has no "
                "vocabulary yet. Call `adapt()` on some data, or pass a "
                "`vocabulary` argument (or call `set_vocabulary()`), before "
                "calling the layer.")

    def call(self, inputs):
        self._require_vocabulary()
        if self.invert:
            return self._invert_output(self._invert_lookup(to_host(inputs)))
        x = self._to_tokens(inputs)
        ids = self._lookup(x)
        if self.output_mode == "int":
            return to_output(ids, "int64")
        depth = self.max_tokens if self.pad_to_max_tokens and \
            self.max_tokens else self._frozen_vocab_size
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        out = encode_indices(ids, mode, depth, layer=type(self).__name__)
        if self.output_mode == "tf_idf":
            out = out * self.idf_weights[:depth]
        return to_output(out, "float32")

    def _invert_output(self, tokens):
        return tokens

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = self.max_tokens if self.pad_to_max_tokens else \
            self._frozen_vocab_size
        return encoded_shape(input_shape, self.output_mode, depth)

    def compute_output_spec(self, inputs):
        dtype = "int64" if self.output_mode == "int" else "float32"
        if self.invert:
            dtype = "int64" if self._vocab_dtype is np.int64 else "float32"
        return KerasTensor(self.compute_output_shape(inputs.shape),
                           dtype=dtype)

    # -- saving --------------------------------------------------------------

    def save_own_variables(self, store):
        # Keras writes an adapted vocabulary to assets/vocabulary.txt; the
        # gkeras .keras format has no assets, so the vocabulary travels in
        # this layer's weights group, JSON-encoded as uint8 bytes.
        if self.output_mode == "tf_idf" and self.idf_weights is not None:
            store["idf_weights"] = np.asarray(self.idf_weights, np.float32)
        if self.input_vocabulary is None and self._tokens is not None:
            blob = json.dumps(self._tokens).encode("utf-8")
            store["vocabulary"] = np.frombuffer(blob, dtype=np.uint8)

    def load_own_variables(self, store):
        if "idf_weights" in store:
            self.idf_weights = np.asarray(store["idf_weights"], np.float32)
        if "vocabulary" in store and self.input_vocabulary is None:
            blob = np.asarray(store["vocabulary"], dtype=np.uint8).tobytes()
            self._set_tokens([self._token_value(t)
                              for t in json.loads(blob.decode("utf-8"))])

    def get_config(self):
        config = super().get_config()
        config.update({
            "invert": self.invert,
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "oov_token": self.oov_token,
            "mask_token": self.mask_token,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary_dtype": self.vocabulary_dtype,
            "idf_weights": np.asarray(self.input_idf_weights).tolist()
            if self.input_idf_weights is not None else None,
            "vocabulary": self.input_vocabulary,
            "vocabulary_size": self._frozen_vocab_size,
            "oov_method": self.oov_method,
            "salt": self.salt,
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("dtype", None)
        return cls(**config)


class StringLookup(_IndexLookup):
    """Maps strings to integer indices through a vocabulary.

    Index 0 is the mask token (when `mask_token` is set and
    `output_mode="int"`), then `num_oov_indices` OOV indices, then the
    vocabulary, most frequent first.

    Args:
        max_tokens: maximum vocabulary size (special tokens included);
            None for no limit.
        num_oov_indices: number of out-of-vocabulary buckets (default 1).
            With more than one, OOV strings are hashed into the buckets.
        mask_token: token mapped to index 0 (and to nothing in encoding
            modes); None (default) for no mask.
        oov_token: token returned for OOV indices when `invert=True`
            (default `"[UNK]"`).
        vocabulary: optional list/array of strings or a vocabulary file
            path.
        idf_weights: IDF weights for `output_mode="tf_idf"` with a given
            vocabulary.
        invert: if True, map indices back to strings (`output_mode="int"`
            only). The output is a NumPy string array.
        output_mode: `"int"` (default; int64), `"one_hot"`, `"multi_hot"`,
            `"count"` or `"tf_idf"` (float32 encodings).
        pad_to_max_tokens: encode to `max_tokens` wide vectors.
        sparse: not supported (raises NotImplementedError when True).
        encoding: text encoding of byte-string inputs (default `"utf-8"`).
        name: the layer's name.
        salt: accepted for Keras compatibility (hashing of OOV buckets).

    Returns:
        Indices of the input's shape, or their encoding.

    Example:

    >>> layer = gkeras.layers.StringLookup(vocabulary=["a", "b", "c"])
    >>> layer([["a", "c"], ["d", "b"]])   # [[1, 3], [0, 2]]
    """

    _vocab_dtype = None

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None,
                 oov_token="[UNK]", vocabulary=None, idf_weights=None,
                 invert=False, output_mode="int", pad_to_max_tokens=False,
                 sparse=False, encoding="utf-8", name=None, salt=None,
                 **kwargs):
        self.encoding = encoding
        kwargs.pop("vocabulary_dtype", None)
        super().__init__(
            max_tokens=max_tokens, num_oov_indices=num_oov_indices,
            mask_token=mask_token, oov_token=oov_token,
            vocabulary=vocabulary, idf_weights=idf_weights, invert=invert,
            output_mode=output_mode, pad_to_max_tokens=pad_to_max_tokens,
            sparse=sparse, name=name, salt=salt, vocabulary_dtype="string",
            oov_method=kwargs.pop("oov_method", "floormod"), **kwargs)

    def _token_value(self, t):
        if isinstance(t, (bytes, np.bytes_)):
            return bytes(t).decode(self.encoding)
        if isinstance(t, (str, np.str_)):
            return str(t)
        raise ValueError(
            f"StringLookup: tokens must be strings. Received {t!r} of type "
            f"{type(t).__name__}.")

    def _to_tokens(self, x):
        if isinstance(x, KerasTensor):
            raise ValueError(
                "StringLookup: symbolic (model) inputs are not supported: "
                "gkeras tensors are numeric. Apply the layer to NumPy string "
                "arrays or lists of strings outside the model.")
        a = as_array(x, "StringLookup")
        if a.dtype.kind == "S":
            a = np.char.decode(a, self.encoding)
        elif a.dtype.kind == "O":
            flat = [self._token_value(t) for t in a.reshape(-1)]
            a = np.array(flat, dtype=str).reshape(a.shape) if flat else \
                np.zeros(a.shape, dtype=str)
        elif a.dtype.kind != "U":
            raise ValueError(
                "StringLookup: inputs must be strings (a str/bytes/object "
                f"array or a list of strings). Received dtype {a.dtype}; "
                "use IntegerLookup for integer inputs.")
        return a

    def _oov_buckets(self, tokens):
        # Keras hashes with FarmHash; CRC32 is a stable stand-in.
        return np.array([zlib.crc32(t.encode("utf-8")) % self.num_oov_indices
                         for t in tokens.tolist()], dtype=np.int64)

    def _invert_output(self, tokens):
        return tokens.astype(str)

    def get_config(self):
        config = super().get_config()
        del config["vocabulary_dtype"]
        config["encoding"] = self.encoding
        return config


class IntegerLookup(_IndexLookup):
    """Maps integer features to contiguous indices through a vocabulary.

    Index 0 is the mask value (when `mask_token` is set and
    `output_mode="int"`), then `num_oov_indices` OOV indices, then the
    vocabulary, most frequent first.

    Args:
        max_tokens: maximum vocabulary size (special tokens included); must
            be > 1 when set.
        num_oov_indices: number of OOV buckets (default 1); with more, an
            OOV value `v` goes to bucket `v % num_oov_indices`.
        mask_token: integer mapped to index 0; None (default) for no mask.
        oov_token: value returned for OOV indices when `invert=True`
            (default -1).
        vocabulary: optional list/array of integers or a file path.
        vocabulary_dtype: only `"int64"` is supported, as in Keras.
        idf_weights: IDF weights for `output_mode="tf_idf"`.
        invert: if True, map indices back to values (`output_mode="int"`).
        output_mode: `"int"` (default; int64), `"one_hot"`, `"multi_hot"`,
            `"count"` or `"tf_idf"` (float32 encodings).
        sparse: not supported (raises NotImplementedError when True).
        pad_to_max_tokens: encode to `max_tokens` wide vectors.
        oov_method: `"floormod"` (default).
        salt: accepted for Keras compatibility.
        name: the layer's name.

    Returns:
        Indices of the input's shape, or their encoding.

    Example:

    >>> layer = gkeras.layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])
    >>> layer([[12, 1138, 42], [42, 1000, 36]])   # [[1, 3, 4], [4, 0, 2]]
    """

    _vocab_dtype = np.int64

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None,
                 oov_token=-1, vocabulary=None, vocabulary_dtype="int64",
                 idf_weights=None, invert=False, output_mode="int",
                 sparse=False, pad_to_max_tokens=False, oov_method="floormod",
                 salt=None, name=None, **kwargs):
        if vocabulary_dtype != "int64":
            raise ValueError(
                "IntegerLookup: only `vocabulary_dtype='int64'` is supported "
                f"at this time. Received: vocabulary_dtype="
                f"{vocabulary_dtype!r}")
        if oov_method != "floormod":
            raise NotImplementedError(
                f"IntegerLookup: `oov_method={oov_method!r}` is not "
                "supported by gkeras; use 'floormod'.")
        super().__init__(
            max_tokens=max_tokens, num_oov_indices=num_oov_indices,
            mask_token=mask_token, oov_token=oov_token,
            vocabulary=vocabulary, vocabulary_dtype=vocabulary_dtype,
            idf_weights=idf_weights, invert=invert, output_mode=output_mode,
            sparse=sparse, pad_to_max_tokens=pad_to_max_tokens,
            oov_method=oov_method, salt=salt, name=name, **kwargs)
        if isinstance(self.input_vocabulary, (list, tuple)):
            self.input_vocabulary = [int(v) for v in self.input_vocabulary]

    def _token_value(self, t):
        try:
            v = int(t)
        except (TypeError, ValueError):
            raise ValueError(
                f"IntegerLookup: tokens must be integers. Received {t!r} of "
                f"type {type(t).__name__}.") from None
        if isinstance(t, (float, np.floating)) and v != t:
            raise ValueError(f"IntegerLookup: tokens must be integers. "
                             f"Received {t!r}.")
        return v

    def _to_tokens(self, x):
        a = as_array(x, "IntegerLookup")
        if a.dtype.kind not in "iufb":
            raise ValueError(
                "IntegerLookup: inputs must be integers. Received dtype "
                f"{a.dtype}; use StringLookup for string inputs.")
        return a.astype(np.int64)

    def _oov_buckets(self, tokens):
        return np.mod(tokens, self.num_oov_indices).astype(np.int64)

    def _invert_output(self, tokens):
        return to_output(tokens.astype(np.int64), "int64")

    def compute_output_spec(self, inputs):
        dtype = "int64" if self.output_mode == "int" else "float32"
        return KerasTensor(self.compute_output_shape(inputs.shape),
                           dtype=dtype)
