"""The `Discretization` preprocessing layer: continuous values to bucket
indices, with boundaries given or learned by `adapt()` (approximate
quantiles, merged summaries as Keras does).
"""

import numpy as np

from gkeras.layers.layer import Layer
from gkeras.layers.preprocessing.preprocessing_utils import (
    check_no_sparse, check_output_mode, encode_indices, encoded_shape,
    first_of_pair, is_batch_iterable, list_of_arrays, take_batches, to_host,
    to_output)
from gkeras.ops.symbolic import KerasTensor

__all__ = ["Discretization"]


def _summarize(values, epsilon):
    values = np.sort(np.reshape(values, [-1]))
    num_buckets = 1.0 / epsilon
    step = max(values.size / num_buckets, 1)
    boundaries = values[int(step - 1)::int(step)]
    return np.stack([boundaries, np.ones_like(boundaries) * step])


def _compress_summary(summary, epsilon):
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_pct = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_pct, summary[0])
    cum_weights = np.interp(percents, cum_pct, cum_weights)
    new_weights = cum_weights - np.concatenate(([0], cum_weights[:-1]))
    return np.stack((new_bins, new_weights)).astype("float32")


def _merge_summaries(prev, nxt, epsilon):
    merged = np.concatenate((prev, nxt), axis=1)
    merged = np.take(merged, np.argsort(merged[0]), axis=1)
    return _compress_summary(merged, epsilon)


class Discretization(Layer):
    """Buckets continuous features into integer bin indices.

    Args:
        bin_boundaries: sorted list of boundaries; value `x` goes to bin
            `i` where `boundaries[i-1] <= x < boundaries[i]`. Bins are
            `len(bin_boundaries) + 1`.
        num_bins: number of bins to learn with `adapt()` (approximate
            quantiles); exclusive with `bin_boundaries`.
        epsilon: error tolerance of the quantile summary (about
            `1 / epsilon` summary points).
        output_mode: `"int"` (bin indices, int32 as Keras), `"one_hot"`,
            `"multi_hot"` or `"count"` (float32 encodings).
        sparse: not supported (raises NotImplementedError when True).
        **kwargs: `name`, `dtype`.

    Returns:
        Bin indices of the input's shape, or their encoding.

    Example:

    >>> layer = gkeras.layers.Discretization(bin_boundaries=[0., 1.])
    >>> layer(np.array([[-1., 0.5, 2.]]))   # [[0, 1, 2]]
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01,
                 output_mode="int", sparse=False, dtype=None, name=None):
        super().__init__(name=name, dtype=dtype)
        check_no_sparse("Discretization", sparse)
        check_output_mode("Discretization", output_mode,
                    ("int", "one_hot", "multi_hot", "count"))
        if num_bins is not None and num_bins < 0:
            raise ValueError(
                "Discretization: `num_bins` must be greater than or equal "
                f"to 0. Received: num_bins={num_bins}")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(
                "Discretization: both `num_bins` and `bin_boundaries` should "
                f"not be set. Received: num_bins={num_bins} and "
                f"bin_boundaries={bin_boundaries}")
        if num_bins is None and bin_boundaries is None:
            raise ValueError(
                "Discretization: you need to set either `num_bins` or "
                "`bin_boundaries`.")
        self.bin_boundaries = list(bin_boundaries) \
            if bin_boundaries is not None else None
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = sparse
        self.summary = None if self.bin_boundaries else \
            np.array([[], []], dtype="float32")

    @property
    def output_dtype(self):
        return self.compute_dtype if self.output_mode != "int" else "int32"

    def adapt(self, data, steps=None):
        """Learns `num_bins` quantile boundaries from `data`.

        Args:
            data: a NumPy array or list of numbers, or an iterable /
                generator / list of arrays yielding batches.
            steps: the number of batches to draw from an iterable.
        """
        if self.num_bins is None:
            raise ValueError(
                "Discretization: cannot adapt a layer that has been "
                "initialized with `bin_boundaries`, use `num_bins` instead.")
        self.summary = np.array([[], []], dtype="float32")
        if list_of_arrays(data) or is_batch_iterable(data):
            batches = take_batches(data, steps)
        else:
            batches = [data]
        for batch in batches:
            values = np.asarray(to_host(first_of_pair(batch))).astype(
                "float32")
            self.summary = _merge_summaries(
                _summarize(values, self.epsilon), self.summary, self.epsilon)
        if self.summary.shape[1] == 0:
            raise ValueError("Discretization.adapt() received no data.")
        self.bin_boundaries = _compress_summary(
            self.summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(
                "Discretization: you need to either pass the "
                "`bin_boundaries` argument at construction time or call "
                "`adapt(dataset)` before you can start using the layer.")
        x = np.asarray(to_host(inputs))
        indices = np.digitize(x, np.asarray(self.bin_boundaries,
                                            dtype=x.dtype if x.dtype.kind
                                            == "f" else np.float64))
        if self.output_mode == "int":
            return to_output(indices, "int32")
        return to_output(encode_indices(indices, self.output_mode,
                                  len(self.bin_boundaries) + 1,
                                  layer="Discretization"), self.compute_dtype)

    def compute_output_spec(self, inputs):
        shape = tuple(inputs.shape)
        if self.output_mode != "int":
            depth = len(self.bin_boundaries) + 1 \
                if self.bin_boundaries is not None else self.num_bins
            shape = encoded_shape(shape, self.output_mode, depth)
        return KerasTensor(shape, dtype=self.output_dtype)

    def save_own_variables(self, store):
        # Keras keeps learned boundaries only in the config; gkeras also
        # writes them here so adapted layers survive a .keras round trip.
        if self.bin_boundaries is not None:
            store["0"] = np.asarray(self.bin_boundaries, dtype="float64")

    def load_own_variables(self, store):
        if "0" in store:
            self.bin_boundaries = np.asarray(store["0"]).tolist()

    def get_config(self):
        return {
            "bin_boundaries": self.bin_boundaries,
            "num_bins": self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": self.dtype,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = config["dtype"].get("config", {}).get("name")
        config.pop("trainable", None)
        if config.get("bin_boundaries") is not None and \
                config.get("num_bins") is not None:
            boundaries = config.pop("bin_boundaries")
            layer = cls(**config)
            layer.bin_boundaries = list(boundaries)
            return layer
        return cls(**config)
