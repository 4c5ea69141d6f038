"""`TextVectorization`: raw strings to token indices or encodings.

Standardization, splitting and n-grams run on the host with Python/NumPy
string operations; the vocabulary lookup is an internal `StringLookup`
(mask token `""` at index 0, one OOV index `[UNK]` at index 1).
"""

import re

import numpy as np

from gkeras.layers.layer import Layer
from gkeras.layers.preprocessing.index_lookup import StringLookup
from gkeras.layers.preprocessing.preprocessing_utils import (
    check_no_sparse, is_batch_iterable, take_batches, to_host)
from gkeras.ops.symbolic import KerasTensor

__all__ = ["TextVectorization"]

# tf.strings.regex_replace pattern Keras uses for "strip_punctuation".
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
# tf.strings.lower lowercases ASCII letters only.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                             "abcdefghijklmnopqrstuvwxyz")


class TextVectorization(Layer):
    """Turns raw strings into sequences of token indices or encodings.

    Processing: standardize each string, split it into tokens, optionally
    form n-grams, then look the tokens up in the vocabulary (learned with
    `adapt()` or given). Index 0 is padding (`""`), 1 is OOV (`"[UNK]"`).

    Args:
        max_tokens: maximum vocabulary size (padding and OOV included).
        standardize: `"lower_and_strip_punctuation"` (default), `"lower"`,
            `"strip_punctuation"`, None, or a callable taking and returning
            a NumPy array of strings.
        split: `"whitespace"` (default), `"character"`, None, or a callable
            taking a 1D NumPy string array and returning a list of token
            lists (or a 2D string array).
        ngrams: None, an int `n` (all 1..n-grams) or a tuple of widths.
        output_mode: `"int"` (default; int64 indices), `"multi_hot"`,
            `"count"`, `"tf_idf"` or `"one_hot"` (float32 encodings).
        output_sequence_length: in `"int"` mode, pad or truncate every
            sequence to this length (default: the longest in the batch).
        pad_to_max_tokens: encode to `max_tokens` wide vectors.
        vocabulary: optional list/array of strings or a vocabulary file.
        idf_weights: IDF weights for `"tf_idf"` with a given vocabulary.
        sparse: not supported (raises NotImplementedError when True).
        ragged: not supported (raises NotImplementedError when True).
        encoding: text encoding of byte-string inputs (default `"utf-8"`).
        name: the layer's name.

    Returns:
        int64 `(batch, sequence_length)` indices, or float32
        `(batch, vocabulary_size)` encodings.

    Example:

    >>> layer = gkeras.layers.TextVectorization(output_sequence_length=4)
    >>> layer.adapt(["the cat sat", "the dog"])
    >>> layer(["the cat ran"])   # [[2, 4, 1, 0]]
    """

    def __init__(self, max_tokens=None,
                 standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int",
                 output_sequence_length=None, pad_to_max_tokens=False,
                 vocabulary=None, idf_weights=None, sparse=False,
                 ragged=False, encoding="utf-8", name=None, **kwargs):
        check_no_sparse("TextVectorization", sparse)
        check_no_sparse("TextVectorization", ragged, arg="ragged")
        if not (standardize is None or callable(standardize) or standardize
                in ("lower_and_strip_punctuation", "lower",
                    "strip_punctuation")):
            raise ValueError(
                "TextVectorization: invalid value for argument "
                "`standardize`. Expected one of "
                "['lower_and_strip_punctuation', 'lower', "
                "'strip_punctuation'], None or a callable. Received: "
                f"standardize={standardize!r}")
        if not (split is None or callable(split) or
                split in ("whitespace", "character")):
            raise ValueError(
                "TextVectorization: invalid value for argument `split`. "
                "Expected one of ['whitespace', 'character'], None or a "
                f"callable. Received: split={split!r}")
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        if output_mode not in ("int", "one_hot", "multi_hot", "count",
                               "tf_idf"):
            raise ValueError(
                "TextVectorization: invalid value for argument "
                "`output_mode`. Expected one of ['int', 'one_hot', "
                "'multi_hot', 'count', 'tf_idf']. Received: "
                f"output_mode={output_mode!r}")
        if isinstance(ngrams, list):
            ngrams = tuple(ngrams)
        if not (ngrams is None or isinstance(ngrams, int) or
                (isinstance(ngrams, tuple) and
                 all(isinstance(n, int) for n in ngrams))):
            raise ValueError(
                "TextVectorization: `ngrams` must be None, an integer, or a "
                f"tuple of integers. Received: ngrams={ngrams}")
        if output_mode == "int" and not (
                output_sequence_length is None or
                isinstance(output_sequence_length, int)):
            raise ValueError(
                "TextVectorization: `output_sequence_length` must be either "
                "None or an integer when `output_mode` is 'int'. Received: "
                f"output_sequence_length={output_sequence_length}")
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError(
                "TextVectorization: `output_sequence_length` must not be set "
                "if `output_mode` is not 'int'. Received "
                f"output_sequence_length={output_sequence_length}.")
        self._max_tokens = max_tokens
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(
            ngrams, int) else ngrams
        self._ragged = ragged
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        has_input_vocabulary = kwargs.pop("has_input_vocabulary",
                                          vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary,
            idf_weights=idf_weights, pad_to_max_tokens=pad_to_max_tokens,
            mask_token="", output_mode=output_mode, sparse=sparse,
            has_input_vocabulary=has_input_vocabulary, encoding=encoding,
            vocabulary_size=vocabulary_size)

    # -- preprocessing -------------------------------------------------------

    def _strings(self, inputs):
        if isinstance(inputs, KerasTensor):
            raise ValueError(
                "TextVectorization: symbolic (model) inputs are not "
                "supported: gkeras tensors are numeric. Apply the layer to "
                "NumPy string arrays or lists of strings, e.g. in the input "
                "pipeline, and feed the int64 output to the model.")
        a = self._lookup_layer._to_tokens(to_host(inputs))
        if a.ndim == 0:
            a = a.reshape(1)
        return a

    def _standardize_array(self, a):
        if self._standardize is None:
            return a
        if callable(self._standardize):
            return np.asarray(self._standardize(a)).astype(str)
        flat = a.reshape(-1).tolist()
        if self._standardize in ("lower", "lower_and_strip_punctuation"):
            flat = [s.translate(_ASCII_LOWER) for s in flat]
        if self._standardize in ("strip_punctuation",
                                 "lower_and_strip_punctuation"):
            flat = [_PUNCTUATION.sub("", s) for s in flat]
        return np.array(flat, dtype=str).reshape(a.shape) if flat else a

    def _split_rows(self, a):
        """Token lists, one per input string."""
        if a.ndim > 1:
            if a.shape[-1] != 1:
                raise ValueError(
                    "TextVectorization: when tokenizing strings, the input "
                    "rank must be 1 or the last dimension must be 1. "
                    f"Received: inputs.shape={a.shape}")
            a = a.reshape(a.shape[:-1])
        if a.ndim != 1:
            raise ValueError(
                "TextVectorization: expected a batch of strings of shape "
                f"(batch,) or (batch, 1). Received shape {a.shape}.")
        if self._split == "whitespace":
            rows = [s.split() for s in a.tolist()]
        elif self._split == "character":
            rows = [list(s) for s in a.tolist()]
        else:
            out = self._split(a)
            rows = [[str(t) for t in np.asarray(to_host(r)).reshape(-1)
                     .tolist()] if not isinstance(r, str) else [r]
                    for r in out]
        return rows

    def _make_ngrams(self, rows):
        out = []
        for toks in rows:
            grams = []
            for n in self._ngrams:
                grams.extend(" ".join(toks[i:i + n])
                             for i in range(len(toks) - n + 1))
            out.append(grams)
        return out

    def _preprocess(self, inputs):
        """A 2D string array: the token rows padded with `""`."""
        a = self._standardize_array(self._strings(inputs))
        if self._split is None:
            if self._ngrams is not None:
                rows = self._make_ngrams(
                    [[s] for s in a.reshape(-1).tolist()])
            else:
                return a if a.ndim > 1 else a[:, None]
        else:
            rows = self._split_rows(a)
            if self._ngrams is not None:
                rows = self._make_ngrams(rows)
        width = max((len(r) for r in rows), default=0)
        if self._output_mode == "int" and \
                self._output_sequence_length is not None:
            width = self._output_sequence_length
        out = np.full((len(rows), width), "", dtype=object)
        for i, r in enumerate(rows):
            r = r[:width]
            out[i, :len(r)] = r
        return out.astype(str) if out.size else np.zeros(out.shape, str)

    # -- state ---------------------------------------------------------------

    def adapt(self, data, batch_size=None, steps=None):
        """Learns the vocabulary from a dataset of strings.

        Args:
            data: a list of strings, a NumPy string array (`(n,)` or
                `(n, 1)`), or an iterable / generator yielding such batches.
            batch_size: accepted for Keras compatibility (arrays are
                processed in one pass).
            steps: the number of batches to draw from an iterable.
        """
        self.reset_state()
        if is_batch_iterable(data):
            batches = take_batches(data, steps)
            for batch in batches:
                self.update_state(batch)
        else:
            self.update_state(data)
        self.finalize_state()

    def update_state(self, data):
        self._lookup_layer.update_state(self._preprocess(data))

    def finalize_state(self):
        self._lookup_layer.finalize_state()

    def reset_state(self):
        self._lookup_layer.reset_state()

    def get_vocabulary(self, include_special_tokens=True):
        """Returns the vocabulary, in index order.

        Args:
            include_special_tokens: if True, include the padding (`""`) and
                OOV (`"[UNK]"`) tokens, so list positions are indices.
        """
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        """The vocabulary size, padding and OOV tokens included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the vocabulary (and IDF weights for `"tf_idf"`) directly.

        Args:
            vocabulary: a list/1D array of strings or a vocabulary file.
            idf_weights: 1D IDF weights; required with `"tf_idf"`.
        """
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    # -- call ----------------------------------------------------------------

    def build(self, input_shape=None):
        self.built = True

    def call(self, inputs):
        if self._lookup_layer._tokens is None:
            raise ValueError(
                f"TextVectorization {self.name!r}: the layer has no "
                "vocabulary yet. Call `adapt()` on some text, or pass a "
                "`vocabulary` argument, before calling the layer.")
        tokens = self._preprocess(inputs)
        if self._output_mode == "one_hot" and self._split is not None:
            return self._lookup_layer.call(tokens[..., None])
        return self._lookup_layer.call(tokens)

    def compute_output_spec(self, inputs):
        raise ValueError(
            "TextVectorization: symbolic (model) inputs are not supported: "
            "gkeras tensors are numeric. Apply the layer to NumPy string "
            "arrays or lists of strings and feed its output to the model.")

    def save_own_variables(self, store):
        # The vocabulary is saved by the inner `_lookup_layer`, which the
        # weights file visits as a child of this layer.
        return

    def load_own_variables(self, store):
        return

    def get_config(self):
        config = super().get_config()
        lookup = self._lookup_layer
        config.update({
            "max_tokens": lookup.max_tokens,
            "standardize": self._standardize,
            "split": self._split,
            "ngrams": self._ngrams_arg,
            "output_mode": self._output_mode,
            "output_sequence_length": self._output_sequence_length,
            "pad_to_max_tokens": lookup.pad_to_max_tokens,
            "sparse": lookup.sparse,
            "ragged": self._ragged,
            "vocabulary": lookup.input_vocabulary,
            "idf_weights": np.asarray(lookup.input_idf_weights).tolist()
            if lookup.input_idf_weights is not None else None,
            "encoding": self._encoding,
            "vocabulary_size": self.vocabulary_size(),
        })
        return config

    @classmethod
    def from_config(cls, config):
        from gkeras.saving.serialization import deserialize_keras_object
        config = dict(config)
        config.pop("dtype", None)
        for key, allowed in (("standardize", ("lower_and_strip_punctuation",
                                              "lower", "strip_punctuation")),
                             ("split", ("whitespace", "character"))):
            v = config.get(key)
            if v is not None and not callable(v) and v not in allowed:
                config[key] = deserialize_keras_object(v)
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)
