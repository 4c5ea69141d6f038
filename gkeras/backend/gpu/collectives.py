"""Collective communication for data-parallel training, on CuPy buffers
through NCCL (`cupy.cuda.nccl`).

Same names and signatures as `backend.cpu.collectives`. The NCCL unique
id is created on rank 0 and broadcast over the MPI communicator handed
in, so any MPI launcher (`mpiexec`, `mpirun`, `srun`) starts the job.
CuPy is imported inside functions only, so this module imports on
machines without it.
"""

__all__ = ["Communicator", "select_device"]


def select_device(local_rank):
    """Makes the GPU `local_rank % device_count` current for this process.

    Call it before any CuPy array is allocated, so every process drives
    its own GPU (one process per GPU is what NCCL expects).

    Args:
        local_rank: the rank of this process among those on its node.

    Returns:
        The device name, e.g. `"gpu:1"`.
    """
    import cupy
    n = cupy.cuda.runtime.getDeviceCount()
    if n < 1:
        raise RuntimeError(
            "gkeras.distribution: the CuPy backend was selected but no CUDA "
            "device is visible to this process.")
    dev = int(local_rank) % n
    cupy.cuda.Device(dev).use()
    return f"gpu:{dev}"


_DTYPES = {}


def _nccl_dtype(dtype):
    from cupy.cuda import nccl
    if not _DTYPES:
        _DTYPES.update({
            "float32": nccl.NCCL_FLOAT32, "float64": nccl.NCCL_FLOAT64,
            "float16": nccl.NCCL_FLOAT16, "int32": nccl.NCCL_INT32,
            "int64": nccl.NCCL_INT64, "uint8": nccl.NCCL_UINT8,
            "int8": nccl.NCCL_INT8})
    try:
        return _DTYPES[str(dtype)]
    except KeyError:
        raise TypeError(
            f"Communicator: NCCL has no collective for dtype {dtype}; "
            f"supported: {sorted(_DTYPES)}.") from None


class Communicator:
    """Sum-all-reduce and broadcast of contiguous CuPy buffers over NCCL.

    Collectives are enqueued on the current CUDA stream and return at
    once (no host synchronization), so the optimizer update that follows
    is ordered after the all-reduce on the same stream.

    Args:
        mpi_comm: an `mpi4py.MPI.Comm`; rank 0 creates the NCCL unique id
            and broadcasts it over this communicator.

    Example:

    >>> from mpi4py import MPI
    >>> comm = Communicator(MPI.COMM_WORLD)
    >>> buf = cupy.ones(4, "float32")
    >>> comm.allreduce_sum_(buf)   # buf == size everywhere
    """

    backend_name = "nccl"

    def __init__(self, mpi_comm):
        from cupy.cuda import nccl
        self.mpi_comm = mpi_comm
        self.rank = mpi_comm.Get_rank()
        self.size = mpi_comm.Get_size()
        uid = nccl.get_unique_id() if self.rank == 0 else None
        uid = mpi_comm.bcast(uid, root=0)
        self.nccl_comm = nccl.NcclCommunicator(self.size, uid, self.rank)
        self._sum = nccl.NCCL_SUM

    @staticmethod
    def _check(buf, what):
        if not type(buf).__module__.startswith("cupy") or \
                not buf.flags.c_contiguous:
            raise TypeError(
                f"Communicator.{what}: expected a C-contiguous CuPy array "
                f"(the NCCL communicator runs on device buffers). Received: "
                f"{type(buf).__name__}")

    def allreduce_sum_(self, buf):
        """Replaces `buf` on every rank by the element-wise sum over ranks.

        Args:
            buf: C-contiguous CuPy array (same shape/dtype on all ranks).

        Returns:
            `buf`.
        """
        import cupy
        self._check(buf, "allreduce_sum_")
        stream = cupy.cuda.get_current_stream().ptr
        self.nccl_comm.allReduce(buf.data.ptr, buf.data.ptr, buf.size,
                                 _nccl_dtype(buf.dtype), self._sum, stream)
        return buf

    def broadcast_(self, buf, root=0):
        """Overwrites `buf` on every rank with rank `root`'s values.

        Args:
            buf: C-contiguous CuPy array.
            root: the rank whose values win.

        Returns:
            `buf`.
        """
        import cupy
        self._check(buf, "broadcast_")
        stream = cupy.cuda.get_current_stream().ptr
        self.nccl_comm.bcast(buf.data.ptr, buf.size, _nccl_dtype(buf.dtype),
                             root, stream)
        return buf

    def synchronize(self):
        """Blocks until the collectives enqueued so far have finished, and
        raises if NCCL reported an asynchronous error."""
        import cupy
        cupy.cuda.get_current_stream().synchronize()
        self.nccl_comm.check_async_error()

    def abort(self):
        """Aborts pending NCCL operations (used by the failure watchdog)."""
        self.nccl_comm.abort()
