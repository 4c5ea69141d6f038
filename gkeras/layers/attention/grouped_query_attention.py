"""`GroupQueryAttention` / `GroupedQueryAttention` (Ainslie et al., 2023): multi-head attention whose
query heads share fewer key/value heads, Keras 3 layout."""

from gkeras import ops
from gkeras.layers.attention.multi_head_attention import MultiHeadAttention
from gkeras.layers.core.einsum_dense import EinsumDense
from gkeras.ops.symbolic import KerasTensor


class GroupedQueryAttention(MultiHeadAttention):
    """Grouped-query attention: `num_query_heads` query heads over
    `num_key_value_heads` key/value heads, each key/value head serving
    `num_query_heads // num_key_value_heads` consecutive query heads.

    Weights (Keras's): `query` `(dim, num_query_heads, head_dim)`, `key` and
    `value` `(dim_kv, num_key_value_heads, head_dim)`, optional `gate` like
    `query`, `attention_output` `(num_query_heads, head_dim, dim)`; biases
    with `use_bias`. The attention itself runs on the fused scaled
    dot-product primitive (the CUDA flash kernel on the GPU).

    Args:
        head_dim: size of each attention head.
        num_query_heads: number of query heads.
        num_key_value_heads: number of key/value heads; must divide
            `num_query_heads`.
        dropout: dropout rate on the attention probabilities.
        use_bias: whether the projections have biases.
        sliding_window: optional positive int; query step `i` attends to
            key steps `j` with `|i - j| < sliding_window`.
        flash_attention: accepted as in Keras (None/True/False); dropout
            and returned scores are incompatible with True.
        kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint,
        bias_constraint: for the projections.
        use_gate: multiply the attention output by a sigmoid gate of the
            query before the output projection.
        seed: seed of the attention dropout.

    Call arguments:
        query: `(batch, target_len, dim)`.
        value: `(batch, source_len, dim_kv)`.
        key: optional `(batch, source_len, dim_kv)` (default `value`).
        query_mask, value_mask, key_mask, attention_mask,
        use_causal_mask: as for `MultiHeadAttention`.
        return_attention_scores: also return the `(batch,
            num_query_heads, target_len, source_len)` probabilities.
        training: whether dropout is active.

    Example:
    >>> gqa = gkeras.layers.GroupQueryAttention(16, 8, 2)
    >>> x = np.random.rand(2, 10, 64).astype("float32")
    >>> gqa(x, x).shape
    (2, 10, 64)
    """

    # Keras's class is GroupedQueryAttention, exported and saved as
    # "GroupQueryAttention"; it has no public projection properties, so its
    # files name the projections `_query_dense`, ... (see weights_h5).
    _keras_class_name = "GroupQueryAttention"
    _unsaved_properties = ("query_dense", "key_dense", "value_dense",
                           "output_dense")

    def __init__(self, head_dim, num_query_heads, num_key_value_heads,
                 dropout=0.0, use_bias=True, sliding_window=None,
                 flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None,
                 use_gate=False, seed=None, **kwargs):
        for arg, v in (("num_query_heads", num_query_heads),
                       ("num_key_value_heads", num_key_value_heads)):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"GroupQueryAttention: `{arg}` must be a "
                                 f"positive integer. Received: {arg}={v!r}")
        if num_query_heads % num_key_value_heads != 0:
            raise ValueError("`num_query_heads` must be divisible by "
                             "`num_key_value_heads`.")
        super().__init__(
            num_heads=num_query_heads, key_dim=head_dim, dropout=dropout,
            use_bias=use_bias, flash_attention=flash_attention,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint, seed=seed, use_gate=use_gate,
            sliding_window=sliding_window, **kwargs)
        self.head_dim = int(head_dim)
        self.num_query_heads = int(num_query_heads)
        self.num_key_value_heads = int(num_key_value_heads)
        self.num_repeats = num_query_heads // num_key_value_heads
        if self._flash_attention and self._dropout > 0.0:
            raise ValueError(
                "Dropout is not supported when flash attention is enabled. "
                "Please set dropout to 0.0 to use flash attention.")

    def _dense(self, equation, heads, bias_axes, name, activation=None):
        return EinsumDense(
            equation, output_shape=(None, heads, self.head_dim),
            bias_axes=bias_axes if self._use_bias else None, name=name,
            activation=activation, **self._sublayer_kwargs())

    def build(self, query_shape, value_shape, key_shape=None):
        """Creates the projections (query, key, [gate], value, output).

        Args:
            query_shape: `(batch, target_len, dim)`.
            value_shape: `(batch, source_len, dim_kv)`.
            key_shape: shape of `key` (default `value_shape`).
        """
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        for n, shape in (("query", query_shape), ("value", value_shape),
                         ("key", key_shape)):
            if len(shape) != 3:
                raise ValueError(
                    f"GroupQueryAttention {self.name!r}: `{n}` must be "
                    f"(batch, sequence, features). Received: {n} shape "
                    f"{shape}.")
        _check_shapes(self, query_shape, value_shape, key_shape)
        u, v = self.num_query_heads, self.num_key_value_heads
        self._query_dense = self._dense("bqm,muh->bquh", u, "uh", "query")
        self._query_dense.build(query_shape)
        self._key_dense = self._dense("bkm,mvh->bkvh", v, "vh", "key")
        self._key_dense.build(key_shape)
        if self._use_gate:
            self._gate_dense = self._dense("bqm,muh->bquh", u, "uh", "gate",
                                           "sigmoid")
            self._gate_dense.build(query_shape)
        self._value_dense = self._dense("bkm,mvh->bkvh", v, "vh", "value")
        self._value_dense.build(value_shape)
        self._output_dense = EinsumDense(
            "bquh,uhm->bqm", output_shape=(None, query_shape[-1]),
            bias_axes="m" if self._use_bias else None,
            name="attention_output", **self._sublayer_kwargs())
        self._output_dense.build((None, None, u, self.head_dim))
        self._build_attention(4)
        self._built_dims = (query_shape[-1], value_shape[-1], key_shape[-1])
        self._built_ranks = (3, 3, 3)
        self.built = True

    def call(self, query, value, key=None, query_mask=None, value_mask=None,
             key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None,
             use_causal_mask=False):
        if key is None:
            key = value
        query, value, key = (ops.convert_to_tensor(t) for t in
                             (query, value, key))
        self._check_inputs(query, value, key)
        attention_mask = self._compute_attention_mask(
            query, value, query_mask=query_mask, value_mask=value_mask,
            key_mask=key_mask, attention_mask=attention_mask,
            use_causal_mask=use_causal_mask)
        gate = self._gate_dense(query) if self._use_gate else None
        q = self._query_dense(query)
        k = ops.repeat(self._key_dense(key), self.num_repeats, axis=2)
        v = ops.repeat(self._value_dense(value), self.num_repeats, axis=2)
        out, scores = self._compute_attention(
            q, k, v, attention_mask, training, return_attention_scores)
        if gate is not None:
            out = ops.multiply(out, gate)
        out = self._output_dense(out)
        if return_attention_scores:
            return out, scores
        return out

    def compute_output_shape(self, query_shape, value_shape=None,
                             key_shape=None):
        if value_shape is not None:
            _check_shapes(self, tuple(query_shape), tuple(value_shape),
                          tuple(value_shape if key_shape is None
                                else key_shape))
        return tuple(query_shape)

    def compute_output_spec(self, query, value, key=None, query_mask=None,
                            value_mask=None, key_mask=None,
                            attention_mask=None,
                            return_attention_scores=False, training=None,
                            use_causal_mask=False):
        if self.built:
            self._check_inputs(query, value, value if key is None else key)
        out = KerasTensor(self.compute_output_shape(
            query.shape, value.shape, None if key is None else key.shape),
            dtype=self.compute_dtype)
        if return_attention_scores:
            kv_len = (value if key is None else key).shape[1]
            return out, KerasTensor(
                (query.shape[0], self.num_query_heads, query.shape[1],
                 kv_len), dtype=self.compute_dtype)
        return out

    def get_config(self):
        base = super(MultiHeadAttention, self).get_config()
        base.pop("activity_regularizer", None)
        return {
            **base,
            "head_dim": self.head_dim,
            "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "use_bias": self._use_bias,
            "use_gate": self._use_gate,
            "sliding_window": self._sliding_window,
            "dropout": self._dropout,
            **self._projection_config(),
        }


def _check_shapes(layer, query_shape, value_shape, key_shape):
    """Keras's checks: the query and value feature sizes agree (the output
    has the query's), and key and value have the same length."""
    if query_shape[-1] != value_shape[-1]:
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r}: the last dimension of "
            "`query_shape` and `value_shape` must be equal, but are "
            f"{query_shape[-1]}, {value_shape[-1]}. Received: query_shape="
            f"{query_shape}, value_shape={value_shape}")
    if value_shape[1:-1] != key_shape[1:-1]:
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r}: all dimensions of "
            "`value` and `key`, except the last one, must be equal. "
            f"Received: value_shape={value_shape} and key_shape={key_shape}")


GroupQueryAttention = GroupedQueryAttention
