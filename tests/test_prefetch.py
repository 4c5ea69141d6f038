"""The CuPy input pipeline (backend/gpu/prefetch.py, models/data_adapter.py):
host batches gathered into pinned memory, copied on a side stream, the
consumer's stream waiting on an event, `depth` batches ahead.

A fake `cupy` records every call of the real API the prefetcher uses
(`cuda.alloc_pinned_memory`, `cuda.Stream`, `Stream.record`,
`Stream.wait_event`, `Event.done`/`synchronize`, `empty`,
`ndarray.set(arr, stream=)`), so the order of copies, waits and yields and
the reuse of pinned buffers are checked without a GPU. The NumPy backend
path is unchanged (covered by the rest of the suite).
"""

import sys
import types

import numpy as np
import pytest

import gkeras.backend as B
from gkeras.backend.gpu.prefetch import HostGather, prefetch_to_device
from gkeras.models import data_adapter


class FakeEvent:
    def __init__(self, log, done):
        self.log, self.done = log, done

    def synchronize(self):
        self.log.append(("synchronize", id(self)))
        self.done = True


class FakeStream:
    def __init__(self, log, name, events_done):
        self.log, self.name, self.events_done = log, name, events_done

    def record(self):
        ev = FakeEvent(self.log, self.events_done)
        self.log.append(("record", self.name, id(ev)))
        return ev

    def wait_event(self, ev):
        self.log.append(("wait", self.name, id(ev)))


class FakeDeviceArray:
    def __init__(self, log, shape, dtype):
        self.log = log
        self.data = np.full(shape, -1, dtype)
        self.shape, self.dtype = self.data.shape, self.data.dtype

    def set(self, arr, stream=None):
        assert arr.flags.c_contiguous and arr.shape == self.shape
        self.log.append(("set", stream.name if stream else None))
        self.data[...] = arr


def fake_cupy(events_done=True, capable=True):
    log = []
    cp = types.ModuleType("cupy")
    main = FakeStream(log, "main", events_done)

    def alloc(n):
        log.append(("alloc", n))
        return np.empty(n, np.uint8)

    cuda = types.SimpleNamespace(
        Stream=lambda non_blocking=False: FakeStream(log, "side",
                                                     events_done),
        get_current_stream=lambda: main)
    if capable:
        cuda.alloc_pinned_memory = alloc
    cp.cuda = cuda
    cp.empty = lambda shape, dtype: FakeDeviceArray(log, shape, dtype)
    cp.asarray = lambda a: ("asarray", np.asarray(a))
    cp.log = log
    return cp


def _batches(n, rng):
    x = rng.standard_normal((10, 3)).astype(np.float32)
    for i in range(n):
        idx = rng.permutation(10)[:4]
        yield (HostGather(x, idx), np.full((4, 1), i, np.int32), None,
               "tag"), (x[idx], i)


def test_values_structure_and_pass_through():
    cp = fake_cupy()
    rng = np.random.default_rng(0)
    pairs = list(_batches(5, rng))
    got = list(prefetch_to_device((b for b, _ in pairs), depth=2, cp=cp))
    assert len(got) == 5
    for (dx, dy, none, tag), (_, (want_x, i)) in zip(got, pairs):
        assert isinstance(dx, FakeDeviceArray)
        np.testing.assert_array_equal(dx.data, want_x)
        np.testing.assert_array_equal(dy.data, np.full((4, 1), i))
        assert none is None and tag == "tag"


def test_copies_run_ahead_on_the_side_stream_and_the_step_waits():
    cp = fake_cupy()
    seen = []
    gen = prefetch_to_device((b for b, _ in _batches(4, np.random.default_rng(
        1))), depth=2, cp=cp)
    for k, _ in enumerate(gen):
        seen.append(len([e for e in cp.log if e[0] == "record"]))
        # The batch handed over is waited for by the consumer's stream, on
        # the device: the last wait names the event of batch k.
        waits = [e for e in cp.log if e[0] == "wait"]
        records = [e for e in cp.log if e[0] == "record"]
        assert waits[-1] == ("wait", "main", records[k][2])
    # Batch k+1 was already gathered and its copy issued when batch k was
    # handed over (depth 2), never more than 2 ahead.
    assert seen == [2, 3, 4, 4]
    assert all(e[1] == "side" for e in cp.log if e[0] == "set")
    assert not any(e[0] == "synchronize" for e in cp.log)


def test_pinned_buffers_are_reused_once_their_copy_is_done():
    cp = fake_cupy(events_done=True)
    list(prefetch_to_device((b for b, _ in _batches(20, np.random.default_rng(
        2))), depth=2, cp=cp))
    allocs = [e for e in cp.log if e[0] == "alloc"]
    # Two leaves per batch, at most depth + 1 buffers of each in use.
    assert 2 <= len(allocs) <= 2 * 3


def test_pending_copies_grow_the_pool_then_wait_for_the_oldest():
    cp = fake_cupy(events_done=False)
    list(prefetch_to_device((b for b, _ in _batches(20, np.random.default_rng(
        3))), depth=2, cp=cp))
    allocs = [e for e in cp.log if e[0] == "alloc"]
    assert len(allocs) <= 2 * (2 * 2 + 2)  # bounded: max_per_size per leaf
    assert any(e[0] == "synchronize" for e in cp.log)


def test_host_gather_takes_rows_into_the_buffer():
    a = np.arange(24, dtype=np.float64).reshape(6, 4)
    out = np.empty((3, 4))
    HostGather(a, np.array([5, 0, 5])).gather_into(out)
    np.testing.assert_array_equal(out, a[[5, 0, 5]])
    g = HostGather(a, slice(4, 10))
    assert g.shape == (2, 4) and g.dtype == np.float64
    np.testing.assert_array_equal(g.numpy(), a[4:])


def test_cupy_without_the_stream_api_gets_plain_copies():
    cp = fake_cupy(capable=False)
    (x, y, _, _), = prefetch_to_device(
        [b for b, _ in _batches(1, np.random.default_rng(4))], cp=cp)
    assert x[0] == "asarray" and y[0] == "asarray"
    with pytest.raises(ValueError, match="depth must be >= 1"):
        prefetch_to_device([], depth=0, cp=cp)


def test_array_adapter_on_cupy_gathers_through_the_prefetcher(monkeypatch):
    # The same epoch (same shuffle) on the NumPy backend and, through the
    # fake, on "CuPy": identical batches, the CuPy ones device arrays
    # filled from pinned memory.
    rng_x = np.random.default_rng(5)
    x = rng_x.standard_normal((11, 2)).astype(np.float32)
    y = np.arange(11, dtype=np.float32)
    want = list(data_adapter.ArrayAdapter(
        x, y, batch_size=4, shuffle=True).epoch(np.random.default_rng(9)))
    cp = fake_cupy()
    monkeypatch.setitem(sys.modules, "cupy", cp)
    monkeypatch.setattr(B, "_BACKEND", "cupy")
    got = list(data_adapter.ArrayAdapter(
        x, y, batch_size=4, shuffle=True).epoch(np.random.default_rng(9)))
    assert len(got) == len(want) == 3
    # Packed as Keras packs them: (x, y) when there are no sample weights.
    for (gx, gy), (wx, wy) in zip(got, want):
        assert isinstance(gx, FakeDeviceArray)
        np.testing.assert_array_equal(gx.data, wx)
        np.testing.assert_array_equal(gy.data, wy)
    assert [e[1] for e in cp.log if e[0] == "set"] == ["side"] * 6


def test_generators_still_yield_numpy_to_user_code(monkeypatch):
    cp = fake_cupy()
    monkeypatch.setitem(sys.modules, "cupy", cp)
    monkeypatch.setattr(B, "_BACKEND", "cupy")
    produced = []

    def gen():
        for i in range(3):
            b = (np.full((2, 2), i, np.float32), np.ones((2, 1), np.float32))
            produced.append(b)
            yield b

    got = list(data_adapter.GeneratorAdapter(gen(), steps=3).epoch(
        np.random.default_rng(0)))
    assert all(type(a) is np.ndarray for b in produced for a in b)
    assert [g[0].data[0, 0] for g in got] == [0, 1, 2]
