"""`ReversibleEmbedding`: an embedding that also projects back to the
vocabulary (tied or separate weights), for language models."""

from gkeras import ops
from gkeras.layers.core.embedding import Embedding
from gkeras.ops.engine import Tensor
from gkeras.ops.symbolic import KerasTensor


class ReversibleEmbedding(Embedding):
    """An `Embedding` that can be called "in reverse" (`reverse=True`) to
    project `output_dim` features back to `input_dim` logits.

    The reverse projection uses the transpose of `embeddings` (tied
    weights, the default) or a separate trainable `reverse_embeddings`
    matrix of shape `(output_dim, input_dim)`. No bias.

    Args:
        input_dim: vocabulary size.
        output_dim: embedding size.
        tie_weights: share the embedding matrix with the reverse
            projection.
        embeddings_initializer, embeddings_regularizer,
        embeddings_constraint, mask_zero: as `Embedding`.
        reverse_dtype: dtype the reverse matmul runs in (None: the
            layer's compute dtype).
        logit_soft_cap: if set, reverse logits become
            `tanh(logits / cap) * cap`.
        **kwargs: base layer arguments.

    Example:

    ```python
    emb = gkeras.layers.ReversibleEmbedding(100, 16)
    h = emb(token_ids)                 # (batch, seq, 16)
    logits = emb(h, reverse=True)      # (batch, seq, 100)
    ```
    """

    def __init__(self, input_dim, output_dim, tie_weights=True,
                 embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None,
                 mask_zero=False, reverse_dtype=None, logit_soft_cap=None,
                 **kwargs):
        super().__init__(input_dim, output_dim,
                         embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer,
                         embeddings_constraint=embeddings_constraint,
                         mask_zero=mask_zero, **kwargs)
        if logit_soft_cap is not None and not logit_soft_cap > 0:
            raise ValueError(
                f"ReversibleEmbedding {self.name!r}: `logit_soft_cap` must "
                f"be positive or None. Received: {logit_soft_cap!r}")
        self.tie_weights = bool(tie_weights)
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap

    def build(self, input_shape=None):
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(
                shape=(self.output_dim, self.input_dim),
                initializer=self.embeddings_initializer,
                name="reverse_embeddings", trainable=True)

    def call(self, inputs, reverse=False):
        if not reverse:
            result = super().call(inputs)
            if self.mask_zero:
                # Set here, as Keras does: compute_mask cannot tell a
                # reverse call from a forward one.
                ids = inputs.data if isinstance(inputs, Tensor) else inputs
                result._keras_mask = ids != 0
            return result
        kernel = ops.transpose(self.embeddings) if self.tie_weights \
            else self.reverse_embeddings
        if self.reverse_dtype is not None:
            inputs = ops.cast(inputs, self.reverse_dtype)
            kernel = ops.cast(kernel, self.reverse_dtype)
        logits = ops.matmul(inputs, kernel)
        if self.logit_soft_cap is not None:
            cap = self.logit_soft_cap
            logits = ops.multiply(ops.tanh(ops.divide(logits, cap)), cap)
        return logits

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape, reverse=False):
        shape = list(input_shape)
        if reverse:
            shape[-1] = self.input_dim
        else:
            shape.append(self.output_dim)
        return tuple(shape)

    def compute_output_spec(self, inputs, reverse=False):
        dtype = self.reverse_dtype if reverse and self.reverse_dtype \
            else self.compute_dtype
        return KerasTensor(self.compute_output_shape(inputs.shape, reverse),
                           dtype=dtype)

    def get_config(self):
        return {**super().get_config(), "tie_weights": self.tie_weights,
                "reverse_dtype": self.reverse_dtype,
                "logit_soft_cap": self.logit_soft_cap}


__all__ = ["ReversibleEmbedding"]
