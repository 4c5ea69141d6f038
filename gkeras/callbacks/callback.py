"""`Callback`: the base class of training hooks (Keras protocol)."""


class Callback:
    """Base class for objects called at points of `fit`/`evaluate`/`predict`.

    Override the `on_*` hooks you need; `self.model` and `self.params`
    (`epochs`, `steps`, `verbose`) are set before training starts.

    Example:

    ```python
    class PrintLoss(gkeras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            print(epoch, logs["loss"])
    ```
    """

    def __init__(self):
        self.params = None
        self._model = None
        self.validation_data = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        return self._model

    def on_batch_begin(self, batch, logs=None):
        """Keras-2 alias of `on_train_batch_begin`."""

    def on_batch_end(self, batch, logs=None):
        """Keras-2 alias of `on_train_batch_end`."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of an epoch."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch with its (and val_) metrics."""

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Called before each `evaluate` batch."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after each `evaluate` batch."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before each `predict` batch."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after each `predict` batch."""

    def on_train_begin(self, logs=None):
        """Called at the start of `fit`."""

    def on_train_end(self, logs=None):
        """Called at the end of `fit`."""

    def on_test_begin(self, logs=None):
        """Called at the start of `evaluate` (and validation)."""

    def on_test_end(self, logs=None):
        """Called at the end of `evaluate` (and validation)."""

    def on_predict_begin(self, logs=None):
        """Called at the start of `predict`."""

    def on_predict_end(self, logs=None):
        """Called at the end of `predict`."""
