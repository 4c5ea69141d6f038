"""`gkeras.legacy`: Keras-2 compatibility helpers (Keras's `keras.legacy`).

- `gkeras.legacy.saving`: the Keras-2 (TF-Keras) serialization format,
  `{"class_name": ..., "config": ...}`.
- `gkeras.legacy.backend`: the Keras-2 `import keras.backend as K`
  helpers, also reached as `gkeras.backend.<name>`.
"""

from gkeras.legacy import saving  # noqa: F401

__all__ = ["saving"]
