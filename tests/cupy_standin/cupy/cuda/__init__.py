"""`cupy.cuda` of the stand-in: one fake device (compute capability 8.0),
streams and events that complete at once, pinned host buffers, and the
NVRTC version of the wheel that compiles `RawModule`s."""

from cupy.cuda import runtime  # noqa: F401
from cupy.cuda import nvrtc  # noqa: F401


def is_available():
    return True


class Device:
    """The stand-in's single CUDA device."""

    def __init__(self, device=None):
        device = 0 if device is None else int(device)
        if device != 0:
            raise RuntimeError("cudaErrorInvalidDevice: invalid device "
                               "ordinal (the CuPy stand-in has one device)")
        self.id = device

    compute_capability = "80"

    @property
    def name(self):
        return "CuPy stand-in (CPU)"

    def synchronize(self):
        pass

    def use(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __int__(self):
        return self.id

    def __repr__(self):
        return f"<CUDA Device {self.id}>"

    @property
    def mem_info(self):
        return (80 << 30, 80 << 30)

    @property
    def attributes(self):
        return {"MultiProcessorCount": 108, "MaxThreadsPerBlock": 1024,
                "MaxSharedMemoryPerBlock": 49152, "WarpSize": 32}


class Event:
    """A CUDA event; the stand-in's work is complete when it is issued."""

    def __init__(self, block=False, disable_timing=False, interprocess=False):
        pass

    @property
    def done(self):
        return True

    def record(self, stream=None):
        pass

    def synchronize(self):
        pass


class Stream:
    """A CUDA stream; work on it runs at once on the host."""

    null = None

    def __init__(self, null=False, non_blocking=False, ptds=False,
                 priority=None):
        self.ptr = 0 if null else id(self)

    def record(self, event=None):
        event = event or Event()
        event.record(self)
        return event

    def wait_event(self, event):
        pass

    def synchronize(self):
        pass

    @property
    def done(self):
        return True

    def use(self):
        global _CURRENT
        _CURRENT = self
        return self

    def __enter__(self):
        self._prev = get_current_stream()
        return self.use()

    def __exit__(self, *exc):
        self._prev.use()
        return False


Stream.null = Stream(null=True)
_CURRENT = Stream.null


def get_current_stream(device_id=None):
    return _CURRENT


def alloc_pinned_memory(size):
    """Page-locked host memory (here: ordinary host memory)."""
    return bytearray(int(size))


class MemoryPointer:
    def __init__(self, mem=None, offset=0):
        raise NotImplementedError("cupy stand-in: raw device pointers are "
                                  "not emulated")
