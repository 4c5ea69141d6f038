"""`InputSpec`: what a layer accepts, and the check with Keras's wording."""


class InputSpec:
    """Specifies the rank, dtype and shape of every input to a layer.

    Args:
        dtype: expected dtype.
        shape: expected shape (None entries match anything).
        ndim: expected rank.
        max_ndim: maximum rank.
        min_ndim: minimum rank.
        axes: dict `{axis: size}` of axes with fixed sizes.
        allow_last_axis_squeeze: accepted for Keras compatibility.
        name: expected input name.
        optional: whether the input may be None.
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None,
                 min_ndim=None, axes=None, allow_last_axis_squeeze=False,
                 name=None, optional=False):
        self.dtype = dtype
        self.shape = tuple(shape) if shape is not None else None
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = {int(k): v for k, v in (axes or {}).items()}
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.name = name
        self.optional = optional

    def __repr__(self):
        spec = [f"dtype={self.dtype}" if self.dtype else "",
                f"shape={self.shape}" if self.shape else "",
                f"ndim={self.ndim}" if self.ndim else "",
                f"max_ndim={self.max_ndim}" if self.max_ndim else "",
                f"min_ndim={self.min_ndim}" if self.min_ndim else "",
                f"axes={self.axes}" if self.axes else ""]
        return f"InputSpec({', '.join(x for x in spec if x)})"

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
                "max_ndim": self.max_ndim, "min_ndim": self.min_ndim,
                "axes": self.axes}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _rank_hint(layer, spec, shape):
    """A fix to suggest when the rank is the likely cause."""
    hint = getattr(layer, "_rank_hint", None)
    if hint:
        return " " + hint(shape)
    return ""


def assert_input_compatibility(input_spec, shapes, layer):
    """Raises a ValueError naming the layer when an input does not fit.

    Args:
        input_spec: an InputSpec or a list of them (or None).
        shapes: the input shape, or a list of shapes.
        layer: the layer (for its name and class in the message).
    """
    if not input_spec:
        return
    specs = input_spec if isinstance(input_spec, (list, tuple)) else \
        [input_spec]
    if isinstance(shapes, dict):
        shapes = list(shapes.values())
    if not (isinstance(shapes, (list, tuple)) and shapes and
            isinstance(shapes[0], (list, tuple))):
        shapes = [shapes]
    if len(shapes) != len(specs):
        raise ValueError(
            f'Layer "{layer.name}" expects {len(specs)} input(s), but it '
            f"received {len(shapes)} input tensors.")
    who = f'layer "{layer.name}" ({type(layer).__name__})'
    for i, (spec, shape) in enumerate(zip(specs, shapes)):
        if spec is None:
            continue
        shape = tuple(shape)
        nd = len(shape)
        if spec.ndim is not None and nd != spec.ndim:
            raise ValueError(
                f"Input {i} of {who} is incompatible with the layer: "
                f"expected ndim={spec.ndim}, found ndim={nd}. Full shape "
                f"received: {shape}." + _rank_hint(layer, spec, shape))
        if spec.max_ndim is not None and nd > spec.max_ndim:
            raise ValueError(
                f"Input {i} of {who} is incompatible with the layer: "
                f"expected max_ndim={spec.max_ndim}, found ndim={nd}. Full "
                f"shape received: {shape}." + _rank_hint(layer, spec, shape))
        if spec.min_ndim is not None and nd < spec.min_ndim:
            raise ValueError(
                f"Input {i} of {who} is incompatible with the layer: "
                f"expected min_ndim={spec.min_ndim}, found ndim={nd}. Full "
                f"shape received: {shape}." + _rank_hint(layer, spec, shape))
        for axis, value in spec.axes.items():
            if value is None:
                continue
            if -nd <= axis < nd and shape[axis] not in (None, value):
                raise ValueError(
                    f"Input {i} of {who} is incompatible with the layer: "
                    f"expected axis {axis} of input shape to have value "
                    f"{value}, but received input with shape {shape}."
                    + _rank_hint(layer, spec, shape))
        if spec.shape is not None:
            for d, (want, got) in enumerate(zip(spec.shape, shape)):
                if want is not None and got is not None and want != got:
                    raise ValueError(
                        f"Input {i} of {who} is incompatible with the layer: "
                        f"expected shape={spec.shape}, found shape={shape}.")
