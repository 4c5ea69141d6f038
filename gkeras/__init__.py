"""gkeras: Keras-compatible deep learning on NumPy (CPU) and CuPy (NVIDIA
GPUs, with custom CUDA kernels).

Use it as Keras: `import gkeras as keras` (Keras 3 code) or
`from gkeras.layers import Dense` (Keras 2 code).
"""

__version__ = "0.1.0"

from gkeras import backend  # noqa: F401
from gkeras import ops  # noqa: F401
from gkeras import activations  # noqa: F401
from gkeras import initializers  # noqa: F401
from gkeras import regularizers  # noqa: F401
from gkeras import constraints  # noqa: F401
from gkeras import layers  # noqa: F401
from gkeras import models  # noqa: F401
from gkeras import random  # noqa: F401
from gkeras import saving  # noqa: F401
from gkeras import utils  # noqa: F401
from gkeras import config  # noqa: F401
from gkeras import dtype_policies  # noqa: F401
from gkeras import mixed_precision  # noqa: F401
from gkeras.dtype_policies import DTypePolicy, FloatDTypePolicy  # noqa: F401
from gkeras.layers import Input, InputSpec, Layer  # noqa: F401
from gkeras.models import Model, Sequential  # noqa: F401
from gkeras.ops.engine import GradientTape  # noqa: F401
from gkeras.ops.symbolic import KerasTensor  # noqa: F401
from gkeras.ops.variable import Variable  # noqa: F401

# Loaded on first use: `compile`/`fit` need losses, metrics, optimizers
# and callbacks, building a model does not.
_LAZY = ("datasets", "preprocessing", "applications", "wrappers",
         "distribution", "demo", "losses", "metrics", "optimizers",
         "callbacks")


def __getattr__(name):
    # Heavier or optional subpackages load on first use, keeping
    # `import gkeras` light.
    if name in _LAZY:
        import importlib
        return importlib.import_module(f"gkeras.{name}")
    raise AttributeError(f"module 'gkeras' has no attribute {name!r}")


def version():
    """The gkeras version string."""
    return __version__
