"""`ActivityRegularization`: an L1/L2 penalty on a layer's activity."""

from gkeras import regularizers
from gkeras.layers.layer import Layer


class ActivityRegularization(Layer):
    """Passes its input through and adds `l1 * sum(|x|) + l2 * sum(x^2)` of
    it to the model's losses (`model.losses`, added to the training loss).

    Args:
        l1: L1 regularization factor (non-negative float).
        l2: L2 regularization factor (non-negative float).

    Input shape:
        Any.

    Output shape:
        Same as the input.

    Example:
    >>> layer = gkeras.layers.ActivityRegularization(l1=0.1)
    >>> y = layer(np.array([[1.0, -2.0]]))
    >>> float(layer.losses[0])  # 0.1 * 3 / batch size 1
    0.3...
    """

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2),
                         **kwargs)
        self.supports_masking = True
        self.l1 = l1
        self.l2 = l2
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}
