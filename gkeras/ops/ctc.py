"""Connectionist Temporal Classification: `ctc_loss` (differentiable) and
`ctc_decode` (greedy and beam search), with Keras 3's semantics.

The loss is the forward (alpha) recursion in log space over the labels'
blank/emit states, written with differentiable ops so autograd supplies
the backward recursion; it follows the formulation Keras 3 uses on every
backend (optax's `ctc_loss_with_forward_probs`): frames past
`output_length` carry the state through, and `mask_index` is the blank.
Decoding is host-side NumPy (it is not differentiated).
"""

import numpy as np

from gkeras import backend
from gkeras.ops._base import arr, keras_op, t_or_a, wrap
from gkeras.ops.core import cast, einsum
from gkeras.ops.elementwise import add, logaddexp, multiply, negative
from gkeras.ops.nn import log_softmax
from gkeras.ops.reduction import sum as reduce_sum
from gkeras.ops.shape import concatenate

_LOG_EPSILON = -1e5
_PAD = -1


def _raw(x):
    """The backend array behind `x` (NumPy for Python lists)."""
    a = arr(x) if not isinstance(x, (list, tuple)) else np.asarray(x)
    return a


def _host_ints(x, name, shape=None):
    a = np.asarray(backend.to_numpy(t_or_a(x)))
    if shape is not None and a.shape != shape:
        raise ValueError(f"ctc: `{name}` must have shape {shape}. "
                         f"Received: {name}.shape={a.shape}")
    return a.astype(np.int64)


def _add_to_tail(phi, score):
    """`phi[:, 1:] <- logaddexp(phi[:, 1:], score)` (the blank states
    after each label receive `score`)."""
    return concatenate([phi[:, :1], logaddexp(phi[:, 1:], score)], axis=1)


@keras_op
def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """CTC loss per sequence (Graves et al., 2006).

    Args:
        target: `(batch, max_label_length)` integer labels (entries past
            `target_length` are ignored).
        output: `(batch, max_length, num_classes)` logits (a log-softmax
            is applied inside).
        target_length: `(batch,)` label lengths.
        output_length: `(batch,)` valid frames of `output`.
        mask_index: the blank class. Defaults to `0`.

    Returns:
        `(batch,)` negative log-likelihoods, differentiable with respect
        to `output`.

    Example:
    >>> logits = np.random.randn(2, 6, 4).astype("float32")
    >>> gkeras.ops.ctc_loss([[1, 2], [3, 0]], logits, [2, 1], [6, 6]).shape
    (2,)
    """
    out = t_or_a(output)
    if len(out.shape) != 3:
        raise ValueError("ctc_loss: `output` must be (batch, max_length, "
                         "num_classes) logits. Received: output.shape="
                         f"{tuple(out.shape)}")
    B, T, K = (int(d) for d in out.shape)
    labels = _host_ints(target, "target")
    if labels.ndim != 2 or labels.shape[0] != B:
        raise ValueError("ctc_loss: `target` must be (batch, "
                         f"max_label_length) with batch {B}. Received: "
                         f"target.shape={labels.shape}")
    N = labels.shape[1]
    label_len = np.clip(_host_ints(target_length, "target_length", (B,)),
                        0, N)
    frames = _host_ints(output_length, "output_length", (B,))
    dtype = np.result_type(backend.standardize_dtype(out.dtype), np.float32)
    if dtype != np.dtype(backend.standardize_dtype(out.dtype)):
        output = cast(output, dtype.name)
    valid_labels = np.arange(N)[None, :] < label_len[:, None]
    if np.any(((labels < 0) | (labels >= K)) & valid_labels):
        bad = labels[((labels < 0) | (labels >= K)) & valid_labels]
        raise ValueError(f"ctc_loss: labels must lie in [0, {K}). Received "
                         f"a label {int(bad[0])}.")
    logprobs = log_softmax(output, axis=-1)
    onehot = np.zeros((B, N, K), dtype)
    safe = np.clip(labels, 0, K - 1)
    onehot[np.arange(B)[:, None], np.arange(N)[None, :], safe] = 1.0
    repeat = np.zeros((B, N), dtype)
    repeat[:, :-1] = labels[:, :-1] == labels[:, 1:]
    not_repeat_eps = (_LOG_EPSILON * (1.0 - repeat)).astype(dtype)
    repeat_eps = (_LOG_EPSILON * repeat).astype(dtype)
    pads = (np.arange(T)[None, :] >= frames[:, None]).astype(dtype)
    phi = np.full((B, N + 1), _LOG_EPSILON, dtype)
    phi[:, 0] = 0.0
    em = np.full((B, N), _LOG_EPSILON, dtype)
    pick = np.zeros((B, N + 1), dtype)
    pick[np.arange(B), label_len] = 1.0
    # The label-derived constants are built on the host once, then moved to
    # the output's device in one go (the time loop never syncs: which
    # frames are padding is known on the host).
    xp = backend.get_array_module(arr(output))
    if xp is not np:
        onehot, repeat_eps, not_repeat_eps, phi, em, pick = (
            xp.asarray(a) for a in (onehot, repeat_eps, not_repeat_eps,
                                    phi, em, pick))
    emit = einsum("btk,bnk->btn", logprobs, onehot)        # (B, T, N)
    blank = logprobs[:, :, mask_index:mask_index + 1]       # (B, T, 1)
    for t in range(T):
        e_t, b_t = emit[:, t], blank[:, t]
        # emit -> blank epsilon move, except into a repeated label
        moved = _add_to_tail(phi, add(em, repeat_eps))
        next_em = logaddexp(add(moved[:, :-1], e_t), add(em, e_t))
        next_phi = _add_to_tail(add(moved, b_t),
                                add(add(em, b_t), not_repeat_eps))
        if pads[:, t].any():
            pad = xp.asarray(pads[:, t:t + 1])
            keep = 1.0 - pad
            next_em = add(multiply(em, pad), multiply(next_em, keep))
            next_phi = add(multiply(phi, pad), multiply(next_phi, keep))
        phi, em = next_phi, next_em
    last = _add_to_tail(phi, em)
    return negative(reduce_sum(multiply(last, pick), axis=1))


def _greedy_decode(x, lengths, merge_repeated, mask_index):
    B, T, K = x.shape
    idx = x.argmax(-1).astype(np.int32)
    scores = x.max(-1)
    past = np.arange(T)[None, :] >= lengths[:, None]
    idx = np.where(past, mask_index, idx)
    scores = np.where(past, 0.0, scores)
    if merge_repeated:
        rep = np.zeros_like(past)
        rep[:, 1:] = idx[:, 1:] == idx[:, :-1]
        idx = np.where(rep, mask_index, idx)
    blank = idx == mask_index
    idx = np.where(blank, _PAD, idx)
    # Kept labels first, in time order; blanks (-1) after them.
    order = np.argsort(np.where(blank, T, np.arange(T)[None, :]), axis=-1,
                       kind="stable")
    idx = np.take_along_axis(idx, order, axis=-1)
    return idx[None], -scores.sum(axis=1)[:, None]


def _merge_log(inverse, scores, n):
    top = np.max(scores)
    if not np.isfinite(top):
        return np.full(n, -np.inf, scores.dtype)
    acc = np.zeros(n, scores.dtype)
    np.add.at(acc, inverse, np.exp(scores - top))
    with np.errstate(divide="ignore"):
        return np.log(acc) + top


def _beam_decode_one(x, length, beam_width, top_paths, blank):
    """Beam search over one sequence, Keras's NumPy-backend algorithm:
    paths are (class per step) rows, extended by every class each step,
    merged when equal (emitting and blank-ending scores kept apart) and
    pruned to the best `beam_width`. `x` is log-probabilities with the
    class axis flipped (so argsort ties break as TensorFlow does)."""
    T, K = x.shape
    width = 2 * beam_width
    paths = np.full((width, T), _PAD, np.int32)
    n0 = min(K, beam_width)
    first = np.argsort(x[0])[-n0:]
    paths[:n0, 0] = np.where(first == blank, _PAD, first)
    scores = np.full(width, -np.inf, x.dtype)
    scores[:n0] = x[0][first]
    masked = paths[:, 0] == _PAD
    classes_row = np.arange(K)
    classes_row[blank] = _PAD
    for t in range(1, min(int(length), T)):
        p = np.repeat(paths, K, axis=0)
        s = np.repeat(scores, K)
        prev_masked = np.repeat(masked, K)
        tail = np.argmax(p == _PAD, axis=1)
        rows = np.arange(width * K)
        last = np.where(tail == 0, _PAD, p[rows, tail - 1])
        cls = np.tile(classes_row, width)
        masked = cls == _PAD
        cls = np.where(~prev_masked & (last == cls), _PAD, cls)
        p[rows, tail] = cls
        s = s + np.tile(x[t], width)
        uniq, inverse = np.unique(p, return_inverse=True, axis=0)
        inverse = inverse.reshape(-1)
        emit = _merge_log(inverse, np.where(masked, -np.inf, s), len(uniq))
        held = _merge_log(inverse, np.where(masked, s, -np.inf), len(uniq))
        best = np.argsort(np.logaddexp(emit, held), kind="stable")
        best = best[-beam_width:]
        if len(best) < beam_width:
            # Fewer distinct paths than beams: pad with empty -inf paths.
            extra = beam_width - len(best)
            uniq = np.concatenate([uniq, np.full((1, T), _PAD, np.int32)])
            emit = np.concatenate([emit, [-np.inf]])
            held = np.concatenate([held, [-np.inf]])
            best = np.concatenate([np.full(extra, len(uniq) - 1), best])
        paths = np.tile(uniq[best], (2, 1))
        scores = np.concatenate([emit[best], held[best]])
        masked = np.concatenate([np.zeros(beam_width, bool),
                                 np.ones(beam_width, bool)])
    uniq, inverse = np.unique(paths, return_inverse=True, axis=0)
    merged = _merge_log(inverse.reshape(-1), scores, len(uniq))
    top = np.argsort(merged)[-top_paths:][::-1]
    out_paths = np.full((top_paths, T), _PAD, np.int32)
    out_scores = np.full(top_paths, -np.inf, scores.dtype)
    out_paths[:len(top)] = uniq[top]
    out_scores[:len(top)] = merged[top]
    return out_paths, out_scores


@keras_op
def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100,
               top_paths=1, merge_repeated=True, mask_index=0):
    """Decodes CTC outputs into label sequences.

    Args:
        inputs: `(batch, max_length, num_classes)` logits or probabilities
            (greedy takes the argmax; beam search applies a log-softmax).
        sequence_lengths: `(batch,)` valid frames.
        strategy: `"greedy"` (default) or `"beam_search"`.
        beam_width: beams kept by the beam search.
        top_paths: number of best paths the beam search returns.
        merge_repeated: greedy: collapse repeated labels (as CTC does).
        mask_index: the blank class. Defaults to `0`.

    Returns:
        `(decoded, scores)`: `decoded` is `(top_paths, batch, max_length)`
        int32 labels, padded with -1 (greedy: `top_paths` is 1); `scores`
        is `(batch, top_paths)`: the negative sum of the greedy maxima, or
        the beam search's path log-probabilities.

    Example:
    >>> logits = np.log(np.array([[[.1, .8, .1], [.1, .8, .1], [.9, .05,
    ...     .05], [.1, .1, .8]]]))
    >>> decoded, _ = gkeras.ops.ctc_decode(logits, [4])
    >>> decoded[0]  # [1, 1, blank, 2] -> [1, 2]
    array([[ 1,  2, -1, -1]], dtype=int32)
    """
    x = np.asarray(backend.to_numpy(t_or_a(inputs)))
    x = x.astype(np.result_type(x.dtype, np.float32))
    if x.ndim != 3:
        raise ValueError("ctc_decode: `inputs` must be (batch, max_length, "
                         f"num_classes). Received: inputs.shape={x.shape}")
    B, T, K = x.shape
    lengths = _host_ints(sequence_lengths, "sequence_lengths", (B,))
    if mask_index is None:
        mask_index = K - 1
    if strategy == "greedy":
        decoded, scores = _greedy_decode(x, lengths, merge_repeated,
                                         mask_index)
    elif strategy == "beam_search":
        z = x - x.max(-1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
        flipped = logp[:, :, ::-1]
        blank = K - mask_index - 1
        results = [_beam_decode_one(flipped[b], lengths[b], beam_width,
                                    top_paths, blank) for b in range(B)]
        paths = np.stack([r[0] for r in results])          # (B, P, T)
        scores = np.stack([r[1] for r in results])         # (B, P)
        paths = np.where(paths == _PAD, _PAD, K - paths - 1)
        decoded = np.transpose(paths, (1, 0, 2)).astype(np.int32)
    else:
        raise ValueError(f"Invalid strategy {strategy}. Supported values "
                         "are 'greedy' and 'beam_search'.")
    # Results live where the inputs did (CuPy inputs give CuPy results).
    xp = backend.get_array_module(_raw(inputs))
    return wrap(xp.asarray(decoded)), wrap(xp.asarray(scores))


__all__ = ["ctc_loss", "ctc_decode"]
