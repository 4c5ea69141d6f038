"""`keras.ops.linalg`: decompositions, solves, inverses, determinants and
norms, differentiable where Keras's (JAX's) are. The factorizations live
in `linalg_factor.py` and are re-exported here.

Everything works on batches of matrices (leading axes) and on NumPy or
CuPy arrays through the array module's `linalg`. Backward passes use the
standard matrix-calculus results (inverse, determinant, solve, Cholesky,
symmetric eigendecomposition, QR, SVD, pseudo-inverse and least squares);
each is checked against finite differences in the tests.
"""

import numpy as np

from gkeras import backend
from gkeras.ops import elementwise as E
from gkeras.ops import reduction as R
from gkeras.ops._base import arr, keras_op, to_array, unbroadcast, wrap, \
    xp_of
from gkeras.ops.engine import Function, GradientTape, Tensor
from gkeras.ops.linalg_factor import (  # noqa: F401 (the namespace)
    _T, _check_matrix, _check_square, _float, cholesky, eig, eigh,
    lu_factor, qr, svd,
)


# -- inverse, determinants ----------------------------------------------------

class _Inv(Function):
    def forward(self, a):
        self.y = xp_of(a).linalg.inv(a)
        return self.y

    def backward(self, gy):
        yt = _T(self.y)
        return -(yt @ gy @ yt)


@keras_op
def inv(x):
    """Inverse of a (batch of) square matrices.

    Args:
        x: tensor of shape `(..., M, M)`.
    """
    _check_square("inv", x)
    return _Inv()(_float(x))


class _Slogdet(Function):
    def forward(self, a):
        xp = xp_of(a)
        self.a = a
        sign, logabs = xp.linalg.slogdet(a)
        self.output_shapes = [sign.shape, logabs.shape]
        self.output_dtype = logabs.dtype
        self.xp = xp
        return sign, logabs

    def backward(self, gsign, glog):
        inv_t = _T(xp_of(glog).linalg.inv(self.a))
        return glog[..., None, None] * inv_t


@keras_op
def slogdet(x):
    """Sign and natural log of the absolute determinant.

    Args:
        x: tensor of shape `(..., M, M)`.

    Returns:
        `(sign, logabsdet)`; differentiable in `logabsdet`.
    """
    _check_square("slogdet", x)
    return _Slogdet()(_float(x))


@keras_op
def logdet(x):
    """Log-determinant of a (batch of) Hermitian positive-definite matrices
    (`slogdet`'s `logabsdet`)."""
    return slogdet(x)[1]


class _Det(Function):
    def forward(self, a):
        self.a = a
        self.y = xp_of(a).linalg.det(a)
        return self.y

    def backward(self, gy):
        xp = xp_of(gy)
        # d det / dA = det * A^-T; the adjugate where A is singular.
        return (gy * self.y)[..., None, None] * _T(xp.linalg.inv(self.a))


@keras_op
def det(x):
    """Determinant of a (batch of) square matrices.

    Args:
        x: tensor of shape `(..., M, M)`.
    """
    _check_square("det", x)
    return _Det()(_float(x))


# -- solves -------------------------------------------------------------------

def _as_matrix_rhs(a, b):
    """True when `b` is a (batch of) vectors rather than matrices."""
    return b.ndim == a.ndim - 1 or b.ndim == 1


class _Solve(Function):
    def __init__(self, tri=None):
        self.tri = tri  # None, "lower" or "upper"

    def _mask(self, a):
        xp = xp_of(a)
        if self.tri == "lower":
            return xp.tril(a)
        if self.tri == "upper":
            return xp.triu(a)
        return a

    def forward(self, a, b):
        xp = xp_of(a, b)
        self.a = self._mask(a)
        self.vec = _as_matrix_rhs(a, b)
        bm = b[..., None] if self.vec else b
        self.x = xp.linalg.solve(self.a, bm)
        return self.x[..., 0] if self.vec else self.x

    def backward(self, gx):
        xp = xp_of(gx)
        g = gx[..., None] if self.vec else gx
        gb = xp.linalg.solve(_T(self.a), g)
        ga = unbroadcast(self._mask(-(gb @ _T(self.x))), self.a.shape)
        gb = gb[..., 0] if self.vec else gb
        return ga, gb


@keras_op
def solve(a, b):
    """Solves `a @ x = b` for `x`.

    Args:
        a: tensor of shape `(..., M, M)`.
        b: tensor of shape `(..., M)` or `(..., M, K)`.
    """
    _check_square("solve", a)
    return _Solve()(_float(a), _float(b))


@keras_op
def solve_triangular(a, b, lower=False):
    """Solves `a @ x = b` for a triangular `a` (only its lower or upper
    triangle is read).

    Args:
        a: tensor of shape `(..., M, M)`.
        b: tensor of shape `(..., M)` or `(..., M, K)`.
        lower: use the lower triangle of `a` (default: the upper).
    """
    _check_square("solve_triangular", a)
    return _Solve("lower" if lower else "upper")(_float(a), _float(b))


class _Lstsq(Function):
    def __init__(self, rcond):
        self.rcond = rcond

    def forward(self, a, b):
        xp = xp_of(a, b)
        self.a = a
        self.vec = b.ndim == 1
        x = xp.linalg.lstsq(a, b, rcond=self.rcond)[0]
        self.x = x[:, None] if self.vec else x
        self.bm = b[:, None] if self.vec else b
        return x

    def backward(self, gx):
        a, x = self.a, self.x
        m, n = a.shape
        if m < n:
            raise NotImplementedError(
                "lstsq: the gradient of an underdetermined system (more "
                "columns than rows) is not implemented.")
        xp = xp_of(gx)
        g = gx[:, None] if self.vec else gx
        # Full column rank: x = (A^T A)^-1 A^T b.
        gz = xp.linalg.solve(a.T @ a, g)
        r = self.bm - a @ x
        ga = r @ gz.T - a @ gz @ x.T
        gb = a @ gz
        return ga, (gb[:, 0] if self.vec else gb)


@keras_op
def lstsq(a, b, rcond=None):
    """Least-squares solution of `a @ x = b` (minimum norm when
    underdetermined).

    Args:
        a: tensor of shape `(M, N)`.
        b: tensor of shape `(M,)` or `(M, K)`.
        rcond: cut-off ratio for small singular values of `a`.

    Returns:
        The solution `x`, of shape `(N,)` or `(N, K)`.
    """
    if arr(a).ndim != 2:
        raise ValueError(f"lstsq expects a 2-D matrix `a`, received shape "
                         f"{arr(a).shape}.")
    return _Lstsq(rcond)(_float(a), _float(b))


@keras_op
def cholesky_inverse(x, upper=False):
    """Inverse of `A` from its Cholesky factor (`A = L L^T`, or `U^T U`
    with `upper=True`).

    Args:
        x: the triangular factor, shape `(..., M, M)`.
        upper: whether `x` is the upper factor.
    """
    _check_square("cholesky_inverse", x)
    x = _float(x)
    a = arr(x)
    eye = xp_of(a).broadcast_to(xp_of(a).eye(a.shape[-1], dtype=a.dtype),
                                a.shape)
    inv_f = solve_triangular(x, eye, lower=not upper)
    from gkeras.ops.shape import swapaxes
    if upper:
        return E.matmul(inv_f, swapaxes(inv_f, -1, -2))
    return E.matmul(swapaxes(inv_f, -1, -2), inv_f)


class _Pinv(Function):
    def __init__(self, rcond):
        self.rcond = rcond

    def forward(self, a):
        xp = xp_of(a)
        self.a = a
        if self.rcond is None:
            self.p = xp.linalg.pinv(a)
        else:
            self.p = xp.linalg.pinv(a, rcond=self.rcond)
        return self.p

    def backward(self, g):
        xp = xp_of(g)
        a, p = self.a, self.p
        m, n = a.shape[-2:]
        pt = _T(p)
        qm = xp.eye(m, dtype=a.dtype) - a @ p
        rn = xp.eye(n, dtype=a.dtype) - p @ a
        return (-(pt @ g @ pt) + qm @ _T(g) @ p @ pt
                + pt @ p @ _T(g) @ rn)


@keras_op
def pinv(x, rcond=None):
    """Moore-Penrose pseudo-inverse of a (batch of) matrices.

    Args:
        x: tensor of shape `(..., M, N)`.
        rcond: cut-off for small singular values (relative to the largest).
    """
    _check_matrix("pinv", x)
    return _Pinv(rcond)(_float(x))


@keras_op
def matrix_rank(x, tol=None):
    """Rank of a (batch of) matrices: singular values above `tol` (default
    `max(M, N) * eps * max(s)`), as int32."""
    _check_matrix("matrix_rank", x)
    a = to_array(_float(x))
    xp = xp_of(a)
    s = xp.linalg.svd(a, compute_uv=False)
    if tol is None:
        tol = s.max(axis=-1, keepdims=True) * max(a.shape[-2:]) * \
            np.finfo(a.dtype).eps
    else:
        tol = xp.asarray(arr(tol))[..., None] if np.ndim(arr(tol)) else tol
    return wrap((s > tol).sum(axis=-1).astype("int32"))


# -- norms --------------------------------------------------------------------

@keras_op
def norm(x, ord=None, axis=None, keepdims=False):
    """Matrix or vector norm (NumPy's `linalg.norm` semantics).

    Args:
        x: input tensor (integers are computed in `floatx()`).
        ord: the order: for vectors None/2, inf, -inf, 0, or any p (as
            `sum(abs(x)**p)**(1/p)`); for matrices None/'fro', 'nuc', inf,
            -inf, 1, -1, 2, -2.
        axis: an axis (vector norms), a pair of axes (matrix norms), or
            None (the whole tensor: vector norm of 1-D, matrix norm of
            2-D, the flattened 2-norm otherwise when `ord` is None).
        keepdims: keep the reduced axes with size 1.
    """
    x = _float(x)
    nd = arr(x).ndim
    if axis is None:
        if ord is None:
            out = E.sqrt(R.sum(E.square(x)))
            if keepdims:
                from gkeras.ops.shape import reshape
                out = reshape(out, (1,) * nd)
            return out
        if nd == 1:
            axis = (0,)
        elif nd == 2:
            axis = (0, 1)
        else:
            raise ValueError("norm: improper number of dimensions to norm; "
                             "give `axis` for inputs of rank > 2 with an "
                             f"`ord` (received ord={ord!r}, rank {nd}).")
    if isinstance(axis, int):
        axis = (axis,)
    axis = tuple(int(a) % nd for a in axis)
    if len(axis) == 1:
        return _vector_norm(x, ord, axis[0], keepdims)
    if len(axis) == 2:
        return _matrix_norm(x, ord, axis, keepdims)
    raise ValueError(f"norm: axis must be an int or a pair, received "
                     f"{axis}.")


def _vector_norm(x, ord, axis, keepdims):
    ax = E.abs(x)
    if ord is None or ord == 2:
        return E.sqrt(R.sum(E.square(x), axis=axis, keepdims=keepdims))
    if ord in (np.inf, "inf"):
        return R.max(ax, axis=axis, keepdims=keepdims)
    if ord in (-np.inf, "-inf"):
        return R.min(ax, axis=axis, keepdims=keepdims)
    if ord == 0:
        a = arr(x)
        return wrap((a != 0).sum(axis=axis, keepdims=keepdims).astype(
            a.dtype))
    if isinstance(ord, str):
        raise ValueError(f"norm: invalid norm order {ord!r} for vectors.")
    if ord == 1:
        return R.sum(ax, axis=axis, keepdims=keepdims)
    p = float(ord)
    return E.power(R.sum(E.power(ax, p), axis=axis, keepdims=keepdims),
                   1.0 / p)


def _matrix_norm(x, ord, axis, keepdims):
    from gkeras.ops.shape import moveaxis, reshape
    r0, c0 = axis
    if ord in (None, "fro", "f"):
        return E.sqrt(R.sum(E.square(x), axis=axis, keepdims=keepdims))
    if ord in ("nuc", 2, -2):
        m = moveaxis(x, (r0, c0), (-2, -1))
        s = svd(m, compute_uv=False)
        out = (R.sum(s, axis=-1) if ord == "nuc" else
               R.max(s, axis=-1) if ord == 2 else R.min(s, axis=-1))
    elif ord in (1, -1):
        col = R.sum(E.abs(x), axis=r0, keepdims=True)
        f = R.max if ord == 1 else R.min
        out = f(col, axis=axis)
    elif ord in (np.inf, -np.inf):
        row = R.sum(E.abs(x), axis=c0, keepdims=True)
        f = R.max if ord == np.inf else R.min
        out = f(row, axis=axis)
    else:
        raise ValueError(f"norm: invalid norm order {ord!r} for matrices.")
    if keepdims:
        shape = [1 if i in axis else s for i, s in enumerate(arr(x).shape)]
        out = reshape(out, shape)
    return out


# -- forward-mode product -----------------------------------------------------

def jvp(fun, primals, tangents, has_aux=False):
    """Jacobian-vector product of `fun` at `primals` along `tangents`.

    gkeras differentiates in reverse mode, so this computes the product
    exactly from one reverse pass per output element (each row of the
    Jacobian): cheap for small outputs, costly for large ones.

    Args:
        fun: a function of tensors returning a tensor, or a list/tuple of
            them (with `has_aux`, a pair `(output, aux)`).
        primals: tuple/list of the arguments of `fun`.
        tangents: tuple/list of tangents shaped like `primals`.
        has_aux: whether `fun` returns `(output, aux)`.

    Returns:
        `(primals_out, tangents_out)` (and `aux` when `has_aux`).

    Example:

    >>> y, t = jvp(ops.sin, (0.1,), (0.2,))  # t = cos(0.1) * 0.2
    """
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: primals and tangents must have the same "
                         f"length, received {len(primals)} and "
                         f"{len(tangents)}.")
    xs = [to_array(_float(p)) for p in primals]
    ts = [np.asarray(backend.to_numpy(to_array(t)), dtype=np.float64)
          for t in tangents]

    def run():
        inputs = [Tensor(x) for x in xs]
        with GradientTape() as tape:
            for t in inputs:
                tape.watch(t)
            out = fun(*inputs)
        aux = None
        if has_aux:
            out, aux = out
        return inputs, tape, out, aux

    _, _, out0, aux0 = run()
    flat_out = list(out0) if isinstance(out0, (list, tuple)) else [out0]
    tangents_out = []
    for k, o in enumerate(flat_out):
        o_arr = arr(o)
        xp = xp_of(o_arr)
        res = np.zeros(np.shape(o_arr), dtype=np.float64).reshape(-1)
        for i in range(res.size):
            inputs, tape, out, _ = run()
            outs = list(out) if isinstance(out, (list, tuple)) else [out]
            seed = xp.zeros(o_arr.shape, dtype=o_arr.dtype).reshape(-1)
            seed[i] = 1
            grads = tape.gradient(outs[k], inputs,
                                  output_gradients=seed.reshape(o_arr.shape))
            res[i] = sum(float(np.sum(backend.to_numpy(g) * t))
                         for g, t in zip(grads, ts) if g is not None)
        tangents_out.append(wrap(xp.asarray(
            res.reshape(np.shape(o_arr)).astype(o_arr.dtype))))
    t_out = (type(out0)(tangents_out) if isinstance(out0, (list, tuple))
             else tangents_out[0])
    p_out = out0
    if has_aux:
        return p_out, t_out, aux0
    return p_out, t_out
