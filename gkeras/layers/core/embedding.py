"""`Embedding`: turns integer ids into dense vectors (a table lookup)."""

from gkeras import constraints, initializers, ops, regularizers
from gkeras.backend import device_checks
from gkeras.layers.layer import Layer
from gkeras.ops._base import xp_of
from gkeras.ops.engine import Tensor


class Embedding(Layer):
    """Turns non-negative integers (indexes) into dense vectors.

    `output = embeddings[inputs]`. The gradient is a sparse scatter-add
    into the rows that were looked up (never a dense one-hot matmul).

    Args:
        input_dim: size of the vocabulary (maximum id + 1).
        output_dim: dimension of the dense embedding.
        embeddings_initializer: initializer of the table (default
            `"uniform"`, i.e. U(-0.05, 0.05)).
        embeddings_regularizer: optional regularizer of the table.
        activity_regularizer: optional regularizer of the output.
        embeddings_constraint: optional constraint on the table.
        mask_zero: whether id 0 is a padding value to be masked out; the
            output then carries a `(batch, length)` mask that downstream
            layers (RNNs) use. With it, id 0 cannot be a real token, so
            `input_dim` should be vocabulary size + 1.
        weights: optional initial table, `[array of shape (input_dim,
            output_dim)]`.
        input_length: Keras-2 argument: the (fixed) sequence length; gkeras
            uses it as the layer's input shape `(input_length,)` when no
            `input_shape` is given.
        lora_rank, lora_alpha, quantization_config: not supported (must be
            None).

    Input shape:
        Integer tensor `(batch, ...)`, typically `(batch, length)`.

    Output shape:
        `(batch, ..., output_dim)`.

    Example:
    >>> layer = gkeras.layers.Embedding(1000, 64)
    >>> layer(np.random.randint(1000, size=(32, 10))).shape
    (32, 10, 64)
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None,
                 mask_zero=False, weights=None, lora_rank=None,
                 lora_alpha=None, quantization_config=None, **kwargs):
        input_length = kwargs.pop("input_length", None)
        if input_length is not None and "input_shape" not in kwargs and \
                "batch_input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)
        super().__init__(**kwargs)
        for name, v in (("input_dim", input_dim), ("output_dim", output_dim)):
            try:
                ok = int(v) == v and v > 0 and not isinstance(v, bool)
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ValueError(
                    f"Embedding: `{name}` must be a positive integer. "
                    f"Received: {name}={v!r}")
        if lora_rank is not None or quantization_config is not None:
            raise NotImplementedError(
                "Embedding: LoRA (`lora_rank`) and `quantization_config` are "
                "not supported by gkeras.")
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha
        if weights is not None:
            self._initial_weights = list(weights)

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(
            shape=(self.input_dim, self.output_dim), name="embeddings",
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint)
        self.built = True

    def _ids(self, inputs):
        ids = inputs.data if isinstance(inputs, Tensor) else inputs
        if ids.dtype.kind not in "iu":
            if ids.dtype.kind == "f":
                ids = ids.astype("int32")
            else:
                raise TypeError(
                    f"Embedding layer {self.name!r} expects integer token "
                    f"ids. Received: inputs of dtype {ids.dtype}.")
        if ids.size:
            # On the GPU the range is kept on the device and read back once
            # per epoch (backend.device_checks), not synced every call; an
            # id outside the table never becomes a silent bad read.
            xp = xp_of(ids)
            device_checks.check_max(
                self, xp.stack([xp.max(ids), -xp.min(ids)]).astype("int64"),
                self._report_ids)
        return ids

    def _report_ids(self, extremes):
        hi, lo = int(extremes[0]), -int(extremes[1])
        if hi >= self.input_dim or lo < 0:
            bad = hi if hi >= self.input_dim else lo
            raise ValueError(
                f"Embedding layer {self.name!r} received token id {bad}, "
                f"outside the table [0, input_dim - 1] with input_dim="
                f"{self.input_dim} (largest id in the batch: {hi}). "
                f"Increase input_dim to at least {max(hi + 1, 1)}, or "
                "clip/re-index the ids (e.g. `num_words=` when loading "
                "a dataset).")

    def call(self, inputs):
        ids = self._ids(inputs)
        return ops.cast(ops.take(self.embeddings, ids, axis=0),
                        self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        ids = inputs.data if isinstance(inputs, Tensor) else inputs
        return ids != 0

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        config = {
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(
                self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(
                self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(
                self.activity_regularizer),
            "embeddings_constraint": constraints.serialize(
                self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "quantization_config": None,
        }
        if self.lora_rank:
            config["lora_rank"] = self.lora_rank
            config["lora_alpha"] = self.lora_alpha
        return {**super().get_config(), **config}


__all__ = ["Embedding"]
