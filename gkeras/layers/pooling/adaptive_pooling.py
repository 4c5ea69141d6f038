"""Adaptive pooling layers: `AdaptiveAveragePooling1D/2D/3D` and
`AdaptiveMaxPooling1D/2D/3D` (pool any spatial size to `output_size`)."""

from gkeras import ops
from gkeras.backend.config import image_data_format
from gkeras.layers.layer import Layer

__all__ = [
    "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D",
    "AdaptiveAveragePooling3D", "AdaptiveMaxPooling1D",
    "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D",
]

_SHAPES = {1: "(length,)", 2: "(height, width)", 3: "(depth, height, width)"}


class _BaseAdaptivePooling(Layer):
    rank = None
    mode = None

    def __init__(self, output_size, data_format=None, **kwargs):
        if isinstance(output_size, int) and not isinstance(output_size,
                                                           bool):
            output_size = (output_size,) * self.rank
        elif isinstance(output_size, (tuple, list)) and \
                len(output_size) == self.rank:
            output_size = tuple(output_size)
        else:
            raise TypeError(
                f"{type(self).__name__}: `output_size` must be an integer "
                f"or {_SHAPES[self.rank]} tuple. Received: {output_size} of "
                f"type {type(output_size)}")
        super().__init__(**kwargs)
        self.output_size = output_size
        self.data_format = data_format or image_data_format()
        if self.data_format not in ("channels_first", "channels_last"):
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r}: invalid "
                f"data_format: {self.data_format}. Expected "
                "'channels_first' or 'channels_last'.")

    def call(self, inputs):
        if len(inputs.shape) != self.rank + 2:
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} expects rank "
                f"{self.rank + 2} inputs (batch, spatial..., channels). "
                f"Received input of shape {tuple(inputs.shape)}")
        fn = ops.adaptive_average_pool if self.mode == "average" \
            else ops.adaptive_max_pool
        return fn(inputs, output_size=self.output_size,
                  data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        if self.data_format == "channels_last":
            return (input_shape[0], *self.output_size, input_shape[-1])
        return (input_shape[0], input_shape[1], *self.output_size)

    def get_config(self):
        return {**super().get_config(), "output_size": self.output_size,
                "data_format": self.data_format}


def _doc(mode, rank):
    spatial = {1: "steps", 2: "height, width",
               3: "depth, height, width"}[rank]
    return f"""Adaptive {mode} pooling for {rank}D inputs.

    Pools inputs of any spatial size to `output_size`: output cell `i` of
    an axis of length `L` pooled to `n` covers inputs `floor(i L / n)` to
    `ceil((i + 1) L / n)`.

    Args:
        output_size: int or tuple of {rank} ints, the spatial output size.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        `(batch, {spatial}, channels)` (channels_last).

    Output shape:
        `(batch, *output_size, channels)` (channels_last).
    """


def _make(mode, rank):
    name = f"Adaptive{mode.title()}Pooling{rank}D"
    cls = type(name, (_BaseAdaptivePooling,),
               {"rank": rank, "mode": mode, "__doc__": _doc(mode, rank),
                "__module__": __name__})
    return cls


AdaptiveAveragePooling1D = _make("average", 1)
AdaptiveAveragePooling2D = _make("average", 2)
AdaptiveAveragePooling3D = _make("average", 3)
AdaptiveMaxPooling1D = _make("max", 1)
AdaptiveMaxPooling2D = _make("max", 2)
AdaptiveMaxPooling3D = _make("max", 3)
