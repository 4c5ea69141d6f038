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


# Keras 3's top-level names: name -> (module, attribute); loaded on first
# use like the subpackages above.
_LAZY_NAMES = {
    "Loss": ("gkeras.losses", "Loss"),
    "Metric": ("gkeras.metrics", "Metric"),
    "Optimizer": ("gkeras.optimizers", "Optimizer"),
    "Initializer": ("gkeras.initializers", "Initializer"),
    "Regularizer": ("gkeras.regularizers", "Regularizer"),
    "Operation": ("gkeras.ops.operation", "Operation"),
    "Function": ("gkeras.models.function", "Function"),
    "device": ("gkeras.backend.device", "device"),
    "name_scope": ("gkeras.utils.naming", "name_scope"),
    "tree": ("gkeras.tree", None),
    "visualization": ("gkeras.visualization", None),
    "legacy": ("gkeras.legacy", None),
    # Left out on purpose (issue 17): NotImplementedError stand-ins.
    "export": ("gkeras.export", None),
    "quantizers": ("gkeras.quantizers", None),
    "distillation": ("gkeras.distillation", None),
    "remat": ("gkeras.utils.unsupported_names", "remat"),
    "RematScope": ("gkeras.utils.unsupported_names", "RematScope"),
    "StatelessScope": ("gkeras.utils.unsupported_names", "StatelessScope"),
    "SymbolicScope": ("gkeras.utils.unsupported_names", "SymbolicScope"),
    "Quantizer": ("gkeras.utils.unsupported_names", "Quantizer"),
}


def __getattr__(name):
    # Heavier or optional subpackages load on first use, keeping
    # `import gkeras` light.
    import importlib
    if name in _LAZY:
        return importlib.import_module(f"gkeras.{name}")
    if name in _LAZY_NAMES:
        module, attr = _LAZY_NAMES[name]
        module = importlib.import_module(module)
        return module if attr is None else getattr(module, attr)
    raise AttributeError(f"module 'gkeras' has no attribute {name!r}")


def __dir__():
    # The lazy names too, for autocompletion.
    return sorted(set(globals()) | set(_LAZY) | set(_LAZY_NAMES))


def version():
    """The gkeras version string."""
    return __version__
