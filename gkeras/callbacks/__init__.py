"""`gkeras.callbacks`: hooks into training (Keras names)."""

from gkeras.callbacks.callback import Callback  # noqa: F401
from gkeras.callbacks.callback_list import CallbackList  # noqa: F401
from gkeras.callbacks.history import History  # noqa: F401
from gkeras.callbacks.lambda_callback import LambdaCallback  # noqa: F401
from gkeras.callbacks.progbar_logger import ProgbarLogger  # noqa: F401
from gkeras.callbacks.terminate_on_nan import TerminateOnNaN  # noqa: F401
