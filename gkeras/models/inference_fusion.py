"""Inference fusion in a Functional graph (Sequential models included):
Conv2D -> BatchNormalization -> ReLU -> MaxPooling2D chains, and a
residual Add -> LayerNormalization.

Run layer by layer, such a chain makes the convolution output, then reads
and writes it again for the normalization, the ReLU and the pooling. In
inference (`training=False`: `predict`, `predict_on_batch`, `evaluate`)
the chain is one call of `ops.conv_fused.conv_inference_fused`: the
normalization's per-channel scale and shift, the ReLU and the pooling
are applied to each block of samples of the convolution while it is in
cache (and 3x3 convolutions with 16+ channels run Winograd, see
`backend/cpu/conv_fused.py`). Measured on the BatchNorm CNN, 1 thread,
CPU time, interleaved in one run with the layers run one by one and
PyTorch (eval, inference_mode, 1 thread), medians of the paired ratios
fused / PyTorch (layers one by one / PyTorch): predict_on_batch at batch
1 0.70 (1.06), 8 0.48 (0.72), 64 0.36 (0.68), 128 0.35 (0.69); `predict`
over 2000 rows at batch 64 0.34 (0.65). At batch 64 the three chains
took 3.6 / 4.8 / 4.1 ms against 7.1 / 11.5 / 9.7 layer by layer.

An `Add` of two tensors whose output feeds only a `LayerNormalization`
(a post-norm residual block: `LayerNormalization()(Add()([x, f(x)]))`)
is one `AddNorm` entry: each row is summed and normalized while in cache
(`ops.layer_norm.add_layer_normalization_inference`) instead of writing
the sum to memory and reading it back. Measured at the Transformer
block's 3200 x 128 after its GEMMs: 1.45-1.55 ms as two layers, 0.62-0.71
ms fused, same values.

An `Embedding` whose output feeds only an `LSTM` or a `GRU` is one
`EmbeddingRNN` entry: the recurrent layer's input projection (each
token's embedding row times the input kernel) is read from a table of
`embeddings @ kernel` rows (`backend.cpu.projection_table`), filled
lazily and checked against the current weights by value at every call,
instead of a GEMM over every step of every sequence (the gathered modes
of `backend.cpu.lstm_infer` and `gru_infer`).

A chain is found once per graph, from the graph's structure: a `Conv2D`
(exact type; linear activation, or ReLU with nothing but a pool after
it; alone, it runs through the fused op too) then, each optional and in
this order, a `BatchNormalization` over
the last axis, a ReLU (`Activation("relu")` or a default `ReLU()`) and a
'valid' `MaxPooling2D`, where each intermediate output feeds only the
next layer of the chain and is not a model output. Whether a chain runs
fused is decided at every call, from the layers' current state: NumPy
float inputs of the layers' compute dtype, float32/float64 policies (not
mixed precision), channels-last, one group, no mask, no activity
regularizer, no gradient tape, the CPU JIT on. Otherwise, and whenever
the fused op declines, the chain's layers run one by one as they would
without fusion. The normalization reads its current variables each call,
so `set_weights`, `assign` and optimizer steps take effect immediately.
"""

import contextlib
import threading

import numpy as np

from gkeras import activations
from gkeras.backend.cpu import jit
from gkeras.layers.activations.activation_layers import ReLU
from gkeras.layers.convolutional.conv import Conv2D
from gkeras.layers.core.activation import Activation
from gkeras.layers.core.embedding import Embedding
from gkeras.layers.merging.elementwise import Add
from gkeras.layers.normalization.batch_normalization import \
    BatchNormalization
from gkeras.layers.normalization.layer_normalization import \
    LayerNormalization
from gkeras.layers.pooling.pooling import MaxPooling2D
from gkeras.layers.rnn.gru import GRU, GRUCell
from gkeras.layers.rnn.lstm import LSTM, LSTMCell
from gkeras.ops.engine import Tensor
from gkeras.ops.symbolic import KerasTensor, flatten

__all__ = ["FusedChain", "AddNorm", "EmbeddingRNN", "inference_plan",
           "disabled"]

_LOCAL = threading.local()


@contextlib.contextmanager
def disabled():
    """A block in which Functional models run every layer on its own
    (the reference path the fused chains are tested against).

    Example:

    >>> with inference_fusion.disabled():
    ...     y = model.predict_on_batch(x)
    """
    _LOCAL.off = getattr(_LOCAL, "off", 0) + 1
    try:
        yield
    finally:
        _LOCAL.off -= 1


def _is_relu(layer):
    if type(layer) is Activation:
        return layer.activation is activations.relu
    return (type(layer) is ReLU and layer.max_value is None
            and layer.negative_slope == 0.0 and layer.threshold == 0.0)


def _chain_kind(layer):
    if type(layer) is BatchNormalization:
        return 1
    if _is_relu(layer):
        return 2
    if type(layer) is MaxPooling2D:
        return 3
    return None


def _layer_ok(layer, dt):
    """Whether `layer`'s `call` may be skipped for inputs of dtype `dt`:
    built, of that dtype policy, no activity regularizer, no `call`
    assigned on the instance."""
    return (layer.built and layer.dtype_policy.name == dt
            and layer.activity_regularizer is None
            and "call" not in layer.__dict__)


class _FusedEntry:
    """A plan entry standing for several layers: `_fused(x)` (the one-pass
    path, or None where it does not apply) when the JIT is on and fusion
    is not `disabled()`, else `_unfused(x)` (the layers called one by
    one)."""

    def __call__(self, x):
        # `disabled()` is checked here too, not only when the plan is
        # made: a cached call plan may hold this entry.
        y = self._fused(x) if jit.enabled() and not getattr(
            _LOCAL, "off", 0) else None
        return self._unfused(x) if y is None else y


class FusedChain(_FusedEntry):
    """One Conv2D chain as a callable in a Functional call plan.

    Called on the chain's input in inference, it returns the chain's
    output: fused when the layers' current state allows it, else by
    calling the layers one by one with `training=False`.

    Args:
        layers: the `Conv2D` then its BatchNormalization / ReLU /
            MaxPooling2D layers, in graph order.
    """

    def __init__(self, layers):
        self.layers = list(layers)
        self.conv = self.layers[0]
        rest = {_chain_kind(l): l for l in self.layers[1:]}
        self.bn, self.relu, self.pool = rest.get(1), rest.get(2), rest.get(3)

    def __repr__(self):
        return "FusedChain(" + " -> ".join(l.name for l in self.layers) + ")"

    def _unfused(self, x):
        for layer in self.layers:
            x = layer(x, training=False) if type(layer) is \
                BatchNormalization else layer(x)
        return x

    def _fused(self, x):
        a = x.data if type(x) is Tensor else x
        if type(a) is not np.ndarray or a.ndim != 4 or \
                getattr(x, "_keras_mask", None) is not None:
            return None
        dt = a.dtype.name
        if dt not in ("float32", "float64"):
            return None
        if not all(_layer_ok(layer, dt) for layer in self.layers):
            return None
        conv, bn, pool = self.conv, self.bn, self.pool
        relu = self.relu is not None
        if conv.activation is activations.relu:
            if bn is not None or relu:
                return None
            relu = True
        elif conv.activation is not activations.linear:
            return None
        if conv.data_format != "channels_last" or conv.groups != 1 or \
                conv.padding not in ("valid", "same"):
            return None
        stats = None
        if bn is not None:
            if bn.axis not in (-1, 3):
                return None
            stats = (bn.moving_mean, bn.moving_variance,
                     bn.gamma if bn.scale else None,
                     bn.beta if bn.center else None, bn.epsilon)
        window = None
        if pool is not None:
            if (pool.data_format != "channels_last" or pool.padding != "valid"
                    or pool.pool_mode != "max"):
                return None
            window = (tuple(pool.pool_size), tuple(pool.strides))
        from gkeras.ops.conv_fused import conv_inference_fused
        return conv_inference_fused(
            x, conv.kernel, conv.bias if conv.use_bias else None, stats,
            relu, window, conv.strides, conv.padding, conv.dilation_rate)


class AddNorm(_FusedEntry):
    """`LayerNormalization(Add()([a, b]))` as one callable in a call plan.

    Called on `[a, b]` in inference it returns the normalization's output:
    in one pass when the layers' current state and the inputs allow it
    (two unmasked NumPy tensors of one shape and of the layers' float32 or
    float64 dtype, the normalized axes the trailing ones, the JIT on, no
    tape), else by calling the two layers.

    Args:
        add: the `Add` layer.
        norm: the `LayerNormalization` layer that its output feeds.
    """

    def __init__(self, add, norm):
        self.add, self.norm = add, norm
        self.layers = [add, norm]

    def __repr__(self):
        return f"AddNorm({self.add.name} -> {self.norm.name})"

    def _unfused(self, inputs):
        return self.norm(self.add(inputs))

    def _fused(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            return None
        a, b = inputs
        if type(a) is not Tensor or type(b) is not Tensor or \
                a._keras_mask is not None or b._keras_mask is not None:
            return None
        x = a.data
        if type(x) is not np.ndarray or x.dtype != b.data.dtype or \
                x.shape != b.data.shape:
            return None
        dt = x.dtype.name
        norm = self.norm
        if dt not in ("float32", "float64") or \
                not _layer_ok(self.add, dt) or not _layer_ok(norm, dt):
            return None
        axes = getattr(norm, "_norm_axes", None)
        nd = x.ndim
        if not axes or list(axes) != list(range(nd - len(axes), nd)):
            return None
        size = 1
        for ax in axes:
            size *= x.shape[ax]
        from gkeras.ops.layer_norm import add_layer_normalization_inference
        return add_layer_normalization_inference(
            a, b, norm.gamma, norm.beta, size, norm.epsilon,
            norm.rms_scaling)


class EmbeddingRNN(_FusedEntry):
    """`LSTM(Embedding(ids))` or `GRU(Embedding(ids))` as one callable in
    a call plan.

    Called on the token ids in inference, it returns what the recurrent
    layer returns (its output, or the output and states with
    `return_state`). When the layers' state and the input allow it -- an
    unmasked 2-D integer NumPy input with every id in the table, a
    float32 Embedding without `mask_zero`, a float32 non-stateful `LSTM`
    or `GRU` (`reset_after=True`) with the default tanh/sigmoid
    activations, the JIT on with a kernel-callable BLAS, no tape, a table
    within `projection_table.MAX_BYTES` -- the input projection is read
    from this entry's `ProjectionTable`; otherwise the two layers are
    called.

    Args:
        embedding: the `Embedding` layer.
        rnn: the `LSTM` or `GRU` layer that its output feeds.
    """

    def __init__(self, embedding, rnn):
        self.embedding, self.rnn = embedding, rnn
        self.layers = [embedding, rnn]
        self._table = None

    def __repr__(self):
        return f"EmbeddingRNN({self.embedding.name} -> {self.rnn.name})"

    def _unfused(self, x):
        return self.rnn(self.embedding(x), training=False)

    def _fused(self, x):
        from gkeras.backend.cpu import cblas
        from gkeras.backend.cpu.projection_table import ProjectionTable
        from gkeras.ops.engine import is_recording
        if type(x) is not Tensor or x._keras_mask is not None or \
                is_recording():
            return None
        ids = x.data
        if type(ids) is not np.ndarray or ids.ndim != 2 or \
                ids.dtype.kind not in "iu" or ids.size == 0:
            return None
        emb, rnn = self.embedding, self.rnn
        cell = rnn.cell
        lstm = type(rnn) is LSTM
        if emb.mask_zero or rnn.stateful or \
                type(cell) is not (LSTMCell if lstm else GRUCell) or \
                (not lstm and not cell.reset_after) or \
                not _layer_ok(emb, "float32") or \
                not _layer_ok(rnn, "float32") or \
                not _layer_ok(cell, "float32") or \
                cell.activation is not activations.tanh or \
                cell.recurrent_activation is not activations.sigmoid:
            return None
        V, F = emb.input_dim, emb.output_dim
        U = cell.units
        G = (4 if lstm else 3) * U
        if not ProjectionTable.fits(V, F, G) or not cblas.available() or \
                int(ids.min()) < 0 or int(ids.max()) >= V:
            return None
        arrays = [v.data for v in (emb.embeddings, cell.kernel,
                                   cell.recurrent_kernel)]
        bias = cell.bias.data if cell.use_bias else None
        if any(type(a) is not np.ndarray or a.dtype != np.float32
               or not a.flags.c_contiguous
               for a in arrays + ([] if bias is None else [bias])):
            return None
        table = self._table
        if table is None or table.shape != (V, F, G):
            table = self._table = ProjectionTable(V, F, G)
        N = ids.shape[0]
        zeros = np.zeros((N, U), np.float32)
        with table.lock:
            rows = table.rows_for(ids, arrays[0], arrays[1])
            if lstm:
                from gkeras.backend.cpu import lstm_infer
                hs, h, c, _ = lstm_infer.forward(
                    ids, arrays[1], np.zeros(G, np.float32) if bias is None
                    else bias, zeros, zeros, arrays[2], rnn.go_backwards,
                    rnn.return_sequences, table=rows)
                states = (Tensor(h), Tensor(c))
            else:
                from gkeras.backend.cpu import gru_infer
                hs, h, _ = gru_infer.forward(
                    ids, zeros, arrays[2], np.zeros(G, np.float32)
                    if bias is None else bias[1], rnn.go_backwards,
                    table=rows, input_bias=None if bias is None
                    else bias[0])
                states = (Tensor(h),)
        out = Tensor(hs) if rnn.return_sequences else states[0]
        if rnn.return_state:
            return (out,) + states
        return out


def _consumers(plan):
    counts = {}
    for _, _, args, kwargs, _ in plan:
        for v in flatten(args) + flatten(kwargs):
            if isinstance(v, KerasTensor):
                counts[id(v)] = counts.get(id(v), 0) + 1
    return counts


def _fuse(plan, output_ids):
    """The plan with each chain or pair replaced by one entry
    (`FusedChain`, `AddNorm`, `EmbeddingRNN`)."""
    counts = _consumers(plan)
    by_input = {}
    for i, (op, simple, args, _, out_ids) in enumerate(plan):
        if simple:
            by_input.setdefault(id(args[0]), []).append(i)
    fused, taken = [], set()

    def sole_next(out):
        """The one entry not yet fused that consumes `out`, when nothing
        else does and `out` is not a model output; else None."""
        if counts.get(out) != 1 or out in output_ids:
            return None
        nxt = [j for j in by_input.get(out, ()) if j not in taken]
        return nxt[0] if len(nxt) == 1 else None

    for i, (op, simple, args, kwargs, out_ids) in enumerate(plan):
        if i in taken:
            continue
        rnn = _rnn_after_embedding(plan, i, sole_next)
        if rnn is not None:
            taken.add(rnn)
            fused.append((EmbeddingRNN(op, plan[rnn][0]), True, args, {},
                          plan[rnn][4]))
            continue
        norm = _norm_after_add(plan, i, sole_next)
        if norm is not None:
            taken.add(norm)
            fused.append((AddNorm(op, plan[norm][0]), False, args, {},
                          plan[norm][4]))
            continue
        if not (simple and type(op) is Conv2D and len(out_ids) == 1):
            fused.append(plan[i])
            continue
        chain, last_kind, out = [i], 0, out_ids[0]
        while True:
            j = sole_next(out)
            if j is None:
                break
            op_j, _, _, _, out_j = plan[j]
            kind = _chain_kind(op_j)
            if kind is None or kind <= last_kind or len(out_j) != 1:
                break
            chain.append(j)
            last_kind, out = kind, out_j[0]
        # A Conv2D alone runs through the fused op too (Winograd, one
        # compiled call a thread), with its bias and ReLU if any.
        taken.update(chain[1:])
        fused.append((FusedChain([plan[j][0] for j in chain]), True, args,
                      {}, [out]))
    return fused


def _rnn_after_embedding(plan, i, sole_next):
    """The index of the LSTM or GRU entry that alone consumes entry `i`, a
    simple `Embedding` call; None otherwise."""
    op, simple, _, _, out_ids = plan[i]
    if not simple or type(op) is not Embedding or len(out_ids) != 1:
        return None
    j = sole_next(out_ids[0])
    return j if j is not None and type(plan[j][0]) in (LSTM, GRU) else None


def _norm_after_add(plan, i, sole_next):
    """The index of the LayerNormalization entry that alone consumes entry
    `i`, an `Add` of two tensors; None otherwise."""
    op, _, args, kwargs, out_ids = plan[i]
    if type(op) is not Add or kwargs or len(args) != 1 or \
            len(out_ids) != 1 or not isinstance(args[0], (list, tuple)) or \
            len(args[0]) != 2 or not all(
                isinstance(v, KerasTensor) for v in args[0]):
        return None
    j = sole_next(out_ids[0])
    if j is None or type(plan[j][0]) is not LayerNormalization or \
            len(plan[j][4]) != 1:
        return None
    return j


def inference_plan(model):
    """The call plan of a Functional `model` for `training=False`, with
    its Conv2D chains, Add -> LayerNormalization pairs and Embedding ->
    LSTM/GRU pairs fused.

    Built once per graph and cached on the model (and it may be cached in
    another call plan): each `FusedChain` checks `disabled()` and the
    layers' current state at every call.

    Args:
        model: a `Functional` model (its `_plan` and `outputs`).

    Returns:
        A list of `(op, simple, args, kwargs, out_ids)` entries, as
        `Functional._plan`.
    """
    plan = model._plan
    cached = model.__dict__.get("_gk_inference_plan")
    if cached is None or cached[0] is not plan:
        cached = (plan, _fuse(plan, {id(t) for t in model.outputs}))
        model.__dict__["_gk_inference_plan"] = cached
    return cached[1]
