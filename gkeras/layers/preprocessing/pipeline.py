"""`Pipeline`: applies a list of layers in order, as one plain layer."""

from gkeras.layers.layer import Layer, _signature_flags

__all__ = ["Pipeline"]


class Pipeline(Layer):
    """Applies a series of layers to an input, in order.

    Useful for preprocessing, in particular image augmentation pipelines.
    Unlike a `Sequential` model it is a plain layer (no `fit`, no
    summary); `training` and the mask are passed to each layer whose
    `call` accepts them, and `training` defaults to True, as in Keras.

    Args:
        layers: a list of layers.
        name: the layer's name.

    Example:
    >>> pipeline = gkeras.layers.Pipeline([
    ...     gkeras.layers.Rescaling(1 / 255),
    ...     gkeras.layers.RandomFlip("horizontal", seed=1),
    ... ])
    >>> pipeline(np.zeros((2, 8, 8, 3))).shape
    (2, 8, 8, 3)
    """

    def __init__(self, layers, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if not isinstance(layers, (list, tuple)) or not all(
                isinstance(layer, Layer) for layer in layers):
            raise ValueError(
                f"Pipeline {self.name!r}: `layers` must be a list of layers. "
                f"Received: layers={layers!r}")
        self._pipeline_layers = list(layers)
        self.built = True

    @property
    def layers(self):
        """The layers, in order."""
        return self._pipeline_layers

    def call(self, inputs, training=True, mask=None):
        outputs = inputs
        for layer in self._pipeline_layers:
            has_training, has_mask = _signature_flags(type(layer))[:2]
            kwargs = {}
            if has_mask:
                kwargs["mask"] = mask
            if has_training and training is not None:
                kwargs["training"] = training
            outputs = layer(inputs, **kwargs)
            inputs = outputs
            mask = getattr(outputs, "_keras_mask", None)
        return outputs

    def compute_output_shape(self, input_shape):
        for layer in self._pipeline_layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    @classmethod
    def from_config(cls, config):
        from gkeras.saving.serialization import deserialize_keras_object
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError(
                "`Pipeline` config must contain a `layers` key mapping to a "
                "list of serialized layers. Received config with "
                f"layers={layers}.")
        config = {**config}
        config["layers"] = [deserialize_keras_object(x) for x in layers]
        return cls(**config)

    def get_config(self):
        from gkeras.saving.serialization import serialize_keras_object
        return {"layers": serialize_keras_object(self._pipeline_layers),
                "name": self.name}
