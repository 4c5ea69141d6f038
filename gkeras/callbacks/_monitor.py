"""Whether a monitored quantity should go down or up (shared by the
callbacks that watch a metric)."""

import numpy as np


def monitor_direction(model, monitor, mode):
    """Returns "min" or "max" for `monitor` under `mode` ("auto" looks at
    the metric's `_direction`, like Keras 3, then at the name).

    Raises:
        ValueError: when `mode="auto"` cannot tell.
    """
    if mode in ("min", "max"):
        return mode
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name == "loss" or name.endswith("_loss"):
        return "min"
    for m in _all_metrics(model):
        if getattr(m, "name", None) == name and hasattr(m, "_direction"):
            return "max" if m._direction == "up" else "min"
    if "acc" in name or name.startswith("fmeasure") or name in (
            "auc", "precision", "recall", "f1_score", "fbeta_score"):
        return "max"
    if "error" in name or "crossentropy" in name or "hinge" in name:
        return "min"
    raise ValueError(
        f"Received monitor={monitor!r}, but gkeras isn't able to "
        "automatically determine whether that metric should be maximized or "
        "minimized. Pass `mode='max'` in order to monitor based on the "
        "highest metric value, or pass `mode='min'` in order to use the "
        "lowest value.")


def _all_metrics(model):
    out = []
    for m in getattr(model, "metrics", None) or []:
        inner = getattr(m, "metrics", None)
        if isinstance(inner, list):
            out.extend(inner)
        out.append(m)
    return out


def scalar(value):
    """A log value as a Python float (None stays None)."""
    if value is None:
        return None
    if hasattr(value, "numpy"):
        value = value.numpy()
    return float(np.asarray(value))
