"""`Model`: a Layer with training (`compile`/`fit`/...) and saving.

`Model(inputs=..., outputs=...)` returns a Functional model; subclassing
`Model` and writing `call` gives a subclassed model, as in Keras.
"""

from gkeras.layers.layer import Layer
from gkeras.models.inference_plan import NOT_APPLICABLE, call_model
from gkeras.models.trainer import Trainer


class Model(Trainer, Layer):
    """A model: layers grouped into an object with training and inference.

    Two ways to create one:

    1. Functional API, from `Input` to outputs:

    ```python
    inputs = gkeras.Input(shape=(37,))
    x = gkeras.layers.Dense(32, activation="relu")(inputs)
    outputs = gkeras.layers.Dense(5, activation="softmax")(x)
    model = gkeras.Model(inputs=inputs, outputs=outputs)
    ```

    2. Subclassing, with layers created in `__init__` and the forward pass
    in `call`:

    ```python
    class MyModel(gkeras.Model):
        def __init__(self):
            super().__init__()
            self.dense1 = gkeras.layers.Dense(32, activation="relu")
            self.dense2 = gkeras.layers.Dense(5, activation="softmax")

        def call(self, inputs, training=False):
            return self.dense2(self.dense1(inputs))
    ```

    Args:
        inputs: (Functional) input tensor(s): a tensor, list or dict.
        outputs: (Functional) output tensor(s).
        name: the model's name.
        trainable: whether its weights are trained.
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and ("inputs" in kwargs or "outputs" in kwargs or
                             len(args) >= 2):
            from gkeras.models.functional import Functional
            return Functional.__new__(Functional)
        # The arguments reach Layer.__new__ for the automatic config.
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        from gkeras.models.functional import Functional
        if args or "inputs" in kwargs or "outputs" in kwargs:
            inputs = kwargs.pop("inputs", args[0] if args else None)
            outputs = kwargs.pop("outputs", args[1] if len(args) > 1
                                 else None)
            if isinstance(self, Functional):
                Functional.__init__(self, inputs, outputs, **kwargs)
                return
            # A subclass calling super().__init__(inputs, outputs): it
            # becomes a Functional model of its own class (as in Keras).
            Layer.__init__(self, **_layer_kwargs(kwargs))
            Trainer.__init__(self)
            self.__class__ = _graft_functional(type(self))
            Functional._init_graph(self, inputs, outputs)
            return
        Layer.__init__(self, **_layer_kwargs(kwargs))
        Trainer.__init__(self)

    def __call__(self, *args, **kwargs):
        if len(args) == 1 and (not kwargs or (
                len(kwargs) == 1 and "training" in kwargs)):
            # A Functional/Sequential model on concrete inputs runs its
            # cached plan (models/inference_plan.py) without the layer
            # machinery around itself; anything else: `Layer.__call__`.
            out = call_model(self, args[0], kwargs.get("training"))
            if out is not NOT_APPLICABLE:
                return out
        return Layer.__call__(self, *args, **kwargs)

    @property
    def layers(self):
        """The model's direct sub-layers, in creation order."""
        return self._direct_sublayers()

    def get_layer(self, name=None, index=None):
        """Returns a layer by its name or its index in `model.layers`.

        Args:
            name: the layer's name.
            index: its position in `model.layers`.
        """
        if index is not None and name is not None:
            raise ValueError("Provide only a layer name or a layer index. "
                             f"Received: index={index}, name={name}.")
        layers = self.layers
        if index is not None:
            if len(layers) <= index:
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model "
                    f"only has {len(layers)} layers.")
            return layers[index]
        if name is not None:
            for layer in layers:
                if layer.name == name:
                    return layer
            raise ValueError(
                f"No such layer: {name}. Existing layers are: "
                f"{[layer.name for layer in layers]}.")
        raise ValueError("Provide either a layer name or layer index at "
                         "`get_layer`.")

    def _maybe_build(self, shapes, call_args=(), call_kwargs=None):
        if self.built:
            return
        if _defines(type(self), "build"):
            Layer._maybe_build(self, shapes, call_args, call_kwargs)
            return
        # A subclassed model without its own build(): the call that is
        # about to run builds the sub-layers lazily.
        self._build_shapes = shapes
        self.built = True

    def build(self, input_shape):
        """Builds a subclassed model by calling it on a zero batch."""
        if self.built:
            return
        if type(self).build is not Model.build:
            # A subclass's own build() calling super().build(): as Keras's
            # default build, only mark the model built (running the model
            # would call that build() again, without end).
            self.built = True
            return
        from gkeras import backend
        from gkeras.ops.engine import no_grad

        def dummy(shape):
            shape = tuple(1 if s is None else s for s in shape)
            return backend.get_xp().zeros(shape, dtype=backend.floatx())
        if isinstance(input_shape, dict):
            x = {k: dummy(v) for k, v in input_shape.items()}
        elif isinstance(input_shape, list) and input_shape and \
                isinstance(input_shape[0], (list, tuple)):
            x = [dummy(s) for s in input_shape]
        else:
            x = dummy(tuple(input_shape))
        with no_grad():
            try:
                self(x, training=False)
            except TypeError:
                self(x)
        self.built = True

    def summary(self, line_length=None, positions=None, print_fn=None,
                expand_nested=False, show_trainable=False,
                layer_range=None):
        """Prints a table of the layers, output shapes and parameter counts.

        Args:
            line_length: total table width.
            positions: relative or absolute column positions.
            print_fn: function receiving each line (default `print`).
            expand_nested: also list the layers inside nested models.
            show_trainable: add a column saying whether each layer trains.
            layer_range: `[first_name, last_name]` to print a slice.
        """
        from gkeras.models.summary import print_summary
        print_summary(self, line_length=line_length, positions=positions,
                      print_fn=print_fn, expand_nested=expand_nested,
                      show_trainable=show_trainable, layer_range=layer_range)

    def get_config(self):
        """Config of a subclassed model: its constructor arguments."""
        base = {"name": self.name, "trainable": self.trainable}
        if type(self).get_config is not Model.get_config:
            return base
        auto = self.__dict__.get("_gk_auto_config")
        if auto is not None:
            # Keras 3's automatic config of plain constructor arguments.
            return {"name": self.name, **auto, "trainable": self.trainable}
        import inspect
        params = [p for p in inspect.signature(type(self).__init__)
                  .parameters.values() if p.name != "self" and p.kind not in
                  (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        if params:
            raise NotImplementedError(
                f"Model {type(self).__name__} has arguments "
                f"{[p.name for p in params]} in `__init__()` and therefore "
                "must override `get_config()` to be serialized.")
        return base

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Creates a model from its config."""
        if "layers" in config and "input_layers" in config:
            from gkeras.models.functional_config import \
                functional_from_config
            return functional_from_config(cls, config, custom_objects)
        return cls(**config)

    def to_json(self, **kwargs):
        """Returns the model's architecture as a Keras JSON string."""
        import json
        from gkeras.saving.serialization import serialize_keras_object
        return json.dumps(serialize_keras_object(self), **kwargs)

    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Saves the model (`.keras` zip or legacy `.h5`).

        Args:
            filepath: path ending in `.keras`, `.h5` or `.hdf5`.
            overwrite: replace an existing file.
        """
        from gkeras.saving import model_files
        if not _is_chief():
            return  # distributed: rank 0 alone writes files
        if zipped is not None:
            kwargs["zipped"] = zipped
        model_files.save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite=True, **kwargs):
        """Saves the weights (`.weights.h5` Keras 3 layout, or legacy
        `.h5`)."""
        from gkeras.saving import model_files
        if not _is_chief():
            return  # distributed: rank 0 alone writes files
        model_files.save_weights(self, filepath, overwrite=overwrite,
                                 **kwargs)

    def load_weights(self, filepath, skip_mismatch=False, by_name=False,
                     **kwargs):
        """Loads weights saved by `save_weights` (or Keras's files)."""
        from gkeras.saving import model_files
        model_files.load_weights(self, filepath, skip_mismatch=skip_mismatch,
                                 by_name=by_name, **kwargs)


def _is_chief():
    """False on the non-zero ranks of a `gkeras.distribution` job."""
    import sys
    lib = sys.modules.get("gkeras.distribution.distribution_lib")
    return lib is None or lib.is_chief()


def _layer_kwargs(kwargs):
    allowed = {"name", "trainable", "dtype", "autocast",
               "activity_regularizer", "input_shape", "batch_input_shape",
               "input_dim", "batch_size"}
    unknown = set(kwargs) - allowed
    if unknown:
        raise TypeError(f"Model.__init__ got unexpected keyword arguments "
                        f"{sorted(unknown)}.")
    return kwargs


def _is_functional(obj):
    from gkeras.models.functional import Functional
    return isinstance(obj, Functional)


_GRAFTED = {}


def _graft_functional(cls):
    """A subclass of `cls` and Functional, for subclasses that call
    `super().__init__(inputs, outputs)`."""
    from gkeras.models.functional import Functional
    if cls not in _GRAFTED:
        _GRAFTED[cls] = type(cls.__name__, (cls, Functional),
                             {"__module__": cls.__module__})
    return _GRAFTED[cls]



def _defines(cls, name):
    """True when a user subclass (below Model) defines `name`."""
    for klass in cls.__mro__:
        if klass is Model:
            return False
        if name in klass.__dict__ and klass.__module__.split(".")[0] != \
                "gkeras":
            return True
    return False
