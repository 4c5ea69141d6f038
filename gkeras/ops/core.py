"""Core ops (`keras.ops` names): conversion, casting, creation, products
(dot, tensordot, einsum), norms and small utilities."""

import builtins

import numpy as np

from gkeras import backend
from gkeras.ops._base import _KERAS_TENSOR, _keras_tensor_class, arr, \
    keras_op, t_or_a, to_array, unbroadcast, wrap, xp_of
from gkeras.ops.engine import _HALF_USED, Function, Tensor


# Keras 3.15's `keras.ops.core` names. Those defined in other gkeras.ops
# modules resolve to the `gkeras.ops` function of that name on first use.
KERAS_NAMES = (
    "associative_scan", "cast", "cond", "convert_to_numpy",
    "convert_to_tensor", "custom_gradient", "dtype", "fori_loop", "is_tensor",
    "map", "saturate_cast", "scan", "scatter", "scatter_update", "shape",
    "slice", "slice_update", "stop_gradient", "switch", "unstack",
    "vectorized_map", "while_loop",
)


def __getattr__(name):
    if name in KERAS_NAMES:
        import gkeras.ops
        value = getattr(gkeras.ops, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gkeras.ops.core' has no attribute "
                         f"{name!r}")


def __dir__():
    return sorted(set(globals()) | set(KERAS_NAMES))


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """Converts a NumPy/CuPy array, list or scalar to a gkeras tensor.

    Args:
        x: the value.
        dtype: optional target dtype.
        sparse: accepted for Keras compatibility (dense only).
        ragged: must be falsy: gkeras has no ragged tensors (Keras has
            them on TensorFlow only).

    Returns:
        A `Tensor` on the backend's device (a Tensor input is returned
        as is, or cast).
    """
    KerasTensor = _KERAS_TENSOR[0] if _KERAS_TENSOR else \
        _keras_tensor_class()
    if ragged:
        raise NotImplementedError(
            "convert_to_tensor(ragged=True) is not supported: gkeras has no "
            "ragged tensors (Keras supports them with TensorFlow only).")
    if isinstance(x, KerasTensor):
        return x if dtype is None else cast(x, dtype)
    if isinstance(x, Tensor):
        return x if dtype is None else cast(x, dtype)
    a = to_array(x, None if dtype is None else backend.standardize_dtype(dtype))
    if backend.backend() == "cupy" and not backend.is_cupy_array(a):
        a = backend.to_device(a)
    return Tensor(a)


def convert_to_numpy(x):
    """Returns `x` as a NumPy array."""
    return backend.to_numpy(arr(x))


class _Cast(Function):
    half_native = True

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        self.src = x.dtype
        return x.astype(self.dtype, copy=False)

    def backward(self, gy):
        if self.src.kind not in "fc" and not backend.is_half_dtype(self.src):
            return None
        return gy.astype(self.src, copy=False)


@keras_op
def cast(x, dtype):
    """Casts a tensor to `dtype` (differentiable between float types).

    Args:
        x: a tensor or array.
        dtype: the target dtype (`"bfloat16"` included; on the CPU it comes
            from `ml_dtypes`, CuPy has none and raises).

    Returns:
        The cast tensor (`x` itself when it already has that dtype).
    """
    dtype = backend.standardize_dtype(dtype)
    a = arr(x)
    if hasattr(a, "dtype") and a.dtype == backend.to_dtype(dtype):
        return t_or_a(x) if isinstance(x, Tensor) else wrap(to_array(x))
    if backend.is_half_dtype(dtype):
        check_half_supported(dtype, a)
        _HALF_USED[0] = True
    return _Cast(backend.to_dtype(dtype))(t_or_a(x))


def check_half_supported(dtype, a=None):
    """Raises NotImplementedError for bfloat16 on CuPy (no CuPy dtype)."""
    if dtype == "bfloat16" and (backend.is_cupy_array(a) or (
            a is None or not hasattr(a, "dtype")) and
            backend.backend() == "cupy"):
        raise NotImplementedError(
            "bfloat16 on the GPU: CuPy has no bfloat16 dtype, so gkeras "
            "cannot hold bfloat16 arrays on the GPU yet. Use the "
            "'mixed_float16' policy on the GPU, or bfloat16 on the CPU "
            "(GKERAS_BACKEND=numpy).")


def dtype(x):
    """The dtype of a tensor, as a string (`"float32"`)."""
    return backend.standardize_dtype(getattr(arr(x), "dtype", None)
                                     or np.asarray(x).dtype)


def shape(x):
    """The shape of a tensor, a tuple (entries may be None on KerasTensors)."""
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def ndim(x):
    """Number of dimensions of a tensor."""
    return len(shape(x))


def size(x):
    """Number of elements of a tensor."""
    return int(np.prod(shape(x)))


class _StopGradient(Function):
    def forward(self, x):
        return x

    def backward(self, gy):
        return None


@keras_op
def stop_gradient(variable):
    """Returns the value with no gradient flowing back through it."""
    return _StopGradient()(t_or_a(variable))


def is_tensor(x):
    """True for gkeras tensors (and Variables)."""
    return isinstance(x, Tensor)


# -- creation ------------------------------------------------------------------

def _shape_tuple(shape):
    """A shape as a tuple of ints; a single int is a 1-D shape (as Keras
    and NumPy accept)."""
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def _dt(dtype):
    return backend.standardize_dtype(dtype)


def zeros(shape, dtype=None):
    """A tensor of zeros."""
    return Tensor(backend.get_xp().zeros(_shape_tuple(shape),
                                         dtype=_dt(dtype)))


def ones(shape, dtype=None):
    """A tensor of ones."""
    return Tensor(backend.get_xp().ones(_shape_tuple(shape),
                                        dtype=_dt(dtype)))


def full(shape, fill_value, dtype=None):
    """A tensor filled with `fill_value`."""
    return Tensor(backend.get_xp().full(_shape_tuple(shape), arr(fill_value),
                                        dtype=_dt(dtype)))


def _like(name):
    def op(x, dtype=None):
        a = to_array(x)
        d = a.dtype if dtype is None else _dt(dtype)
        return wrap(getattr(xp_of(a), name)(a, dtype=d))
    op.__name__ = name
    op.__doc__ = f"`{name}` of the shape of `x` (not differentiable)."
    return keras_op(op)


zeros_like = _like("zeros_like")
ones_like = _like("ones_like")


@keras_op
def full_like(x, fill_value, dtype=None):
    """A tensor of the shape of `x` filled with `fill_value`."""
    a = to_array(x)
    return wrap(xp_of(a).full_like(a, arr(fill_value),
                                   dtype=a.dtype if dtype is None
                                   else _dt(dtype)))


def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in `[start, stop)`."""
    xp = backend.get_xp()
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer))
                   for v in (start, stop, step) if v is not None)
        dtype = "int32" if ints else backend.floatx()
    if stop is None:
        start, stop = 0, start
    return Tensor(xp.arange(start, stop, step, dtype=_dt(dtype)))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None,
             axis=0):
    """`num` evenly spaced values over `[start, stop]`.

    Args:
        start, stop: the ends (scalars, or tensors for several ranges).
        num: number of samples.
        endpoint: whether `stop` is included.
        retstep: also return the spacing.
        dtype: result dtype (default `floatx()`).
        axis: where the samples axis goes when start/stop are tensors.

    Returns:
        The samples, or `(samples, step)` with `retstep=True`.
    """
    # Computed on the host (CuPy's linspace takes scalars only) and moved.
    s = np.asarray(backend.to_numpy(arr(start)), dtype=np.float64)
    e = np.asarray(backend.to_numpy(arr(stop)), dtype=np.float64)
    out, step = np.linspace(s, e, int(num), endpoint=endpoint, retstep=True,
                            axis=axis)
    out = Tensor(backend.to_device(out, _dt(dtype)))
    if retstep:
        return out, Tensor(backend.to_device(np.asarray(step), _dt(dtype)))
    return out


def eye(N, M=None, k=0, dtype=None):
    """A 2-D tensor with ones on the k-th diagonal."""
    return Tensor(backend.get_xp().eye(N, M, k, dtype=_dt(dtype)))


def identity(n, dtype=None):
    """The `n` x `n` identity matrix (default dtype `floatx()`)."""
    return Tensor(backend.get_xp().identity(int(n), dtype=_dt(dtype)))


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below the k-th diagonal."""
    return Tensor(backend.get_xp().tri(N, M, k, dtype=_dt(dtype)))


@keras_op
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encodes integer labels.

    Args:
        x: integer tensor of class ids.
        num_classes: depth of the encoding.
        axis: where the new axis goes.
        dtype: output dtype (default floatx).

    Returns:
        A float tensor with a new axis of size `num_classes`; ids outside
        `[0, num_classes)` give all-zero rows (as Keras).
    """
    a = to_array(x).astype("int64", copy=False)
    xp = xp_of(a)
    out = (a[..., None] == xp.arange(num_classes)).astype(_dt(dtype))
    if axis != -1:
        out = xp.moveaxis(out, -1, axis)
    return wrap(out)


# -- products -----------------------------------------------------------------

def _parse_einsum(subscripts, n):
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        ins, out = subscripts.split("->")
    else:
        ins = subscripts
        letters = ins.replace(",", "")
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    ins = ins.split(",")
    if len(ins) != n:
        raise ValueError(f"einsum: subscripts {subscripts!r} name {len(ins)} "
                         f"operands, received {n}.")
    return ins, out


class _Einsum(Function):
    def __init__(self, subscripts):
        self.subscripts = subscripts

    def forward(self, *ops):
        xp = xp_of(*ops)
        self.ops = ops
        self.ins, self.out = _parse_einsum(self.subscripts, len(ops))
        return xp.einsum(self.subscripts, *ops, optimize=len(ops) > 2)

    def backward(self, gy):
        xp = xp_of(gy)
        if any("." in s for s in self.ins + [self.out]):
            raise NotImplementedError(
                "einsum: gradients through '...' subscripts are not "
                "supported; spell the axes out with letters.")
        grads = []
        for i, (s, op) in enumerate(zip(self.ins, self.ops)):
            if op.dtype.kind not in "fc" or not self.needs_grad(i):
                grads.append(None)
                continue
            others = [(t, o) for j, (t, o) in enumerate(zip(self.ins,
                                                           self.ops)) if j != i]
            avail = set(self.out) | {c for t, _ in others for c in t}
            target = "".join(dict.fromkeys(c for c in s if c in avail))
            spec = ",".join([self.out] + [t for t, _ in others]) + "->" + target
            g = xp.einsum(spec, gy, *[o for _, o in others],
                          optimize=len(others) > 1)
            if target != s:
                # Letters summed inside this operand only, or repeated
                # (diagonal) letters: broadcast the gradient back.
                if len(set(s)) != len(s):
                    raise NotImplementedError(
                        "einsum: gradients for repeated subscripts within "
                        f"one operand ({s!r}) are not supported.")
                shape = [op.shape[s.index(c)] if c in target else 1
                         for c in s]
                perm = [target.index(c) for c in s if c in target]
                g = g.transpose(perm).reshape(shape)
                g = xp.broadcast_to(g, op.shape)
            grads.append(g)
        return tuple(grads)


@keras_op
def einsum(subscripts, *operands):
    """Einstein summation, differentiable.

    Args:
        subscripts: e.g. `"abc,cde->abde"`.
        *operands: the tensors.
    """
    return _Einsum(subscripts)(*[t_or_a(o) for o in operands])


@keras_op
def tensordot(x1, x2, axes=2):
    """Tensor dot product along the given axes (NumPy semantics)."""
    a, b = arr(x1), arr(x2)
    if isinstance(axes, int):
        ax_a = list(range(a.ndim - axes, a.ndim))
        ax_b = list(range(axes))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, int) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, int) else list(ax_b)
    ax_a = [x % a.ndim for x in ax_a]
    ax_b = [x % b.ndim for x in ax_b]
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    sa = list(letters[:a.ndim])
    sb = list(letters[a.ndim:a.ndim + b.ndim])
    for i, j in zip(ax_a, ax_b):
        sb[j] = sa[i]
    out = [c for i, c in enumerate(sa) if i not in ax_a] + \
        [c for j, c in enumerate(sb) if j not in ax_b]
    return einsum("".join(sa) + "," + "".join(sb) + "->" + "".join(out),
                  x1, x2)


@keras_op
def dot(x1, x2):
    """Dot product with NumPy `dot` semantics."""
    a, b = arr(x1), arr(x2)
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        from gkeras.ops.elementwise import multiply
        return multiply(x1, x2)
    if b.ndim == 1:
        return tensordot(x1, x2, axes=([-1], [0]))
    if a.ndim <= 2 and b.ndim == 2:
        from gkeras.ops.elementwise import Matmul
        # Not `matmul`: Keras's `dot` keeps narrow integer dtypes.
        return Matmul()(t_or_a(x1), t_or_a(x2))
    return tensordot(x1, x2, axes=([-1], [-2]))


@keras_op
def outer(x1, x2):
    """Outer product of two vectors (flattened first)."""
    from gkeras.ops.shape import reshape
    return einsum("i,j->ij", reshape(x1, (-1,)), reshape(x2, (-1,)))


@keras_op
def vdot(x1, x2):
    """Dot product of two flattened tensors."""
    from gkeras.ops.shape import reshape
    return einsum("i,i->", reshape(x1, (-1,)), reshape(x2, (-1,)))


@keras_op
def inner(x1, x2):
    """Inner product over the last axes."""
    return tensordot(x1, x2, axes=([-1], [-1]))


@keras_op
def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm: `gkeras.ops.linalg.norm` (NumPy's
    semantics for every `ord`)."""
    from gkeras.ops.linalg import norm as linalg_norm
    return linalg_norm(x, ord=ord, axis=axis, keepdims=keepdims)


@keras_op
def average(x, axis=None, weights=None):
    """Weighted average along an axis."""
    from gkeras.ops import elementwise as E
    from gkeras.ops import reduction as R
    if weights is None:
        return R.mean(x, axis=axis)
    w = t_or_a(weights)
    a = arr(x)
    if axis is not None and np.ndim(arr(w)) == 1 and a.ndim > 1:
        shape = [1] * a.ndim
        shape[axis] = -1
        from gkeras.ops.shape import reshape
        w = reshape(w, shape)
    return E.divide(R.sum(E.multiply(x, w), axis=axis),
                    R.sum(E.multiply(ones_like(x), w), axis=axis))


def slice(inputs, start_indices, shape):
    """A slice of `shape` starting at `start_indices` (differentiable); a
    size of -1 takes the rest of that axis, as in Keras."""
    from gkeras.ops.shape import getitem
    key = tuple(builtins.slice(int(s), None if int(n) == -1
                               else int(s) + int(n))
                for s, n in zip(start_indices, shape))
    return getitem(inputs, key)


class _SliceUpdate(Function):
    def __init__(self, key):
        self.key = key

    def forward(self, x, u):
        y = x.copy()
        y[self.key] = u
        self.ushape = u.shape
        return y

    def backward(self, gy):
        gx = gy.copy()
        gx[self.key] = 0
        return gx, gy[self.key].reshape(self.ushape)


@keras_op
def slice_update(inputs, start_indices, updates):
    """Returns `inputs` with the block at `start_indices` replaced by
    `updates` (differentiable in both)."""
    u = arr(updates)
    key = tuple(builtins.slice(int(s), int(s) + n)
                for s, n in zip(start_indices, u.shape))
    return _SliceUpdate(key)(t_or_a(inputs), t_or_a(updates))


@keras_op
def scatter_update(inputs, indices, updates, reduction=None):
    """Returns `inputs` with the entries at `indices` set to `updates`.

    Args:
        inputs: the tensor to update (not modified).
        indices: `(num_updates, k)` integer coordinates of the first `k`
            axes.
        updates: the new values, one slice per index.
        reduction: None (replace), or `"add"`, `"max"`, `"min"`, `"mul"`
            to combine the updates with the current values (repeated
            indices combine too).
    """
    a = to_array(inputs).copy()
    idx = tuple(np.asarray(backend.to_numpy(arr(indices))).T)
    u = arr(updates)
    if reduction is None:
        a[idx] = u
    elif reduction == "add":
        backend.kernels_for(a).scatter_add(a, idx, to_array(u, a.dtype))
    elif reduction in ("max", "min", "mul"):
        backend.kernels_for(a).scatter_reduce(
            a, idx, to_array(u, a.dtype),
            "prod" if reduction == "mul" else reduction)
    else:
        raise ValueError(f"Unsupported reduction: {reduction}")
    return wrap(a)


@keras_op
def scatter(indices, values, shape):
    """A zero tensor of `shape` with `values` added at `indices`."""
    v = to_array(values)
    xp = xp_of(v)
    out = xp.zeros(tuple(shape), dtype=v.dtype)
    idx = tuple(backend.to_numpy(arr(indices)).T)
    backend.kernels_for(out).scatter_add(out, idx, v)
    return wrap(out)


def cond(pred, true_fn, false_fn):
    """Calls `true_fn()` if `pred` else `false_fn()` (eager)."""
    return true_fn() if bool(arr(pred)) else false_fn()


def fori_loop(lower, upper, body_fun, init_val):
    """`for i in range(lower, upper): val = body_fun(i, val)` (eager)."""
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Runs `body` while `cond` holds (eager)."""
    single = not isinstance(loop_vars, (list, tuple))
    vs = (loop_vars,) if single else tuple(loop_vars)
    n = 0
    while bool(arr(cond(*vs))):
        if maximum_iterations is not None and n >= maximum_iterations:
            break
        out = body(*vs)
        vs = (out,) if single else tuple(out)
        n += 1
    return vs[0] if single else vs


def unbroadcast_to(g, shape):
    """Sums `g` down to `shape` (exposed for custom Function authors)."""
    return unbroadcast(g, shape)
