"""`keras.optimizers.legacy`: the Keras-2 (tf.keras) optimizer names.

Keras 3 raises ImportError on these; gkeras runs Keras-2 tutorial code,
so they are the current optimizers, which accept the Keras-2 arguments
(`lr=`, `decay=`) too.

Example:

>>> from gkeras.optimizers.legacy import Adam
>>> opt = Adam(lr=1e-3, decay=1e-6)
"""

from gkeras.optimizers.adagrad import Adagrad  # noqa: F401
from gkeras.optimizers.adam import Adam  # noqa: F401
from gkeras.optimizers.base_optimizer import Optimizer  # noqa: F401
from gkeras.optimizers.ftrl import Ftrl  # noqa: F401
from gkeras.optimizers.rmsprop import RMSprop  # noqa: F401
from gkeras.optimizers.sgd import SGD  # noqa: F401

__all__ = ["Adagrad", "Adam", "Ftrl", "Optimizer", "RMSprop", "SGD"]
