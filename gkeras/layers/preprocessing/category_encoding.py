"""The `CategoryEncoding` preprocessing layer: integer ids to one-hot,
multi-hot or count vectors.
"""

import numpy as np

from gkeras.layers.layer import Layer
from gkeras.layers.preprocessing.preprocessing_utils import (
    check_no_sparse, check_output_mode, encode_indices, encoded_shape,
    to_host, to_output)
from gkeras.ops.symbolic import KerasTensor

__all__ = ["CategoryEncoding"]


class CategoryEncoding(Layer):
    """Encodes integer features as one-hot, multi-hot or count vectors.

    Args:
        num_tokens: the number of categories; inputs must lie in
            `[0, num_tokens)`.
        output_mode: `"multi_hot"` (default; `"binary"` is an alias),
            `"one_hot"` or `"count"`.
        sparse: not supported (raises NotImplementedError when True).
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: integer indices, shape `(batch,)` or `(batch, n)`.
        count_weights: optional weights of the inputs' shape, summed instead
            of counts (only with `output_mode="count"`).

    Returns:
        A float32 tensor `(..., num_tokens)`.

    Example:

    >>> layer = gkeras.layers.CategoryEncoding(num_tokens=4)
    >>> layer([[0, 1], [0, 0], [1, 2], [3, 1]])
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False,
                 **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        check_output_mode("CategoryEncoding", output_mode,
                    ("count", "one_hot", "multi_hot"))
        if num_tokens is None:
            raise ValueError(
                "CategoryEncoding: `num_tokens` must be set to use this "
                "layer. If the number of tokens is not known beforehand, use "
                "the IntegerLookup layer instead.")
        if num_tokens < 1:
            raise ValueError(
                "CategoryEncoding: `num_tokens` must be >= 1. Received: "
                f"num_tokens={num_tokens}.")
        check_no_sparse("CategoryEncoding", sparse)
        self.num_tokens = int(num_tokens)
        self.output_mode = output_mode
        self.sparse = sparse

    def call(self, inputs, count_weights=None):
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(
                "CategoryEncoding: `count_weights` is not used when "
                "`output_mode` is not `'count'`. Received output_mode="
                f"{self.output_mode!r}.")
        x = np.asarray(to_host(inputs))
        if x.size and x.min() < 0:
            raise ValueError(
                f"CategoryEncoding: input values must be in the range [0, "
                f"{self.num_tokens}). Received a minimum value of "
                f"{x.min()}.")
        cw = None if count_weights is None else np.asarray(
            to_host(count_weights))
        return to_output(encode_indices(x, self.output_mode, self.num_tokens, cw,
                                  layer="CategoryEncoding"),
                          self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def compute_output_spec(self, inputs, count_weights=None):
        return KerasTensor(self.compute_output_shape(inputs.shape),
                           dtype=self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"num_tokens": self.num_tokens,
                       "output_mode": self.output_mode})
        return config
