"""`Concatenate`: joins a list of tensors along one axis."""

from gkeras import ops
from gkeras.layers.merging.base_merge import Merge


class Concatenate(Merge):
    """Concatenates a list of inputs along `axis`.

    All inputs must have the same rank and the same sizes on every axis
    but `axis`. With input masks, the output mask is the concatenated mask
    (ones for unmasked inputs), reduced with `any` over the last axis.

    Args:
        axis: the concatenation axis (default -1).
        **kwargs: standard layer keyword arguments.

    Input shape:
        A list of tensors of equal rank.

    Output shape:
        The common shape, with the sizes along `axis` summed.

    Example:
    >>> a = gkeras.Input((4, 3)); b = gkeras.Input((4, 5))
    >>> gkeras.layers.Concatenate()([a, b]).shape
    (None, 4, 8)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def _check_shapes(self, input_shape):
        self._check_list(input_shape)
        shapes = [tuple(s) for s in input_shape]
        ranks = {len(s) for s in shapes}
        ok = len(ranks) == 1
        if ok:
            rank = ranks.pop()
            if not -rank <= self.axis < rank:
                raise ValueError(
                    f"Concatenate {self.name!r}: axis={self.axis} is out of "
                    f"range for inputs of rank {rank}.")
            ax = self.axis % rank
            for i in range(rank):
                if i == ax:
                    continue
                sizes = {s[i] for s in shapes if s[i] is not None}
                if len(sizes) > 1:
                    ok = False
        if not ok:
            raise ValueError(
                f"A `Concatenate` layer ({self.name!r}) requires inputs with "
                "matching shapes except for the concatenation axis "
                f"(axis={self.axis}). Received: input_shape={shapes}")
        return shapes

    def build(self, input_shape):
        self._check_shapes(input_shape)
        self.built = True

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"A `Concatenate` layer ({self.name!r}) should be called on "
                f"a list of inputs. Received: inputs={inputs!r}")
        self._check_shapes([tuple(x.shape) for x in inputs])
        return ops.concatenate(list(inputs), axis=self.axis)

    def compute_output_shape(self, input_shape):
        shapes = self._check_shapes(input_shape)
        ax = self.axis % len(shapes[0])
        out = list(shapes[0])
        for s in shapes[1:]:
            out[ax] = None if out[ax] is None or s[ax] is None else \
                out[ax] + s[ax]
        for i in range(len(out)):
            if i != ax and out[i] is None:
                known = [s[i] for s in shapes if s[i] is not None]
                out[i] = known[0] if known else None
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)) or \
                len(mask) != len(inputs):
            raise ValueError(
                f"Concatenate {self.name!r}: `mask` should be a list of the "
                f"same length as the inputs. Received: mask={mask!r}")
        if all(m is None for m in mask):
            return None
        masks = []
        for x, m in zip(inputs, mask):
            if m is None:
                masks.append(ops.ones_like(x, dtype="bool"))
            elif m.ndim < x.ndim:
                masks.append(ops.broadcast_to(
                    ops.expand_dims(ops.cast(m, "bool"), -1), tuple(x.shape)))
            else:
                masks.append(ops.cast(m, "bool"))
        return ops.any(ops.concatenate(masks, axis=self.axis), axis=-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of `Concatenate`.

    Args:
        inputs: a list of tensors.
        axis: the concatenation axis.
        **kwargs: `Concatenate` keyword arguments.

    Returns:
        The concatenated tensor.
    """
    return Concatenate(axis=axis, **kwargs)(inputs)
