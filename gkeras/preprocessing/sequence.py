"""Sequence preprocessing: `pad_sequences` (`keras.utils.pad_sequences`,
`keras.preprocessing.sequence.pad_sequences`)."""

import numpy as np


def pad_sequences(
    sequences,
    maxlen=None,
    dtype="int32",
    padding="pre",
    truncating="pre",
    value=0.0,
):
    """Pads sequences to the same length.

    This function transforms a list (of length `num_samples`) of sequences
    (lists of integers) into a 2D NumPy array of shape
    `(num_samples, num_timesteps)`. `num_timesteps` is either the `maxlen`
    argument if provided, or the length of the longest sequence in the list.

    Sequences shorter than `num_timesteps` are padded with `value` until
    they are `num_timesteps` long. Sequences longer than `num_timesteps` are
    truncated so that they fit. Where padding or truncation happens is set
    by `padding` and `truncating`; the default removes and pads at the
    beginning ("pre").

    Sequences of vectors (e.g. `[[[1, 2], [3, 4]], [[5, 6]]]`) give a 3D
    array; every step must have the same shape.

    >>> sequence = [[1], [2, 3], [4, 5, 6]]
    >>> pad_sequences(sequence)
    array([[0, 0, 1],
           [0, 2, 3],
           [4, 5, 6]], dtype=int32)

    >>> pad_sequences(sequence, value=-1)
    array([[-1, -1,  1],
           [-1,  2,  3],
           [ 4,  5,  6]], dtype=int32)

    >>> pad_sequences(sequence, padding='post')
    array([[1, 0, 0],
           [2, 3, 0],
           [4, 5, 6]], dtype=int32)

    >>> pad_sequences(sequence, maxlen=2)
    array([[0, 1],
           [2, 3],
           [5, 6]], dtype=int32)

    Args:
        sequences: List of sequences (each sequence is a list of integers).
        maxlen: Optional int, maximum length of all sequences. If not
            provided, sequences are padded to the length of the longest
            individual sequence.
        dtype: Type of the output sequences. Defaults to `"int32"`. To pad
            sequences of variable-length strings, use `object` (or a NumPy
            string dtype).
        padding: String, "pre" or "post": pad either before or after each
            sequence. Defaults to `"pre"`.
        truncating: String, "pre" or "post": remove values from sequences
            longer than `maxlen`, either at the beginning or at the end of
            the sequences. Defaults to `"pre"`.
        value: Float or string, padding value. Defaults to `0.0`.

    Returns:
        NumPy array of shape `(len(sequences), maxlen)` (plus the shape of
        one step for sequences of vectors).
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(
            "`sequences` must be a list (or other sized iterable) of "
            f"sequences. Received: {type(sequences).__name__}")
    if padding not in ("pre", "post"):
        raise ValueError(
            f'`padding` must be "pre" or "post". Received: '
            f"padding={padding!r}")
    if truncating not in ("pre", "post"):
        raise ValueError(
            f'`truncating` must be "pre" or "post". Received: '
            f"truncating={truncating!r}")
    if maxlen is not None:
        if isinstance(maxlen, bool) or not isinstance(
                maxlen, (int, np.integer)) or maxlen < 0:
            raise ValueError(
                "`maxlen` must be a non-negative integer or None. "
                f"Received: maxlen={maxlen!r}")
        maxlen = int(maxlen)
    num_samples = len(sequences)

    lengths = []
    sample_shape = ()
    flag = True
    # The shape of one step comes from the first non-empty sequence; the
    # main loop checks the others against it.
    for i, x in enumerate(sequences):
        try:
            lengths.append(len(x))
        except TypeError as e:
            raise ValueError(
                "`sequences` must be a list of iterables. Found "
                f"non-iterable at position {i}: {x!r}") from e
        if flag and len(x):
            sample_shape = np.asarray(x).shape[1:]
            flag = False

    if maxlen is None:
        maxlen = int(np.max(lengths)) if lengths else 0

    is_dtype_str = np.issubdtype(dtype, np.str_) or np.issubdtype(
        dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_dtype_str:
        raise ValueError(
            f"`dtype` {dtype} is not compatible with `value`'s type: "
            f"{type(value)}\nYou should set `dtype=object` for variable "
            "length strings.")

    x = np.full((num_samples, maxlen) + sample_shape, value, dtype=dtype)
    if maxlen == 0:
        return x
    for idx, s in enumerate(sequences):
        if not len(s):
            continue  # empty list/array
        if truncating == "pre":
            trunc = s[-maxlen:]
        else:
            trunc = s[:maxlen]
        trunc = np.asarray(trunc, dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(
                f"Shape of sample {trunc.shape[1:]} of sequence at "
                f"position {idx} is different from expected shape "
                f"{sample_shape}")
        if padding == "post":
            x[idx, : len(trunc)] = trunc
        else:
            x[idx, -len(trunc):] = trunc
    return x
