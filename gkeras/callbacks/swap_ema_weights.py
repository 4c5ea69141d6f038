"""`SwapEMAWeights`: evaluate and predict with the optimizer's moving
averages of the weights (`keras.callbacks.SwapEMAWeights`)."""

from gkeras.callbacks.callback import Callback


class SwapEMAWeights(Callback):
    """Swaps the model's weights with their exponential moving averages
    for evaluation and prediction.

    The optimizer must be created with `use_ema=True`. The averages are
    swapped in at `on_test_begin` / `on_predict_begin` and swapped back at
    the matching `_end`, so training continues on the raw weights. With
    `swap_on_epoch=True` they are also swapped in at the end of each epoch
    (so callbacks such as `ModelCheckpoint` placed after this one save the
    averaged weights) and back at the start of the next.

    Args:
        swap_on_epoch: whether to swap at the start and end of each epoch.
            Defaults to `False`.

    Example:

    ```python
    model.compile(optimizer=gkeras.optimizers.SGD(use_ema=True), ...)
    model.fit(x, y, callbacks=[gkeras.callbacks.SwapEMAWeights()])
    ```
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    @staticmethod
    def _swap(optimizer):
        for var, average in zip(optimizer._trainable_variables,
                                optimizer._model_variables_moving_average):
            # One device copy per variable; no host round trip.
            held = var.data.copy()
            var.data[...] = average.data
            average.data[...] = held

    @staticmethod
    def _finalize(optimizer):
        for var, average in zip(optimizer._trainable_variables,
                                optimizer._model_variables_moving_average):
            average.data[...] = var.data

    def _apply_to_ema_optimizers(self, fn):
        optimizer = self.model.optimizer
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        if hasattr(optimizer, "optimizers"):
            inner = optimizer.optimizers
            if not any(getattr(o, "use_ema", False) for o in inner):
                raise ValueError(
                    "SwapEMAWeights must be used when at least one inner "
                    "optimizer has `use_ema=True` set. Received a "
                    "MultiOptimizer with all inner optimizers having "
                    "`use_ema=False`.")
            targets = [o for o in inner if getattr(o, "use_ema", False)]
        else:
            targets = [optimizer]
        for opt in targets:
            if not hasattr(opt, "_model_variables_moving_average"):
                raise ValueError(
                    "SwapEMAWeights must be used when `use_ema=True` is set "
                    "on the optimizer (and the optimizer is built). "
                    f"Received: use_ema={getattr(opt, 'use_ema', None)}")
            fn(opt)

    def _swap_variables(self):
        self._apply_to_ema_optimizers(self._swap)

    def _finalize_ema_values(self):
        self._apply_to_ema_optimizers(self._finalize)

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True
            # fit ends with `finalize_variable_values` copying the averages
            # into the model: after the last epoch's swap the averages
            # must equal what the model now holds.
            if epoch == self.params["epochs"] - 1:
                self._finalize_ema_values()

    def on_test_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_test_end(self, logs=None):
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_predict_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_predict_end(self, logs=None):
        # Keras 3.15 tests `not self._ema_weights_in_model` here, so its
        # predict leaves the averages in the model; gkeras swaps back, as
        # its docstring and `on_test_end` intend.
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False
