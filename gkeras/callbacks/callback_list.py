"""`CallbackList`: dispatches hooks to a list of callbacks."""

from gkeras.callbacks.callback import Callback
from gkeras.callbacks.history import History
from gkeras.callbacks.progbar_logger import ProgbarLogger

_HOOKS = ("on_batch_begin", "on_batch_end", "on_epoch_begin", "on_epoch_end",
          "on_train_batch_begin", "on_train_batch_end",
          "on_test_batch_begin", "on_test_batch_end",
          "on_predict_batch_begin", "on_predict_batch_end",
          "on_train_begin", "on_train_end", "on_test_begin", "on_test_end",
          "on_predict_begin", "on_predict_end")


class CallbackList(Callback):
    """A container that calls each callback's hooks in order.

    Args:
        callbacks: list of `Callback` instances.
        add_history: append a `History` callback when there is none.
        add_progbar: append a `ProgbarLogger` when there is none.
        model: the model the callbacks act on.
        **params: `epochs`, `steps`, `verbose` for `set_params`.
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False,
                 model=None, **params):
        super().__init__()
        callbacks = list(callbacks or [])
        for cb in callbacks:
            if not isinstance(cb, Callback) and not _looks_like_callback(cb):
                raise TypeError(
                    "`callbacks` must be a list of gkeras.callbacks.Callback "
                    f"instances. Received: {cb!r}")
        self.callbacks = callbacks
        self._history = None
        if add_history:
            hist = [c for c in callbacks if isinstance(c, History)]
            self._history = hist[0] if hist else History()
            if not hist:
                self.callbacks.append(self._history)
        if add_progbar and not any(isinstance(c, ProgbarLogger)
                                   for c in callbacks):
            self.callbacks.insert(0, ProgbarLogger())
        # Only callbacks that override a batch hook are called per batch.
        self._batch_hooks = {}
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback):
        self.callbacks.append(callback)

    def set_params(self, params):
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model):
        self._model = model
        if self._history is not None:
            model.history = self._history
        for cb in self.callbacks:
            cb.set_model(model)

    def _callers(self, hook):
        found = self._batch_hooks.get(hook)
        if found is None:
            found = []
            for cb in self.callbacks:
                fn = getattr(type(cb), hook, None)
                base = getattr(Callback, hook)
                if fn is not base or hook in ("on_train_batch_begin",
                                              "on_train_batch_end") and (
                        type(cb).on_batch_begin is not Callback.on_batch_begin
                        or type(cb).on_batch_end is not Callback.on_batch_end):
                    found.append(getattr(cb, hook))
            self._batch_hooks[hook] = found
        return found

    def __iter__(self):
        return iter(self.callbacks)


def _make_hook(hook):
    # As Keras's CallbackList: hooks always receive `logs` (a dict), so
    # user functions written `lambda epoch, logs: ...` work.
    n_args = 0 if hook.endswith(("_train_begin", "_train_end",
                                 "_test_begin", "_test_end",
                                 "_predict_begin", "_predict_end")) else 1

    def dispatch(self, *args, **kwargs):
        if len(args) == n_args and "logs" not in kwargs:
            args = args + ({},)
        elif len(args) > n_args and args[n_args] is None:
            args = args[:n_args] + ({},) + args[n_args + 1:]
        for fn in self._callers(hook):
            fn(*args, **kwargs)
    dispatch.__name__ = hook
    return dispatch


for _h in _HOOKS:
    setattr(CallbackList, _h, _make_hook(_h))


def _looks_like_callback(obj):
    return hasattr(obj, "on_epoch_end") and hasattr(obj, "set_model")
