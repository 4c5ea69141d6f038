"""`MultiHeadAttention` (Keras 3 signature, weight layout and masking)."""

import math
import string

import numpy as np

from gkeras import activations, constraints, initializers, ops, regularizers
from gkeras.backend.device_constants import device_constant
from gkeras.layers.core.einsum_dense import EinsumDense
from gkeras.layers.layer import Layer
from gkeras.ops.attention import MaskedSoftmax, ScaledDotProductAttention
from gkeras.ops._base import xp_of
from gkeras.ops.affine import affine_inference
from gkeras.ops.engine import Tensor, is_recording
from gkeras.ops.symbolic import KerasTensor
from gkeras.random import SeedGenerator


class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al., 2017), as Keras 3 has it.

    `query`, `key` and `value` are projected per head by `EinsumDense`
    sub-layers named `query`, `key`, `value` (kernels `(dim, num_heads,
    key_dim)`), attended with scaled dot products (one fused attention
    primitive), and projected back by `attention_output` (kernel
    `(num_heads, value_dim, out_dim)`).

    Args:
        num_heads: number of attention heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value (default `key_dim`).
        dropout: dropout rate on the attention probabilities.
        use_bias: whether the projections have biases.
        output_shape: output shape besides the batch and sequence axes
            (int or tuple); default the query's last dimension.
        attention_axes: axes attention is applied over (default all but
            batch, heads and features).
        flash_attention: None (the `gkeras.config` flash-attention
            setting), True (the fused kernel; forbids dropout, as in
            Keras) or False (explicit score matrices).
        kernel_initializer, bias_initializer: initializers of the
            projections.
        kernel_regularizer, bias_regularizer, activity_regularizer:
            optional regularizers of the projections.
        kernel_constraint, bias_constraint: optional constraints.
        seed: optional int seed of the attention dropout.
        use_gate: multiply the attention output by a learned sigmoid gate
            of the query (a `gate` projection, `(dim, heads, value_dim)`)
            before the output projection.
        sliding_window: optional positive int: query step `i` attends only
            to key steps `j` with `|i - j| < sliding_window`.

    Call arguments:
        query: `(B, T, dim)`.
        value: `(B, S, dim)`.
        key: optional `(B, S, dim)`; `value` when None.
        query_mask, value_mask, key_mask: optional boolean `(B, T)` /
            `(B, S)` masks; taken from the inputs' Keras masks by default.
        attention_mask: optional boolean mask broadcastable to
            `(B, T, S)`, `True` = attend.
        return_attention_scores: also return `(B, num_heads, T, S)`
            attention probabilities.
        training: whether dropout is active.
        use_causal_mask: apply a causal mask (decoder self-attention).

    Input shape:
        `query` `(B, T, dim_q)`, `value` `(B, S, dim_v)` (higher ranks with
        `attention_axes`).

    Output shape:
        `(B, T, dim_q)` (or `(B, T) + output_shape`), and the scores when
        requested.

    Example:
    >>> mha = gkeras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = np.random.rand(3, 5, 8).astype("float32")
    >>> mha(x, x).shape
    (3, 5, 8)
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0,
                 use_bias=True, output_shape=None, attention_axes=None,
                 flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, seed=None,
                 use_gate=False, sliding_window=None, **kwargs):
        super().__init__(**kwargs)
        if sliding_window is not None and (
                not isinstance(sliding_window, (int, np.integer))
                or isinstance(sliding_window, bool) or sliding_window <= 0):
            raise ValueError(
                "`sliding_window` must be `None` or a positive integer. "
                f"Received: sliding_window={sliding_window}")
        self._use_gate = bool(use_gate)
        self._sliding_window = None if sliding_window is None else \
            int(sliding_window)
        for arg, v in (("num_heads", num_heads), ("key_dim", key_dim)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) \
                    or v <= 0:
                raise ValueError(
                    f"MultiHeadAttention {self.name!r}: `{arg}` must be a "
                    f"positive integer. Received: {arg}={v!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(
                f"MultiHeadAttention {self.name!r}: `dropout` must be in "
                f"[0, 1). Received: dropout={dropout!r}")
        self.supports_masking = True
        self._num_heads = int(num_heads)
        self._key_dim = int(key_dim)
        self._value_dim = int(value_dim) if value_dim else self._key_dim
        self._dropout = float(dropout)
        self._use_bias = use_bias
        if output_shape:
            if isinstance(output_shape, (int, np.integer)):
                output_shape = (int(output_shape),)
            try:
                output_shape = tuple(output_shape)
            except TypeError:
                raise ValueError(
                    f"Invalid `output_shape`: {output_shape}. When "
                    "specified, the `output_shape` should be of type tuple, "
                    "list, or int.") from None
        self._output_shape = output_shape or None
        if flash_attention is not None and \
                not isinstance(flash_attention, bool):
            raise ValueError(
                f"MultiHeadAttention {self.name!r}: `flash_attention` must "
                f"be None or a bool. Received: {flash_attention!r}")
        # As Keras: the global switch (`gkeras.config.disable_flash_attention`)
        # applies when the argument is not given.
        from gkeras.backend.global_settings import is_flash_attention_enabled
        self._flash_attention = flash_attention or \
            is_flash_attention_enabled()
        if flash_attention and self._dropout > 0.0:
            raise ValueError(
                "Dropout is not supported when flash attention is enabled. "
                "Please set dropout to 0.0 to use flash attention.")
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._activity_regularizer = regularizers.get(activity_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        if isinstance(attention_axes, (int, np.integer)):
            attention_axes = (int(attention_axes),)
        elif attention_axes is not None and \
                not isinstance(attention_axes, (list, tuple)):
            raise ValueError(
                "`attention_axes` must be an int, list, or tuple. "
                f"Received: attention_axes={attention_axes}")
        self._attention_axes = tuple(attention_axes) \
            if attention_axes is not None else None
        self.seed = seed
        self._seed_generator = SeedGenerator(seed) if self._dropout > 0 \
            else None
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))
        # Keras's weight order: query, key, gate, value, output.
        self._query_dense = None
        self._key_dense = None
        self._gate_dense = None
        self._value_dense = None
        self._output_dense = None

    # -- properties (Keras names) --------------------------------------------
    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)
    query_dense = property(lambda self: self._query_dense)
    key_dense = property(lambda self: self._key_dense)
    value_dense = property(lambda self: self._value_dense)
    output_dense = property(lambda self: self._output_dense)

    def get_config(self):
        config = {
            "num_heads": self._num_heads,
            "key_dim": self._key_dim,
            "value_dim": self._value_dim,
            "dropout": self._dropout,
            "use_bias": self._use_bias,
            "use_gate": self._use_gate,
            "output_shape": self._output_shape,
            "attention_axes": self._attention_axes,
            "sliding_window": self._sliding_window,
            **self._projection_config(),
        }
        base = super().get_config()
        base.pop("activity_regularizer", None)
        return {**base, **config}

    def _projection_config(self):
        """The projections' initializers, regularizers, constraints and the
        dropout seed, serialized (shared with GroupQueryAttention)."""
        return {
            "kernel_initializer": initializers.serialize(
                self._kernel_initializer),
            "bias_initializer": initializers.serialize(self._bias_initializer),
            "kernel_regularizer": regularizers.serialize(
                self._kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self._bias_regularizer),
            "activity_regularizer": regularizers.serialize(
                self._activity_regularizer),
            "kernel_constraint": constraints.serialize(
                self._kernel_constraint),
            "bias_constraint": constraints.serialize(self._bias_constraint),
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("attention_axes") is not None:
            config["attention_axes"] = tuple(config["attention_axes"])
        if config.get("output_shape") is not None:
            config["output_shape"] = tuple(config["output_shape"])
        return super().from_config(config)

    # -- building -------------------------------------------------------------
    def _sublayer_kwargs(self):
        # Fresh initializer instances per projection, so that seeded
        # initializers do not give four identical kernels.
        return dict(
            kernel_regularizer=self._kernel_regularizer,
            bias_regularizer=self._bias_regularizer,
            activity_regularizer=self._activity_regularizer,
            kernel_constraint=self._kernel_constraint,
            bias_constraint=self._bias_constraint,
            dtype=self.dtype_policy,
            kernel_initializer=type(self._kernel_initializer).from_config(
                self._kernel_initializer.get_config()),
            bias_initializer=type(self._bias_initializer).from_config(
                self._bias_initializer.get_config()))

    def _projection(self, in_rank, heads_dim, name, activation=None):
        eq, bias_axes, out_rank = _proj_equation(in_rank - 1, 1, 2)
        return EinsumDense(
            eq, output_shape=[None] * (out_rank - 1 - 2) + list(heads_dim),
            bias_axes=bias_axes if self._use_bias else None, name=name,
            activation=activation, **self._sublayer_kwargs())

    def build(self, query_shape, value_shape, key_shape=None):
        """Creates the four projections (query, key, value, output).

        Args:
            query_shape: shape of `query`.
            value_shape: shape of `value`.
            key_shape: shape of `key` (default `value_shape`).
        """
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                f"MultiHeadAttention {self.name!r}: all dimensions of "
                "`value` and `key`, except the last one, must be equal. "
                f"Received: value_shape={value_shape} and "
                f"key_shape={key_shape}")
        hk = (self._num_heads, self._key_dim)
        hv = (self._num_heads, self._value_dim)
        self._query_dense = self._projection(len(query_shape), hk, "query")
        self._query_dense.build(query_shape)
        self._key_dense = self._projection(len(key_shape), hk, "key")
        self._key_dense.build(key_shape)
        if self._use_gate:
            # sigmoid(query projection), one gate per head and value unit,
            # multiplied into the attention output (Keras 3.11+).
            self._gate_dense = self._projection(len(query_shape), hv,
                                                "gate", "sigmoid")
            self._gate_dense.build(query_shape)
        self._value_dense = self._projection(len(value_shape), hv, "value")
        self._value_dense.build(value_shape)
        rank = len(query_shape) + 1  # projected rank
        self._build_attention(rank)
        out_shape = self._output_shape or (query_shape[-1],)
        eq, bias_axes, out_rank = _proj_equation(len(query_shape) - 1, 2,
                                                 len(out_shape))
        self._output_dense = EinsumDense(
            eq, output_shape=[None] * (out_rank - 1 - len(out_shape)) +
            list(out_shape),
            bias_axes=bias_axes if self._use_bias else None,
            name="attention_output", **self._sublayer_kwargs())
        od_in = list(self._query_dense.compute_output_shape(query_shape))
        od_in[-1] = self._value_dim
        self._output_dense.build(tuple(od_in))
        self._built_dims = (query_shape[-1], value_shape[-1], key_shape[-1])
        self._built_ranks = (len(query_shape), len(value_shape),
                             len(key_shape))
        self.built = True

    def _build_attention(self, rank):
        if self._attention_axes is None:
            self._attention_axes = tuple(range(1, rank - 2))
        else:
            self._attention_axes = tuple(
                a if a >= 0 else (rank - 1) + a for a in self._attention_axes)
        for a in self._attention_axes:
            if not 0 < a < rank - 2:
                raise ValueError(
                    f"MultiHeadAttention {self.name!r}: `attention_axes` "
                    f"must name axes of the query other than the batch and "
                    f"feature axes (1 to {rank - 3}). Received: "
                    f"attention_axes={self._attention_axes}")
        (self._dot_product_equation, self._combine_equation,
         self._scores_rank) = _attention_equations(rank,
                                                   self._attention_axes)
        self._fast_layout = self._attention_axes == (1,) and rank == 4

    # -- calling --------------------------------------------------------------
    def _check_inputs(self, query, value, key):
        names = ("query", "value", "key")
        for n, x, dim, rank in zip(names, (query, value, key),
                                   self._built_dims, self._built_ranks):
            shape = tuple(x.shape)
            if len(shape) != rank or shape[-1] != dim:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r} was built for `{n}` "
                    f"of rank {rank} with last dimension {dim}, but received "
                    f"{n}.shape={shape}. Use a new layer for inputs of a "
                    "different size.")

    def _check_mask(self, name, mask, want):
        if mask is None:
            return None
        m = mask.data if isinstance(mask, Tensor) else mask
        ms = tuple(np.shape(m)) if not hasattr(m, "shape") else \
            tuple(m.shape)
        ok = len(ms) <= len(want) and all(
            a in (1, b) for a, b in zip(ms[::-1], want[::-1]))
        if not ok:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: `{name}` must have shape "
                f"{want} (or broadcast to it); received {name}.shape={ms}.")
        return ops.cast(mask, "bool")

    def _compute_attention_mask(self, query, value, query_mask=None,
                                value_mask=None, key_mask=None,
                                attention_mask=None, use_causal_mask=False):
        """Merges the Keras masks, the attention mask and the causal mask
        into one boolean `(B, T, S)` mask (logical AND), as Keras does."""
        q_lead = tuple(query.shape[:-1])
        v_lead = tuple(value.shape[:-1])
        auto = None
        query_mask = self._check_mask("query_mask", query_mask, q_lead)
        value_mask = self._check_mask("value_mask", value_mask, v_lead)
        key_mask = self._check_mask("key_mask", key_mask, v_lead)
        if query_mask is not None:
            auto = ops.expand_dims(query_mask, -1)
        for m in (value_mask, key_mask):
            if m is not None:
                m = ops.expand_dims(m, -2)
                auto = m if auto is None else ops.logical_and(auto, m)
        if use_causal_mask:
            T, S = query.shape[1], value.shape[1]
            # Built on the device once per (T, S), not copied every call.
            causal = ops.convert_to_tensor(device_constant(
                np.tri(T, S, 0, dtype=bool)[None], bool))
            auto = causal if auto is None else ops.logical_and(auto, causal)
        if self._sliding_window is not None:
            T, S = query.shape[1], value.shape[1]
            near = np.abs(np.arange(T)[:, None] - np.arange(S)[None, :]) < \
                self._sliding_window
            near = ops.convert_to_tensor(device_constant(near[None], bool))
            auto = near if auto is None else ops.logical_and(auto, near)
        if attention_mask is not None:
            want = (query.shape[0],) + tuple(query.shape[1:-1]) + \
                tuple(value.shape[1:-1])
            attention_mask = self._check_mask("attention_mask",
                                              attention_mask, want)
        if auto is not None:
            attention_mask = auto if attention_mask is None else \
                ops.logical_and(attention_mask, auto)
        return attention_mask

    def _dropout_seed(self):
        return int(self._seed_generator.numpy_rng().integers(0, 2 ** 31 - 1))

    def _compute_attention(self, query, key, value, attention_mask=None,
                           training=None, return_attention_scores=False):
        """Attention over projected `(B, T, N, key_dim)` tensors.

        Returns:
            `(attention_output (B, T, N, value_dim), scores or None)`.
        """
        if self._flash_attention and return_attention_scores:
            raise ValueError(
                "Returning attention scores is not supported when flash "
                "attention is enabled. Please disable flash attention to "
                "access attention scores.")
        drop = self._dropout if (self._dropout > 0.0 and training) else 0.0
        seed = self._dropout_seed() if drop else 0
        # Keras's fused path (no scores, no training dropout) gives a
        # fully masked row uniform weights; its Softmax-layer path zeros.
        fused = not drop and not return_attention_scores
        fully_masked = "uniform" if fused else "zero"
        mask = None
        if attention_mask is not None:
            mask = attention_mask.data if isinstance(attention_mask, Tensor) \
                else np.asarray(attention_mask)
        # Flash attention disabled: explicit scores (the general path).
        if self._fast_layout and self._flash_attention is not False:
            if mask is not None and mask.ndim == 3:
                mask = mask[:, None]
            perm = (0, 2, 1, 3)
            q = ops.transpose(query, perm)
            k = ops.transpose(key, perm)
            v = ops.transpose(value, perm)
            fn = ScaledDotProductAttention(
                mask=mask, scale=self._inverse_sqrt_key_dim,
                dropout_rate=drop, seed=seed,
                return_scores=return_attention_scores,
                fully_masked=fully_masked)
            if return_attention_scores:
                out, scores = fn(q, k, v)
            else:
                out, scores = fn(q, k, v), None
            return ops.transpose(out, perm), scores
        # General attention axes: einsum scores, fused masked softmax over
        # the flattened key axes, einsum back.
        query = ops.multiply(query, self._inverse_sqrt_key_dim)
        scores = ops.einsum(self._dot_product_equation, key, query)
        shape = tuple(scores.shape)
        n_ax = len(self._attention_axes)
        lead, tq, tk = shape[:-2 * n_ax], shape[-2 * n_ax:-n_ax], \
            shape[-n_ax:]
        flat = (1, int(np.prod(lead)), int(np.prod(tq)), int(np.prod(tk)))
        if mask is not None:
            from gkeras.backend import get_array_module
            xp = get_array_module(mask)  # a CuPy mask stays on the device
            while mask.ndim < len(shape):  # the heads axis, as Keras
                mask = mask[..., None, :, :] if n_ax == 1 else \
                    xp.expand_dims(mask, -2 * n_ax - 1)
            mask = xp.broadcast_to(mask, shape).reshape(flat)
        probs, dropped = MaskedSoftmax(
            mask=mask, scale=1.0, dropout_rate=drop, seed=seed,
            fully_masked=fully_masked)(ops.reshape(scores, flat))
        probs = ops.reshape(probs, shape)
        dropped = ops.reshape(dropped, shape)
        out = ops.einsum(self._combine_equation, dropped, value)
        return out, (probs if return_attention_scores else None)

    def call(self, query, value, key=None, query_mask=None, value_mask=None,
             key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None,
             use_causal_mask=False):
        key_given = key is not None and key is not value
        if key is None:
            key = value
        query, value, key = (ops.convert_to_tensor(t) if not isinstance(
            t, Tensor) else t for t in (query, value, key))
        self._check_inputs(query, value, key)
        if query_mask is None:
            query_mask = query._keras_mask
        if value_mask is None:
            value_mask = value._keras_mask
        if key_mask is None and key_given:
            key_mask = key._keras_mask
        attention_mask = self._compute_attention_mask(
            query, value, query_mask=query_mask, value_mask=value_mask,
            key_mask=key_mask, attention_mask=attention_mask,
            use_causal_mask=use_causal_mask)
        gate = self._gate_dense(query) if self._use_gate else None
        qkv = self._self_attention_projections(query, value, key)
        if qkv is not None:
            q, k, v = qkv
        else:
            q = self._query_dense(query)
            k = self._key_dense(key)
            v = self._value_dense(value)
        out, scores = self._compute_attention(
            q, k, v, attention_mask, training, return_attention_scores)
        if gate is not None:
            out = ops.multiply(out, gate)
        out = self._output_dense(out)
        if query_mask is not None:
            out._keras_mask = query_mask.data if isinstance(
                query_mask, Tensor) else query_mask
        if return_attention_scores:
            return out, scores
        return out

    def _self_attention_projections(self, query, value, key):
        """The query, key and value projections of self-attention (one
        tensor as all three) as ONE GEMM against the three kernels side
        by side, outside a gradient tape; None where the three
        `EinsumDense` calls are needed.

        At the Transformer block's 3200 x 128 inputs, three 128 x 128
        products run at ~89 GFLOP/s (1.17 ms each on 2 cores) where one
        128 x 384 product runs at ~172 (1.83 ms in all). The kernels are
        put side by side at every call (3 x 64 KiB here), so weight
        changes take effect at once; the outputs are column blocks of the
        product, read in place by the attention.
        """
        if is_recording():
            return None
        x = query.data
        # One tensor, or one array converted twice by an eager call.
        if (value is not query and value.data is not x) or (
                key is not None and key is not value and key.data is not x):
            return None
        denses = (self._query_dense, self._key_dense, self._value_dense)
        plans = [getattr(d, "_matmul_plan", None) for d in denses]
        if any(p is None for p in plans) or \
                len({(p[0], p[1]) for p in plans}) != 1:
            return None
        for d, plan in zip(denses, plans):
            if (type(d) is not EinsumDense or not d.built
                    or d.activation is not activations.linear
                    or d.activity_regularizer is not None
                    or "call" in d.__dict__
                    or d.compute_dtype != x.dtype
                    or d.kernel.data.dtype != x.dtype
                    or (d.bias is None) != (denses[0].bias is None)
                    or (d.bias is not None
                        and tuple(d.bias.shape) != tuple(plan[2]))):
                return None
        n_free, k_size = plans[0][0], plans[0][1]
        xp = xp_of(x)
        kernels = [d.kernel.data.reshape(k_size, -1) for d in denses]
        w = xp.concatenate(kernels, axis=1)
        b = None if denses[0].bias is None else xp.concatenate(
            [d.bias.data.reshape(-1) for d in denses])
        y = affine_inference(x.reshape(-1, k_size), w, b)
        if y is None:
            return None
        lead = tuple(x.shape[:n_free])
        outs, col = [], 0
        for plan, kern in zip(plans, kernels):
            n = kern.shape[1]
            outs.append(Tensor(y[:, col:col + n].reshape(lead + plan[2])))
            col += n
        return outs

    def compute_output_shape(self, query_shape, value_shape=None,
                             key_shape=None):
        query_shape = tuple(query_shape)
        if value_shape is not None:
            value_shape = tuple(value_shape)
            key_shape = value_shape if key_shape is None else tuple(key_shape)
            if value_shape[1:-1] != key_shape[1:-1]:
                raise ValueError(
                    f"MultiHeadAttention {self.name!r}: all dimensions of "
                    "`value` and `key`, except the last one, must be equal. "
                    f"Received: value_shape={value_shape} and "
                    f"key_shape={key_shape}")
        if self._output_shape:
            return query_shape[:-1] + tuple(self._output_shape)
        return query_shape

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
            q_ax = tuple(query.shape[1:-1])
            k_ax = tuple(value.shape[1:-1])
            scores = KerasTensor((query.shape[0], self._num_heads) + q_ax +
                                 k_ax, dtype=self.compute_dtype)
            return out, scores
        return out


def _proj_equation(free_dims, bound_dims, output_dims):
    """Einsum equation of a projection: `free + bound` input letters,
    `bound + output` kernel letters, `free + output` output letters.

    Returns:
        `(equation, bias_axes, output_rank)`.
    """
    letters = string.ascii_lowercase
    free = letters[:free_dims]
    bound = letters[free_dims:free_dims + bound_dims]
    out = letters[free_dims + bound_dims:free_dims + bound_dims + output_dims]
    return f"{free}{bound},{bound}{out}->{free}{out}", out, \
        len(free) + len(out)


def _attention_equations(rank, attn_axes):
    """The score and combine einsum equations of multi-head attention.

    Projected tensors are `(batch dims..., attention dims..., heads,
    channels)`; scores are `(batch dims..., heads, query attention dims...,
    key attention dims...)`.

    Returns:
        `(dot_product_equation, combine_equation, scores_rank)`.
    """
    letters = string.ascii_lowercase
    target = letters[:rank]
    batch_dims = [i for i in range(rank) if i not in attn_axes and
                  i != rank - 1]
    nxt = rank
    source = ""
    for i in range(rank):
        if i in batch_dims or i == rank - 1:
            source += target[i]
        else:
            source += letters[nxt]
            nxt += 1
    product = "".join([target[i] for i in batch_dims] +
                      [target[i] for i in attn_axes] +
                      [source[i] for i in attn_axes])
    return (f"{source},{target}->{product}", f"{product},{source}->{target}",
            len(product))
