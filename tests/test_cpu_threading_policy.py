"""The CPU thread-pool policy: the measured split threshold of
`parallel.split_rows`, and `even_parts`/`run_parts` (parts on the pool
or here, BLAS on one thread either way)."""

import threading

import pytest

from gkeras.backend.cpu import parallel


@pytest.fixture
def two_threads(monkeypatch):
    monkeypatch.setitem(parallel._STATE, "n", 2)


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
