"""Matrix factorizations of `keras.ops.linalg`: Cholesky, symmetric and
general eigendecompositions, LU, QR and SVD, with the shared checks of
the linalg ops. Re-exported by `gkeras.ops.linalg` (the namespace).

The backward passes are the standard matrix-calculus results (Murray 2016
for Cholesky; the symmetric eigenproblem; Walter & Lehmann / TensorFlow's
QR gradient; Townsend 2016 for the SVD), each checked against finite
differences in tests/test_ops_linalg.py.
"""

import numpy as np

from gkeras import backend
from gkeras.ops._base import arr, keras_op, to_array, wrap, xp_of
from gkeras.ops.engine import Function


def _T(a):
    return a.swapaxes(-1, -2)


def _float(x):
    """`x` (a Tensor keeps its gradient) with integers cast to floatx."""
    a = arr(x)
    if hasattr(a, "dtype") and a.dtype.kind in "fc":
        return x
    return to_array(x).astype(backend.floatx())


def _check_square(name, x):
    shape = arr(x).shape
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"{name} expects a (batch of) square matrices, "
                         f"received shape {shape}.")


def _check_matrix(name, x):
    shape = arr(x).shape
    if len(shape) < 2:
        raise ValueError("Expected input to have rank >= 2. Received input "
                         f"with shape {shape}.")


# -- factorizations -----------------------------------------------------------

def _phi(x, xp):
    """Lower triangle with the diagonal halved."""
    return xp.tril(x) - 0.5 * (xp.eye(x.shape[-1], dtype=x.dtype) * x)


class _Cholesky(Function):
    def __init__(self, upper):
        self.upper = upper

    def forward(self, a):
        xp = xp_of(a)
        try:
            lo = xp.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            lo = None
        if lo is None or bool(xp.isnan(lo).any()):
            raise ValueError("Cholesky decomposition failed. The input might "
                             "not be a valid positive definite matrix.")
        self.L = lo
        return _T(lo).copy() if self.upper else lo

    def backward(self, gy):
        xp = xp_of(gy)
        L = self.L
        gL = _T(gy) if self.upper else gy
        P = _phi(_T(L) @ gL, xp)
        Linv = xp.linalg.inv(L)
        S = _T(Linv) @ P @ Linv
        # The factorization reads one triangle of a symmetric input; the
        # symmetric gradient is what a symmetric perturbation sees.
        return 0.5 * (S + _T(S))


@keras_op
def cholesky(x, upper=False):
    """Cholesky factor of a (batch of) symmetric positive-definite
    matrices.

    Args:
        x: tensor of shape `(..., M, M)`.
        upper: return the upper factor `U` (`x = U^T U`) instead of the
            lower `L` (`x = L L^T`).

    Raises:
        ValueError: if `x` is not positive definite (as Keras in eager
            mode; on CuPy this check reads one flag back from the device).
    """
    _check_square("cholesky", x)
    return _Cholesky(bool(upper))(_float(x))


class _Eigh(Function):
    def forward(self, a):
        xp = xp_of(a)
        w, v = xp.linalg.eigh(a)
        self.w, self.v = w, v
        self.output_shapes = [w.shape, v.shape]
        self.output_dtype = w.dtype
        self.xp = xp
        return w, v

    def backward(self, gw, gv):
        xp = xp_of(gw)
        w, v = self.w, self.v
        diff = w[..., None, :] - w[..., :, None]  # w_j - w_i
        eye = xp.eye(w.shape[-1], dtype=bool)
        F = xp.where(eye, 0.0, 1.0 / xp.where(eye, 1.0, diff))
        inner = F * (_T(v) @ gv)
        inner = inner + gw[..., None] * xp.eye(w.shape[-1], dtype=w.dtype)
        g = v @ inner @ _T(v)
        return 0.5 * (g + _T(g))


@keras_op
def eigh(x):
    """Eigenvalues (ascending) and eigenvectors of a (batch of) symmetric
    matrices.

    Returns:
        `(eigenvalues, eigenvectors)`, the vectors as columns.
    """
    _check_square("eigh", x)
    return _Eigh()(_float(x))


@keras_op
def eig(x):
    """Eigenvalues and right eigenvectors of a (batch of) square matrices.

    Results are complex where needed. Not differentiable (use `eigh` for
    symmetric matrices). CuPy without `linalg.eig` computes on the host.

    Returns:
        `(eigenvalues, eigenvectors)`.
    """
    _check_square("eig", x)
    a = to_array(_float(x))
    xp = xp_of(a)
    fn = getattr(xp.linalg, "eig", None)
    if fn is None:
        w, v = np.linalg.eig(backend.to_numpy(a))
        return wrap(xp.asarray(w)), wrap(xp.asarray(v))
    w, v = fn(a)
    return wrap(w), wrap(v)


def _lu_factor_one(a, xp):
    """Partial-pivoting LU of one square matrix, LAPACK `getrf` layout."""
    lu = a.copy()
    n = lu.shape[0]
    piv = np.zeros(n, dtype=np.int32)
    for k in range(n):
        p = int(xp.argmax(xp.abs(lu[k:, k]))) + k
        piv[k] = p
        if p != k:
            lu[[k, p]] = lu[[p, k]]
        if lu[k, k] != 0:
            lu[k + 1:, k] /= lu[k, k]
            lu[k + 1:, k + 1:] -= lu[k + 1:, k:k + 1] * lu[k:k + 1, k + 1:]
    return lu, piv


@keras_op
def lu_factor(x):
    """LU factorization with partial pivoting (`scipy.linalg.lu_factor`).

    Args:
        x: tensor of shape `(..., M, M)`.

    Returns:
        `(lu, pivots)`: `L` (unit diagonal, below) and `U` packed in one
        matrix, and the int32 row interchanges (row `i` was swapped with
        row `pivots[i]`). Not differentiable; on CuPy the pivot search
        reads one value back to the host per column.
    """
    _check_square("lu_factor", x)
    a = to_array(_float(x))
    xp = xp_of(a)
    flat = a.reshape((-1,) + a.shape[-2:])
    lus, pivs = [], []
    for m in flat:
        lu, piv = _lu_factor_one(m, xp)
        lus.append(lu)
        pivs.append(piv)
    lu = xp.stack(lus).reshape(a.shape)
    piv = xp.asarray(np.stack(pivs)).reshape(a.shape[:-1])
    return wrap(lu), wrap(piv)


class _QR(Function):
    def __init__(self, mode):
        self.mode = mode

    def forward(self, a):
        xp = xp_of(a)
        q, r = xp.linalg.qr(a, mode=self.mode)
        self.q, self.r = q, r
        self.output_shapes = [q.shape, r.shape]
        self.output_dtype = q.dtype
        self.xp = xp
        return q, r

    def backward(self, gq, gr):
        xp = xp_of(gq)
        q, r = self.q, self.r
        if q.shape[-1] != r.shape[-1]:
            raise NotImplementedError(
                "qr: the gradient is implemented for inputs with at least as "
                "many rows as columns in 'reduced' mode (and square ones in "
                "'complete' mode).")
        qdq = _T(q) @ gq
        rdr = r @ _T(gr)
        tril = xp.tril((qdq - _T(qdq)) + (rdr - _T(rdr)))
        rinv_t = _T(xp.linalg.inv(r))
        ga = q @ (gr + tril @ rinv_t)
        gb = (gq - q @ qdq) @ rinv_t
        return ga + gb


@keras_op
def qr(x, mode="reduced"):
    """QR decomposition of a (batch of) matrices.

    Args:
        x: tensor of shape `(..., M, N)`.
        mode: `"reduced"` (`Q` is `(M, K)`, `K = min(M, N)`) or
            `"complete"` (`Q` is `(M, M)`).

    Returns:
        `(q, r)`.
    """
    if mode not in {"reduced", "complete"}:
        raise ValueError(
            "`mode` argument value not supported. Expected one of "
            f"{{'reduced', 'complete'}}. Received: mode={mode}")
    _check_matrix("qr", x)
    return _QR(mode)(_float(x))


class _SVD(Function):
    def __init__(self, full_matrices, compute_uv):
        self.full, self.uv = full_matrices, compute_uv

    def forward(self, a):
        xp = xp_of(a)
        self.a = a
        u, s, vh = xp.linalg.svd(a, full_matrices=self.full)
        self.u, self.s, self.vh = u, s, vh
        self.xp = xp
        self.output_dtype = s.dtype
        if not self.uv:
            return s
        self.output_shapes = [u.shape, s.shape, vh.shape]
        return u, s, vh

    def backward(self, *gys):
        xp = xp_of(gys[0])
        u, s, vh = self.u, self.s, self.vh
        m, n = self.a.shape[-2:]
        k = s.shape[-1]
        if not self.uv:
            gs = gys[0]
            return (u[..., :, :k] * gs[..., None, :]) @ vh[..., :k, :]
        gu, gs, gvh = gys
        if self.full and m != n:
            raise NotImplementedError(
                "svd: the gradient of U and V with full_matrices=True is "
                "only defined for square inputs; use full_matrices=False.")
        v = _T(vh)
        gv = _T(gvh)
        s2 = s * s
        diff = s2[..., None, :] - s2[..., :, None]  # s_j^2 - s_i^2
        eye = xp.eye(k, dtype=bool)
        F = xp.where(eye, 0.0, 1.0 / xp.where(eye, 1.0, diff))
        utgu = _T(u) @ gu
        vtgv = _T(v) @ gv
        J = F * (utgu - _T(utgu))
        K = F * (vtgv - _T(vtgv))
        S = s[..., None, :] * xp.eye(k, dtype=s.dtype)
        inner = J @ S + S @ K + gs[..., None, :] * xp.eye(k, dtype=s.dtype)
        ga = u @ inner @ vh
        sinv = 1.0 / s
        if m > k:
            ga = ga + (gu - u @ utgu) * sinv[..., None, :] @ vh
        if n > k:
            ga = ga + (u * sinv[..., None, :]) @ _T(gv - v @ vtgv)
        return ga


@keras_op
def svd(x, full_matrices=True, compute_uv=True):
    """Singular value decomposition `x = u @ diag(s) @ vh`.

    Args:
        x: tensor of shape `(..., M, N)`.
        full_matrices: square `u` and `vh` (else thin ones).
        compute_uv: return `(u, s, vh)`; else only `s`.

    Returns:
        `(u, s, vh)`, or the singular values (descending).
    """
    _check_matrix("svd", x)
    return _SVD(bool(full_matrices), bool(compute_uv))(_float(x))
