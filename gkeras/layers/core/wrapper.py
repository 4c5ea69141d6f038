"""`Wrapper`: the base of layers that wrap another layer."""

from gkeras.layers.layer import Layer


class Wrapper(Layer):
    """Abstract wrapper base class: a layer that augments another one.

    The wrapped layer is tracked (its weights are the wrapper's), built
    with the wrapper's input shape, and serialized under `"layer"`.

    Args:
        layer: the `Layer` instance to wrap.
        **kwargs: base `Layer` arguments (name, dtype, ...).
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Please initialize `{type(self).__name__}` layer with a "
                f"`gkeras.layers.Layer` instance. Received: {layer!r}")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer._maybe_build(input_shape)
        self.built = True

    def get_config(self):
        from gkeras.saving.serialization import serialize_keras_object
        return {**super().get_config(),
                "layer": serialize_keras_object(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from gkeras.layers.layer import _standardize_dtype_policy
        from gkeras.saving.serialization import deserialize_keras_object
        config = dict(config)
        layer = deserialize_keras_object(config.pop("layer"),
                                         custom_objects=custom_objects)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = _standardize_dtype_policy(config["dtype"])
        return cls(layer, **config)
