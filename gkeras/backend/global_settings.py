"""Process-wide switches of `gkeras.config` (Keras 3 names): debugging caps
on `fit`, interactive logging, traceback filtering, flash attention.

They live here, at the bottom of the package, because the code reading them
(ops, layers, the training loop, the progress bar) sits above.
"""

import os


def _env_int(*names):
    for name in names:
        value = os.environ.get(name)
        if value:
            try:
                return int(value)
            except ValueError:
                raise ValueError(
                    f"Environment variable {name}={value!r}: expected an "
                    "integer.") from None
    return None


# Keras reads KERAS_MAX_EPOCHS / KERAS_MAX_STEPS_PER_EPOCH at import, so a
# script can be run briefly without editing it; gkeras reads those and the
# GKERAS_ spellings.
_STATE = {
    "max_epochs": _env_int("GKERAS_MAX_EPOCHS", "KERAS_MAX_EPOCHS"),
    "max_steps_per_epoch": _env_int("GKERAS_MAX_STEPS_PER_EPOCH",
                                    "KERAS_MAX_STEPS_PER_EPOCH"),
    "interactive_logging": True,
    "traceback_filtering": True,
    "flash_attention": None,
}


def _check_limit(name, value):
    if value is not None and (isinstance(value, bool) or not isinstance(
            value, int) or value < 1):
        raise ValueError(f"`{name}` must be a positive integer or None. "
                         f"Received: {name}={value!r}")


def set_max_epochs(max_epochs):
    """Caps the number of epochs of every `fit()` (for debugging runs).

    Also set by the `KERAS_MAX_EPOCHS` (or `GKERAS_MAX_EPOCHS`)
    environment variable.

    Args:
        max_epochs: a positive integer, or None for no limit.
    """
    _check_limit("max_epochs", max_epochs)
    _STATE["max_epochs"] = max_epochs


def max_epochs():
    """The cap on `fit()`'s epochs set by `set_max_epochs`, or None."""
    return _STATE["max_epochs"]


def set_max_steps_per_epoch(max_steps_per_epoch):
    """Caps the steps of each epoch of `fit()`, and of `evaluate()` and
    `predict()` (for debugging runs).

    Also set by the `KERAS_MAX_STEPS_PER_EPOCH` (or
    `GKERAS_MAX_STEPS_PER_EPOCH`) environment variable.

    Args:
        max_steps_per_epoch: a positive integer, or None for no limit.
    """
    _check_limit("max_steps_per_epoch", max_steps_per_epoch)
    _STATE["max_steps_per_epoch"] = max_steps_per_epoch


def max_steps_per_epoch():
    """The cap on steps per epoch set by `set_max_steps_per_epoch`, or
    None."""
    return _STATE["max_steps_per_epoch"]


def enable_interactive_logging():
    """Sends logs (progress bars, summaries) to stdout (the default)."""
    _STATE["interactive_logging"] = True


def disable_interactive_logging():
    """Sends logs to the `"gkeras"` Python logger (INFO level) instead of
    stdout, for jobs on servers (Keras uses `absl.logging`)."""
    _STATE["interactive_logging"] = False


def is_interactive_logging_enabled():
    """Whether logs go to stdout (True) or to the `"gkeras"` logger."""
    return _STATE["interactive_logging"]


def enable_traceback_filtering():
    """Hides gkeras's internal frames from the tracebacks of errors raised
    in `fit`, `evaluate`, `predict` and layer calls (the default)."""
    _STATE["traceback_filtering"] = True


def disable_traceback_filtering():
    """Shows the full tracebacks, gkeras's internal frames included."""
    _STATE["traceback_filtering"] = False


def is_traceback_filtering_enabled():
    """Whether tracebacks are filtered (see `enable_traceback_filtering`)."""
    return _STATE["traceback_filtering"]


def enable_flash_attention():
    """Lets attention use its fused (flash) path where it applies (the
    default; as in Keras, the setting then reads None: "automatic")."""
    _STATE["flash_attention"] = None


def disable_flash_attention():
    """Makes `ops.dot_product_attention` and the attention layers compute
    explicit score matrices instead of the fused (flash) kernel."""
    _STATE["flash_attention"] = False


def is_flash_attention_enabled():
    """False when disabled; None ("automatic", the default) otherwise, as
    Keras 3.15 reports it."""
    return _STATE["flash_attention"]
