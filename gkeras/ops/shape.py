"""Shape and indexing ops (`keras.ops` names): reshape, transpose,
concatenate, stack, split, take, pad, tile, repeat, getitem..."""

import numpy as np

from gkeras import backend
from gkeras.ops._base import arr, keras_op, t_or_a, to_array, wrap, xp_of
from gkeras.ops.engine import Function, Tensor


class _Reshape(Function):
    def __init__(self, shape):
        self.new_shape = shape

    def forward(self, x):
        self.shape = x.shape
        return x.reshape(self.new_shape)

    def backward(self, gy):
        return gy.reshape(self.shape)


class _Transpose(Function):
    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        if self.axes is None:
            self.axes = tuple(range(x.ndim))[::-1]
        return x.transpose(self.axes)

    def backward(self, gy):
        return gy.transpose(np.argsort(self.axes))


@keras_op
def reshape(x, newshape):
    """Gives a new shape to a tensor without changing its data.

    Args:
        x: input tensor.
        newshape: the new shape; one entry may be -1.
    """
    if isinstance(newshape, int):
        newshape = (newshape,)
    newshape = tuple(-1 if s is None else int(s) for s in newshape)
    return _Reshape(newshape)(t_or_a(x))


@keras_op
def transpose(x, axes=None):
    """Permutes the axes of a tensor (reverses them when `axes` is None)."""
    return _Transpose(tuple(axes) if axes is not None else None)(t_or_a(x))


@keras_op
def swapaxes(x, axis1, axis2):
    """Interchanges two axes of a tensor."""
    n = arr(x).ndim if hasattr(arr(x), "ndim") else np.ndim(x)
    axes = list(range(n))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, axes)


@keras_op
def moveaxis(x, source, destination):
    """Moves axes of a tensor to new positions."""
    n = arr(x).ndim
    src = [s % n for s in (source if isinstance(source, (list, tuple))
                           else [source])]
    dst = [d % n for d in (destination if isinstance(destination,
                                                     (list, tuple))
                           else [destination])]
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, order)


@keras_op
def expand_dims(x, axis):
    """Inserts size-1 axes at the given positions."""
    a = arr(x)
    shape = list(a.shape) if hasattr(a, "shape") else []
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    n = len(shape) + len(axes)
    for ax in sorted(ax % n for ax in axes):
        shape.insert(ax, 1)
    return reshape(x, shape)


@keras_op
def squeeze(x, axis=None):
    """Removes size-1 axes (all of them, or those given)."""
    a = arr(x)
    if axis is None:
        shape = [s for s in a.shape if s != 1]
    else:
        axes = {ax % a.ndim for ax in (axis if isinstance(axis, (list, tuple))
                                       else [axis])}
        for ax in axes:
            if a.shape[ax] != 1:
                raise ValueError(f"squeeze: axis {ax} has size "
                                 f"{a.shape[ax]}, expected 1 (shape "
                                 f"{a.shape}).")
        shape = [s for i, s in enumerate(a.shape) if i not in axes]
    return reshape(x, shape)


@keras_op
def ravel(x):
    """Flattens a tensor to 1-D."""
    return reshape(x, (-1,))


class _Concat(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        xp = xp_of(*xs)
        xs = [xp.asarray(x) if type(x) is not type(xs[0]) else x for x in xs]
        self.sizes = [x.shape[self.axis] for x in xs]
        self.float = [x.dtype.kind == "f" for x in xs]
        return xp.concatenate(xs, axis=self.axis)

    def backward(self, gy):
        idx = np.cumsum(self.sizes)[:-1]
        parts = xp_of(gy).split(gy, idx, axis=self.axis)
        return tuple(p if f else None for p, f in zip(parts, self.float))


@keras_op
def concatenate(xs, axis=0):
    """Joins tensors along an existing axis.

    Args:
        xs: a list of tensors with the same shape except along `axis`.
        axis: the axis to join on.
    """
    xs = [t_or_a(x) for x in xs]
    nd = arr(xs[0]).ndim
    return _Concat(axis % nd if nd else 0)(*xs)


@keras_op
def stack(x, axis=0):
    """Joins tensors along a new axis."""
    xs = [expand_dims(t, axis) for t in x]
    return concatenate(xs, axis=axis)


@keras_op
def hstack(xs):
    """Stacks tensors horizontally (column-wise)."""
    nd = arr(xs[0]).ndim
    return concatenate(xs, axis=0 if nd == 1 else 1)


@keras_op
def vstack(xs):
    """Stacks tensors vertically (row-wise)."""
    xs = [reshape(x, (1, -1)) if arr(x).ndim == 1 else x for x in xs]
    return concatenate(xs, axis=0)


class _GetItem(Function):
    def __init__(self, key):
        self.key = key

    def forward(self, x):
        self.shape, self.dtype = x.shape, x.dtype
        return x[self.key]

    def backward(self, gy):
        xp = xp_of(gy)
        g = xp.zeros(self.shape, dtype=gy.dtype)
        key = self.key
        if _has_advanced(key):
            backend.kernels_for(g).scatter_add(g, key, gy)
        else:
            g[key] = gy
        return g


def _has_advanced(key):
    keys = key if isinstance(key, tuple) else (key,)
    for k in keys:
        if not isinstance(k, (int, slice, type(None), type(Ellipsis))):
            return True
    return False


def _norm_key(key):
    if isinstance(key, Tensor):
        return key.data
    if isinstance(key, tuple):
        return tuple(k.data if isinstance(k, Tensor) else k for k in key)
    if isinstance(key, list):
        return np.asarray(key)
    return key


def getitem(x, key):
    """`x[key]`, differentiable (NumPy indexing semantics)."""
    from gkeras.ops._base import _has_symbolic
    if _has_symbolic((x,), {}):
        from gkeras.ops.symbolic import symbolic_call
        return symbolic_call(getitem, "getitem", (x, key), {})
    return _GetItem(_norm_key(key))(x)


Tensor.__getitem__ = getitem


class _Take(Function):
    nondiff_inputs = (1,)

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x, idx):
        self.shape, self.idx = x.shape, idx
        xp = xp_of(x)
        if self.axis is None:
            return x.reshape(-1)[idx]
        return xp.take(x, idx, axis=self.axis)

    def backward(self, gy):
        xp = xp_of(gy)
        g = xp.zeros(self.shape if self.axis is not None
                     else (int(np.prod(self.shape)),), dtype=gy.dtype)
        ax = self.axis if self.axis is not None else 0
        gm = xp.moveaxis(g, ax, 0)
        idx = self.idx
        gym = xp.moveaxis(gy, list(range(ax, ax + idx.ndim)),
                          list(range(idx.ndim)))
        gym = gym.reshape((-1,) + gm.shape[1:])
        flat = idx.reshape(-1) % self.shape[ax] if self.axis is not None \
            else idx.reshape(-1)
        if xp is np:
            _scatter_add_rows(gm, flat, gym)
        else:
            backend.kernels_for(gm).scatter_add(gm, flat, gym)
        return g.reshape(self.shape), None


def _scatter_add_rows(dst, rows, values):
    """`dst[rows] += values` with repeated rows summed (NumPy).

    Sorting the rows and summing runs with `add.reduceat` is an order of
    magnitude faster than `np.add.at` for embedding gradients (thousands of
    ids into a large table).
    """
    if rows.size == 0:
        return
    order = np.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    first = np.empty(rows.size, bool)
    first[0] = True
    np.not_equal(sorted_rows[1:], sorted_rows[:-1], out=first[1:])
    if first.all():
        # Distinct rows: one fancy-indexed pass.
        dst[rows] += values
        return
    starts = np.flatnonzero(first)
    # Each id's k-th occurrence: the rows of one rank are distinct, so a
    # fancy-indexed `+=` per rank is exact. With few repeats (ids drawn
    # from a large vocabulary) these rounds beat `add.reduceat`, whose
    # per-segment cost dominates when most segments hold one row. Rounds
    # gather by position (`order[rank == k]`), so the values are copied
    # once in all, not sorted first.
    rank = np.arange(rows.size) - starts[np.cumsum(first) - 1]
    repeats = int(rank.max()) + 1
    if repeats <= 8:
        for k in range(repeats):
            pick = order[rank == k]
            dst[rows[pick]] += values[pick]
        return
    sums = np.add.reduceat(values[order], starts, axis=0)
    dst[sorted_rows[starts]] += sums


@keras_op
def take(x, indices, axis=None):
    """Takes elements from a tensor along an axis (a gather).

    The gradient is a sparse scatter-add into the source.
    """
    idx = to_array(indices)
    if idx.dtype.kind not in "iu":
        idx = idx.astype("int64")
    return _Take(axis)(t_or_a(x), idx)


class _TakeAlong(Function):
    nondiff_inputs = (1,)

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x, idx):
        self.shape, self.idx = x.shape, idx
        return xp_of(x).take_along_axis(x, idx, axis=self.axis)

    def backward(self, gy):
        xp = xp_of(gy)
        g = xp.zeros(self.shape, dtype=gy.dtype)
        backend.kernels_for(g).scatter_add(
            g, _full_index(self.idx, self.axis, self.shape, xp), gy)
        return g, None


def _full_index(idx, axis, shape, xp=np):
    nd = len(shape)
    axis = axis % nd
    out = []
    for d in range(nd):
        if d == axis:
            out.append(idx)
        else:
            s = [1] * nd
            s[d] = idx.shape[d]
            out.append(xp.arange(idx.shape[d]).reshape(s))
    return tuple(xp.broadcast_arrays(*out))


@keras_op
def take_along_axis(x, indices, axis=None):
    """Gathers values along an axis with an index tensor of matching rank."""
    idx = to_array(indices)
    if axis is None:
        return _TakeAlong(0)(reshape(x, (-1,)), idx.reshape(-1))
    return _TakeAlong(axis)(t_or_a(x), idx.astype("int64", copy=False))


class _Pad(Function):
    def __init__(self, pad_width, mode, value):
        self.pw, self.mode, self.value = pad_width, mode, value

    def forward(self, x):
        xp = xp_of(x)
        if self.mode == "constant":
            return xp.pad(x, self.pw, mode="constant",
                          constant_values=self.value)
        return xp.pad(x, self.pw, mode=self.mode)

    def backward(self, gy):
        if self.mode != "constant":
            raise NotImplementedError(
                f"ops.pad: no gradient for mode={self.mode!r}; only "
                "'constant' padding is differentiable in gkeras.")
        sl = tuple(slice(b, gy.shape[i] - a) for i, (b, a) in
                   enumerate(self.pw))
        return gy[sl]


@keras_op
def pad(x, pad_width, mode="constant", constant_values=None):
    """Pads a tensor.

    Args:
        x: input tensor.
        pad_width: ((before, after), ...) per axis (or one pair for all).
        mode: 'constant', 'edge', 'linear_ramp', 'maximum', 'mean',
            'median', 'minimum', 'reflect', 'symmetric', 'wrap'.
        constant_values: the fill value for 'constant' (default 0).
    """
    a = arr(x)
    pw = np.broadcast_to(np.asarray(pad_width, dtype=np.int64),
                         (a.ndim, 2))
    pw = tuple((int(b), int(c)) for b, c in pw)
    if constant_values is not None and mode != "constant":
        raise ValueError("`constant_values` can only be used with "
                         f"mode='constant'. Received: mode={mode!r}")
    return _Pad(pw, mode, constant_values or 0)(t_or_a(x))


class _Tile(Function):
    def __init__(self, reps):
        self.reps = reps

    def forward(self, x):
        self.shape = x.shape
        return xp_of(x).tile(x, self.reps)

    def backward(self, gy):
        shape = self.shape
        reps = tuple(self.reps)
        nd = gy.ndim
        shape = (1,) * (nd - len(shape)) + tuple(shape)
        reps = (1,) * (nd - len(reps)) + reps
        inter = []
        for r, s in zip(reps, shape):
            inter += [r, s]
        g = gy.reshape(inter).sum(axis=tuple(range(0, 2 * nd, 2)))
        return g.reshape(self.shape)


@keras_op
def tile(x, repeats):
    """Repeats a tensor as a whole along each axis."""
    reps = (repeats,) if isinstance(repeats, int) else tuple(repeats)
    return _Tile(reps)(t_or_a(x))


class _Repeat(Function):
    def __init__(self, repeats, axis):
        self.repeats, self.axis = repeats, axis

    def forward(self, x):
        self.shape = x.shape
        return xp_of(x).repeat(x, self.repeats, axis=self.axis)

    def backward(self, gy):
        xp = xp_of(gy)
        if self.axis is None:
            n = int(np.prod(self.shape))
            if isinstance(self.repeats, int):
                return gy.reshape(n, self.repeats).sum(1).reshape(self.shape)
            idx = np.repeat(np.arange(n), self.repeats)
        else:
            ax = self.axis % len(self.shape)
            if isinstance(self.repeats, int):
                s = list(self.shape)
                s.insert(ax + 1, self.repeats)
                return gy.reshape(s).sum(axis=ax + 1)
            idx = np.repeat(np.arange(self.shape[ax]), self.repeats)
        g = xp.zeros(self.shape if self.axis is not None
                     else (int(np.prod(self.shape)),), gy.dtype)
        ax = 0 if self.axis is None else self.axis % len(self.shape)
        gm = xp.moveaxis(g, ax, 0)
        gym = xp.moveaxis(gy.reshape(-1) if self.axis is None else gy, ax, 0)
        backend.kernels_for(gm).scatter_add(gm, xp.asarray(idx), gym)
        return g.reshape(self.shape)


@keras_op
def repeat(x, repeats, axis=None):
    """Repeats each element `repeats` times (flattened when axis is None)."""
    if not isinstance(repeats, int):
        # The output shape depends on the counts, and CuPy's repeat takes
        # only ints or lists: device counts are read back (one sync).
        repeats = backend.to_numpy(arr(repeats)).tolist()
    return _Repeat(repeats, axis)(t_or_a(x))


@keras_op
def split(x, indices_or_sections, axis=0):
    """Splits a tensor into sub-tensors (a list)."""
    a = arr(x)
    n = a.shape[axis]
    if isinstance(indices_or_sections, int):
        if n % indices_or_sections:
            raise ValueError(
                f"split: axis {axis} of size {n} cannot be split into "
                f"{indices_or_sections} equal sections.")
        step = n // indices_or_sections
        bounds = list(range(0, n + 1, step))
    else:
        bounds = [0] + list(indices_or_sections) + [n]
    outs = []
    for b, e in zip(bounds[:-1], bounds[1:]):
        sl = [slice(None)] * a.ndim
        sl[axis] = slice(b, e)
        outs.append(getitem(x, tuple(sl)))
    return outs


@keras_op
def flip(x, axis=None):
    """Reverses the order of elements along the given axes."""
    a = arr(x)
    axes = range(a.ndim) if axis is None else (
        axis if isinstance(axis, (list, tuple)) else [axis])
    sl = [slice(None)] * a.ndim
    for ax in axes:
        sl[ax] = slice(None, None, -1)
    return getitem(x, tuple(sl))


@keras_op
def roll(x, shift, axis=None):
    """Rolls elements along an axis."""
    a = arr(x)
    if axis is None:
        flat = reshape(x, (-1,))
        return reshape(roll(flat, shift, 0), a.shape)
    n = a.shape[axis]
    idx = (np.arange(n) - shift) % n
    return take(x, idx, axis=axis)


@keras_op
def broadcast_to(x, shape):
    """Broadcasts a tensor to a new shape."""
    return _BroadcastTo(tuple(shape))(t_or_a(x))


class _BroadcastTo(Function):
    def __init__(self, shape):
        self.target = shape

    def forward(self, x):
        self.shape = x.shape
        return xp_of(x).broadcast_to(x, self.target)

    def backward(self, gy):
        from gkeras.ops._base import unbroadcast
        return unbroadcast(gy, self.shape)


@keras_op
def tril(x, k=0):
    """Lower triangle of a (batch of) matrices."""
    a = arr(x)
    xp = xp_of(a)
    m = xp.tril(xp.ones(a.shape[-2:], dtype=bool), k)
    from gkeras.ops.elementwise import where
    return where(m, x, 0.0 if a.dtype.kind == "f" else 0)


@keras_op
def triu(x, k=0):
    """Upper triangle of a (batch of) matrices."""
    a = arr(x)
    xp = xp_of(a)
    m = xp.triu(xp.ones(a.shape[-2:], dtype=bool), k)
    from gkeras.ops.elementwise import where
    return where(m, x, 0.0 if a.dtype.kind == "f" else 0)


@keras_op
def sort(x, axis=-1):
    """Sorted copy along an axis (differentiable through the gather)."""
    idx = arr(argsort_(x, axis))
    return take_along_axis(x, idx, axis=axis)


def argsort_(x, axis):
    a = to_array(x)
    return wrap(xp_of(a).argsort(a, axis=axis))


@keras_op
def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal (of `axis1`, `axis2`) of a tensor, differentiable.

    As NumPy's: the two axes are removed and the diagonal becomes the last
    axis.
    """
    x = t_or_a(x)
    a = arr(x)
    nd = a.ndim
    moved = moveaxis(x, (axis1 % nd, axis2 % nd), (-2, -1))
    n, m = arr(moved).shape[-2:]
    k = int(offset)
    xp = xp_of(a)
    i = xp.arange(max(0, -k), max(0, min(n, m - k)))
    return getitem(moved, (Ellipsis, i, i + k))


@keras_op
def trace(x, offset=0, axis1=0, axis2=1):
    """Sum along a diagonal (of `axis1`, `axis2`), differentiable."""
    from gkeras.ops.reduction import sum as reduce_sum
    return reduce_sum(diagonal(x, offset, axis1, axis2), axis=-1)
