"""NumPy implementations of the heavy primitives, forward and backward.

One module per family (`conv`, `pool`, `batchnorm`, `rnn`, `attention`,
`layernorm`); each lists its entry points in `__all__`. `backend.gpu`
exports exactly the same names with the same signatures, on CuPy arrays
(a test asserts the two sets are equal). Functions take and return plain
arrays (no autograd): the differentiable primitives in `gkeras.ops` call
them.
"""

from gkeras.backend.cpu.conv import *  # noqa: F401,F403
from gkeras.backend.cpu.pool import *  # noqa: F401,F403
from gkeras.backend.cpu.batchnorm import *  # noqa: F401,F403
from gkeras.backend.cpu.rnn import *  # noqa: F401,F403
from gkeras.backend.cpu.attention import *  # noqa: F401,F403
from gkeras.backend.cpu.layernorm import *  # noqa: F401,F403
from gkeras.backend.cpu.image import *  # noqa: F401,F403
from gkeras.backend.cpu.collectives import *  # noqa: F401,F403
from gkeras.backend.cpu.array_ops import *  # noqa: F401,F403
from gkeras.backend.cpu import (conv, pool, batchnorm, rnn, attention,
                                layernorm)
from gkeras.backend.cpu import image
from gkeras.backend.cpu import collectives
from gkeras.backend.cpu import array_ops
from gkeras.backend.cpu.allocator import tune_allocator
from gkeras.backend.cpu.blas_threads import tune_blas_threads

tune_allocator()
tune_blas_threads()

FAMILIES = (conv, pool, batchnorm, rnn, attention, layernorm, image,
            collectives, array_ops)
__all__ = [n for fam in FAMILIES for n in fam.__all__]
