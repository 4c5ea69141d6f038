"""Statistics, counting and searching of `keras.ops.numpy`: the `nan*`
reductions, `quantile`/`percentile`, `cumprod`, `histogram`, `bincount`,
`digitize`, `isin`, `searchsorted`, `unique`, `nonzero`...

Quantiles are differentiable (a sort and a gather, as JAX's); counting and
searching ops return integer tensors and have no gradient.
"""

import builtins

import importlib

import numpy as np

from gkeras import backend
from gkeras.ops import elementwise as E
from gkeras.ops import reduction as R
from gkeras.ops._base import arr, floating, is_float, keras_op, \
    normalize_axis, t_or_a, to_array, wrap, xp_of
from gkeras.ops.elementwise import _coerce_pair
from gkeras.ops.engine import Function

# `gkeras.ops.shape` is shadowed by the `shape` op in the package.
S = importlib.import_module("gkeras.ops.shape")


def _isnan(x):
    return E.isnan(x)


def _int_acc(out, src):
    """Integer sums/products in Keras's dtype: bool and narrow ints
    accumulate in int32 (NumPy would give int64)."""
    s = np.dtype(arr(src).dtype)
    o = arr(out)
    if s.kind in "biu" and o.dtype.kind in "iu" and s.itemsize <= 4 and \
            o.dtype.itemsize == 8:
        from gkeras.ops.core import cast
        return cast(out, "uint32" if s.kind == "u" else "int32")
    return out


def _float_t(x):
    """`x` kept as is when floating, else as a `floatx()` array."""
    a = arr(x)
    if hasattr(a, "dtype") and floating(a.dtype):
        return x
    return to_array(x).astype(backend.floatx())


# -- nan reductions -----------------------------------------------------------

@keras_op
def nansum(x, axis=None, keepdims=False):
    """Sum treating NaNs as zero."""
    x = t_or_a(x)
    if not is_float(arr(x)):
        return _int_acc(R.sum(x, axis=axis, keepdims=keepdims), x)
    return R.sum(E.where(_isnan(x), 0.0, x), axis=axis, keepdims=keepdims)


def _count(x, axis, keepdims):
    valid = E.logical_not(_isnan(x))
    a = arr(valid)
    return wrap(a.sum(axis=normalize_axis(axis, a.ndim),
                      keepdims=keepdims).astype(arr(x).dtype))


@keras_op
def nanmean(x, axis=None, keepdims=False):
    """Mean ignoring NaNs (NaN for an all-NaN slice)."""
    x = _float_t(t_or_a(x))
    return E.divide(nansum(x, axis=axis, keepdims=keepdims),
                    _count(x, axis, keepdims))


@keras_op
def nanvar(x, axis=None, keepdims=False):
    """Variance ignoring NaNs."""
    x = _float_t(t_or_a(x))
    nan = _isnan(x)
    xz = E.where(nan, 0.0, x)
    m = E.divide(R.sum(xz, axis=axis, keepdims=True), _count(x, axis, True))
    d = E.where(nan, 0.0, E.subtract(xz, m))
    return E.divide(R.sum(E.square(d), axis=axis, keepdims=keepdims),
                    _count(x, axis, keepdims))


@keras_op
def nanstd(x, axis=None, keepdims=False):
    """Standard deviation ignoring NaNs."""
    return E.sqrt(nanvar(x, axis=axis, keepdims=keepdims))


def _nan_extreme(x, axis, keepdims, is_max):
    x = t_or_a(x)
    if not is_float(arr(x)):
        f = R.max if is_max else R.min
        return f(x, axis=axis, keepdims=keepdims)
    nan = _isnan(x)
    fill = -np.inf if is_max else np.inf
    f = R.max if is_max else R.min
    out = f(E.where(nan, fill, x), axis=axis, keepdims=keepdims)
    all_nan = R.all(nan, axis=axis, keepdims=keepdims)
    return E.where(all_nan, np.nan, out)


@keras_op
def nanmax(x, axis=None, keepdims=False):
    """Maximum ignoring NaNs (NaN for an all-NaN slice)."""
    return _nan_extreme(x, axis, keepdims, True)


@keras_op
def nanmin(x, axis=None, keepdims=False):
    """Minimum ignoring NaNs (NaN for an all-NaN slice)."""
    return _nan_extreme(x, axis, keepdims, False)


@keras_op
def nanprod(x, axis=None, keepdims=False):
    """Product treating NaNs as one."""
    x = t_or_a(x)
    if not is_float(arr(x)):
        return _int_acc(R.prod(x, axis=axis, keepdims=keepdims), x)
    return R.prod(E.where(_isnan(x), 1.0, x), axis=axis, keepdims=keepdims)


def _nan_arg(x, axis, keepdims, is_max):
    a = to_array(x)
    xp = xp_of(a)
    if a.dtype.kind != "f":
        f = xp.argmax if is_max else xp.argmin
        return wrap(f(a, axis=axis, keepdims=keepdims).astype("int32"))
    nan = xp.isnan(a)
    filled = xp.where(nan, -np.inf if is_max else np.inf, a)
    f = xp.argmax if is_max else xp.argmin
    idx = f(filled, axis=axis, keepdims=keepdims)
    # An all-NaN slice gives -1, as JAX does (NumPy raises).
    all_nan = nan.all(axis=axis, keepdims=keepdims)
    return wrap(xp.where(all_nan, -1, idx).astype("int32"))


@keras_op
def nanargmax(x, axis=None, keepdims=False):
    """Index of the maximum ignoring NaNs (-1 for an all-NaN slice)."""
    return _nan_arg(x, axis, keepdims, True)


@keras_op
def nanargmin(x, axis=None, keepdims=False):
    """Index of the minimum ignoring NaNs (-1 for an all-NaN slice)."""
    return _nan_arg(x, axis, keepdims, False)


# -- cumulative ---------------------------------------------------------------

class _Cumprod(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        self.shape = x.shape
        x = x.reshape(-1) if self.axis is None else x
        self.x = x
        # Integers keep their dtype, bools count in int32 (as Keras).
        dt = None if x.dtype.kind in "fc" else (
            np.dtype("int32") if x.dtype == bool else x.dtype)
        self.y = x.cumprod(axis=0 if self.axis is None else self.axis,
                           dtype=dt)
        return self.y

    def backward(self, gy):
        xp = xp_of(gy)
        ax = 0 if self.axis is None else self.axis
        x = xp.moveaxis(self.x, ax, -1)
        y = xp.moveaxis(self.y, ax, -1)
        g = xp.moveaxis(gy, ax, -1)
        if xp is not np:
            gx = xp.moveaxis(_cumprod_grad_no_division(x, g, xp), -1, ax)
            return gx.reshape(self.shape)
        # d/dx_i sum_j g_j y_j = sum_{j>=i} g_j y_j / x_i; exact by
        # products with x_i left out where a slice holds a zero.
        rev = xp.flip(xp.flip(g * y, -1).cumsum(-1), -1)
        safe = xp.where(x == 0, 1, x)
        gx = rev / safe
        zero_rows = (x == 0).any(axis=-1)
        if bool(zero_rows.any()):
            n = x.shape[-1]
            for i in range(n):
                xi = x.copy()
                xi[..., i] = 1
                p = xi.cumprod(-1)
                s = (g[..., i:] * p[..., i:]).sum(-1)
                gx[..., i] = xp.where(zero_rows, s, gx[..., i])
        gx = xp.moveaxis(gx, -1, ax)
        return gx.reshape(self.shape)


def _cumprod_grad_no_division(x, g, xp):
    """The cumprod gradient along the last axis without dividing by `x`
    (so zeros need no special case) and without a host sync: with
    `P_i = prod_{k<i} x_k` and `S_i = g_i + x_{i+1} S_{i+1}`, the gradient
    is `P_i S_i`. Used on the GPU, where the zero test would sync."""
    n = x.shape[-1]
    prefix = xp.ones_like(x)
    if n > 1:
        prefix[..., 1:] = xp.cumprod(x[..., :-1], axis=-1)
    s = xp.empty_like(g)
    s[..., n - 1] = g[..., n - 1]
    for i in range(n - 2, -1, -1):
        s[..., i] = g[..., i] + x[..., i + 1] * s[..., i + 1]
    return prefix * s


@keras_op
def cumprod(x, axis=None, dtype=None):
    """Cumulative product along an axis (flattened when `axis` is None).

    Args:
        x: input tensor.
        axis: the axis (None: over the flattened tensor).
        dtype: optional dtype to compute in.
    """
    x = t_or_a(x) if dtype is None else to_array(
        x, backend.standardize_dtype(dtype))
    a = arr(x)
    return _Cumprod(None if axis is None else axis % a.ndim)(x)


@keras_op
def nancumsum(x, axis=None, dtype=None):
    """Cumulative sum treating NaNs as zero."""
    x = t_or_a(x)
    if is_float(arr(x)):
        x = E.where(_isnan(x), 0.0, x)
    return _int_acc(R.cumsum(x, axis=axis, dtype=dtype), x)


@keras_op
def nancumprod(x, axis=None, dtype=None):
    """Cumulative product treating NaNs as one."""
    x = t_or_a(x)
    if is_float(arr(x)):
        x = E.where(_isnan(x), 1.0, x)
    return cumprod(x, axis=axis, dtype=dtype)


# -- quantiles ----------------------------------------------------------------

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(x, q, axis, method, keepdims, ignore_nan, name):
    if method not in _METHODS:
        raise ValueError(f"{name}: method must be one of {_METHODS}, "
                         f"received {method!r}.")
    x = _float_t(t_or_a(x))
    a = arr(x)
    qa = np.asarray(backend.to_numpy(arr(q)), dtype=np.float64)
    if np.any((qa < 0) | (qa > 1)):
        raise ValueError(f"{name}: quantiles must be in [0, 1] (percentiles "
                         f"in [0, 100]), received {qa}.")
    nd = a.ndim
    axes = tuple(range(nd)) if axis is None else normalize_axis(axis, nd)
    keep = [i for i in range(nd) if i not in axes]
    # Reduced axes last, flattened into one.
    moved = S.transpose(x, keep + list(axes))
    lead = [a.shape[i] for i in keep]
    flat = S.reshape(moved, lead + [-1])
    srt = S.sort(flat, axis=-1)
    fa = arr(flat)
    xp = xp_of(fa)
    n = fa.shape[-1]
    qv = qa.reshape(-1)
    nanmask = xp.isnan(fa)
    # Positions in the data's float dtype (no float64 on the device for
    # float32 data; exact for axes up to 2**24 long).
    pdt = fa.dtype if fa.dtype.kind == "f" else np.dtype("float32")
    if ignore_nan:
        cnt = (~nanmask).sum(axis=-1, keepdims=True).astype(pdt)
    else:
        cnt = xp.full(fa.shape[:-1] + (1,), n, dtype=pdt)
    pos = xp.asarray(qv.astype(pdt)) * (cnt - 1)  # (..., Q)
    lo = xp.floor(pos)
    hi = xp.ceil(pos)
    if method == "nearest":
        lo = hi = xp.round(pos)
    lo_i = xp.clip(lo, 0, n - 1).astype(np.int64)
    hi_i = xp.clip(hi, 0, n - 1).astype(np.int64)
    v_lo = S.take_along_axis(srt, lo_i, axis=-1)
    v_hi = S.take_along_axis(srt, hi_i, axis=-1)
    if method in ("lower", "nearest"):
        out = v_lo
    elif method == "higher":
        out = v_hi
    elif method == "midpoint":
        out = E.multiply(E.add(v_lo, v_hi), 0.5)
    else:
        frac = (pos - lo).astype(fa.dtype)
        out = E.add(E.multiply(v_lo, 1.0 - frac), E.multiply(v_hi, frac))
    bad = (cnt == 0) if ignore_nan else nanmask.any(axis=-1, keepdims=True)
    out = E.where(xp.broadcast_to(bad, arr(out).shape), np.nan, out)
    # (..., Q) -> (Q, ...) like NumPy, then the kept dims.
    out = S.moveaxis(out, -1, 0)
    shape = list(lead)
    if keepdims:
        shape = [1 if i in axes else a.shape[i] for i in range(nd)]
    if qa.ndim == 0:
        return S.reshape(out, shape)
    return S.reshape(out, list(qa.shape) + shape)


@keras_op
def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The `q`-th quantiles of the data along the axes.

    Args:
        x: input tensor (integers are computed in `floatx()`).
        q: a quantile or 1-D tensor of quantiles in `[0, 1]`.
        axis: axis or axes to reduce (None: all).
        method: `"linear"`, `"lower"`, `"higher"`, `"midpoint"` or
            `"nearest"`.
        keepdims: keep the reduced axes with size 1.

    Returns:
        The quantiles; a 1-D `q` adds a leading axis.
    """
    return _quantile(x, q, axis, method, keepdims, False, "quantile")


@keras_op
def percentile(x, q, axis=None, method="linear", keepdims=False):
    """The `q`-th percentiles (`q` in `[0, 100]`); see `quantile`."""
    return _quantile(x, np.asarray(backend.to_numpy(arr(q))) / 100.0, axis,
                     method, keepdims, False, "percentile")


@keras_op
def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """`quantile` ignoring NaNs (NaN for an all-NaN slice)."""
    return _quantile(x, q, axis, method, keepdims, True, "nanquantile")


@keras_op
def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    """`percentile` ignoring NaNs (NaN for an all-NaN slice)."""
    return _quantile(x, np.asarray(backend.to_numpy(arr(q))) / 100.0, axis,
                     method, keepdims, True, "nanpercentile")


@keras_op
def nanmedian(x, axis=None, keepdims=False):
    """Median ignoring NaNs."""
    return _quantile(x, 0.5, axis, "linear", keepdims, True, "nanmedian")


# -- counting and searching (integer results) ---------------------------------

@keras_op
def histogram(x, bins=10, range=None):
    """Histogram of a 1-D tensor.

    Args:
        x: a 1-D tensor.
        bins: number of equal-width bins.
        range: `(min, max)` of the bins (default: the data's range).

    Returns:
        `(counts, bin_edges)`: the counts (as floats, like Keras on JAX)
        and the `bins + 1` edges, in the input's float dtype.
    """
    a = to_array(x)
    if a.ndim != 1:
        raise ValueError(f"histogram expects a 1-D tensor, received shape "
                         f"{a.shape}.")
    if not isinstance(bins, (int, np.integer)) or bins <= 0:
        raise ValueError(f"histogram: bins must be a positive integer, "
                         f"received {bins!r}.")
    xp = xp_of(a)
    if a.dtype == bool:
        a = a.astype(backend.floatx())
    counts, edges = xp.histogram(a, bins=int(bins), range=range)
    # Float counts and edges in the input's float dtype, as Keras (JAX).
    dt = a.dtype if a.dtype.kind == "f" else np.dtype(backend.floatx())
    return wrap(counts.astype(dt)), wrap(edges.astype(dt))


@keras_op
def bincount(x, weights=None, minlength=0, sparse=False):
    """Counts occurrences of each non-negative integer value.

    Args:
        x: 1-D (or 2-D: one count per row) non-negative integer tensor.
        weights: optional weights, like `x`; the result sums them.
        minlength: minimum number of bins.
        sparse: not supported (Keras supports it on TensorFlow/JAX only).

    Returns:
        Counts (int32), or sums of weights in the weights' dtype.
    """
    if sparse:
        raise NotImplementedError("bincount(sparse=True) is not supported "
                                  "by gkeras (no sparse tensors).")
    a = to_array(x)
    xp = xp_of(a)
    if a.dtype == bool:
        a = a.astype("int32")
    if a.dtype.kind not in "iu":
        raise TypeError(f"bincount expects an integer tensor, received dtype "
                        f"{a.dtype}.")
    w = None
    if weights is not None:
        a, w = _coerce_pair(a, to_array(weights))
        xp = xp_of(a, w)
    if a.ndim == 1:
        length = builtins.max(int(a.max()) + 1 if a.size else 0,
                              int(minlength))
        rows, ws = [a], [w]
    elif a.ndim == 2:
        length = builtins.max(int(a.max()) + 1 if a.size else 0,
                              int(minlength))
        rows = list(a)
        ws = [None] * len(rows) if w is None else list(w)
    else:
        raise ValueError(f"bincount expects a 1-D or 2-D tensor, received "
                         f"shape {a.shape}.")
    outs = []
    for r, wr in zip(rows, ws):
        c = xp.bincount(r, weights=wr, minlength=length)
        outs.append(c.astype("int32" if wr is None else wr.dtype))
    return wrap(outs[0] if a.ndim == 1 else xp.stack(outs))


@keras_op
def digitize(x, bins):
    """Index of the bin each value falls in (`numpy.digitize`), int32."""
    a, b = _coerce_pair(to_array(x), to_array(bins))
    return wrap(xp_of(a, b).digitize(a, b).astype("int32"))


@keras_op
def isin(x1, x2, assume_unique=False, invert=False):
    """True where an element of `x1` is in `x2` (False with `invert`)."""
    a, b = _coerce_pair(to_array(x1), to_array(x2))
    return wrap(xp_of(a, b).isin(a, b, assume_unique=assume_unique,
                                 invert=invert))


@keras_op
def searchsorted(sorted_sequence, values, side="left"):
    """Indices where `values` would be inserted into a sorted 1-D tensor.

    Args:
        sorted_sequence: a sorted 1-D tensor.
        values: the values to place.
        side: `"left"` (first suitable index) or `"right"` (last).
    """
    s, v = _coerce_pair(to_array(sorted_sequence), to_array(values))
    if s.ndim != 1:
        raise ValueError(
            "`searchsorted` only supports 1-D sorted sequences. You can use "
            "`keras.ops.vectorized_map` to extend it to N-D sequences. "
            f"Received: sorted_sequence.shape={s.shape}")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', "
                         f"received {side!r}.")
    return wrap(xp_of(s, v).searchsorted(s, v, side=side).astype("int32"))


@keras_op
def unique(x, sorted=True, return_index=False, return_inverse=False,
           return_counts=False, axis=None, size=None, fill_value=None):
    """The unique elements of a tensor (sorted).

    Args:
        x: input tensor.
        sorted: accepted for Keras compatibility; results are sorted.
        return_index: also return the first index of each unique value.
        return_inverse: also return the index of each element in the
            unique values.
        return_counts: also return how often each unique value occurs.
        axis: unique sub-tensors along this axis (None: flattened).
        size: pad (with `fill_value`) or truncate to this many values, for
            a static output shape.
        fill_value: padding value (default: the smallest unique value).

    Returns:
        The unique values, or a tuple with the requested extras.
    """
    a = to_array(x)
    xp = xp_of(a)
    res = xp.unique(a, return_index=True, return_inverse=True,
                    return_counts=True, axis=axis)
    vals, idx, inv, cnt = res
    if axis is None:
        inv = inv.reshape(a.shape)
    if size is not None:
        size = int(size)
        n = vals.shape[0 if axis is None else axis]
        if n >= size:
            sl = [builtins.slice(None)] * vals.ndim
            sl[0 if axis is None else axis] = builtins.slice(0, size)
            vals, idx, cnt = vals[tuple(sl)], idx[:size], cnt[:size]
        else:
            fv = vals.min() if fill_value is None and n else (
                0 if fill_value is None else fill_value)
            pshape = list(vals.shape)
            ax = 0 if axis is None else axis
            pshape[ax] = size - n
            vals = xp.concatenate(
                [vals, xp.full(pshape, fv, dtype=vals.dtype)], axis=ax)
            fi = 0 if fill_value is None else fill_value
            idx = xp.concatenate([idx, xp.full(size - n, fi, idx.dtype)])
            cnt = xp.concatenate([cnt, xp.zeros(size - n, cnt.dtype)])
    extras = []
    if return_index:
        extras.append(wrap(idx.astype("int32")))
    if return_inverse:
        extras.append(wrap(inv.astype("int32")))
    if return_counts:
        extras.append(wrap(cnt.astype("int32")))
    if not extras:
        return wrap(vals)
    return (wrap(vals), *extras)


@keras_op
def nonzero(x):
    """Indices of the non-zero elements, one int32 tensor per axis."""
    a = to_array(x)
    return tuple(wrap(i.astype("int32")) for i in xp_of(a).nonzero(a))


@keras_op
def argpartition(x, kth, axis=-1):
    """Indices that partition `x` around its `kth` element along `axis`
    (smaller values before, larger after; int32)."""
    a = to_array(x)
    xp = xp_of(a)
    if axis is None:
        a, axis = a.reshape(-1), 0
    return wrap(xp.argpartition(a, kth, axis=axis).astype("int32"))


@keras_op
def unravel_index(indices, shape):
    """Converts flat indices into a tuple of coordinate tensors for
    `shape`."""
    a = to_array(indices)
    xp = xp_of(a)
    return tuple(wrap(i.astype(a.dtype if a.dtype.kind in "iu" else "int32"))
                 for i in xp.unravel_index(a, tuple(shape)))
