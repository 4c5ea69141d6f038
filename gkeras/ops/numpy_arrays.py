"""Array rearrangement and products of `keras.ops.numpy` beyond
`shape.py`/`core.py`: splits and stacks, flips and rotations, `diag`,
`diff`, `kron`, `cross`, `meshgrid`, `vander`, `select`, `correlate`,
`corrcoef`, `cdist` (creation ops are in `numpy_creation.py`).

Most are compositions of differentiable primitives (slices, concatenation,
products), so they need no backward of their own.
"""

import builtins

import importlib

import numpy as np

from gkeras import backend
from gkeras.ops import elementwise as E
from gkeras.ops import reduction as R
from gkeras.ops._base import arr, keras_op, t_or_a, to_array, wrap, xp_of
from gkeras.ops.core import ones_like
from gkeras.ops.engine import Function
from gkeras.ops.numpy_math import as_float

# `gkeras.ops.shape` is shadowed by the `shape` op in the package.
S = importlib.import_module("gkeras.ops.shape")


def _ndim(x):
    return np.ndim(arr(x)) if not hasattr(arr(x), "ndim") else arr(x).ndim


def _axis_slice(nd, axis, sl):
    key = [builtins.slice(None)] * nd
    key[axis] = sl
    return tuple(key)


# -- joining and splitting ----------------------------------------------------

@keras_op
def append(x1, x2, axis=None):
    """Appends `x2` to the end of `x1` (both flattened when `axis` is None).

    Args:
        x1: first tensor.
        x2: values to append.
        axis: the axis to append along; None flattens both first.
    """
    if axis is None:
        return S.concatenate([S.ravel(x1), S.ravel(x2)], axis=0)
    return S.concatenate([x1, x2], axis=axis)


@keras_op
def array_split(x, indices_or_sections, axis=0):
    """Splits a tensor into sub-tensors, allowing unequal sections.

    With an integer `n` for an axis of length `l`, the first `l % n`
    pieces have `l // n + 1` elements and the rest `l // n`.

    Returns:
        A list of tensors.
    """
    a = arr(x)
    axis = axis % a.ndim
    n = a.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0:
            raise ValueError("array_split: indices_or_sections must be a "
                             f"positive integer, received {k}.")
        q, rem = divmod(n, k)
        sizes = [q + 1] * rem + [q] * (k - rem)
        bounds = list(np.cumsum([0] + sizes))
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    return [S.getitem(x, _axis_slice(a.ndim, axis, builtins.slice(b, e)))
            for b, e in zip(bounds[:-1], bounds[1:])]


def _split_on(name, axis, min_nd):
    def op(x, indices_or_sections):
        nd = _ndim(x)
        if nd < min_nd:
            raise ValueError(f"{name} needs a tensor of rank >= {min_nd}, "
                             f"received rank {nd}.")
        ax = 0 if (name == "hsplit" and nd == 1) else axis
        return S.split(x, indices_or_sections, axis=ax)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = (f"Splits a tensor along axis {axis} (`numpy.{name}`).\n\n"
                  "Returns:\n    A list of tensors.\n")
    return keras_op(op)


hsplit = _split_on("hsplit", 1, 1)
vsplit = _split_on("vsplit", 0, 2)
dsplit = _split_on("dsplit", 2, 3)


@keras_op
def dstack(xs):
    """Stacks tensors along the third axis (1-D `(n,)` -> `(1, n, 1)`,
    2-D `(m, n)` -> `(m, n, 1)`)."""
    out = []
    for x in xs:
        nd = _ndim(x)
        if nd == 0:
            x = S.reshape(x, (1, 1, 1))
        elif nd == 1:
            x = S.reshape(x, (1, -1, 1))
        elif nd == 2:
            x = S.expand_dims(x, -1)
        out.append(x)
    return S.concatenate(out, axis=2)


@keras_op
def unstack(x, num=None, axis=0):
    """Splits a tensor into a list of tensors along `axis` (removing it).

    Args:
        x: input tensor.
        num: the length of `axis`, checked when given.
        axis: the axis to unstack.
    """
    a = arr(x)
    n = a.shape[axis]
    if num is not None and num != n:
        raise ValueError(f"unstack: num={num} does not match the size {n} of "
                         f"axis {axis} of a tensor of shape {a.shape}.")
    return [S.getitem(x, _axis_slice(a.ndim, axis % a.ndim, i))
            for i in range(n)]


# -- flips and rotations ------------------------------------------------------

@keras_op
def fliplr(x):
    """Reverses the order of columns (axis 1)."""
    if _ndim(x) < 2:
        raise ValueError("fliplr needs a tensor of rank >= 2, received rank "
                         f"{_ndim(x)}.")
    return S.flip(x, axis=1)


@keras_op
def flipud(x):
    """Reverses the order of rows (axis 0)."""
    if _ndim(x) < 1:
        raise ValueError("flipud needs a tensor of rank >= 1.")
    return S.flip(x, axis=0)


@keras_op
def rot90(array, k=1, axes=(0, 1)):
    """Rotates a tensor by 90 degrees `k` times in the plane of `axes`
    (from the first axis towards the second).

    Args:
        array: a tensor of rank >= 2.
        k: number of quarter turns (may be negative).
        axes: the two axes of the plane.
    """
    nd = _ndim(array)
    if nd < 2:
        raise ValueError(f"rot90 needs a tensor of rank >= 2, received rank "
                         f"{nd}.")
    a0, a1 = axes[0] % nd, axes[1] % nd
    if a0 == a1:
        raise ValueError(f"rot90: axes must be different, received {axes}.")
    k %= 4
    if k == 0:
        return t_or_a(array)
    if k == 2:
        return S.flip(S.flip(array, a0), a1)
    perm = list(range(nd))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return S.transpose(S.flip(array, a1), perm)
    return S.flip(S.transpose(array, perm), a1)


# -- matrices from vectors ----------------------------------------------------

class _DiagFromVector(Function):
    def __init__(self, k):
        self.k = k

    def forward(self, v):
        return xp_of(v).diag(v, self.k)

    def backward(self, gy):
        return xp_of(gy).diagonal(gy, self.k).copy()


@keras_op
def diag(x, k=0):
    """Extracts the `k`-th diagonal of a matrix, or builds a matrix with a
    vector on its `k`-th diagonal.

    Args:
        x: a 1-D or 2-D tensor.
        k: the diagonal offset (positive above the main diagonal).
    """
    nd = _ndim(x)
    if nd == 1:
        return _DiagFromVector(int(k))(t_or_a(x))
    if nd == 2:
        return diagonal_of(x, int(k))
    raise ValueError(f"diag expects a 1-D or 2-D tensor, received rank {nd}.")


def diagonal_of(x, k):
    """The `k`-th diagonal of the last two axes, differentiable."""
    a = arr(x)
    n, m = a.shape[-2:]
    i = np.arange(builtins.max(0, -k), builtins.min(n, m - k))
    i = xp_of(a).asarray(i)  # index arrays on the data's device
    return S.getitem(x, (Ellipsis, i, i + k))


@keras_op
def diagflat(x, k=0):
    """A 2-D tensor with the flattened `x` on its `k`-th diagonal."""
    return _DiagFromVector(int(k))(t_or_a(S.ravel(x)))


@keras_op
def diff(a, n=1, axis=-1):
    """The `n`-th discrete difference along `axis`.

    Args:
        a: input tensor.
        n: number of times to difference.
        axis: the axis.
    """
    nd = _ndim(a)
    axis = axis % nd
    out = t_or_a(a)
    for _ in range(int(n)):
        hi = S.getitem(out, _axis_slice(nd, axis, builtins.slice(1, None)))
        lo = S.getitem(out, _axis_slice(nd, axis, builtins.slice(None, -1)))
        # Booleans differ where they change, as NumPy's `diff`.
        out = E.not_equal(hi, lo) if arr(out).dtype == bool else \
            E.subtract(hi, lo)
    return out


@keras_op
def kron(x1, x2):
    """Kronecker product of two tensors (`numpy.kron`: blocks of `x2`
    scaled by the elements of `x1`)."""
    a, b = arr(x1), arr(x2)
    nd = builtins.max(np.ndim(a), np.ndim(b))
    sa = (1,) * (nd - np.ndim(a)) + tuple(np.shape(a))
    sb = (1,) * (nd - np.ndim(b)) + tuple(np.shape(b))
    # Interleave axes: (a0, 1, a1, 1, ...) * (1, b0, 1, b1, ...).
    ia = tuple(s for d in sa for s in (d, 1))
    ib = tuple(s for d in sb for s in (1, d))
    prod = E.multiply(S.reshape(x1, ia), S.reshape(x2, ib))
    return S.reshape(prod, tuple(p * q for p, q in zip(sa, sb)))


@keras_op
def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors (or the z-component of 2-vectors).

    Args:
        x1: vectors along `axisa`.
        x2: vectors along `axisb`.
        axisa, axisb: the vector axes of `x1` and `x2`.
        axisc: the vector axis of the result.
        axis: when given, overrides all three.
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    a = S.moveaxis(x1, axisa, -1)
    b = S.moveaxis(x2, axisb, -1)
    na, nb = arr(a).shape[-1], arr(b).shape[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("cross: the vector axes must have 2 or 3 elements, "
                         f"received {na} and {nb}.")

    def comp(v, n, i):
        if i < n:
            return S.getitem(v, (Ellipsis, i))
        return None

    a0, a1, a2 = (comp(a, na, i) for i in range(3))
    b0, b1, b2 = (comp(b, nb, i) for i in range(3))
    mul, sub = E.multiply, E.subtract
    z = sub(mul(a0, b1), mul(a1, b0))
    if na == 2 and nb == 2:
        return z
    x = (sub(mul(a1, b2), mul(a2, b1)) if a2 is not None and b2 is not None
         else mul(a1, b2) if a2 is None else E.negative(mul(a2, b1)))
    y = (sub(mul(a2, b0), mul(a0, b2)) if a2 is not None and b2 is not None
         else E.negative(mul(a0, b2)) if a2 is None else mul(a2, b0))
    out = S.stack([x, y, z], axis=-1)
    return S.moveaxis(out, -1, axisc)


@keras_op
def meshgrid(*x, indexing="xy"):
    """Coordinate grids from 1-D coordinate vectors.

    Args:
        *x: 1-D tensors.
        indexing: `"xy"` (Cartesian: the first two outputs axes swapped)
            or `"ij"` (matrix).

    Returns:
        A list of N-D tensors.
    """
    if indexing not in ("xy", "ij"):
        raise ValueError("meshgrid: indexing must be 'xy' or 'ij', received "
                         f"{indexing!r}.")
    n = len(x)
    sizes = [int(np.size(arr(v))) for v in x]
    out_shape = list(sizes)
    if indexing == "xy" and n >= 2:
        out_shape[0], out_shape[1] = out_shape[1], out_shape[0]
    outs = []
    for i, v in enumerate(x):
        shape = [1] * n
        pos = i
        if indexing == "xy" and n >= 2 and i < 2:
            pos = 1 - i
        shape[pos] = sizes[i]
        outs.append(S.broadcast_to(S.reshape(v, shape), out_shape))
    return outs


@keras_op
def vander(x, N=None, increasing=False):
    """Vandermonde matrix: columns are powers of `x`.

    Args:
        x: a 1-D tensor.
        N: number of columns (default `len(x)`).
        increasing: powers from 0 upwards when True (default: decreasing).
    """
    if _ndim(x) != 1:
        raise ValueError(f"vander expects a 1-D tensor, received rank "
                         f"{_ndim(x)}.")
    n = arr(x).shape[0] if N is None else int(N)
    # Repeated products rather than `power`, whose gradient is NaN at
    # x = 0 for the zeroth power.
    cols = []
    cur = None
    for i in range(n):
        cur = ones_like(x) if i == 0 else (
            t_or_a(x) if i == 1 else E.multiply(cur, x))
        cols.append(cur)
    if not increasing:
        cols = cols[::-1]
    if not cols:
        a = arr(x)
        return wrap(xp_of(a).zeros((a.shape[0], 0), dtype=a.dtype))
    return S.stack(cols, axis=1)


@keras_op
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Integral of `y` along `axis` by the trapezoidal rule.

    Args:
        y: values.
        x: sample points (None: equally spaced by `dx`).
        dx: spacing when `x` is None.
        axis: the axis to integrate along.
    """
    y = as_float(t_or_a(y))
    nd = _ndim(y)
    axis = axis % nd
    hi = S.getitem(y, _axis_slice(nd, axis, builtins.slice(1, None)))
    lo = S.getitem(y, _axis_slice(nd, axis, builtins.slice(None, -1)))
    mid = E.multiply(E.add(hi, lo), 0.5)
    if x is None:
        return E.multiply(R.sum(mid, axis=axis), dx)
    d = diff(x, axis=-1 if _ndim(x) == 1 else axis)
    if _ndim(x) == 1 and nd > 1:
        shape = [1] * nd
        shape[axis] = -1
        d = S.reshape(d, shape)
    return R.sum(E.multiply(mid, d), axis=axis)


@keras_op
def select(condlist, choicelist, default=0):
    """Picks, element-wise, from the first choice whose condition holds.

    Args:
        condlist: list of boolean tensors.
        choicelist: list of tensors, one per condition.
        default: the value where no condition holds.
    """
    if len(condlist) != len(choicelist):
        raise ValueError(
            "select: condlist and choicelist must have the same length, "
            f"received {len(condlist)} and {len(choicelist)}.")
    if not condlist:
        raise ValueError("select: condlist must not be empty.")
    out = default
    for c, v in zip(condlist[::-1], choicelist[::-1]):
        out = E.where(c, v, out)
    return out


@keras_op
def get_item(x, key):
    """`x[key]` (differentiable), the functional form of indexing."""
    return S.getitem(t_or_a(x), key)


@keras_op
def view(x, dtype=None):
    """Reinterprets the bytes of `x` as another dtype (no copy of values).

    Args:
        x: input tensor.
        dtype: the new dtype (None: unchanged).
    """
    a = to_array(x)
    if dtype is None:
        return wrap(a)
    return wrap(a.view(backend.standardize_dtype(dtype)))


@keras_op
def correlate(x1, x2, mode="valid"):
    """Cross-correlation of two 1-D tensors (`numpy.correlate`).

    Args:
        x1, x2: 1-D tensors.
        mode: `"valid"`, `"same"` or `"full"`.
    """
    if mode not in ("valid", "same", "full"):
        raise ValueError("correlate: mode must be 'valid', 'same' or 'full', "
                         f"received {mode!r}.")
    if _ndim(x1) != 1 or _ndim(x2) != 1:
        raise ValueError("correlate expects two 1-D tensors, received ranks "
                         f"{_ndim(x1)} and {_ndim(x2)}.")
    x1, x2 = as_float(t_or_a(x1)), as_float(t_or_a(x2))
    na, nv = arr(x1).shape[0], arr(x2).shape[0]
    if na == 0 or nv == 0:
        raise ValueError("correlate: inputs must not be empty.")
    # Full correlation as a matmul of sliding windows of the padded `x1`.
    padded = S.pad(x1, [(nv - 1, nv - 1)])
    nfull = na + nv - 1
    idx = np.arange(nfull)[:, None] + np.arange(nv)[None, :]
    idx = xp_of(arr(padded)).asarray(idx)
    full = E.matmul(S.getitem(padded, idx), x2)
    if mode == "full":
        return full
    if mode == "valid":
        lo, hi = (nv - 1, na) if na >= nv else (na - 1, nv)
        return S.getitem(full, builtins.slice(lo, hi))
    start = (nv - 1) // 2 if na >= nv else na - 1 - (na - 1) // 2
    return S.getitem(full, builtins.slice(start, start + builtins.max(na, nv)))


@keras_op
def corrcoef(x):
    """Pearson correlation coefficients between the rows of `x`.

    Args:
        x: a 1-D or 2-D tensor, one variable per row.
    """
    x = as_float(t_or_a(x))
    if _ndim(x) == 1:
        x = S.reshape(x, (1, -1))
    c = E.subtract(x, R.mean(x, axis=1, keepdims=True))
    cov = E.matmul(c, S.transpose(c))
    d = E.sqrt(diagonal_of(cov, 0))
    out = E.divide(E.divide(cov, S.expand_dims(d, 1)), S.expand_dims(d, 0))
    out = E.clip(out, -1.0, 1.0)
    return S.reshape(out, ()) if arr(out).shape == (1, 1) else out


@keras_op
def cdist(x, y):
    """Euclidean distances between each pair of rows of `x` and `y`.

    Args:
        x: tensor of shape `(..., P, M)`.
        y: tensor of shape `(..., R, M)`.

    Returns:
        A tensor of shape `(..., P, R)`.
    """
    x, y = as_float(t_or_a(x)), as_float(t_or_a(y))
    d = E.subtract(S.expand_dims(x, -2), S.expand_dims(y, -3))
    return E.sqrt(R.sum(E.square(d), axis=-1))


@keras_op
def ptp(x, axis=None, keepdims=False):
    """Range (maximum minus minimum) along an axis."""
    return E.subtract(R.max(x, axis=axis, keepdims=keepdims),
                      R.min(x, axis=axis, keepdims=keepdims))
