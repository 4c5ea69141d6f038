"""The keras.ops.numpy functions added for issue 17 (math, arrays,
statistics): forward values against NumPy float64, gradients against
finite differences, Keras's dtype rules and error messages."""

import numpy as np
import pytest

from gkeras import ops
from harness import check_grad

rng = np.random.default_rng(7)


def r(*shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, size=shape)


def npv(t):
    return np.asarray(t)


# -- element-wise math --------------------------------------------------------

UNARY = [
    ("arccosh", ops.arccosh, np.arccosh, r(3, 4, lo=1.2, hi=3)),
    ("cbrt", ops.cbrt, np.cbrt, r(3, 4, lo=0.2, hi=2) * np.sign(r(3, 4))),
    ("deg2rad", ops.deg2rad, np.deg2rad, r(3, 4, lo=-180, hi=180)),
    ("rad2deg", ops.rad2deg, np.rad2deg, r(3, 4)),
    ("exp2", ops.exp2, np.exp2, r(3, 4)),
    ("fabs", ops.fabs, np.fabs, r(3, 4, lo=0.1, hi=1) * np.sign(r(3, 4))),
    ("sinc", ops.sinc, np.sinc, np.concatenate([r(11), [0.0]])),
    ("erf", ops.erf, None, r(3, 4, lo=-2, hi=2)),
    ("erfc", ops.erfc, None, r(3, 4, lo=-2, hi=2)),
    ("erfinv", ops.erfinv, None, r(3, 4, lo=-0.95, hi=0.95)),
    ("i0", ops.i0, np.i0, r(3, 4, lo=-3, hi=3)),
]


def _ref_special(name, x):
    import math
    if name == "erf":
        return np.vectorize(math.erf)(x)
    if name == "erfc":
        return np.vectorize(math.erfc)(x)
    # erfinv: invert math.erf by bisection in float64.
    lo, hi = np.full_like(x, -6.0), np.full_like(x, 6.0)
    for _ in range(200):
        mid = (lo + hi) / 2
        big = np.vectorize(math.erf)(mid) > x
        hi = np.where(big, mid, hi)
        lo = np.where(big, lo, mid)
    return (lo + hi) / 2


@pytest.mark.parametrize("name,op,ref,x", UNARY, ids=[u[0] for u in UNARY])
def test_unary_math(name, op, ref, x):
    want = _ref_special(name, x) if ref is None else ref(x)
    np.testing.assert_allclose(npv(op(x)), want, rtol=1e-7, atol=1e-9)
    check_grad(op, x)


BINARY = [
    ("arctan2", ops.arctan2, np.arctan2, r(3, 4), r(3, 4)),
    ("hypot", ops.hypot, np.hypot, r(3, 4), r(4)),
    ("logaddexp2", ops.logaddexp2, np.logaddexp2, r(3, 4), r(3, 1)),
    ("fmax", ops.fmax, np.fmax, r(3, 4), r(3, 4) + 0.01),
    ("fmin", ops.fmin, np.fmin, r(3, 4), r(3, 4) + 0.01),
    ("fmod", ops.fmod, np.fmod, r(3, 4, lo=-5, hi=5) + 0.013,
     r(3, 4, lo=0.7, hi=2)),
]


@pytest.mark.parametrize("name,op,ref,a,b", BINARY, ids=[b[0] for b in BINARY])
def test_binary_math(name, op, ref, a, b):
    np.testing.assert_allclose(npv(op(a, b)), ref(a, b), rtol=1e-7)
    check_grad(op, a, b)


def test_int_inputs_compute_in_floatx():
    # Keras promotes integer inputs of float-valued functions to floatx.
    for op in (ops.arccosh, ops.cbrt, ops.exp2, ops.sinc, ops.erf, ops.i0):
        assert op(np.array([1, 2, 3], "int32")).dtype == np.float32
    assert ops.arctan2(np.array([1], "int32"),
                       np.array([2], "int32")).dtype == np.float32
    assert ops.trunc(np.array([1, -2], "int32")).dtype == np.int32


def test_nan_aware_and_nondiff_math():
    a = np.array([1.0, np.nan, 3.0, np.nan])
    b = np.array([2.0, 1.0, np.nan, np.nan])
    np.testing.assert_array_equal(npv(ops.fmax(a, b)), np.fmax(a, b))
    np.testing.assert_array_equal(npv(ops.fmin(a, b)), np.fmin(a, b))
    x = np.array([-2.5, -0.0, 0.0, 1.5, np.inf, -np.inf])
    np.testing.assert_array_equal(npv(ops.trunc(x)), np.trunc(x))
    np.testing.assert_array_equal(npv(ops.signbit(x)), np.signbit(x))
    np.testing.assert_array_equal(npv(ops.isposinf(x)), np.isposinf(x))
    np.testing.assert_array_equal(npv(ops.isneginf(x)), np.isneginf(x))
    np.testing.assert_array_equal(npv(ops.heaviside(x, 0.5)),
                                  np.heaviside(x, 0.5))
    np.testing.assert_array_equal(npv(ops.nextafter(x[:4], 1.0)),
                                  np.nextafter(x[:4], 1.0))
    i, j = np.array([12, 18, 7]), np.array([8, 12, 5])
    for name in ("gcd", "lcm", "bitwise_and", "bitwise_or", "bitwise_xor"):
        np.testing.assert_array_equal(npv(getattr(ops, name)(i, j)),
                                      getattr(np, name)(i, j))
    np.testing.assert_array_equal(npv(ops.left_shift(i, 2)), i << 2)
    np.testing.assert_array_equal(npv(ops.bitwise_right_shift(i, 1)), i >> 1)
    np.testing.assert_array_equal(npv(ops.bitwise_not(i)), ~i)
    np.testing.assert_array_equal(npv(ops.bitwise_invert(i)), ~i)
    np.testing.assert_allclose(npv(ops.ldexp(np.array([0.5, 3.0]),
                                             np.array([3, -1]))), [4.0, 1.5])
    with pytest.raises(TypeError, match="ldexp: x2 must be an integer"):
        ops.ldexp(np.array([1.0]), np.array([1.5]))
    check_grad(lambda t: ops.ldexp(t, np.array([2, -1, 0])), r(3))
    c = np.array([1 + 2j, -3.0 - 1j])
    np.testing.assert_array_equal(npv(ops.real(c)), c.real)
    np.testing.assert_array_equal(npv(ops.imag(c)), c.imag)
    np.testing.assert_array_equal(npv(ops.conj(c)), np.conj(c))
    np.testing.assert_allclose(npv(ops.angle(c)), np.angle(c))
    np.testing.assert_array_equal(npv(ops.isreal(np.array([1 + 0j, 1j]))),
                                  [True, False])
    assert bool(ops.allclose(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9])))
    assert not bool(ops.allclose(np.array([1.0]), np.array([1.1])))
    y = r(3)
    np.testing.assert_array_equal(npv(ops.copy(y)), y)
    check_grad(ops.copy, y)


def test_special_functions_without_scipy(monkeypatch):
    # The fallbacks used where SciPy (or a CuPy kernel) is missing.
    from gkeras.ops import numpy_math
    monkeypatch.setattr(numpy_math, "special", lambda name, x: None)
    x = r(20, lo=-0.99, hi=0.99)
    np.testing.assert_allclose(npv(ops.erfinv(x)), _ref_special("erfinv", x),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(npv(ops.erfc(x)), _ref_special("erfc", x),
                               rtol=1e-12)
    check_grad(ops.i0, r(5, lo=-4, hi=4))


# -- arrays -------------------------------------------------------------------

ARRAY = [
    ("append", lambda x: ops.append(x, x[:1], axis=0),
     lambda x: np.append(x, x[:1], axis=0)),
    ("append_flat", lambda x: ops.append(x, x[0]),
     lambda x: np.append(x, x[0])),
    ("fliplr", ops.fliplr, np.fliplr),
    ("flipud", ops.flipud, np.flipud),
    ("rot90", ops.rot90, np.rot90),
    ("rot90_k3", lambda x: ops.rot90(x, k=3, axes=(1, 2)),
     lambda x: np.rot90(x, k=3, axes=(1, 2))),
    ("rot90_k2", lambda x: ops.rot90(x, k=-2), lambda x: np.rot90(x, k=-2)),
    ("diff", lambda x: ops.diff(x, n=2, axis=1),
     lambda x: np.diff(x, n=2, axis=1)),
    ("diag_of_matrix", lambda x: ops.diag(x[0], k=1),
     lambda x: np.diag(x[0], k=1)),
    ("diag_of_vector", lambda x: ops.diag(x[0, 0], k=-1),
     lambda x: np.diag(x[0, 0], k=-1)),
    ("diagflat", lambda x: ops.diagflat(x[0, :2], k=1),
     lambda x: np.diagflat(x[0, :2], k=1)),
    ("kron", lambda x: ops.kron(x[0], x[1, :2]),
     lambda x: np.kron(x[0], x[1, :2])),
    ("kron_nd", lambda x: ops.kron(x, x[0, :1, :2]),
     lambda x: np.kron(x, x[0, :1, :2])),
    ("cross", lambda x: ops.cross(x[..., :3], x[..., 1:]),
     lambda x: np.cross(x[..., :3], x[..., 1:])),
    ("cross_axes", lambda x: ops.cross(x[:, :3, 0], x[:, :3, 1], axisa=1,
                                       axisb=1, axisc=0),
     lambda x: np.cross(x[:, :3, 0], x[:, :3, 1], axisa=1, axisb=1, axisc=0)),
    ("dstack", lambda x: ops.dstack([x[0], x[1]]),
     lambda x: np.dstack([x[0], x[1]])),
    ("vander", lambda x: ops.vander(x[0, 0]), lambda x: np.vander(x[0, 0])),
    ("vander_inc", lambda x: ops.vander(x[0, 0], N=3, increasing=True),
     lambda x: np.vander(x[0, 0], N=3, increasing=True)),
    ("trapezoid", lambda x: ops.trapezoid(x, axis=1, dx=0.5),
     lambda x: np.trapezoid(x, axis=1, dx=0.5)),
    ("trapezoid_x", lambda x: ops.trapezoid(x, x=np.array([0, 1, 3, 7.0])),
     lambda x: np.trapezoid(x, x=np.array([0, 1, 3, 7.0]))),
    ("correlate_valid", lambda x: ops.correlate(x[0, 0], x[1, 1, :3]),
     lambda x: np.correlate(x[0, 0], x[1, 1, :3])),
    ("correlate_same", lambda x: ops.correlate(x[0, 0], x[1, 1, :3], "same"),
     lambda x: np.correlate(x[0, 0], x[1, 1, :3], "same")),
    ("correlate_full", lambda x: ops.correlate(x[0, 0, :2], x[1, 1], "full"),
     lambda x: np.correlate(x[0, 0, :2], x[1, 1], "full")),
    ("correlate_short_same",
     lambda x: ops.correlate(x[0, 0, :2], x[1, 1], "same"),
     lambda x: np.correlate(x[0, 0, :2], x[1, 1], "same")),
    ("correlate_short_valid",
     lambda x: ops.correlate(x[0, 0, :3], x[1, 1], "valid"),
     lambda x: np.correlate(x[0, 0, :3], x[1, 1], "valid")),
    ("corrcoef", lambda x: ops.corrcoef(x[0]), lambda x: np.corrcoef(x[0])),
    ("cdist", lambda x: ops.cdist(x[0], x[1]),
     lambda x: np.sqrt(((x[0][:, None] - x[1][None]) ** 2).sum(-1))),
    ("ptp", lambda x: ops.ptp(x, axis=1), lambda x: np.ptp(x, axis=1)),
    ("get_item", lambda x: ops.get_item(x, (1, slice(0, 2))),
     lambda x: x[1, 0:2]),
    ("select", lambda x: ops.select([x > 0.3, x < -0.3], [x, 2 * x], -1.0),
     lambda x: np.select([x > 0.3, x < -0.3], [x, 2 * x], -1.0)),
]


@pytest.mark.parametrize("name,op,ref", ARRAY, ids=[a[0] for a in ARRAY])
def test_array_ops(name, op, ref):
    x = r(2, 3, 4)
    np.testing.assert_allclose(npv(op(x)), ref(x), rtol=1e-7, atol=1e-12)
    check_grad(op, x)


def test_splits_stacks_and_grids():
    x = np.arange(24.0).reshape(2, 3, 4)
    for got, want in [
            (ops.array_split(np.arange(7.0), 3), np.array_split(np.arange(7.0), 3)),
            (ops.array_split(x, [1, 2], axis=2), np.array_split(x, [1, 2], axis=2)),
            (ops.hsplit(x, 3), np.hsplit(x, 3)),
            (ops.vsplit(x, 2), np.vsplit(x, 2)),
            (ops.dsplit(x, [1]), np.dsplit(x, [1])),
            (ops.hsplit(np.arange(4.0), 2), np.hsplit(np.arange(4.0), 2)),
            (ops.unstack(x, axis=1), list(np.moveaxis(x, 1, 0))),
            (ops.meshgrid(np.arange(3), np.arange(2), np.arange(4)),
             np.meshgrid(np.arange(3), np.arange(2), np.arange(4))),
            (ops.meshgrid(np.arange(3), np.arange(2), indexing="ij"),
             np.meshgrid(np.arange(3), np.arange(2), indexing="ij"))]:
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(npv(g), w)
    with pytest.raises(ValueError, match="unstack: num=2"):
        ops.unstack(x, num=2, axis=1)
    with pytest.raises(ValueError, match="vsplit needs a tensor of rank >= 2"):
        ops.vsplit(np.arange(4.0), 2)
    with pytest.raises(ValueError, match="correlate: mode must be"):
        ops.correlate(np.ones(3), np.ones(2), mode="bad")
    with pytest.raises(ValueError, match="meshgrid: indexing"):
        ops.meshgrid(np.ones(3), indexing="xx")


def test_creation_windows_and_casts():
    np.testing.assert_allclose(npv(ops.logspace(0, 2, 5)), np.logspace(0, 2, 5),
                               rtol=1e-6)
    assert ops.logspace(0, 2, 5).dtype == np.float32
    np.testing.assert_allclose(npv(ops.logspace(0, 3, 4, base=2.0,
                                                endpoint=False)),
                               np.logspace(0, 3, 4, base=2.0, endpoint=False),
                               rtol=1e-6)
    np.testing.assert_allclose(npv(ops.geomspace(1, 1000, 4)),
                               np.geomspace(1, 1000, 4), rtol=1e-6)
    for name in ("bartlett", "blackman", "hamming", "hanning"):
        got = getattr(ops, name)(7)
        assert got.dtype == np.float32
        np.testing.assert_allclose(npv(got), getattr(np, name)(7), atol=1e-6)
    np.testing.assert_allclose(npv(ops.kaiser(6, 3.0)), np.kaiser(6, 3.0),
                               rtol=1e-6)
    e = ops.empty((2, 3))
    assert e.shape == (2, 3) and e.dtype == np.float32
    assert ops.empty_like(np.ones((2,), "int32")).dtype == np.int32
    assert ops.array([1, 2], dtype="int16").dtype == np.int16
    np.testing.assert_array_equal(
        npv(ops.saturate_cast(np.array([-1.0, 256.0, 3.7]), "uint8")),
        [0, 255, 3])
    np.testing.assert_array_equal(
        npv(ops.saturate_cast(np.array([-300, 300], "int32"), "int8")),
        [-128, 127])
    v = np.array([1.0, 2.0, 0.5, -1.0], "float32")
    np.testing.assert_array_equal(npv(ops.view(v, "int32")), v.view("int32"))
    c = np.array([1 + 2j, 3 - 4j], "complex64")
    np.testing.assert_array_equal(npv(ops.view_as_real(c)),
                                  [[1, 2], [3, -4]])
    np.testing.assert_array_equal(npv(ops.view_as_complex(
        np.array([[1.0, 2.0], [3.0, -4.0]]))), [1 + 2j, 3 - 4j])
    np.testing.assert_allclose(npv(ops.polar(np.array([2.0]),
                                             np.array([np.pi / 2]))), [2j],
                               atol=1e-12)


# -- statistics ---------------------------------------------------------------

NAN_RED = ["nansum", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin",
           "nanprod"]


@pytest.mark.parametrize("name", NAN_RED)
@pytest.mark.parametrize("axis,keepdims", [(None, False), (1, True),
                                           ((0, 2), False)])
def test_nan_reductions(name, axis, keepdims):
    x = r(3, 4, 5, lo=0.5, hi=1.5)
    x[0, 1, 2] = x[2, 3, 0] = np.nan
    want = getattr(np, name)(x, axis=axis, keepdims=keepdims)
    got = getattr(ops, name)(x, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(npv(got), want, rtol=1e-7)
    mask = np.isnan(x)

    def f(t):
        # Differentiate at the non-NaN entries only.
        return getattr(ops, name)(ops.where(mask, np.nan, t), axis=axis,
                                  keepdims=keepdims)
    check_grad(f, np.where(mask, 0.7, x))


def test_nan_all_nan_slices_and_args():
    x = np.array([[np.nan, np.nan], [1.0, np.nan], [3.0, 2.0]])
    np.testing.assert_array_equal(npv(ops.nanmax(x, axis=1)),
                                  [np.nan, 1.0, 3.0])
    np.testing.assert_array_equal(npv(ops.nanargmax(x, axis=1)), [-1, 0, 0])
    np.testing.assert_array_equal(npv(ops.nanargmin(x[1:], axis=1)),
                                  np.nanargmin(x[1:], axis=1))
    assert ops.nanargmax(x[1:], axis=1).dtype == np.int32
    np.testing.assert_allclose(npv(ops.nancumsum(x, axis=1)),
                               np.nancumsum(x, axis=1))
    np.testing.assert_allclose(npv(ops.nancumprod(x)), np.nancumprod(x))
    np.testing.assert_allclose(npv(ops.nanmedian(x, axis=1)),
                               [np.nan, 1.0, 2.5])


@pytest.mark.parametrize("axis", [None, 0, -1])
def test_cumprod(axis):
    x = r(3, 4, 2, lo=0.5, hi=1.5)
    np.testing.assert_allclose(npv(ops.cumprod(x, axis=axis)),
                               np.cumprod(x, axis=axis), rtol=1e-12)
    check_grad(lambda t: ops.cumprod(t, axis=axis), x)


def test_cumprod_gradient_with_zeros():
    x = np.array([[0.5, 0.0, 2.0, 3.0], [0.0, 0.0, 1.5, 2.0],
                  [1.0, 2.0, 3.0, 4.0]])
    check_grad(lambda t: ops.cumprod(t, axis=1), x)


QMETHODS = ["linear", "lower", "higher", "midpoint", "nearest"]


@pytest.mark.parametrize("method", QMETHODS)
@pytest.mark.parametrize("q,axis,keepdims", [
    (0.3, None, False), ([0.1, 0.5, 0.9], 1, False), (0.75, (0, 2), True),
    (np.array([[0.25, 1.0]]), -1, True)])
def test_quantile(method, q, axis, keepdims):
    x = r(3, 5, 4)
    want = np.quantile(x, q, axis=axis, method=method, keepdims=keepdims)
    got = ops.quantile(x, q, axis=axis, method=method, keepdims=keepdims)
    np.testing.assert_allclose(npv(got), want, rtol=1e-12)
    qp = np.asarray(q) * 100
    np.testing.assert_allclose(
        npv(ops.percentile(x, qp, axis=axis, method=method,
                           keepdims=keepdims)),
        np.percentile(x, qp, axis=axis, method=method, keepdims=keepdims),
        rtol=1e-12)
    check_grad(lambda t: ops.quantile(t, q, axis=axis, method=method,
                                      keepdims=keepdims), x)


@pytest.mark.parametrize("method", QMETHODS)
def test_nanquantile(method):
    x = r(4, 6)
    x[0, 1] = x[2, :5] = np.nan
    x[3, :] = np.nan
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        want = np.nanquantile(x, [0.2, 0.6], axis=1, method=method)
        wantp = np.nanpercentile(x, 40, axis=1, method=method)
    np.testing.assert_allclose(
        npv(ops.nanquantile(x, [0.2, 0.6], axis=1, method=method)), want,
        rtol=1e-12)
    np.testing.assert_allclose(
        npv(ops.nanpercentile(x, 40, axis=1, method=method)), wantp,
        rtol=1e-12)
    # A NaN in a slice poisons the plain quantile, as NumPy's.
    np.testing.assert_array_equal(np.isnan(npv(ops.quantile(x, 0.5, axis=1))),
                                  [True, False, True, True])
    assert ops.quantile(np.arange(5, dtype="int32"), 0.5).dtype == np.float32
    with pytest.raises(ValueError, match="quantile: method must be one of"):
        ops.quantile(x, 0.5, method="cubic")
    with pytest.raises(ValueError, match=r"must be in \[0, 1\]"):
        ops.quantile(x, 1.5)


def test_counting_and_searching():
    x = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5])
    np.testing.assert_array_equal(npv(ops.bincount(x)), np.bincount(x))
    assert ops.bincount(x).dtype == np.int32
    w = np.linspace(0, 1, 11).astype("float32")
    np.testing.assert_allclose(npv(ops.bincount(x, weights=w, minlength=12)),
                               np.bincount(x, weights=w, minlength=12),
                               rtol=1e-6)
    assert ops.bincount(x, weights=w).dtype == np.float32
    x2 = np.array([[0, 1, 1], [2, 2, 0]])
    np.testing.assert_array_equal(npv(ops.bincount(x2, minlength=4)),
                                  [[1, 2, 0, 0], [1, 0, 2, 0]])
    with pytest.raises(NotImplementedError, match="sparse=True"):
        ops.bincount(x, sparse=True)
    bins = np.array([0.0, 1.0, 2.5, 4.0])
    v = np.array([-1.0, 0.0, 0.5, 2.5, 3.0, 10.0])
    np.testing.assert_array_equal(npv(ops.digitize(v, bins)),
                                  np.digitize(v, bins))
    for side in ("left", "right"):
        got = ops.searchsorted(bins, v, side=side)
        assert got.dtype == np.int32
        np.testing.assert_array_equal(npv(got),
                                      np.searchsorted(bins, v, side=side))
    with pytest.raises(ValueError, match="only supports 1-D sorted"):
        ops.searchsorted(np.ones((2, 2)), v)
    np.testing.assert_array_equal(npv(ops.isin(x, [1, 5])), np.isin(x, [1, 5]))
    np.testing.assert_array_equal(npv(ops.isin(x, [1, 5], invert=True)),
                                  ~np.isin(x, [1, 5]))
    vals, idx, inv, cnt = ops.unique(x, return_index=True,
                                     return_inverse=True, return_counts=True)
    for g, wv in zip((vals, idx, inv, cnt),
                     np.unique(x, return_index=True, return_inverse=True,
                               return_counts=True)):
        np.testing.assert_array_equal(npv(g), wv)
    np.testing.assert_array_equal(npv(ops.unique(x, size=9, fill_value=-1)),
                                  [1, 2, 3, 4, 5, 6, 9, -1, -1])
    np.testing.assert_array_equal(npv(ops.unique(x, size=3)), [1, 2, 3])
    m = np.array([[0, 2, 0], [1, 0, 3]])
    nz = ops.nonzero(m)
    for g, wv in zip(nz, np.nonzero(m)):
        np.testing.assert_array_equal(npv(g), wv)
    counts, edges = ops.histogram(np.array([0.1, 0.4, 0.45, 0.9, 1.0]),
                                  bins=3)
    wc, we = np.histogram(np.array([0.1, 0.4, 0.45, 0.9, 1.0]), bins=3)
    np.testing.assert_array_equal(npv(counts), wc)
    np.testing.assert_allclose(npv(edges), we)
    with pytest.raises(ValueError, match="histogram expects a 1-D"):
        ops.histogram(np.ones((2, 2)))
    a = r(10)
    p = npv(ops.argpartition(a, 3))
    assert sorted(a[p[:3]]) == sorted(np.sort(a)[:3])
    assert a[p[3]] == np.sort(a)[3]
    for g, wv in zip(ops.unravel_index(np.array([5, 7]), (3, 4)),
                     np.unravel_index([5, 7], (3, 4))):
        np.testing.assert_array_equal(npv(g), wv)


def test_new_ops_build_functional_graphs():
    import gkeras
    inp = gkeras.Input((6,))
    out = ops.quantile(inp, [0.25, 0.75], axis=1)
    assert out.shape == (2, None)
    model = gkeras.Model(inp, ops.cumprod(ops.erf(inp), axis=1))
    x = r(2, 6).astype("float32")
    np.testing.assert_allclose(
        np.asarray(model(x)), np.cumprod(npv(ops.erf(x)), axis=1), rtol=1e-6)


def test_core_ops_keras_arguments():
    # scatter_update's `reduction` combines repeated indices too.
    base = np.ones((3, 2))
    idx = np.array([[0], [2], [0]])
    upd = np.array([[2.0, 3.0], [4.0, 5.0], [-1.0, 6.0]])
    for reduction, fn in [("add", np.add), ("max", np.maximum),
                          ("min", np.minimum), ("mul", np.multiply)]:
        want = base.copy()
        fn.at(want, (idx[:, 0],), upd)
        np.testing.assert_allclose(
            npv(ops.scatter_update(base, idx, upd, reduction=reduction)),
            want)
    np.testing.assert_allclose(
        npv(ops.scatter_update(base, idx[:2], upd[:2])), [[2, 3], [1, 1],
                                                         [4, 5]])
    with pytest.raises(ValueError, match="Unsupported reduction: sum"):
        ops.scatter_update(base, idx, upd, reduction="sum")
    vals, step = ops.linspace(0.0, 1.0, 5, retstep=True)
    np.testing.assert_allclose(npv(vals), np.linspace(0, 1, 5))
    assert float(step) == 0.25 and vals.dtype == np.float32
    np.testing.assert_allclose(
        npv(ops.linspace(np.array([0.0, 1.0]), np.array([1.0, 3.0]), 3,
                         axis=1)),
        np.linspace([0.0, 1.0], [1.0, 3.0], 3, axis=1))
    np.testing.assert_array_equal(npv(ops.identity(3)), np.eye(3))
    assert ops.identity(2, dtype="int32").dtype == np.int32
    x = r(3, 4)
    np.testing.assert_array_equal(npv(ops.slice(x, (1, 1), (-1, 2))),
                                  x[1:, 1:3])
    with pytest.raises(NotImplementedError, match="no ragged tensors"):
        ops.convert_to_tensor([1, 2], ragged=True)


def test_cumprod_gradient_without_division_matches():
    # The GPU's sync-free formula, checked on NumPy against the CPU one.
    from gkeras.ops.numpy_stats import _cumprod_grad_no_division
    x = np.array([[0.5, 0.0, 2.0, 3.0], [0.0, 0.0, 1.5, 2.0],
                  [1.0, 2.0, 3.0, 4.0]])
    g = r(3, 4)
    got = _cumprod_grad_no_division(x, g, np)
    want = np.zeros_like(x)
    for i in range(4):
        for j in range(i, 4):
            want[:, i] += g[:, j] * np.prod(np.delete(x[:, :j + 1], i, 1), 1)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("offset,axis1,axis2", [(0, 0, 1), (1, 0, 2),
                                                (-1, 2, 1), (5, 0, 1)])
def test_diagonal_and_trace_are_differentiable(offset, axis1, axis2):
    x = r(3, 4, 5)
    np.testing.assert_array_equal(npv(ops.diagonal(x, offset, axis1, axis2)),
                                  np.diagonal(x, offset, axis1, axis2))
    np.testing.assert_allclose(npv(ops.trace(x, offset, axis1, axis2)),
                               np.trace(x, offset, axis1, axis2), rtol=1e-12)
    if offset < 4:
        check_grad(lambda t: ops.diagonal(t, offset, axis1, axis2), x)
        check_grad(lambda t: ops.trace(t, offset, axis1, axis2), x)


@pytest.mark.parametrize("axis,keepdims", [(None, False), (1, True),
                                           ((0, 2), False)])
def test_median_is_differentiable(axis, keepdims):
    x = r(3, 4, 5)
    np.testing.assert_allclose(npv(ops.median(x, axis=axis,
                                              keepdims=keepdims)),
                               np.median(x, axis=axis, keepdims=keepdims),
                               rtol=1e-12)
    check_grad(lambda t: ops.median(t, axis=axis, keepdims=keepdims), x)
    assert ops.median(np.arange(4, dtype="int32")).dtype == np.float32


GRAD_DTYPE_OPS = [
    ops.log2, ops.log10, ops.exp2, ops.erf, ops.erfinv, ops.i0, ops.sinc,
    ops.cbrt, lambda t: ops.arctan2(t, t + 2.0), ops.sparsemax,
    lambda t: ops.quantile(t, [0.3, 0.6], axis=1), ops.median,
    lambda t: ops.segment_max(t, np.array([0, 1, 1]), num_segments=2),
    lambda t: ops.cumprod(t, axis=0), lambda t: ops.psnr(t, t * 0.5, 1.0),
]


@pytest.mark.parametrize("i", range(len(GRAD_DTYPE_OPS)))
def test_float32_in_float32_gradients_out(i):
    # NumPy float64 scalars (np.log(2.0)) are not weak under NumPy 2: they
    # would make float32 gradients float64 (slow on a GPU).
    from gkeras.ops.engine import GradientTape, Tensor
    x = Tensor(rng.uniform(0.2, 0.8, (3, 4)).astype("float32"))
    with GradientTape() as tape:
        tape.watch(x)
        y = GRAD_DTYPE_OPS[i](x)
        assert y.dtype == np.float32
        loss = ops.sum(y)
    assert tape.gradient(loss, x).dtype == np.float32


def test_segment_ids_out_of_range_are_dropped():
    data = r(4, 2)
    got = npv(ops.segment_sum(data, np.array([0, 5, -1, 1]), num_segments=2))
    np.testing.assert_allclose(got, [data[0], data[3]])
    check_grad(lambda t: ops.segment_max(t, np.array([0, 5, -1, 1]),
                                         num_segments=2), data)
