"""`Sequential`: a linear stack of layers."""

from gkeras.layers.core.input_layer import InputLayer
from gkeras.layers.layer import Layer, dtype_policy_config
from gkeras.models.model import Model
from gkeras.ops.symbolic import KerasTensor
from gkeras.utils import naming


class Sequential(Model):
    """A plain stack of layers, each with one input and one output.

    Args:
        layers: optional list of layers to add.
        trainable: whether the model's weights are trained.
        name: the model's name.

    Example:

    ```python
    model = gkeras.Sequential([
        gkeras.Input(shape=(16,)),
        gkeras.layers.Dense(8, activation="relu"),
        gkeras.layers.Dense(1),
    ])
    # or
    model = gkeras.Sequential()
    model.add(gkeras.layers.Dense(8, activation="relu", input_shape=(16,)))
    model.add(gkeras.layers.Dense(1))
    ```
    """

    # Inputs take each `Input`'s dtype in `call`, not the model's compute
    # dtype (a float64 Input keeps float64 under a float32 policy).
    _convert_input_args = False

    def __init__(self, layers=None, trainable=True, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name, **kwargs)
        self._seq_layers = []
        self._input_layer = None
        self._functional_graph = None
        self._build_input_shape = None
        if layers:
            for layer in layers:
                self.add(layer, rebuild=False)
            self._maybe_rebuild()

    def add(self, layer, rebuild=True):
        """Adds a layer on top of the stack.

        Args:
            layer: a Layer instance, or an `Input()` tensor.
        """
        if isinstance(layer, KerasTensor):
            op = layer._keras_history.operation if layer._keras_history \
                else None
            if isinstance(op, InputLayer):
                layer = op
        if not isinstance(layer, Layer):
            raise ValueError(
                "Only instances of `gkeras.Layer` can be added to a "
                f"Sequential model. Received: {layer!r} (of type "
                f"{type(layer).__name__})")
        if isinstance(layer, InputLayer):
            if self._seq_layers or self._input_layer is not None:
                raise ValueError(
                    "Sequential model: an InputLayer/Input can only be the "
                    "first element. Received it after "
                    f"{[l.name for l in self._seq_layers]}.")
            self._input_layer = layer
        else:
            names = {l.name for l in self._seq_layers}
            if layer.name in names:
                raise ValueError(
                    "All layers added to a Sequential model should have "
                    f"unique names. Name '{layer.name}' is already the name "
                    "of a layer in this model. Update the `name` argument "
                    "to pass a unique name.")
            if not self._seq_layers and self._input_layer is None and \
                    getattr(layer, "_batch_input_shape", None) is not None:
                # Keras-2 style `input_shape=` on the first layer.
                self._input_layer = InputLayer(
                    batch_shape=layer._batch_input_shape,
                    name=naming.uniquify("input_layer"))
            self._seq_layers.append(layer)
        self.built = False
        self._functional_graph = None
        _bump_structure()
        if rebuild:
            self._maybe_rebuild()

    def pop(self, rebuild=True):
        """Removes and returns the last layer."""
        if not self._seq_layers:
            raise TypeError("There are no layers in the model.")
        layer = self._seq_layers.pop()
        _bump_structure()
        self.built = False
        self._functional_graph = None
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _maybe_rebuild(self):
        if self._input_layer is not None and self._seq_layers:
            self._build_graph(self._input_layer.batch_shape)
        elif self._build_input_shape is not None and self._seq_layers:
            self._build_graph(self._build_input_shape)
        elif len(self._seq_layers) > 1 and isinstance(
                self._seq_layers[0], Model):
            # A model first (a frozen Functional base for transfer
            # learning) fixes the input shape, as in Keras's
            # `Sequential._maybe_rebuild`.
            try:
                shape = self._seq_layers[0].input_shape
            except (AttributeError, ValueError):
                return
            if isinstance(shape, tuple) and all(
                    d is None or isinstance(d, int) for d in shape):
                self._build_graph(shape)

    def _build_graph(self, input_shape):
        from gkeras.models.functional import Functional
        if self._input_layer is None or tuple(
                self._input_layer.batch_shape) != tuple(input_shape):
            if self._input_layer is None:
                self._input_layer = InputLayer(
                    batch_shape=tuple(input_shape),
                    name=naming.uniquify("input_layer"))
            else:
                self._input_layer = InputLayer(
                    batch_shape=tuple(input_shape),
                    dtype=self._input_layer.dtype,
                    name=self._input_layer.name)
        x = self._input_layer.output
        with naming.name_scope(self.name):
            for layer in self._seq_layers:
                try:
                    x = layer(x)
                except (ValueError, TypeError) as e:
                    raise type(e)(
                        f"Sequential model {self.name!r}: error when adding "
                        f"layer {layer.name!r} ({type(layer).__name__}) on "
                        f"input of shape {x.shape}: {e}") from None
                if isinstance(x, (list, tuple)):
                    raise ValueError(
                        "All layers in a Sequential model should have a "
                        f"single output tensor; {layer.name!r} returned "
                        f"{len(x)}. Use the Functional API for multi-output "
                        "layers.")
        graph = Functional.__new__(Functional)
        Functional.__init__(graph, inputs=self._input_layer.output,
                            outputs=x, name=self.name + "_graph")
        self._functional_graph = graph
        self._build_input_shape = tuple(input_shape)
        self.built = True

    def build(self, input_shape=None):
        """Builds the model for inputs of `input_shape` (batch axis
        included)."""
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError("You must provide an `input_shape` argument.")
            input_shape = self._input_layer.batch_shape
        if isinstance(input_shape, (list, tuple)) and input_shape and \
                isinstance(input_shape[0], (list, tuple)):
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        if not self._seq_layers:
            raise ValueError(
                f"Sequential model {self.name} cannot be built because it "
                "has no layers. Call `model.add(layer)`.")
        self._build_graph(input_shape)

    def _maybe_build(self, shapes, call_args=(), call_kwargs=None):
        if self.built:
            return
        shape = shapes if not isinstance(shapes, list) else shapes[0]
        self.build((None,) + tuple(shape[1:]))

    def call(self, inputs, training=None, mask=None):
        if self._functional_graph is not None:
            return self._functional_graph.call(inputs, training=training)
        x = inputs
        for layer in self._seq_layers:
            x = layer(x, training=training) if training is not None else \
                layer(x)
        return x

    def compute_output_spec(self, inputs, training=None, mask=None):
        if self._functional_graph is None:
            self.build(inputs.shape)
        return self._functional_graph.compute_output_spec(inputs)

    @property
    def layers(self):
        """The model's layers (without the InputLayer)."""
        return list(self._seq_layers)

    def _direct_sublayers(self):
        return list(self._seq_layers)

    @property
    def inputs(self):
        if self._functional_graph is None:
            raise AttributeError(
                f"Sequential model {self.name!r} has no defined inputs yet "
                "(it is not built).")
        return self._functional_graph.inputs

    @property
    def outputs(self):
        if self._functional_graph is None:
            raise AttributeError(
                f"Sequential model {self.name!r} has no defined outputs yet "
                "(it is not built).")
        return self._functional_graph.outputs

    @property
    def input(self):
        """The model's symbolic input."""
        if self._functional_graph is None:
            raise AttributeError(
                f"Sequential model {self.name!r} has no defined input yet "
                "(it is not built).")
        return self._functional_graph.input

    @property
    def output(self):
        """The model's symbolic output."""
        if self._functional_graph is None:
            raise AttributeError(
                f"Sequential model {self.name!r} has no defined output yet "
                "(it is not built).")
        return self._functional_graph.output

    @property
    def input_shape(self):
        return self.input.shape

    @property
    def output_shape(self):
        return self.output.shape

    @property
    def output_names(self):
        return [self._seq_layers[-1].name] if self._seq_layers else []

    @property
    def input_names(self):
        return [self._input_layer.name] if self._input_layer else []

    def get_config(self):
        from gkeras.saving.serialization import serialize_keras_object
        layers = []
        if self._input_layer is not None:
            layers.append(serialize_keras_object(self._input_layer))
        for layer in self._seq_layers:
            cfg = serialize_keras_object(layer)
            custom = _custom_build_config(layer)
            if custom is not None:
                cfg["build_config"] = custom
            if layer._build_shapes is not None and "build_config" not in cfg:
                cfg["build_config"] = {"input_shape": _json_shape(
                    layer._build_shapes)}
            layers.append(cfg)
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": dtype_policy_config(self.dtype_policy),
                  "layers": layers}
        if self._build_input_shape is not None:
            config["build_input_shape"] = list(self._build_input_shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from gkeras.saving.serialization import deserialize_layer
        if isinstance(config, list):  # very old Keras: a bare layer list
            config = {"layers": config}
        # The model's own dtype policy is restored too (Keras 3.15 drops
        # it, so a loaded mixed_float16 model compiles without loss
        # scaling).
        extra = {} if config.get("dtype") is None else \
            {"dtype": config["dtype"]}
        model = cls(name=config.get("name"),
                    trainable=config.get("trainable", True), **extra)
        for lc in config["layers"]:
            layer = deserialize_layer(
                lc, custom_objects,
                f"Sequential model {config.get('name')!r}")
            _custom_build_from_config(layer, lc)
            model.add(layer, rebuild=False)
        shape = config.get("build_input_shape")
        if model._input_layer is not None:
            model._maybe_rebuild()
        elif shape is not None:
            model.build(tuple(shape))
        return model


def _custom_build_config(layer):
    # A layer with its own get_build_config (Keras's customizing-saving
    # guide) writes it as its build_config, as Keras does.
    from gkeras.layers.layer import Layer
    if type(layer).get_build_config is Layer.get_build_config:
        return None
    try:
        return layer.get_build_config()
    except AttributeError:
        return None     # not built: nothing recorded yet


def _custom_build_from_config(layer, layer_config):
    # ... and its own build_from_config builds it on load (a layer built
    # by hand in an unbuilt Sequential, with extra build arguments).
    from gkeras.layers.layer import Layer
    bcfg = layer_config.get("build_config") if isinstance(
        layer_config, dict) else None
    if bcfg and not layer.built and \
            type(layer).build_from_config is not Layer.build_from_config:
        layer.build_from_config(bcfg)


def _bump_structure():
    from gkeras.layers import layer as layer_module
    layer_module.STRUCTURE_VERSION[0] += 1


def _json_shape(s):
    if isinstance(s, tuple):
        return list(s)
    if isinstance(s, list):
        return [_json_shape(x) for x in s]
    return s
