"""`keras.callbacks.OrbaxCheckpoint`: not available in gkeras."""

from gkeras.callbacks.callback import Callback


class OrbaxCheckpoint(Callback):
    """Keras's checkpointing through Orbax (a JAX library), which gkeras
    does not use: creating one raises `NotImplementedError`.

    Use `gkeras.callbacks.ModelCheckpoint` (`.keras` / `.weights.h5`
    files) or `BackupAndRestore` instead.
    """

    def __init__(self, directory, monitor="val_loss", verbose=0,
                 save_best_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None, max_to_keep=1,
                 save_on_background=True, save_weights_only=False):
        raise NotImplementedError(
            "OrbaxCheckpoint writes JAX/Orbax checkpoints and is not "
            "available in gkeras (it has no JAX backend). Use "
            "gkeras.callbacks.ModelCheckpoint(filepath='....keras' or "
            "'....weights.h5', monitor=..., save_best_only=...) or "
            "BackupAndRestore instead.")
