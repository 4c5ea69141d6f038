"""`SpatialDropout1D/2D/3D`: dropout of whole feature maps."""

from gkeras.backend.config import standardize_data_format
from gkeras.layers.input_spec import InputSpec
from gkeras.layers.regularization.dropout import Dropout


class _BaseSpatialDropout(Dropout):
    rank = None

    def __init__(self, rate, seed=None, data_format="channels_last",
                 **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _noise_shape(self, inputs):
        shape = tuple(inputs.shape)
        if self.data_format == "channels_last":
            return (shape[0],) + (1,) * self.rank + (shape[-1],)
        return (shape[0], shape[1]) + (1,) * self.rank

    def get_config(self):
        cfg = {**super().get_config(), "data_format": self.data_format}
        cfg.pop("noise_shape", None)
        return cfg


class SpatialDropout1D(_BaseSpatialDropout):
    """Spatial 1D dropout: drops entire 1D feature maps (channels).

    During training each channel of each sample is zeroed (at every step)
    with probability `rate`; the kept ones are scaled by `1 / (1 - rate)`.
    Adjacent steps are strongly correlated, so this regularizes better than
    element-wise dropout.

    Args:
        rate: float in [0, 1], the fraction of channels to drop.
        seed: optional integer seed.

    Call arguments:
        inputs: 3D tensor `(samples, timesteps, channels)`.
        training: whether to drop.

    Example:
    >>> y = gkeras.layers.SpatialDropout1D(0.5)(np.ones((2, 5, 4)),
    ...                                        training=True)
    """

    rank = 1

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)

    def get_config(self):
        cfg = super().get_config()
        cfg.pop("data_format")
        return cfg


class SpatialDropout2D(_BaseSpatialDropout):
    """Spatial 2D dropout: drops entire 2D feature maps (channels).

    Args:
        rate: float in [0, 1], the fraction of channels to drop.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: optional integer seed.

    Call arguments:
        inputs: 4D tensor `(samples, rows, cols, channels)` (channels_last).
        training: whether to drop.

    Example:
    >>> y = gkeras.layers.SpatialDropout2D(0.5)(np.ones((2, 4, 4, 3)),
    ...                                        training=True)
    """

    rank = 2

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, data_format=data_format, **kwargs)


class SpatialDropout3D(_BaseSpatialDropout):
    """Spatial 3D dropout: drops entire 3D feature maps (channels).

    Args:
        rate: float in [0, 1], the fraction of channels to drop.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: optional integer seed.

    Call arguments:
        inputs: 5D tensor `(samples, dim1, dim2, dim3, channels)`.
        training: whether to drop.

    Example:
    >>> y = gkeras.layers.SpatialDropout3D(0.5)(np.ones((2, 3, 3, 3, 2)),
    ...                                        training=True)
    """

    rank = 3

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, data_format=data_format, **kwargs)
