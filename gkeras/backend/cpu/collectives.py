"""Collective communication for data-parallel training, on NumPy buffers
through MPI (mpi4py).

`backend.gpu.collectives` exports the same names for CuPy buffers (NCCL).
`gkeras.distribution` creates one `Communicator` per process from an
mpi4py communicator and moves every gradient, statistic and weight
through it; nothing here imports mpi4py at module import time (the
communicator object is handed in).
"""

import numpy as np

__all__ = ["Communicator", "select_device"]


def select_device(local_rank):
    """Binds this process to its device; nothing to do on the CPU.

    Args:
        local_rank: the rank of this process among those on its node.

    Returns:
        The device name, `"cpu:0"`.
    """
    del local_rank
    return "cpu:0"


class Communicator:
    """Sum-all-reduce and broadcast of contiguous NumPy buffers over MPI.

    Every collective is called by all ranks in the same order with
    buffers of the same size and dtype, and works in place (no temporary
    copies: MPI reads and writes the caller's buffer).

    Args:
        mpi_comm: an `mpi4py.MPI.Comm` (usually `MPI.COMM_WORLD`).

    Example:

    >>> from mpi4py import MPI
    >>> comm = Communicator(MPI.COMM_WORLD)
    >>> buf = np.ones(4, "float32")
    >>> comm.allreduce_sum_(buf)   # buf == size everywhere
    """

    backend_name = "mpi"

    def __init__(self, mpi_comm):
        self.mpi_comm = mpi_comm
        self.rank = mpi_comm.Get_rank()
        self.size = mpi_comm.Get_size()
        from mpi4py import MPI
        self._in_place = MPI.IN_PLACE
        self._sum = MPI.SUM

    @staticmethod
    def _check(buf, what):
        if not isinstance(buf, np.ndarray) or not buf.flags.c_contiguous:
            raise TypeError(
                f"Communicator.{what}: expected a C-contiguous NumPy array "
                f"(the CPU communicator runs on host buffers). Received: "
                f"{type(buf).__name__}")

    def allreduce_sum_(self, buf):
        """Replaces `buf` on every rank by the element-wise sum over ranks.

        Args:
            buf: C-contiguous NumPy array (same shape/dtype on all ranks).

        Returns:
            `buf`.
        """
        self._check(buf, "allreduce_sum_")
        if self.size > 1:
            self.mpi_comm.Allreduce(self._in_place, buf, op=self._sum)
        return buf

    def broadcast_(self, buf, root=0):
        """Overwrites `buf` on every rank with rank `root`'s values.

        Args:
            buf: C-contiguous NumPy array.
            root: the rank whose values win.

        Returns:
            `buf`.
        """
        self._check(buf, "broadcast_")
        if self.size > 1:
            self.mpi_comm.Bcast(buf, root=root)
        return buf

    def synchronize(self):
        """Waits for pending collectives (MPI calls here are blocking)."""
        return None
