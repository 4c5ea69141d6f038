"""Base class of the element-wise merge layers (Add, Multiply, ...)."""

from gkeras import ops
from gkeras.layers.layer import Layer


class Merge(Layer):
    """Base class of merge layers: combines a list of tensors element-wise.

    Inputs of lower rank get size-1 axes inserted after the batch axis;
    then the shapes broadcast (NumPy rules, `None` = unknown). The output
    mask is the AND of the input masks.

    Args:
        **kwargs: standard layer keyword arguments.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _merge_function(self, inputs):
        raise NotImplementedError

    def _check_list(self, input_shape, at_least=1):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or \
                not isinstance(input_shape[0], (list, tuple)):
            raise ValueError(
                f"A merge layer ({type(self).__name__} {self.name!r}) should "
                "be called on a list of inputs. Received: "
                f"input_shape={input_shape} (not a list of shapes)")
        if len(input_shape) < at_least:
            raise ValueError(
                f"A merge layer ({type(self).__name__} {self.name!r}) should "
                f"be called on a list of at least {at_least} input(s). Got "
                f"{len(input_shape)} inputs. Full input_shape received: "
                f"{input_shape}")

    def _elemwise_shape(self, shape1, shape2):
        if shape1 is None or shape2 is None:
            return None
        if len(shape1) < len(shape2):
            return self._elemwise_shape(shape2, shape1)
        if not shape2:
            return tuple(shape1)
        out = list(shape1[:-len(shape2)])
        for i, j in zip(shape1[-len(shape2):], shape2):
            if i is None or j is None:
                out.append(None if (i is None and j is None) or
                           1 in (i, j) else (i if j is None else j))
            elif i == 1:
                out.append(j)
            elif j == 1 or i == j:
                out.append(i)
            else:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: inputs have "
                    f"incompatible shapes. Received shapes {tuple(shape1)} "
                    f"and {tuple(shape2)}")
        return tuple(out)

    def build(self, input_shape):
        self._check_list(input_shape)
        batch = {s[0] for s in input_shape if s and s[0] is not None}
        if len(batch) > 1:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: cannot merge tensors "
                f"with different batch sizes. Received tensors with shapes "
                f"{[tuple(s) for s in input_shape]}")
        self.compute_output_shape(input_shape)
        self.built = True

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"A merge layer ({type(self).__name__} {self.name!r}) should "
                f"be called on a list of inputs. Received: inputs={inputs!r}")
        ranks = [x.ndim for x in inputs]
        if len(set(ranks)) > 1:
            top = max(ranks)
            inputs = [_expand_after_batch(x, top - x.ndim) for x in inputs]
        return self._merge_function(list(inputs))

    def compute_output_shape(self, input_shape):
        self._check_list(input_shape)
        shapes = [tuple(s) for s in input_shape]
        top = max(len(s) for s in shapes)
        shapes = [s[:1] + (1,) * (top - len(s)) + s[1:] for s in shapes]
        out = shapes[0][1:]
        for s in shapes[1:]:
            out = self._elemwise_shape(out, s[1:])
        batch = {s[0] for s in shapes if s[0] is not None}
        return (batch.pop() if len(batch) == 1 else None,) + tuple(out)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)):
            raise ValueError(f"{type(self).__name__} {self.name!r}: `mask` "
                             f"should be a list. Received: mask={mask!r}")
        if not isinstance(inputs, (list, tuple)) or len(mask) != len(inputs):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: the lists `inputs` "
                "and `mask` should have the same length. Received: "
                f"{len(inputs) if isinstance(inputs, (list, tuple)) else 1} "
                f"inputs and {len(mask)} masks")
        masks = [m for m in mask if m is not None]
        if not masks:
            return None
        out = ops.cast(masks[0], "bool")
        for m in masks[1:]:
            out = ops.logical_and(out, ops.cast(m, "bool"))
        return out

    def get_config(self):
        return super().get_config()


def _expand_after_batch(x, n):
    for _ in range(n):
        x = ops.expand_dims(x, 1)
    return x
