"""Stand-ins for the Keras names gkeras leaves out on purpose (issue 17's
exemptions: TensorFlow/JAX/PyTorch-specific or Keras-internal APIs).

They exist so that a program reaching them gets a `NotImplementedError`
saying why, instead of an `AttributeError` that looks like a gap.
"""

import types

_WHY = {
    "export": "exporting TensorFlow SavedModels / ONNX needs the "
              "TensorFlow or PyTorch backend",
    "quantizers": "gkeras has no quantized (int8/int4/float8) kernels",
    "distillation": "Keras's distillation API is not part of gkeras; "
                    "write the teacher-student loss in `compute_loss`",
    "remat": "rematerialization (gradient checkpointing) is a JAX/TF "
             "graph feature gkeras does not have",
    "scopes": "Keras-internal tracing scopes of its JAX/TF backends",
    "backend_layers": "it wraps a TensorFlow SavedModel, a JAX/Flax "
                      "function or a PyTorch module, none of which gkeras "
                      "runs",
    "bounding_boxes": "the bounding-box utilities belong to Keras's "
                      "detection preprocessing, which gkeras does not have",
    "audio": "loading audio files needs TensorFlow's audio decoding",
}


def _message(name, why):
    return (f"{name} is not supported by gkeras: {_WHY[why]} (issue 17 "
            "leaves it out).")


def unsupported_class(name, why):
    """A class named `name` whose construction raises NotImplementedError.

    Args:
        name: the Keras name, e.g. `"gkeras.layers.TFSMLayer"`.
        why: a key of the reasons table.
    """
    message = _message(name, why)

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(message)

    return type(name.rsplit(".", 1)[-1], (), {
        "__init__": __init__, "__doc__": f"Not supported. {message}"})


def unsupported_function(name, why):
    """A function named `name` that raises NotImplementedError."""
    message = _message(name, why)

    def fn(*args, **kwargs):
        raise NotImplementedError(message)

    fn.__name__ = name.rsplit(".", 1)[-1]
    fn.__doc__ = f"Not supported. {message}"
    return fn


class UnsupportedModule(types.ModuleType):
    """A module holding stand-ins for Keras's names: classes whose
    construction and functions whose call raise NotImplementedError.

    Args:
        name: the module's name, e.g. `"gkeras.export"`.
        why: a key of the reasons table.
        names: the Keras names it holds (CamelCase ones become classes).
    """

    def __init__(self, name, why, names):
        super().__init__(name, f"Not supported. {_message(name, why)}")
        for attr in names:
            make = unsupported_class if attr[:1].isupper() else \
                unsupported_function
            setattr(self, attr, make(f"{name}.{attr}", why))
        self.__all__ = list(names)


audio_dataset_from_directory = unsupported_function(
    "gkeras.utils.audio_dataset_from_directory", "audio")
bounding_boxes = UnsupportedModule(
    "gkeras.utils.bounding_boxes", "bounding_boxes",
    ["affine_transform", "clip_to_image_size", "compute_ciou",
     "compute_iou", "convert_format", "crop", "decode_deltas_to_boxes",
     "encode_box_to_deltas", "pad"])

__all__ = ["unsupported_class", "unsupported_function", "UnsupportedModule"]
