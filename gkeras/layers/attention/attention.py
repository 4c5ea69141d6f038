"""`Attention`: dot-product (Luong-style) attention over [query, value(, key)]."""

import numpy as np

from gkeras import ops
from gkeras.layers.layer import Layer
from gkeras.random import SeedGenerator


class Attention(Layer):
    """Dot-product attention layer, a.k.a. Luong-style attention.

    `scores = query @ key^T` (times a learned `scale` with
    `use_scale=True`; `score_mode="concat"` uses
    `concat_score_weight * sum(tanh(scale * (query + key)), -1)`), masked
    positions get `-1e9`, `softmax` over the keys, optional dropout, then
    `scores @ value`.

    Args:
        use_scale: learn a scalar `scale` for the scores.
        score_mode: `"dot"` or `"concat"`.
        dropout: dropout rate on the attention weights (training only).
        seed: optional int seed of the dropout.
        **kwargs: standard layer keyword arguments.

    Call arguments:
        inputs: `[query (B, Tq, dim), value (B, Tv, dim)]` or
            `[query, value, key (B, Tv, dim)]`; `key` defaults to `value`.
        mask: optional `[query_mask (B, Tq), value_mask (B, Tv)]`.
        return_attention_scores: also return the `(B, Tq, Tv)` weights.
        training: whether dropout is active.
        use_causal_mask: mask positions `j > i` (decoder self-attention).

    Output shape:
        `(B, Tq, dim_value)` (and the scores when requested).

    Example:
    >>> q = np.random.rand(2, 4, 8).astype("float32")
    >>> v = np.random.rand(2, 6, 8).astype("float32")
    >>> gkeras.layers.Attention()([q, v]).shape
    (2, 4, 8)
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: invalid value for "
                "argument score_mode. Expected one of {'dot', 'concat'}. "
                f"Received: score_mode={score_mode!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: `dropout` must be in "
                f"[0, 1). Received: dropout={dropout!r}")
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = float(dropout)
        self.seed = seed
        self.seed_generator = SeedGenerator(seed) if self.dropout > 0 \
            else None
        self.scale = None
        self.concat_score_weight = None
        self.supports_masking = True

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(),
                                         initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(
                name="concat_score_weight", shape=(), initializer="ones")
        self.built = True

    def _calculate_scores(self, query, key):
        if self.score_mode == "dot":
            scores = ops.matmul(query, ops.swapaxes(key, -1, -2))
            if self.scale is not None:
                scores = ops.multiply(scores, self.scale)
            return scores
        q = ops.expand_dims(query, -2)
        k = ops.expand_dims(key, -3)
        s = ops.add(q, k)
        if self.scale is not None:
            s = ops.multiply(s, self.scale)
        return ops.multiply(self.concat_score_weight,
                            ops.sum(ops.tanh(s), axis=-1))

    def _apply_scores(self, scores, value, scores_mask=None, training=False):
        if scores_mask is not None:
            padding = ops.logical_not(scores_mask)
            big = 65504.0 if scores.dtype == np.float16 else 1.0e9
            scores = ops.subtract(scores, ops.multiply(
                ops.cast(padding, scores.dtype), big))
        weights = ops.softmax(scores, axis=-1)
        dropped = weights
        if training and self.dropout > 0:
            dropped = ops.dropout(weights, self.dropout,
                                  seed=self.seed_generator)
        return ops.matmul(dropped, value), weights

    def _score_mask(self, scores, v_mask, use_causal_mask):
        mask = None
        if v_mask is not None:
            mask = ops.expand_dims(ops.cast(v_mask, "bool"), -2)
        if use_causal_mask:
            tq, tv = scores.shape[-2], scores.shape[-1]
            causal = ops.convert_to_tensor(np.tri(tq, tv, 0, dtype=bool)[None])
            mask = causal if mask is None else ops.logical_and(mask, causal)
        return mask

    def call(self, inputs, mask=None, training=False,
             return_attention_scores=False, use_causal_mask=False):
        self._validate_inputs(inputs, mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        if v_mask is not None:
            self._check_mask("value_mask", v_mask, tuple(v.shape[:-1]))
        if q_mask is not None:
            self._check_mask("query_mask", q_mask, tuple(q.shape[:-1]))
        scores = self._calculate_scores(q, k)
        scores_mask = self._score_mask(scores, v_mask, use_causal_mask)
        out, weights = self._apply_scores(scores, v, scores_mask, training)
        if q_mask is not None:
            out = ops.multiply(out, ops.cast(ops.expand_dims(q_mask, -1),
                                             out.dtype))
        if return_attention_scores:
            return out, weights
        return out

    def _check_mask(self, name, m, want):
        shape = tuple(m.shape)
        if shape != tuple(want):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: `{name}` must have "
                f"shape {tuple(want)} (batch, steps); received "
                f"{name}.shape={shape}.")

    def compute_mask(self, inputs, mask=None):
        if mask is None or not isinstance(mask, (list, tuple)) or \
                mask[0] is None:
            return None
        return ops.convert_to_tensor(mask[0])

    def compute_output_shape(self, input_shape):
        self._validate_inputs(input_shape)
        return tuple(input_shape[0][:-1]) + (input_shape[1][-1],)

    def compute_output_spec(self, inputs, mask=None, training=False,
                            return_attention_scores=False,
                            use_causal_mask=False):
        from gkeras.ops.symbolic import KerasTensor
        shapes = [tuple(x.shape) for x in inputs]
        out = KerasTensor(self.compute_output_shape(shapes),
                          dtype=self.compute_dtype)
        if return_attention_scores:
            return out, KerasTensor(shapes[0][:-1] + (shapes[1][1],),
                                    dtype=self.compute_dtype)
        return out

    def _validate_inputs(self, inputs, mask=None):
        cls = type(self).__name__
        if not isinstance(inputs, (list, tuple)) or \
                not 2 <= len(inputs) <= 3 or not all(
                    isinstance(s, (list, tuple)) or hasattr(s, "shape")
                    for s in inputs):
            raise ValueError(
                f"{cls} {self.name!r}: `inputs` must be a list of 2 or 3 "
                "tensors [query, value] or [query, value, key]. Received: "
                f"inputs={inputs!r}")
        shapes = [tuple(s.shape) if hasattr(s, "shape") else tuple(s)
                  for s in inputs]
        if any(len(s) != 3 for s in shapes):
            raise ValueError(
                f"{cls} {self.name!r}: query, value and key must be 3-D "
                f"(batch, steps, dim). Received shapes {shapes}")
        q, v = shapes[0], shapes[1]
        k = shapes[2] if len(shapes) > 2 else v
        if k[1] is not None and v[1] is not None and k[1] != v[1]:
            raise ValueError(
                f"{cls} {self.name!r}: `key` and `value` must have the same "
                f"number of steps. Received: value shape {v}, key shape {k}")
        if self.score_mode == "dot" or type(self) is not Attention:
            if q[-1] is not None and k[-1] is not None and q[-1] != k[-1]:
                raise ValueError(
                    f"{cls} {self.name!r}: the last dimension of `query` "
                    f"({q[-1]}) must equal that of `key` ({k[-1]}). "
                    f"Received shapes: query {q}, key {k}")
        if mask is not None:
            if not isinstance(mask, (list, tuple)) or \
                    not 2 <= len(mask) <= 3:
                raise ValueError(
                    f"{cls} {self.name!r}: `mask` must be a list "
                    "[query_mask, value_mask] (or with key_mask). Received: "
                    f"mask={mask!r}")

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale,
                "score_mode": self.score_mode, "dropout": self.dropout,
                "seed": self.seed}
