"""Pooling primitives on NumPy: max and average, forward and backward.

Channels-last, 1 to 3 spatial dims, explicit `(before, after)` padding.
Windows are strided views of the padded input (no loop over pixels or the
batch), taken one window tap at a time so that every pass is an elementwise
one over output-sized arrays. Max-pool gradients are written tap by tap
when windows neither overlap nor pad, else scattered with one `bincount`
(deterministic); average-pool gradients are one slice-add per tap.

`argmax` (returned by `max_pool_forward`, consumed by `max_pool_backward`)
is an int32 array shaped like `y`: for each output cell, the flat index
`((d * H) + h) * W + w` of the winning input cell within its sample's
(unpadded) spatial volume. Padded cells never win; ties go to the first cell
in row-major window order. `backend.gpu` uses the same convention.

Average pooling divides by the number of real (unpadded) cells of each
window, as Keras does for padding='same'.

With the optional JIT (`jit.py`), unpadded max pooling over 1-2 spatial
dims (its values; with taps and the tap-routed backward when windows do
not overlap) is one pass each (`cnn_jit.py`), with this path's values.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from gkeras.backend.cpu import cnn_jit
from gkeras.backend.cpu.parallel import split_rows

__all__ = ["max_pool_forward", "max_pool_backward", "avg_pool_forward",
           "avg_pool_backward", "pool_output_shape", "global_avg_pool",
           "global_avg_pool_backward", "global_max_pool"]


def pool_output_shape(x_shape, pool_size, strides, padding):
    """Returns the output shape of a pooling and checks the arguments.

    Args:
        x_shape: `(N, *spatial, C)`.
        pool_size, strides: one int per spatial dim.
        padding: one `(before, after)` pair per spatial dim, each side
            smaller than the pool size.

    Returns:
        `(N, *out_spatial, C)`, out = (in + before + after - pool) // stride + 1.

    Raises:
        ValueError: naming the argument, expected vs received.
    """
    return _pool_args(x_shape, pool_size, strides, padding)[0]


def _pool_args(x_shape, pool_size, strides, padding):
    """Checks pooling arguments; returns (out_shape, pool, strides, pad).


    Each padding side must be smaller than the pool size, so that every
    window holds a real cell.
    """
    where = "pool"
    x_shape = tuple(int(a) for a in x_shape)
    rank = len(x_shape) - 2
    if not 1 <= rank <= 3:
        raise ValueError(f"{where}: `x` must be (N, *spatial, C) with 1 to 3 "
                         f"spatial dims, received shape {x_shape}")

    def tup(v, name):
        if isinstance(v, (int, np.integer)):
            v = (int(v),) * rank
        v = tuple(int(a) for a in v)
        if len(v) != rank or any(a < 1 for a in v):
            raise ValueError(f"{where}: `{name}` must be {rank} ints >= 1, "
                             f"received {name}={v}")
        return v

    pool, strides = tup(pool_size, "pool_size"), tup(strides, "strides")
    try:
        pad = tuple((int(p[0]), int(p[1])) for p in padding)
    except (TypeError, IndexError, ValueError):
        raise ValueError(f"{where}: `padding` must be {rank} (before, after) "
                         f"int pairs, received padding={padding!r}") from None
    if len(pad) != rank or any(not (0 <= a < k and 0 <= b < k)
                               for (a, b), k in zip(pad, pool)):
        raise ValueError(f"{where}: `padding` must be {rank} (before, after) "
                         f"pairs with 0 <= pad < pool_size={pool}, received "
                         f"padding={pad}")
    out = []
    for i in range(rank):
        padded = x_shape[1 + i] + pad[i][0] + pad[i][1]
        if padded < pool[i]:
            raise ValueError(f"{where}: spatial dim {i} of `x` ({x_shape}) is "
                             f"smaller than pool_size={pool}")
        out.append((padded - pool[i]) // strides[i] + 1)
    return (x_shape[0], *out, x_shape[-1]), pool, strides, pad


def _windows(xp_, pool, strides, out):
    """View (N, *out, *pool, C) of the padded input."""
    rank = len(pool)
    s = xp_.strides
    shape = (xp_.shape[0], *out, *pool, xp_.shape[-1])
    st = (s[0], *(s[1 + i] * strides[i] for i in range(rank)),
          *(s[1 + i] for i in range(rank)), s[-1])
    return as_strided(xp_, shape, st, writeable=False)


def _pad(x, pad, value):
    if not any(a or b for a, b in pad):
        return x
    return np.pad(x, ((0, 0), *pad, (0, 0)), constant_values=value)


def max_pool_forward(x, pool_size, strides, padding):
    """Max pooling, channels-last.

    Args:
        x: `(N, *spatial, C)`.
        pool_size: one int per spatial dim.
        strides: one int per spatial dim.
        padding: one `(before, after)` pair per spatial dim.

    Returns:
        `(y, argmax)`: `y` of shape `(N, *out_spatial, C)` and `argmax`,
        int32 of the same shape, the flat spatial index of each winner (see
        the module docstring).
    """
    x = np.asarray(x)
    out_shape, pool, strides, pad = _pool_args(x.shape, pool_size,
                                                      strides, padding)
    rank = x.ndim - 2
    out, sp = out_shape[1:-1], x.shape[1:-1]
    taps = list(np.ndindex(*pool))
    y, tap = _max_and_tap(x, pool, strides, pad, out)
    itype = np.int32 if int(np.prod(x.shape)) < 2 ** 31 else np.int64
    step = [int(np.prod(sp[i + 1:])) for i in range(rank)]
    corner = np.zeros((1,) * (rank + 2), itype)
    for i in range(rank):
        corner = corner + (np.arange(out[i], dtype=itype).reshape(
            (1,) + (1,) * i + (-1,) + (1,) * (rank - i))
            * (strides[i] * step[i]))
    if not any(a or b for a, b in pad):
        # A winner is one flat offset from its window's corner.
        offset = np.asarray([sum(a * m for a, m in zip(t, step))
                             for t in taps], itype)
        flat = offset.take(tap)
        flat += corner
        return y, flat.astype(np.int32, copy=False)
    # Padded windows: clamp each axis's position to a real cell (a padded
    # cell wins only when its whole window is -inf).
    flat = np.zeros((1,) * (rank + 2), itype)
    for i in range(rank):
        o = np.arange(out[i], dtype=itype).reshape(
            (1,) + (1,) * i + (-1,) + (1,) * (rank - i)) * strides[i]
        t = np.asarray([t[i] for t in taps], itype).take(tap)
        pos = np.clip(o + t - pad[i][0], 0, sp[i] - 1)
        flat = flat + pos * step[i]
    return y, flat.astype(np.int32, copy=False)


def max_pool_values(x, pool_size, strides, padding):
    """The `y` of `max_pool_forward` alone, for inference.

    NumPy-only extra (not in `__all__`, which the GPU module mirrors):
    `ops.max_pool` calls it when no gradient will be taken, skipping the
    winners' bookkeeping, about half of the forward's cost.

    Args:
        x, pool_size, strides, padding: as in `max_pool_forward`.

    Returns:
        `y`, `(N, *out_spatial, C)`, equal to `max_pool_forward(...)[0]`.
    """
    x = np.asarray(x)
    out_shape, pool, strides, pad = _pool_args(x.shape, pool_size,
                                               strides, padding)
    out = out_shape[1:-1]
    if not any(a or b for a, b in pad):
        y = cnn_jit.max_pool_values(x, pool, strides, out)
        if y is not None:
            return y
    taps = list(np.ndindex(*pool))
    xp_ = _pad(x, pad, -np.inf)
    y = np.empty(out_shape, x.dtype)

    # Padding with -inf keeps padded cells from winning unless the whole
    # window is -inf. One (N, *out, C) strided view per window tap: a
    # reduction over a window axis would first copy every window out.
    def part(a, b):
        v = _windows(xp_[a:b], pool, strides, out)
        lead = (slice(None),) * (1 + len(pool))
        np.copyto(y[a:b], v[lead + taps[0]])
        for t in taps[1:]:
            np.maximum(y[a:b], v[lead + t], out=y[a:b])
    split_rows(x.shape[0], x.size, part)
    return y


def _max_and_tap(x, pool, strides, pad, out):
    """Window maxima and which tap of each window holds them.

    Returns:
        `(y, tap)`: the window maxima and an integer array
        shaped like `y` (uint8 up to 256 taps) with the index of the
        winning tap in row-major window order. Ties go to the first tap
        (as `np.argmax` and the GPU kernel); a window holding a NaN (its
        max is NaN) to tap 0.
    """
    xp_ = _pad(x, pad, -np.inf)
    n_taps = int(np.prod(pool))
    y = np.empty((x.shape[0], *out, x.shape[-1]), x.dtype)
    tap = np.empty(y.shape, np.uint8 if n_taps <= 256 else np.int32)

    def part(a, b):
        _max_and_tap_into(xp_[a:b], pool, strides, out, y[a:b], tap[a:b])
    split_rows(x.shape[0], x.size, part)
    return y, tap


def _max_and_tap_into(xp_, pool, strides, out, y, tap):
    v = _windows(xp_, pool, strides, out)
    lead = (slice(None),) * (1 + len(pool))
    views = [v[lead + t] for t in np.ndindex(*pool)]
    np.copyto(y, views[0])
    tap.fill(0)
    if len(views) == 1:
        return
    ttype = tap.dtype.type
    # Taps come in increasing order and a later tap only wins when it is
    # strictly greater than all before it (ties stay with the first), so
    # `tap = max(tap, k * (v_k > y))`: branch-free, four passes a tap,
    # where equality codes against the final max cost twelve.
    gt = np.empty(y.shape, bool)
    step = np.empty(y.shape, ttype)
    for k, view in enumerate(views[1:], 1):
        np.greater(view, y, out=gt)
        np.maximum(y, view, out=y)
        np.multiply(gt, ttype(k), out=step, dtype=ttype, casting="unsafe")
        np.maximum(tap, step, out=tap)
    if np.isnan(y.sum()):   # rare (NaN, or inf - inf): exact fix-up
        tap[np.isnan(y)] = 0


def max_pool_forward_taps(x, pool_size, strides, padding):
    """`max_pool_forward` keeping each window's winning tap, not its cell.

    NumPy-only extra (not in `__all__`, which the GPU module mirrors) for
    windows that neither overlap nor pad (any `MaxPooling` with
    `strides >= pool_size` and padding 'valid', or 'same' on sizes that
    need none): `ops.max_pool` calls it in training. Turning taps into flat
    input indices and back again is a third of `max_pool_forward` and
    `max_pool_backward`; `max_pool_backward_taps` routes by tap directly.

    Args:
        x, pool_size, strides, padding: as in `max_pool_forward`.

    Returns:
        `(y, tap)`: `y` as `max_pool_forward`, and `tap`, uint8 shaped like
        `y`, the row-major index of the winner in its window (first on
        ties, 0 for a NaN window: the same cell as `max_pool_forward`'s).

    Raises:
        ValueError: when windows pad or overlap (use `max_pool_forward`).
    """
    x = np.asarray(x)
    out_shape, pool, strides, pad = _pool_args(x.shape, pool_size, strides,
                                               padding)
    if not taps_cover(pool, strides, pad):
        raise ValueError(f"max_pool_forward_taps: windows must neither pad "
                         f"nor overlap, received pool_size={pool}, strides="
                         f"{strides}, padding={pad}; use max_pool_forward")
    fused = cnn_jit.max_pool_taps(x, pool, strides, out_shape[1:-1])
    if fused is not None:
        return fused
    return _max_and_tap(x, pool, strides, pad, out_shape[1:-1])


def taps_cover(pool, strides, pad):
    """Whether `max_pool_forward_taps` handles these (normalized) windows."""
    return (not any(a or b for a, b in pad)
            and all(s >= p for s, p in zip(strides, pool))
            and int(np.prod(pool)) <= 256)


def max_pool_backward_taps(dy, x_shape, tap, pool_size, strides):
    """Gradient of `max_pool_forward_taps`: `dy` routed to each winner.

    Args:
        dy: `(N, *out_spatial, C)`.
        x_shape: shape of the forward input.
        tap: the second output of `max_pool_forward_taps`.
        pool_size, strides: as in the forward pass (no padding).

    Returns:
        `dx` of shape `x_shape`, equal to `max_pool_backward`'s.
    """
    dy = np.asarray(dy)
    x_shape = tuple(int(a) for a in x_shape)
    rank = len(x_shape) - 2
    out_shape, pool, strides, pad = _pool_args(
        x_shape, pool_size, strides, ((0, 0),) * rank)
    if tuple(dy.shape) != out_shape or tuple(np.shape(tap)) != out_shape:
        raise ValueError(f"max_pool_backward_taps: `dy` and `tap` must have "
                         f"shape {out_shape}, received {tuple(dy.shape)} and "
                         f"{tuple(np.shape(tap))}")
    return _route_by_tap(dy, x_shape, tap, pool, strides, out_shape[1:-1])


def _route_by_tap(dy, x_shape, tap, pool, strides, out):
    """Writes `dy` where `tap` names each window's tap, 0 elsewhere, through
    one strided view of `dx` per tap (windows neither overlap nor pad)."""
    rank = len(pool)
    tiled = all(s == p and o * s == n
                for s, p, o, n in zip(strides, pool, out, x_shape[1:-1]))
    dx = cnn_jit.max_pool_route_taps(dy, x_shape, tap, pool, strides, tiled)
    if dx is not None:
        return dx
    dx = (np.empty if tiled else np.zeros)(x_shape, dy.dtype)
    w = _windows(dx, pool, strides, out)
    w = as_strided(dx, w.shape, w.strides)       # writeable
    lead = (slice(None),) * (1 + rank)

    def part(a, b):
        eq = np.empty((b - a,) + dy.shape[1:], bool)
        for k, t in enumerate(np.ndindex(*pool)):
            np.equal(tap[a:b], k, out=eq)
            np.multiply(dy[a:b], eq, out=w[a:b][lead + t])
    split_rows(dy.shape[0], dx.size, part)
    return dx


def max_pool_backward(dy, x, argmax, pool_size, strides, padding):
    """Gradient of `max_pool_forward`: `dy` routed to each window's winner.

    Args:
        dy: `(N, *out_spatial, C)`.
        x: the forward input (only its shape and dtype are used).
        argmax: the second output of `max_pool_forward`.
        pool_size, strides, padding: as in the forward pass.

    Returns:
        `dx`, shaped like `x`. Overlapping windows sum their gradients in a
        fixed order (deterministic).
    """
    dy = np.asarray(dy)
    x_shape = tuple(np.shape(x))
    out_shape, pool, strides, pad = _pool_args(x_shape, pool_size, strides,
                                               padding)
    if tuple(dy.shape) != out_shape or tuple(np.shape(argmax)) != out_shape:
        raise ValueError(f"max_pool_backward: `dy` and `argmax` must have "
                         f"shape {out_shape}, received {tuple(dy.shape)} and "
                         f"{tuple(np.shape(argmax))}")
    if (not any(a or b for a, b in pad)
            and all(s >= p for s, p in zip(strides, pool))):
        return _max_pool_backward_tiled(dy, x_shape, argmax, pool, strides,
                                        out_shape[1:-1])
    n, c = x_shape[0], x_shape[-1]
    sp = int(np.prod(x_shape[1:-1]))
    idx = (np.arange(n).reshape((n,) + (1,) * (dy.ndim - 1)) * sp
           + np.asarray(argmax, np.int64)) * c + np.arange(c)
    dx = np.bincount(idx.ravel(), weights=dy.ravel(),
                     minlength=int(np.prod(x_shape)))
    return dx.astype(dy.dtype).reshape(x_shape)


def _max_pool_backward_tiled(dy, x_shape, argmax, pool, strides, out):
    """`max_pool_backward` for unpadded windows that do not overlap.

    Each input cell then belongs to at most one window, so every tap's
    gradient is written once through a strided view of `dx`: `dy` where the
    winner's offset from its window corner is that tap, else 0 (a scatter
    or a bincount over the whole input costs several times more).
    """
    rank = len(pool)
    sp = x_shape[1:-1]
    step = [int(np.prod(sp[i + 1:])) for i in range(rank)]
    offset = np.array(argmax, dtype=np.int32 if argmax.dtype.itemsize <= 4
                      else argmax.dtype)
    for i in range(rank):
        offset -= (np.arange(out[i], dtype=offset.dtype).reshape(
            (1,) + (1,) * i + (-1,) + (1,) * (rank - i))
            * (strides[i] * step[i]))
    tiled = all(s == p and o * s == n
                for s, p, o, n in zip(strides, pool, out, sp))
    dx = (np.empty if tiled else np.zeros)(x_shape, dy.dtype)
    w = _windows(dx, pool, strides, out)
    w = as_strided(dx, w.shape, w.strides)       # writeable
    eq = np.empty(dy.shape, bool)
    lead = (slice(None),) * (1 + rank)
    for t in np.ndindex(*pool):
        np.equal(offset, sum(a * m for a, m in zip(t, step)), out=eq)
        np.multiply(dy, eq, out=w[lead + t])
    return dx


def _counts(x_shape, pool, strides, pad, out, dtype):
    """Number of real cells in each window, shape (*out, 1)."""
    ones = np.ones((1, *x_shape[1:-1], 1), dtype)
    v = _windows(_pad(ones, pad, 0), pool, strides, out)
    rank = len(pool)
    return v.sum(axis=tuple(range(1 + rank, 1 + 2 * rank)))[0]


def avg_pool_forward(x, pool_size, strides, padding):
    """Average pooling, channels-last; padded cells are not counted.

    Args:
        x: `(N, *spatial, C)`.
        pool_size, strides: one int per spatial dim.
        padding: one `(before, after)` pair per spatial dim.

    Returns:
        `y`, `(N, *out_spatial, C)`.
    """
    x = np.asarray(x)
    out_shape, pool, strides, pad = _pool_args(x.shape, pool_size,
                                                      strides, padding)
    rank = x.ndim - 2
    out = out_shape[1:-1]
    v = _windows(_pad(x, pad, 0), pool, strides, out)
    s = v.sum(axis=tuple(range(1 + rank, 1 + 2 * rank)))
    return (s / _counts(x.shape, pool, strides, pad, out, x.dtype)).astype(
        x.dtype, copy=False)


def avg_pool_backward(dy, x_shape, pool_size, strides, padding):
    """Gradient of `avg_pool_forward`.

    Args:
        dy: `(N, *out_spatial, C)`.
        x_shape: shape of the forward input.
        pool_size, strides, padding: as in the forward pass.

    Returns:
        `dx` of shape `x_shape`.
    """
    dy = np.asarray(dy)
    x_shape = tuple(int(a) for a in x_shape)
    out_shape, pool, strides, pad = _pool_args(x_shape, pool_size,
                                                      strides, padding)
    if tuple(dy.shape) != out_shape:
        raise ValueError(f"avg_pool_backward: `dy` must have shape "
                         f"{out_shape}, received {tuple(dy.shape)}")
    rank = len(x_shape) - 2
    out = out_shape[1:-1]
    g = dy / _counts(x_shape, pool, strides, pad, out, dy.dtype)
    padded = [x_shape[1 + i] + pad[i][0] + pad[i][1] for i in range(rank)]
    dxp = np.zeros((x_shape[0], *padded, x_shape[-1]), dy.dtype)
    for tap in np.ndindex(*pool):
        dst = (slice(None),) + tuple(
            slice(tap[i], tap[i] + strides[i] * (out[i] - 1) + 1, strides[i])
            for i in range(rank))
        dxp[dst] += g
    crop = (slice(None),) + tuple(slice(pad[i][0], pad[i][0] + x_shape[1 + i])
                                  for i in range(rank))
    return np.ascontiguousarray(dxp[crop])


def global_avg_pool(x):
    """Mean over the spatial axes: `(N, *spatial, C)` -> `(N, C)`.

    Args:
        x: `(N, *spatial, C)`.

    Returns:
        `(N, C)` means, in the dtype of `x`.
    """
    x = np.asarray(x)
    return x.reshape(x.shape[0], -1, x.shape[-1]).mean(axis=1,
                                                       dtype=x.dtype)


def global_avg_pool_backward(dy, x_shape):
    """Gradient of `global_avg_pool`: `dy` / spatial size, broadcast.

    Args:
        dy: `(N, C)`.
        x_shape: `(N, *spatial, C)`.

    Returns:
        `dx` of shape `x_shape`.
    """
    dy = np.asarray(dy)
    x_shape = tuple(int(a) for a in x_shape)
    sp = int(np.prod(x_shape[1:-1]))
    g = (dy / dy.dtype.type(sp)).reshape(x_shape[0], 1, x_shape[-1])
    return np.ascontiguousarray(np.broadcast_to(
        g, (x_shape[0], sp, x_shape[-1]))).reshape(x_shape)


def global_max_pool(x):
    """Max over the spatial axes, with the winners for the backward pass.

    Args:
        x: `(N, *spatial, C)`.

    Returns:
        `(y, argmax)`: `(N, C)` maxima and int32 flat spatial indices (first
        winner), usable by `max_pool_backward` with `pool_size` equal to the
        spatial shape, no stride and no padding (`dy` reshaped to
        `(N, 1, ..., 1, C)`).
    """
    x = np.asarray(x)
    v = x.reshape(x.shape[0], -1, x.shape[-1])
    arg = np.argmax(v, axis=1)
    y = np.take_along_axis(v, arg[:, None, :], axis=1)[:, 0, :]
    return y, arg.astype(np.int32)
