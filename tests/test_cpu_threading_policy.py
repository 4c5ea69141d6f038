"""The CPU thread-pool policy: the measured split threshold of
`parallel.split_rows` and the long-axis split of tall `a.T @ b` products
(`tall_gemm.at_b`), checked against float64 references."""

import threading

import numpy as np
import pytest

from gkeras.backend.cpu import conv as cpu_conv
from gkeras.backend.cpu import parallel, tall_gemm


@pytest.fixture
def two_threads(monkeypatch):
    monkeypatch.setitem(parallel._STATE, "n", 2)


@pytest.fixture
def three_threads(monkeypatch):
    monkeypatch.setitem(parallel._STATE, "n", 3)


def _ref(a, b):
    return a.astype(np.float64).T @ b.astype(np.float64)


@pytest.mark.parametrize("m,k,n", [(65536, 27, 32), (20001, 33, 17),
                                   (4099, 300, 70)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tall_product_split_matches_float64(m, k, n, dtype, three_threads,
                                            monkeypatch):
    r = np.random.default_rng(m)
    a = r.standard_normal((m, k)).astype(dtype)
    b = r.standard_normal((m, n)).astype(dtype)
    calls = []
    real = parallel.parallel_map
    monkeypatch.setattr(tall_gemm, "parallel_map",
                        lambda fn, items: calls.append(1) or real(fn, items))
    got = tall_gemm.at_b(a, b)
    assert calls, "a tall product this size must be split"
    assert got.shape == (k, n) and got.dtype == dtype
    tol = 2e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(got, _ref(a, b), rtol=tol,
                               atol=tol * np.sqrt(m))
    # Same thread count, same bits: the partial sums are added in order.
    np.testing.assert_array_equal(got, tall_gemm.at_b(a, b))


@pytest.mark.parametrize("m,k,n", [(64, 2048, 128), (300, 7, 5), (1, 3, 4),
                                   (0, 3, 4), (2048, 512, 512)])
def test_small_or_square_products_take_one_call(m, k, n, two_threads,
                                                monkeypatch):
    monkeypatch.setattr(tall_gemm, "parallel_map", None)  # must not be used
    r = np.random.default_rng(1)
    a = r.standard_normal((m, k)).astype(np.float32)
    b = r.standard_normal((m, n)).astype(np.float32)
    np.testing.assert_allclose(tall_gemm.at_b(a, b), _ref(a, b),
                               rtol=1e-4, atol=1e-3)


def test_one_thread_never_splits(monkeypatch):
    monkeypatch.setitem(parallel._STATE, "n", 1)
    monkeypatch.setattr(tall_gemm, "parallel_map", None)
    a = np.ones((100000, 9), np.float32)
    b = np.ones((100000, 8), np.float32)
    np.testing.assert_array_equal(tall_gemm.at_b(a, b), 100000.0)


def test_conv_kernel_gradient_split_matches_float64(three_threads):
    r = np.random.default_rng(3)
    x = r.standard_normal((33, 17, 15, 3)).astype(np.float32)
    w = r.standard_normal((3, 3, 3, 8)).astype(np.float32)
    y, cols = cpu_conv.conv_forward_keep_cols(
        x, w, (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    dy = r.standard_normal(y.shape).astype(np.float32)
    got = cpu_conv.conv_backward_kernel_from_cols(dy, cols, w.shape, 1)
    # Independent reference: direct float64 correlation of x with dy.
    xp = np.pad(x.astype(np.float64), ((0, 0), (1, 1), (1, 1), (0, 0)))
    ref = np.zeros(w.shape)
    for i in range(3):
        for j in range(3):
            patch = xp[:, i:i + 17, j:j + 15, :]
            ref[i, j] = np.einsum("nhwc,nhwf->cf", patch, dy)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-3)


def test_split_threshold_is_measured_within_bounds(two_threads, monkeypatch):
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", None)
    monkeypatch.setitem(parallel._STATE, "min_elements", None)
    got = parallel.min_split_elements()
    assert parallel._MIN_FLOOR <= got <= parallel._MIN_CEILING
    assert parallel.min_split_elements() == got      # measured once


def test_split_threshold_override_and_one_thread(monkeypatch):
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 12345)
    assert parallel.min_split_elements() == 12345
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", None)
    monkeypatch.setitem(parallel._STATE, "n", 1)
    assert parallel.min_split_elements() == parallel._MIN_CEILING


@pytest.mark.parametrize("elements,split", [(999, False), (1000, True)])
def test_split_rows_inline_below_the_threshold(elements, split, two_threads,
                                               monkeypatch):
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1000)
    seen = []
    parallel.split_rows(10, elements, lambda a, b: seen.append(
        (a, b, threading.current_thread().name)))
    assert sorted((a, b) for a, b, _ in seen) == (
        [(0, 5), (5, 10)] if split else [(0, 10)])
    workers = [n for *_, n in seen if n.startswith("gkeras-cpu")]
    assert bool(workers) == split


def test_even_parts_cover_the_range():
    assert parallel.even_parts(5, 2) == [(0, 2), (2, 5)]
    assert parallel.even_parts(3, 1) == [(0, 3)]
    assert parallel.even_parts(0, 0) == [(0, 0)]
    parts = parallel.even_parts(17, 4)
    assert parts[0][0] == 0 and parts[-1][1] == 17
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))
    assert max(b - a for a, b in parts) - min(b - a for a, b in parts) <= 1


class _FakeSetter:
    """Stands for openblas_set_num_threads_local: records the counts."""

    def __init__(self, current):
        self.current, self.calls = current, []

    def __call__(self, n):
        self.calls.append(n)
        prev, self.current = self.current, n
        return prev


@pytest.mark.parametrize("parts", [[(0, 7)], [(0, 3), (3, 7)]])
def test_run_parts_runs_blas_on_one_thread_and_restores(parts, two_threads,
                                                        monkeypatch):
    setter = _FakeSetter(2)
    parallel._pool(2)
    monkeypatch.setitem(parallel._STATE, "blas", setter)
    seen = []
    parallel.run_parts(parts, lambda a, b: seen.append(
        (a, b, setter.current, threading.current_thread().name)))
    assert sorted(s[:2] for s in seen) == parts
    assert all(s[2] == 1 for s in seen)        # one BLAS thread inside
    assert setter.current == 2                 # restored after
    on_pool = [s for s in seen if s[3].startswith("gkeras-cpu")]
    assert bool(on_pool) == (len(parts) > 1)


def test_run_parts_without_a_blas_setter(monkeypatch):
    monkeypatch.setitem(parallel._STATE, "blas", None)
    seen = []
    parallel.run_parts([(0, 4)], lambda a, b: seen.append((a, b)))
    parallel.run_parts([], lambda a, b: seen.append((a, b)))
    assert seen == [(0, 4)]
