"""`AdditiveAttention`: Bahdanau-style attention."""

from gkeras import ops
from gkeras.layers.attention.attention import Attention


class AdditiveAttention(Attention):
    """Additive attention layer, a.k.a. Bahdanau-style attention.

    `scores = sum(scale * tanh(query[:, :, None] + key[:, None]), -1)` with
    a learned `(dim,)` `scale` when `use_scale=True`; then masking, softmax
    over the keys, dropout and `scores @ value` as in `Attention`.

    Args:
        use_scale: learn the per-feature `scale` (default True).
        dropout: dropout rate on the attention weights (training only).
        **kwargs: standard layer keyword arguments (and `seed`).

    Call arguments:
        inputs, mask, return_attention_scores, training, use_causal_mask:
            as in `Attention`.

    Output shape:
        `(B, Tq, dim_value)`.

    Example:
    >>> q = np.random.rand(2, 4, 8).astype("float32")
    >>> gkeras.layers.AdditiveAttention()([q, q]).shape
    (2, 4, 8)
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        dim = input_shape[0][-1]
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(dim,),
                                         initializer="glorot_uniform")
        self.built = True

    def _calculate_scores(self, query, key):
        s = ops.tanh(ops.add(ops.expand_dims(query, -2),
                             ops.expand_dims(key, -3)))
        if self.scale is not None:
            s = ops.multiply(s, self.scale)
        return ops.sum(s, axis=-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
