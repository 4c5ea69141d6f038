"""`TerminateOnNaN`: stops training when the loss becomes NaN or inf."""

import math

from gkeras.callbacks.callback import Callback
from gkeras.utils.progbar import print_msg


class TerminateOnNaN(Callback):
    """Stops training at the first batch whose loss is NaN or infinite."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None:
            loss = float(loss)
            if math.isnan(loss) or math.isinf(loss):
                print_msg(f"Batch {batch}: Invalid loss, terminating "
                          "training")
                self.model.stop_training = True
