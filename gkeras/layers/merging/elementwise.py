"""Element-wise merge layers: Add, Subtract, Multiply, Average, Maximum,
Minimum, and their functional forms (`add([x, y])`, ...)."""

from gkeras import ops
from gkeras.layers.merging.base_merge import Merge


class Add(Merge):
    """Adds a list of inputs element-wise (shapes broadcast).

    Input shape:
        A list of tensors of compatible shapes.

    Output shape:
        The broadcast shape.

    Example:
    >>> x1 = gkeras.Input((16,)); x2 = gkeras.Input((16,))
    >>> gkeras.layers.Add()([x1, x2]).shape
    (None, 16)
    """

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.add(out, x)
        return out


class Subtract(Merge):
    """Subtracts two inputs: `inputs[0] - inputs[1]`.

    Input shape:
        A list of exactly two tensors of compatible shapes.

    Output shape:
        The broadcast shape.

    Example:
    >>> x1 = gkeras.Input((16,)); x2 = gkeras.Input((16,))
    >>> gkeras.layers.Subtract()([x1, x2]).shape
    (None, 16)
    """

    def _check_two(self, n, shapes):
        if n != 2:
            raise ValueError(
                f"A `Subtract` layer ({self.name!r}) should be called on "
                f"exactly 2 inputs. Received: input_shape={shapes}")

    def build(self, input_shape):
        super().build(input_shape)
        self._check_two(len(input_shape), input_shape)

    def compute_output_shape(self, input_shape):
        self._check_list(input_shape)
        self._check_two(len(input_shape), input_shape)
        return super().compute_output_shape(input_shape)

    def _merge_function(self, inputs):
        self._check_two(len(inputs), [tuple(x.shape) for x in inputs])
        return ops.subtract(inputs[0], inputs[1])


class Multiply(Merge):
    """Multiplies a list of inputs element-wise.

    With input masks (Keras's rule): masked entries count as 1 in the
    product, and the output is zeroed where every input is masked; the
    output mask is `any` over the last axis of the OR of the masks.

    Input shape:
        A list of tensors of compatible shapes.

    Output shape:
        The broadcast shape.

    Example:
    >>> x1 = gkeras.Input((16,)); x2 = gkeras.Input((16,))
    >>> gkeras.layers.Multiply()([x1, x2]).shape
    (None, 16)
    """

    def _merge_function(self, inputs):
        masks = [getattr(x, "_keras_mask", None) for x in inputs]
        if all(m is None for m in masks):
            out = inputs[0]
            for x in inputs[1:]:
                out = ops.multiply(out, x)
            return out
        has_out_mask = all(m is not None for m in masks)
        out, out_mask = None, None
        for x, m in zip(inputs, masks):
            if m is not None:
                m = ops.broadcast_to(ops.expand_dims(ops.cast(m, "bool"), -1),
                                     tuple(x.shape))
                x = ops.where(m, x, ops.cast(1, x.dtype))
                if has_out_mask:
                    out_mask = m if out_mask is None else \
                        ops.logical_or(out_mask, m)
            out = x if out is None else ops.multiply(out, x)
        if has_out_mask:
            out = ops.where(out_mask, out, ops.cast(0, out.dtype))
            self._last_mask = ops.any(out_mask, axis=-1)
        else:
            self._last_mask = None
        return out

    def compute_mask(self, inputs, mask=None):
        if mask is None or not isinstance(mask, (list, tuple)) or \
                not all(m is not None for m in mask):
            return None
        return getattr(self, "_last_mask", None)


class Average(Merge):
    """Averages a list of inputs element-wise.

    Input shape:
        A list of tensors of compatible shapes.

    Output shape:
        The broadcast shape.

    Example:
    >>> x1 = gkeras.Input((16,)); x2 = gkeras.Input((16,))
    >>> gkeras.layers.Average()([x1, x2]).shape
    (None, 16)
    """

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.add(out, x)
        return ops.divide(out, float(len(inputs)))


class Maximum(Merge):
    """Element-wise maximum of a list of inputs.

    Input shape:
        A list of tensors of compatible shapes.

    Output shape:
        The broadcast shape.

    Example:
    >>> x1 = gkeras.Input((16,)); x2 = gkeras.Input((16,))
    >>> gkeras.layers.Maximum()([x1, x2]).shape
    (None, 16)
    """

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.maximum(out, x)
        return out


class Minimum(Merge):
    """Element-wise minimum of a list of inputs.

    Input shape:
        A list of tensors of compatible shapes.

    Output shape:
        The broadcast shape.

    Example:
    >>> x1 = gkeras.Input((16,)); x2 = gkeras.Input((16,))
    >>> gkeras.layers.Minimum()([x1, x2]).shape
    (None, 16)
    """

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.minimum(out, x)
        return out


def add(inputs, **kwargs):
    """Functional form of `Add`: `add([x1, x2, ...])`.

    Args:
        inputs: a list of tensors.
        **kwargs: `Add` keyword arguments (e.g. `name`).

    Returns:
        The element-wise sum.
    """
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Functional form of `Subtract`: `subtract([x1, x2])` = `x1 - x2`.

    Args:
        inputs: a list of exactly two tensors.
        **kwargs: `Subtract` keyword arguments.

    Returns:
        The difference.
    """
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Functional form of `Multiply`: the element-wise product.

    Args:
        inputs: a list of tensors.
        **kwargs: `Multiply` keyword arguments.

    Returns:
        The element-wise product.
    """
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Functional form of `Average`: the element-wise mean.

    Args:
        inputs: a list of tensors.
        **kwargs: `Average` keyword arguments.

    Returns:
        The element-wise mean.
    """
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Functional form of `Maximum`: the element-wise maximum.

    Args:
        inputs: a list of tensors.
        **kwargs: `Maximum` keyword arguments.

    Returns:
        The element-wise maximum.
    """
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Functional form of `Minimum`: the element-wise minimum.

    Args:
        inputs: a list of tensors.
        **kwargs: `Minimum` keyword arguments.

    Returns:
        The element-wise minimum.
    """
    return Minimum(**kwargs)(inputs)
