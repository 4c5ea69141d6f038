"""keras.ops.linalg: values against NumPy float64 and identities, gradients
against finite differences (symmetric inputs for the factorizations that
read one triangle)."""

import numpy as np
import pytest

from gkeras import ops
from gkeras.ops import linalg
from harness import check_grad

rng = np.random.default_rng(5)


def r(*shape):
    return rng.uniform(-1, 1, size=shape)


def npv(t):
    return np.asarray(t)


def spd(*batch, n=3):
    b = r(*batch, n, n)
    return b @ np.swapaxes(b, -1, -2) + n * np.eye(n)


def test_namespace_is_the_module():
    assert ops.linalg is linalg
    for name in ("cholesky", "det", "inv", "solve", "svd", "qr", "norm"):
        assert getattr(ops, name) is getattr(linalg, name)


def test_inv_det_slogdet():
    a = r(2, 3, 3) + 2 * np.eye(3)
    np.testing.assert_allclose(npv(ops.inv(a)), np.linalg.inv(a), rtol=1e-10)
    np.testing.assert_allclose(npv(ops.det(a)), np.linalg.det(a), rtol=1e-10)
    sign, logabs = ops.slogdet(a)
    ws, wl = np.linalg.slogdet(a)
    np.testing.assert_array_equal(npv(sign), ws)
    np.testing.assert_allclose(npv(logabs), wl, rtol=1e-10)
    p = spd(n=3)
    np.testing.assert_allclose(float(ops.logdet(p)),
                               np.log(np.linalg.det(p)), rtol=1e-10)
    check_grad(ops.inv, a)
    check_grad(ops.det, a)
    check_grad(lambda t: ops.slogdet(t)[1], a)
    with pytest.raises(ValueError, match="square matrices"):
        ops.inv(r(2, 3))
    assert ops.det(np.eye(2, dtype="int32")).dtype == np.float32


@pytest.mark.parametrize("bshape", [(2, 3), (2, 3, 2)])
def test_solve(bshape):
    a = r(2, 3, 3) + 2 * np.eye(3)
    b = r(*bshape)
    want = np.linalg.solve(a, b[..., None])[..., 0] if len(bshape) == 2 \
        else np.linalg.solve(a, b)
    np.testing.assert_allclose(npv(ops.solve(a, b)), want, rtol=1e-10)
    check_grad(ops.solve, a, b)


@pytest.mark.parametrize("lower", [True, False])
def test_solve_triangular(lower):
    a = r(3, 3) + 3 * np.eye(3)
    b = r(3, 2)
    tri = np.tril(a) if lower else np.triu(a)
    np.testing.assert_allclose(npv(ops.solve_triangular(a, b, lower=lower)),
                               np.linalg.solve(tri, b), rtol=1e-10)
    check_grad(lambda s, t: ops.solve_triangular(s, t, lower=lower), a, b)
    check_grad(lambda s, t: ops.solve_triangular(s, t, lower=lower), a,
               r(3))


def test_lstsq():
    a, b = r(5, 3), r(5, 2)
    np.testing.assert_allclose(npv(ops.lstsq(a, b)),
                               np.linalg.lstsq(a, b, rcond=None)[0],
                               rtol=1e-10)
    check_grad(ops.lstsq, a, b)
    check_grad(ops.lstsq, a, r(5))
    # Underdetermined: the minimum-norm solution.
    a2, b2 = r(2, 4), r(2)
    np.testing.assert_allclose(npv(ops.lstsq(a2, b2)),
                               np.linalg.pinv(a2) @ b2, rtol=1e-10)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky(upper):
    b = r(2, 3, 3)

    def f(t):
        # A symmetric positive-definite input built from a free matrix.
        return ops.cholesky(ops.add(ops.matmul(t, ops.swapaxes(t, -1, -2)),
                                    3 * np.eye(3)), upper=upper)
    a = b @ np.swapaxes(b, -1, -2) + 3 * np.eye(3)
    want = np.linalg.cholesky(a)
    if upper:
        want = np.swapaxes(want, -1, -2)
    np.testing.assert_allclose(npv(ops.cholesky(a, upper=upper)), want,
                               rtol=1e-10)
    check_grad(f, b)
    with pytest.raises(ValueError, match="not be a valid positive definite"):
        ops.cholesky(-np.eye(2))


def test_cholesky_inverse():
    a = spd(n=3)
    low = np.linalg.cholesky(a)
    np.testing.assert_allclose(npv(ops.cholesky_inverse(low)),
                               np.linalg.inv(a), rtol=1e-10)
    np.testing.assert_allclose(npv(ops.cholesky_inverse(low.T, upper=True)),
                               np.linalg.inv(a), rtol=1e-10)
    check_grad(ops.cholesky_inverse, low)


def test_eigh_and_eig():
    b = r(3, 3)
    a = b + b.T
    w, v = ops.eigh(a)
    ww, wv = np.linalg.eigh(a)
    np.testing.assert_allclose(npv(w), ww, rtol=1e-10)
    np.testing.assert_allclose(np.abs(npv(v)), np.abs(wv), rtol=1e-8)

    def f(t):
        w, v = ops.eigh(ops.add(t, ops.transpose(t)))
        # Sign-invariant functions of the eigenvectors.
        return w, ops.square(v)
    check_grad(f, b)
    g = r(3, 3)
    w, v = ops.eig(g)
    np.testing.assert_allclose(npv(g) @ npv(v), npv(v) * npv(w)[None, :],
                               atol=1e-10)


def test_lu_factor():
    a = r(2, 4, 4)
    lu, piv = ops.lu_factor(a)
    assert piv.dtype == np.int32
    for k in range(2):
        m = npv(lu)[k]
        low = np.tril(m, -1) + np.eye(4)
        up = np.triu(m)
        perm = np.arange(4)
        for i, p in enumerate(npv(piv)[k]):
            perm[[i, p]] = perm[[p, i]]
        np.testing.assert_allclose(low @ up, a[k][perm], atol=1e-12)
        # Partial pivoting: |L| <= 1.
        assert np.all(np.abs(np.tril(m, -1)) <= 1 + 1e-12)


@pytest.mark.parametrize("mode,shape", [("reduced", (4, 3)),
                                        ("reduced", (3, 3)),
                                        ("complete", (3, 3)),
                                        ("complete", (4, 2))])
def test_qr(mode, shape):
    a = r(2, *shape)
    q, rr = ops.qr(a, mode=mode)
    wq, wr = np.linalg.qr(a, mode=mode)
    assert q.shape == wq.shape and rr.shape == wr.shape
    np.testing.assert_allclose(npv(q) @ npv(rr), a, atol=1e-12)
    np.testing.assert_allclose(np.abs(npv(rr)), np.abs(wr), atol=1e-12)
    if mode == "reduced" or shape[0] == shape[1]:
        check_grad(lambda t: ops.qr(t, mode=mode), a)
    with pytest.raises(ValueError, match="mode` argument value"):
        ops.qr(a, mode="r")


@pytest.mark.parametrize("shape,full", [((4, 3), False), ((3, 5), False),
                                        ((3, 3), True)])
def test_svd(shape, full):
    a = r(2, *shape)
    u, s, vh = ops.svd(a, full_matrices=full)
    wu, ws, wvh = np.linalg.svd(a, full_matrices=full)
    np.testing.assert_allclose(npv(s), ws, rtol=1e-10)
    k = ws.shape[-1]
    np.testing.assert_allclose(
        (npv(u)[..., :k] * npv(s)[..., None, :]) @ npv(vh)[..., :k, :], a,
        atol=1e-12)
    check_grad(lambda t: ops.svd(t, compute_uv=False), a)

    def f(t):
        u, s, vh = ops.svd(t, full_matrices=full)
        # Sign-invariant products of the singular vectors.
        return s, ops.square(u), ops.square(vh)
    check_grad(f, a)


def test_pinv_and_matrix_rank():
    a = r(4, 3)
    np.testing.assert_allclose(npv(ops.pinv(a)), np.linalg.pinv(a),
                               rtol=1e-10)
    check_grad(ops.pinv, a)
    check_grad(ops.pinv, r(2, 5))
    low = np.array([[1.0, 2.0], [2.0, 4.0]])
    assert int(ops.matrix_rank(low)) == 1
    assert ops.matrix_rank(low).dtype == np.int32
    np.testing.assert_array_equal(npv(ops.matrix_rank(np.stack(
        [low, np.eye(2)]))), [1, 2])
    assert int(ops.matrix_rank(np.diag([1.0, 1e-3]), tol=1e-2)) == 1
    with pytest.raises(ValueError, match="rank >= 2"):
        ops.pinv(r(3))


NORMS = [(None, None), (2, None), (1, 0), (np.inf, 1), (-np.inf, 1),
         (3, -1), (0.5, 0), (0, 1), ("fro", None), ("nuc", None),
         (1, (0, 1)), (-1, (0, 1)), (np.inf, (0, 1)), (-np.inf, (1, 0)),
         (2, (0, 1)), (-2, (0, 1)), ("nuc", (1, 0))]


@pytest.mark.parametrize("ord,axis", NORMS, ids=[f"{o}-{a}" for o, a in NORMS])
@pytest.mark.parametrize("keepdims", [False, True])
def test_norm(ord, axis, keepdims):
    x = r(3, 4)
    want = np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    got = ops.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(npv(got), want, rtol=1e-10)
    if ord != 0:
        check_grad(lambda t: ops.norm(t, ord=ord, axis=axis,
                                      keepdims=keepdims), x)


def test_norm_batches_and_errors():
    x = r(2, 3, 4)
    np.testing.assert_allclose(npv(ops.norm(x)), np.linalg.norm(x),
                               rtol=1e-12)
    np.testing.assert_allclose(npv(ops.norm(x, ord="nuc", axis=(1, 2))),
                               np.linalg.norm(x, ord="nuc", axis=(1, 2)),
                               rtol=1e-10)
    assert ops.norm(np.arange(4, dtype="int32")).dtype == np.float32
    with pytest.raises(ValueError, match="give `axis` for inputs of rank"):
        ops.norm(x, ord=1)
    with pytest.raises(ValueError, match="invalid norm order"):
        ops.norm(x, ord="fro", axis=1)


def test_jvp():
    x = r(3)
    t = r(3)
    y, ty = ops.jvp(ops.sin, (x,), (t,))
    np.testing.assert_allclose(npv(y), np.sin(x), rtol=1e-12)
    np.testing.assert_allclose(npv(ty), np.cos(x) * t, rtol=1e-12)
    a, b = r(2, 3), r(3, 2)
    ta, tb = r(2, 3), r(3, 2)
    y, ty, aux = ops.jvp(lambda p, q: (ops.matmul(p, q), "aux"), (a, b),
                         (ta, tb), has_aux=True)
    np.testing.assert_allclose(npv(ty), ta @ b + a @ tb, rtol=1e-12)
    assert aux == "aux"


def test_tuple_ops_build_functional_models():
    import gkeras
    inp = gkeras.Input((4, 4))
    _, logabs = ops.slogdet(inp)
    q, _ = ops.qr(inp)
    assert logabs.shape == (None,) and q.shape == (None, 4, 4)
    model = gkeras.Model(inp, [logabs, q, ops.rearrange(
        inp, "b h w -> b (w h)")])
    x = (r(2, 4, 4) + 3 * np.eye(4)).astype("float32")
    got_l, got_q, got_r = model(x)
    np.testing.assert_allclose(npv(got_l), np.linalg.slogdet(x)[1],
                               rtol=1e-5)
    np.testing.assert_allclose(np.abs(npv(got_q)),
                               np.abs(np.linalg.qr(x)[0]), atol=1e-5)
    np.testing.assert_array_equal(npv(got_r),
                                  x.transpose(0, 2, 1).reshape(2, 16))
