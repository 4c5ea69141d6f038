"""Helpers shared by the `ops.image` modules: rank checks, layout moves,
array module and device placement of host-built constants."""

import importlib
import numpy as np

from gkeras import backend
from gkeras.backend.config import standardize_data_format
from gkeras.ops import core as C
# `gkeras.ops.shape`/`gkeras.ops.conv` are shadowed by the ops of those
# names on the package, so the modules are fetched by their full name.
S = importlib.import_module("gkeras.ops.shape")
from gkeras.ops._base import arr, t_or_a, xp_of

__all__ = ["check_rank", "to_nhwc", "const_like", "data_format_of",
           "float_compute", "as_tensor"]


def data_format_of(data_format):
    return standardize_data_format(data_format)


def check_rank(images, name="images", ranks=(3, 4)):
    """Raises Keras's error unless `images` has one of `ranks`."""
    nd = len(images.shape)
    if nd not in ranks:
        kinds = ("rank 3 (single image) or rank 4 (batch of images)"
                 if ranks == (3, 4) else
                 " or ".join(f"rank {r}" for r in ranks))
        raise ValueError(
            f"Invalid {name} rank: expected {kinds}. Received input with "
            f"shape: {name}.shape={tuple(images.shape)}")


def as_tensor(x):
    """A Tensor (kept, so gradients flow) or a backend array."""
    return t_or_a(x)


def to_nhwc(images, data_format):
    """Rank-3/4 image(s) -> rank-4 channels_last, plus the inverse map."""
    x = as_tensor(images)
    unbatched = len(x.shape) == 3
    if unbatched:
        x = S.expand_dims(x, 0)
    first = data_format == "channels_first"
    if first:
        x = S.transpose(x, (0, 2, 3, 1))

    def back(y):
        if first:
            y = S.transpose(y, (0, 3, 1, 2))
        return S.squeeze(y, 0) if unbatched else y
    return x, back


def const_like(a, like):
    """Puts host array `a` on the device of `like` (a Tensor or array)."""
    if xp_of(arr(like)) is not np:
        return backend.to_device(np.ascontiguousarray(a))
    return a


def float_compute(x):
    """`x` cast to a float dtype (float32 for integer/bool inputs)."""
    dt = np.dtype(x.dtype)
    if dt.kind == "f":
        return x
    return C.cast(x, "float32")
