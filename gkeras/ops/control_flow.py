"""Control flow and autodiff helpers of `keras.ops` (`keras.ops.core`):
`map`, `scan`, `associative_scan`, `switch`, `vectorized_map`,
`custom_gradient`.

gkeras runs eagerly, so the loops are Python loops over slices made with
differentiable ops: gradients flow through every iteration, and the
results equal those of Keras's compiled loops. (`cond`, `fori_loop`,
`while_loop` and `stop_gradient` live in `core.py`.)
"""

import builtins
import functools
import importlib
import re

import numpy as np

from gkeras import backend
from gkeras.ops._base import arr, keras_op, t_or_a, to_array
from gkeras.ops.engine import Function, Tensor, no_grad
from gkeras.ops.symbolic import flatten, map_structure

# `gkeras.ops.shape` is shadowed by the `shape` op in the package.
S = importlib.import_module("gkeras.ops.shape")


def _tensor(x):
    """`x` as a Tensor (a Tensor is kept, so gradients flow)."""
    if x is None:
        return None
    return x if isinstance(x, Tensor) else Tensor(t_or_a(x))


def pack_like(structure, leaves):
    """Rebuilds `structure` (nested lists/tuples/dicts) from flat `leaves`."""
    it = iter(leaves)
    return map_structure(lambda _: next(it), structure)


def _leading(name, leaves):
    sizes = {int(arr(x).shape[0]) for x in leaves}
    if len(sizes) != 1:
        raise ValueError(f"{name}: all inputs must have the same size along "
                         f"axis 0, received sizes {sorted(sizes)}.")
    return sizes.pop()


def _stack_outputs(name, outs):
    """Stacks a list of same-structured outputs leaf by leaf."""
    if not outs:
        return outs
    first = outs[0]
    if first is None:
        return None
    flats = [flatten(o) for o in outs]
    n = len(flats[0])
    if any(len(f) != n for f in flats):
        raise ValueError(f"{name}: every iteration must return the same "
                         "structure.")
    stacked = [S.stack([t_or_a(f[i]) for f in flats], axis=0)
               for i in range(n)]
    return pack_like(first, stacked)


@keras_op
def map(f, xs):
    """Applies `f` to each slice of `xs` along axis 0 and stacks the
    results.

    Args:
        f: function of one slice (a tensor or a nested structure).
        xs: tensor, or nested structure of tensors with the same leading
            size.

    Returns:
        The stacked outputs of `f`, with the structure `f` returns.

    Example:

    >>> ops.map(lambda x: x * x, ops.arange(3))  # [0, 1, 4]
    """
    leaves = [_tensor(x) for x in flatten(xs)]
    n = _leading("map", leaves)
    outs = [f(pack_like(xs, [x[i] for x in leaves])) for i in range(n)]
    return _stack_outputs("map", outs)


@keras_op
def vectorized_map(function, elements):
    """Runs `function` on each slice of `elements` along axis 0 and stacks
    the results (the same values as Keras's vectorized version).

    Args:
        function: function of one slice (tensor or nested structure).
        elements: tensor or nested structure of tensors.
    """
    return map(function, elements)


@keras_op
def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Loops `carry, y = f(carry, x)` over the slices of `xs`.

    Args:
        f: function `(carry, x) -> (new_carry, y)`; `new_carry` has the
            structure, shapes and dtypes of `carry`; `y` may be None.
        init: the initial carry (tensor or nested structure).
        xs: tensor or nested structure scanned along axis 0 (None: `x` is
            None and `length` gives the number of steps).
        length: number of steps (checked against `xs` when both given).
        reverse: scan from the end (outputs still line up with `xs`).
        unroll: a positive int or bool, the loop-unrolling factor of
            compiled backends; it never changes results, and an eager loop
            has nothing to unroll.

    Returns:
        `(final_carry, stacked_ys)`.
    """
    if not isinstance(unroll, bool) and (not isinstance(unroll, int)
                                         or unroll < 1):
        raise ValueError(f"scan: `unroll` must be a positive integer or "
                         f"boolean. Received: unroll={unroll}")
    leaves = None if xs is None else [_tensor(x) for x in flatten(xs)]
    if leaves:
        n = _leading("scan", leaves)
        if length is not None and int(length) != n:
            raise ValueError(f"scan: length={length} does not match the "
                             f"leading size {n} of xs.")
    elif length is None:
        raise ValueError("scan: give `xs` or `length`.")
    else:
        n = int(length)
    carry = map_structure(_tensor, init)
    ys = [None] * n
    order = range(n - 1, -1, -1) if reverse else range(n)
    for i in order:
        x = None if xs is None else pack_like(xs, [t[i] for t in leaves])
        out = f(carry, x)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError("scan: `f` must return a pair (carry, y); "
                            f"received {type(out).__name__}.")
        carry, ys[i] = out
    if n == 0 or ys[0] is None:
        return carry, None
    return carry, _stack_outputs("scan", ys)


def _slice(x, axis, sl):
    key = [builtins.slice(None)] * arr(x).ndim
    key[axis] = sl
    return S.getitem(x, tuple(key))


def _interleave(a, b, axis):
    """`a` at the even positions and `b` at the odd ones along `axis`."""
    na, nb = arr(a).shape[axis], arr(b).shape[axis]
    tail = None
    if na == nb + 1:
        tail = _slice(a, axis, builtins.slice(na - 1, na))
        a = _slice(a, axis, builtins.slice(0, na - 1))
    pair = S.stack([a, b], axis=axis + 1)
    shape = list(arr(a).shape)
    shape[axis] = 2 * nb
    out = S.reshape(pair, shape)
    return out if tail is None else S.concatenate([out, tail], axis=axis)


@keras_op
def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive prefix scan with an associative binary function.

    Uses the parallel (odd/even) algorithm of JAX, so `f` is called on
    whole slices of `elems` (about `2 log2(n)` calls, not `n`).

    Args:
        f: associative function of two structures like `elems`, applied
            element-wise along `axis` (e.g. `ops.add`).
        elems: tensor or nested structure of tensors with the same size
            along `axis`.
        reverse: scan from the end.
        axis: the scanned axis.

    Returns:
        The prefix combinations, structured like `elems`.

    Example:

    >>> ops.associative_scan(lambda x, y: x + y, ops.arange(5))
    # [0, 1, 3, 6, 10]
    """
    leaves = [t_or_a(x) for x in flatten(elems)]
    if not leaves:
        return elems
    nd = arr(leaves[0]).ndim
    ax = axis % nd
    sizes = {int(arr(x).shape[ax]) for x in leaves}
    if len(sizes) != 1:
        raise ValueError("associative_scan: all elems must have the same "
                         f"size along axis {axis}, received {sorted(sizes)}.")

    def combine(a, b):
        out = f(pack_like(elems, a), pack_like(elems, b))
        return [t_or_a(t) for t in flatten(out)]

    def run(xs):
        n = arr(xs[0]).shape[ax]
        if n < 2:
            return xs
        red = combine([_slice(x, ax, builtins.slice(0, -1, 2)) for x in xs],
                      [_slice(x, ax, builtins.slice(1, None, 2)) for x in xs])
        odd = run(red)
        if n % 2 == 0:
            even = combine([_slice(o, ax, builtins.slice(0, -1)) for o in odd],
                           [_slice(x, ax, builtins.slice(2, None, 2))
                            for x in xs])
        else:
            even = combine(odd, [_slice(x, ax, builtins.slice(2, None, 2))
                                 for x in xs])
        even = [S.concatenate([_slice(x, ax, builtins.slice(0, 1)), e],
                              axis=ax) for x, e in zip(xs, even)]
        return [_interleave(e, o, ax) for e, o in zip(even, odd)]

    if reverse:
        leaves = [S.flip(x, ax) for x in leaves]
    out = run(leaves)
    if reverse:
        out = [S.flip(x, ax) for x in out]
    return pack_like(elems, out)


def _parse_signature(signature):
    def dims(side):
        return [tuple(d for d in g.replace(" ", "").split(",") if d)
                for g in re.findall(r"\(([^()]*)\)", side)]
    if "->" not in signature:
        raise ValueError(f"vectorize: invalid signature {signature!r}; "
                         "expected e.g. '(n),(n)->()'.")
    left, right = signature.split("->")
    return dims(left), dims(right)


def vectorize(pyfunc, *, excluded=None, signature=None):
    """Turns a function of scalars (or of core sub-arrays, with a
    `signature`) into one that maps over broadcast inputs, like
    `numpy.vectorize`.

    Args:
        pyfunc: the function to vectorize.
        excluded: positions or keyword names of arguments passed through
            unchanged (not vectorized).
        signature: a generalized-ufunc signature such as `"(n),(n)->()"`;
            without one, `pyfunc` sees 0-d slices.

    Returns:
        The vectorized function; it is differentiable where `pyfunc` is.

    Example:

    >>> f = ops.vectorize(lambda a, b: a + b)
    >>> f(ops.ones((2, 1)), ops.arange(3))  # shape (2, 3)
    """
    excluded = set(excluded or ())
    core_in = None if signature is None else _parse_signature(signature)[0]

    @functools.wraps(pyfunc)
    def wrapped(*args, **kwargs):
        vec_pos = [i for i in range(len(args)) if i not in excluded]
        vec_kw = [k for k in kwargs if k not in excluded]
        tensors = [_tensor(args[i]) for i in vec_pos] + \
            [_tensor(kwargs[k]) for k in vec_kw]
        cores = core_in if signature is not None else [()] * len(tensors)
        if len(cores) != len(tensors):
            raise ValueError(
                f"vectorize: the signature {signature!r} has {len(cores)} "
                f"inputs but {len(tensors)} vectorized arguments were given.")
        loops = []
        for t, c in zip(tensors, cores):
            shp = arr(t).shape
            loops.append(shp[:len(shp) - len(c)])
        loop = tuple(np.broadcast_shapes(*loops)) if loops else ()
        full = [S.broadcast_to(t, loop + tuple(arr(t).shape[len(lp):]))
                for t, lp in zip(tensors, loops)]
        outs = []
        for idx in np.ndindex(*loop):
            a = list(args)
            kw = dict(kwargs)
            parts = [f[idx] if idx else f for f in full]
            for i, p in zip(vec_pos, parts):
                a[i] = p
            for k, p in zip(vec_kw, parts[len(vec_pos):]):
                kw[k] = p
            outs.append(pyfunc(*a, **kw))
        if not loop:
            return outs[0]
        stacked = _stack_outputs("vectorize", outs)
        leaves = [S.reshape(t, loop + tuple(arr(t).shape[1:]))
                  for t in flatten(stacked)]
        return pack_like(stacked, leaves)

    return wrapped


def switch(index, branches, *operands):
    """Calls `branches[index](*operands)`, with `index` clamped into range
    (as Keras's `switch`).

    Args:
        index: an int (or scalar int tensor).
        branches: a list of functions with the same signature.
        *operands: the arguments of the chosen branch.
    """
    if not branches:
        raise ValueError("switch: `branches` must not be empty.")
    i = int(backend.to_numpy(arr(index)))
    i = builtins.min(builtins.max(i, 0), len(branches) - 1)
    return branches[i](*operands)


class _CustomGradient(Function):
    def __init__(self, outputs, grad_fn, n_out):
        self.outputs, self.grad_fn, self.n_out = outputs, grad_fn, n_out

    def forward(self, *inputs):
        self.input_specs = [(getattr(x, "shape", ()),
                             getattr(x, "dtype", None)) for x in inputs]
        outs = tuple(o.data if isinstance(o, Tensor) else o
                     for o in self.outputs)
        self.output_shapes = [o.shape for o in outs]
        self.output_dtype = outs[0].dtype
        from gkeras.ops._base import xp_of
        self.xp = xp_of(outs[0])
        return outs if self.n_out > 1 else outs[0]

    def backward(self, *gys):
        with no_grad():
            grads = self.grad_fn(*[Tensor(g) for g in gys])
        if not isinstance(grads, (list, tuple)):
            grads = (grads,)
        if len(grads) != len(self.input_specs):
            raise ValueError(
                f"custom_gradient: the gradient function returned "
                f"{len(grads)} gradients for {len(self.input_specs)} "
                "tensor inputs.")
        out = []
        for g, (shape, _) in zip(grads, self.input_specs):
            if g is None:
                out.append(None)
                continue
            g = arr(g)
            if getattr(g, "shape", None) != tuple(shape):
                from gkeras.ops._base import xp_of
                g = xp_of(g).broadcast_to(g, shape)
            out.append(g)
        return tuple(out)


def custom_gradient(f):
    """Decorator giving a function a user-defined gradient.

    `f(*args)` returns `(outputs, grad_fn)`; `grad_fn(*upstream)` receives
    the gradient of each output and returns one gradient per tensor
    argument of `f` (a single one when there is one argument).

    Example:

    ```python
    @ops.custom_gradient
    def log1pexp(x):
        e = ops.exp(x)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))

        return ops.log(1 + e), grad
    ```
    """
    @functools.wraps(f)
    def wrapper(*args):
        with no_grad():
            result = f(*args)
        if not isinstance(result, (tuple, list)) or len(result) != 2 or \
                not callable(result[1]):
            raise TypeError(
                f"custom_gradient: {getattr(f, '__name__', 'f')} must return "
                "a pair (outputs, grad_fn).")
        outputs, grad_fn = result
        multi = isinstance(outputs, (tuple, list))
        outs = list(outputs) if multi else [outputs]
        outs = [o if isinstance(o, Tensor) else Tensor(to_array(o))
                for o in outs]
        tensors = [t_or_a(a) for a in args]
        y = _CustomGradient(outs, grad_fn, len(outs))(*tensors)
        if multi:
            return type(outputs)(y) if isinstance(y, tuple) else [y]
        return y

    return keras_op(wrapper)
