"""Reading a small device value back later, without stalling the stream.

`LossScaleOptimizer` decides on the device whether a step is applied; the
host needs that flag only one step later (to correct its step count).
`DeferredHostValue` starts an asynchronous copy into pinned host memory
right away and records an event behind it; `get()` waits for that event
only, not for the work queued on the stream since.
"""


class DeferredHostValue:
    """An asynchronous device-to-host copy of a 0-d array.

    Args:
        array: a 0-d CuPy array.
    """

    __slots__ = ("_host", "_event")

    def __init__(self, array):
        import cupy
        import cupyx
        self._host = cupyx.empty_pinned(array.shape, dtype=array.dtype)
        stream = cupy.cuda.get_current_stream()
        self._host[...] = 0
        cupy.cuda.runtime.memcpyAsync(
            self._host.ctypes.data, array.data.ptr, array.nbytes,
            cupy.cuda.runtime.memcpyDeviceToHost, stream.ptr)
        self._event = cupy.cuda.Event(block=False, disable_timing=True)
        self._event.record(stream)

    def get(self):
        """The value, as a Python scalar (waits for the copy only)."""
        self._event.synchronize()
        return self._host.item()
