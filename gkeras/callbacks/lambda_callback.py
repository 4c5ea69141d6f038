"""`LambdaCallback`: a callback from plain functions."""

from gkeras.callbacks.callback import Callback


class LambdaCallback(Callback):
    """Builds a callback from functions given for some hooks.

    Args:
        on_epoch_begin, on_epoch_end: `f(epoch, logs)`.
        on_train_begin, on_train_end: `f(logs)`.
        on_train_batch_begin, on_train_batch_end: `f(batch, logs)`.
        on_batch_begin, on_batch_end: Keras-2 names of the batch hooks.
        **kwargs: any other `on_*` hook.

    Example:
    >>> cb = gkeras.callbacks.LambdaCallback(
    ...     on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None,
                 on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None,
                 on_batch_begin=None, on_batch_end=None, **kwargs):
        super().__init__()
        given = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin or
                     on_batch_begin,
                     on_train_batch_end=on_train_batch_end or on_batch_end)
        for k, v in kwargs.items():
            if not k.startswith("on_"):
                raise TypeError(f"LambdaCallback got an unexpected argument "
                                f"{k!r}.")
            given[k] = v
        for name, fn in given.items():
            if fn is not None:
                if not callable(fn):
                    raise TypeError(f"LambdaCallback: `{name}` must be "
                                    f"callable. Received: {fn!r}")
                setattr(self, name, fn)
        # CallbackList looks hooks up on the class; give this instance a
        # class of its own so per-instance hooks are dispatched.
        self.__class__ = type("LambdaCallback", (LambdaCallback,),
                              {k: staticmethod(v) for k, v in given.items()
                               if v is not None})
