"""Keras-2 CTC helpers (`K.ctc_batch_cost`, `K.ctc_decode`), as the
TensorFlow-era tutorials (e.g. the captcha OCR one) call them: softmax
probabilities in, the *last* class as the blank, `(batch, 1)` lengths."""

import numpy as np


def _ops():
    # gkeras.ops imports gkeras.backend; resolved lazily (acyclic imports).
    import gkeras.ops as ops
    return ops


def _lengths(x):
    ops = _ops()
    a = ops.convert_to_numpy(x)
    return np.asarray(a).reshape(-1).astype("int32")


def ctc_batch_cost(y_true, y_pred, input_length, label_length):
    """Runs the CTC loss on each batch element (Keras 2 API).

    Args:
        y_true: `(samples, max_string_length)` integer labels.
        y_pred: `(samples, time_steps, num_categories)` softmax
            probabilities; the last category is the blank.
        input_length: `(samples, 1)` valid time steps of `y_pred`.
        label_length: `(samples, 1)` lengths of the labels.

    Returns:
        `(samples, 1)` CTC losses.

    Example:
    >>> probs = np.full((2, 5, 4), 0.25, "float32")
    >>> K.ctc_batch_cost(np.array([[0, 1], [2, 0]]), probs,
    ...                  np.array([[5], [5]]), np.array([[2], [1]])).shape
    (2, 1)
    """
    from gkeras import backend
    ops = _ops()
    logits = ops.log(ops.add(y_pred, backend.epsilon()))
    classes = ops.shape(y_pred)[-1]
    loss = ops.ctc_loss(y_true, logits, _lengths(label_length),
                        _lengths(input_length), mask_index=classes - 1)
    return ops.expand_dims(loss, 1)


def ctc_decode(y_pred, input_length, greedy=True, beam_width=100,
               top_paths=1):
    """Decodes the output of a softmax (Keras 2 API).

    Args:
        y_pred: `(samples, time_steps, num_categories)` softmax
            probabilities; the last category is the blank.
        input_length: `(samples,)` valid time steps.
        greedy: best path (True) or beam search (False).
        beam_width: beams kept by the beam search.
        top_paths: number of paths the beam search returns.

    Returns:
        `(decoded, log_prob)`: `decoded` is a list of `top_paths` dense
        `(samples, time_steps)` label tensors padded with -1 (one for
        greedy); `log_prob` is `(samples, top_paths)`: greedy gives the
        negative sum of the per-step maximum log-probabilities, beam search
        each path's log-probability.
    """
    from gkeras import backend
    ops = _ops()
    logits = ops.log(ops.add(y_pred, backend.epsilon()))
    classes = ops.shape(y_pred)[-1]
    lengths = _lengths(input_length)
    if greedy:
        decoded, scores = ops.ctc_decode(logits, lengths, strategy="greedy",
                                         mask_index=classes - 1)
        return [decoded[0]], scores
    decoded, scores = ops.ctc_decode(
        logits, lengths, strategy="beam_search", beam_width=beam_width,
        top_paths=top_paths, mask_index=classes - 1)
    return [decoded[i] for i in range(top_paths)], scores
