"""The define-by-run autograd engine: `Tensor`, `Function`, `GradientTape`.

A `Tensor` wraps an array of the backend (NumPy or CuPy). A `Function` is a
differentiable primitive: `forward` maps arrays to arrays (keeping on `self`
what `backward` needs), `backward` maps output gradients to input
gradients. Heavy primitives (a convolution, a whole LSTM sequence,
attention, batch normalization, softmax cross-entropy) are single
Functions with hand-written backward, so a training step is a short graph
of fused nodes (the function-node model of Chainer and DeZero).

Recording happens only while a `GradientTape` is active and an input
requires a gradient; `predict`, `evaluate` and a plain `model(x)` build no
graph.
"""

import heapq
import itertools

import numpy as np

from gkeras.backend import get_array_module

_uid = itertools.count(1)


class _TapeState:
    """Process-wide recording state (training steps are single-threaded)."""

    __slots__ = ("recording",)

    def __init__(self):
        self.recording = 0


_STATE = _TapeState()


def is_recording():
    """True while a `GradientTape` is recording operations."""
    return _STATE.recording > 0


class Tensor:
    """An array with an optional link to the `Function` that produced it.

    gkeras ops return `Tensor`s; they behave like arrays of the backend
    (arithmetic operators, indexing, `shape`, `dtype`, `numpy()`, NumPy
    interop through `__array__`).

    Args:
        data: a NumPy or CuPy array.
        requires_grad: whether gradients should flow to this tensor.
    """

    __slots__ = ("data", "creator", "requires_grad", "_id", "_keras_mask",
                 "__weakref__")
    # NumPy must defer to our reflected operators (`ndarray + Tensor`).
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False):
        self.data = data
        self.creator = None
        self.requires_grad = requires_grad
        self._id = 0
        self._keras_mask = None

    # -- array-like surface -------------------------------------------------
    @property
    def shape(self):
        """The shape, a tuple of ints."""
        return self.data.shape

    @property
    def ndim(self):
        """Number of dimensions."""
        return self.data.ndim

    @property
    def dtype(self):
        """The dtype of the underlying array."""
        return self.data.dtype

    @property
    def size(self):
        """Number of elements."""
        return self.data.size

    def numpy(self):
        """Returns the value as a NumPy array (copied from the GPU if needed)."""
        d = self.data
        return d.get() if hasattr(d, "get") and not isinstance(
            d, np.ndarray) else np.asarray(d)

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype, copy=False)

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __bool__(self):
        return bool(self.data)

    def __float__(self):
        return float(self.data)

    def __int__(self):
        return int(self.data)

    def __index__(self):
        return int(self.data)

    def __hash__(self):
        return id(self)

    def __repr__(self):
        body = np.array2string(self.numpy(), separator=", ", threshold=20)
        return (f"<Tensor shape={tuple(self.shape)}, dtype={self.dtype}, "
                f"value=\n{body}>")

    def __format__(self, spec):
        if self.data.ndim == 0:
            return format(self.data.item(), spec)
        return format(str(self), spec)

    def __setitem__(self, key, value):
        raise TypeError(
            "gkeras tensors are immutable: item assignment is not supported. "
            "Use `gkeras.ops.where(...)`, `gkeras.ops.slice_update(...)` or "
            "`gkeras.ops.scatter_update(...)` instead.")

    def __reduce__(self):
        return (Tensor, (self.numpy(),))


def as_array(x):
    """Returns the raw array of a Tensor, or `x` itself."""
    return x.data if isinstance(x, Tensor) else x


class Function:
    """A differentiable primitive.

    Subclasses implement `forward(*arrays)` (returning one array or a tuple)
    and `backward(*grads)` (one gradient per output in, one per input out;
    `None` where an input gets no gradient). Constructor arguments carry
    non-tensor parameters (axes, strides, ...).

    Example:

    ```python
    class Square(Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, gy):
            return 2 * self.x * gy
    ```
    """

    # Positions of inputs that never get a gradient (indices, masks).
    nondiff_inputs = ()

    # True for primitives that handle float16/bfloat16 NumPy arrays
    # themselves (a cast); the others compute them in float32 (see
    # `_forward_half`).
    half_native = False

    def __call__(self, *inputs):
        arrays = [x.data if isinstance(x, Tensor) else x for x in inputs]
        half = _HALF_USED[0] and not self.half_native and \
            _half_dtype_of(arrays)
        if half:
            ys = self._forward_half(arrays, half)
        else:
            ys = self.forward(*arrays)
        multi = isinstance(ys, tuple)
        if not multi:
            ys = (ys,)
        if _STATE.recording and any(
                isinstance(x, Tensor) and x.requires_grad for x in inputs):
            self.inputs = inputs
            gen = 0
            for x in inputs:
                if isinstance(x, Tensor) and x.creator is not None:
                    g = x.creator.generation
                    if g >= gen:
                        gen = g + 1
            self.generation = gen
            outs = []
            ids = []
            for y in ys:
                t = Tensor(y, True)
                t.creator = self
                t._id = next(_uid)
                outs.append(t)
                ids.append(t._id)
            self.output_ids = ids
        else:
            outs = [Tensor(y) for y in ys]
        return tuple(outs) if multi else outs[0]

    def _forward_half(self, arrays, half):
        """Runs `forward` on float16/bfloat16 NumPy inputs in float32.

        NumPy has no fast half-precision GEMM or convolution and ml_dtypes'
        bfloat16 has no BLAS at all, so on the CPU each primitive upcasts
        its half inputs to float32, computes, and rounds its float results
        to the half dtype: float32 accumulation with a half-precision
        result per primitive, as XLA does on the CPU (and as the GPU
        kernels do in registers). `backward` runs the same way
        (`_backward_half`). CuPy arrays never come here: the GPU kernels
        take half precision directly.
        """
        self._gk_half = (half, [getattr(a, "dtype", None) for a in arrays])
        ys = self.forward(*[a.astype(np.float32) if getattr(
            a, "dtype", None) == half else a for a in arrays])
        with np.errstate(over="ignore"):  # inf, as a half op would give
            if isinstance(ys, tuple):
                return tuple(y.astype(half) if getattr(y, "dtype", None)
                             == np.float32 else y for y in ys)
            return ys.astype(half) if ys.dtype == np.float32 else ys

    def _backward_half(self, gys):
        half, dtypes = self._gk_half
        gys = [g.astype(np.float32) if g is not None and g.dtype == half
               else g for g in gys]
        gxs = self.backward(*gys)
        single = not isinstance(gxs, tuple)
        gxs = (gxs,) if single else gxs
        # Overflow to inf is expected here (loss scaling finds it).
        with np.errstate(over="ignore"):
            out = tuple(g.astype(dt) if g is not None and dt is not None
                        and getattr(g, "dtype", dt) != dt and dt == half
                        else g for g, dt in zip(gxs, dtypes))
        return out[0] if single else out

    def forward(self, *xs):
        raise NotImplementedError

    def backward(self, *gys):
        raise NotImplementedError(
            f"{type(self).__name__} has no gradient defined.")

    def needs_grad(self, i):
        """Whether input `i` needs a gradient (valid inside `backward`).

        Lets a backward skip work nobody uses, such as the data gradient
        of a model's first layer, whose input is the batch itself.
        """
        inputs = getattr(self, "inputs", None)
        if inputs is None:
            return True
        x = inputs[i]
        return isinstance(x, Tensor) and x.requires_grad


# Set once any float16/bfloat16 tensor is made (a cast, a mixed precision
# policy), so that float32-only programs skip the half-precision check.
_HALF_USED = [False]
_HALF_DTYPES = None


def _half_dtype_of(arrays):
    """The half dtype when every float NumPy input has it (else None)."""
    global _HALF_DTYPES
    if _HALF_DTYPES is None:
        from gkeras import backend
        _HALF_DTYPES = (np.dtype(np.float16), backend.bfloat16())
    half = None
    for a in arrays:
        dt = getattr(a, "dtype", None)
        if dt is None:
            continue
        if dt in _HALF_DTYPES:
            if type(a) is not np.ndarray or (half is not None and
                                             dt != half):
                return None
            half = dt
        elif dt.kind == "f":
            return None
    return half


def _leaf_key(t):
    if t._id == 0:
        t._id = next(_uid)
    return t._id


def backward(loss, sources, output_grad=None):
    """Computes d`loss`/d`source` for each source tensor.

    Args:
        loss: the tensor to differentiate (any shape; its gradient seed is
            ones, or `output_grad`).
        sources: list of tensors (Variables or watched tensors).
        output_grad: optional seed gradient for `loss`.

    Returns:
        A list of arrays (or None where a source does not affect `loss`).
    """
    if _HALF_USED[0]:
        # Half-precision gradients of a scaled loss overflow by design: the
        # LossScaleOptimizer sees the inf/NaN and skips the step, so NumPy
        # should not warn about them.
        with np.errstate(over="ignore", invalid="ignore"):
            return _backward(loss, sources, output_grad)
    return _backward(loss, sources, output_grad)


def _backward(loss, sources, output_grad):
    keys = [_leaf_key(s) for s in sources]
    if not isinstance(loss, Tensor) or loss.creator is None:
        return [None] * len(sources)
    xp = get_array_module(loss.data)
    seed = xp.ones_like(loss.data) if output_grad is None else \
        as_array(output_grad)
    grads = {loss._id: seed}
    heap = [(-loss.creator.generation, id(loss.creator), loss.creator)]
    seen = {id(loss.creator)}
    wanted = set(keys)
    result = {}
    owned = set()
    while heap:
        _, _, f = heapq.heappop(heap)
        for i in f.output_ids:
            if i in wanted:  # an intermediate tensor asked for directly
                result[i] = grads.get(i)
        gys = [grads.pop(i, None) for i in f.output_ids]
        if all(g is None for g in gys):
            f.inputs = None
            continue
        if len(gys) > 1 and any(g is None for g in gys):
            # Fill missing output grads with zeros so backward sees arrays.
            gys = [g if g is not None else _zeros_like_output(f, k)
                   for k, g in enumerate(gys)]
        gxs = f._backward_half(gys) if getattr(f, "_gk_half", None) \
            else f.backward(*gys)
        if not isinstance(gxs, tuple):
            gxs = (gxs,)
        for x, gx in zip(f.inputs, gxs):
            if gx is None or not isinstance(x, Tensor) or not x.requires_grad:
                continue
            if x.creator is None:
                k = x._id
                raw = getattr(x, "_raw", None) if _HALF_USED[0] else None
                if raw is not None and gx.dtype != raw.dtype and \
                        gx.dtype.itemsize == 2:
                    # A variable read autocast to float16/bfloat16: its
                    # gradient is the cast's, back in the variable's dtype.
                    gx = gx.astype(raw.dtype)
                if k in wanted:
                    prev = result.get(k)
                    result[k] = gx if prev is None else prev + gx
                continue
            k = x._id
            prev = grads.get(k)
            if prev is None:
                grads[k] = gx
            elif k in owned and prev.shape == gx.shape and \
                    prev.dtype == gx.dtype:
                prev += gx
            else:
                # A fresh sum: later contributions (a tensor feeding the
                # query, key, value and the residual of a block) add into
                # it in place. The first `gx` may be shared (Add hands the
                # same array to both inputs) and is never written.
                grads[k] = prev + gx
                owned.add(k)
            c = x.creator
            if id(c) not in seen:
                seen.add(id(c))
                heapq.heappush(heap, (-c.generation, id(c), c))
        # Free the graph as we go: backward runs once per tape.
        f.inputs = None
    return [result.get(k) for k in keys]


def _zeros_like_output(f, k):
    shapes = getattr(f, "output_shapes", None)
    if shapes is None:
        raise RuntimeError(
            f"{type(f).__name__} received no gradient for output {k}; "
            "multi-output functions must set `output_shapes`/`output_dtype`.")
    xp = getattr(f, "xp", np)
    return xp.zeros(shapes[k], dtype=getattr(f, "output_dtype", "float32"))


class GradientTape:
    """Records operations for automatic differentiation.

    Example:

    ```python
    x = gkeras.Variable(3.0)
    with GradientTape() as tape:
        y = x * x
    tape.gradient(y, [x])  # [6.0]
    ```

    Args:
        persistent: accepted for TensorFlow-style code; gkeras frees the
            graph after the first `gradient` call either way, so a second
            call raises.
    """

    def __init__(self, persistent=False):
        self.persistent = persistent
        self._used = False
        self._watched = []
        self._inside = False

    def __enter__(self):
        _STATE.recording += 1
        self._inside = True
        return self

    def __exit__(self, *exc):
        _STATE.recording -= 1
        self._inside = False
        return False

    def watch(self, tensor):
        """Makes a (leaf) tensor require gradients from here on."""
        if not isinstance(tensor, Tensor):
            raise TypeError(f"GradientTape.watch expects a Tensor, received "
                            f"{type(tensor).__name__}.")
        tensor.requires_grad = True
        self._watched.append(tensor)
        return tensor

    def gradient(self, target, sources, output_gradients=None):
        """Returns the gradients of `target` with respect to `sources`.

        Args:
            target: a Tensor (usually the scalar loss).
            sources: a Tensor/Variable or a list of them.
            output_gradients: optional seed gradient.

        Returns:
            Arrays shaped like the sources (None where unconnected), in a
            list when `sources` is a list. They are arrays of the backend,
            as Keras returns its backend's tensors: NumPy arrays on the
            CPU, CuPy arrays on the GPU. Convert with
            `gkeras.ops.convert_to_numpy` (works on both); `np.asarray` on
            a CuPy array raises, as in CuPy itself.
        """
        if self._used:
            raise RuntimeError("GradientTape.gradient can only be called once "
                               "per tape (the graph is freed after backward).")
        if _STATE.recording - (1 if self._inside else 0) > 0:
            # Under an outer tape, TensorFlow records this gradient so the
            # outer tape can differentiate it (a gradient penalty, as in
            # WGAN-GP). gkeras's backward passes are not differentiable:
            # the outer gradient would silently miss this term.
            raise NotImplementedError(
                "GradientTape.gradient was called while an outer "
                "GradientTape is recording. gkeras does not compute "
                "gradients of gradients (nested tapes, e.g. a gradient "
                "penalty): the result would not be differentiable by the "
                "outer tape. If you do not need its derivative, call "
                "`gradient` after leaving the outer tape's `with` block.")
        self._used = True
        single = not isinstance(sources, (list, tuple))
        srcs = [sources] if single else list(sources)
        grads = backward(target, srcs, output_gradients)
        return grads[0] if single else grads


class no_grad:
    """Context manager that suspends recording (inference inside a tape)."""

    def __enter__(self):
        self._saved = _STATE.recording
        _STATE.recording = 0
        return self

    def __exit__(self, *exc):
        _STATE.recording = self._saved
        return False
