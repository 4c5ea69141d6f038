"""`Dot`: batched dot product between two tensors."""

import numpy as np

from gkeras import ops
from gkeras.layers.merging.base_merge import Merge


def _batch_dot(x, y, ax_x, ax_y):
    """Contracts `x` axis `ax_x` with `y` axis `ax_y`, per sample.

    The result keeps x's other axes then y's other axes; a rank-1 result
    (two 2-D inputs) becomes `(batch, 1)`, as Keras's `batch_dot` does.
    """
    nx, ny = x.ndim, y.ndim
    px = [0] + [i for i in range(1, nx) if i != ax_x] + [ax_x]
    py = [0, ax_y] + [i for i in range(1, ny) if i != ax_y]
    xs, ys = tuple(x.shape), tuple(y.shape)
    x_rest = tuple(xs[i] for i in px[1:-1])
    y_rest = tuple(ys[i] for i in py[2:])
    if px != list(range(nx)):
        x = ops.transpose(x, px)
    if py != list(range(ny)):
        y = ops.transpose(y, py)
    b, k = xs[0], xs[ax_x]
    x = ops.reshape(x, (b, int(np.prod(x_rest)) if x_rest else 1, k))
    y = ops.reshape(y, (b, k, int(np.prod(y_rest)) if y_rest else 1))
    out = ops.matmul(x, y)
    shape = (b,) + x_rest + y_rest
    if len(shape) == 1:
        shape = (b, 1)
    return ops.reshape(out, shape)


class Dot(Merge):
    """Dot product of two tensors along the given axes, per sample.

    For inputs `(batch, n)` and `(batch, n)` and `axes=1` the output is
    `(batch, 1)`: the row-wise dot products.

    Args:
        axes: int or pair of ints, the axes (of `x1` and `x2`) to contract;
            the batch axis 0 cannot be one of them.
        normalize: L2-normalize both inputs along the contracted axes
            first (the result is then the cosine similarity).
        **kwargs: standard layer keyword arguments.

    Input shape:
        A list of two tensors with equal sizes along the contracted axes.

    Output shape:
        The batch axis, x1's remaining axes, then x2's remaining axes.

    Example:
    >>> a = gkeras.Input((5,)); b = gkeras.Input((5,))
    >>> gkeras.layers.Dot(axes=1)([a, b]).shape
    (None, 1)
    """

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, (int, np.integer)):
            if not isinstance(axes, (list, tuple)) or len(axes) != 2 or \
                    not all(isinstance(a, (int, np.integer)) for a in axes):
                raise TypeError(
                    f"Dot {self.name!r}: invalid format for argument `axes`: "
                    "expected an int or a list/tuple of 2 ints. Received: "
                    f"axes={axes!r}")
            axes = [int(a) for a in axes]
        else:
            axes = int(axes)
        self.axes = axes
        self.normalize = bool(normalize)
        self.supports_masking = True

    def _axes_for(self, shape1, shape2):
        if isinstance(self.axes, int):
            a = [self.axes % len(shape1), self.axes % len(shape2)] \
                if self.axes < 0 else [self.axes] * 2
        else:
            a = [self.axes[0] % len(shape1), self.axes[1] % len(shape2)]
        for ax, s in zip(a, (shape1, shape2)):
            if ax == 0 or ax >= len(s):
                raise ValueError(
                    f"Dot {self.name!r}: cannot contract axis {ax} of an "
                    f"input of shape {tuple(s)} (axis 0 is the batch axis). "
                    f"Received: axes={self.axes}")
        return a

    def _check(self, input_shape):
        self._check_list(input_shape)
        if len(input_shape) != 2:
            raise ValueError(
                f"A `Dot` layer ({self.name!r}) should be called on a list of "
                f"2 inputs. Received: input_shape={input_shape}")
        s1, s2 = tuple(input_shape[0]), tuple(input_shape[1])
        a = self._axes_for(s1, s2)
        if s1[a[0]] is not None and s2[a[1]] is not None and \
                s1[a[0]] != s2[a[1]]:
            raise ValueError(
                f"Dot {self.name!r}: incompatible input shapes: axis values "
                f"{s1[a[0]]} (at axis {a[0]}) != {s2[a[1]]} (at axis "
                f"{a[1]}). Full input shapes: {s1}, {s2}")
        return s1, s2, a

    def build(self, input_shape):
        self._check(input_shape)
        self.built = True

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                f"A `Dot` layer ({self.name!r}) should be called on exactly "
                f"2 inputs. Received: inputs={inputs!r}")
        x1, x2 = inputs
        _, _, a = self._check([tuple(x1.shape), tuple(x2.shape)])
        if self.normalize:
            x1 = ops.normalize(x1, axis=a[0], order=2, epsilon=1e-12)
            x2 = ops.normalize(x2, axis=a[1], order=2, epsilon=1e-12)
        return _batch_dot(x1, x2, a[0], a[1])

    def compute_output_shape(self, input_shape):
        s1, s2, a = self._check(input_shape)
        out = (s1[0],) + tuple(d for i, d in enumerate(s1) if i not in
                               (0, a[0])) + \
            tuple(d for i, d in enumerate(s2) if i not in (0, a[1]))
        return out if len(out) > 1 else out + (1,)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes,
                "normalize": self.normalize}


def dot(inputs, axes=-1, **kwargs):
    """Functional form of `Dot`.

    Args:
        inputs: a list of two tensors.
        axes: int or pair of ints, the contracted axes.
        **kwargs: `Dot` keyword arguments (e.g. `normalize`).

    Returns:
        The batched dot product.
    """
    return Dot(axes=axes, **kwargs)(inputs)
