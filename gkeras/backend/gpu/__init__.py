"""CuPy implementations of the heavy primitives, on the CUDA kernels of `kernels/`.

One module per family (`conv`, `pool`, `batchnorm`, `rnn`, `attention`,
`layernorm`); each lists its entry points in `__all__`. `backend.cpu`
exports exactly the same names with the same signatures, on NumPy arrays
(a test asserts the two sets are equal). Modules here import CuPy only
inside functions (or through `_module.py`), so the launch-configuration
helpers can be imported and tested on a machine without CuPy. Functions take and return plain
arrays (no autograd): the differentiable primitives in `gkeras.ops` call
them.
"""

from gkeras.backend.gpu.conv import *  # noqa: F401,F403
from gkeras.backend.gpu.pool import *  # noqa: F401,F403
from gkeras.backend.gpu.batchnorm import *  # noqa: F401,F403
from gkeras.backend.gpu.rnn import *  # noqa: F401,F403
from gkeras.backend.gpu.attention import *  # noqa: F401,F403
from gkeras.backend.gpu.layernorm import *  # noqa: F401,F403
from gkeras.backend.gpu.image import *  # noqa: F401,F403
from gkeras.backend.gpu.collectives import *  # noqa: F401,F403
from gkeras.backend.gpu.array_ops import *  # noqa: F401,F403
from gkeras.backend.gpu import (conv, pool, batchnorm, rnn, attention,
                                layernorm)
from gkeras.backend.gpu import image
from gkeras.backend.gpu import collectives
from gkeras.backend.gpu import array_ops

FAMILIES = (conv, pool, batchnorm, rnn, attention, layernorm, image,
            collectives, array_ops)
__all__ = [n for fam in FAMILIES for n in fam.__all__]
