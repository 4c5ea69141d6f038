"""`backend.cpu.cblas`: NumPy's OpenBLAS gemm called from JIT kernels,
against `np.matmul` and float64 references: transposes, row strides
larger than the row (lda > k), batch 1, empty and k = 0 products, alpha
and beta, NaN, and the unavailable fallback."""

import numpy as np
import pytest

pytest.importorskip("numba")
pytestmark = pytest.mark.usefixtures("jit_on")

from gkeras.backend.cpu import cblas, jit  # noqa: E402


@pytest.fixture(autouse=True)
def _needs_blas(jit_on):
    if not cblas.available():
        pytest.skip("NumPy's BLAS is not an OpenBLAS with CBLAS symbols")


def _rand(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


SHAPES = [(1, 1, 1), (1, 7, 5), (5, 1, 3), (3, 4, 1), (16, 128, 512),
          (33, 17, 65), (2, 300, 9)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m,k,n", SHAPES)
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_matches_matmul(dtype, m, k, n, ta, tb):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    a = _rand(rng, (k, m), dtype).T if ta else _rand(rng, (m, k), dtype)
    b = _rand(rng, (n, k), dtype).T if tb else _rand(rng, (k, n), dtype)
    out = np.full((m, n), np.nan, dtype)
    cblas.gemm(a, b, out)
    want = a.astype(np.float64) @ b.astype(np.float64)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, want, rtol=tol, atol=tol * k)
    np.testing.assert_allclose(out, np.matmul(a, b), rtol=tol,
                               atol=tol * k)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_strides_larger_than_rows(dtype):
    rng = np.random.default_rng(1)
    A = _rand(rng, (6, 20), dtype)
    B = _rand(rng, (9, 30), dtype)
    C = _rand(rng, (6, 40), dtype)
    a, b = A[:, 3:12], B[:, 5:16]          # lda 20 > k 9, ldb 30 > n 11
    c = C[:, 2:13]                         # ldc 40 > n
    before = C.copy()
    cblas.gemm(a, b, c, alpha=0.5, beta=2.0)
    want = before.astype(np.float64)
    want[:, 2:13] = 0.5 * (a.astype(np.float64) @ b) + 2.0 * before[:, 2:13]
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(C, want, rtol=tol, atol=tol)
    # Transposed and strided: a.T of a slice (lda > m).
    at = A[:, 1:7].T                       # (6, 6) with a unit row axis
    out = np.empty((6, 11), dtype)
    cblas.gemm(at, _rand(rng, (6, 11), dtype), out)


def test_empty_and_k_zero():
    a = np.zeros((0, 4), np.float32)
    out = np.zeros((0, 3), np.float32)
    cblas.gemm(a, np.ones((4, 3), np.float32), out)
    out = np.full((2, 3), 5.0, np.float32)
    cblas.gemm(np.ones((2, 0), np.float32), np.ones((0, 3), np.float32),
               out, beta=0.5)
    np.testing.assert_array_equal(out, np.full((2, 3), 2.5))
    cblas.gemm(np.ones((2, 0), np.float32), np.ones((0, 3), np.float32),
               out)
    np.testing.assert_array_equal(out, np.zeros((2, 3)))
    out = np.full((2, 0), 1.0, np.float32)
    cblas.gemm(np.ones((2, 4), np.float32), np.ones((4, 0), np.float32), out)


def test_beta_zero_overwrites_and_nan_propagates_from_inputs():
    a = np.ones((2, 3), np.float32)
    a[0, 1] = np.nan
    out = np.full((2, 2), np.nan, np.float32)
    cblas.gemm(a, np.ones((3, 2), np.float32), out)
    assert np.isnan(out[0]).all()
    np.testing.assert_array_equal(out[1], [3, 3])


def test_rejects_bad_arguments():
    f32 = np.ones((3, 3), np.float32)
    with pytest.raises(ValueError, match="dtype"):
        cblas.gemm(f32, f32.astype(np.float64), f32)
    with pytest.raises(ValueError, match="dtype"):
        cblas.gemm(f32.astype(np.int32), f32.astype(np.int32), f32)
    with pytest.raises(ValueError, match="shapes"):
        cblas.gemm(f32, np.ones((2, 3), np.float32), f32)
    with pytest.raises(ValueError, match="unit-stride"):
        cblas.gemm(np.ones((6, 6), np.float32)[::2, ::2], f32, f32)
    with pytest.raises(ValueError, match="unit-stride"):
        cblas.gemm(f32, f32, np.ones((3, 3), np.float32).T)


def test_handle_and_thread_setter():
    h = cblas.handle()
    assert h.dtype == np.int64 and h.shape == (3,) and h[0] and h[1]
    prev = cblas.set_num_threads_local(1)
    if prev is not None:
        cblas.set_num_threads_local(prev)


def test_unavailable_without_jit():
    with jit.disabled():
        assert not cblas.available()
        with pytest.raises(RuntimeError, match="available"):
            cblas.gemm(np.ones((1, 1), np.float32),
                       np.ones((1, 1), np.float32),
                       np.ones((1, 1), np.float32))


def test_unavailable_without_openblas(monkeypatch):
    monkeypatch.setitem(cblas._STATE, "lib", None)
    assert not cblas.available()
    assert cblas.set_num_threads_local(1) is None


class _FakeLib:
    def __init__(self, config):
        if config is not None:
            self.openblas_get_config = lambda: config


def test_integer_width_of_the_library():
    assert cblas._ilp64(_FakeLib(None), 64) is True
    assert cblas._ilp64(_FakeLib(None), 32) is False
    assert cblas._ilp64(_FakeLib(None), None) is None
    assert cblas._ilp64(_FakeLib(b"OpenBLAS 0.3 USE64BITINT Haswell"),
                        None) is True
    assert cblas._ilp64(_FakeLib(b"OpenBLAS 0.3 Haswell"), None) is False
